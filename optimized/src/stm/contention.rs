//! Contention management: what a thread does after an abort, and how long its next
//! transaction is. Kept apart from the protocol because it is policy: it can change without
//! touching the correctness argument.
//!
//! Progress (`STM.md`, [stm.progress]): an optimistic transaction aborts only because another
//! one committed, so the system as a whole always progresses (no livelock). A thread that
//! aborts `escalate_after` times in a row retries inevitable: it takes a FIFO ticket for the
//! token, and an inevitable transaction never aborts, so no transaction starves.

use super::sync::backoff;

/// Tuning of [`Contention`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive aborts after which the retry is inevitable (the K of the issue).
    pub escalate_after: u32,
    /// Longest transaction, in segments (coalescing grows up to this).
    pub max_segments: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { escalate_after: 8, max_segments: 1 << 12 }
    }
}

/// How to retry after an abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Optimistically again (after a backoff already spent by [`Contention::on_abort`]).
    Normal,
    /// As an inevitable transaction (`Transaction::begin_inevitable`).
    Inevitable,
}

/// One thread's contention state.
#[derive(Clone, Debug)]
pub struct Contention {
    policy: Policy,
    aborts_in_row: u32,
    segments: u32,
}

impl Contention {
    pub fn new(policy: Policy) -> Contention {
        Contention { policy, aborts_in_row: 0, segments: 1 }
    }

    /// How many segments the next transaction should coalesce (atomic blocks are one segment
    /// whatever this says; a transaction may also end early, e.g. at a blocking join).
    pub fn target_segments(&self) -> u32 {
        self.segments
    }

    /// After a commit: grow the next transaction (as PyPy's check interval did).
    pub fn on_commit(&mut self) {
        self.aborts_in_row = 0;
        self.segments = (self.segments.saturating_mul(2)).min(self.policy.max_segments.max(1));
    }

    /// After an abort: shrink to one segment, back off (randomized by the thread's abort
    /// count), and say how to retry.
    pub fn on_abort(&mut self) -> Retry {
        self.aborts_in_row = self.aborts_in_row.saturating_add(1);
        self.segments = 1;
        if self.aborts_in_row >= self.policy.escalate_after {
            self.aborts_in_row = 0;
            return Retry::Inevitable;
        }
        backoff(1 << self.aborts_in_row.min(12));
        Retry::Normal
    }
}
