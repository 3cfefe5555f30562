//! The differential checks themselves, shared by the properties (`tests/tests/differential.rs`),
//! the fuzz targets (`fuzz/`) and the regression replays, so that all three judge a program
//! the same way.

use crate::{replay_on_reference, Engine, RunSettings};
use lockstep_spec::outcome::Outcome;
use lockstep_spec::program::{Format, Program};
use lockstep_spec::VerifiedModule;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A verified module as a program (the generator makes modules, the engines run programs).
pub fn program(module: &VerifiedModule) -> Program {
    Program { module: module.clone(), format: Format::Binary, source_map: None }
}

/// The message of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".to_string())
}

/// Runs an engine, turning a panic into an error message.
pub fn run(engine: Engine, program: &Program, settings: &RunSettings) -> Result<Outcome, String> {
    catch_unwind(AssertUnwindSafe(|| engine.run_with(program, settings)))
        .unwrap_or_else(|p| Err(format!("{engine:?} panicked: {}", panic_message(p.as_ref()))))
}

/// What a check concluded about a program that did not fail it.
pub enum Verdict {
    /// The outcome every engine agreed on (or the reference's, for the thread check).
    Agreed(Vec<Outcome>),
    /// The optimized engine hit a host limit (heap exhaustion): the one divergence the spec
    /// allows, so the program says nothing (wasmtime's "poisoned" runs).
    HostLimit,
}

/// The optimized engine's three interpreters: parallel without barriers (a thread alone),
/// parallel with them, and serial.
const OPTIMIZED: [Engine; 3] = [Engine::Optimized, Engine::OptimizedBarriers, Engine::OptimizedSerial];

/// Single-threaded programs: the reference and each of the optimized engine's interpreters
/// behave identically (stdout, end, a trap's location, message and detail) and report the same
/// schedule.
pub fn engines_agree(program: &Program, settings: &RunSettings) -> Result<Verdict, String> {
    let reference = run(Engine::Reference, program, settings).map_err(|e| format!("reference: {e}"))?;
    for engine in OPTIMIZED {
        let optimized = match run(engine, program, settings) {
            Ok(o) => o,
            Err(e) if e.contains("panicked") => return Err(format!("{engine:?}: {e}")),
            // Heap exhaustion is the optimized engine's only run error.
            Err(_) => return Ok(Verdict::HostLimit),
        };
        if !reference.same_behaviour(&optimized) || reference.schedule != optimized.schedule {
            return Err(format!(
                "the engines disagree\nreference: {}\n{engine:?}: {}",
                reference.to_json(),
                optimized.to_json()
            ));
        }
    }
    Ok(Verdict::Agreed(vec![reference]))
}

/// Multithreaded programs: the optimized run's schedule, replayed on the reference, gives the
/// same outcome, for a run as users make it and for one under `--stm-stress=first_seed` (short
/// transactions and random pauses, so that the threads' transactions overlap and conflict:
/// without it a generated program's threads seldom overlap, and the planted STM bugs went
/// unnoticed in most runs); with `--stm=off` (every engine that follows round-robin) the optimized
/// engine's outcome is the reference's under round-robin, schedule included; and the reference under `seeds` schedule seeds (from
/// `first_seed` on) ends in a defined outcome that replaying its own recorded schedule
/// reproduces.
pub fn threads_agree(
    program: &Program,
    settings: &RunSettings,
    first_seed: u64,
    seeds: u64,
) -> Result<Verdict, String> {
    let optimized = match run(Engine::Optimized, program, settings) {
        Ok(o) => o,
        Err(e) if e.contains("panicked") => return Err(format!("optimized: {e}")),
        Err(_) => return Ok(Verdict::HostLimit),
    };
    replay_on_reference(program, settings, &optimized).map_err(|e| {
        format!(
            "the optimized engine's schedule replayed on the reference differs\n{e}\nschedule:\n{}",
            optimized.schedule.to_text()
        )
    })?;
    let stressed_settings = RunSettings { stm_stress: Some(first_seed), ..settings.clone() };
    let stressed = match run(Engine::Optimized, program, &stressed_settings) {
        Ok(o) => o,
        Err(e) if e.contains("panicked") => return Err(format!("optimized, --stm-stress={first_seed}: {e}")),
        Err(_) => return Ok(Verdict::HostLimit),
    };
    replay_on_reference(program, settings, &stressed).map_err(|e| {
        format!(
            "the schedule of the optimized engine under --stm-stress={first_seed}, replayed on the reference, \
             differs\n{e}\nschedule:\n{}",
            stressed.schedule.to_text()
        )
    })?;
    let mut outcomes = vec![optimized, stressed];
    let round_robin = RunSettings { schedule: Some("round-robin".into()), ..settings.clone() };
    let reference = run(Engine::Reference, program, &round_robin).map_err(|e| format!("reference: {e}"))?;
    let serial = Engine::ALL.iter().filter(|e| **e != Engine::Reference && e.follows_round_robin());
    for &engine in serial {
        match run(engine, program, &round_robin) {
            Err(e) if e.contains("panicked") => return Err(format!("{engine:?}: {e}")),
            Err(_) => return Ok(Verdict::HostLimit),
            Ok(o) if o != reference => {
                return Err(format!(
                    "round-robin: the reference and {engine:?} differ\nreference: {}\n{engine:?}: {}",
                    reference.to_json(),
                    o.to_json()
                ))
            }
            Ok(_) => {}
        }
    }
    outcomes.push(reference);
    for k in 0..seeds {
        let schedule = format!("seed:{}", first_seed.wrapping_add(k));
        let seeded = RunSettings { schedule: Some(schedule.clone()), ..settings.clone() };
        let outcome =
            run(Engine::Reference, program, &seeded).map_err(|e| format!("reference under {schedule}: {e}"))?;
        replay_on_reference(program, settings, &outcome).map_err(|e| {
            format!(
                "the reference does not reproduce its own run under {schedule}\n{e}\nschedule:\n{}",
                outcome.schedule.to_text()
            )
        })?;
        outcomes.push(outcome);
    }
    Ok(Verdict::Agreed(outcomes))
}
