//! The retry loop in one place: run a body as a transaction until it commits, following the
//! contention policy. The interpreter cannot use it as is (its "body" is guest code resumed
//! from saved registers), but it is the reference for what the interpreter's loop must do,
//! and the stress tests and loom models use it.

use super::{Abort, CommitInfo, Contention, Retry, Stm, Transaction, TxThread};

/// Runs `body` until a transaction of it commits; returns its result and commit info.
/// `wait` is called while waiting for the inevitable token (poll the safepoint there).
pub fn atomically<'s, 'w, R>(
    stm: &'s Stm,
    th: &mut TxThread,
    cm: &mut Contention,
    wait: &mut dyn FnMut(),
    mut body: impl FnMut(&mut Transaction<'s, 'w>) -> Result<R, Abort>,
) -> (R, CommitInfo) {
    let mut retry = Retry::Normal;
    loop {
        let mut tx = match retry {
            Retry::Normal => Transaction::begin(stm, th),
            Retry::Inevitable => Transaction::begin_inevitable(stm, th, wait),
        };
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
            Err(_) => retry = cm.on_abort(),
        }
    }
}
