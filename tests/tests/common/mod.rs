//! Helpers shared by the suites in `tests/tests/` about multithreaded programs (`mod common;`).
#![allow(dead_code)] // each suite uses some of these helpers

use lockstep_spec::outcome::Outcome;
use lockstep_spec::program::Program;
use lockstep_spec::Opcode;
use lockstep_tests::{replay_on_reference, repo_root, RunSettings};

/// Whether any function of the program contains a `spawn`: a program without one has only the
/// main thread under every schedule.
pub fn spawns(program: &Program) -> bool {
    program.module.module().functions.iter().any(|f| f.code.iter().any(|i| i.opcode() == Opcode::Spawn))
}

/// The schedule-replay oracle on `outcome`; the error shows the recorded schedule (see
/// [`show_schedule`]) under the name `what`.
pub fn replays_on_reference(
    program: &Program,
    settings: &RunSettings,
    outcome: &Outcome,
    what: &str,
) -> Result<(), String> {
    replay_on_reference(program, settings, outcome).map_err(|e| format!("{e}\n{}", show_schedule(outcome, what)))
}

/// The schedule `outcome` recorded, for a failure message: the whole file when it is short;
/// otherwise its first lines, with the whole file written to
/// `target/schedule-failures/WHAT.schedule` (replay it with `lockstep run --schedule replay:FILE`).
pub fn show_schedule(outcome: &Outcome, what: &str) -> String {
    const SHOWN: usize = 40;
    let text = outcome.schedule.to_text();
    let lines = text.lines().count();
    if lines <= SHOWN {
        return format!("recorded schedule:\n{text}");
    }
    let dir = repo_root().join("target").join("schedule-failures");
    let name: String = what.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let file = dir.join(format!("{name}.schedule"));
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, &text));
    let place = match written {
        Ok(()) => format!("all of it in {}", file.display()),
        Err(e) => format!("could not write it to {}: {e}", file.display()),
    };
    let head: Vec<&str> = text.lines().take(SHOWN).collect();
    format!("recorded schedule ({lines} lines; {place}), first lines:\n{}\n...", head.join("\n"))
}
