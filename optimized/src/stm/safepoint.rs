//! The stop-the-world handshake for collections. Safepoints sit at transaction boundaries
//! only: a thread polls between transactions, never inside one, so a stopped world holds no
//! half-done transaction and every live value is in a register or a committed heap word.
//! A thread blocked in `join` (or any wait) parks: it counts as stopped, so it cannot stall a
//! collection, and it may not leave the park while a stop is in progress.
//!
//! The fast path of [`Safepoints::poll`] is one atomic load; the mutex is taken only when a
//! stop is requested or a thread parks, registers or ends, never around guest code.

use super::sync::{lock, wait, AtomicBool, Condvar, Mutex, Ordering};

#[derive(Debug, Default)]
struct State {
    /// A collector has asked the world to stop (or is collecting).
    stop: bool,
    /// Registered threads that may be running guest code: not parked, not stopped.
    running: usize,
}

/// A registered thread stops counting as running.
fn one_fewer(running: &mut usize) {
    if mutant!(register_by_running_skips_count) {
        // That mutant leaves the count one short from a spawn on, so a later decrement would
        // underflow: saturating absorbs the missing one and keeps the model failing on the
        // property it checks (guest code during a collection), not on an overflow panic.
        *running = running.saturating_sub(1);
    } else {
        *running -= 1;
    }
}

/// One run's safepoint handshake.
#[derive(Debug, Default)]
pub struct Safepoints {
    stop_flag: AtomicBool,
    state: Mutex<State>,
    cv: Condvar,
}

impl Safepoints {
    /// A run's handshake with no stop requested and no thread registered yet.
    pub fn new() -> Safepoints {
        Safepoints { stop_flag: AtomicBool::new(false), state: Mutex::new(State::default()), cv: Condvar::new() }
    }

    /// A thread joins the run (before it runs guest code). Waits if a stop is in progress,
    /// so a thread spawned just before a stop does not run during it.
    pub fn register(&self) {
        let mut st = lock(&self.state);
        while st.stop {
            st = wait(&self.cv, st);
        }
        st.running += 1;
    }

    /// A running thread registers a thread it is about to start (a spawn). Unlike
    /// [`Self::register`] it never waits: the caller is running, so no stop can be complete
    /// (the collector waits for the caller too), and waiting here for the stop to end would
    /// wait for ourselves. The new thread counts as running until it polls, which it must do
    /// before running guest code.
    pub fn register_by_running(&self) {
        let mut st = lock(&self.state);
        if !mutant!(register_by_running_skips_count) {
            st.running += 1;
        }
    }

    /// A thread leaves the run (it ended); it no longer counts for stops.
    pub fn unregister(&self) {
        let mut st = lock(&self.state);
        one_fewer(&mut st.running);
        self.cv.notify_all();
    }

    /// Whether a stop is requested (a running transaction may end early to reach a boundary).
    pub fn stop_requested(&self) -> bool {
        self.stop_flag.load(Ordering::Relaxed)
    }

    /// At a transaction boundary: if a stop is requested, stay stopped until it is over.
    pub fn poll(&self) {
        if !self.stop_flag.load(Ordering::Acquire) {
            return;
        }
        let st = lock(&self.state);
        if st.stop {
            self.stopped_while(st);
        }
    }

    /// Counts the caller as stopped and waits for the stop to end.
    fn stopped_while(&self, mut st: super::sync::MutexGuard<'_, State>) {
        one_fewer(&mut st.running);
        self.cv.notify_all();
        while st.stop {
            st = wait(&self.cv, st);
        }
        st.running += 1;
    }

    /// At a transaction boundary, by a thread that wants to collect: returns `true` once
    /// every other registered thread is stopped or parked (the caller collects, then calls
    /// [`Self::resume`]), or `false` if another thread collected meanwhile (the caller was
    /// stopped for it and should check again whether a collection is still needed).
    pub fn request_stop(&self) -> bool {
        let mut st = lock(&self.state);
        if st.stop {
            self.stopped_while(st);
            return false;
        }
        st.stop = true;
        self.stop_flag.store(true, Ordering::Release);
        one_fewer(&mut st.running);
        while st.running > 0 {
            st = wait(&self.cv, st);
        }
        true
    }

    /// Ends a stop (the collector, after collecting).
    pub fn resume(&self) {
        let mut st = lock(&self.state);
        st.stop = false;
        self.stop_flag.store(false, Ordering::Release);
        st.running += 1;
        self.cv.notify_all();
    }

    /// At a transaction boundary, before blocking (join, a wait): the thread counts as stopped
    /// until [`Self::unpark`], so collections proceed without it.
    pub fn park(&self) {
        let mut st = lock(&self.state);
        if !mutant!(safepoint_ignores_parked) {
            one_fewer(&mut st.running);
        }
        self.cv.notify_all();
    }

    /// After blocking: waits for a stop in progress to end before running guest code again.
    pub fn unpark(&self) {
        let mut st = lock(&self.state);
        while st.stop && !mutant!(unpark_ignores_stop) {
            st = wait(&self.cv, st);
        }
        if !mutant!(safepoint_ignores_parked) {
            st.running += 1;
        }
    }
}
