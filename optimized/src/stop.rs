//! Why the interpreter handed a thread back to its driver (the `--stm=off` scheduler in
//! `sched.rs` or a parallel worker in `par.rs`). A JIT's compiled code leaves with the same
//! reasons, after storing the pc of the op it did not execute in the thread's top frame
//! (`DESIGN.md`, "Entering and leaving the interpreter").

use crate::heap::OutOfMemory;
use crate::stm::Abort;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The budget of segments is used up; the thread can continue (its next instruction is
    /// not a `join`).
    Boundary,
    /// As `Boundary`, with a `join` next: whether the thread can continue depends on the
    /// joined thread (the scheduler looks).
    BeforeJoin,
    /// The thread finished or trapped.
    Ended,
    /// The thread's next instruction is a `join` on a thread that has not ended.
    Blocked,
    /// (Parallel runs) The transaction must roll back: a read no longer holds.
    Aborted(Abort),
    /// (Parallel runs) The run is over; the thread is abandoned where it is.
    Abandoned,
}

/// Why a run cannot go on, for a reason outside the program's semantics (the run ends with the
/// matching [`crate::RunError`]).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The heap outgrew `Config::max_heap_bytes`.
    OutOfMemory,
    /// Streamed output could not be written to stdout (a closed pipe, a full disk): output that
    /// nobody receives is not worth running on for, and a program printing forever into a closed
    /// pipe would never end.
    Output(std::io::Error),
    /// The OS refused to start a thread for a guest thread.
    #[cfg_attr(loom, allow(dead_code))] // (parallel runs are not built under loom)
    ThreadStart(std::io::Error),
    /// The host set `Config::interrupt`.
    Interrupted,
}

impl From<OutOfMemory> for Failure {
    fn from(_: OutOfMemory) -> Failure {
        Failure::OutOfMemory
    }
}

impl Failure {
    pub fn into_run_error(self, config: &crate::Config) -> crate::RunError {
        match self {
            Failure::OutOfMemory => crate::RunError::OutOfMemory { limit_bytes: config.max_heap_bytes },
            Failure::Output(e) => crate::RunError::OutputFailed { kind: e.kind(), message: e.to_string() },
            Failure::ThreadStart(e) => crate::RunError::ThreadStartFailed { message: e.to_string() },
            Failure::Interrupted => crate::RunError::Interrupted,
        }
    }
}
