//! How the interpreter reaches state that other guest threads share: the mutable heap words
//! (object slots, array length, capacity, storage and elements), spawning, joining and thread
//! names. Two implementations: [`Serial`] (one OS thread runs every guest thread, so shared
//! words are plain relaxed loads and stores, as in part 1) and `par::TxMode` (guest threads on
//! OS threads; every access goes through the running transaction's barriers). The interpreter
//! is generic over the mode, so the serial build carries no barrier code at all.
//!
//! Immutable cells (strings, boxed numbers) and cell headers need no barrier: they are written
//! once, before the cell is published (`STM.md`, checklist item 2).

use crate::heap::cell_word;
use crate::ops::ThreadNames;
use crate::stm::Abort;
use crate::thread::{Thread, ThreadState};
use crate::value::Value;
use std::sync::atomic::Ordering::Relaxed;

/// The location of the instruction that accesses a word: (function, pc), for conflict reports.
pub(crate) type Loc = (u32, u32);

/// What a `spawn` did.
#[cfg_attr(loom, allow(dead_code))] // (parallel runs are not built under loom)
pub(crate) enum Spawned {
    Handle(Value),
    /// The run already created `MAX_THREADS` threads.
    Limit,
}

pub(crate) trait Mode {
    /// Guest threads run in parallel: the interpreter must validate before effects and traps,
    /// end transactions when asked, and use this mode for spawn and join.
    const PARALLEL: bool;

    /// Word `i` of the live cell `obj` (a mutable word).
    fn load(&mut self, obj: Value, i: usize, at: impl FnOnce() -> Loc) -> Result<u64, Abort>;

    /// Stores `v` in word `i` of the live cell `obj`.
    fn store(&mut self, obj: Value, i: usize, v: u64);

    /// [stm.validate]: before an effect or a trap, and at backward jumps.
    fn validate(&mut self, at: impl FnOnce() -> Loc) -> Result<(), Abort>;

    /// Whether the running transaction should end at its next boundary (a collection or the
    /// end of the run is waiting for it).
    fn should_end(&self) -> bool;

    /// Whether the running transaction asks to end at this boundary (contention policy:
    /// `Contention::end_after_write`). Checked at every boundary, so it must be cheap.
    fn wants_end(&self) -> bool;

    /// Whether the run is over (main ended): the thread is abandoned.
    fn over(&self) -> bool;

    /// [thread.spawn] for a parallel run: a new thread of `th` running `f` with `args`.
    fn spawn(&mut self, th: &mut Thread, f: u32, args: &[Value], fuel: u64) -> Result<Spawned, Abort>;

    /// The state of thread `target` as the running transaction sees it, for `join`.
    fn join_state(&mut self, target: u32) -> Result<ThreadState, Abort>;

    /// Names of thread handles, for display.
    fn names<'a>(&'a self, serial: &'a dyn ThreadNames) -> &'a dyn ThreadNames;
}

/// All guest threads on one OS thread, taking turns: no barriers.
pub(crate) struct Serial;

impl Mode for Serial {
    const PARALLEL: bool = false;

    #[inline(always)]
    fn load(&mut self, obj: Value, i: usize, _: impl FnOnce() -> Loc) -> Result<u64, Abort> {
        Ok(cell_word(obj, i).load(Relaxed))
    }

    #[inline(always)]
    fn store(&mut self, obj: Value, i: usize, v: u64) {
        cell_word(obj, i).store(v, Relaxed)
    }

    #[inline(always)]
    fn validate(&mut self, _: impl FnOnce() -> Loc) -> Result<(), Abort> {
        Ok(())
    }

    #[inline(always)]
    fn should_end(&self) -> bool {
        false
    }

    #[inline(always)]
    fn wants_end(&self) -> bool {
        false
    }

    #[inline(always)]
    fn over(&self) -> bool {
        false
    }

    fn spawn(&mut self, _: &mut Thread, _: u32, _: &[Value], _: u64) -> Result<Spawned, Abort> {
        unreachable!("the serial interpreter spawns through its own thread table")
    }

    fn join_state(&mut self, _: u32) -> Result<ThreadState, Abort> {
        unreachable!("the serial interpreter joins through its own thread table")
    }

    fn names<'a>(&'a self, serial: &'a dyn ThreadNames) -> &'a dyn ThreadNames {
        serial
    }
}
