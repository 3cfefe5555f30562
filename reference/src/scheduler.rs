//! The scheduling decisions of `spec/concurrency.md`: which runnable thread runs the next
//! segment under round-robin, a seed, or a replayed schedule file.
//!
//! The machine computes the runnable threads (in creation order) and asks this module to
//! choose; replay also needs the machine to resolve thread ids, so it is a cursor over the
//! file's entries and the machine reports divergences.

use crate::RunError;
use lockstep_spec::schedule::{Schedule, ScheduleEntry, ThreadId};

/// SplitMix64 (Steele, Lea, Flood 2014), exactly as `[schedule.seed]` specifies.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Round-robin: the next runnable thread after the one that ran last, in creation order,
/// wrapping around (possibly the same thread); the first runnable thread at the start.
/// `runnable` holds thread indices in creation order and is not empty. [schedule.round-robin]
pub(crate) fn round_robin(last: Option<usize>, runnable: &[usize]) -> usize {
    let after = last.and_then(|l| runnable.iter().find(|&&t| t > l));
    *after.or(runnable.first()).unwrap_or(&0)
}

/// Seeded: one draw per decision, `next() % len`, indexing the runnable threads in creation
/// order; a draw is taken even when only one thread is runnable. [schedule.seed]
pub(crate) fn seeded(rng: &mut SplitMix64, runnable: &[usize]) -> usize {
    let len = runnable.len() as u64;
    let pick = if len == 0 { 0 } else { rng.next_u64() % len };
    runnable.get(pick as usize).copied().unwrap_or(0)
}

/// A cursor over a schedule file's entries, borrowed from the caller's [`Schedule`] (a replay
/// reads them and never changes them). [schedule.replay]
#[derive(Debug)]
pub(crate) struct Replay<'s> {
    entries: &'s [ScheduleEntry],
    /// Entries started so far; the current entry is `started - 1`.
    started: usize,
    /// Segments the current entry still asks for.
    remaining: u64,
}

impl<'s> Replay<'s> {
    pub fn new(schedule: &'s Schedule) -> Replay<'s> {
        Replay { entries: &schedule.entries, started: 0, remaining: 0 }
    }

    /// The 1-based number of the current entry (or of the missing one after the last).
    pub fn entry_number(&self) -> usize {
        self.started.max(1)
    }

    /// The thread the next segment must belong to, starting the next entry when the current
    /// one is used up; an error when the file has no entries left.
    pub fn next_thread(&mut self) -> Result<&'s ThreadId, RunError> {
        if self.remaining == 0 {
            let Some(entry) = self.entries.get(self.started) else {
                return Err(RunError::diverged(
                    self.started + 1,
                    "the schedule ended but the run did not (the main thread has not ended)".to_string(),
                ));
            };
            self.started += 1;
            self.remaining = entry.segments;
        }
        Ok(&self.entries[self.started - 1].thread)
    }

    /// Records that the current entry's thread ran `segments` more segments.
    pub fn ran_segments(&mut self, segments: u64) {
        self.remaining = self.remaining.saturating_sub(segments);
    }

    /// How many segments the current entry still asks for, and how many it asked for.
    pub fn progress(&self) -> (u64, u64) {
        let asked = self.started.checked_sub(1).and_then(|i| self.entries.get(i)).map_or(0, |e| e.segments);
        (self.remaining, asked)
    }

    /// After the run ended: an error when the file asks for more segments.
    pub fn finish(&self) -> Result<(), RunError> {
        if self.remaining > 0 {
            return Err(RunError::diverged(
                self.entry_number(),
                format!("the run ended with {} segment(s) of this entry not run", self.remaining),
            ));
        }
        if self.started < self.entries.len() {
            let n = self.entries.len() - self.started;
            return Err(RunError::diverged(
                self.started + 1,
                format!("the run ended but {n} schedule {} left", if n == 1 { "entry is" } else { "entries are" }),
            ));
        }
        Ok(())
    }
}
