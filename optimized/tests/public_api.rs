//! The public API of `lockstep-optimized`, used from safe code only. This file forbids `unsafe`,
//! so nothing here can be the cause of a crash: if the engine could be made to read memory it
//! does not own through its public API, some call below would be the proof.
//!
//! What is public, and why that is sound:
//! - [`Config`]: plain data. Every value of every field is allowed (no fuel, a heap limit of 0
//!   bytes, a collection threshold of 0, any arguments); the engine checks them as it goes.
//! - [`run`] and [`run_with_stats`]: they take a `VerifiedModule`, which only the verifier makes,
//!   and the engine's unchecked indexing (registers, jump targets, functions, classes, field
//!   slots) relies on exactly the rules the verifier checked. They return an `Outcome` or a
//!   [`Report`], or a [`RunError`]: host limits are errors, never crashes.
//! - [`Report`], [`Stats`], [`GcStats`], [`IcStats`], [`StmReport`], [`ThreadFigures`],
//!   [`AbortKind`], [`RunError`]: plain data, with `Display` / `render`.
//! - `stm` (hidden from the docs): the STM core, public for the loom models and
//!   `stm_stress.rs`. It contains no `unsafe` and takes shared words as `&AtomicU64`
//!   references, which a transaction borrows for its lifetime: safe code cannot make it touch
//!   memory it does not borrow.
//!
//! Nothing public takes or returns a raw value word or a heap. The modules that do (`value`,
//! `heap`, `code`, `inline_cache`, the interpreter) are private, and their functions that read
//! whatever cell a word points to are `unsafe fn`s. So `Heap::new(..).kind(0x10)`, which once
//! died with SIGSEGV in a test like this one, no longer compiles: the `compile_fail` examples
//! in the crate documentation (`optimized/src/lib.rs`, run by `cargo test --doc`) check that
//! each of those modules is unreachable (error E0603, private module).
#![forbid(unsafe_code)]

use lockstep_optimized::stm::sync::{AtomicU64, Ordering};
use lockstep_optimized::stm::{atomically, Contention, Policy, Stm, Transaction, TxThread};
use lockstep_optimized::{
    run, run_with_stats, AbortKind, Config, GcStats, IcStats, Report, RunError, Stats, StmReport, ThreadFigures,
};
use lockstep_spec::outcome::End;
use lockstep_spec::VerifiedModule;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every example and every test program of the engine, with the arguments it needs.
fn programs() -> Vec<(PathBuf, Vec<Vec<u8>>, VerifiedModule)> {
    let mut files = Vec::new();
    for dir in ["examples", "optimized/tests/programs"] {
        for e in std::fs::read_dir(root().join(dir)).expect("a program directory").filter_map(|e| e.ok()) {
            if e.path().extension().is_some_and(|x| x == "lsa") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("readable");
            let program = lockstep_spec::program::load_program(&bytes, &path.display().to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let args = if path.ends_with("parallel_sum.lsa") { vec![b"300".to_vec()] } else { Vec::new() };
            (path, args, program.module)
        })
        .collect()
}

/// Configurations at the edges of what `Config` allows, each with the STM on and off.
fn configs(args: &[Vec<u8>]) -> Vec<Config> {
    let base = Config { args: args.to_vec(), ..Config::default() };
    let mut out = Vec::new();
    for stm in [true, false] {
        let c = Config { stm, ..base.clone() };
        out.extend([
            c.clone(),
            Config { fuel: 0, ..c.clone() },
            Config { fuel: 1, ..c.clone() },
            Config { fuel: 97, ..c.clone() },
            // Too small for the constants: the run must fail cleanly before it starts.
            Config { max_heap_bytes: 0, ..c.clone() },
            // Room for about one chunk: some programs run out mid-way.
            Config { max_heap_bytes: 300 << 10, gc_threshold_bytes: 0, ..c.clone() },
            // A collection at every safepoint, everything reported.
            Config { gc_threshold_bytes: 0, stats: true, stm_report: true, record_schedule: false, ..c.clone() },
            Config { stm_solo: false, gc_threshold_bytes: 1, ..c.clone() },
            Config { args: vec![vec![0xff; 3]; 40], max_heap_bytes: usize::MAX, ..c.clone() },
        ]);
    }
    out
}

#[test]
fn every_program_runs_under_every_edge_configuration_and_ends_cleanly() {
    let mut compared = 0;
    for (path, args, module) in programs() {
        let want_stdout = std::fs::read(path.with_extension("stdout")).ok();
        for config in configs(&args) {
            let what = format!("{} with {config:?}", path.display());
            match run_with_stats(&module, &config) {
                Ok(Report { outcome, stats, stm }) => {
                    assert_eq!(stats.is_some(), config.stats, "{what}");
                    if config.stats {
                        let text = stats.as_ref().map(|s| s.to_string()).unwrap_or_default();
                        assert!(text.contains("instructions executed"), "{what}: {text}");
                    }
                    if let Some(report) = stm {
                        assert!(config.stm && config.stm_report, "{what}");
                        report.render(&|f, pc| format!("{f}:{pc}"));
                    }
                    // A full run of an example without arguments prints what its .stdout says.
                    let full = config.fuel == Config::default().fuel && config.args.is_empty();
                    if let (Some(want), true, End::Finished { .. }) = (&want_stdout, full, &outcome.end) {
                        assert_eq!(&outcome.stdout, want, "{what}");
                        compared += 1;
                    }
                    if !config.record_schedule {
                        assert!(outcome.schedule.entries.is_empty(), "{what}");
                    }
                }
                Err(RunError::OutOfMemory { limit_bytes }) => {
                    assert_eq!(limit_bytes, config.max_heap_bytes, "{what}");
                    assert!(config.max_heap_bytes < Config::default().max_heap_bytes, "{what}: out of memory");
                }
                // (These runs capture their output: nothing is written that could fail.)
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }
    assert!(compared >= 20, "only {compared} runs compared with a .stdout file");
}

#[test]
fn run_is_run_with_stats_without_the_stats() {
    for (path, args, module) in programs().into_iter().filter(|p| p.0.ends_with("fib.lsa")) {
        let config = Config { args, stm: false, ..Config::default() };
        let a = run(&module, &config).expect("runs");
        let b = run_with_stats(&module, &Config { stats: true, ..config }).expect("runs");
        assert!(a.same_behaviour(&b.outcome), "{}", path.display());
        assert_eq!(a.schedule, b.outcome.schedule);
        assert!(b.stats.is_some_and(|s| s.instructions > 0 && s.threads == 1));
    }
}

#[test]
fn reports_are_plain_data_that_render_from_any_values() {
    let stats = Stats {
        instructions: u64::MAX,
        inline_caches: IcStats { sites: usize::MAX, hits: u64::MAX, ..IcStats::default() },
        gc: GcStats { collections: 3, pause_total: Duration::MAX, ..GcStats::default() },
        jit: lockstep_optimized::JitStats { entries: u64::MAX, compile_time: Duration::MAX, ..Default::default() },
        threads: 0,
    };
    assert!(stats.to_string().contains(&u64::MAX.to_string()));
    let mut report = StmReport::default();
    assert!(report.render(&|_, _| String::new()).contains("threads 0"));
    report.threads.push(ThreadFigures { id: "main".into(), committed: 0, aborted: u64::MAX, ..Default::default() });
    for kind in [AbortKind::WriteRead, AbortKind::WriteWrite, AbortKind::Inevitable] {
        report.conflicts.insert((kind, u32::MAX, u32::MAX), (u64::MAX, Duration::MAX));
    }
    let text = report.render(&|f, pc| format!("function {f} pc {pc}"));
    assert!(text.contains("write-write") && text.contains("function 4294967295"), "{text}");
    let err = RunError::OutOfMemory { limit_bytes: 0 };
    assert!(err.to_string().contains("out of memory"));
}

/// The STM core is public for the model checks; what safe code can do with it stays inside the
/// words it lends to a transaction.
#[test]
fn the_stm_core_works_on_borrowed_words_only() {
    let stm = Stm::new();
    let mut th = TxThread::new(0);
    let words: Vec<AtomicU64> = (0..4).map(AtomicU64::new).collect();
    let mut tx = Transaction::begin(&stm, &mut th);
    let v = tx.read(&words[1]).expect("a fresh transaction reads");
    tx.write(&words[2], v + 40);
    assert_eq!(tx.read(&words[2]), Ok(41), "a transaction sees its own write");
    assert_eq!(words[2].load(Ordering::Relaxed), 2, "writes are buffered until commit");
    tx.commit(&mut th).expect("no conflict");
    assert_eq!(words[2].load(Ordering::Relaxed), 41);

    // Dropped without commit or abort, an inevitable transaction gives the token back.
    drop(Transaction::begin_inevitable(&stm, &mut th, &mut || {}));
    assert!(!stm.inevitable_held());
    let mut cm = Contention::new(Policy::default());
    let (sum, _) = atomically(&stm, &mut th, &mut cm, &mut || {}, |tx| {
        let mut sum = 0;
        for w in &words {
            sum += tx.read(w)?;
        }
        Ok(sum)
    });
    assert_eq!(sum, 41 + 3 + 1);
}
