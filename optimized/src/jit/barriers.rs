//! The STM's read and write barriers for compiled code of the barrier flavour (a thread in
//! company: `TxMode<false>`): a field or array access whose object is not private to the running
//! transaction calls one of these helpers (System V), which does the access through the mode
//! exactly as the interpreter's `getf`, `setf`, `aget`, `aset` or `alen` would, instead of
//! leaving compiled code for the interpreter to do it. Leaving and re-entering costs the
//! interpreter's dispatch and the driver's context set-up; a shared B-tree insertion (bench
//! `tree`) took some fifty of them per call before these helpers.
//!
//! A helper that cannot do the access as the interpreter's fast path would (the read found the
//! transaction doomed, the index is out of bounds) *refuses*: it changes nothing guest-visible
//! and the compiled code leaves before the op, whose interpreter then does the slow path (the
//! rollback, the trap). A refused read may have logged words in the transaction's read set or
//! extended its snapshot: what any read may do, and what the interpreter's read redoes.
//!
//! Stores never refuse: a write barrier has no slow path (`Mode::store`).

use crate::heap::{ARRAY_LEN, ARRAY_STORAGE, HEADER_WORDS};
use crate::mode::{Loc, Mode};
use crate::value::Value;

/// A helper's result in `rax` (the word) and `rdx` (0: done; else refused).
#[repr(C)]
pub(crate) struct Loaded {
    value: u64,
    refused: u64,
}

const REFUSED: Loaded = Loaded { value: 0, refused: 1 };

impl Loaded {
    fn of(r: Option<u64>) -> Loaded {
        match r {
            Some(value) => Loaded { value, refused: 0 },
            None => REFUSED,
        }
    }
}

/// The helpers for one mode, at fixed offsets (`#[repr(C)]`; the templates call through
/// `JitCtx::barriers`). Each takes the mode (`JitCtx::mode`) first and the op's location
/// (`func << 32 | pc`, for conflict reports) last.
#[repr(C)]
pub(crate) struct Barriers {
    /// `getf`: word `i` of object `obj`.
    pub load: unsafe extern "sysv64" fn(*mut (), Value, u64, u64) -> Loaded,
    /// `setf`: word `i` of object `obj` := `v`.
    pub store: unsafe extern "sysv64" fn(*mut (), Value, u64, u64, u64),
    /// `aget`: element `k` of array `a`, refused when `k` is out of bounds.
    pub aget: unsafe extern "sysv64" fn(*mut (), Value, u64, u64) -> Loaded,
    /// `aset`: element `k` of array `a` := `v`; returns nonzero when refused (out of bounds).
    pub aset: unsafe extern "sysv64" fn(*mut (), Value, u64, u64, u64) -> u64,
    /// `alen`: the length of array `a` (a word: the caller tags it).
    pub alen: unsafe extern "sysv64" fn(*mut (), Value, u64) -> Loaded,
}

/// Offsets of [`Barriers`]' fields for the templates.
#[allow(dead_code)] // (the plain flavour's builds read none)
pub(crate) mod at {
    pub const LOAD: i32 = 0;
    pub const STORE: i32 = 8;
    pub const AGET: i32 = 16;
    pub const ASET: i32 = 24;
    pub const ALEN: i32 = 32;
}

impl Barriers {
    /// The helpers for mode `M`.
    pub fn of<M: Mode>() -> &'static Barriers {
        const { &Barriers { load: load::<M>, store: store::<M>, aget: aget::<M>, aset: aset::<M>, alen: alen::<M> } }
    }
}

fn loc(at: u64) -> impl FnOnce() -> Loc {
    move || ((at >> 32) as u32, at as u32)
}

/// # Safety (every helper)
/// Called by compiled code of the barrier flavour while the interpreter that entered it with
/// `mode` (a `*mut M`, used by nothing else meanwhile) waits; `obj` or `a` is a register's value
/// that the code checked to be an object of a class with word `i`, or an array; a stored `v` is
/// a register's value.
unsafe extern "sysv64" fn load<M: Mode>(mode: *mut (), obj: Value, i: u64, at: u64) -> Loaded {
    // SAFETY: the contract above: the mode is ours, the object live with word `i`.
    let mode = unsafe { &mut *(mode as *mut M) };
    if mutant!(jit_load_without_barrier) {
        // SAFETY: as above.
        return Loaded::of(Some(
            unsafe { crate::heap::cell_word(obj, i as usize) }.load(std::sync::atomic::Ordering::Relaxed),
        ));
    }
    Loaded::of(unsafe { mode.load(obj, i as usize, loc(at)) }.ok())
}

unsafe extern "sysv64" fn store<M: Mode>(mode: *mut (), obj: Value, i: u64, v: u64, _at: u64) {
    // SAFETY: as for `load`; `v` is a register's value.
    let mode = unsafe { &mut *(mode as *mut M) };
    unsafe { mode.store(obj, i as usize, v) }
}

/// Element `k` of array `a` through the mode, as `aget` reads it: the length, then the storage
/// (consistent with it [stm.read-consistent]), then the element; `None` when `k` is out of
/// bounds or a read found the transaction doomed.
///
/// # Safety
/// As above: `a` is a live array.
unsafe fn element<M: Mode>(mode: &mut M, a: Value, k: u64, at: u64) -> Option<(Value, usize)> {
    // SAFETY: `a` is a live array (the caller's contract), with these words; its storage, read
    // in this transaction, holds more than `k` elements once `k` is below the length.
    let len = unsafe { mode.load(a, ARRAY_LEN, loc(at)) }.ok()?;
    if k >= len {
        return None;
    }
    let storage = unsafe { mode.load(a, ARRAY_STORAGE, loc(at)) }.ok()?;
    Some((storage, HEADER_WORDS + k as usize))
}

unsafe extern "sysv64" fn aget<M: Mode>(mode: *mut (), a: Value, k: u64, at: u64) -> Loaded {
    // SAFETY: the contract above; `element` gives a word inside the live storage cell.
    let mode = unsafe { &mut *(mode as *mut M) };
    let Some((storage, i)) = (unsafe { element(mode, a, k, at) }) else { return REFUSED };
    Loaded::of(unsafe { mode.load(storage, i, loc(at)) }.ok())
}

unsafe extern "sysv64" fn aset<M: Mode>(mode: *mut (), a: Value, k: u64, v: u64, at: u64) -> u64 {
    // SAFETY: as for `aget`; `v` is a register's value.
    let mode = unsafe { &mut *(mode as *mut M) };
    let Some((storage, i)) = (unsafe { element(mode, a, k, at) }) else { return 1 };
    unsafe { mode.store(storage, i, v) };
    0
}

unsafe extern "sysv64" fn alen<M: Mode>(mode: *mut (), a: Value, at: u64) -> Loaded {
    // SAFETY: the contract above.
    let mode = unsafe { &mut *(mode as *mut M) };
    Loaded::of(unsafe { mode.load(a, ARRAY_LEN, loc(at)) }.ok())
}
