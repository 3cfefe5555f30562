//! The multithreaded examples under several schedules: round-robin, seeds, a hand-written
//! replay file, and replays of recorded schedules. Each prints the same under every schedule
//! (their headers say why); a replay file that does not fit gives the divergence error.

use lockstep_spec::outcome::End;
use lockstep_tests::{example_programs, load, replay_on_reference, repo_root, Engine, RunSettings};

mod common;
use common::spawns;

fn settings(n: &str, schedule: &str) -> RunSettings {
    RunSettings { args: vec![n.to_string()], schedule: Some(schedule.to_string()), ..RunSettings::default() }
}

#[test]
fn parallel_sum_gives_the_same_sum_under_every_schedule() {
    let program = load(&repo_root().join("examples/parallel_sum.lsa"));
    let mut schedules = vec!["round-robin".to_string()];
    schedules.extend((0..16).map(|seed| format!("seed:{seed}")));
    let mut distinct = std::collections::BTreeSet::new();
    for schedule in &schedules {
        for &engine in Engine::ALL.iter().filter(|e| e.follows_schedules()) {
            let outcome = engine.run_with(&program, &settings("3000", schedule)).unwrap();
            assert_eq!(outcome.stdout, b"4498500\n", "{schedule} on {engine:?}");
            assert!(
                matches!(outcome.end, End::Finished { ref value } if *value == lockstep_spec::outcome::Value::Int(4_498_500))
            );
            distinct.insert(outcome.schedule.to_text());
        }
    }
    // Engines that choose their own schedule: the same sum, and the reference replaying what
    // they recorded agrees with them.
    for &engine in Engine::ALL.iter().filter(|e| !e.follows_schedules()) {
        let run = settings("3000", "round-robin");
        let outcome = engine.run_with(&program, &run).unwrap();
        assert_eq!(outcome.stdout, b"4498500\n", "{engine:?}");
        replay_on_reference(&program, &run, &outcome).unwrap_or_else(|e| panic!("{engine:?}: {e}"));
    }
    // The seeds really interleave differently; otherwise this test would show nothing.
    assert!(distinct.len() > 10, "only {} distinct schedules", distinct.len());
}

#[test]
fn parallel_sum_follows_the_hand_written_replay_file() {
    let program = load(&repo_root().join("examples/parallel_sum.lsa"));
    let outcome =
        Engine::Reference.run_with(&program, &settings("10", "replay:examples/parallel_sum.schedule")).unwrap();
    assert_eq!(outcome.stdout, b"45\n");
    let text = std::fs::read_to_string(repo_root().join("examples/parallel_sum.schedule")).unwrap();
    let written = lockstep_spec::schedule::Schedule::parse(&text).unwrap();
    assert_eq!(outcome.schedule, written, "the run must follow the file exactly");
}

#[test]
fn a_replay_file_that_does_not_fit_diverges_instead_of_crashing() {
    let program = load(&repo_root().join("examples/parallel_sum.lsa"));
    // The file is written for N = 10; with N = 12 the workers need more segments.
    let err =
        Engine::Reference.run_with(&program, &settings("12", "replay:examples/parallel_sum.schedule")).unwrap_err();
    assert!(err.contains("schedule diverged at entry 4"), "{err}");
}

#[test]
fn every_recorded_schedule_replays_to_the_same_outcome() {
    let program = load(&repo_root().join("examples/parallel_sum.lsa"));
    for seed in 0..8 {
        let first = Engine::Reference.run_with(&program, &settings("500", &format!("seed:{seed}"))).unwrap();
        let config = lockstep_reference::Config {
            scheduler: lockstep_reference::Scheduler::Replay(first.schedule.clone()),
            args: vec![b"500".to_vec()],
            ..Default::default()
        };
        let again = lockstep_reference::run(&program.module, &config).unwrap();
        assert!(again.same_behaviour(&first), "seed {seed}");
        assert_eq!(again.schedule, first.schedule, "seed {seed}");
    }
}

#[test]
fn every_multithreaded_example_prints_its_output_under_round_robin_and_sixteen_seeds() {
    let mut checked = 0;
    for path in example_programs() {
        let program = load(&path);
        if !spawns(&program) {
            continue;
        }
        checked += 1;
        let expected = std::fs::read(path.with_extension("stdout")).unwrap();
        let mut distinct = std::collections::BTreeSet::new();
        for schedule in std::iter::once("round-robin".to_string()).chain((0..16).map(|seed| format!("seed:{seed}"))) {
            let run = RunSettings { schedule: Some(schedule.clone()), ..RunSettings::default() };
            let outcome = Engine::Reference.run_with(&program, &run).unwrap();
            assert!(
                matches!(outcome.end, End::Finished { .. }) && outcome.stdout == expected,
                "{} under {schedule}: printed {:?}, ended {:?}",
                path.display(),
                String::from_utf8_lossy(&outcome.stdout),
                outcome.end
            );
            distinct.insert(outcome.schedule.to_text());
        }
        assert!(distinct.len() > 10, "{}: only {} distinct schedules", path.display(), distinct.len());
    }
    assert!(checked >= 4, "expected parallel_sum, bank, counter and pipeline, found {checked}");
}
