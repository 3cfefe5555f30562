//! Memory exhaustion ([limit.memory]): a guest program that allocates without bound ends in
//! the clean host error `RunError::OutOfMemory` (exit status 3 in the CLI), never a crash, an
//! abort or a hang, whatever it grows (arrays, objects, strings, in any thread); and the same
//! allocation volume as garbage does not fail under the same limit.

use lockstep_optimized::{run, Config, RunError};
use lockstep_spec::program::load_program;

/// A small limit: every case reaches it within a fraction of a second.
const LIMIT: usize = 4 << 20;

/// (name, body of `grow()` looping forever, whether it keeps what it allocates)
const CASES: &[(&str, &str, bool)] = &[
    // An array that keeps growing by apush (storage replaced as it grows).
    ("apush", "ldi n, 0\n anew keep, n\nloop:\n apush keep, keep\n jmp loop", true),
    // A linked list of objects.
    ("objects", "ldnil keep\nloop:\n new o, Cell\n setf o, Cell.next, keep\n mov keep, o\n jmp loop", true),
    // A string that doubles.
    ("strings", "ldk keep, \"x\"\nloop:\n concat keep, keep, keep\n jmp loop", true),
    // Arrays of 1000 elements kept in an array.
    ("arrays", "ldi n, 0\n anew keep, n\n ldi n, 1000\nloop:\n anew o, n\n apush keep, o\n jmp loop", true),
    // The same, each dropped at once: only garbage, bounded by the limit check.
    ("garbage", "ldi n, 1000\n ldi i, 0\n ldi one, 1\n ldi k, 20000\nloop:\n anew o, n\n add i, i, one\n lt t, i, k\n jmpif t, loop\n mov keep, i", false),
];

fn program(body: &str, in_thread: bool) -> lockstep_spec::program::Program {
    let main = if in_thread {
        "func main() {\n local h\n spawn h, grow, ()\n join h, h\n ret h\n}\n"
    } else {
        "func main() {\n local h\n call h, grow, ()\n ret h\n}\n"
    };
    let text = format!(
        "class Cell {{\n field next\n}}\nfunc grow() {{\n local keep, n, o, i, one, k, t\n {body}\n ret keep\n}}\n{main}"
    );
    load_program(text.as_bytes(), "memory.lsa").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn unbounded_allocation_ends_in_the_out_of_memory_error_and_garbage_does_not() {
    for &(name, body, keeps) in CASES {
        for in_thread in [false, true] {
            let p = program(body, in_thread);
            let config = Config { max_heap_bytes: LIMIT, ..Config::default() };
            let got = run(&p.module, &config);
            if keeps {
                assert_eq!(
                    got.map(|o| o.end),
                    Err(RunError::OutOfMemory { limit_bytes: LIMIT }),
                    "{name} (in a thread: {in_thread})"
                );
            } else {
                let outcome = got.unwrap_or_else(|e| panic!("{name} (in a thread: {in_thread}): {e}"));
                assert!(
                    matches!(&outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(20000)),
                    "{name} (in a thread: {in_thread}): {:?}",
                    outcome.end
                );
            }
        }
    }
}

#[test]
fn the_out_of_memory_error_names_the_limit() {
    let e = RunError::OutOfMemory { limit_bytes: LIMIT };
    assert!(e.to_string().contains("out of memory") && e.to_string().contains(&LIMIT.to_string()), "{e}");
}

/// Register stacks count against the limit [limit.memory]: threads recursing deep through a
/// function with many registers (9,000 frames of 1,000 registers is 72 MB a thread) end in the
/// out-of-memory error under a small limit, with the STM and without, instead of growing the
/// host's memory until an allocation fails (it did: 128 such threads under 64 MiB aborted the
/// process at 3 GB). The same program recursing 50 deep finishes under the same limit.
#[test]
fn deep_recursion_counts_its_registers_against_the_limit() {
    let locals: Vec<String> = (0..1000).map(|i| format!("v{i}")).collect();
    let text = |depth: u32| {
        format!(
            "func deep(n) {{\n local {}\n ldi v0, 0\n le v1, n, v0\n jmpif v1, done\n ldi v0, 1\n sub v2, n, v0\n \
             call v3, deep, (v2)\ndone:\n ret n\n}}\n\
             func main() {{\n local a, b, c, d, n\n ldi n, {depth}\n spawn a, deep, (n)\n spawn b, deep, (n)\n \
             spawn c, deep, (n)\n call d, deep, (n)\n join a, a\n join b, b\n join c, c\n ret d\n}}\n",
            locals.join(", ")
        )
    };
    for stm in [false, true] {
        let config = Config { max_heap_bytes: LIMIT, stm, ..Config::default() };
        let deep = load_program(text(9000).as_bytes(), "deep.lsa").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            run(&deep.module, &config).map(|o| o.end),
            Err(RunError::OutOfMemory { limit_bytes: LIMIT }),
            "stm {stm}"
        );
        let shallow = load_program(text(50).as_bytes(), "shallow.lsa").unwrap_or_else(|e| panic!("{e}"));
        let end = run(&shallow.module, &config).map(|o| o.end);
        assert!(
            matches!(&end, Ok(lockstep_spec::outcome::End::Finished { value }) if *value == lockstep_spec::outcome::Value::Int(50)),
            "stm {stm}: {end:?}"
        );
    }
}

/// Near the limit, collections are spaced by the room left, not taken at every new chunk
/// [limit.memory]: a program that keeps a list of about 65% of the limit alive and then makes
/// ten times the limit in garbage finishes after a bounded number of collections (one per chunk,
/// the policy before, was about 640 here), with the STM and without.
#[test]
fn live_data_near_the_limit_does_not_collect_at_every_chunk() {
    let limit = 16 << 20;
    let text = "class Cell {\n field next\n}\n\
                func main() {\n local keep, o, i, one, k, t, n\n ldnil keep\n ldi i, 0\n ldi one, 1\n \
                ldi k, 450000\nbuild:\n new o, Cell\n setf o, Cell.next, keep\n mov keep, o\n add i, i, one\n \
                lt t, i, k\n jmpif t, build\n ldi i, 0\n ldi n, 1000\n ldi k, 20000\ngarbage:\n anew o, n\n \
                add i, i, one\n lt t, i, k\n jmpif t, garbage\n ret i\n}\n";
    let p = load_program(text.as_bytes(), "near.lsa").unwrap_or_else(|e| panic!("{e}"));
    for stm in [false, true] {
        let config = Config { max_heap_bytes: limit, stm, stats: true, ..Config::default() };
        let report =
            lockstep_optimized::run_with_stats(&p.module, &config).unwrap_or_else(|e| panic!("stm {stm}: {e}"));
        assert!(
            matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(20000)),
            "stm {stm}: {:?}",
            report.outcome.end
        );
        let gc = report.stats.expect("stats").gc;
        assert!(gc.live_bytes_after_last_gc > limit / 2, "stm {stm}: live {} of {limit}", gc.live_bytes_after_last_gc);
        assert!(gc.collections <= 100, "stm {stm}: {} collections", gc.collections);
    }
}
