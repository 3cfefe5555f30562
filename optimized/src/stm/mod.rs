//! The concurrency core of the optimized engine: software transactional memory (NOrec-style:
//! one global sequence lock held only for write-back, value-validated read logs, redo logs),
//! the inevitable token, contention management and the safepoint handshake for collections;
//! and the hand-off of compiled code from tier 2's compiler thread ([`handoff`]), the JIT's one
//! step across OS threads, here so that the same loom harness checks it.
//!
//! It is generic over "a word of shared memory" (`&sync::AtomicU64`) and `u64` values, so it
//! knows nothing of the heap layout, and it is written against the [`sync`] facade so that
//! `lockstep-model-checks` runs this very code under loom. `optimized/STM.md` gives the
//! algorithm, its correctness argument and the checklist the interpreter must follow.
//!
//! Planted bugs for the model checks live here too, behind `mutant!(NAME)`;
//! a normal build contains none of them.

mod clock;
mod contention;
pub mod handoff;
mod read_filter;
mod redo_index;
mod retry;
mod safepoint;
pub mod sync;
mod tx;

pub use clock::Stm;
pub use contention::{Contention, HotWords, Policy, Retry};
pub use retry::atomically;
pub use safepoint::Safepoints;
pub use tx::{Abort, AbortKind, CommitInfo, Transaction, TxThread};
