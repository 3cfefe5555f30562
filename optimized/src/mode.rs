//! How the interpreter reaches what other guest threads share or decide: the mutable heap words
//! (object slots, array length, capacity, storage and elements), spawning, joining, thread
//! names, collections at safepoints and the end of a run of segments. Two implementations:
//! `serial::Serial` (`--stm=off`: one OS thread runs every guest thread, so shared words are
//! plain relaxed loads and stores and the thread table is at hand) and `par::TxMode` (guest
//! threads on OS threads; every access goes through the running transaction's barriers). The
//! interpreter is generic over the mode, so the serial build carries no barrier code at all,
//! and the interpreter itself never asks which mode it runs in.
//!
//! Immutable cells (strings, boxed numbers) and cell headers need no barrier: they are written
//! once, before the cell is published (`STM.md`, checklist item 2).

use crate::code::Program;
use crate::heap::Heap;
use crate::ops::ThreadNames;
use crate::stm::Abort;
use crate::thread::{Thread, ThreadState};
use crate::value::Value;

/// The location of the instruction that accesses a word: (function, pc), for conflict reports.
pub(crate) type Loc = (u32, u32);

/// What a `spawn` did.
pub(crate) enum Spawned {
    Handle(Value),
    /// The run already created `MAX_THREADS` threads.
    Limit,
}

/// Why pending output could not be delivered.
pub(crate) enum Undelivered {
    /// The transaction must roll back (it could not become inevitable).
    #[cfg_attr(loom, allow(dead_code))] // (parallel runs are not built under loom)
    Abort(Abort),
    /// Stdout refused it.
    Io(std::io::Error),
}

pub(crate) trait Mode {
    /// After a `spawn`, end the thread's run of segments at the next boundary (round-robin on
    /// one OS thread: the new thread is runnable and must get its turn). A parallel run's new
    /// thread has its own OS thread.
    const YIELD_AFTER_SPAWN: bool;

    /// Heap words are plain relaxed loads and stores (no barriers): compiled code may access
    /// them inline (`jit::Flavour`).
    const PLAIN_MEMORY: bool;

    /// For compiled code: how many taken backward jumps in a row may skip [`Mode::at_back_jump`]
    /// and [`Mode::safepoint`] because they would do nothing (no validation due, no collection
    /// requested: compiled code allocates nothing, so `heap` does not change while it runs).
    fn jit_back_jumps(&self, heap: &Heap) -> u64;

    /// For compiled code: whether a function entry may skip [`Mode::safepoint`] (it would do
    /// nothing: no collection requested).
    fn jit_safepoints(&self, heap: &Heap) -> bool;

    /// Compiled code took `n` backward jumps of the allowance above.
    fn jit_took_back_jumps(&mut self, n: u64);

    /// For compiled code: how many segment boundaries in a row may pass, starting with `left`
    /// segments of the budget, before one at which the run of segments could end (`left`
    /// reaching 0, or [`Mode::end_at_boundary`] possibly true). Outside atomic blocks.
    fn jit_boundaries(&self, left: u64) -> u64;

    /// For compiled code of the barrier flavour: the STM word of the running transaction's
    /// private objects ([stm.private]; `Transaction::is_private`), whose fields it reads and
    /// writes with plain loads and stores as the barriers would. Unused by the plain flavour.
    fn jit_private_tag(&self) -> u64;

    /// For compiled code of the barrier flavour: the running transaction's address, read by
    /// tier 2's inline read barrier (`stm::tx::InlineRead`); null where there is none.
    fn jit_transaction(&self) -> *const ();

    /// Word `i` of the live cell `obj` (a mutable word).
    ///
    /// # Safety
    /// `obj` is a heap reference to a live cell and `i` lies inside it, as for
    /// [`crate::heap::cell_word`] (the interpreter checked the cell's kind, and the slot or index
    /// against the class or the length; the cell is a register's value or a word read in this
    /// transaction).
    unsafe fn load(&mut self, obj: Value, i: usize, at: impl FnOnce() -> Loc) -> Result<u64, Abort>;

    /// Stores `v` in word `i` of the live cell `obj`.
    ///
    /// # Safety
    /// As for [`Mode::load`]; and `v` is an immediate or a live cell.
    unsafe fn store(&mut self, obj: Value, i: usize, v: u64);

    /// [stm.validate]: before an effect or a trap.
    fn validate(&mut self, at: impl FnOnce() -> Loc) -> Result<(), Abort>;

    /// At a segment boundary outside atomic blocks, with `left` segments of the budget still
    /// to run: whether to end the run of segments here although budget is left (a collection or
    /// the end of the run waits for this thread, or the contention policy asks). Checked at
    /// every boundary, so it must be cheap.
    fn end_at_boundary(&mut self, left: u64) -> bool;

    /// At every taken backward jump (a loop inside an atomic block has no boundary: this is
    /// where a doomed transaction notices). `Ok(true)`: the run is over, abandon the thread.
    fn at_back_jump(&mut self, at: impl FnOnce() -> Loc) -> Result<bool, Abort>;

    /// At a safepoint (function entry, taken backward jump): every live value is in a register
    /// of `th` or of another thread. The serial mode collects here when the heap asks.
    ///
    /// # Safety
    /// A safepoint: the registers of `th` and of every other thread, their results and
    /// `extra_roots` hold only immediates and live cells of `heap`, and the caller holds no
    /// other heap reference that it will use afterwards (a collection frees what they do not
    /// reach).
    unsafe fn safepoint(&mut self, heap: &mut Heap, prog: &Program, th: &Thread, extra_roots: &[Value]);

    /// [thread.spawn]: a new thread of `th` running `f` with `args`.
    fn spawn(&mut self, prog: &Program, th: &mut Thread, f: u32, args: &[Value], fuel: u64) -> Result<Spawned, Abort>;

    /// The state of thread `target` (not the running one) as the running thread sees it, for
    /// `join`.
    fn join_state(&mut self, target: u32) -> Result<ThreadState, Abort>;

    /// Names of thread handles, for display.
    fn names(&self) -> &dyn ThreadNames;

    /// The running thread's pending output `out` has reached `STREAM_CHUNK` bytes: deliver it
    /// now if the mode can, so that no run buffers output without bound (`stream`: the run
    /// streams its output to stdout; `in_atomic`: inside an atomic block, where no boundary
    /// comes before its end).
    fn deliver(&mut self, out: &mut Vec<u8>, stream: bool, in_atomic: bool) -> Result<(), Undelivered>;
}
