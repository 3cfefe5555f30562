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
    /// How far `segments` may grow: halved from the length that aborted, regrown by one per
    /// commit (AIMD, as TCP's window). Under steady conflicts at scattered words (a shared tree) the length settles
    /// where aborts stay cheap, instead of doubling back to the maximum after every abort and
    /// losing hundreds of segments each time; without conflicts it stays at the maximum.
    ceiling: u32,
    /// Addresses of words recent aborts were blamed on (0: none), and the commits left before
    /// they are forgotten.
    hot_words: HotWords,
    hot: u32,
    /// The last abort was blamed on a word that was already hot.
    known_hot: bool,
    /// How the next attempt starts (`Contention::begin` in `retry.rs`).
    pub(super) next: Retry,
}

/// Words that recently caused conflicts.
pub type HotWords = [usize; 4];

/// Commits without an abort after which the hot words are forgotten.
const HOT_COMMITS: u32 = 1024;

impl Contention {
    /// A thread's state before its first transaction: no aborts, transactions one segment
    /// long, free to grow to `policy.max_segments`.
    pub fn new(policy: Policy) -> Contention {
        Contention {
            policy,
            aborts_in_row: 0,
            segments: 1,
            ceiling: policy.max_segments.max(1),
            hot_words: [0; 4],
            hot: 0,
            known_hot: false,
            next: Retry::Normal,
        }
    }

    /// How many segments the next transaction should coalesce (atomic blocks are one segment
    /// whatever this says; a transaction may also end early, e.g. at a blocking join).
    pub fn target_segments(&self) -> u32 {
        self.segments
    }

    /// Words whose write should end the transaction at the next boundary. A word that keeps
    /// causing conflicts (a shared queue's head, a counter) is then published as soon as it is
    /// written, instead of staying exposed, with all the work coalesced after it, until the
    /// transaction's length runs out. Only those words: ending after every write would commit
    /// far more often, and under NOrec every commit makes the other threads revalidate (a
    /// shared tree's inserts conflict at scattered words and got slower that way).
    pub fn hot_words(&self) -> HotWords {
        self.hot_words
    }

    /// Records the word an abort was blamed on (0: none) as hot. Call it before
    /// [`Self::on_abort`]: a conflict on a word already hot is left to the hot-word policy and
    /// does not lower the ceiling (a shared queue's head would otherwise keep every
    /// transaction short, work included).
    pub fn note_conflict(&mut self, word: usize) {
        self.known_hot = word != 0 && self.hot_words.contains(&word);
        if word != 0 && !self.known_hot {
            self.hot_words.rotate_right(1);
            self.hot_words[0] = word;
        }
        self.hot = HOT_COMMITS;
    }

    /// After a commit: grow the next transaction (as PyPy's check interval did).
    pub fn on_commit(&mut self) {
        self.next = Retry::Normal;
        self.aborts_in_row = 0;
        if self.hot > 0 {
            self.hot -= 1;
            if self.hot == 0 {
                self.hot_words = [0; 4];
            }
        }
        let max = self.policy.max_segments.max(1);
        self.ceiling = (self.ceiling.saturating_add(1)).min(max);
        self.segments = (self.segments.saturating_mul(2)).min(self.ceiling);
    }

    /// After an abort: shrink to one segment, back off (randomized by the thread's abort
    /// count), and say how to retry.
    pub fn on_abort(&mut self) -> Retry {
        self.aborts_in_row = self.aborts_in_row.saturating_add(1);
        if !std::mem::take(&mut self.known_hot) {
            self.ceiling = (self.segments / 2).max(1);
        }
        self.segments = 1;
        self.next = if self.aborts_in_row >= self.policy.escalate_after {
            self.aborts_in_row = 0;
            Retry::Inevitable
        } else {
            backoff(1 << self.aborts_in_row.min(12));
            Retry::Normal
        };
        self.next
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Blamed words become hot, each once, the latest four kept; they are forgotten after
    /// `HOT_COMMITS` commits without a conflict, and a conflict restarts that count.
    #[test]
    fn hot_words_come_from_conflicts_and_cool_down() {
        let mut cm = Contention::new(Policy::default());
        assert_eq!(cm.hot_words(), [0; 4]);
        for w in [8, 16, 8, 0, 24, 32, 40] {
            cm.note_conflict(w);
        }
        assert_eq!(cm.hot_words(), [40, 32, 24, 16]);
        for _ in 1..HOT_COMMITS {
            cm.on_commit();
        }
        cm.note_conflict(48);
        for _ in 1..HOT_COMMITS {
            cm.on_commit();
        }
        assert_eq!(cm.hot_words(), [48, 40, 32, 24]);
        cm.on_commit();
        assert_eq!(cm.hot_words(), [0; 4]);
    }

    /// An abort on a new word halves how far the length may grow back, which then regrows by
    /// one per commit; an abort on a word already hot leaves that ceiling alone.
    #[test]
    fn aborts_on_new_words_lower_the_ceiling() {
        let mut cm = Contention::new(Policy { escalate_after: 100, max_segments: 1024 });
        let commits = |cm: &mut Contention, n: usize| {
            for _ in 0..n {
                cm.on_commit();
            }
            cm.target_segments()
        };
        assert_eq!(commits(&mut cm, 10), 1024);
        cm.note_conflict(8);
        cm.on_abort();
        assert_eq!(cm.target_segments(), 1);
        // Doubling reaches 512 after 9 commits; the ceiling, 512 + 1 per commit, then binds.
        assert_eq!(commits(&mut cm, 10), 522);
        cm.note_conflict(8);
        cm.on_abort();
        assert_eq!(commits(&mut cm, 10), 532);
        cm.note_conflict(16);
        cm.on_abort();
        assert_eq!(commits(&mut cm, 9), 532 / 2 + 9);
    }
}
