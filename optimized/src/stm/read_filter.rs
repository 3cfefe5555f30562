//! Which words the running transaction has already logged as read, approximately: a small
//! direct-mapped table of recently logged addresses. A read of a word found here skips the
//! read-log push.
//!
//! Why skipping is sound: NOrec validates a read by comparing the logged value with memory.
//! A second read of the same word returns memory's current value; if that differed from the
//! logged one, a commit changed it, the clock moved, and the read barrier revalidated (and
//! aborted on the first entry) before returning it. So every value the transaction saw for
//! the word equals the one logged, and one entry validates them all. The table only ever says
//! "logged" for an address that was pushed in this transaction (it is emptied between
//! transactions); a miss just pushes again, so collisions cost a duplicate entry, never a
//! missing one.
//!
//! What it buys: a loop that reads the same fields over and over (every benchmark with
//! objects) keeps its read log, and the time to revalidate it, proportional to the words it
//! touches rather than to the reads it makes, and the log stays in cache.

/// Entries: a power of two. Neighbouring words (fields of one object) take neighbouring slots.
pub(super) const SLOTS: usize = 256;

pub(super) struct ReadFilter {
    /// `SLOTS` addresses (0: none), or none at all when moved out.
    slots: Vec<usize>,
    dirty: bool,
    /// `slots.as_ptr()` as an address, for compiled code (tier 2's inline read barrier,
    /// `Transaction::INLINE_READ`), which looks a word up through it rather than calling. The
    /// slots are never reallocated but by replacing the whole filter. Safe code never
    /// dereferences it.
    #[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
    base: usize,
}

/// Offset of `base` in a `ReadFilter`.
#[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
pub(super) const BASE_OFFSET: usize = std::mem::offset_of!(ReadFilter, base);

impl ReadFilter {
    pub(super) fn new() -> ReadFilter {
        let slots = vec![0; SLOTS];
        ReadFilter { base: slots.as_ptr() as usize, slots, dirty: false }
    }

    /// A filter without slots, left behind when the filter moves from a `TxThread` to its
    /// running transaction and back; never used.
    pub(super) fn moved_out() -> ReadFilter {
        ReadFilter { slots: Vec::new(), dirty: false, base: 0 }
    }

    /// `base`, and the address it must equal (for the tests).
    #[cfg(test)]
    pub(super) fn base(&self) -> usize {
        self.base
    }
    #[cfg(test)]
    pub(super) fn slots_address(&self) -> usize {
        self.slots.as_ptr() as usize
    }

    pub(super) fn is_moved_out(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether `addr` is known to be logged; if not, notes that it is about to be.
    #[inline(always)]
    pub(super) fn check_and_set(&mut self, addr: usize) -> bool {
        let s = &mut self.slots[(addr >> 3) & (SLOTS - 1)];
        if *s == addr {
            return true;
        }
        *s = addr;
        self.dirty = true;
        false
    }

    /// Forgets every address, for the next transaction. `logged` are the addresses of the
    /// read log, which include every address set here (each set comes with a push): a short
    /// log is cheaper to walk than the table is to fill.
    pub(super) fn clear(&mut self, logged: impl ExactSizeIterator<Item = usize>) {
        if !self.dirty {
            return;
        }
        if logged.len() < SLOTS / 8 {
            for a in logged {
                self.slots[(a >> 3) & (SLOTS - 1)] = 0;
            }
        } else {
            self.slots.fill(0);
        }
        self.dirty = false;
    }
}
