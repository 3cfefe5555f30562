//! The heap: cell layout, size-class allocation and a non-moving mark-sweep collector.
//!
//! **Layout** (the JIT's contract; every offset is in 64-bit words from the cell start, which is
//! the address a heap [`Value`] holds):
//!
//! | word | every cell | object | array | array storage | string | boxed int / float |
//! |---|---|---|---|---|---|---|
//! | 0 | header | | | | | |
//! | 1 | STM word (0: shared; else the private tag of the transaction that allocated it; free-list link while free) | | | | | |
//! | 2.. | | slot i at 2+i | len | elements at 2.. | byte length | the i64 / f64 bits |
//! | 3 | | | capacity | | bytes from word 3 | |
//! | 4 | | | storage cell (0 = none) | | | |
//!
//! Header: bits 0..4 the [`Kind`], bit 4 the mark bit, bits 32..64 the class index of objects.
//! Mutable words (object slots, array len/storage, elements, the STM word) are only accessed as
//! `AtomicU64` with relaxed ordering, so the STM's optimistic reads by other OS threads are
//! defined behaviour; strings and boxed numbers are immutable once published.
//!
//! **Allocation**: cells of up to [`MAX_SMALL_WORDS`] words come from 256 KiB chunks, each chunk
//! holding cells of one size class; an allocator takes a cell from the class's free list, else
//! bump-allocates in a fresh chunk. Bigger cells (long arrays and strings) are allocated one by
//! one. With `--stm=off` one heap serves every guest thread; in a parallel run each OS thread has
//! its own (its free lists and bump cursors are its allocation buffer), all under one byte
//! budget ([`Budget`]), collected together.
//!
//! **Collection**: precise and non-moving. The VM calls [`Heap::collect`] only at safepoints
//! (function entry, taken backward jumps), when [`Heap::gc_requested`] is set, handing over every
//! root: constants, each thread's live registers and results. Between safepoints no cell is ever
//! freed. Marking uses an explicit stack (never host recursion); sweeping rebuilds the free lists,
//! returns empty chunks and unmarked large cells to the system. Rejected alternative: a copying
//! nursery, which would move objects under the STM's optimistic readers and the JIT's embedded
//! constants; non-moving keeps both simple.
//!
//! **Heap invariant** (what makes the `unsafe` here sound): a word with tag `000` other than nil
//! is only ever produced by this allocator, and every such word the VM holds is reachable from
//! the roots it hands to `collect`, so it designates a live cell of the kind its header says.

use crate::value::{is_heap, Value, NIL};
use std::alloc::{self, Layout};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a cell holds; stored in the low header bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Free = 0,
    Object = 1,
    Array = 2,
    Storage = 3,
    Str = 4,
    BoxInt = 5,
    BoxFloat = 6,
}

pub const HEADER_WORDS: usize = 2;
pub const MARK: u64 = 1 << 4;
const KIND_MASK: u64 = 0xf;
pub const ARRAY_LEN: usize = 2;
pub const ARRAY_CAP: usize = 3;
pub const ARRAY_STORAGE: usize = 4;
const ARRAY_WORDS: usize = 5;
const STR_LEN: usize = 2;
const STR_BYTES: usize = 3;

const CHUNK_BYTES: usize = 256 * 1024;
const CHUNK_WORDS: usize = CHUNK_BYTES / 8;
/// Cells above this many words are allocated individually.
pub const MAX_SMALL_WORDS: usize = 256;
const SIZE_CLASSES: [usize; 18] = [2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 192, 256];
const N_CLASSES: usize = SIZE_CLASSES.len();
/// Empty chunks kept for reuse instead of being returned to the system.
const SPARE_CHUNKS: usize = 16;
/// By default, allocation between collections never triggers one below this.
pub const DEFAULT_GC_THRESHOLD: usize = 8 << 20;

const fn class_table() -> [u8; MAX_SMALL_WORDS + 1] {
    let mut t = [0u8; MAX_SMALL_WORDS + 1];
    let mut w = 0;
    let mut c = 0;
    while w <= MAX_SMALL_WORDS {
        while SIZE_CLASSES[c] < w {
            c += 1;
        }
        t[w] = c as u8;
        w += 1;
    }
    t
}
static CLASS_OF_WORDS: [u8; MAX_SMALL_WORDS + 1] = class_table();

/// The heap ran over its configured size: the one outcome allowed to differ between engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

/// Collector statistics, reported by `--stats`: how often the collector ran, what it cost, and
/// how close the run came to `Config::max_heap_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections run (each one stops every guest thread of the run).
    pub collections: u64,
    /// Time spent collecting, summed over the collections (guest code is stopped meanwhile).
    pub pause_total: Duration,
    /// The most bytes the heap held from the system at once, free chunks kept for reuse
    /// included: the figure `Config::max_heap_bytes` bounds.
    pub peak_heap_bytes: usize,
    /// Bytes that survived the last collection (0 when none ran): the program's live data
    /// then, which sets when the next collection comes.
    pub live_bytes_after_last_gc: usize,
}

struct Chunk {
    base: *mut u64,
    class: u8,
}

struct Large {
    base: *mut u64,
    words: usize,
}

/// What the allocators of one run share when guest threads run on several OS threads (each
/// with its own [`Heap`], see `par.rs`): the byte budget of `max_heap_bytes` and the request
/// for a collection. Allocators touch it only when they take a chunk or a large cell into use,
/// never per cell.
#[derive(Debug, Default)]
pub struct Budget {
    /// Bytes the heaps hold from the system (what the limit bounds).
    pub bytes: AtomicUsize,
    /// The part of `bytes` in spare chunks: held, but free (see `Heap::took`).
    pub spare: AtomicUsize,
    pub peak: AtomicUsize,
    /// The bytes in use (`bytes - spare`) right after the last collection (see `Heap::took`).
    pub after_gc: AtomicUsize,
    /// Some allocator went past half the limit: collect at the next safepoint.
    pub gc: AtomicBool,
}

/// Where compiled code finds the small-cell allocator's state in a [`Heap`] (byte offsets), for
/// the inline `new` of `jit/x64.rs`, which does what [`Heap::alloc`] does on its fast path: counts
/// the bytes against the collection threshold (leaving for the interpreter when it would be
/// reached), pops the size class's free list or bumps its pointer (leaving when the chunk is
/// used up), and writes the header and the tag; the cell is otherwise zero (the zeroed-free-memory
/// invariant).
#[allow(dead_code)] // (not read where there is no code generator)
pub(crate) mod layout {
    use super::Heap;
    use std::mem::{offset_of, size_of};
    type Bump = (*mut u64, *mut u64);
    pub const FREE: usize = offset_of!(Heap, free);
    pub const BUMP: usize = offset_of!(Heap, bump);
    /// The size of a size class's bump pair, and where its pointer and its end lie in it.
    pub const BUMP_PAIR: usize = size_of::<Bump>();
    pub const BUMP_CUR: usize = offset_of!(Bump, 0);
    pub const BUMP_END: usize = offset_of!(Bump, 1);
    pub const BYTES_SINCE_GC: usize = offset_of!(Heap, bytes_since_gc);
    pub const THRESHOLD: usize = offset_of!(Heap, threshold);
    pub const TAG: usize = offset_of!(Heap, tag);
}

/// The size class of a small cell of `words` words and its size in words, or `None` for a large
/// cell (for the inline `new`: [`layout`]).
#[allow(dead_code)] // (not read where there is no code generator)
pub(crate) fn small_class(words: usize) -> Option<(usize, usize)> {
    (words <= MAX_SMALL_WORDS).then(|| {
        let c = CLASS_OF_WORDS[words] as usize;
        (c, SIZE_CLASSES[c])
    })
}

pub struct Heap {
    chunks: Vec<Chunk>,
    large: Vec<Large>,
    spare: Vec<*mut u64>,
    free: [*mut u64; N_CLASSES],
    bump: [(*mut u64, *mut u64); N_CLASSES],
    bytes_since_gc: usize,
    threshold: usize,
    /// Bytes held from the system: chunks (spare ones included), large cells, register stacks.
    heap_bytes: usize,
    /// The bytes in use (`heap_bytes` but the spare chunks) right after the last collection
    /// (see `Heap::took`).
    after_gc: usize,
    max_heap_bytes: usize,
    min_threshold: usize,
    /// Set when enough was allocated since the last collection; the VM collects at its next
    /// safepoint.
    pub gc_requested: bool,
    pub stats: GcStats,
    mark_stack: Vec<*mut u64>,
    /// Stored in word 1 (the STM word) of every new cell: the running transaction's private
    /// tag under the STM (`[stm.private]`), 0 (shared) otherwise.
    pub tag: u64,
    budget: Option<Arc<Budget>>,
}

// SAFETY: a heap owns its chunks and large cells exclusively (its raw pointers point only into
// memory it allocated); moving it to another OS thread moves that ownership. Cells are shared
// between threads only through `AtomicU64` words.
unsafe impl Send for Heap {}

/// Whether a heap with `in_use` bytes in use (held from the system, spare chunks excepted),
/// `after_gc` of them in use right after the last collection, should collect at the next
/// safepoint although the usual threshold (as much allocated as was live) is not reached,
/// because it is getting near `max` [limit.memory]: past half the limit, once it has used half
/// the room the last collection left, or once less than two chunks of room are left.
///
/// Asked each time the heap takes a chunk (a fresh one or a spare), a large cell or register
/// stack into use, which is the only moment the room shrinks, and answered yes before the room
/// is gone: the request is served at the next safepoint, and until then the allocator still has
/// the chunk just taken plus one more chunk of room (for another size class) whenever the last
/// collection left at least two. So only live data, never uncollected garbage, makes a run fail:
/// a program whose cells between two safepoints fit in those chunks finishes under any limit one
/// chunk (two for two size classes) above what it holds after a collection. Spare chunks do not
/// count as in use: they were free when the room was measured, and counting them let every
/// collection leave less room than the one before until a run of garbage failed (a 48-byte
/// object loop under 3 MiB). And a run whose live data sits near the limit collects after each
/// half of the shrinking room (a few dozen collections to reach the limit), not at every new
/// chunk: a live list at 80% of 256 MiB took 319 collections and 34 s that way.
fn near_limit(in_use: usize, after_gc: usize, max: usize) -> bool {
    let after = after_gc.min(in_use);
    in_use > max / 2
        && (in_use - after >= max.saturating_sub(after) / 2 || max.saturating_sub(in_use) < 2 * CHUNK_BYTES)
}

/// Word `i` of the cell at `cell`: the one primitive every access to a cell goes through.
///
/// # Safety
/// `cell` is the start of a cell of this allocator that is not freed while the returned
/// reference is used (a live cell: see the heap invariant in the module doc; or a fresh cell, or
/// one the collector is working on), and `i` is below the cell's size in words (object slots are
/// bounded by the verified field slot [verify.field-slot] or the class's field count, array and
/// string words by the layout table and the stored length).
#[inline(always)]
unsafe fn word<'a>(cell: *mut u64, i: usize) -> &'a AtomicU64 {
    // SAFETY: in bounds of a live allocation (the caller's contract); AtomicU64 has the
    // alignment of u64, every cell is 8-aligned, and mutable words are only ever accessed
    // atomically.
    unsafe { AtomicU64::from_ptr(cell.add(i)) }
}

/// Word `i` of the cell `v` holds, as an atomic that lives as long as any caller needs.
///
/// # Safety
/// `v` is a heap reference (tag `000`, not nil) to a live cell, kept live across every use of
/// the returned reference (a value read from a register of a running thread, or a word read in a
/// transaction that has not ended: cells are freed only by a collection, at safepoints between
/// transactions), and `i` lies inside the cell.
#[inline(always)]
pub(crate) unsafe fn cell_word(v: Value, i: usize) -> &'static AtomicU64 {
    debug_assert!(is_heap(v), "cell_word of the non-reference {v:#x}");
    // SAFETY: the caller's contract is `word`'s.
    unsafe { word(cell(v), i) }
}

#[inline(always)]
fn cell(v: Value) -> *mut u64 {
    v as usize as *mut u64
}

fn chunk_layout() -> Layout {
    // A constant, valid layout: non-zero size, power-of-two alignment.
    Layout::from_size_align(CHUNK_BYTES, 8).unwrap_or_else(|_| unreachable!())
}

impl Heap {
    /// A heap of at most `max_heap_bytes`, collecting after at least `min_threshold` bytes of
    /// allocation (more when much is live: the next collection waits for as many bytes as
    /// survived the last one).
    pub fn new(max_heap_bytes: usize, min_threshold: usize) -> Heap {
        Heap {
            chunks: Vec::new(),
            large: Vec::new(),
            spare: Vec::new(),
            free: [ptr::null_mut(); N_CLASSES],
            bump: [(ptr::null_mut(), ptr::null_mut()); N_CLASSES],
            bytes_since_gc: 0,
            threshold: min_threshold,
            min_threshold,
            heap_bytes: 0,
            after_gc: 0,
            max_heap_bytes,
            gc_requested: false,
            stats: GcStats::default(),
            mark_stack: Vec::new(),
            tag: 0,
            budget: None,
        }
    }

    /// A heap whose byte limit is shared with the other heaps of the run through `budget`.
    #[cfg_attr(loom, allow(dead_code))] // (parallel runs are not built under loom)
    pub fn shared(max_heap_bytes: usize, min_threshold: usize, budget: Arc<Budget>) -> Heap {
        let mut h = Heap::new(max_heap_bytes, min_threshold);
        h.budget = Some(budget);
        h
    }

    /// Bytes the heap holds from the system now.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.heap_bytes
    }

    /// Takes `bytes` more from the system into use, within the limit.
    fn grow(&mut self, bytes: usize) -> Result<(), OutOfMemory> {
        self.charge(bytes)?;
        self.took();
        Ok(())
    }

    /// Counts `bytes` more held from the system against the limit. Past it, spare chunks go back
    /// to the system first (they are free memory kept for reuse, not data), then it fails.
    fn charge(&mut self, bytes: usize) -> Result<(), OutOfMemory> {
        loop {
            if let Some(b) = &self.budget {
                let total = b.bytes.fetch_add(bytes, Relaxed).saturating_add(bytes);
                if total <= self.max_heap_bytes {
                    b.peak.fetch_max(total, Relaxed);
                    self.heap_bytes += bytes;
                    return Ok(());
                }
                b.bytes.fetch_sub(bytes, Relaxed);
            } else {
                let total = self.heap_bytes.checked_add(bytes).ok_or(OutOfMemory)?;
                if total <= self.max_heap_bytes {
                    self.heap_bytes = total;
                    self.stats.peak_heap_bytes = self.stats.peak_heap_bytes.max(total);
                    return Ok(());
                }
            }
            if !self.free_spare() {
                return Err(OutOfMemory);
            }
        }
    }

    /// The heap took memory into use (a chunk, fresh or spare, a large cell, register stack):
    /// the one moment the room below the limit shrinks, so the moment to ask for a collection
    /// when it is getting near (`near_limit`).
    fn took(&mut self) {
        if let Some(b) = &self.budget {
            let in_use = b.bytes.load(Relaxed).saturating_sub(b.spare.load(Relaxed));
            if near_limit(in_use, b.after_gc.load(Relaxed), self.max_heap_bytes) {
                b.gc.store(true, Relaxed);
            }
        } else if near_limit(self.in_use(), self.after_gc, self.max_heap_bytes) {
            self.gc_requested = true;
        }
    }

    /// Bytes held but for the spare chunks.
    fn in_use(&self) -> usize {
        self.heap_bytes - self.spare.len() * CHUNK_BYTES
    }

    /// Returns a spare chunk to the system, if there is one.
    fn free_spare(&mut self) -> bool {
        let Some(base) = self.spare.pop() else { return false };
        self.heap_bytes -= CHUNK_BYTES;
        if let Some(b) = &self.budget {
            b.bytes.fetch_sub(CHUNK_BYTES, Relaxed);
            b.spare.fetch_sub(CHUNK_BYTES, Relaxed);
        }
        // SAFETY: a spare chunk came from alloc_zeroed with this layout and is unused.
        unsafe { alloc::dealloc(base as *mut u8, chunk_layout()) };
        true
    }

    /// Counts `bytes` of a thread's register stack against the heap limit, as if they were
    /// cells: the registers a run keeps are data it keeps alive [limit.memory].
    pub fn reserve_stack(&mut self, bytes: usize) -> Result<(), OutOfMemory> {
        self.grow(bytes)
    }

    /// Returns what [`Heap::reserve_stack`] counted for a thread that ended.
    pub fn release_stack(&mut self, bytes: usize) {
        self.heap_bytes -= bytes;
        if let Some(b) = &self.budget {
            b.bytes.fetch_sub(bytes, Relaxed);
        }
    }

    /// A zeroed cell of `words` words (at least 2) with `header` in word 0.
    ///
    /// Cells come zeroed already (the *zeroed-free-memory* invariant: every free-list cell and
    /// every bump region is zero except a free cell's link in word 1; fresh chunks and large
    /// cells come from `alloc_zeroed`, spare chunks are cleared on reuse, and the sweep clears
    /// each run of dead cells with one fill), so only the link word needs clearing here.
    /// (Kept out of line: inlined into the interpreter loop it costs the loop registers.)
    #[inline(never)]
    fn alloc(&mut self, words: usize, header: u64) -> Result<*mut u64, OutOfMemory> {
        debug_assert!(words >= HEADER_WORDS);
        self.bytes_since_gc += words * 8;
        if self.bytes_since_gc >= self.threshold {
            self.gc_requested = true;
            if let Some(b) = &self.budget {
                b.gc.store(true, Relaxed);
            }
        }
        let p = if words > MAX_SMALL_WORDS { self.alloc_large(words)? } else { self.alloc_small(words)? };
        // SAFETY: `p` is a fresh cell of at least `words` (>= 2) words that nothing else
        // references, zero but for word 1 (zeroed-free-memory invariant above).
        unsafe {
            *p.add(1) = self.tag;
            *p = header;
        }
        Ok(p)
    }

    fn alloc_small(&mut self, words: usize) -> Result<*mut u64, OutOfMemory> {
        let c = CLASS_OF_WORDS[words] as usize;
        let head = self.free[c];
        if !head.is_null() {
            // SAFETY: free-list cells are live chunk memory; word 1 links to the next free cell.
            self.free[c] = unsafe { *head.add(1) } as *mut u64;
            return Ok(head);
        }
        let size = SIZE_CLASSES[c];
        let (cur, end) = self.bump[c];
        // SAFETY: `cur` and `end` delimit the unused tail of one chunk (or are both null).
        if !cur.is_null() && unsafe { cur.add(size) } <= end {
            self.bump[c].0 = unsafe { cur.add(size) };
            return Ok(cur);
        }
        let base = match self.spare.pop() {
            Some(b) => {
                // SAFETY: a spare chunk is CHUNK_BYTES of memory owned by the heap, unused.
                unsafe { ptr::write_bytes(b, 0, CHUNK_WORDS) };
                if let Some(budget) = &self.budget {
                    budget.spare.fetch_sub(CHUNK_BYTES, Relaxed);
                }
                // Taking a spare into use shrinks the room as a fresh chunk does (`near_limit`).
                self.took();
                b
            }
            None => {
                self.grow(CHUNK_BYTES)?;
                // SAFETY: the layout has a non-zero size.
                let b = unsafe { alloc::alloc_zeroed(chunk_layout()) } as *mut u64;
                if b.is_null() {
                    return Err(OutOfMemory);
                }
                b
            }
        };
        self.chunks.push(Chunk { base, class: c as u8 });
        let cells = CHUNK_WORDS / size;
        // SAFETY: both pointers stay inside (or one past) the chunk.
        self.bump[c] = (unsafe { base.add(size) }, unsafe { base.add(cells * size) });
        Ok(base)
    }

    fn alloc_large(&mut self, words: usize) -> Result<*mut u64, OutOfMemory> {
        let layout = Layout::array::<u64>(words).map_err(|_| OutOfMemory)?;
        self.grow(layout.size())?;
        // SAFETY: the layout has a non-zero size (words > MAX_SMALL_WORDS).
        let p = unsafe { alloc::alloc_zeroed(layout) } as *mut u64;
        if p.is_null() {
            return Err(OutOfMemory);
        }
        self.large.push(Large { base: p, words });
        Ok(p)
    }

    // ---- constructors ----------------------------------------------------------------------

    pub fn new_object(&mut self, class: u32, nslots: usize) -> Result<Value, OutOfMemory> {
        let header = ((class as u64) << 32) | Kind::Object as u64;
        Ok(self.alloc(HEADER_WORDS + nslots, header)? as Value)
    }

    pub fn new_array(&mut self, len: usize) -> Result<Value, OutOfMemory> {
        let storage = if len == 0 { NIL } else { self.alloc(HEADER_WORDS + len, Kind::Storage as u64)? as Value };
        let a = self.alloc(ARRAY_WORDS, Kind::Array as u64)?;
        // SAFETY: `a` is a fresh cell of ARRAY_WORDS words.
        unsafe {
            word(a, ARRAY_LEN).store(len as u64, Relaxed);
            word(a, ARRAY_CAP).store(len as u64, Relaxed);
            word(a, ARRAY_STORAGE).store(storage, Relaxed);
        }
        Ok(a as Value)
    }

    /// A zeroed array storage cell with room for `cap` elements (for `apush` under the STM,
    /// which moves the elements itself, through the barriers).
    pub fn new_storage(&mut self, cap: usize) -> Result<Value, OutOfMemory> {
        Ok(self.alloc(HEADER_WORDS + cap, Kind::Storage as u64)? as Value)
    }

    pub fn new_string(&mut self, bytes: &[u8]) -> Result<Value, OutOfMemory> {
        self.new_string_from(&[bytes])
    }

    /// A string of the given parts concatenated. The parts may point into this heap: allocation
    /// never frees a cell.
    pub fn new_string_from(&mut self, parts: &[&[u8]]) -> Result<Value, OutOfMemory> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let p = self.alloc(STR_BYTES + len.div_ceil(8), Kind::Str as u64)?;
        // SAFETY: `p` is a fresh string cell; STR_LEN lies inside it.
        unsafe { word(p, STR_LEN).store(len as u64, Relaxed) };
        let mut at = 0;
        for part in parts {
            // SAFETY: the cell has room for `len` bytes from word STR_BYTES; the source is
            // another cell or host memory, never the fresh cell itself.
            unsafe {
                ptr::copy_nonoverlapping(part.as_ptr(), (p.add(STR_BYTES) as *mut u8).add(at), part.len());
            }
            at += part.len();
        }
        Ok(p as Value)
    }

    /// The concatenation of strings `x` and `y` (the empty string unless both are strings).
    ///
    /// # Safety
    /// `x` and `y` are immediates or live cells, as for [`Heap::kind`].
    pub unsafe fn concat_strings(&mut self, x: Value, y: Value) -> Result<Value, OutOfMemory> {
        // SAFETY: the caller's contract.
        let (lx, ly) = match unsafe { (self.str_bytes(x), self.str_bytes(y)) } {
            (Some(a), Some(b)) => (a.len(), b.len()),
            _ => return self.new_string(b""),
        };
        let len = lx + ly;
        let p = self.alloc(STR_BYTES + len.div_ceil(8), Kind::Str as u64)?;
        // SAFETY: `p` is a fresh string cell.
        unsafe { word(p, STR_LEN).store(len as u64, Relaxed) };
        for (src, at, n) in [(cell(x), 0, lx), (cell(y), lx, ly)] {
            // SAFETY: `src` is a live string cell of `n` bytes (checked above; allocation never
            // frees a cell), and the fresh cell has room for `len` bytes; they do not overlap.
            unsafe {
                ptr::copy_nonoverlapping(src.add(STR_BYTES) as *const u8, (p.add(STR_BYTES) as *mut u8).add(at), n);
            }
        }
        Ok(p as Value)
    }

    pub fn new_boxed_int(&mut self, i: i64) -> Result<Value, OutOfMemory> {
        let p = self.alloc(3, Kind::BoxInt as u64)?;
        // SAFETY: `p` is a fresh cell of 3 words.
        unsafe { word(p, 2).store(i as u64, Relaxed) };
        Ok(p as Value)
    }

    pub fn new_boxed_float(&mut self, f: f64) -> Result<Value, OutOfMemory> {
        let p = self.alloc(3, Kind::BoxFloat as u64)?;
        // SAFETY: `p` is a fresh cell of 3 words.
        unsafe { word(p, 2).store(f.to_bits(), Relaxed) };
        Ok(p as Value)
    }

    // ---- accessors ---------------------------------------------------------------------------
    //
    // They read whatever cell a word points to, so they are `unsafe`: no check could tell a
    // live cell from a freed one or from a forged address. Those that take any value check the
    // tag and the cell kind first (a wrong type is `None`, never UB), so their one precondition
    // is liveness. Values in the registers of a running thread satisfy it (engine invariant,
    // ARCHITECTURE.md: collection only at safepoints, with every register as a root).

    /// The kind of the cell `v` refers to, `None` for an immediate.
    ///
    /// # Safety
    /// `v` is an immediate (including nil) or a heap reference to a live cell of this run (of
    /// any of its heaps): the collector has not freed it since it was allocated.
    #[inline(always)]
    pub unsafe fn kind(&self, v: Value) -> Option<Kind> {
        if !is_heap(v) {
            return None;
        }
        // SAFETY: a live cell (the caller's contract); word 0 is the header.
        Some(match unsafe { word(cell(v), 0) }.load(Relaxed) & KIND_MASK {
            1 => Kind::Object,
            2 => Kind::Array,
            3 => Kind::Storage,
            4 => Kind::Str,
            5 => Kind::BoxInt,
            6 => Kind::BoxFloat,
            _ => Kind::Free,
        })
    }

    /// The class index of an object, `None` for any other value.
    ///
    /// # Safety
    /// As for [`Heap::kind`]: `v` is an immediate or a live cell.
    #[inline(always)]
    pub unsafe fn object_class(&self, v: Value) -> Option<u32> {
        if !is_heap(v) {
            return None;
        }
        // SAFETY: a live cell (the caller's contract); word 0 is the header.
        let h = unsafe { word(cell(v), 0) }.load(Relaxed);
        if h & KIND_MASK == Kind::Object as u64 {
            Some((h >> 32) as u32)
        } else {
            None
        }
    }

    /// Slot `slot` of object `v`.
    ///
    /// # Safety
    /// `v` is a live object (not merely any value: the kind is not checked) whose class has more
    /// than `slot` fields. The interpreter knows this from the class check and
    /// [verify.field-slot].
    #[cfg(test)]
    #[inline(always)]
    pub unsafe fn slot(&self, v: Value, slot: usize) -> Value {
        // SAFETY: the caller's contract.
        unsafe { word(cell(v), HEADER_WORDS + slot) }.load(Relaxed)
    }

    /// Stores `x` in slot `slot` of object `v`.
    ///
    /// # Safety
    /// As for [`Heap::slot`].
    #[cfg(test)]
    #[inline(always)]
    pub unsafe fn set_slot(&self, v: Value, slot: usize, x: Value) {
        // SAFETY: the caller's contract.
        unsafe { word(cell(v), HEADER_WORDS + slot) }.store(x, Relaxed)
    }

    /// The integer of a boxed int, `None` for any other value.
    ///
    /// # Safety
    /// As for [`Heap::kind`]: `v` is an immediate or a live cell.
    pub unsafe fn boxed_int(&self, v: Value) -> Option<i64> {
        // SAFETY: the caller's contract; a BoxInt cell has its bits in word 2.
        unsafe { (self.kind(v)? == Kind::BoxInt).then(|| word(cell(v), 2).load(Relaxed) as i64) }
    }

    /// The float of a boxed float, `None` for any other value.
    ///
    /// # Safety
    /// As for [`Heap::kind`]: `v` is an immediate or a live cell.
    pub unsafe fn boxed_float(&self, v: Value) -> Option<f64> {
        // SAFETY: the caller's contract; a BoxFloat cell has its bits in word 2.
        unsafe { (self.kind(v)? == Kind::BoxFloat).then(|| f64::from_bits(word(cell(v), 2).load(Relaxed))) }
    }

    /// The bytes of a string, `None` for any other value. The borrow of the heap keeps the cell
    /// alive (collection needs `&mut Heap`).
    ///
    /// # Safety
    /// As for [`Heap::kind`]: `v` is an immediate or a live cell (of this heap or, in a parallel
    /// run, of another heap of the run, which collects only when this one does).
    pub unsafe fn str_bytes(&self, v: Value) -> Option<&[u8]> {
        // SAFETY: the caller's contract.
        if unsafe { self.kind(v) }? != Kind::Str {
            return None;
        }
        let p = cell(v);
        // SAFETY: a live string cell: `len` initialised bytes from word STR_BYTES, never written
        // after construction, and live while `self` is borrowed (no collection).
        unsafe {
            let len = word(p, STR_LEN).load(Relaxed) as usize;
            Some(std::slice::from_raw_parts(p.add(STR_BYTES) as *const u8, len))
        }
    }

    /// Whether `v` is an array.
    ///
    /// # Safety
    /// As for [`Heap::kind`]: `v` is an immediate or a live cell.
    #[inline(always)]
    pub unsafe fn is_array(&self, v: Value) -> bool {
        // SAFETY: a live cell if a reference (the caller's contract); word 0 is the header.
        is_heap(v) && unsafe { word(cell(v), 0) }.load(Relaxed) & KIND_MASK == Kind::Array as u64
    }

    /// Length of array `v`.
    ///
    /// # Safety
    /// `v` is a live array (checked with [`Heap::is_array`]).
    #[inline(always)]
    pub unsafe fn array_len(&self, v: Value) -> usize {
        debug_assert!(unsafe { self.is_array(v) });
        // SAFETY: the caller's contract.
        unsafe { word(cell(v), ARRAY_LEN) }.load(Relaxed) as usize
    }

    /// Element `i` of array `v`.
    ///
    /// # Safety
    /// `v` is a live array and `i < array_len(v)`.
    #[cfg(test)]
    #[inline(always)]
    pub unsafe fn array_get(&self, v: Value, i: usize) -> Value {
        debug_assert!(i < unsafe { self.array_len(v) });
        // SAFETY: the caller's contract: a live array has a storage cell of at least `len`
        // elements (an array of length 0 has none, and then no `i` qualifies).
        unsafe {
            let storage = cell(word(cell(v), ARRAY_STORAGE).load(Relaxed));
            word(storage, HEADER_WORDS + i).load(Relaxed)
        }
    }

    /// Stores `x` as element `i` of array `v`.
    ///
    /// # Safety
    /// As for [`Heap::array_get`].
    #[cfg(test)]
    #[inline(always)]
    pub unsafe fn array_set(&self, v: Value, i: usize, x: Value) {
        debug_assert!(i < unsafe { self.array_len(v) });
        // SAFETY: as in `array_get`.
        unsafe {
            let storage = cell(word(cell(v), ARRAY_STORAGE).load(Relaxed));
            word(storage, HEADER_WORDS + i).store(x, Relaxed)
        }
    }

    /// Appends `x` to array `v`, growing its storage geometrically.
    ///
    /// # Safety
    /// `v` is a live array (checked with [`Heap::is_array`]) that no other OS thread accesses
    /// meanwhile (this writes without the STM's barriers).
    pub unsafe fn array_push(&mut self, v: Value, x: Value) -> Result<(), OutOfMemory> {
        debug_assert!(unsafe { self.is_array(v) });
        let a = cell(v);
        // SAFETY (the three blocks below): `a` is a live array cell (the caller's contract),
        // its storage cell (when `len > 0` or `cap > 0`) has room for `cap` elements, and a fresh
        // storage cell for `new_cap`; allocation never frees a cell.
        let (len, cap) =
            unsafe { (word(a, ARRAY_LEN).load(Relaxed) as usize, word(a, ARRAY_CAP).load(Relaxed) as usize) };
        if len == cap {
            let new_cap = (cap * 2).max(4);
            let fresh = self.alloc(HEADER_WORDS + new_cap, Kind::Storage as u64)?;
            unsafe {
                let old = cell(word(a, ARRAY_STORAGE).load(Relaxed));
                for i in 0..len {
                    word(fresh, HEADER_WORDS + i).store(word(old, HEADER_WORDS + i).load(Relaxed), Relaxed);
                }
                word(a, ARRAY_STORAGE).store(fresh as Value, Relaxed);
                word(a, ARRAY_CAP).store(new_cap as u64, Relaxed);
            }
        }
        unsafe {
            let storage = cell(word(a, ARRAY_STORAGE).load(Relaxed));
            word(storage, HEADER_WORDS + len).store(x, Relaxed);
            word(a, ARRAY_LEN).store(len as u64 + 1, Relaxed);
        }
        Ok(())
    }

    // ---- collection ------------------------------------------------------------------------

    /// Marks everything reachable from `roots` and frees the rest. `nfields[c]` is the number of
    /// slots of class `c`'s instances.
    ///
    /// # Safety
    /// As for [`Heap::collect_all`] with this heap alone.
    pub unsafe fn collect(&mut self, nfields: &[u32], roots: impl IntoIterator<Item = Value>) {
        // SAFETY: the caller's contract.
        let (live, pause) = unsafe { Heap::collect_all(&mut [&mut *self], nfields, roots) };
        self.stats.collections += 1;
        self.stats.live_bytes_after_last_gc = live;
        self.stats.pause_total += pause;
    }

    /// Collects several heaps at once (the heaps of one run's OS threads, whose cells point into
    /// each other): marks from `roots` across all of them, then sweeps each. Every heap gets the
    /// same threshold, the bytes that survived in all of them. Returns those bytes and the pause.
    ///
    /// # Safety
    /// - Every root is an immediate or a live cell of one of `heaps`, and every cell reachable
    ///   from the roots lies in one of `heaps` (all the heaps of the run).
    /// - `nfields[c]` is the slot count of the objects of class `c` in these heaps.
    /// - Afterwards every cell not reachable from `roots` is freed: the caller holds no other
    ///   heap reference it will use again. The VM collects only at safepoints, with the
    ///   constants, every thread's live registers and results as roots (ARCHITECTURE.md), so
    ///   nothing in Rust locals survives a collection.
    pub unsafe fn collect_all(
        heaps: &mut [&mut Heap],
        nfields: &[u32],
        roots: impl IntoIterator<Item = Value>,
    ) -> (usize, Duration) {
        let start = Instant::now();
        let Some(first) = heaps.first_mut() else { return (0, Duration::ZERO) };
        let mut stack = std::mem::take(&mut first.mark_stack);
        for v in roots {
            // SAFETY: a root is an immediate or a live cell (the caller's contract).
            unsafe { mark(v, &mut stack) };
        }
        while let Some(p) = stack.pop() {
            // SAFETY: `mark` pushes only live objects and arrays; their slots (up to the class's
            // field count), their length and storage words and the storage's first `len`
            // elements lie inside them, and every value stored there is an immediate or a live
            // cell (the heap invariant: the cells reachable from the roots are live).
            unsafe { Heap::trace(p, nfields, &mut stack) };
        }
        heaps[0].mark_stack = stack;
        let live: usize = heaps.iter_mut().map(|h| h.sweep()).sum();
        // Spare chunks are held but free, and a heap's spares are no use to the others': they
        // could keep another heap from growing while the room in use says there is plenty. So
        // all the heaps keep at most a quarter of the room left in spares, the rest goes back.
        let max = heaps[0].max_heap_bytes;
        let in_use: usize = heaps.iter().map(|h| h.in_use()).sum();
        let mut keep = max.saturating_sub(in_use) / 4 / CHUNK_BYTES;
        for h in heaps.iter_mut() {
            while h.spare.len() > keep {
                h.free_spare();
            }
            keep -= h.spare.len();
        }
        if let Some(b) = heaps[0].budget.as_ref() {
            b.gc.store(false, Relaxed);
            b.after_gc.store(b.bytes.load(Relaxed).saturating_sub(b.spare.load(Relaxed)), Relaxed);
        }
        let pause = start.elapsed();
        for h in heaps.iter_mut() {
            h.bytes_since_gc = 0;
            h.threshold = live.max(h.min_threshold);
            h.gc_requested = false;
            h.after_gc = h.in_use();
        }
        (live, pause)
    }

    /// Marks what the object or array at `p` refers to.
    ///
    /// # Safety
    /// `p` is a live object or array (what [`mark`] pushes), every value in it is an immediate
    /// or a live cell, and `nfields` is as for [`Heap::collect_all`].
    unsafe fn trace(p: *mut u64, nfields: &[u32], stack: &mut Vec<*mut u64>) {
        // SAFETY: the words read lie inside live cells (the caller's contract), and so do the
        // values passed to `mark`.
        unsafe {
            let h = word(p, 0).load(Relaxed);
            if h & KIND_MASK == Kind::Object as u64 {
                let n = nfields.get((h >> 32) as usize).copied().unwrap_or(0) as usize;
                for i in 0..n {
                    mark(word(p, HEADER_WORDS + i).load(Relaxed), stack);
                }
            } else {
                let len = word(p, ARRAY_LEN).load(Relaxed) as usize;
                let storage = word(p, ARRAY_STORAGE).load(Relaxed);
                if storage != NIL {
                    let s = cell(storage);
                    let sh = word(s, 0).load(Relaxed);
                    word(s, 0).store(sh | MARK, Relaxed);
                    for i in 0..len {
                        mark(word(s, HEADER_WORDS + i).load(Relaxed), stack);
                    }
                }
            }
        }
    }

    /// Frees unmarked cells, clears marks, rebuilds the free lists; returns the live bytes.
    fn sweep(&mut self) -> usize {
        let mut live_bytes = 0;
        self.free = [ptr::null_mut(); N_CLASSES];
        self.bump = [(ptr::null_mut(), ptr::null_mut()); N_CLASSES];
        let mut tails: [*mut u64; N_CLASSES] = [ptr::null_mut(); N_CLASSES];
        let mut kept = Vec::with_capacity(self.chunks.len());
        for chunk in std::mem::take(&mut self.chunks) {
            let size = SIZE_CLASSES[chunk.class as usize];
            let cells = CHUNK_WORDS / size;
            let mut live = 0;
            for i in 0..cells {
                // SAFETY: i * size < CHUNK_WORDS: the cell lies inside the chunk, which the heap
                // owns; word 0 is its header.
                let header = unsafe { word(chunk.base.add(i * size), 0) };
                let h = header.load(Relaxed);
                if h & KIND_MASK == Kind::Free as u64 {
                    continue;
                }
                if h & MARK != 0 {
                    header.store(h & !MARK, Relaxed);
                    live += 1;
                } else {
                    header.store(0, Relaxed);
                }
            }
            if live == 0 {
                self.release_chunk(chunk.base);
                continue;
            }
            live_bytes += live * size * 8;
            let class = chunk.class as usize;
            // Dead cells, in runs: each run is cleared with one fill (zeroed-free-memory
            // invariant, see `alloc`), then linked into the free list in address order.
            let mut run_start: Option<usize> = None;
            for i in 0..=cells {
                let free = i < cells && {
                    // SAFETY: as above.
                    unsafe { word(chunk.base.add(i * size), 0) }.load(Relaxed) == 0
                };
                if free {
                    run_start.get_or_insert(i);
                    continue;
                }
                let Some(from) = run_start.take() else { continue };
                // SAFETY: cells from..i lie inside the chunk, are dead (unreachable) and not on
                // any free list (the lists are being rebuilt), so nothing reads them meanwhile.
                unsafe { ptr::write_bytes(chunk.base.add(from * size), 0, (i - from) * size) };
                for k in from..i {
                    // SAFETY: as above.
                    let c = unsafe { chunk.base.add(k * size) };
                    if tails[class].is_null() {
                        self.free[class] = c;
                    } else {
                        // SAFETY: the tail is a cell of this chunk or an earlier kept one.
                        unsafe { word(tails[class], 1) }.store(c as u64, Relaxed);
                    }
                    tails[class] = c;
                }
            }
            kept.push(chunk);
        }
        self.chunks = kept;
        let mut i = 0;
        while i < self.large.len() {
            let l = &self.large[i];
            // SAFETY: a large cell the heap owns; word 0 is its header.
            let header = unsafe { word(l.base, 0) };
            let h = header.load(Relaxed);
            if h & MARK != 0 {
                header.store(h & !MARK, Relaxed);
                live_bytes += l.words * 8;
                i += 1;
            } else {
                let l = self.large.swap_remove(i);
                self.free_large(l);
            }
        }
        live_bytes
    }

    fn release_chunk(&mut self, base: *mut u64) {
        if self.spare.len() < SPARE_CHUNKS {
            self.spare.push(base);
            if let Some(b) = &self.budget {
                b.spare.fetch_add(CHUNK_BYTES, Relaxed);
            }
        } else {
            self.heap_bytes -= CHUNK_BYTES;
            if let Some(b) = &self.budget {
                b.bytes.fetch_sub(CHUNK_BYTES, Relaxed);
            }
            // SAFETY: `base` came from alloc_zeroed with this layout and is no longer used.
            unsafe { alloc::dealloc(base as *mut u8, chunk_layout()) };
        }
    }

    fn free_large(&mut self, l: Large) {
        // The layout was valid when the cell was allocated.
        if let Ok(layout) = Layout::array::<u64>(l.words) {
            self.heap_bytes -= layout.size();
            if let Some(b) = &self.budget {
                b.bytes.fetch_sub(layout.size(), Relaxed);
            }
            // SAFETY: `l.base` came from alloc_zeroed with this layout and is unreachable.
            unsafe { alloc::dealloc(l.base as *mut u8, layout) };
        }
    }
}

/// Sets the mark bit of the cell `v` refers to, if any, and pushes it when it was an unmarked
/// object or array.
///
/// # Safety
/// `v` is an immediate or a live cell, as for [`Heap::kind`].
#[inline(always)]
unsafe fn mark(v: Value, stack: &mut Vec<*mut u64>) {
    if !is_heap(v) {
        return;
    }
    let p = cell(v);
    // SAFETY: a live cell (the caller's contract); word 0 is its header.
    let header = unsafe { word(p, 0) };
    let h = header.load(Relaxed);
    if h & MARK != 0 {
        return;
    }
    header.store(h | MARK, Relaxed);
    let k = h & KIND_MASK;
    if k == Kind::Object as u64 || k == Kind::Array as u64 {
        stack.push(p);
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        for chunk in std::mem::take(&mut self.chunks) {
            // SAFETY: every chunk came from alloc_zeroed with this layout; the heap is going away.
            unsafe { alloc::dealloc(chunk.base as *mut u8, chunk_layout()) };
        }
        for base in std::mem::take(&mut self.spare) {
            // SAFETY: as above.
            unsafe { alloc::dealloc(base as *mut u8, chunk_layout()) };
        }
        for l in std::mem::take(&mut self.large) {
            self.free_large(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::small_int;

    #[test]
    fn size_classes_cover_every_small_size() {
        for (w, &c) in CLASS_OF_WORDS.iter().enumerate().skip(2) {
            let c = c as usize;
            assert!(SIZE_CLASSES[c] >= w && (c == 0 || SIZE_CLASSES[c - 1] < w), "{w}");
        }
    }

    #[test]
    fn unreachable_cells_are_reused_and_reachable_ones_survive() {
        let mut heap = Heap::new(1 << 30, DEFAULT_GC_THRESHOLD);
        let nfields = [2u32];
        let keep = heap.new_object(0, 2).unwrap();
        let inner = heap.new_string(b"kept").unwrap();
        let arr = heap.new_array(0).unwrap();
        // SAFETY (every block of this test): `keep` is an object of class 0 (2 slots), `arr` an
        // array, both fresh; nothing is collected before `collect`, whose root `keep` reaches
        // `inner`, `arr` and the strings in it; the garbage objects are only compared after.
        unsafe {
            heap.set_slot(keep, 0, inner);
            for i in 0..100 {
                let s = heap.new_string(format!("s{i}").as_bytes()).unwrap();
                heap.array_push(arr, s).unwrap();
            }
            heap.set_slot(keep, 1, arr);
        }
        let garbage: Vec<Value> = (0..1000).map(|_| heap.new_object(0, 2).unwrap()).collect();
        unsafe {
            heap.collect(&nfields, [keep]);
            assert_eq!(heap.str_bytes(heap.slot(keep, 0)), Some(&b"kept"[..]));
            let arr = heap.slot(keep, 1);
            assert_eq!(heap.array_len(arr), 100);
            assert_eq!(heap.str_bytes(heap.array_get(arr, 99)), Some(&b"s99"[..]));
        }
        // The freed object cells are handed out again.
        let again = heap.new_object(0, 2).unwrap();
        assert!(garbage.contains(&again));
    }

    #[test]
    fn repeated_garbage_keeps_the_heap_bounded() {
        let mut heap = Heap::new(1 << 30, DEFAULT_GC_THRESHOLD);
        let big = heap.new_array(100_000).unwrap(); // a large cell that stays live
        for round in 0..50 {
            for _ in 0..100_000 {
                heap.new_object(0, 2).unwrap();
            }
            heap.new_array(50_000).unwrap(); // a large cell that dies
                                             // SAFETY: `big` is a live array (the only root) of 100_000 elements.
            unsafe {
                heap.array_set(big, round, small_int(round as i64).unwrap());
                heap.collect(&[2], [big]);
            }
        }
        assert!(heap.heap_bytes() < 8 << 20, "heap grew to {}", heap.heap_bytes());
        // SAFETY: as above.
        assert_eq!(unsafe { heap.array_get(big, 49) }, small_int(49).unwrap());
    }

    /// Allocates `n` objects of 4 slots, each garbage once the next is made, collecting as the
    /// VM does (at the next safepoint, here the next allocation, when one is requested) with the
    /// last object as the only root; returns the collections.
    fn garbage_loop(heap: &mut Heap, n: usize) -> Result<u64, OutOfMemory> {
        let mut last = NIL;
        for _ in 0..n {
            if heap.gc_requested {
                // SAFETY: `last` is the live object just made (or nil); nothing else is used again.
                unsafe { heap.collect(&[4], [last]) };
            }
            last = heap.new_object(0, 4)?;
        }
        Ok(heap.stats.collections)
    }

    /// [limit.memory]: garbage never counts. 14 MiB of garbage objects under 3 MiB, and under
    /// two chunks (one for the live object, one to allocate into), the smallest limit that can
    /// hold them; the engine stopped with out of memory under 3 MiB, reusing the spare chunks a
    /// collection kept without asking for the next one.
    #[test]
    fn garbage_objects_never_exhaust_a_small_limit() {
        for max in [3 << 20, 2 * CHUNK_BYTES] {
            let mut heap = Heap::new(max, DEFAULT_GC_THRESHOLD);
            let collections = garbage_loop(&mut heap, 300_000).unwrap_or_else(|_| panic!("out of memory under {max}"));
            assert!(collections > 0, "{max}");
            assert!(heap.stats.peak_heap_bytes <= max, "{max}");
        }
    }

    /// A collection is requested while another chunk still fits, when the last one left two
    /// chunks of room or more: a size class taking the chunk that makes the request must not
    /// leave another one without room before the safepoint (`near_limit`).
    #[test]
    fn a_collection_is_requested_while_a_chunk_of_room_is_left() {
        let max = 16 * CHUNK_BYTES;
        let mut heap = Heap::new(max, DEFAULT_GC_THRESHOLD);
        // Room 2.5 chunks after a collection: half of it is more than one chunk.
        heap.reserve_stack(max - 5 * CHUNK_BYTES / 2).unwrap();
        // SAFETY: nothing allocated, no root.
        unsafe { heap.collect(&[], []) };
        assert!(!heap.gc_requested);
        heap.new_object(0, 4).unwrap();
        assert!(heap.gc_requested, "1.5 chunks of room left and no collection requested");
        // Another size class (5 words, the object's is 6) still gets a chunk before the safepoint.
        assert!(heap.new_array(0).is_ok());
    }

    /// The heaps of a parallel run share the limit but not their spare chunks: after a
    /// collection they keep at most a quarter of the room in spares, or one thread's garbage,
    /// collected, would keep another from growing although nearly nothing is in use.
    #[test]
    fn spare_chunks_do_not_keep_another_heap_from_growing() {
        let max = 16 * CHUNK_BYTES;
        let budget = Arc::new(Budget::default());
        let mut a = Heap::shared(max, DEFAULT_GC_THRESHOLD, budget.clone());
        let mut b = Heap::shared(max, DEFAULT_GC_THRESHOLD, budget.clone());
        let per_chunk = CHUNK_WORDS / 6;
        for _ in 0..12 * per_chunk {
            a.new_object(0, 4).unwrap();
        }
        // SAFETY: no root: every cell of both heaps is garbage and never used again.
        unsafe { Heap::collect_all(&mut [&mut a, &mut b], &[4], []) };
        assert!(budget.bytes.load(Relaxed) <= max / 4, "{} bytes held", budget.bytes.load(Relaxed));
        for _ in 0..8 * per_chunk {
            b.new_object(0, 4).expect("room for 8 chunks of 16 with nothing live");
        }
    }

    /// Spare chunks are free memory: a large cell that fits in the limit but for them gets them
    /// back from the system rather than failing.
    #[test]
    fn spare_chunks_give_way_to_a_large_cell() {
        let max = 16 * CHUNK_BYTES;
        let mut heap = Heap::new(max, DEFAULT_GC_THRESHOLD);
        for _ in 0..8 * (CHUNK_WORDS / 6) {
            heap.new_object(0, 4).unwrap();
        }
        // SAFETY: no root: every cell is garbage and never used again.
        unsafe { heap.collect(&[4], []) };
        assert!(!heap.spare.is_empty());
        assert!(heap.new_array(14 * CHUNK_WORDS).is_ok());
    }

    #[test]
    fn exceeding_the_limit_is_an_error_not_a_crash() {
        let mut heap = Heap::new(1 << 20, DEFAULT_GC_THRESHOLD);
        assert_eq!(heap.new_array(1 << 20).err(), Some(OutOfMemory));
        assert!(heap.new_array(10).is_ok());
    }
}
