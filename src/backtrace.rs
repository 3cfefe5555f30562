//! `run --backtrace` on the optimized engine: the call stack of a trap, and where a joined
//! thread trapped, from a replay on the reference interpreter.
//!
//! The optimized engine's trap records only where the trap happened (its interpreter's trap
//! record has no call stack and no joined thread's trap: `[exec.trap-report]` makes them
//! presentation, which an engine may leave out). Rather than make every run pay for them,
//! the CLI asks for them when the user does: the run records its schedule, and after a trap
//! the reference replays that schedule, which reproduces the run exactly (the differential
//! suites check that), and reports the rest. Without `--backtrace` a trap says how to get it.

use lockstep_spec::outcome::{End, TrapInfo};
use lockstep_spec::schedule::Schedule;
use lockstep_spec::verify::VerifiedModule;

/// What a trap report from the optimized engine says in place of the call stack.
pub const HOW_TO_GET: &str = "the optimized engine records no call stack: --backtrace shows it";

/// What the replay needs besides the module and the schedule: the run's settings.
pub struct Replay {
    pub fuel: u64,
    pub args: Vec<Vec<u8>>,
    pub max_heap: Option<usize>,
}

/// Fills in `trap`'s call stack and joined thread's trap from the reference's replay of
/// `schedule`. Returns a note for the report: empty when it worked, else why not.
pub fn complete(module: &VerifiedModule, replay: &Replay, schedule: &Schedule, trap: &mut TrapInfo) -> String {
    let mut config = lockstep_reference::Config {
        fuel: replay.fuel,
        scheduler: lockstep_reference::Scheduler::Replay(schedule.clone()),
        args: replay.args.clone(),
        record_schedule: false,
        stdout: lockstep_reference::Stdout::Capture,
        ..lockstep_reference::Config::default()
    };
    if let Some(limit) = replay.max_heap {
        config.max_heap_bytes = limit;
    }
    match lockstep_reference::run(module, &config) {
        Ok(outcome) => match outcome.end {
            End::Trapped(reference) if reference.same_trap(trap) => {
                trap.callers = reference.callers;
                trap.joined = reference.joined;
                String::new()
            }
            _ => "no call stack: the reference interpreter's replay of this run did not end in this trap (please report it: the engines disagree)".to_string(),
        },
        Err(e) => format!("no call stack: the reference interpreter could not replay this run: {e}"),
    }
}
