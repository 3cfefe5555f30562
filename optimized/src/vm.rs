//! The VM of one run: the pre-decoded program, the heap, the inline caches, the guest threads,
//! and the round-robin scheduler that runs them one segment at a time on this OS thread.
//!
//! Scheduling mirrors the reference's round-robin scheduler: threads are kept in creation
//! order; after a segment of thread `i`, the next runnable thread after `i` (cyclically) runs.
//! A thread is not runnable when it has ended or when its next instruction is a `join` on a
//! thread that has not ended. When the running thread is the only runnable one, it keeps
//! running without returning here at each boundary (nothing else could run, and only its end
//! can unblock another thread); its segments are still counted for the schedule.

use crate::code::{predecode, Op, Program};
use crate::heap::{Heap, OutOfMemory};
use crate::inline_cache::InlineCaches;
use crate::interp::Stop;
use crate::ops::{self, ThreadNames};
use crate::thread::{Thread, ThreadState};
use crate::value::{as_thread, Value};
use lockstep_spec::outcome::{End, Outcome, TrapInfo};
use lockstep_spec::schedule::{Schedule, ScheduleEntry, ThreadId};
use lockstep_spec::Module;
use std::sync::Arc;

pub(crate) struct Vm {
    /// Shared by the VMs of every OS thread of a parallel run (`par.rs`).
    pub prog: Arc<Program>,
    pub heap: Heap,
    pub ic: InlineCaches,
    /// Boxed, so that taking the running thread out of the table (the borrow checker's price
    /// for running it while the interpreter also reads the table) moves a pointer, not the
    /// thread: with two busy threads that happens at every segment.
    #[allow(clippy::vec_box)]
    pub threads: Vec<Box<Thread>>,
    /// The empty thread that stands in the table for the running one (see `run`).
    spare: Option<Box<Thread>>,
    pub ids: Vec<ThreadId>,
    /// Guest output: all of it, or when `stream_stdout`, what is not yet written.
    pub out: Vec<u8>,
    pub stream_stdout: bool,
    pub initial_fuel: u64,
    /// The strings `typeof` returns, allocated once (GC roots).
    pub type_names: [Value; 9],
    pub scratch: Vec<u8>,
    pub instructions: u64,
    schedule: Vec<(usize, u64)>,
    record_schedule: bool,
}

impl ThreadNames for Vec<ThreadId> {
    fn thread_name(&self, index: u32) -> String {
        self.get(index as usize).map(|t| t.to_string()).unwrap_or_default()
    }
}

/// Collects garbage with every root of the run: the program's constants, the `typeof` names,
/// every thread's live registers and results, and the running thread `cur` (which is moved out
/// of `threads` while it runs).
pub(crate) fn collect(heap: &mut Heap, prog: &Program, threads: &[Box<Thread>], cur: &Thread, extra: &[Value]) {
    let mut roots: Vec<Value> = Vec::with_capacity(prog.heap_constants.len() + extra.len() + 64);
    roots.extend_from_slice(&prog.heap_constants);
    roots.extend_from_slice(extra);
    for t in threads.iter().map(|t| &**t).chain(std::iter::once(cur)) {
        t.roots(prog, &mut roots);
    }
    heap.collect(&prog.nfields, roots);
}

impl Vm {
    pub fn new(module: &Module, config: &crate::Config) -> Result<Vm, OutOfMemory> {
        Vm::with_heap(module, config, Heap::new(config.max_heap_bytes, config.gc_threshold_bytes))
    }

    /// As [`Vm::new`], allocating the constants and the arguments in `heap`.
    pub fn with_heap(module: &Module, config: &crate::Config, mut heap: Heap) -> Result<Vm, OutOfMemory> {
        let (fuel, args) = (config.fuel, &config.args);
        let prog = predecode(module, &mut heap)?;
        let mut type_names = [0; 9];
        for (slot, name) in type_names.iter_mut().zip(ops::TYPE_NAMES) {
            *slot = heap.new_string(name.as_bytes())?;
        }
        // [exec.entry]: an entry function with one parameter receives the arguments as an array
        // of strings.
        let mut main_args = Vec::new();
        if prog.funcs[prog.entry as usize].arity >= 1 {
            let arr = heap.new_array(0)?;
            for a in args {
                let s = heap.new_string(a)?;
                heap.array_push(arr, s)?;
            }
            main_args.push(arr);
        }
        let main = Thread::new(&prog, prog.entry, &main_args, fuel);
        Ok(Vm {
            ic: InlineCaches::new(prog.sites.len()),
            prog: Arc::new(prog),
            heap,
            threads: vec![Box::new(main)],
            spare: Some(Box::default()),
            ids: vec![ThreadId::main()],
            out: Vec::new(),
            stream_stdout: config.stream_stdout,
            initial_fuel: fuel,
            type_names,
            scratch: Vec::new(),
            instructions: 0,
            schedule: Vec::new(),
            record_schedule: config.record_schedule,
        })
    }

    /// The VM of one more OS thread of a parallel run: the shared program, its own heap and
    /// inline caches, no thread table (threads are the run's, see `par.rs`).
    #[cfg_attr(loom, allow(dead_code))] // (parallel runs are not built under loom)
    pub fn worker(prog: Arc<Program>, heap: Heap, type_names: [Value; 9], fuel: u64) -> Vm {
        Vm {
            ic: InlineCaches::new(prog.sites.len()),
            prog,
            heap,
            threads: Vec::new(),
            spare: None,
            ids: Vec::new(),
            out: Vec::new(),
            stream_stdout: false,
            initial_fuel: fuel,
            type_names,
            scratch: Vec::new(),
            instructions: 0,
            schedule: Vec::new(),
            record_schedule: false,
        }
    }

    fn blocked(&self, j: usize) -> bool {
        let t = &self.threads[j];
        let Some(top) = t.frames.last() else { return false };
        let Some(Op::Join { t: reg, .. }) = self.prog.funcs[top.func as usize].code.get(top.pc as usize).copied()
        else {
            return false;
        };
        let v = t.regs.get(top.base as usize + reg as usize).copied().unwrap_or(0);
        match as_thread(v) {
            Some(target) => target as usize == j || !self.threads[target as usize].ended(),
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
    pub fn run<const STATS: bool>(&mut self) -> Result<(), OutOfMemory> {
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
            let r = self.run_thread::<STATS, crate::mode::Serial>(j, &mut th, budget, &mut crate::mode::Serial);
            std::mem::swap(&mut th, &mut self.threads[j]);
            self.spare = Some(th);
            let (stop, segs): (Stop, u64) = r?;
            if segs > 0 && self.record_schedule {
                match self.schedule.last_mut() {
                    Some((t, s)) if *t == j => *s += segs,
                    _ => self.schedule.push((j, segs)),
                }
            }
            match stop {
                // An end may unblock any joiner: look at every thread again.
                Stop::Ended => {
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
        let end = match &self.threads[0].state {
            ThreadState::Finished(v) => {
                let mut buf = Vec::new();
                ops::display(&self.prog, &self.heap, &self.ids, *v, None, &mut buf);
                End::Finished { value: String::from_utf8_lossy(&buf).into_owned() }
            }
            ThreadState::Trapped(t) => End::Trapped(TrapInfo {
                kind: t.kind,
                thread: ThreadId::main(),
                function: t.func,
                function_name: self.prog.funcs[t.func as usize].name.clone(),
                pc: t.pc,
                message: t.message.clone(),
                detail: t.detail.clone(),
            }),
            ThreadState::Running => {
                let mut blocked: Vec<ThreadId> = (0..self.threads.len())
                    .filter(|&j| !self.threads[j].ended())
                    .map(|j| self.ids[j].clone())
                    .collect();
                blocked.sort();
                End::Deadlock { blocked }
            }
        };
        Outcome { stdout: self.out.clone(), end, schedule }
    }

    /// When streaming, writes the pending guest output to the process's stdout. A stdout that
    /// no longer accepts output (a closed pipe) is not the program's failure: errors are dropped.
    pub fn flush_stdout(&mut self) {
        if self.stream_stdout {
            write_stdout(&mut self.out);
        }
    }
}

/// Writes `out` to the process's stdout and empties it (errors dropped: see `flush_stdout`).
pub(crate) fn write_stdout(out: &mut Vec<u8>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out);
    let _ = stdout.flush();
    out.clear();
}
