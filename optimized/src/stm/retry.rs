//! The retry loop in one place. [`Contention::begin`] starts every attempt as the contention
//! policy says (optimistic, or inevitable after too many aborts in a row), and
//! `Contention::on_commit` / `on_abort` decide the next one; [`atomically`] is the loop for a
//! transaction body written in Rust (the stress tests and loom models use it). The parallel
//! interpreter's driver (`par.rs`) runs the same steps around guest code, whose "body" is
//! resumed from saved registers and whose commit publishes output through a hook: begin with
//! `Contention::begin`, then `on_commit` or `note_conflict` + `on_abort`, nothing else.

use super::{Abort, CommitInfo, Contention, Retry, Stm, Transaction, TxThread};

impl Contention {
    /// Begins this thread's next attempt: optimistic, or inevitable when the last abort asked
    /// for it (`wait` is called while waiting for the token: poll the safepoint there).
    pub fn begin<'s, 'w>(&self, stm: &'s Stm, th: &mut TxThread, wait: &mut dyn FnMut()) -> Transaction<'s, 'w> {
        match self.next {
            Retry::Normal => Transaction::begin(stm, th),
            Retry::Inevitable => Transaction::begin_inevitable(stm, th, wait),
        }
    }

    /// Makes the next attempt inevitable (it needs the token: a transaction that must deliver
    /// output before its end).
    pub fn retry_inevitable(&mut self) {
        self.next = Retry::Inevitable;
    }

    /// Whether the next attempt will be inevitable.
    pub fn next_is_inevitable(&self) -> bool {
        self.next == Retry::Inevitable
    }
}

/// Runs `body` until a transaction of it commits; returns its result and commit info.
/// `wait` is called while waiting for the inevitable token (poll the safepoint there).
pub fn atomically<'s, 'w, R>(
    stm: &'s Stm,
    th: &mut TxThread,
    cm: &mut Contention,
    wait: &mut dyn FnMut(),
    mut body: impl FnMut(&mut Transaction<'s, 'w>) -> Result<R, Abort>,
) -> (R, CommitInfo) {
    loop {
        let mut tx = cm.begin(stm, th, wait);
        let outcome = match body(&mut tx) {
            Ok(r) => tx.commit(th).map(|info| (r, info)),
            Err(abort) => {
                tx.abort(th);
                Err(abort)
            }
        };
        match outcome {
            Ok(done) => {
                cm.on_commit();
                return done;
            }
            Err(abort) => {
                cm.note_conflict(abort.word);
                cm.on_abort();
            }
        }
    }
}
