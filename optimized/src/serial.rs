//! `--stm=off`: every guest thread on the calling OS thread, one at a time, with the
//! reference's round-robin rule (next runnable thread after the last one, in creation order)
//! and no barriers. Deterministic, and the baseline for the STM's single-thread overhead.
//!
//! A thread that is the only runnable one runs many segments without returning here (only its
//! end can unblock another thread); its segments are still counted. With two busy threads the
//! scheduler runs at every segment, so a switch is kept cheap: threads are boxed and the
//! running one is swapped out of the table by pointer (leaving an empty stand-in: no frames, no
//! roots), and which threads are runnable is cached (see `RoundRobin::run`).

use crate::code::Program;
use crate::context::write_stdout;
use crate::context::Context;
use crate::end::{deadlock, join_wait, main_end};
use crate::heap::{cell_word, Heap};
use crate::interp::run_thread;
use crate::mode::{Loc, Mode, Spawned, Undelivered};
use crate::ops::ThreadNames;
use crate::stm::Abort;
use crate::stop::{Failure, Stop};
use crate::thread::{Thread, ThreadState};
use crate::value::{thread_value, Value};
use lockstep_spec::host::{Interrupt, Sink};
use lockstep_spec::limits::MAX_THREADS;
use lockstep_spec::outcome::Outcome;
use lockstep_spec::schedule::{Schedule, ScheduleEntry, ThreadId};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// The round-robin scheduler of `--stm=off` and its thread table.
pub(crate) struct RoundRobin {
    pub prog: Arc<Program>,
    pub cx: Context,
    /// Boxed, so that taking the running thread out of the table (the borrow checker's price
    /// for running it while the interpreter also reads the table) moves a pointer, not the
    /// thread: with two busy threads that happens at every segment.
    #[allow(clippy::vec_box)]
    pub threads: Vec<Box<Thread>>,
    /// The empty thread that stands in the table for the running one (see `run`).
    spare: Option<Box<Thread>>,
    pub ids: Vec<ThreadId>,
    schedule: Vec<(usize, u64)>,
    record_schedule: bool,
    /// `Config::stdout_to` and `Config::interrupt`.
    sink: Option<Sink>,
    interrupt: Option<Interrupt>,
}

impl ThreadNames for Vec<ThreadId> {
    fn thread_name(&self, index: u32) -> String {
        self.get(index as usize).map(|t| t.to_string()).unwrap_or_default()
    }
}

/// Collects garbage with every root of the run: the program's constants, `extra` (the `typeof`
/// names), every thread's live registers and results, and the running thread `cur` (which is
/// moved out of `threads` while it runs).
///
/// # Safety
/// As for [`Mode::safepoint`]: every thread's live registers and results, and `extra`, hold only
/// immediates and live cells of `heap`, and the caller keeps no other heap reference it will use
/// again.
unsafe fn collect(heap: &mut Heap, prog: &Program, threads: &[Box<Thread>], cur: &Thread, extra: &[Value]) {
    let mut roots: Vec<Value> = Vec::with_capacity(prog.heap_constants.len() + extra.len() + 64);
    roots.extend_from_slice(&prog.heap_constants);
    roots.extend_from_slice(extra);
    for t in threads.iter().map(|t| &**t).chain(std::iter::once(cur)) {
        t.roots(prog, &mut roots);
    }
    // SAFETY: the caller's contract; the constants are rooted for the whole run.
    unsafe { heap.collect(&prog.nfields, roots) };
}

/// The interpreter's [`Mode`] under `--stm=off`: shared words are plain memory, and spawn, join
/// and collections use the scheduler's thread table. `me` is the running thread's index.
pub(crate) struct Serial<'t> {
    #[allow(clippy::vec_box)]
    threads: &'t mut Vec<Box<Thread>>,
    ids: &'t mut Vec<ThreadId>,
    me: usize,
    sink: Option<&'t Sink>,
    interrupt: Option<&'t Interrupt>,
}

/// With an interrupt flag, compiled code runs at most this many backward jumps or boundaries
/// between looks at it (without one, it never needs to leave for that).
const INTERRUPT_CHECK_EVERY: u64 = 1 << 12;

impl Serial<'_> {
    #[inline(always)]
    fn interrupted(&self) -> bool {
        self.interrupt.is_some_and(Interrupt::is_set)
    }
}

impl Mode for Serial<'_> {
    const YIELD_AFTER_SPAWN: bool = true;
    const PLAIN_MEMORY: bool = true;

    fn jit_back_jumps(&self, heap: &Heap) -> u64 {
        if heap.gc_requested {
            0
        } else if self.interrupt.is_some() {
            INTERRUPT_CHECK_EVERY
        } else {
            u64::MAX
        }
    }

    fn jit_safepoints(&self, heap: &Heap) -> bool {
        !heap.gc_requested
    }

    fn jit_took_back_jumps(&mut self, _: u64) {}

    /// Without an interrupt flag `end_at_boundary` is always false: only the budget ends a run
    /// of segments. With one, compiled code looks at it every few thousand boundaries.
    fn jit_boundaries(&self, left: u64) -> u64 {
        if self.interrupt.is_some() {
            (left - 1).min(INTERRUPT_CHECK_EVERY)
        } else {
            left - 1
        }
    }

    /// (Serial code is of the plain flavour.)
    fn jit_private_tag(&self) -> u64 {
        0
    }

    /// (None: serial code is of the plain flavour.)
    fn jit_transaction(&self) -> *const () {
        std::ptr::null()
    }

    #[inline(always)]
    unsafe fn load(&mut self, obj: Value, i: usize, _: impl FnOnce() -> Loc) -> Result<u64, Abort> {
        // SAFETY: the caller's contract is `cell_word`'s.
        Ok(unsafe { cell_word(obj, i) }.load(Relaxed))
    }

    #[inline(always)]
    unsafe fn store(&mut self, obj: Value, i: usize, v: u64) {
        // SAFETY: the caller's contract is `cell_word`'s.
        unsafe { cell_word(obj, i) }.store(v, Relaxed)
    }

    #[inline(always)]
    fn validate(&mut self, _: impl FnOnce() -> Loc) -> Result<(), Abort> {
        Ok(())
    }

    /// Only an interrupt ends a run of segments early (the driver then fails the run).
    #[inline(always)]
    fn end_at_boundary(&mut self, _: u64) -> bool {
        self.interrupted()
    }

    /// An interrupt abandons the thread where it is, even inside an atomic block.
    #[inline(always)]
    fn at_back_jump(&mut self, _: impl FnOnce() -> Loc) -> Result<bool, Abort> {
        if self.interrupted() {
            return Ok(true);
        }
        Ok(false)
    }

    #[inline(always)]
    unsafe fn safepoint(&mut self, heap: &mut Heap, prog: &Program, th: &Thread, extra_roots: &[Value]) {
        if heap.gc_requested {
            // SAFETY: the caller's contract; `self.threads` are the run's other threads.
            unsafe { collect(heap, prog, self.threads, th, extra_roots) };
        }
    }

    fn spawn(&mut self, prog: &Program, th: &mut Thread, f: u32, args: &[Value], fuel: u64) -> Result<Spawned, Abort> {
        if self.threads.len() >= MAX_THREADS as usize {
            return Ok(Spawned::Limit);
        }
        let id = self.ids[self.me].child(th.spawned);
        th.spawned += 1;
        let handle = thread_value(self.threads.len() as u32);
        self.threads.push(Box::new(Thread::new(prog, f, args, fuel)));
        self.ids.push(id);
        Ok(Spawned::Handle(handle))
    }

    fn join_state(&mut self, target: u32) -> Result<ThreadState, Abort> {
        Ok(self.threads[target as usize].state.clone())
    }

    fn names(&self) -> &dyn ThreadNames {
        &*self.ids
    }

    /// Streamed output goes out now; captured output is the outcome's and stays.
    fn deliver(&mut self, out: &mut Vec<u8>, stream: bool, _: bool) -> Result<(), Undelivered> {
        if stream {
            write_stdout(self.sink, out).map_err(Undelivered::Io)?;
        }
        Ok(())
    }
}

impl RoundRobin {
    pub fn new(prog: Arc<Program>, cx: Context, main: Thread, config: &crate::Config) -> RoundRobin {
        RoundRobin {
            prog,
            cx,
            threads: vec![Box::new(main)],
            spare: Some(Box::default()),
            ids: vec![ThreadId::main()],
            schedule: Vec::new(),
            record_schedule: config.record_schedule,
            sink: config.stdout_to.clone(),
            interrupt: config.interrupt.clone(),
        }
    }

    fn blocked(&self, j: usize) -> bool {
        match join_wait(&self.prog, &self.threads[j]) {
            Some(wait) => wait.target as usize == j || !self.threads[wait.target as usize].ended(),
            None => false,
        }
    }

    fn runnable(&self, j: usize) -> bool {
        !self.threads[j].ended() && !self.blocked(j)
    }

    /// Runs until the main thread ends or no thread can run.
    ///
    /// Which threads are runnable is cached (`runnable`, with `count` of them), because with
    /// two busy threads round-robin switches at every segment and this loop is the switch. A
    /// thread's runnability changes only when it runs (it may end, block, or stop just before a
    /// `join`), when a thread is spawned, or when some thread ends (which may unblock a joiner);
    /// exactly then the cache is refreshed.
    pub fn run<const STATS: bool>(&mut self) -> Result<(), Failure> {
        let mut runnable: Vec<bool> = Vec::new();
        let mut count = 0usize;
        let mut next = 0usize;
        while !self.threads[0].ended() {
            while runnable.len() < self.threads.len() {
                let r = self.runnable(runnable.len());
                runnable.push(r);
                count += r as usize;
            }
            let n = self.threads.len();
            let j = if next < n && runnable[next] {
                next
            } else {
                match (next..n).chain(0..next.min(n)).find(|&j| runnable[j]) {
                    Some(j) => j,
                    None => break,
                }
            };
            let budget = if count == 1 { u64::MAX } else { 1 };
            // The running thread leaves an empty stand-in (no frames: no roots, never blocked)
            // in its place; both moves are pointer swaps.
            let mut th = self.spare.take().unwrap_or_default();
            std::mem::swap(&mut th, &mut self.threads[j]);
            let mut mode = Serial {
                threads: &mut self.threads,
                ids: &mut self.ids,
                me: j,
                sink: self.sink.as_ref(),
                interrupt: self.interrupt.as_ref(),
            };
            let r = run_thread::<STATS, Serial>(&self.prog, &mut self.cx, j, &mut th, budget, &mut mode);
            std::mem::swap(&mut th, &mut self.threads[j]);
            self.spare = Some(th);
            let (stop, segs): (Stop, u64) = r?;
            if self.interrupt.as_ref().is_some_and(Interrupt::is_set) {
                return Err(Failure::Interrupted);
            }
            if segs > 0 && self.record_schedule {
                match self.schedule.last_mut() {
                    Some((t, s)) if *t == j => *s += segs,
                    _ => self.schedule.push((j, segs)),
                }
            }
            match stop {
                // An end may unblock any joiner: look at every thread again. Its registers and
                // frames are no longer needed (a result is in its state): freed, and returned to
                // the heap limit.
                Stop::Ended => {
                    let t = &mut self.threads[j];
                    self.cx.heap.release_stack(std::mem::take(&mut t.stack_bytes));
                    t.regs = Vec::new();
                    t.frames = Vec::new();
                    count = 0;
                    for (k, r) in runnable.iter_mut().enumerate() {
                        *r = !self.threads[k].ended() && !self.blocked(k);
                        count += *r as usize;
                    }
                }
                // Still runnable: its next instruction is not a `join`. (The serial mode never
                // aborts nor abandons.)
                Stop::Boundary | Stop::Aborted(_) | Stop::Abandoned => {}
                // Only this thread changed; it may now wait at a `join`.
                Stop::Blocked | Stop::BeforeJoin => {
                    let r = self.runnable(j);
                    if !r && runnable[j] {
                        runnable[j] = false;
                        count -= 1;
                    }
                }
            }
            next = if j + 1 < self.threads.len() { j + 1 } else { 0 };
        }
        Ok(())
    }

    pub fn outcome(&self) -> Outcome {
        let schedule = Schedule {
            entries: self
                .schedule
                .iter()
                .map(|&(t, segments)| ScheduleEntry { thread: self.ids[t].clone(), segments })
                .collect(),
        };
        // Main has not ended only when no thread could run: each live thread is blocked at a
        // `join` of a live thread.
        let end = main_end(&self.prog, &self.cx.heap, &self.ids, &self.threads[0].state).unwrap_or_else(|| {
            let live = (0..self.threads.len()).filter(|&j| !self.threads[j].ended());
            deadlock(
                &self.prog,
                &self.ids,
                live.filter_map(|j| Some((j as u32, join_wait(&self.prog, &self.threads[j])?))),
            )
        });
        Outcome { stdout: self.cx.out.clone(), end, schedule }
    }
}
