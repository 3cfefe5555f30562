//! The one piece of global STM state: the commit clock, a NOrec sequence lock that also carries
//! the inevitable token, and the ticket queue that hands the token out in FIFO order.
//!
//! One word holds the lock, the token and the commit count so that a committer and a thread
//! becoming inevitable decide with one read-modify-write each on the same location: no
//! store-then-load (Dekker) pattern, whose correctness would rest on SeqCst, which loom cannot
//! check (it models SeqCst as AcqRel).

use super::sync::{AtomicU64, Ordering, Spin};

/// Clock bit: a commit is writing back; readers must not trust memory until it clears.
pub(crate) const WRITING: u64 = 1;
/// Clock bit: the inevitable token is held; no other commit may start.
pub(crate) const INEVITABLE: u64 = 2;
/// The commit counter counts in units of this (bits 2..).
pub(crate) const UNIT: u64 = 4;

/// The shared state of one run's transactions. One per run, shared by every OS thread.
pub struct Stm {
    /// Commit count × [`UNIT`] | [`INEVITABLE`] | [`WRITING`].
    pub(crate) clock: AtomicU64,
    /// Next inevitable ticket to hand out.
    pub(crate) inev_next: AtomicU64,
    /// Ticket allowed to take the token now.
    pub(crate) inev_serving: AtomicU64,
}

impl Default for Stm {
    fn default() -> Stm {
        Stm::new()
    }
}

impl Stm {
    /// A run's state before any transaction: no commits, the inevitable token free.
    pub fn new() -> Stm {
        Stm { clock: AtomicU64::new(0), inev_next: AtomicU64::new(0), inev_serving: AtomicU64::new(0) }
    }

    /// Writer transactions committed so far (the serial of the last one).
    pub fn commits(&self) -> u64 {
        self.clock.load(Ordering::Acquire) / UNIT
    }

    /// Whether some transaction holds the inevitable token now (a hint: it may change at once).
    pub fn inevitable_held(&self) -> bool {
        self.clock.load(Ordering::Relaxed) & INEVITABLE != 0
    }

    /// The clock once no write-back is in flight, without the token bit: a snapshot.
    pub(crate) fn stable_snapshot(&self) -> u64 {
        let mut spin = Spin::default();
        loop {
            let c = self.clock.load(Ordering::Acquire);
            if c & WRITING == 0 {
                return c & !INEVITABLE;
            }
            spin.wait();
        }
    }

    /// Takes a ticket and waits for it, calling `wait` between checks (the caller polls the
    /// safepoint there: this wait happens at a transaction boundary), then takes the token.
    pub(crate) fn acquire_token_queued(&self, wait: &mut dyn FnMut()) {
        if !mutant!(second_inevitable) {
            let ticket = self.inev_next.fetch_add(1, Ordering::Relaxed);
            let mut spin = Spin::default();
            while self.inev_serving.load(Ordering::Acquire) != ticket {
                wait();
                spin.wait();
            }
        }
        self.take_token();
    }

    /// Takes the token if nobody holds or waits for it (never blocks: used mid-transaction,
    /// where waiting could stall a safepoint).
    pub(crate) fn try_acquire_token(&self) -> bool {
        if !mutant!(second_inevitable) {
            let serving = self.inev_serving.load(Ordering::Acquire);
            if self.inev_next.compare_exchange(serving, serving + 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
                return false;
            }
        }
        self.take_token();
        true
    }

    /// Sets the token bit (our ticket is being served, so the previous holder cleared it) and
    /// waits for a write-back that began before it to finish.
    fn take_token(&self) {
        let prev = self.clock.fetch_or(INEVITABLE, Ordering::AcqRel);
        debug_assert!(
            mutant!(second_inevitable) || prev & INEVITABLE == 0,
            "the ticket queue admitted a second inevitable transaction"
        );
        let mut spin = Spin::default();
        while self.clock.load(Ordering::Acquire) & WRITING != 0 {
            spin.wait();
        }
    }

    /// Gives the token back without committing anything.
    pub(crate) fn release_token(&self) {
        self.clock.fetch_and(!INEVITABLE, Ordering::Release);
        self.next_ticket();
    }

    pub(crate) fn next_ticket(&self) {
        if !mutant!(second_inevitable) {
            self.inev_serving.fetch_add(1, Ordering::Release);
        }
    }
}
