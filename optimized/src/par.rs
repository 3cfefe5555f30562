//! Parallel runs: every guest thread on its own OS thread, the shared heap under the STM of
//! `stm/` (`STM.md`; this module follows its integration checklist, cited as "item N").
//!
//! A guest thread runs as a sequence of transactions, each covering one or more whole segments
//! (`Contention::target_segments`, grown on commit, shrunk on abort). Before a transaction the
//! thread's registers, frames and counters are saved; an abort restores them and discards the
//! output buffered and the threads spawned since. At commit, the hook (run at the serialization
//! point, under the commit lock for writers) appends the output, records (thread, segments,
//! order key) for the schedule, publishes spawned threads and the thread's end. The schedule is
//! the records sorted stably by order key (item 8).
//!
//! Collections happen between transactions: a thread whose allocator wants one stops the world
//! (`Safepoints`), then marks from every thread's registers and sweeps every thread's heap.
//! Each thread's state is behind its own mutex (`Local`), held only while it runs a
//! transaction: never while it waits, so the collector can always take them all. That mutex is
//! never contended outside a collection; it is not a GIL (each thread has its own).

use crate::code::Program;
use crate::context::{write_stdout, Context, STREAM_CHUNK};
use crate::end::{deadlock, join_wait, main_end, JoinWait};
use crate::heap::{cell_word, Budget, Heap};
use crate::inline_cache::IcStats;
use crate::interp::run_thread;
use crate::mode::{Loc, Mode, Spawned, Undelivered};
use crate::ops::ThreadNames;
use crate::report::{StmReport, ThreadFigures};
use crate::stm::sync::lock;
use crate::stm::{Abort, AbortKind, Contention, HotWords, Policy, Safepoints, Stm, Transaction, TxThread};
use crate::stop::{Failure, Stop};
use crate::thread::{Frame, Thread, ThreadState};
use crate::value::{thread_value, Value};
use lockstep_spec::host::Interrupt;
use lockstep_spec::limits::MAX_THREADS;
use lockstep_spec::outcome::{End, Outcome};
use lockstep_spec::schedule::{Schedule, ScheduleEntry, ThreadId};
use lockstep_spec::VerifiedModule;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::Scope;
use std::time::{Duration, Instant};

/// A commit's place in the serialization order (`CommitInfo::order_key`).
type OrderKey = (u64, bool);

/// The published state of the run's threads, in creation order (thread index = handle).
/// Updated only by commit hooks (in serialization order) and by joiners that block.
#[derive(Default)]
struct Table {
    ids: Vec<ThreadId>,
    states: Vec<ThreadState>,
    /// Where each thread is blocked in a join, and the thread it joins, if it is.
    waiting: Vec<Option<JoinWait>>,
    /// Threads that have not ended, and how many of them are blocked in a join.
    live: usize,
    blocked: usize,
}

impl ThreadNames for Table {
    fn thread_name(&self, index: u32) -> String {
        self.ids.get(index as usize).map(|t| t.to_string()).unwrap_or_default()
    }
}

/// One guest thread's state, behind a mutex that its OS thread holds while it runs a
/// transaction and the collector takes while the world is stopped.
struct Local {
    cx: Context,
    th: Thread,
}

/// What the OS threads of one run share.
struct Shared {
    prog: Arc<Program>,
    stm: Stm,
    sp: Safepoints,
    /// Threads created so far, main included: a word of shared memory read and written through
    /// the STM, so `thread_limit` and thread indices follow the serialization order.
    created: crate::stm::sync::AtomicU64,
    table: Mutex<Table>,
    table_cv: Condvar,
    /// Main ended (or the run deadlocked, or failed): every thread stops where it is.
    over: AtomicBool,
    /// How the run ended, and main's order key when main's end decided it.
    end: Mutex<Option<(End, Option<OrderKey>)>>,
    /// Why the run could not go on (the first failure).
    error: Mutex<Option<Failure>>,
    out: Mutex<Vec<u8>>,
    stream: bool,
    record: bool,
    /// (thread, segments, order key) per committed transaction: the schedule, once sorted.
    records: Mutex<Vec<(u32, u64, OrderKey)>>,
    registry: Mutex<Vec<(u32, Arc<Mutex<Local>>)>>,
    pool: Mutex<Vec<Heap>>,
    budget: Arc<Budget>,
    type_names: [Value; 9],
    config: crate::Config,
    policy: Policy,
    // Figures merged as threads end.
    instructions: AtomicU64,
    ic: Mutex<IcStats>,
    jit: Mutex<crate::JitStats>,
    gc: Mutex<crate::GcStats>,
    report: Mutex<StmReport>,
}

impl Shared {
    /// Whether the run is over: it ended, failed, or the host interrupted it (which is noticed
    /// here, and fails the run, so that every thread leaves as for any other failure).
    fn over(&self) -> bool {
        if self.over.load(Relaxed) {
            return true;
        }
        if self.config.interrupt.as_ref().is_some_and(Interrupt::is_set) {
            self.fail(Failure::Interrupted);
            return true;
        }
        false
    }

    fn finish(&self, end: End, key: Option<OrderKey>) {
        let mut e = lock(&self.end);
        if e.is_none() {
            *e = Some((end, key));
        }
        self.over.store(true, Relaxed);
        self.table_cv.notify_all();
    }

    fn fail(&self, e: Failure) {
        lock(&self.error).get_or_insert(e);
        self.over.store(true, Relaxed);
        self.table_cv.notify_all();
    }

    fn new_heap(&self) -> Heap {
        lock(&self.pool).pop().unwrap_or_else(|| {
            Heap::shared(self.config.max_heap_bytes, self.config.gc_threshold_bytes, self.budget.clone())
        })
    }
}

/// A thread spawned by the running transaction, started after it commits.
struct Pending {
    index: u32,
    id: ThreadId,
    thread: Option<Thread>,
}

/// The interpreter's [`Mode`] in a parallel run: every shared word through the transaction,
/// unless `SOLO`: [stm.solo] the thread is the only one of the run, and loads and stores are
/// plain. A constant, not a field, so that the barrier-free interpreter carries no test for it
/// on every access.
/// How many backward jumps and boundaries compiled code may pass between two of the checks
/// the interpreter makes every 64 (a multiple of 64, so that the interpreter's next one is due
/// where compiled code leaves).
const JIT_CHECK_PERIOD: u32 = 4096;

struct TxMode<'s, const SOLO: bool> {
    tx: Transaction<'s, 's>,
    sh: &'s Shared,
    my_id: ThreadId,
    pending: Vec<Pending>,
    /// With `--stm-report`: where each shared word was first read, to name the location of a
    /// conflict on it.
    report: bool,
    read_at: HashMap<usize, Loc>,
    abort_at: Loc,
    /// `Contention::hot_words` at the transaction's start, and whether it wrote one of them.
    hot: HotWords,
    wrote_hot: bool,
    /// The transaction's output reached a chunk outside an atomic block: end it at the next
    /// boundary (the print's own), so that its commit delivers the output.
    end_soon: bool,
    /// Backward jumps taken in this transaction (see `at_back_jump`).
    back_jumps: u32,
}

/// Offset of the barrier flavour's `TxMode::hot` from the mode's address (`JitCtx::mode`): tier
/// 2's inline write barrier takes its fast path only while the first hot word is 0 (none), so
/// that `store`'s hot-word test, which it skips, could not have been true.
pub(crate) const JIT_HOT_WORDS: i32 = std::mem::offset_of!(TxMode<'static, false>, hot) as i32;

impl<'s, const SOLO: bool> TxMode<'s, SOLO> {
    fn new(tx: Transaction<'s, 's>, sh: &'s Shared, my_id: ThreadId, report: bool, hot: HotWords) -> Self {
        TxMode {
            tx,
            sh,
            my_id,
            pending: Vec::new(),
            report,
            read_at: HashMap::new(),
            abort_at: (0, 0),
            hot,
            wrote_hot: false,
            end_soon: false,
            back_jumps: 0,
        }
    }

    fn blame(&mut self, a: Abort, at: impl FnOnce() -> Loc) -> Abort {
        if self.report {
            self.abort_at = self.read_at.get(&a.word).copied().unwrap_or_else(at);
        }
        a
    }

    /// Whether the running transaction should end at its next boundary (a collection or the
    /// end of the run is waiting for it).
    #[inline(always)]
    fn should_end(&self) -> bool {
        self.sh.sp.stop_requested() || self.sh.budget.gc.load(Relaxed) || self.sh.over()
    }

    /// The period of compiled code's checks: [`JIT_CHECK_PERIOD`], or the interpreter's 64 once
    /// the run of segments should end (a collection waits: compiled code's allocations leave it
    /// as soon as they request one, and then the request is seen where the interpreter sees it).
    fn jit_period(&self) -> u32 {
        if self.should_end() {
            64
        } else {
            JIT_CHECK_PERIOD
        }
    }
}

impl<const SOLO: bool> ThreadNames for TxMode<'_, SOLO> {
    fn thread_name(&self, index: u32) -> String {
        match self.pending.iter().find(|p| p.index == index) {
            Some(p) => p.id.to_string(),
            None => lock(&self.sh.table).thread_name(index),
        }
    }
}

impl<'s, const SOLO: bool> Mode for TxMode<'s, SOLO> {
    const YIELD_AFTER_SPAWN: bool = false;
    const PLAIN_MEMORY: bool = SOLO;

    /// `at_back_jump` acts at every 64th backward jump; `safepoint` never does. Compiled code
    /// runs up to the next multiple of [`JIT_CHECK_PERIOD`] instead: the interpreter executes
    /// that jump, and validates there. (Leaving compiled code every 64 iterations cost loop_sum
    /// more than the loop itself.)
    fn jit_back_jumps(&self, _: &Heap) -> u64 {
        let period = self.jit_period();
        u64::from(period - 1 - self.back_jumps % period)
    }

    fn jit_safepoints(&self, _: &Heap) -> bool {
        true
    }

    fn jit_took_back_jumps(&mut self, n: u64) {
        self.back_jumps = self.back_jumps.wrapping_add(n as u32);
    }

    /// `end_at_boundary(left)` may be true when a flag is already set, or when `left` is a
    /// multiple of 64. Compiled code passes boundaries up to the next multiple of
    /// [`JIT_CHECK_PERIOD`] (`left % period` boundaries away, or a whole period when `left` is
    /// one now), and the interpreter checks there: a waiting collection or the run's end is
    /// noticed a little later, which no outcome depends on.
    fn jit_boundaries(&self, left: u64) -> u64 {
        if (!SOLO && self.wrote_hot) || self.end_soon {
            return 0;
        }
        let period = u64::from(self.jit_period());
        let m = left % period;
        (if m == 0 { period } else { m }) - 1
    }

    /// The private objects' fast path of `load` and `store` below: the word's own STM
    /// barrier sees them private and does a plain access. (Compiled code skips the contention
    /// policy's hot-word test of `store`: a policy, which no outcome depends on.)
    fn jit_private_tag(&self) -> u64 {
        self.tx.private_tag()
    }

    /// The transaction lives in this mode, which stays put while compiled code runs (its
    /// barrier helpers use it through `JitCtx::mode`).
    fn jit_transaction(&self) -> *const () {
        &self.tx as *const Transaction as *const ()
    }

    #[inline(always)]
    unsafe fn load(&mut self, obj: Value, i: usize, at: impl FnOnce() -> Loc) -> Result<u64, Abort> {
        // SAFETY (both blocks): `obj` is live and `i` inside it (the caller's contract); word 1
        // of every cell is its STM word.
        if SOLO {
            return Ok(unsafe { cell_word(obj, i) }.load(Relaxed));
        }
        let (stm_word, w) = unsafe { (cell_word(obj, 1), cell_word(obj, i)) };
        if self.report && !self.tx.is_private(stm_word) {
            let loc = at();
            self.read_at.entry(w as *const _ as usize).or_insert(loc);
            return self.tx.read(w).map_err(|a| self.blame(a, || loc));
        }
        match self.tx.read_in(stm_word, w) {
            Ok(v) => Ok(v),
            Err(a) => Err(self.blame(a, at)),
        }
    }

    #[inline(always)]
    unsafe fn store(&mut self, obj: Value, i: usize, v: u64) {
        // SAFETY (every block): `obj` is live and `i` inside it (the caller's contract); word 1
        // of every cell is its STM word.
        if SOLO {
            return unsafe { cell_word(obj, i) }.store(v, Relaxed);
        }
        let w = unsafe { cell_word(obj, i) };
        // (Contention policy, not correctness: see `Contention::hot_words`.)
        if self.hot[0] != 0 && self.hot.contains(&(w as *const _ as usize)) {
            self.wrote_hot = true;
        }
        if mutant!(missing_write_barrier) {
            w.store(v, Relaxed);
        } else {
            self.tx.write_in(unsafe { cell_word(obj, 1) }, w, v);
        }
    }

    #[inline(always)]
    fn validate(&mut self, at: impl FnOnce() -> Loc) -> Result<(), Abort> {
        if SOLO {
            return Ok(());
        }
        self.tx.validate().map_err(|a| self.blame(a, at))
    }

    /// The contention policy's request (`Contention::end_after_write`: this transaction wrote a
    /// hot word), checked at every boundary; a waiting collection or the run's end is noticed
    /// within 64 boundaries: soon enough, and those flags stay off the path of most boundaries.
    #[inline(always)]
    fn end_at_boundary(&mut self, left: u64) -> bool {
        (!SOLO && self.wrote_hot) || self.end_soon || (left.is_multiple_of(64) && self.should_end())
    }

    /// A loop inside an atomic block has no boundary: this is where a doomed transaction
    /// notices ([stm.validate]), and an abandoned thread stops. Every 64th backward jump is as
    /// good a bound on a doomed loop as every one, and keeps the clock and the end flag out of
    /// tight loops (mandelbrot's inner loop is 17 instructions).
    #[inline(always)]
    fn at_back_jump(&mut self, at: impl FnOnce() -> Loc) -> Result<bool, Abort> {
        self.back_jumps = self.back_jumps.wrapping_add(1);
        if !self.back_jumps.is_multiple_of(64) {
            return Ok(false);
        }
        self.validate(at)?;
        Ok(self.sh.over())
    }

    /// Parallel runs collect between transactions (`should_end` ends them for it).
    #[inline(always)]
    unsafe fn safepoint(&mut self, _: &mut Heap, _: &Program, _: &Thread, _: &[Value]) {}

    fn spawn(&mut self, prog: &Program, th: &mut Thread, f: u32, args: &[Value], fuel: u64) -> Result<Spawned, Abort> {
        let n = self.tx.read(&self.sh.created)?;
        if n >= u64::from(MAX_THREADS) {
            return Ok(Spawned::Limit);
        }
        self.tx.write(&self.sh.created, n + 1);
        let id = self.my_id.child(th.spawned);
        th.spawned += 1;
        let thread = Thread::new(prog, f, args, fuel);
        self.pending.push(Pending { index: n as u32, id, thread: Some(thread) });
        Ok(Spawned::Handle(thread_value(n as u32)))
    }

    fn join_state(&mut self, target: u32) -> Result<ThreadState, Abort> {
        if self.pending.iter().any(|p| p.index == target) {
            return Ok(ThreadState::Running);
        }
        // Everything committed up to our snapshot is published once no write-back is in
        // flight, which validation waits for.
        self.tx.validate()?;
        let state = lock(&self.sh.table).states.get(target as usize).cloned().unwrap_or_default();
        if !matches!(state, ThreadState::Running) {
            // The end was published before its commit finished: validating again moves our
            // snapshot past it, so this transaction serializes after the end it saw.
            self.tx.validate()?;
        }
        Ok(state)
    }

    fn names(&self) -> &dyn ThreadNames {
        self
    }

    /// Outside an atomic block the print's boundary ends the transaction and its commit
    /// delivers the output. Inside one (which may print without bound before its end), the
    /// transaction becomes inevitable: from then on no other commit can start, and every commit
    /// before it has finished its hook, so it is ordered after all output delivered so far and
    /// before all output delivered later; its output joins the run's at once (`STM.md`,
    /// [stm.output]). If the token is busy it aborts, and retries inevitable.
    fn deliver(&mut self, out: &mut Vec<u8>, _: bool, in_atomic: bool) -> Result<(), Undelivered> {
        if !in_atomic {
            self.end_soon = true;
            return Ok(());
        }
        self.tx.become_inevitable().map_err(Undelivered::Abort)?;
        let mut o = lock(&self.sh.out);
        o.extend_from_slice(out);
        out.clear();
        if self.sh.stream && o.len() >= STREAM_CHUNK {
            write_stdout(self.sh.config.stdout_to.as_ref(), &mut o).map_err(Undelivered::Io)?;
        }
        Ok(())
    }
}

/// What one run of the interpreter inside a transaction leaves for the driver.
struct Attempt<'s> {
    ran: Result<(Stop, u64), Failure>,
    tx: Transaction<'s, 's>,
    pending: Vec<Pending>,
    abort_at: Loc,
    read_at: HashMap<usize, Loc>,
    my_id: ThreadId,
}

/// Runs thread `th` (index `ti`) for up to `budget` segments inside `mode`'s transaction.
fn attempt<'s, const STATS: bool, const SOLO: bool>(
    cx: &mut Context,
    ti: u32,
    th: &mut Thread,
    budget: u64,
    mut mode: TxMode<'s, SOLO>,
) -> Attempt<'s> {
    let ran = run_thread::<STATS, TxMode<'s, SOLO>>(&mode.sh.prog, cx, ti as usize, th, budget, &mut mode);
    let TxMode { tx, pending, abort_at, read_at, my_id, .. } = mode;
    Attempt { ran, tx, pending, abort_at, read_at, my_id }
}

/// What a transaction must restore when it aborts (item 6).
#[derive(Default)]
struct Saved {
    regs: Vec<Value>,
    frames: Vec<Frame>,
    fuel: u64,
    atomic: u64,
    spawned: u32,
    started: bool,
}

impl Saved {
    fn take(&mut self, prog: &Program, th: &Thread) {
        self.regs.clear();
        self.regs.extend_from_slice(th.live_regs(prog));
        self.frames.clear();
        self.frames.extend_from_slice(&th.frames);
        (self.fuel, self.atomic, self.spawned, self.started) = (th.fuel, th.atomic, th.spawned, th.started);
    }

    fn restore(&self, th: &mut Thread) {
        th.regs[..self.regs.len()].copy_from_slice(&self.regs);
        th.frames.clear();
        th.frames.extend_from_slice(&self.frames);
        (th.fuel, th.atomic, th.spawned, th.started) = (self.fuel, self.atomic, self.spawned, self.started);
        th.state = ThreadState::Running;
    }
}

/// Runs `module` with its guest threads in parallel.
pub(crate) fn run(module: &VerifiedModule, config: &crate::Config) -> Result<crate::Report, crate::RunError> {
    let oom = |_| crate::RunError::OutOfMemory { limit_bytes: config.max_heap_bytes };
    let budget = Arc::new(Budget::default());
    let heap = Heap::shared(config.max_heap_bytes, config.gc_threshold_bytes, budget.clone());
    let (prog, mut cx, main) = Context::new(module, config, heap).map_err(oom)?;
    // Output is streamed from the run's buffer at commits, not from a thread's.
    cx.stream_stdout = false;
    let sh = Shared {
        prog,
        stm: Stm::new(),
        sp: Safepoints::new(),
        created: crate::stm::sync::AtomicU64::new(1),
        table: Mutex::new(Table {
            ids: vec![ThreadId::main()],
            states: vec![ThreadState::Running],
            waiting: vec![None],
            live: 1,
            blocked: 0,
        }),
        table_cv: Condvar::new(),
        over: AtomicBool::new(false),
        end: Mutex::new(None),
        error: Mutex::new(None),
        out: Mutex::new(Vec::new()),
        stream: config.stream_stdout,
        record: config.record_schedule,
        records: Mutex::new(Vec::new()),
        registry: Mutex::new(Vec::new()),
        pool: Mutex::new(Vec::new()),
        budget,
        type_names: cx.type_names,
        config: config.clone(),
        policy: Policy::default(),
        instructions: AtomicU64::new(0),
        ic: Mutex::new(IcStats::default()),
        jit: Mutex::new(crate::JitStats::default()),
        gc: Mutex::new(crate::GcStats::default()),
        report: Mutex::new(StmReport::default()),
    };
    let main_local = Arc::new(Mutex::new(Local { cx, th: main }));
    sh.sp.register();
    lock(&sh.registry).push((0, main_local.clone()));
    std::thread::scope(|s| {
        if config.stats {
            worker::<true>(s, &sh, 0, main_local)
        } else {
            worker::<false>(s, &sh, 0, main_local)
        }
    });
    if config.stream_stdout {
        if let Err(e) = write_stdout(config.stdout_to.as_ref(), &mut lock(&sh.out)) {
            sh.fail(Failure::Output(e));
        }
    }
    if let Some(e) = lock(&sh.error).take() {
        return Err(e.into_run_error(config));
    }
    // Every run without an error has an end: the OS threads leave only once the run is over
    // (`finish`, or `fail`, handled above) or when their guest thread ended, and main's end
    // finishes the run. The fallback is never taken.
    let (end, end_key) = lock(&sh.end).take().unwrap_or((End::Deadlock { blocked: Vec::new() }, None));
    let table = lock(&sh.table);
    let schedule = if sh.record {
        let mut records = std::mem::take(&mut *lock(&sh.records));
        records.sort_by_key(|r| r.2);
        let mut entries: Vec<ScheduleEntry> = Vec::new();
        for (t, segments, key) in records {
            if end_key.is_some_and(|k| key > k) {
                break;
            }
            match entries.last_mut() {
                Some(e) if e.thread == table.ids[t as usize] => e.segments += segments,
                _ => entries.push(ScheduleEntry { thread: table.ids[t as usize].clone(), segments }),
            }
        }
        Schedule { entries }
    } else {
        Schedule::default()
    };
    let stdout = if config.stream_stdout { Vec::new() } else { std::mem::take(&mut *lock(&sh.out)) };
    let stats = config.stats.then(|| {
        let mut gc = *lock(&sh.gc);
        gc.peak_heap_bytes = sh.budget.peak.load(Relaxed);
        crate::Stats {
            instructions: sh.instructions.load(Relaxed),
            inline_caches: *lock(&sh.ic),
            jit: lock(&sh.jit).clone(),
            gc,
            threads: table.ids.len(),
        }
    });
    let stm = config.stm_report.then(|| {
        let mut r = std::mem::take(&mut *lock(&sh.report));
        r.threads.sort_by(|a, b| a.id.cmp(&b.id));
        r
    });
    Ok(crate::Report { outcome: Outcome { stdout, end, schedule }, stats, stm })
}

/// Stops the world at a transaction boundary and collects every heap of the run (item 4).
/// Returns without collecting when another thread collected meanwhile.
fn collect(sh: &Shared) {
    if !sh.sp.request_stop() {
        return;
    }
    {
        let registry = lock(&sh.registry);
        let mut locals: Vec<MutexGuard<'_, Local>> = registry.iter().map(|(_, l)| lock(l)).collect();
        let mut pool = lock(&sh.pool);
        let table = lock(&sh.table);
        let prog = &sh.prog;
        let mut roots: Vec<Value> = Vec::with_capacity(prog.heap_constants.len() + 64);
        roots.extend_from_slice(&prog.heap_constants);
        roots.extend_from_slice(&sh.type_names);
        for l in &locals {
            l.th.roots(prog, &mut roots);
        }
        for s in &table.states {
            if let ThreadState::Finished(v) = s {
                roots.push(*v);
            }
        }
        let mut heaps: Vec<&mut Heap> = locals.iter_mut().map(|l| &mut l.cx.heap).collect();
        heaps.extend(pool.iter_mut());
        // SAFETY: the world is stopped between transactions, so the roots are every value the
        // run holds: the constants, the `typeof` names, every thread's live registers (each
        // thread's `Local` is locked here) and the finished threads' results; `heaps` are all the
        // heaps of the run (every worker's and the pool), and `nfields` is the program's.
        let (live, pause) = unsafe { Heap::collect_all(&mut heaps, &prog.nfields, roots) };
        let mut gc = lock(&sh.gc);
        gc.collections += 1;
        gc.pause_total += pause;
        gc.live_bytes_after_last_gc = live;
    }
    sh.sp.resume();
}

/// `Config::stm_stress`: the choices that make threads overlap, drawn from SplitMix64 (seeded
/// from the run's seed and the thread index, so each thread draws its own sequence). Without
/// it, coalescing makes transactions thousands of segments long and a thread usually runs
/// them back to back, so two threads' transactions rarely overlap on a 2-core machine and the
/// replay oracle meets few of the interleavings where STM bugs live (0-5% aborts in stress
/// runs). None of this touches what a transaction does, only when it begins and commits and
/// how many segments it covers, so it changes the schedule and nothing else.
struct Stress {
    state: u64,
}

impl Stress {
    fn new(seed: u64, ti: u32) -> Stress {
        Stress { state: seed ^ u64::from(ti).wrapping_mul(0xd6e8_feb8_6659_fd93) }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next transaction's length: 1 to 4 segments seven times in eight (short transactions
    /// commit often, so the others' reads go stale), else up to 64 (long ones stay exposed).
    fn segments(&mut self) -> u64 {
        let r = self.next();
        if r.is_multiple_of(8) {
            1 + (r >> 8) % 64
        } else {
            1 + (r >> 8) % 4
        }
    }

    /// Spins for `steps` steps (about 10-40 ns each).
    fn spin(steps: u64) {
        for _ in 0..steps {
            std::hint::spin_loop();
        }
    }

    /// Between the body and the commit, the window in which another thread's commit makes
    /// this one's reads stale: one time in two a yield of the OS thread, else a spin of up to
    /// 256 steps (microseconds). The yield is what makes threads overlap on a loaded machine,
    /// where two OS threads seldom run at the same instant and a transaction is otherwise
    /// interrupted inside its window only by preemption (4% aborts with spins alone, on the
    /// contended examples); it lets a thread waiting for the core run and commit inside the
    /// window.
    fn before_commit(&mut self) {
        let r = self.next();
        match r % 2 {
            0 => std::thread::yield_now(),
            _ => Self::spin((r >> 8) % 256),
        }
    }

    /// Between two transactions: one time in eight a yield (another thread then starts, or
    /// goes on with, a transaction of its own), else nothing or a short spin.
    fn at_boundary(&mut self) {
        let r = self.next();
        match r % 8 {
            0 => std::thread::yield_now(),
            1..=3 => Self::spin((r >> 8) % 64),
            _ => {}
        }
    }
}

/// One guest thread's OS thread: transactions until the thread ends or the run is over.
fn worker<'scope, const STATS: bool>(
    s: &'scope Scope<'scope, '_>,
    sh: &'scope Shared,
    ti: u32,
    local: Arc<Mutex<Local>>,
) {
    // A thread spawned during a stop must not run before it ends.
    sh.sp.poll();
    let mut my_id = lock(&sh.table).ids[ti as usize].clone();
    let mut txt = TxThread::new(ti);
    let mut cm = Contention::new(sh.policy);
    let mut saved = Saved::default();
    let mut fig = ThreadFigures { id: my_id.to_string(), ..ThreadFigures::default() };
    let report = sh.config.stm_report;
    let mut conflicts: Vec<(AbortKind, Loc, Duration)> = Vec::new();
    let mut waiting = Duration::ZERO;
    let mut stress = sh.config.stm_stress.map(|seed| Stress::new(seed, ti));
    loop {
        if sh.over() {
            break;
        }
        // At a boundary, holding nothing: the place for collections and stops (item 5).
        if sh.budget.gc.load(Relaxed) {
            collect(sh);
        }
        sh.sp.poll();
        if let Some(stress) = &mut stress {
            stress.at_boundary();
        }
        let started = report.then(Instant::now);
        let inevitable = cm.next_is_inevitable().then(Instant::now);
        let tx = cm.begin(&sh.stm, &mut txt, &mut || sh.sp.poll());
        if let Some(t0) = inevitable {
            waiting += t0.elapsed();
            fig.inevitable += 1;
        }
        // [stm.solo] Decided at the start: while this thread is the only live one, no other
        // can appear before this transaction commits (its own spawns start after the commit).
        let solo = sh.config.stm_solo && lock(&sh.table).live == 1;
        let mut g = lock(&local);
        let Local { cx, th } = &mut *g;
        cx.heap.tag = tx.private_tag();
        saved.take(&sh.prog, th);
        let budget = match &mut stress {
            Some(stress) => stress.segments(),
            None => u64::from(cm.target_segments()),
        };
        let id = std::mem::replace(&mut my_id, ThreadId(Vec::new()));
        let hot = cm.hot_words();
        let run = if solo {
            attempt::<STATS, true>(cx, ti, th, budget, TxMode::new(tx, sh, id, report, hot))
        } else {
            attempt::<STATS, false>(cx, ti, th, budget, TxMode::new(tx, sh, id, report, hot))
        };
        let Attempt { ran, mut tx, mut pending, abort_at, read_at, my_id: id } = run;
        my_id = id;
        let (stop, segs) = match ran {
            Ok(r) => r,
            Err(e) => {
                sh.fail(e);
                break;
            }
        };
        let abort = match stop {
            Stop::Abandoned => break,
            Stop::Aborted(a) => Some(a),
            _ => None,
        };
        // After an abort: the thread as it was at `begin`, the attempt's output dropped.
        macro_rules! roll_back {
            ($a:expr, $at:expr) => {{
                saved.restore(th);
                cx.out.clear();
                fig.aborted += 1;
                if let Some(t0) = started {
                    let lost = t0.elapsed();
                    fig.lost += lost;
                    conflicts.push(($a.kind, $at, lost));
                }
                cm.note_conflict($a.word);
                cm.on_abort();
                // (It needed the token for its output and found it busy: wait for it.)
                if $a.kind == AbortKind::Inevitable {
                    cm.retry_inevitable();
                }
            }};
        }
        if let Some(a) = abort {
            tx.abort(&mut txt);
            roll_back!(a, abort_at);
            continue;
        }
        // Between the body and the commit: the window in which another thread's commit makes
        // this one's reads stale, so that validation at commit has something to find.
        if let Some(stress) = &mut stress {
            stress.before_commit();
        }
        let ended = stop == Stop::Ended;
        if ended || !cx.out.is_empty() || !pending.is_empty() {
            tx.mark_effect();
        }
        let th_ref = &*th;
        // The hook says whether it published the pending spawns: only then may they start.
        let committed = tx.commit_with(&mut txt, |info| {
            // [thread.end-of-run]: past main's end nothing more happens.
            if sh.over() {
                return false;
            }
            if !cx.out.is_empty() {
                lock(&sh.out).extend_from_slice(&cx.out);
            }
            if sh.record && segs > 0 {
                lock(&sh.records).push((ti, segs, info.order_key()));
            }
            if pending.is_empty() && !ended {
                return true;
            }
            let mut table = lock(&sh.table);
            for p in &pending {
                let i = p.index as usize;
                if table.ids.len() <= i {
                    table.ids.resize(i + 1, ThreadId::main());
                    table.states.resize(i + 1, ThreadState::Running);
                    table.waiting.resize(i + 1, None);
                }
                table.ids[i] = p.id.clone();
                table.live += 1;
            }
            if ended {
                table.states[ti as usize] = th_ref.state.clone();
                table.live -= 1;
                let mut woken = 0;
                for w in table.waiting.iter_mut() {
                    if w.is_some_and(|w| w.target == ti) {
                        *w = None;
                        woken += 1;
                    }
                }
                table.blocked -= woken;
                if ti == 0 {
                    // Displayed here, in main's commit hook: under the commit lock the heap holds
                    // exactly the state at main's serialization point (an array's length shown
                    // is the length then). Main ended, so `main_end` has an end: the fallback is
                    // never taken.
                    let end = main_end(&sh.prog, &cx.heap, &*table, &th_ref.state)
                        .unwrap_or(End::Deadlock { blocked: Vec::new() });
                    drop(table);
                    sh.finish(end, Some(info.order_key()));
                } else if table.live > 0 && table.blocked == table.live {
                    // [thread.deadlock] This end left only threads blocked on each other.
                    let end = deadlock_of(&sh.prog, &table);
                    drop(table);
                    sh.finish(end, None);
                } else {
                    drop(table);
                }
                sh.table_cv.notify_all();
            }
            true
        });
        let published = match committed {
            Ok((_, published)) => published,
            Err(a) => {
                // A conflict found at commit: blame the first read of the word that changed.
                let here = th.frames.last().map_or((0, 0), |f| (f.func, f.pc));
                roll_back!(a, read_at.get(&a.word).copied().unwrap_or(here));
                continue;
            }
        };
        cx.out.clear();
        fig.committed += 1;
        fig.segments += segs;
        cm.on_commit();
        if sh.stream {
            let mut o = lock(&sh.out);
            if o.len() >= STREAM_CHUNK {
                if let Err(e) = write_stdout(sh.config.stdout_to.as_ref(), &mut o) {
                    drop(o);
                    sh.fail(Failure::Output(e));
                }
            }
        }
        // Start the threads this transaction spawned (item 10): registered before this thread
        // can next reach a safepoint, so no collection misses their roots. Not when the run
        // ended before this commit: the table never learnt of them (the next iteration sees
        // the end and leaves).
        for p in pending.iter_mut().filter(|_| published) {
            let Some(thread) = p.thread.take() else { continue };
            let heap = sh.new_heap();
            let child = Context::worker(&sh.prog, heap, sh.type_names, sh.config.fuel, sh.config.jit);
            let l = Arc::new(Mutex::new(Local { cx: child, th: thread }));
            sh.sp.register_by_running();
            lock(&sh.registry).push((p.index, l.clone()));
            let index = p.index;
            let mine = l.clone();
            let started = std::thread::Builder::new().spawn_scoped(s, move || worker::<STATS>(s, sh, index, l));
            if let Err(e) = started {
                // The OS refused a thread (EAGAIN: a process or address-space limit). The child
                // never runs: it leaves the run as an ended thread does (its heap back to the
                // pool: it may be a reused one whose cells are live), and the run fails with a
                // host limit instead of a panic (which left the scope waiting for the others).
                lock(&sh.registry).retain(|(i, _)| *i != index);
                let heap = std::mem::replace(&mut lock(&mine).cx.heap, Heap::new(0, 0));
                lock(&sh.pool).push(heap);
                sh.sp.unregister();
                sh.fail(Failure::ThreadStart(e));
            }
        }
        if ended {
            break;
        }
        if stop == Stop::Blocked {
            let wait = join_wait(&sh.prog, th);
            drop(g);
            if let Some(wait) = wait {
                block(sh, ti, wait);
            }
        }
    }
    // Leave the run: the heap goes to the pool (its cells may be live), figures to the total.
    let mut g = lock(&local);
    lock(&sh.registry).retain(|(i, _)| *i != ti);
    let stack = g.th.stack_bytes;
    g.cx.heap.release_stack(stack);
    let heap = std::mem::replace(&mut g.cx.heap, Heap::new(0, 0));
    lock(&sh.pool).push(heap);
    g.th = Thread::default();
    sh.instructions.fetch_add(g.cx.instructions, Relaxed);
    lock(&sh.jit).add(&g.cx.jit.stats());
    {
        let st = g.cx.ic.stats();
        let mut ic = lock(&sh.ic);
        ic.sites = st.sites;
        ic.uninitialized += st.uninitialized;
        ic.monomorphic += st.monomorphic;
        ic.polymorphic += st.polymorphic;
        ic.megamorphic += st.megamorphic;
        ic.hits += st.hits;
        ic.misses += st.misses;
    }
    drop(g);
    if report {
        let mut r = lock(&sh.report);
        r.threads.push(fig);
        r.waiting += waiting;
        for (kind, (func, pc), lost) in conflicts {
            let e = r.conflicts.entry((kind, func, pc)).or_default();
            e.0 += 1;
            e.1 += lost;
        }
    }
    sh.sp.unregister();
}

/// [thread.deadlock] Every live thread of `table` is blocked: each waits where `waiting` says.
fn deadlock_of(prog: &Program, table: &Table) -> End {
    let live = (0..table.ids.len()).filter(|&j| matches!(table.states[j], ThreadState::Running));
    deadlock(prog, &table.ids, live.filter_map(|j| Some((j as u32, table.waiting[j]?))))
}

/// Blocks thread `ti` in a `join` (`wait`) until the joined thread ends or the run is over;
/// the last thread to block when every live thread is blocked declares the deadlock (item 9),
/// as does a thread whose end leaves only blocked threads (in its commit hook).
fn block(sh: &Shared, ti: u32, wait: JoinWait) {
    sh.sp.park();
    let mut table = lock(&sh.table);
    let ended = |t: &Table| !matches!(t.states.get(wait.target as usize), Some(ThreadState::Running) | None);
    if !ended(&table) && !sh.over() {
        table.waiting[ti as usize] = Some(wait);
        table.blocked += 1;
        if table.blocked == table.live {
            let end = deadlock_of(&sh.prog, &table);
            drop(table);
            sh.finish(end, None);
            sh.sp.unpark();
            return;
        }
        while table.waiting[ti as usize].is_some() && !sh.over() {
            table = sh.table_cv.wait(table).unwrap_or_else(|e| e.into_inner());
        }
    }
    drop(table);
    sh.sp.unpark();
}
