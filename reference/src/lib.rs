//! `lockstep-reference`: the reference interpreter, the executable meaning of every lockstep
//! program.
//!
//! It is written to be read next to the spec (`spec/values.md`, `spec/semantics.md`,
//! `spec/concurrency.md`): each rule is cited where it is implemented (`// [exec.aget]`), there
//! is no cache, no unsafe code and no cleverness. It is the oracle the optimized engine and the
//! JIT are checked against, so it is kept free of asymptotic blow-ups but not tuned further.
//!
//! Modules: `value` (values, display, equality, ordering), `arith` (operand-only
//! instructions), `machine` (threads, frames, segments, every other instruction), `scheduler`
//! (round-robin, seeded and replayed scheduling decisions), `fault` (a trap before it has a
//! location).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod arith;
mod fault;
mod machine;
mod scheduler;
mod value;

#[cfg(test)]
mod tests;

use lockstep_spec::host::{Interrupt, Sink};
use lockstep_spec::limits;
use lockstep_spec::outcome::Outcome;
use lockstep_spec::schedule::Schedule;
use lockstep_spec::{Module, VerifiedModule};
use std::fmt;

/// How to run a program.
#[derive(Clone, Debug)]
pub struct Config {
    /// The fuel each thread starts with (`spec/limits.md`).
    pub fuel: u64,
    /// Which thread runs each segment: round-robin (the default), seeded, or a replay.
    pub scheduler: Scheduler,
    /// The program's arguments, given to a main function of arity 1 as an array of strings.
    pub args: Vec<Vec<u8>>,
    /// Record the schedule in the outcome (the default). A long multithreaded run under
    /// round-robin has one entry per segment; a caller that needs no schedule saves that
    /// memory with `false`, and the outcome's schedule is then empty.
    pub record_schedule: bool,
    /// Where guest output goes (captured in the outcome by default).
    pub stdout: Stdout,
    /// The run stops with [`RunError::OutOfMemory`] when its strings, arrays and objects hold
    /// more than this many bytes ([limit.memory]).
    pub max_heap_bytes: usize,
    /// A flag another host thread may set to stop the run ([`RunError::Interrupted`]); looked at
    /// after every instruction that ends a segment or jumps backward.
    pub interrupt: Option<Interrupt>,
}

/// Where a run's guest output goes.
#[derive(Clone, Debug)]
pub enum Stdout {
    /// Into `Outcome::stdout` (tests compare it).
    Capture,
    /// Straight to the process's stdout as the program prints (buffered); `Outcome::stdout`
    /// stays empty. A long-running program's output then appears as it runs and does not
    /// accumulate in memory.
    Inherit,
    /// To this writer, as for `Inherit`.
    Writer(Sink),
}

impl Default for Config {
    fn default() -> Config {
        Config {
            fuel: limits::DEFAULT_FUEL,
            scheduler: Scheduler::RoundRobin,
            args: Vec::new(),
            record_schedule: true,
            stdout: Stdout::Capture,
            max_heap_bytes: 4 << 30,
            interrupt: None,
        }
    }
}

/// Which thread runs each segment (`spec/concurrency.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// Threads in creation order, one segment each in turn.
    RoundRobin,
    /// Pseudo-random choices from SplitMix64 seeded with this number.
    Seed(u64),
    /// Exactly the segments a schedule file lists.
    Replay(Schedule),
}

/// A run that could not happen as asked. Not a guest trap (those are outcomes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// Input was invalid: the replayed schedule does not fit the program's run
    /// (`[schedule.diverged]`).
    ScheduleDiverged {
        /// The 1-based number of the schedule entry at fault (counting entries, not lines).
        entry: usize,
        /// What did not fit, one of the five cases of [schedule.diverged].
        message: String,
    },
    /// A limit was reached: the heap outgrew `Config::max_heap_bytes` ([limit.memory]).
    OutOfMemory {
        /// The limit that was exceeded, `Config::max_heap_bytes`.
        limit_bytes: usize,
    },
    /// With `Stdout::Inherit`: the process's stdout refused the program's output (a closed pipe,
    /// a full disk). The run stops at the instruction whose output could not be written (or,
    /// output being buffered, up to 64 KiB later), since output nobody receives is not worth
    /// running on for, and a program printing forever into a closed pipe would never end.
    OutputFailed {
        /// The kind of the writer's error (`BrokenPipe` for a closed pipe).
        kind: std::io::ErrorKind,
        /// The writer's error in words.
        message: String,
    },
    /// The host set `Config::interrupt`: the run stopped where it was (its output so far was
    /// delivered) and has no outcome.
    Interrupted,
}

impl RunError {
    #[cold]
    pub(crate) fn diverged(entry: usize, message: String) -> RunError {
        RunError::ScheduleDiverged { entry, message }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::ScheduleDiverged { entry, message } => {
                write!(f, "schedule diverged at entry {entry}: {message}")
            }
            RunError::OutOfMemory { limit_bytes } => {
                write!(f, "out of memory: the heap would exceed its limit of {limit_bytes} bytes")
            }
            RunError::OutputFailed { message, .. } => write!(f, "cannot write the program's output: {message}"),
            RunError::Interrupted => f.write_str("the run was interrupted"),
        }
    }
}

impl std::error::Error for RunError {}

/// Runs a verified program to its outcome.
pub fn run(module: &VerifiedModule, config: &Config) -> Result<Outcome, RunError> {
    run_module(module.module(), config)
}

/// Runs a module that satisfies every verifier rule (the unit tests build such modules by
/// hand; everyone else goes through [`run`]).
fn run_module(module: &Module, config: &Config) -> Result<Outcome, RunError> {
    machine::Machine::new(module, config).run(&config.scheduler)
}
