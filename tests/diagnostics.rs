//! The rendered diagnostics, as a person sees them without colour (`NO_COLOR`): assembler
//! errors with did-you-mean, a verifier error pointing at its source line, a trap with its call
//! stack (a long one cut in the middle), a trap in a child thread (in text and in the JSON
//! outcome; a long chain of joins cut in the middle), a deadlock with where each thread waits
//! (in text and in the JSON outcome; a long list cut in the middle), a malformed binary's bytes,
//! and when colour is used.
//! Each expectation is the whole of stderr, so any change in layout shows up here.

use std::path::PathBuf;
use std::process::Command;

/// Writes `source` as `name` in a fresh directory and runs `lockstep ARGS name` there (so the
/// file is named as a user would type it), with `env` set; returns the status and stderr.
fn diagnose(name: &str, source: impl AsRef<[u8]>, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("lockstep-diag-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), source).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lockstep"));
    command.args(args).arg(name).current_dir(&dir).env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    let o = command.envs(env.iter().copied()).output().expect("the lockstep binary runs");
    let _ = std::fs::remove_dir_all(PathBuf::from(&dir));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (o.status.code().unwrap_or(-1), text(&o.stdout), text(&o.stderr))
}

const PLAIN: &[(&str, &str)] = &[("NO_COLOR", "1")];

#[test]
fn a_misspelt_mnemonic_is_underlined_with_a_suggestion() {
    let source =
        "func main() {\n    local total\n    ldi total, 0\nloop:\n    ad total, total, total\n    jmp loop\n}\n";
    let (status, _, err) = diagnose("mnemonic.lsa", source, &["check"], PLAIN);
    assert_eq!(status, 2);
    assert_eq!(
        err,
        "\
error: unknown mnemonic `ad`
 --> mnemonic.lsa:5:5
  |
5 |     ad total, total, total
  |     ^^
  |
help: did you mean the mnemonic `add`?
"
    );
}

#[test]
fn an_unknown_label_is_underlined_with_the_nearest_label() {
    let source =
        "func main() {\n    local total\n    ldi total, 0\nloop:\n    add total, total, total\n    jmp lop\n}\n";
    let (status, _, err) = diagnose("label.lsa", source, &["run"], PLAIN);
    assert_eq!(status, 2);
    assert_eq!(
        err,
        "\
error: unknown label `lop` in function `main`
 --> label.lsa:6:9
  |
6 |     jmp lop
  |         ^^^
  |
help: did you mean the label `loop`?
"
    );
}

#[test]
fn a_verifier_error_on_text_points_at_the_source_line() {
    let source = "func main() {\n    local a\n    ldi a, 1\n    call a, pair, (a)\n    ret a\n}\n\
                  func pair(x, y) {\n    ret x\n}\n";
    let (status, _, err) = diagnose("verify.lsa", source, &["check"], PLAIN);
    assert_eq!(status, 2);
    assert_eq!(
        err,
        "\
error[verify.call-arity]: invalid module: `call` passes 1 arguments to function `pair`, which has arity 2
 --> verify.lsa:4:5
  |
4 |     call a, pair, (a)
  |     ^^^^^^^^^^^^^^^^^ in function `main` at instruction 1
"
    );
    // A rule about a class points at the class's name.
    let source = "class Point {\n    method get main\n}\nfunc main() {\n    ret r0\n}\n";
    let (status, _, err) = diagnose("class.lsa", source, &["check"], PLAIN);
    assert_eq!(status, 2);
    assert_eq!(
        err,
        "\
error[verify.method-function]: invalid module: method `get` of class `Point` is function `main` of arity 0, expected arity at least 1 (the receiver)
 --> class.lsa:1:7
  |
1 | class Point {
  |       ^^^^^ in this class
"
    );
}

const STACK: &str = "func f(x) {\n    local s\n    ldk s, \"s\"\n    add x, x, s\n    ret x\n}\n\
                     func g(x) {\n    call x, f, (x)\n    ret x\n}\n\
                     func main() {\n    local a\n    ldi a, 1\n    call a, g, (a)\n    ret a\n}\n";

/// Every engine reports the call stack, the same frames ([exec.trap-report]).
#[test]
fn a_trap_shows_its_source_line_and_call_stack() {
    let expected = "\
error[type_error]: add expects two numbers, got int and string
 --> stack.lsa:4:5
  |
4 |     add x, x, s
  |     ^^^^^^^^^^^ thread 0 trapped here, in `f` at instruction 1
  |
  = note: call stack, innermost first:
             0: `f` at instruction 1, stack.lsa:4:5
             1: `g` at instruction 0, stack.lsa:8:5
             2: `main` at instruction 1, stack.lsa:14:5
";
    let engines: [&[&str]; 6] = [
        &["run", "--engine", "reference"],
        &["run"],
        &["run", "--stm=off"],
        &["run", "--stm=off", "--jit=always"],
        &["run", "--jit=stress:3"],
        &["run", "--backtrace"],
    ];
    for args in engines {
        let (status, _, err) = diagnose("stack.lsa", STACK, args, PLAIN);
        assert_eq!((status, err.as_str()), (1, expected), "{args:?}");
    }
}

const CHILD: &str = "\
; A worker thread calls a function that adds a string to a number.
func f(x) {
    local s
    ldk s, \"s\"
    add x, x, s
    ret x
}
func worker(x) {
    call x, f, (x)
    ret x
}
func main() {
    local t, n
    ldi n, 1
    spawn t, worker, (n)
    join n, t
    ret n
}
";

/// The README shows this report: it must be the real one.
const CHILD_REPORT: &str = "\
error[thread_trapped]: thread 0.0 trapped: type_error
  --> prog.lsa:16:5
   |
16 |     join n, t
   |     ^^^^^^^^^ thread 0 trapped here, in `main` at instruction 2
   |
note: thread 0.0 had trapped: add expects two numbers, got int and string [type_error]
  --> prog.lsa:5:5
   |
 5 |     add x, x, s
   |     ^^^^^^^^^^^ thread 0.0 trapped here, in `f` at instruction 1
   = note: call stack, innermost first:
              0: `f` at instruction 1, prog.lsa:5:5
              1: `worker` at instruction 0, prog.lsa:9:5
";

/// A trap in a child thread, reported by the `join` in main, says where in the child it
/// happened: in the text, and in the JSON outcome's `joined`.
#[test]
fn a_trap_in_a_child_thread_says_where_in_the_child() {
    for args in [&["run", "--engine", "reference"][..], &["run"], &["run", "--stm=off"], &["run", "--backtrace"]] {
        let (status, _, err) = diagnose("prog.lsa", CHILD, args, PLAIN);
        assert_eq!((status, err.as_str()), (1, CHILD_REPORT), "{args:?}");
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let shown = format!("```text\n$ lockstep run prog.lsa\n{CHILD_REPORT}```\n");
    assert!(readme.contains(&shown), "README.md's example is stale");

    let (status, out, _) = diagnose("prog.lsa", CHILD, &["run", "--outcome", "json", "--backtrace"], PLAIN);
    assert_eq!(status, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    let joined = &doc["end"]["joined"];
    assert_eq!(doc["end"]["trap"], "thread_trapped");
    assert_eq!(
        (&joined["trap"], &joined["thread"], &joined["function_name"], &joined["pc"]),
        (&"type_error".into(), &"0.0".into(), &"f".into(), &1.into())
    );
    assert_eq!(joined["callers"], serde_json::json!([{"function": 1, "function_name": "worker", "pc": 0}]));
    // The optimized engine reports the same presentation as the reference, on its own.
    let (_, optimized, _) = diagnose("prog.lsa", CHILD, &["run", "--outcome", "json"], PLAIN);
    let (_, reference, _) = diagnose("prog.lsa", CHILD, &["run", "--engine", "reference", "--outcome", "json"], PLAIN);
    let end = |out: &str| serde_json::from_str::<serde_json::Value>(out).expect("one JSON document")["end"].clone();
    assert_eq!(end(&optimized), end(&reference));
}

/// Two workers wait for each other, one of them in a function it called; main waits for the
/// first. The handles are published inside one atomic block, so every schedule deadlocks alike.
const PAIR: &str = "\
; Two workers wait for each other; main waits for the first.
class Pair {
    field left
    field right
}
func wait_for(t) {
    local r
    join r, t
    ret r
}
func left(pair) {
    local t
    getf t, pair, Pair.right
    call t, wait_for, (t)
    ret t
}
func right(pair) {
    local t
    getf t, pair, Pair.left
    join t, t
    ret t
}
func main() {
    local pair, a, b
    new pair, Pair
    atomic_begin
    spawn a, left, (pair)
    spawn b, right, (pair)
    setf pair, Pair.left, a
    setf pair, Pair.right, b
    atomic_end
    join a, a
    ret a
}
";

/// The README shows this report: it must be the real one.
const PAIR_REPORT: &str = "\
error[deadlock]: no thread can run: 3 threads wait in joins
  --> prog.lsa:32:5
   |
32 |     join a, a
   |     ^^^^^^^^^ thread 0 waits here for thread 0.0, in `main` at instruction 7
   |
  ::: prog.lsa:8:5
   |
 8 |     join r, t
   |     ^^^^^^^^^ thread 0.0 waits here for thread 0.1, in `wait_for` at instruction 0
   |
  ::: prog.lsa:20:5
   |
20 |     join t, t
   |     ^^^^^^^^^ thread 0.1 waits here for thread 0.0, in `right` at instruction 1
";

/// [thread.deadlock] A deadlock says, for each blocked thread, the `join` it waits at (its
/// source line, function and instruction) and the thread it waits for, the same on every
/// engine; the JSON outcome carries the same facts in `waiting`.
#[test]
fn a_deadlock_says_where_each_thread_waits() {
    let engines: [&[&str]; 4] =
        [&["run", "--engine", "reference"], &["run"], &["run", "--stm=off"], &["run", "--stm=off", "--jit=always"]];
    for args in engines {
        let (status, out, err) = diagnose("prog.lsa", PAIR, args, PLAIN);
        assert_eq!((status, out.as_str(), err.as_str()), (1, "", PAIR_REPORT), "{args:?}");
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let shown = format!("```text\n$ lockstep run prog.lsa\n{PAIR_REPORT}```\n");
    assert!(readme.contains(&shown), "README.md's deadlock example is stale");

    for engine in ["reference", "optimized"] {
        let (status, out, _) = diagnose("prog.lsa", PAIR, &["run", "--engine", engine, "--outcome", "json"], PLAIN);
        assert_eq!(status, 1, "{engine}");
        let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
        assert_eq!(doc["end"]["kind"], "deadlock", "{engine}");
        assert_eq!(doc["end"]["blocked"], serde_json::json!(["0", "0.0", "0.1"]), "{engine}");
        let waiting = serde_json::json!([
            {"thread": "0", "waits_for": "0.0", "function": 3, "function_name": "main", "pc": 7},
            {"thread": "0.0", "waits_for": "0.1", "function": 0, "function_name": "wait_for", "pc": 0},
            {"thread": "0.1", "waits_for": "0.0", "function": 2, "function_name": "right", "pc": 1},
        ]);
        assert_eq!(doc["end"]["waiting"], waiting, "{engine}");
    }

    // Without source text (a binary module) each thread is a note; the facts are the same.
    let dir = std::env::temp_dir().join(format!("lockstep-diag-{}-pair-lsb", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("prog.lsa"), PAIR).unwrap();
    let asm = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["asm", "prog.lsa", "-o", "prog.lsb"])
        .current_dir(&dir)
        .status();
    assert!(asm.expect("the lockstep binary runs").success());
    let binary = std::fs::read(dir.join("prog.lsb")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (status, _, err) = diagnose("prog.lsb", binary, &["run"], PLAIN);
    let expected = "\
error[deadlock]: no thread can run: 3 threads wait in joins
 --> prog.lsb
  = note: thread 0 waits here for thread 0.0, in `main` at instruction 7
  = note: thread 0.0 waits here for thread 0.1, in `wait_for` at instruction 0
  = note: thread 0.1 waits here for thread 0.0, in `right` at instruction 1
";
    assert_eq!((status, err.as_str()), (1, expected));
}

/// A deadlock of many threads shows the first four and the last four blocked threads and says
/// how many it leaves out.
#[test]
fn a_long_list_of_blocked_threads_is_cut_in_the_middle() {
    let source = "\
; Ten workers join the last of them, which joins itself; so does main.
func worker(box) {
    local t, zero
    ldi zero, 0
    aget t, box, zero
    join t, t
    ret t
}
func main() {
    local box, i, n, t, one, zero, more
    ldi one, 1
    ldi zero, 0
    anew box, one
    ldi i, 0
    ldi n, 10
    atomic_begin
again:
    spawn t, worker, (box)
    aset box, zero, t
    add i, i, one
    lt more, i, n
    jmpif more, again
    atomic_end
    join t, t
    ret t
}
";
    let worker = |id: u32, itself: &str| {
        format!(
            "   |\n  ::: many.lsa:6:5\n   |\n 6 |     join t, t\n   |     ^^^^^^^^^ thread 0.{id} waits here for \
             thread 0.9{itself}, in `worker` at instruction 2\n"
        )
    };
    let expected = format!(
        "\
error[deadlock]: no thread can run: 11 threads wait in joins
  --> many.lsa:24:5
   |
24 |     join t, t
   |     ^^^^^^^^^ thread 0 waits here for thread 0.9, in `main` at instruction 12
{}{}{}   |
   = note: 3 more threads wait in joins
{}{}{}{}",
        worker(0, ""),
        worker(1, ""),
        worker(2, ""),
        worker(6, ""),
        worker(7, ""),
        worker(8, ""),
        worker(9, " (itself)")
    );
    for args in [&["run", "--engine", "reference"][..], &["run"], &["run", "--stm=off"]] {
        let (status, _, err) = diagnose("many.lsa", source, args, PLAIN);
        assert_eq!((status, err.as_str()), (1, expected.as_str()), "{args:?}");
    }
}

/// `down(n)` recurses to `down(0)`, which adds a string to a number: a trap under `depth + 1`
/// frames of `down` and `main`'s.
fn deep(depth: u32) -> String {
    format!(
        "\
; Recurses {depth} deep, then adds a string to a number.
func down(n) {{
    local t, s
    ldi t, 0
    gt t, n, t
    jmpif t, deeper
    ldk s, \"s\"
    add n, n, s
    ret n
deeper:
    ldi t, 1
    sub n, n, t
    call n, down, (n)
    ret n
}}
func main() {{
    local n
    ldi n, {depth}
    call n, down, (n)
    ret n
}}
"
    )
}

/// A long call stack (a stack overflow has 10,000 frames) shows its 8 innermost and 8
/// outermost frames and says how many it leaves out, on every engine. A stack of 17 frames,
/// where cutting would replace one frame by a line, is shown whole.
#[test]
fn a_long_call_stack_is_cut_in_the_middle() {
    // A frame's line: its number right-aligned in 4 columns after the note's 10-column indent.
    let frames = |range: std::ops::Range<usize>| -> String {
        range.map(|i| format!("{i:>14}: `down` at instruction 8, deep.lsa:13:5\n")).collect()
    };
    let (inner, outer) = (frames(1..8), frames(14..21));
    let expected = format!(
        "\
error[type_error]: add expects two numbers, got int and string
 --> deep.lsa:8:5
  |
8 |     add n, n, s
  |     ^^^^^^^^^^^ thread 0 trapped here, in `down` at instruction 4
  |
  = note: call stack, innermost first:
             0: `down` at instruction 4, deep.lsa:8:5
{inner}             ... 6 more frames ...
{outer}            21: `main` at instruction 1, deep.lsa:19:5
"
    );
    let engines: [&[&str]; 4] =
        [&["run", "--engine", "reference"], &["run"], &["run", "--stm=off"], &["run", "--stm=off", "--jit=always"]];
    for args in engines {
        let (status, _, err) = diagnose("deep.lsa", deep(20), args, PLAIN);
        assert_eq!((status, err.as_str()), (1, expected.as_str()), "{args:?}");
    }
    let (status, _, err) = diagnose("shallow.lsa", deep(15), &["run"], PLAIN);
    let frames = err.lines().filter(|l| l.contains(": `down` at") || l.contains(": `main` at")).count();
    assert_eq!((status, frames, err.contains("more frames")), (1, 17, false), "{err}");
}

/// A chain of threads, each trapped in its join of the next, shows its first two and last two
/// reports and says how many it leaves out: the trap that started it is always shown.
#[test]
fn a_long_chain_of_joined_traps_is_cut_in_the_middle() {
    // deep(6) with `spawn` and `join` in place of `call`: 7 workers, 0.0 down to 0.0.0.0.0.0.0.0.
    let source = deep(6)
        .replace("    call n, down, (n)\n", "    spawn t, down, (n)\n    join n, t\n")
        .replace("func main() {\n    local n\n", "func main() {\n    local n, t\n");
    let expected = "\
error[thread_trapped]: thread 0.0 trapped: thread_trapped
  --> chain.lsa:21:5
   |
21 |     join n, t
   |     ^^^^^^^^^ thread 0 trapped here, in `main` at instruction 2
   |
note: thread 0.0 had trapped: thread 0.0.0 trapped: thread_trapped [thread_trapped]
  --> chain.lsa:14:5
   |
14 |     join n, t
   |     ^^^^^^^^^ thread 0.0 trapped here, in `down` at instruction 9
note: 4 more threads trapped in joins of trapped threads
note: thread 0.0.0.0.0.0.0 had trapped: thread 0.0.0.0.0.0.0.0 trapped: type_error [thread_trapped]
  --> chain.lsa:14:5
   |
14 |     join n, t
   |     ^^^^^^^^^ thread 0.0.0.0.0.0.0 trapped here, in `down` at instruction 9
note: thread 0.0.0.0.0.0.0.0 had trapped: add expects two numbers, got int and string [type_error]
  --> chain.lsa:8:5
   |
 8 |     add n, n, s
   |     ^^^^^^^^^^^ thread 0.0.0.0.0.0.0.0 trapped here, in `down` at instruction 4
";
    for args in [&["run", "--engine", "reference"][..], &["run"], &["run", "--stm=off"]] {
        let (status, _, err) = diagnose("chain.lsa", &source, args, PLAIN);
        assert_eq!((status, err.as_str()), (1, expected), "{args:?}");
    }
}

/// A malformed binary module has no text to show: the row of a hex dump that holds the byte
/// the decoder stopped at, and the row before, with that byte marked (past the last one when
/// the file ended too soon). A file that is neither a module nor UTF-8 text gets the same.
#[test]
fn a_malformed_binary_marks_its_byte_in_a_hex_dump() {
    let (status, _, err) = diagnose("section.lsb", b"\0lsb\x01\x00\x00\x00\x07", &["check"], PLAIN);
    assert_eq!(status, 2);
    assert_eq!(
        err,
        "\
error: malformed module at byte 0x8: expected section 1 (constants), found unknown section id 7
 --> section.lsb
  = note: byte 0x8 of 0x9:
          00000000  00 6c 73 62 01 00 00 00 07                       |.lsb.....|
                                            ^^
"
    );
    let (status, _, err) = diagnose("short.lsb", b"\0lsb\x01\x00\x00\x00", &["run"], PLAIN);
    assert_eq!(status, 2);
    assert_eq!(
        err,
        "\
error: malformed module at byte 0x8: unexpected end of input, expected section 1 (constants)
 --> short.lsb
  = note: byte 0x8 of 0x8, the end of the file:
          00000000  00 6c 73 62 01 00 00 00                          |.lsb....|
                                            ^^
"
    );
    let (status, _, err) = diagnose("latin1.lsa", b"func main() {\n    ret r0 \xe9\n}\n", &["run"], PLAIN);
    assert_eq!(status, 2);
    assert_eq!(
        err,
        "\
error: not a lockstep program: no `\\0lsb` magic, and not UTF-8 text (invalid byte at offset 0x19)
 --> latin1.lsa
  = note: byte 0x19 of 0x1d:
          00000000  66 75 6e 63 20 6d 61 69 6e 28 29 20 7b 0a 20 20  |func main() {.  |
          00000010  20 20 72 65 74 20 72 30 20 e9 0a 7d 0a           |  ret r0 ..}.|
                                               ^^
"
    );
}

/// Colour only where it can be seen: not into a pipe (as here), not with `NO_COLOR`, and when
/// forced with `CLICOLOR_FORCE`.
#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let source = "func main() {\n    ad r0, r0, r0\n}\n";
    let escapes = |env: &[(&str, &str)]| diagnose("colour.lsa", source, &["check"], env).2.contains("\x1b[");
    assert!(!escapes(&[]), "a pipe gets no colour");
    assert!(escapes(&[("CLICOLOR_FORCE", "1")]));
    assert!(!escapes(&[("CLICOLOR_FORCE", "0")]));
    assert!(!escapes(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(escapes(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]), "an empty NO_COLOR is unset");
}
