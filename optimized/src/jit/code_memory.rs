//! Memory for machine code, owned by lockstep and W^X: mapped read-write, filled, then switched
//! to read-execute before anything runs it; never writable and executable at once (checked by
//! `optimized/tests/jit.rs`, which reads `/proc/self/maps`). Compiled code is never patched, so
//! it never goes back to writable.

use std::io;
use std::ptr::NonNull;

pub(super) struct CodeMemory {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone and immutable once built (read-execute);
// moving it to another OS thread moves that ownership.
unsafe impl Send for CodeMemory {}

impl CodeMemory {
    /// A read-execute copy of `code`.
    pub fn new(code: &[u8]) -> io::Result<CodeMemory> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let len = code.len().max(1).div_ceil(page) * page;
        // SAFETY: an anonymous private mapping at an address the kernel picks; no file, no
        // existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mem = CodeMemory { ptr: NonNull::new(p.cast()).expect("mmap returned null"), len };
        // SAFETY: the mapping is `len >= code.len()` bytes, writable, and nothing else refers to
        // it yet.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), mem.ptr.as_ptr(), code.len()) };
        // SAFETY: the whole mapping made above; from here on it is read-execute only.
        if unsafe { libc::mprotect(p, len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            return Err(io::Error::last_os_error()); // (`mem`'s drop unmaps it)
        }
        Ok(mem)
    }

    pub fn ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once; no code runs in it any more (its
        // owner, the `Jit` of one OS thread, is dropped after that thread's interpreter returned).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
