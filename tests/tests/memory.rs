//! [limit.memory] on every engine: a program that keeps growing its heap stops with the clean
//! out-of-memory error, while one that allocates as much in total but lets it go finishes
//! (garbage is not counted against the limit, nor the register stacks of threads that ended).

use lockstep_spec::program::load_program;
use lockstep_tests::{Engine, RunSettings};

const LIMIT: usize = 8 << 20;

fn program(keep: bool) -> lockstep_spec::program::Program {
    // 400 arrays of 4096 elements (64 KiB or more each, about 26 MiB in all), either all kept
    // alive in `keep` or each dropped when the next one replaces it.
    let store = if keep { "apush keep, a" } else { "nop" };
    let text = format!(
        "func main() {{\n local a, keep, n, i, one, t\n ldi i, 0\n anew keep, i\n ldi one, 1\n \
         ldi n, 4096\nloop:\n anew a, n\n {store}\n add i, i, one\n ldi t, 400\n lt t, i, t\n \
         jmpif t, loop\n alen t, keep\n ret t\n}}\n"
    );
    load_program(text.as_bytes(), "memory.lsa").unwrap()
}

fn settings() -> RunSettings {
    RunSettings { max_heap: Some(LIMIT), ..RunSettings::default() }
}

#[test]
fn a_growing_heap_stops_with_the_out_of_memory_error() {
    let program = program(true);
    for &engine in Engine::ALL {
        let err = engine.run_with(&program, &settings()).unwrap_err();
        assert!(err.contains("out of memory") && err.contains(&LIMIT.to_string()), "{engine:?}: {err}");
    }
}

#[test]
fn garbage_does_not_count_against_the_limit() {
    finishes_under_the_limit(&program(false), 0);
}

/// `program` returns `value` on every engine under the limit.
fn finishes_under_the_limit(program: &lockstep_spec::program::Program, value: i64) {
    for &engine in Engine::ALL {
        let outcome = engine.run_with(program, &settings()).unwrap_or_else(|e| panic!("{engine:?}: {e}"));
        assert!(
            matches!(&outcome.end, lockstep_spec::outcome::End::Finished { value: v } if *v == lockstep_spec::outcome::Value::Int(value)),
            "{engine:?}: {}",
            outcome.to_json()
        );
    }
}

/// Compiled code allocates small objects inline (`jit/x64.rs`, `heap::layout`): it must count
/// them toward the next collection exactly as the interpreter's allocator does, so a run with
/// `--stm=off` collects as often, at the same points, with either. The program allocates about
/// 14 MiB of garbage objects against a 256 KiB collection threshold.
#[test]
fn compiled_code_allocates_toward_collections_as_the_interpreter_does() {
    let text = "class P {\n field a\n field b\n field c\n field d\n}\nfunc main() {\n local o, one, i, n, t\n \
                ldi one, 1\n ldi i, 0\n ldi n, 300000\nloop:\n new o, P\n setf o, P.a, i\n add i, i, one\n \
                lt t, i, n\n jmpif t, loop\n getf t, o, P.a\n ret t\n}\n";
    let program = load_program(text.as_bytes(), "objects.lsa").unwrap();
    let gc = |jit| {
        let config = lockstep_optimized::Config {
            stats: true,
            stm: false,
            jit,
            gc_threshold_bytes: 256 << 10,
            ..lockstep_optimized::Config::default()
        };
        let report = lockstep_optimized::run_with_stats(&program.module, &config).expect("runs");
        let gc = report.stats.expect("stats were asked for").gc;
        (gc.collections, gc.peak_heap_bytes, gc.live_bytes_after_last_gc)
    };
    let interpreted = gc(lockstep_optimized::JitMode::Off);
    assert!(interpreted.0 >= 20, "the program collects often: {interpreted:?}");
    assert_eq!(gc(lockstep_optimized::JitMode::Always), interpreted, "(collections, peak heap, live after the last)");
    // Tier 2's `new` (the loop is a region: `tier2/`, `Tr::new_object`) as tier 1's.
    assert_eq!(
        gc(lockstep_optimized::JitMode::OptAlways),
        interpreted,
        "tier 2: (collections, peak, live after the last)"
    );
}

/// The program of the two tests below: a loop of 100 laps whose lap `k` drops the only
/// reference to a 4 MiB array (`r`, dead at the loop's header), then 2,000 allocations of 8 KB
/// that collect; the (collections, live bytes after the last) of each tier-2 engine are the
/// interpreter's, which the returned pair is.
fn tier_two_keeps_what_the_interpreter_keeps(k: u32, name: &str) -> (u64, usize) {
    let text = format!(
        "func main() {{\n local r, i, n, t, one, k, len, a\n ldi len, 500000\n anew r, len\n \
         ldi i, 0\n ldi n, 100\n ldi one, 1\n ldi k, {k}\nloop:\n lt t, i, n\n jmpifnot t, done\n \
         eq t, i, k\n jmpifnot t, skip\n ldi r, 5\nskip:\n add i, i, one\n jmp loop\ndone:\n \
         ldi len, 1000\n ldi i, 0\n ldi n, 2000\nalloc:\n anew a, len\n add i, i, one\n \
         lt t, i, n\n jmpif t, alloc\n ret i\n}}\n"
    );
    collects_as_the_interpreter(&text, name)
}

/// The (collections, live bytes after the last) of the program `text` on the interpreter,
/// which each tier-2 engine's must equal.
fn collects_as_the_interpreter(text: &str, name: &str) -> (u64, usize) {
    let program = load_program(text.as_bytes(), name).unwrap();
    let gc = |jit| {
        let config = lockstep_optimized::Config {
            stats: true,
            stm: false,
            jit,
            gc_threshold_bytes: 1 << 20,
            ..lockstep_optimized::Config::default()
        };
        let report = lockstep_optimized::run_with_stats(&program.module, &config).expect("runs");
        let gc = report.stats.expect("stats were asked for").gc;
        (gc.collections, gc.live_bytes_after_last_gc)
    };
    let interpreted = gc(lockstep_optimized::JitMode::Off);
    assert!(interpreted.0 >= 2, "the program collects after the loop: {interpreted:?}");
    for jit in [lockstep_optimized::JitMode::OptAlways, lockstep_optimized::JitMode::OptStress(3)] {
        assert_eq!(gc(jit), interpreted, "{jit:?}: (collections, live after the last)");
    }
    interpreted
}

/// A register dead at a region's exit that holds a reference (here `r`, the only reference
/// left to a 4 MiB array once the loop is over) is written back as it is, not as a constant:
/// only registers whose every value there is a number or a boolean may be (`webs.rs`,
/// `Webs::free`, [exec.dead-registers]). The loop's last lap leaves at `add s, s, step`, whose
/// int overflows, with `r` just read from `holder` and never read again; the collections after
/// the loop keep the array, as the interpreter's do.
#[test]
fn compiled_loops_write_a_dead_reference_back_as_it_is() {
    let text = "func main() {\n local holder, r, i, n, t, one, len, a, s, step, k\n ldi len, 500000\n \
                anew a, len\n ldi one, 1\n anew holder, one\n ldi k, 0\n aset holder, k, a\n ldi a, 0\n \
                ldi s, 0\n ldi step, 11529215046068470\n ldi i, 0\n ldi n, 100\nloop:\n lt t, i, n\n \
                jmpifnot t, done\n aget r, holder, k\n add s, s, step\n add i, i, one\n jmp loop\ndone:\n \
                aset holder, k, k\n ldi len, 1000\n ldi i, 0\n ldi n, 2000\nalloc:\n anew a, len\n \
                add i, i, one\n lt t, i, n\n jmpif t, alloc\n ret i\n}\n";
    let interpreted = collects_as_the_interpreter(text, "dead-reference.lsa");
    assert!(interpreted.1 >= 4_000_000, "the array stays reachable from `r`: {interpreted:?}");
}

/// A tier-2 region writes back, when it leaves, every register it wrote, also one that only
/// some laps write and that is not live at the loop's header (a run-time mask says which:
/// `tier2/`, `Tr::written`). Such a register is dead there, so no outcome shows it, but the
/// collector does: here lap 50 of the loop drops the only reference to a 4 MiB array by writing
/// an int over it. A region that kept the old word in the window would keep the array alive
/// through the collections after the loop, which the interpreter frees.
#[test]
fn compiled_loops_write_back_registers_written_on_some_laps() {
    let interpreted = tier_two_keeps_what_the_interpreter_keeps(50, "drop.lsa");
    assert!(interpreted.1 < 1 << 20, "the array is garbage after the loop: {interpreted:?}");
}

/// The other side of the test above: a register that only some laps write, not live at the
/// loop's header, and not written on the way to an exit, keeps its word when the region leaves
/// there, as in the interpreter. Here the lap that would drop the 4 MiB array never comes, so
/// the array stays reachable from the (dead) register through the collections after the loop.
/// An exit that took every such register for written (`tier2/`, `Tr::exit`: the exits'
/// `must` masks joined with `|` instead of `&`, a shard-2 survivor) writes its unset variable
/// over the word, and the collector frees the array.
#[test]
fn compiled_loops_leave_registers_no_lap_wrote_as_they_were() {
    let interpreted = tier_two_keeps_what_the_interpreter_keeps(1000, "keep.lsa");
    assert!(interpreted.1 >= 4_000_000, "the array stays reachable: {interpreted:?}");
}

/// A thread's register stack counts against the limit while it grows ([limit.memory]) and is
/// given back when the thread ends: 40 threads, one after another, each recursing 2000 calls
/// deep in a function of 65 registers (about 1 MiB of registers each), fit in 8 MiB together.
#[test]
fn the_register_stacks_of_ended_threads_are_given_back_to_the_limit() {
    let locals: Vec<String> = (0..60).map(|i| format!("p{i}")).collect();
    let text = format!(
        "func deep(n) {{\n local z, one, c, r, {}\n ldi z, 0\n eq c, n, z\n jmpif c, done\n ldi one, 1\n \
         sub n, n, one\n call r, deep, (n)\n ret r\ndone:\n ret n\n}}\n\
         func worker() {{\n local d, r\n ldi d, 2000\n call r, deep, (d)\n ret r\n}}\n\
         func main() {{\n local i, n, one, c, t, r\n ldi i, 0\n ldi n, 40\n ldi one, 1\nloop:\n \
         spawn t, worker, ()\n join r, t\n add i, i, one\n lt c, i, n\n jmpif c, loop\n ret i\n}}\n",
        locals.join(", ")
    );
    finishes_under_the_limit(&load_program(text.as_bytes(), "stacks.lsa").unwrap(), 40);
}

/// `--stats`' live bytes after the last collection count every cell that survived it, large
/// cells (here an array of 200,000 elements, 1.6 MB) as well as small ones.
#[test]
fn the_live_bytes_after_a_collection_count_large_cells() {
    let text = "func main() {\n local big, a, n, i, one, t\n ldi n, 200000\n anew big, n\n ldi i, 0\n ldi one, 1\n \
                ldi n, 20000\nloop:\n anew a, one\n add i, i, one\n lt t, i, n\n jmpif t, loop\n alen t, big\n ret t\n}\n";
    let program = load_program(text.as_bytes(), "large.lsa").unwrap();
    for stm in [false, true] {
        let config = lockstep_optimized::Config {
            stats: true,
            stm,
            gc_threshold_bytes: 256 << 10,
            ..lockstep_optimized::Config::default()
        };
        let report = lockstep_optimized::run_with_stats(&program.module, &config).expect("runs");
        let gc = report.stats.expect("stats were asked for").gc;
        assert!(gc.collections >= 1, "stm {stm}: the program collects: {gc:?}");
        assert!(gc.live_bytes_after_last_gc >= 200_000 * 8, "stm {stm}: the array is live: {gc:?}");
    }
}

/// A tier-2 exit that boxes a double (`tier2/`, `box_double`) where the heap has no room left
/// stops the run out of memory, as the interpreter's own boxing would, rather than writing back
/// nil and going on. The program keeps `n` arrays of 2,000 elements, which leaves the heap (8
/// MiB) with little room, then a loop multiplies `x` by 1e10 and stores it: from the fourth lap
/// on it has no SmallFloat encoding, each store leaves the region (`aset` takes it as a word) and
/// the exit boxes `x`, the first cells of their size. Over a range of `n` around where the last
/// chunk runs out, each run of the tier-2 engine either stops out of memory or prints what the
/// reference prints (with no limit): the elements as floats, never nil (the planted bug
/// `tier2_box_oom_ignored`).
#[test]
fn a_compiled_exit_that_cannot_box_a_double_stops_out_of_memory() {
    let text = "func main(args) {\n local keep, a, i, n, one, t, len, x, k, j, m, out, zero\n ldi zero, 0\n \
                aget n, args, zero\n stoi n, n\n ldi i, 0\n anew keep, i\n ldi one, 1\n ldi len, 2000\nfill:\n \
                lt t, i, n\n jmpifnot t, floats\n anew a, len\n apush keep, a\n add i, i, one\n jmp fill\n\
                floats:\n ldi m, 12\n anew out, m\n ldk x, 1.0\n ldk k, 10000000000.0\n ldi j, 0\nloop:\n \
                lt t, j, m\n jmpifnot t, done\n mul x, x, k\n aset out, j, x\n add j, j, one\n jmp loop\n\
                done:\n ldi j, 0\nshow:\n lt t, j, m\n jmpifnot t, end\n aget x, out, j\n println x\n \
                add j, j, one\n jmp show\nend:\n ret n\n}\n";
    let program = load_program(text.as_bytes(), "box-oom.lsa").unwrap();
    let (mut stopped, mut finished) = (0, 0);
    for n in (380..470).step_by(2) {
        let args = vec![n.to_string()];
        let expected = Engine::Reference
            .run_with(&program, &RunSettings { args: args.clone(), ..RunSettings::default() })
            .expect("no limit");
        let settings = RunSettings { args, max_heap: Some(LIMIT), ..RunSettings::default() };
        match Engine::OptimizedSerialOpt.run_with(&program, &settings) {
            Err(e) => {
                assert!(e.contains("out of memory"), "n = {n}: {e}");
                stopped += 1;
            }
            Ok(outcome) => {
                assert_eq!(
                    String::from_utf8_lossy(&outcome.stdout),
                    String::from_utf8_lossy(&expected.stdout),
                    "n = {n}"
                );
                finished += 1;
            }
        }
    }
    assert!(stopped > 0 && finished > 0, "the range crosses the limit: {stopped} stopped, {finished} finished");
}
