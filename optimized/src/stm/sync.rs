//! The sync facade: every atomic, lock and thread the STM core touches comes from here, so the
//! same source runs on `std` in the engine and on loom in `lockstep-model-checks`
//! (`RUSTFLAGS="--cfg loom"`), where loom explores its interleavings. Loom models only what goes
//! through its own types, which is why nothing in `stm/` may name `std::sync` directly.
//!
//! Under loom, spinning must yield to the model's scheduler (a busy loop would be an infinite
//! execution), and bounded work such as backoff shrinks to one step.

#[cfg(not(loom))]
pub use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub use std::thread;

#[cfg(loom)]
pub use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub use loom::thread;

/// A wait loop's step: spins a while, then lets the OS run someone else (with 2 cores and more
/// threads than cores, the thread we wait for may be descheduled).
#[derive(Default)]
pub struct Spin {
    #[cfg(not(loom))]
    steps: u32,
}

impl Spin {
    /// Spins before the first OS yield (one step under loom: loom must switch threads).
    #[cfg(not(loom))]
    const SPINS_BEFORE_YIELD: u32 = 64;

    /// One step of waiting: a spin-loop hint for the first steps, then an OS yield each time
    /// (under loom a yield at once, since loom must switch threads).
    pub fn wait(&mut self) {
        #[cfg(loom)]
        {
            loom::thread::yield_now();
        }
        #[cfg(not(loom))]
        {
            if self.steps < Self::SPINS_BEFORE_YIELD {
                self.steps += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Busy-waits about `n` steps (backoff after an abort); one yield under loom.
pub fn backoff(n: u32) {
    #[cfg(loom)]
    {
        let _ = n;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        for _ in 0..n {
            std::hint::spin_loop();
        }
        if n >= 1024 {
            std::thread::yield_now();
        }
    }
}

/// Locks a mutex, ignoring poisoning: the state behind our mutexes is a few counters that a
/// panicking thread leaves consistent (every update is one statement under the lock).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits on a condition variable, ignoring poisoning (see [`lock`]).
pub fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(|e| e.into_inner())
}
