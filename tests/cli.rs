//! The `lockstep` command line: subcommands, file recognition by content, exit statuses and
//! messages. Each case runs the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lockstep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the lockstep binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockstep-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[test]
fn run_prints_the_program_output_and_exits_0() {
    let o = lockstep(&["run", "examples/hello.lsa"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Hello, lockstep!\n");
}

#[test]
fn run_passes_arguments_to_main() {
    let o = lockstep(&["run", "examples/fib.lsa", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "55\n");
    let o = lockstep(&["run", "--engine", "reference", "examples/fib.lsa", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("assertion_failed: usage: fib.lsa"), "{}", stderr(&o));
}

#[test]
fn files_are_recognised_by_content_not_extension() {
    let dir = scratch("content");
    let out = dir.join("fib.whatever").display().to_string();
    let o = lockstep(&["asm", "examples/fib.lsa", "-o", &out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read(&out).unwrap().starts_with(b"\0lsb"));
    let o = lockstep(&["run", &out, "12"]);
    assert_eq!(stdout(&o), "144\n", "{}", stderr(&o));
    // Text with a binary-looking extension is still text.
    let text = write(&dir, "hello.lsb", &std::fs::read("examples/hello.lsa").unwrap());
    let o = lockstep(&["run", &text]);
    assert_eq!(stdout(&o), "Hello, lockstep!\n", "{}", stderr(&o));
}

#[test]
fn disasm_output_reassembles_to_identical_bytes() {
    let dir = scratch("disasm");
    let first = dir.join("a.lsb").display().to_string();
    assert_eq!(lockstep(&["asm", "examples/objects.lsa", "-o", &first]).status.code(), Some(0));
    let o = lockstep(&["disasm", &first]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = write(&dir, "b.lsa", &o.stdout);
    let second = dir.join("b.lsb").display().to_string();
    assert_eq!(lockstep(&["asm", &text, "-o", &second]).status.code(), Some(0));
    assert_eq!(std::fs::read(&first).unwrap(), std::fs::read(&second).unwrap());
}

#[test]
fn check_prints_a_summary() {
    let o = lockstep(&["check", "examples/objects.lsa"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("ok") && s.contains("4 classes") && s.contains("entry `main`"), "{s}");
}

#[test]
fn a_guest_trap_exits_1_naming_trap_function_instruction_and_line() {
    let dir = scratch("trap");
    let src = "func main() {\n    local a, b\n    ldi a, 1\n    ldk b, \"x\"\n    add a, a, b\n    ret a\n}\n";
    let file = write(&dir, "trap.lsa", src.as_bytes());
    let o = lockstep(&["run", &file]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("type_error"), "{e}");
    assert!(e.contains("`main`") && e.contains("instruction 2"), "{e}");
    assert!(e.contains("trap.lsa:5"), "{e}");
}

#[test]
fn running_out_of_fuel_is_a_trap() {
    let o = lockstep(&["run", "--fuel", "10", "examples/fib.lsa"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("out_of_fuel"), "{}", stderr(&o));
}

#[test]
fn invalid_programs_exit_2_with_the_loader_or_assembler_message() {
    let dir = scratch("invalid");
    let bad_asm = write(&dir, "bad.lsa", b"func main() {\n    add r0, 5, r1\n}\n");
    let o = lockstep(&["run", &bad_asm]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.lsa:2:"), "{}", stderr(&o));

    let bad_bin = write(&dir, "bad.bin", b"\0lsb\x01\x00\x00\x00\x07");
    let o = lockstep(&["check", &bad_bin]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("byte"), "{}", stderr(&o));

    let garbage = write(&dir, "garbage", &[0xff, 0xfe, 0x00, 0x80]);
    let o = lockstep(&["run", &garbage]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a lockstep program"), "{}", stderr(&o));

    let o = lockstep(&["run", "does/not/exist.lsa"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &[][..],
        &["run"][..],
        &["frobnicate"][..],
        &["run", "--fuel", "lots", "examples/hello.lsa"][..],
        &["run", "--schedule", "seed:x", "examples/hello.lsa"][..],
        &["run", "--schedule", "sometimes", "examples/hello.lsa"][..],
        &["run", "--engine", "optimized", "--schedule", "seed:1", "examples/hello.lsa"][..],
        &["run", "--engine", "reference", "--stats", "examples/hello.lsa"][..],
    ] {
        let o = lockstep(args);
        assert_eq!(o.status.code(), Some(2), "lockstep {args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "lockstep {args:?} printed no message");
    }
}

#[test]
fn outcome_json_and_schedule_recording_and_replay() {
    let dir = scratch("schedule");
    let sched = dir.join("run.schedule").display().to_string();
    let o = lockstep(&[
        "run",
        "--schedule",
        "seed:7",
        "--record-schedule",
        &sched,
        "--outcome",
        "json",
        "examples/parallel_sum.lsa",
        "5000",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("12497500\n"), "{out}");
    assert!(out.contains("\"finished\""), "{out}");
    let replay = format!("replay:{sched}");
    let again = lockstep(&["run", "--schedule", &replay, "--outcome", "json", "examples/parallel_sum.lsa", "5000"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(stdout(&again), out);

    let wrong = write(&dir, "wrong.schedule", b"lockstep-schedule 1\n0.5 1\n");
    let o = lockstep(&["run", "--schedule", &format!("replay:{wrong}"), "examples/parallel_sum.lsa"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("schedule diverged at entry 1"), "{}", stderr(&o));
}

#[test]
fn both_engines_run_programs_and_the_optimized_one_reports_statistics() {
    for engine in ["reference", "optimized"] {
        let o = lockstep(&["run", "--engine", engine, "examples/objects.lsa"]);
        assert_eq!(o.status.code(), Some(0), "{engine}: {}", stderr(&o));
        assert_eq!(stdout(&o).as_bytes(), std::fs::read("examples/objects.stdout").unwrap(), "{engine}");
    }
    let o = lockstep(&["run", "--engine", "optimized", "--stats", "examples/objects.lsa"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    for word in ["instructions", "monomorphic", "polymorphic", "megamorphic", "gc:", "peak heap"] {
        assert!(e.contains(word), "--stats output lacks {word:?}:\n{e}");
    }
}

#[test]
fn smith_prints_a_program_that_runs_the_same_on_both_engines_and_writes_binary() {
    let dir = scratch("smith");
    let o = lockstep(&["smith", "--seed", "11", "--single-threaded"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("; generated by `lockstep smith --seed 11"), "{text}");
    let fuel = text.lines().find_map(|l| l.strip_prefix("; run with: lockstep run --fuel ")).unwrap();
    let fuel = fuel.split_whitespace().next().unwrap().to_string();
    let file = write(&dir, "p.lsa", text.as_bytes());
    let runs: Vec<Output> = ["reference", "optimized"]
        .iter()
        .map(|engine| lockstep(&["run", "--engine", engine, "--fuel", &fuel, &file]))
        .collect();
    assert_eq!(runs[0].status.code(), runs[1].status.code());
    assert_eq!(runs[0].stdout, runs[1].stdout, "the two engines disagree on smith seed 11");
    // The trap line (kind, function, instruction, line, thread) and the detail after it, the
    // same words on both engines ([exec.trap-detail]).
    assert_eq!(stderr(&runs[0]), stderr(&runs[1]));
    let bin = dir.join("p.lsb").display().to_string();
    assert_eq!(lockstep(&["smith", "--seed", "11", "--single-threaded", "-o", &bin]).status.code(), Some(0));
    assert!(std::fs::read(&bin).unwrap().starts_with(b"\0lsb"));
    assert_eq!(lockstep(&["check", &bin]).status.code(), Some(0));
}

#[test]
fn diff_replays_the_optimized_schedule_on_the_reference_and_agrees_on_every_example() {
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "lsa") {
            continue;
        }
        let file = path.display().to_string();
        // Default arguments everywhere, except a smaller sum for the threaded example.
        let args: &[&str] = if file.ends_with("parallel_sum.lsa") { &["2000"] } else { &[] };
        let o = lockstep(&[&["diff", file.as_str()][..], args].concat());
        assert_eq!(o.status.code(), Some(0), "{file}: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).starts_with("agree: "), "{file}: {}", stdout(&o));
    }
    let o = lockstep(&["diff", "does/not/exist.lsa"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_heap_over_max_heap_exits_3_on_both_engines() {
    let dir = scratch("max-heap");
    let src = "func main() {\n local a, keep, n, z\n ldi z, 0\n anew keep, z\n ldi n, 65536\nloop:\n anew a, n\n apush keep, a\n jmp loop\n}\n";
    let file = write(&dir, "grow.lsa", src.as_bytes());
    for engine in ["reference", "optimized"] {
        let o = lockstep(&["run", "--engine", engine, "--max-heap", "8000000", &file]);
        assert_eq!(o.status.code(), Some(3), "{engine}: {}", stderr(&o));
        assert!(stderr(&o).contains("out of memory"), "{engine}: {}", stderr(&o));
    }
}

#[test]
fn output_streams_and_what_was_printed_before_a_trap_is_kept() {
    let dir = scratch("stream");
    let src = "func main() {\n local i, one\n ldi i, 0\n ldi one, 1\nloop:\n println i\n add i, i, one\n jmp loop\n}\n";
    let file = write(&dir, "count.lsa", src.as_bytes());
    for engine in ["reference", "optimized"] {
        // Fuel 100001: main's entry and 100000 backward jumps, so 100001 lines, then the trap.
        let o = lockstep(&["run", "--engine", engine, "--fuel", "100001", &file]);
        assert_eq!(o.status.code(), Some(1), "{engine}: {}", stderr(&o));
        assert!(stderr(&o).contains("out_of_fuel"), "{engine}: {}", stderr(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().count(), 100001, "{engine}");
        assert!(out.ends_with("99999\n100000\n"), "{engine}: {}", &out[out.len() - 20..]);
    }
}

/// Runs `lockstep` with its address space limited to `kib` KiB (`ulimit -v`), through the shell
/// so that the test needs no unsafe code to set the limit.
fn lockstep_limited(kib: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs")
}

/// 200 threads that each count to 2,000,000.
const MANY_THREADS: &str = "func work(n) {\n\
    local i, one, t\n\
    ldi i, 0\n\
    ldi one, 1\n\
loop:\n\
    add i, i, one\n\
    lt t, i, n\n\
    jmpif t, loop\n\
    ret i\n\
}\n\
\n\
func main() {\n\
    local k, n, lim, one, t, h, arr, r\n\
    ldi k, 0\n\
    ldi one, 1\n\
    ldi lim, 200\n\
    ldi n, 2000000\n\
    anew arr, k\n\
again:\n\
    spawn h, work, (n)\n\
    apush arr, h\n\
    add k, k, one\n\
    lt t, k, lim\n\
    jmpif t, again\n\
    ret k\n\
}\n\
";

/// Two threads that each print 150 lines of 1 MiB inside one atomic block.
const BIG_ATOMIC_OUTPUT: &str = "func printer(s) {\n local i, one, k, t\n ldi i, 0\n ldi one, 1\n ldi k, 150\n \
    atomic_begin\nagain:\n println s\n add i, i, one\n lt t, i, k\n jmpif t, again\n atomic_end\n ret i\n}\n\
    func main() {\n local s, i, one, k, t, h, r\n ldk s, \"x\"\n ldi i, 0\n ldi one, 1\n ldi k, 20\n\
    double:\n concat s, s, s\n add i, i, one\n lt t, i, k\n jmpif t, double\n spawn h, printer, (s)\n \
    call r, printer, (s)\n join h, h\n ret r\n}\n";

/// An atomic block that prints without bound streams its output like any other part of a run:
/// 300 MiB printed inside atomic blocks fits under a 256 MiB address-space limit with every
/// engine. The STM used to buffer a transaction's output until its commit (and aborted the
/// process trying to allocate it); such a transaction now becomes inevitable and delivers.
#[test]
fn an_atomic_block_streams_its_output_in_bounded_memory() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = scratch("atomic-output");
    let file = write(&dir, "big.lsa", BIG_ATOMIC_OUTPUT.as_bytes());
    for engine in ["--stm=on", "--stm=off", "--stm=barriers"] {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 262144 && exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_lockstep"))
            .args(["run", engine, &file])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh runs");
        let (mut bytes, mut lines) = (0usize, 0usize);
        let mut out = child.stdout.take().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = out.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            bytes += n;
            lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{engine}: {}", stderr(&o).chars().take(300).collect::<String>());
        assert_eq!((bytes, lines), (300 * ((1 << 20) + 1), 300), "{engine}");
    }
}

/// A guest thread whose OS thread the operating system refuses (EAGAIN under an address-space
/// limit: each OS thread reserves its stack) ends the run with a host-limit error, exit status 3,
/// in bounded time: it used to panic in the parallel engine, with the scope then waiting for
/// every other guest thread.
#[test]
fn a_thread_the_os_refuses_is_status_3_not_a_panic() {
    let dir = scratch("thread-refused");
    let file = write(&dir, "many.lsa", MANY_THREADS.as_bytes());
    let o = lockstep_limited(150 << 10, &["run", &file]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("refused to start a thread"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

/// [text.lines] The assembler holds a small multiple of its input: a 16 MiB line of one-character
/// tokens used to take about 100 bytes per input byte (a heap string per token, four bytes per
/// character of the line), 1.6 GB; it must now fit in 256 MiB of address space.
#[test]
fn the_assembler_needs_a_small_multiple_of_its_input() {
    let dir = scratch("asm-memory");
    for (name, token, message) in [("commas", ",", "expected a register"), ("words", "a ", "unknown register")] {
        let text = format!("func main() {{\n    ret {}\n}}\n", token.repeat((16 << 20) / token.len()));
        let file = write(&dir, &format!("{name}.lsa"), text.as_bytes());
        let o = lockstep_limited(256 << 10, &["check", &file]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o).chars().take(300).collect::<String>());
        assert!(stderr(&o).contains(message), "{name}: {}", stderr(&o).chars().take(300).collect::<String>());
    }
}

const PRINT_FOREVER: &str = "func main() {\n    local s\n    ldk s, \"all work and no play\"\nloop:\n    \
                             println s\n    jmp loop\n}\n";

/// A run on any engine whose stdout is a pipe the reader has closed (`| head -c 10`) ends with
/// exit status 4 and no message, as soon as its buffered output meets the closed pipe; it used to
/// print into the void until its fuel ran out (forever, by default).
#[test]
fn output_into_a_closed_pipe_ends_the_run_with_status_4() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = scratch("closed-pipe");
    let file = write(&dir, "forever.lsa", PRINT_FOREVER.as_bytes());
    // The fuel makes a run that ignores the closed pipe end after a few seconds (exit 1, out of
    // fuel) instead of never. Every engine: the reference, and the optimized engine's two ways
    // of streaming (from the interpreter with --stm=off, at commits with the STM).
    for engine in [&["--engine", "reference"][..], &["--stm=off"], &["--stm=on"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .arg("run")
            .args(engine)
            .args(["--fuel", "3000000", &file])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        assert_eq!(&head, b"all work a");
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(4), "{engine:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{engine:?}");
    }
}

/// Output that cannot be written (`> /dev/full`) is exit status 4 with the reason, never a
/// success with the output lost, nor a panic: the reference's streamed output, the outcome the
/// CLI prints, and what `disasm` and `check` print.
#[test]
fn output_to_a_full_device_is_status_4_with_the_reason() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    for args in [
        &["run", "--engine", "reference", "examples/hello.lsa"][..],
        &["run", "examples/hello.lsa"],
        &["run", "--stm=off", "examples/hello.lsa"],
        &["run", "--outcome", "json", "examples/hello.lsa"],
        &["run", "--engine", "reference", "--outcome", "json", "examples/hello.lsa"],
        &["disasm", "examples/hello.lsa"],
        &["check", "examples/hello.lsa"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("cannot write the output: No space left on device"), "{args:?}: {}", stderr(&o));
    }
}

/// Messages that quote the input or the program's own strings never carry its control
/// characters to the terminal: an ANSI escape in a bad line, in a binary module's name, or in a
/// `trap` message is shown escaped (`\u{1b}`).
#[test]
fn messages_escape_the_control_characters_of_their_input() {
    let dir = scratch("escapes");
    let bad_line = write(&dir, "bad.lsa", b"func main() {\n    ret \"\x1b]0;title\x07\" \x1b[2J\n}\n");
    let trap = write(&dir, "trap.lsa", b"func main() {\n    trap \"\x1b[31mred\"\n}\n");
    // A module whose function name is `\x1b` (the verifier quotes the name it rejects).
    let name =
        write(&dir, "name.lsb", b"\0lsb\x01\0\0\0\x01\x01\0\x02\x01\0\x03\x08\x01\x01\x1b\0\x01\x01\x35\0\x04\x01\0");
    for (file, status, shown) in [(&bad_line, 2, "\\u{1b}[2J"), (&trap, 1, "\\u{1b}[31mred"), (&name, 2, "\\u{1b}")] {
        let o = lockstep(&["run", "--engine", "reference", file]);
        assert_eq!(o.status.code(), Some(status), "{file}: {}", stderr(&o));
        assert!(stderr(&o).contains(shown), "{file}: {}", stderr(&o));
        assert!(!o.stderr.iter().any(|&b| b == 0x1b || b == 0x07), "{file}: {:?}", stderr(&o));
    }
}

/// `lockstep diff` on a program that drops a 200,000-node list: both engines free it, the
/// reference without recursing once per node on the host stack (it used to abort with a stack
/// overflow, as `run --engine reference` did).
#[test]
fn diff_survives_dropping_a_long_list() {
    let dir = scratch("long-list");
    let program = "class Node {\n    field next\n}\nfunc main() {\n    local i, n, head, node, one\n    \
                   ldi i, 0\n    ldi one, 1\n    ldi n, 200000\n    ldnil head\nloop:\n    new node, Node\n    \
                   setf node, Node.next, head\n    mov head, node\n    add i, i, one\n    lt node, i, n\n    \
                   jmpif node, loop\n    ldnil head\n    ldnil node\n    ret i\n}\n";
    let file = write(&dir, "list.lsa", program.as_bytes());
    let o = lockstep(&["diff", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("agree:") && stdout(&o).contains("finished with 200000"), "{}", stdout(&o));
}
