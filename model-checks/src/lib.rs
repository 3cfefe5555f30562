//! `lockstep-model-checks`: loom models of the optimized engine's concurrency core
//! (`lockstep_optimized::stm`), run on the code that ships: that module is written against a
//! sync facade that becomes loom's atomics, locks and threads under `--cfg loom`.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p lockstep-model-checks --release` explores every
//! interleaving up to each model's preemption bound. Without `--cfg loom` the same models run
//! a few hundred times on real threads (a smoke test that keeps them compiling and honest in
//! the ordinary `cargo test`). `model-checks/run-mutants` rebuilds `lockstep-optimized` with
//! each planted bug (`LOCKSTEP_MUTANT=NAME`, read by `optimized/build.rs`, which lists them and
//! the model that must catch each) and requires that model to fail.
//! `README.md` lists the models, their properties, bounds and run times.

/// Runs `model` under loom with at most `preemptions` preemptions per execution (loom's
/// bound; each extra preemption multiplies the number of executions), or, without loom,
/// `SMOKE_RUNS` times on OS threads.
pub fn check<F>(preemptions: usize, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    #[cfg(loom)]
    {
        // A std counter, invisible to loom: how many executions the bound allowed (printed
        // with --nocapture; README.md records them).
        use std::sync::atomic::{AtomicUsize, Ordering};
        let executions = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = executions.clone();
        // LOCKSTEP_LOOM_EXTRA=N deepens every model by N preemptions (a longer, deeper run).
        let extra: usize = std::env::var("LOCKSTEP_LOOM_EXTRA").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        let preemptions = preemptions + extra;
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(preemptions);
        builder.check(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            model();
        });
        println!("loom explored {} executions (preemption bound {preemptions})", executions.load(Ordering::Relaxed));
    }
    #[cfg(not(loom))]
    {
        let _ = preemptions;
        for _ in 0..SMOKE_RUNS {
            model();
        }
    }
}

/// Repetitions of a model on real threads when loom is off.
#[cfg(not(loom))]
pub const SMOKE_RUNS: usize = 300;
