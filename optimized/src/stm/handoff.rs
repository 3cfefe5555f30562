//! The one place compiled code crosses OS threads: tier 2's compiler thread (`lockstep-tier2`,
//! `--jit=opt`) hands a finished compilation to the thread that owns the loop's region, which
//! publishes it at its next entry into compiled code (`jit::Jit::settle`). Everything else of
//! the JIT is per OS thread (each `Context` has its own code, tables and regions): no code is
//! patched, shared or freed under another thread, so the publication and retirement of code need
//! no protocol but this hand-off. Written against the [`super::sync`] facade so that
//! `lockstep-model-checks` runs it under loom (model `compiled_code_handoff`).
//!
//! The protocol: the compiler stores the result under the lock, *then* sets `ready` (Release);
//! the owner tests `ready` (Acquire: one load, at every arrival at the loop's header while the
//! compilation runs) and only once it is set takes the result under the lock. The owner never
//! waits for the compiler; either side may drop its end first (the result then goes with the
//! last `Arc`).

use super::sync::{AtomicBool, Mutex, Ordering};

/// A result of type `T` on its way from one thread to another, taken at most once.
pub struct Handoff<T> {
    ready: AtomicBool,
    out: Mutex<Option<T>>,
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Handoff { ready: AtomicBool::new(false), out: Mutex::new(None) }
    }
}

impl<T> Handoff<T> {
    /// An empty hand-off (nothing finished yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// The producer's side: the result, then the flag that says it is there.
    pub fn put(&self, v: T) {
        if mutant!(handoff_ready_before_result) {
            self.ready.store(true, Ordering::Release);
        }
        *self.out.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
        if !mutant!(handoff_ready_before_result) {
            self.ready.store(true, Ordering::Release);
        }
    }

    /// The consumer's side, never blocking on the producer's work: `None` while the result is
    /// not there yet, else `Some` of it (`Some(None)` once it has been taken).
    pub fn take(&self) -> Option<Option<T>> {
        if !self.ready.load(Ordering::Acquire) {
            return None;
        }
        Some(self.out.lock().unwrap_or_else(|e| e.into_inner()).take())
    }
}
