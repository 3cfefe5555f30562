//! The optimized engine against the reference: every program here, in `examples/` and in
//! `bench/` (at small sizes) runs on both engines with several fuel budgets, and must give the
//! same behaviour (stdout, end, trap location and message). With `--stm=off` the optimized
//! engine runs round-robin and must report the reference's schedule too; with the STM (threads
//! in parallel) its recorded schedule, replayed on the reference, must give the same outcome.
//!
//! The fuel budgets make the same programs end in `out_of_fuel` at many different points
//! (function entries, backward jumps, inside threads), which checks the accounting and the
//! trap location instruction by instruction.

use lockstep_optimized as opt;
use lockstep_reference as reference;
use lockstep_spec::outcome::{End, Outcome};
use lockstep_spec::VerifiedModule;
use std::path::Path;

fn load(path: &Path) -> VerifiedModule {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let asm = lockstep_spec::asm::assemble(&text, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    lockstep_spec::verify::verify(asm.module).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// The reference's outcome (round-robin, or replaying `replay`) and the optimized engine's.
/// `stm`: 0 serial (`--stm=off`), 1 the STM, 2 the STM with barriers even for a lone thread;
/// `jit`: the interpreter alone, or compiled code (every function, or the stress mode's).
fn run_both(module: &VerifiedModule, args: &[&str], fuel: u64, (mode, jit): (u8, opt::JitMode)) -> (Outcome, Outcome) {
    let (stm, stm_solo) = (mode > 0, mode < 2);
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    // A tiny collection threshold: the collector runs at nearly every safepoint, so a live cell
    // it wrongly freed would show up as a wrong result.
    let config = opt::Config {
        fuel,
        args: args.clone(),
        gc_threshold_bytes: 2048,
        stm,
        stm_solo,
        jit,
        ..opt::Config::default()
    };
    let got = opt::run(module, &config).expect("the optimized engine runs");
    let scheduler =
        if stm { reference::Scheduler::Replay(got.schedule.clone()) } else { reference::Scheduler::RoundRobin };
    let want = reference::run(module, &reference::Config { fuel, args, scheduler, ..reference::Config::default() })
        .unwrap_or_else(|e| panic!("the reference runs: {e}\noptimized schedule {}", got.schedule.to_text()));
    (want, got)
}

/// Runs `file` with `args` at every fuel budget and compares; returns the full-fuel outcome.
fn check(file: &str, args: &[&str], fuels: &[u64]) -> Outcome {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let module = load(&path);
    let mut full = None;
    use opt::JitMode::{Always, Off, Stress};
    let engines = |f: u64| [(0, Off), (1, Off), (2, Off), (0, Always), (1, Always), (2, Always), (0, Stress(f))];
    for (fuel, stm) in fuels.iter().chain([u64::MAX].iter()).flat_map(|&f| engines(f).map(|e| (f, e))) {
        let (want, got) = run_both(&module, args, fuel, stm);
        assert!(
            want.same_behaviour(&got),
            "{file} {args:?} fuel {fuel} engine {stm:?}:\nreference {:?}\noptimized {:?}\nstdout {:?} vs {:?}",
            want.end,
            got.end,
            String::from_utf8_lossy(&want.stdout),
            String::from_utf8_lossy(&got.stdout)
        );
        assert_eq!(want.schedule, got.schedule, "{file} {args:?} fuel {fuel} engine {stm:?}: schedules differ");
        full = Some(got);
    }
    full.expect("ran at least once")
}

const FUELS: &[u64] = &[0, 1, 2, 3, 5, 8, 13, 40, 100, 1000];

#[test]
fn examples_match_the_reference() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lsa"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "examples/ has {names:?}");
    for name in names {
        let args: &[&str] = if name == "parallel_sum.lsa" { &["3000"] } else { &[] };
        check(&format!("examples/{name}"), args, FUELS);
    }
}

/// (program, args, what its full-fuel run must end with)
const PROGRAMS: &[(&str, &[&str], &str)] = &[
    ("optimized/tests/programs/ic_transitions.lsa", &[], "trap index_out_of_bounds"),
    ("optimized/tests/programs/gc_stress.lsa", &[], "finished"),
    ("optimized/tests/programs/numbers.lsa", &[], "trap invalid_conversion"),
    ("optimized/tests/programs/deep.lsa", &[], "trap stack_overflow"),
    ("optimized/tests/programs/threads.lsa", &[], "trap thread_trapped"),
    ("optimized/tests/programs/deadlock.lsa", &[], "deadlock"),
    // A parallel run must see the deadlock that a thread's end leaves behind (it once hung).
    ("optimized/tests/programs/deadlock_by_end.lsa", &[], "deadlock"),
    // A spawn committed after main's end must not start (it once indexed past the table).
    ("optimized/tests/programs/spawn_after_end.lsa", &[], "finished"),
    ("optimized/tests/programs/fused.lsa", &[], "trap type_error"),
    ("optimized/tests/programs/ld_arith.lsa", &[], "trap type_error"),
    ("optimized/tests/programs/logic.lsa", &[], "trap type_error"),
];

fn end_kind(end: &End) -> String {
    match end {
        End::Finished { .. } => "finished".into(),
        End::Trapped(t) => format!("trap {}", t.kind),
        End::Deadlock { .. } => "deadlock".into(),
    }
}

#[test]
fn stress_programs_match_the_reference() {
    for &(file, args, want_end) in PROGRAMS {
        let out = check(file, args, FUELS);
        assert_eq!(end_kind(&out.end), want_end, "{file}");
    }
}

/// Each benchmark at a small size, with the checksum its peers print at that size.
const BENCHES: &[(&str, &[&str], &str)] = &[
    ("bench/fib.lsa", &["15"], "610\n"),
    ("bench/loop_sum.lsa", &["1000"], "499500\n"),
    ("bench/mandelbrot.lsa", &["40", "20"], "687\n"),
    ("bench/parallel_sum.lsa", &["1000", "3"], "499500\n"),
    ("bench/nbody.lsa", &["1000"], "-0.169075164\n-0.169087605\n"),
    (
        "bench/binary_trees.lsa",
        &["6"],
        "stretch tree of depth 7\t check: 255\n64\t trees of depth 4\t check: 1984\n\
         16\t trees of depth 6\t check: 2032\nlong lived tree of depth 6\t check: 127\n",
    ),
    // One iteration: qpkt_count 23246 and hold_count 9297, as every peer's richards.
    ("bench/richards.lsa", &["1"], "23246 9297\n"),
];

#[test]
fn benchmarks_give_their_checksums_on_both_engines() {
    for &(file, args, want) in BENCHES {
        let out = check(file, args, &[50]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{file} {args:?}");
    }
}

#[test]
fn a_tiny_threshold_really_makes_the_collector_run_often_and_bounds_the_heap() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/gc_stress.lsa");
    let module = load(&path);
    let config = opt::Config { stats: true, gc_threshold_bytes: 2048, ..opt::Config::default() };
    let report = opt::run_with_stats(&module, &config).expect("runs");
    let stats = report.stats.expect("stats were asked for");
    // Each collection waits for as many bytes as survived the last (~300 KiB here).
    assert!(stats.gc.collections > 40, "{stats}");
    // The live set is a few hundred KiB; 10 MB of garbage went through it.
    assert!(stats.gc.peak_heap_bytes < 8 << 20, "{stats}");
    assert!(stats.instructions > 1_000_000, "{stats}");
}
