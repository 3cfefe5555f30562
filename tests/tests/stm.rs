//! The parallel engine (`Engine::Optimized`: guest threads on OS threads under the STM) run
//! many times on every multithreaded example (every `examples/*.lsa` with a `spawn`), and on a
//! few high-contention variants of them. Its schedule is whatever the hardware did, so each run
//! is checked on its own: it must print exactly the example's output (which is the same under
//! every schedule), and the reference, replaying the schedule the run recorded, must reach the
//! identical outcome (the schedule-replay oracle, what `lockstep diff` checks).
//!
//! A failure names the example, its arguments and the run, and shows the recorded schedule
//! (written whole to `target/schedule-failures/` when long; `lockstep run --schedule
//! replay:FILE` replays it). Each program prints how many distinct schedules its runs
//! recorded (`-- --nocapture`); nothing is asserted about that number, since on a loaded
//! machine with few cores the parallel engine may well repeat one schedule.
//!
//! Every other run (the even-numbered ones) is under `--stm-stress=RUN` (`Config::stm_stress`):
//! transactions of a few segments and random pauses before transactions and commits, so that
//! the threads' transactions overlap and conflict (20-60% of attempts abort on the contended
//! variants, against 0-5% otherwise; tests/README.md). The odd runs are as users run the engine.
//!
//! `LOCKSTEP_STM_RUNS=N` sets the number of runs per program (default 50).

use lockstep_spec::outcome::End;
use lockstep_spec::program::Program;
use lockstep_tests::{example_programs, load, repo_root, Engine, RunSettings};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Instant;

mod common;
use common::{replays_on_reference, show_schedule, spawns};

fn runs() -> usize {
    std::env::var("LOCKSTEP_STM_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(50)
}

/// Runs `program` with `args` on the parallel engine `runs` times, checking each run; returns
/// the first failure, if any. `name` names the program in messages and schedule files.
fn check_runs(name: &str, program: &Program, args: &[&str], expected: &[u8], runs: usize) -> Result<(), String> {
    let plain = RunSettings { args: args.iter().map(|a| a.to_string()).collect(), ..RunSettings::default() };
    let mut schedules = HashSet::new();
    let start = Instant::now();
    for run in 1..=runs {
        let stress = (run % 2 == 0).then_some(run as u64);
        let settings = RunSettings { stm_stress: stress, ..plain.clone() };
        let stressed = stress.map(|s| format!(", --stm-stress={s}")).unwrap_or_default();
        let what = format!("{name} {args:?}, run {run} of {runs}{stressed}");
        let file = format!("{name}-{}-run-{run}", args.join("-"));
        let outcome =
            Engine::Optimized.run_with(program, &settings).map_err(|e| format!("{what}: the run failed: {e}"))?;
        if !matches!(outcome.end, End::Finished { .. }) || outcome.stdout != expected {
            return Err(format!(
                "{what}: printed {:?} and ended {:?}, expected {:?}\n{}",
                String::from_utf8_lossy(&outcome.stdout),
                outcome.end,
                String::from_utf8_lossy(expected),
                show_schedule(&outcome, &file)
            ));
        }
        replays_on_reference(program, &settings, &outcome, &file).map_err(|e| format!("{what}: {e}"))?;
        let mut hasher = DefaultHasher::new();
        for entry in &outcome.schedule.entries {
            (&entry.thread, entry.segments).hash(&mut hasher);
        }
        schedules.insert(hasher.finish());
    }
    println!(
        "{name} {args:?}: {runs} runs in {:.2} s, {} distinct schedules",
        start.elapsed().as_secs_f64(),
        schedules.len()
    );
    Ok(())
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_multithreaded_example_prints_its_output_and_replays_on_the_reference_run_after_run() {
    let examples: Vec<_> =
        example_programs().into_iter().map(|path| (load(&path), path)).filter(|(p, _)| spawns(p)).collect();
    assert!(examples.len() >= 4, "expected parallel_sum, bank, counter and pipeline, found {}", examples.len());
    let mut failures = Vec::new();
    for (program, path) in &examples {
        let expected = std::fs::read(path.with_extension("stdout")).unwrap();
        if let Err(e) = check_runs(&stem(path), program, &[], &expected, runs()) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// More threads than cores, few accounts, small chunks: many conflicting transactions. The
/// expected output is the reference's under round-robin (these programs print the same under
/// every schedule, see their headers).
const CONTENDED: &[(&str, &[&str])] = &[
    ("counter", &["8", "500"]),
    // Long enough that two OS threads overlap for many transactions even on a loaded 2-core
    // machine: this is the case that catches the planted STM bugs (tests/run-mutants).
    ("counter", &["2", "60000"]),
    ("bank", &["8", "300", "2"]),
    ("bank", &["3", "500", "1"]),
    ("pipeline", &["40", "7"]),
    ("parallel_sum", &["5000"]),
];

#[test]
fn high_contention_variants_print_the_reference_output_and_replay_on_it_run_after_run() {
    let mut failures = Vec::new();
    for &(name, args) in CONTENDED {
        let program = load(&repo_root().join("examples").join(format!("{name}.lsa")));
        let expected = Engine::Reference.run(&program, args);
        assert!(
            matches!(expected.end, End::Finished { .. }),
            "{name} {args:?} on the reference: {}",
            expected.to_json()
        );
        if let Err(e) = check_runs(name, &program, args, &expected.stdout, runs()) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
