//! One transaction: NOrec barriers (value-logged reads, redo-logged writes), validation,
//! commit and rollback, inevitability. `STM.md` states the protocol and why it is correct;
//! comments here name the step of that argument each line carries.

use super::clock::{Stm, INEVITABLE, UNIT, WRITING};
use super::read_filter::{self, ReadFilter};
use super::redo_index::{self, Found, RedoIndex};
use super::sync::{fence, AtomicU64, Ordering, Spin};

/// Why a transaction must roll back. It has had no effect on shared memory; the caller
/// discards it ([`Transaction::abort`]) and re-executes from the transaction's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abort {
    /// What conflicted, for the conflict report.
    pub kind: AbortKind,
    /// Address of the word found changed (0 when none is to blame), for conflict reports.
    pub word: usize,
}

/// Conflict kinds, as the conflict report groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AbortKind {
    /// A word this transaction read (and did not write) was changed by a commit.
    WriteRead,
    /// A word this transaction read and wrote was changed by a commit.
    WriteWrite,
    /// The inevitable token was busy when this transaction asked for it mid-way.
    Inevitable,
}

/// What a successful commit tells the schedule recorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// The serialization point. A writer (it wrote, or had effects) is the `serial`-th writer
    /// commit, numbered from 1, unique. A read-only transaction serializes right after writer
    /// `serial` (0: before every writer), in any order among read-only ones with the same serial.
    pub serial: u64,
    /// It wrote no word and had no effect, so it took no serial of its own.
    pub read_only: bool,
    /// It committed holding the inevitable token (it could not have aborted).
    pub inevitable: bool,
}

impl CommitInfo {
    /// Sorting committed transactions by this key (stably, so that each thread keeps its own
    /// order) gives a serialization order: writer `k`, then the read-only ones that saw `k`.
    pub fn order_key(&self) -> (u64, bool) {
        (self.serial, self.read_only)
    }
}

/// Per-OS-thread STM state that outlives transactions: the private-object tag source and the
/// recycled log buffers.
pub struct TxThread {
    slot: u64,
    epoch: u64,
    reads: Vec<(&'static AtomicU64, u64)>,
    writes: Vec<(&'static AtomicU64, u64)>,
    index: RedoIndex,
    logged: ReadFilter,
}

/// Bits of a private tag below the epoch: the thread slot, shifted left once, and bit 0 set so
/// that no tag is 0 (the STM word of a shared object).
const SLOT_BITS: u32 = 16;

impl TxThread {
    /// `slot` must be unique among the run's live OS threads and below 2^15.
    pub fn new(slot: u32) -> TxThread {
        debug_assert!(slot < 1 << (SLOT_BITS - 1));
        TxThread {
            slot: u64::from(slot),
            epoch: 0,
            reads: Vec::new(),
            writes: Vec::new(),
            index: RedoIndex::new(),
            logged: ReadFilter::new(),
        }
    }

    fn next_tag(&mut self) -> u64 {
        // [stm.private] A fresh tag per attempt: objects tagged by an earlier transaction of this
        // thread are shared from the moment it committed (publication costs nothing).
        if mutant!(stale_private_tag) {
            self.epoch = self.epoch.max(1);
        } else {
            self.epoch += 1;
        }
        // Epochs have 64 - SLOT_BITS = 47 bits and a slot is never reused within a run, so a tag
        // is unique for the whole run: 2^47 attempts of one thread take longer than any run.
        debug_assert!(self.epoch < 1 << (64 - SLOT_BITS), "private-tag epochs ran out");
        (self.epoch << SLOT_BITS) | (self.slot << 1) | 1
    }
}

/// Reuses a log's buffer under another lifetime. In-place collection keeps the allocation
/// (same element layout) and the closure never runs: the vector is empty.
fn recycle<'b>(mut v: Vec<(&AtomicU64, u64)>) -> Vec<(&'b AtomicU64, u64)> {
    v.clear();
    v.into_iter().map(|_| unreachable!("the vector was cleared")).collect()
}

/// A running transaction over words that live at least `'w`.
pub struct Transaction<'s, 'w> {
    stm: &'s Stm,
    /// Clock value (without the token bit) at which every read so far was consistent.
    snapshot: u64,
    reads: Vec<(&'w AtomicU64, u64)>,
    /// The redo log: the last value written to each word, in first-write order.
    writes: Vec<(&'w AtomicU64, u64)>,
    /// `writes.as_ptr()` as an address, kept with every push, for compiled code (tier 2's
    /// inline read barrier, [`InlineRead`]), which reads an entry's value through it. Safe code
    /// never dereferences it.
    #[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
    writes_base: usize,
    /// Word address → position in `writes`.
    index: RedoIndex,
    /// Words already in `reads` (some of them).
    logged: ReadFilter,
    tag: u64,
    inevitable: bool,
    effects: bool,
    /// Set once the token is released, so that `Drop` does not release it twice.
    done: bool,
}

/// What compiled code reads of a running transaction to take [`Transaction::read`]'s fast path
/// itself, without a call (tier 2's inline read barrier, `jit/tier2/`, `Tr::load_field`):
/// byte offsets from the transaction's address, and the constants of the tables. The fast path
/// it may take, and nothing else: the word's home slot in the redo index is empty (so this
/// transaction did not write it; any other slot content goes to the call), then the word's
/// value, then the clock without the token bit equal to the snapshot (no commit since: the
/// value is consistent [stm.read-consistent]; the loads in this order, as `read`'s fence
/// orders them), then the read filter holding the word's address (it is in the read log
/// already, so `log_read` would do nothing). Then the value is what `read` returns, and `read`
/// would have changed nothing. Or the home slot holds the word's address: this transaction
/// wrote it, and the value is the redo log's entry at the slot's position, as `read` returns it. (An inevitable transaction's `read` returns the word unlogged;
/// the same value, as nothing commits while it holds the token.)
#[derive(Clone, Copy, Debug)]
#[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
pub(crate) struct InlineRead {
    /// `snapshot`, a `u64`.
    pub snapshot: i32,
    /// The `&Stm`, and its `clock` (an `AtomicU64`, a plain word) inside it.
    pub stm: i32,
    pub clock: i32,
    /// The redo index's slots' address, and its shift (a `u32`).
    pub index_base: i32,
    pub index_shift: i32,
    /// The redo log's entries' address; an entry is `write_bytes` bytes, its value at
    /// `write_value`; a slot's position (a `u32`) is at `slot_pos` in the slot.
    pub writes_base: i32,
    pub write_bytes: i64,
    pub write_value: i32,
    pub slot_pos: i32,
    /// The read filter's slots' address.
    pub filter_base: i32,
    /// The index's hash: `((addr >> 3) * hash_mul) >> shift` is the home slot, of
    /// `index_slot_bytes` bytes, its address word first (0: empty).
    pub hash_mul: u64,
    pub index_slot_bytes: i64,
    /// The filter's slots (a power of two; words): `(addr >> 3) & (filter_slots - 1)`.
    pub filter_slots: i64,
    /// The clock's bits that are not the token's.
    pub clock_mask: u64,
}

impl Transaction<'static, 'static> {
    /// The layout [`InlineRead`] describes.
    #[cfg_attr(loom, allow(dead_code))] // (read by tier 2, which is not built under loom)
    pub(crate) const INLINE_READ: InlineRead = InlineRead {
        snapshot: std::mem::offset_of!(Transaction<'static, 'static>, snapshot) as i32,
        stm: std::mem::offset_of!(Transaction<'static, 'static>, stm) as i32,
        clock: std::mem::offset_of!(Stm, clock) as i32,
        index_base: (std::mem::offset_of!(Transaction<'static, 'static>, index) + redo_index::BASE_OFFSET) as i32,
        index_shift: (std::mem::offset_of!(Transaction<'static, 'static>, index) + redo_index::SHIFT_OFFSET) as i32,
        writes_base: std::mem::offset_of!(Transaction<'static, 'static>, writes_base) as i32,
        write_bytes: std::mem::size_of::<(&AtomicU64, u64)>() as i64,
        write_value: std::mem::offset_of!((&'static AtomicU64, u64), 1) as i32,
        slot_pos: redo_index::POS_OFFSET as i32,
        filter_base: (std::mem::offset_of!(Transaction<'static, 'static>, logged) + read_filter::BASE_OFFSET) as i32,
        hash_mul: redo_index::HASH_MUL,
        index_slot_bytes: redo_index::SLOT_BYTES as i64,
        filter_slots: read_filter::SLOTS as i64,
        clock_mask: !INEVITABLE,
    };
}

fn addr(w: &AtomicU64) -> usize {
    w as *const AtomicU64 as usize
}

impl<'s, 'w> Transaction<'s, 'w> {
    /// Starts a normal (optimistic) transaction.
    pub fn begin(stm: &'s Stm, th: &mut TxThread) -> Transaction<'s, 'w> {
        let snapshot = stm.stable_snapshot();
        let writes = recycle(std::mem::take(&mut th.writes));
        Transaction {
            stm,
            snapshot,
            reads: recycle(std::mem::take(&mut th.reads)),
            writes_base: writes.as_ptr() as usize,
            writes,
            // (Left moved out only if the last transaction was dropped without commit or abort.)
            index: match std::mem::replace(&mut th.index, RedoIndex::moved_out()) {
                i if i.is_moved_out() => RedoIndex::new(),
                i => i,
            },
            logged: match std::mem::replace(&mut th.logged, ReadFilter::moved_out()) {
                f if f.is_moved_out() => ReadFilter::new(),
                f => f,
            },
            tag: th.next_tag(),
            inevitable: false,
            effects: false,
            done: false,
        }
    }

    /// Starts an inevitable transaction: waits for the token (FIFO among those waiting),
    /// calling `wait` between checks. Call it at a transaction boundary only, with `wait`
    /// polling the safepoint, so that a stop-the-world request is never held up by the wait.
    pub fn begin_inevitable(stm: &'s Stm, th: &mut TxThread, wait: &mut dyn FnMut()) -> Transaction<'s, 'w> {
        stm.acquire_token_queued(wait);
        let mut tx = Transaction::begin(stm, th);
        tx.inevitable = true;
        tx
    }

    /// Whether this transaction holds the inevitable token (and so will not abort).
    pub fn is_inevitable(&self) -> bool {
        self.inevitable
    }

    /// The STM word value of objects allocated by this transaction: while an object's STM word
    /// equals it, the object is private to this transaction and [`Self::read_in`] /
    /// [`Self::write_in`] access it directly.
    pub fn private_tag(&self) -> u64 {
        self.tag
    }

    /// Records an effect (buffered output, a spawn, a thread end) that needs a unique place in
    /// the serialization order even if nothing was written: the commit then takes the lock.
    pub fn mark_effect(&mut self) {
        self.effects = true;
    }

    #[inline(always)]
    fn lookup_write(&self, w: &AtomicU64) -> Option<usize> {
        self.index.get(addr(w))
    }

    /// The read barrier of a shared word: the value this transaction sees, consistent with
    /// every earlier read (opacity), or `Abort` if that is no longer possible.
    #[inline(always)]
    pub fn read(&mut self, w: &'w AtomicU64) -> Result<u64, Abort> {
        if let Some(i) = self.lookup_write(w) {
            return Ok(self.writes[i].1);
        }
        let v = w.load(Ordering::Relaxed);
        // [stm.read-consistent] If the value came from a write-back, this fence and the
        // committer's release fence make its WRITING bit visible to the clock load below.
        fence(Ordering::Acquire);
        if self.inevitable || self.stm.clock.load(Ordering::Relaxed) & !INEVITABLE != self.snapshot {
            return self.read_moved(w);
        }
        self.log_read(w, v);
        Ok(v)
    }

    /// The rest of [`Self::read`] when this transaction is inevitable or the clock moved since
    /// its snapshot.
    #[inline(never)]
    fn read_moved(&mut self, w: &'w AtomicU64) -> Result<u64, Abort> {
        if self.inevitable {
            // No commit can happen while we hold the token: memory is our snapshot.
            return Ok(w.load(Ordering::Relaxed));
        }
        let mut v = w.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        while self.stm.clock.load(Ordering::Relaxed) & !INEVITABLE != self.snapshot {
            self.snapshot = self.revalidate()?;
            v = w.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
        }
        self.log_read(w, v);
        Ok(v)
    }

    #[inline(always)]
    fn log_read(&mut self, w: &'w AtomicU64, v: u64) {
        if !self.logged.check_and_set(addr(w)) {
            self.reads.push((w, v));
        }
    }

    /// The write barrier of a shared word: buffers the value until commit.
    #[inline(never)]
    pub fn write(&mut self, w: &'w AtomicU64, v: u64) {
        if mutant!(write_in_place) {
            w.store(v, Ordering::Relaxed);
        }
        match self.index.find_or_insert(addr(w), self.writes.len()) {
            Found::At(i) => self.writes[i].1 = v,
            Found::Inserted => {
                self.writes.push((w, v));
                self.writes_base = self.writes.as_ptr() as usize;
            }
        }
    }

    /// Whether an object whose STM word is `stm_word` is private to this transaction.
    #[inline(always)]
    pub fn is_private(&self, stm_word: &AtomicU64) -> bool {
        // Relaxed suffices: a tag equal to ours was stored by this thread (program order);
        // any other value, however stale, is not ours.
        stm_word.load(Ordering::Relaxed) == self.tag
    }

    /// Read barrier for a word of an object whose STM word is `stm_word`.
    #[inline(always)]
    pub fn read_in(&mut self, stm_word: &AtomicU64, w: &'w AtomicU64) -> Result<u64, Abort> {
        if self.is_private(stm_word) {
            return Ok(w.load(Ordering::Relaxed));
        }
        self.read(w)
    }

    /// Write barrier for a word of an object whose STM word is `stm_word`.
    #[inline(always)]
    pub fn write_in(&mut self, stm_word: &AtomicU64, w: &'w AtomicU64, v: u64) {
        if self.is_private(stm_word) {
            w.store(v, Ordering::Relaxed);
        } else {
            self.write(w, v);
        }
    }

    /// Checks that the snapshot is still current, extending it if it is not but every read
    /// still holds. Cheap when nothing committed: one load. Call it before any effect and at
    /// backward jumps.
    pub fn validate(&mut self) -> Result<(), Abort> {
        if self.inevitable {
            return Ok(());
        }
        if self.stm.clock.load(Ordering::Acquire) & !INEVITABLE != self.snapshot {
            self.snapshot = self.revalidate()?;
        }
        Ok(())
    }

    /// Value-based validation: waits out a write-back, checks every logged read against
    /// memory, and returns the clock at which they all held.
    #[inline(never)]
    fn revalidate(&self) -> Result<u64, Abort> {
        let mut spin = Spin::default();
        loop {
            let acquire = if mutant!(missing_acquire) { Ordering::Relaxed } else { Ordering::Acquire };
            let t = self.stm.clock.load(acquire) & !INEVITABLE;
            if t & WRITING != 0 {
                spin.wait();
                continue;
            }
            // (The planted bug `skip_read_validation` trusts the read log without checking it.)
            if !mutant!(skip_read_validation) {
                for &(w, v) in &self.reads {
                    if w.load(Ordering::Relaxed) != v {
                        return Err(self.conflict(w));
                    }
                }
            }
            if !mutant!(missing_acquire) {
                fence(Ordering::Acquire);
            }
            if self.stm.clock.load(Ordering::Relaxed) & !INEVITABLE == t {
                return Ok(t);
            }
        }
    }

    #[cold]
    fn conflict(&self, w: &AtomicU64) -> Abort {
        let kind = if self.lookup_write(w).is_some() { AbortKind::WriteWrite } else { AbortKind::WriteRead };
        Abort { kind, word: addr(w) }
    }

    /// Becomes inevitable mid-way, without waiting: fails with [`AbortKind::Inevitable`] when
    /// the token is held or queued for, and with a conflict when a read no longer holds.
    pub fn become_inevitable(&mut self) -> Result<(), Abort> {
        if self.inevitable {
            return Ok(());
        }
        if !self.stm.try_acquire_token() {
            return Err(Abort { kind: AbortKind::Inevitable, word: 0 });
        }
        // No commit can start now, so this validation stays true until we commit.
        let now = self.stm.stable_snapshot();
        if now != self.snapshot {
            for &(w, v) in &self.reads {
                if w.load(Ordering::Relaxed) != v {
                    self.stm.release_token();
                    return Err(self.conflict(w));
                }
            }
            self.snapshot = now;
        }
        self.inevitable = true;
        Ok(())
    }

    /// Commits: publishes the redo log atomically and returns the serialization point, or
    /// aborts (never for an inevitable transaction).
    pub fn commit(self, th: &mut TxThread) -> Result<CommitInfo, Abort> {
        self.commit_with(th, |_| ()).map(|(info, ())| info)
    }

    /// Commits like [`Self::commit`], running `on_commit` at the serialization point: for a
    /// writer under the commit lock, so that what it appends (buffered output, schedule
    /// entries) lands in serialization order. Keep it short: every other commit waits for it.
    pub fn commit_with<R>(
        mut self,
        th: &mut TxThread,
        on_commit: impl FnOnce(&CommitInfo) -> R,
    ) -> Result<(CommitInfo, R), Abort> {
        let result =
            if self.inevitable { Ok(self.commit_inevitable(on_commit)) } else { self.commit_normal(on_commit) };
        self.done = true;
        self.recycle_into(th);
        result
    }

    fn commit_normal<R>(&mut self, on_commit: impl FnOnce(&CommitInfo) -> R) -> Result<(CommitInfo, R), Abort> {
        if self.writes.is_empty() && !self.effects {
            // [stm.read-only] Every read held at `snapshot`: serialize there, no lock.
            let info = CommitInfo { serial: self.snapshot / UNIT, read_only: true, inevitable: false };
            let r = on_commit(&info);
            return Ok((info, r));
        }
        let clock = &self.stm.clock;
        let mut spin = Spin::default();
        loop {
            // [stm.commit-lock] The lock is taken from our snapshot only: success proves no
            // commit happened since every read was validated.
            let expected = if mutant!(writeback_before_validate) {
                clock.load(Ordering::Acquire) & !(WRITING | INEVITABLE)
            } else {
                self.snapshot
            };
            match clock.compare_exchange(expected, expected | WRITING, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.snapshot = expected;
                    break;
                }
                Err(cur) if cur & (WRITING | INEVITABLE) != 0 => spin.wait(),
                Err(_) => self.snapshot = self.revalidate()?,
            }
        }
        let info = CommitInfo { serial: self.snapshot / UNIT + 1, read_only: false, inevitable: false };
        if mutant!(release_before_writeback) {
            clock.fetch_add(UNIT - WRITING, Ordering::Release);
        }
        // [stm.writeback] Readers that see any of these stores also see WRITING (fence pair).
        fence(Ordering::Release);
        for &(w, v) in &self.writes {
            w.store(v, Ordering::Relaxed);
        }
        let r = on_commit(&info);
        // Clears WRITING and counts the commit, keeping a token bit set meanwhile.
        if !mutant!(release_before_writeback) {
            clock.fetch_add(UNIT - WRITING, Ordering::Release);
        }
        Ok((info, r))
    }

    fn commit_inevitable<R>(&mut self, on_commit: impl FnOnce(&CommitInfo) -> R) -> (CommitInfo, R) {
        let clock = &self.stm.clock;
        if self.writes.is_empty() && !self.effects {
            let info = CommitInfo { serial: self.snapshot / UNIT, read_only: true, inevitable: true };
            let r = on_commit(&info);
            self.stm.release_token();
            return (info, r);
        }
        let info = CommitInfo { serial: self.snapshot / UNIT + 1, read_only: false, inevitable: true };
        if !mutant!(inevitable_skips_writing) {
            clock.fetch_or(WRITING, Ordering::Relaxed);
        }
        fence(Ordering::Release);
        for &(w, v) in &self.writes {
            w.store(v, Ordering::Relaxed);
        }
        let r = on_commit(&info);
        // snapshot | INEVITABLE | WRITING + 1 = snapshot + UNIT: counts the commit, clears both.
        if mutant!(inevitable_skips_writing) {
            clock.fetch_add(UNIT - INEVITABLE, Ordering::Release);
        } else {
            clock.fetch_add(1, Ordering::Release);
        }
        self.stm.next_ticket();
        (info, r)
    }

    /// Rolls back: nothing this transaction did is visible to anyone (writes were only
    /// buffered; private objects it allocated are unreachable garbage once the caller restores
    /// its registers). An inevitable transaction is never aborted by the STM; aborting one
    /// explicitly (an abandoned thread at the end of a run) gives the token back.
    pub fn abort(mut self, th: &mut TxThread) {
        if self.inevitable && !self.done {
            self.stm.release_token();
        }
        self.done = true;
        self.recycle_into(th);
    }

    fn recycle_into(&mut self, th: &mut TxThread) {
        self.logged.clear(self.reads.iter().map(|&(w, _)| addr(w)));
        th.reads = recycle(std::mem::take(&mut self.reads));
        th.writes = recycle(std::mem::take(&mut self.writes));
        self.index.clear();
        th.index = std::mem::replace(&mut self.index, RedoIndex::moved_out());
        th.logged = std::mem::replace(&mut self.logged, ReadFilter::moved_out());
    }
}

impl Drop for Transaction<'_, '_> {
    fn drop(&mut self) {
        // A transaction dropped without commit or abort (a panic, an abandoned thread) must not
        // keep the token, or every later commit would wait forever.
        if self.inevitable && !self.done {
            self.stm.release_token();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn words(n: usize) -> &'static [AtomicU64] {
        Box::leak((0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>().into_boxed_slice())
    }

    /// A word read twice is logged once, and that one entry still catches a commit that
    /// changes it, however many reads of it the log left out.
    #[test]
    fn a_deduplicated_read_still_conflicts() {
        let stm = Stm::new();
        let w = words(300);
        let (mut a, mut b) = (TxThread::new(0), TxThread::new(1));
        for round in 0..3u64 {
            let mut tx = Transaction::begin(&stm, &mut a);
            // Enough distinct words to collide in the filter, each read several times.
            for _ in 0..3 {
                for x in w {
                    assert_eq!(tx.read(x), Ok(round));
                }
            }
            assert!(tx.reads.len() >= w.len() && tx.reads.len() < 2 * w.len(), "{} entries", tx.reads.len());
            let mut other = Transaction::begin(&stm, &mut b);
            for x in w {
                other.write(x, round + 1);
            }
            other.commit(&mut b).unwrap();
            assert_eq!(tx.validate().map_err(|e| e.kind), Err(AbortKind::WriteRead));
            tx.abort(&mut a);
        }
    }

    /// Reads see the transaction's own writes, through index growth and across transactions
    /// whose logs were recycled.
    #[test]
    fn reads_see_own_writes_across_recycled_logs() {
        let stm = Stm::new();
        let w = words(1000);
        let mut t = TxThread::new(0);
        for n in [3usize, 1000, 5, 200] {
            let mut tx = Transaction::begin(&stm, &mut t);
            for (i, x) in w.iter().take(n).enumerate() {
                tx.write(x, i as u64 + 7);
                // What tier 2's inline barriers read instead of `writes` (through growth too).
                assert_eq!(tx.writes_base, tx.writes.as_ptr() as usize);
                assert_eq!(tx.logged.base(), tx.logged.slots_address());
            }
            for (i, x) in w.iter().enumerate() {
                let want = if i < n { i as u64 + 7 } else { x.load(Ordering::Relaxed) };
                assert_eq!(tx.read(x), Ok(want));
            }
            tx.abort(&mut t);
        }
    }
}
