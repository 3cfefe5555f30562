//! The register window of the running frame: a raw pointer into the thread's flat register
//! stack, read and written without bounds checks.
//!
//! Why unchecked: every register operand of pre-decoded code is below its function's register
//! count (verified by the loader [verify.reg-range]), and the interpreter creates a window only
//! over a frame's `regs` words inside the register stack ([`Window::new`]'s contract). Checking
//! again on every operand costs a compare and branch per operand in the hottest loop.
//!
//! The window is invalidated by anything that may reallocate the register stack (a call, a
//! spawn's growth of another thread does not count: each thread owns its stack); the
//! interpreter re-creates it after each such point.

use crate::value::Value;

#[derive(Clone, Copy)]
pub struct Window {
    base: *mut Value,
    #[cfg(debug_assertions)]
    len: usize,
}

impl Window {
    /// # Safety
    /// `base .. base + len` must be valid, initialised `Value`s of one register stack, not
    /// accessed through any other path while the window is used, and `len` must be the register
    /// count of the function whose code indexes the window.
    #[inline(always)]
    pub unsafe fn new(base: *mut Value, len: usize) -> Window {
        let _ = len;
        Window {
            base,
            #[cfg(debug_assertions)]
            len,
        }
    }

    /// The first register's address (for compiled code, which indexes it the same way).
    #[inline(always)]
    pub fn base(self) -> *mut Value {
        self.base
    }

    #[inline(always)]
    pub fn get(self, r: u16) -> Value {
        #[cfg(debug_assertions)]
        assert!((r as usize) < self.len, "register {r} outside a frame of {}", self.len);
        // SAFETY: r < regs of the running function [verify.reg-range], and the window covers
        // exactly those registers (Window::new's contract).
        unsafe { *self.base.add(r as usize) }
    }

    #[inline(always)]
    pub fn set(self, r: u16, v: Value) {
        #[cfg(debug_assertions)]
        assert!((r as usize) < self.len, "register {r} outside a frame of {}", self.len);
        // SAFETY: as in `get`.
        unsafe { *self.base.add(r as usize) = v }
    }
}
