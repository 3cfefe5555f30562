//! The redo log's index: word address → position of its entry in the log.
//!
//! Every read barrier of a transaction asks it first ("did I write this word?"), so it sits on
//! the hottest path of a barriered run. An open-addressed table with linear probing answers in
//! one multiply, one load and one compare when the word is absent or sits in its home slot; a
//! general hash map (SipHash, or SwissTable's group probing) cost a third of nbody's time under
//! `--stm=barriers`. The table lives in `TxThread` and is emptied, not freed, between
//! transactions.
//!
//! Invariant: at most half of the slots are full, so a probe always reaches an empty slot.

/// A slot: `addr` 0 is empty (no word lives at address 0). `repr(C)`: tier 2's inline read
/// barrier loads `addr` at offset 0 of the slot `SLOT_BYTES * home` bytes past `base`.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    addr: usize,
    pos: u32,
}

/// Slots of a fresh or emptied table: tables of small transactions never grow.
const MIN_SLOTS: usize = 64;

pub(super) struct RedoIndex {
    /// `slots.len()` is a power of two, at least `MIN_SLOTS`.
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: the hash's top bits pick the home slot.
    shift: u32,
    len: usize,
    /// `slots.as_ptr()` as an address, kept with every change of `slots`, for compiled code
    /// (tier 2's inline read barrier, `Transaction::INLINE_READ`): it reads the home slot of a
    /// word through it rather than calling. Safe code never dereferences it.
    #[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
    base: usize,
}

/// The multiplier of [`RedoIndex::home`]'s hash.
pub(super) const HASH_MUL: u64 = 0x9e37_79b9_7f4a_7c15;
/// Bytes per slot.
#[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
pub(super) const SLOT_BYTES: usize = std::mem::size_of::<Slot>();
/// Offsets of `base` and `shift` (a `u32`) in a `RedoIndex`.
#[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
pub(super) const BASE_OFFSET: usize = std::mem::offset_of!(RedoIndex, base);
#[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
pub(super) const SHIFT_OFFSET: usize = std::mem::offset_of!(RedoIndex, shift);
/// Offset of a slot's `pos` (a `u32`).
#[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
pub(super) const POS_OFFSET: usize = std::mem::offset_of!(Slot, pos);

/// What [`RedoIndex::find_or_insert`] did.
pub(super) enum Found {
    /// The word already had an entry, at this position.
    At(usize),
    /// It had none; it now maps to the position given.
    Inserted,
}

impl RedoIndex {
    /// A table without slots, to leave behind when the table moves from a `TxThread` to its
    /// running transaction and back; never probed.
    pub(super) fn moved_out() -> RedoIndex {
        RedoIndex::with(Vec::new(), 64)
    }

    pub(super) fn is_moved_out(&self) -> bool {
        self.slots.is_empty()
    }

    pub(super) fn new() -> RedoIndex {
        RedoIndex::with(vec![Slot::default(); MIN_SLOTS], 64 - MIN_SLOTS.trailing_zeros())
    }

    /// An empty table of these slots (the one place `base` is computed but `grow`).
    fn with(slots: Vec<Slot>, shift: u32) -> RedoIndex {
        RedoIndex { base: slots.as_ptr() as usize, slots, shift, len: 0 }
    }

    /// Fibonacci hashing of the word index: words are 8-aligned, and neighbouring words (the
    /// fields of one object) land far apart.
    #[inline(always)]
    fn home(&self, addr: usize) -> usize {
        ((addr as u64 >> 3).wrapping_mul(HASH_MUL) >> self.shift) as usize
    }

    /// The log position of the word at `addr`, if this transaction wrote it.
    #[inline(always)]
    pub(super) fn get(&self, addr: usize) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(addr);
        loop {
            let s = self.slots[i];
            if s.addr == addr {
                return Some(s.pos as usize);
            }
            if s.addr == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// The position of `addr`'s entry, or, when it has none, records `pos` for it.
    pub(super) fn find_or_insert(&mut self, addr: usize, pos: usize) -> Found {
        debug_assert!(addr != 0);
        let mask = self.slots.len() - 1;
        let mut i = self.home(addr);
        loop {
            let s = self.slots[i];
            if s.addr == addr {
                return Found::At(s.pos as usize);
            }
            if s.addr == 0 {
                break;
            }
            i = (i + 1) & mask;
        }
        // A redo log longer than u32::MAX entries would need 64 GiB of log first.
        self.slots[i] = Slot { addr, pos: pos as u32 };
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        Found::Inserted
    }

    #[cold]
    fn grow(&mut self) {
        let doubled = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.base = self.slots.as_ptr() as usize;
        self.shift -= 1;
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.addr != 0) {
            let mut i = self.home(s.addr);
            while self.slots[i].addr != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// Empties the table for the next transaction. A table that grew goes back to the
    /// minimum, so one huge transaction does not make every later one clear a huge table; the
    /// cost is proportional to the slots the transaction's own writes filled.
    pub(super) fn clear(&mut self) {
        if self.len == 0 {
            return;
        }
        if self.slots.len() > MIN_SLOTS {
            *self = RedoIndex::new();
        } else {
            self.slots.fill(Slot::default());
            self.len = 0;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The table agrees with a `HashMap` through growth, lookups of absent words and clears.
    #[test]
    fn agrees_with_a_map() {
        let mut idx = RedoIndex::new();
        let mut map: HashMap<usize, usize> = HashMap::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..20 {
            // Rounds of growing size, over a pool of addresses with neighbours and repeats.
            for _ in 0..(round * 97) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let addr = 0x1000 + ((x % 4096) as usize) * 8;
                let pos = map.len();
                match idx.find_or_insert(addr, pos) {
                    Found::At(p) => assert_eq!(Some(&p), map.get(&addr)),
                    Found::Inserted => assert_eq!(map.insert(addr, pos), None),
                }
                let probe = 0x1000 + ((x >> 20) % 4096) as usize * 8;
                assert_eq!(idx.get(probe), map.get(&probe).copied());
                // What tier 2's inline barriers read instead of `slots` (through growth too).
                assert_eq!(idx.base, idx.slots.as_ptr() as usize);
            }
            for (&a, &p) in &map {
                assert_eq!(idx.get(a), Some(p));
            }
            idx.clear();
            map.clear();
            assert_eq!(idx.get(0x1000), None);
        }
    }
}
