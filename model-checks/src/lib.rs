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
/// bound; each extra preemption multiplies the number of executions; `bound` says how the
/// environment changes it, and the run prints the bound it used), or, without loom,
/// `SMOKE_RUNS` times on OS threads.
pub fn check<F>(preemptions: usize, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    #[cfg(loom)]
    {
        // A std counter, invisible to loom: how many executions the bound allowed (README.md
        // records them).
        use std::sync::atomic::{AtomicUsize, Ordering};
        let executions = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = executions.clone();
        let (preemptions, from) = bound(preemptions);
        // The test harness names the thread after the test: the model.
        let name = std::thread::current().name().unwrap_or("model").to_string();
        // Written to stderr itself, not through `eprintln!`, which the test harness captures:
        // every run says what each model explores, as it starts (a deep run takes long) and as
        // it ends.
        use std::io::Write;
        let say = |line: String| {
            let _ = writeln!(std::io::stderr(), "{line}");
        };
        say(format!("{name}: preemption bound {preemptions} ({from})"));
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(preemptions);
        builder.check(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            model();
        });
        say(format!(
            "{name}: loom explored {} executions with preemption bound {preemptions}",
            executions.load(Ordering::Relaxed)
        ));
    }
    #[cfg(not(loom))]
    {
        let _ = preemptions;
        for _ in 0..SMOKE_RUNS {
            model();
        }
    }
}

/// The preemption bound a model runs with, and where it came from: `LOOM_MAX_PREEMPTIONS`
/// (loom's own variable) sets it for every model; otherwise the model's own bound, deepened by
/// `LOCKSTEP_LOOM_EXTRA` preemptions when that is set (a longer, deeper run). A value that is
/// not a number stops the run with a message rather than being ignored.
#[cfg(loom)]
fn bound(own: usize) -> (usize, String) {
    let read = |name: &str| {
        std::env::var(name).ok().map(|v| {
            v.trim().parse::<usize>().unwrap_or_else(|_| panic!("{name}={v:?}: expected a number of preemptions"))
        })
    };
    if let Some(n) = read("LOOM_MAX_PREEMPTIONS") {
        return (n, format!("LOOM_MAX_PREEMPTIONS; the model's own is {own}"));
    }
    match read("LOCKSTEP_LOOM_EXTRA") {
        Some(extra) => (own + extra, format!("the model's own {own} + LOCKSTEP_LOOM_EXTRA {extra}")),
        None => (own, "the model's own".to_string()),
    }
}

/// Repetitions of a model on real threads when loom is off.
#[cfg(not(loom))]
pub const SMOKE_RUNS: usize = 300;
