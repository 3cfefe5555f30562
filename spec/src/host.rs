//! What a run shares with the program that embeds it, the same for every engine: the writer its
//! guest output streams to ([`Sink`]) and the flag another host thread sets to stop it
//! ([`Interrupt`]). Neither is part of the language: a guest cannot see either, and an interrupted
//! run has no outcome (each engine's `RunError::Interrupted`). Defined here, beside the outcome,
//! so that one value configures both engines.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A writer that streamed guest output goes to, shared by the OS threads of a parallel run (each
/// write happens under its lock, whole chunks at a time, in the run's output order).
#[derive(Clone)]
pub struct Sink(Arc<Mutex<dyn Write + Send>>);

impl Sink {
    /// A sink writing to `writer`.
    pub fn new(writer: impl Write + Send + 'static) -> Sink {
        Sink(Arc::new(Mutex::new(writer)))
    }

    /// Writes all of `bytes` and flushes them, so that output appears as the program prints.
    pub fn write_all(&self, bytes: &[u8]) -> std::io::Result<()> {
        // A writer that panicked mid-write is still a writer: its error, if any, comes next.
        let mut w = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        w.write_all(bytes).and_then(|()| w.flush())
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sink")
    }
}

/// A flag that stops a run when set: engines look at it at segment boundaries and backward jumps
/// (so a loop, even inside an atomic block, notices it), and the run then ends with
/// `RunError::Interrupted`. Cloning shares the flag.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A flag that is not set.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Asks every run that looks at this flag to stop.
    pub fn set(&self) {
        // Relaxed: the flag carries no data; a run sees it at its next check.
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is set.
    #[inline]
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Clears the flag (a later run is no longer stopped by an earlier request).
    pub fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}
