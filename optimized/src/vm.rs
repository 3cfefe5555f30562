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

pub(crate) struct Vm {
    pub prog: Program,
    pub heap: Heap,
    pub ic: InlineCaches,
    pub threads: Vec<Thread>,
    pub ids: Vec<ThreadId>,
    pub out: Vec<u8>,
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
pub(crate) fn collect(heap: &mut Heap, prog: &Program, threads: &[Thread], cur: &Thread, extra: &[Value]) {
    let mut roots: Vec<Value> = Vec::with_capacity(prog.heap_constants.len() + extra.len() + 64);
    roots.extend_from_slice(&prog.heap_constants);
    roots.extend_from_slice(extra);
    for t in threads.iter().chain(std::iter::once(cur)) {
        t.roots(prog, &mut roots);
    }
    heap.collect(&prog.nfields, roots);
}

impl Vm {
    pub fn new(module: &Module, config: &crate::Config) -> Result<Vm, OutOfMemory> {
        let (fuel, args) = (config.fuel, &config.args);
        let mut heap = Heap::new(config.max_heap_bytes, config.gc_threshold_bytes);
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
            prog,
            heap,
            threads: vec![main],
            ids: vec![ThreadId::main()],
            out: Vec::new(),
            initial_fuel: fuel,
            type_names,
            scratch: Vec::new(),
            instructions: 0,
            schedule: Vec::new(),
            record_schedule: config.record_schedule,
        })
    }

    fn blocked(&self, j: usize) -> bool {
        let t = &self.threads[j];
        let Some(top) = t.frames.last() else { return false };
        let Some(Op::Join { t: reg, .. }) = self.prog.funcs[top.func as usize].code.get(top.pc as usize).copied() else {
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
    pub fn run<const STATS: bool>(&mut self) -> Result<(), OutOfMemory> {
        let mut next = 0usize;
        while !self.threads[0].ended() {
            let n = self.threads.len();
            let Some(j) = (0..n).map(|k| (next + k) % n).find(|&j| self.runnable(j)) else {
                break;
            };
            let alone = !(0..n).any(|k| k != j && self.runnable(k));
            let budget = if alone { u64::MAX } else { 1 };
            let mut th = std::mem::take(&mut self.threads[j]);
            let r = self.run_thread::<STATS>(j, &mut th, budget);
            self.threads[j] = th;
            let (_stop, segs): (Stop, u64) = r?;
            if segs > 0 && self.record_schedule {
                match self.schedule.last_mut() {
                    Some((t, s)) if *t == j => *s += segs,
                    _ => self.schedule.push((j, segs)),
                }
            }
            next = j + 1;
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
                ops::display(&self.prog, &self.heap, &self.ids, *v, &mut buf);
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
                let mut blocked: Vec<ThreadId> =
                    (0..self.threads.len()).filter(|&j| !self.threads[j].ended()).map(|j| self.ids[j].clone()).collect();
                blocked.sort();
                End::Deadlock { blocked }
            }
        };
        Outcome { stdout: self.out.clone(), end, schedule }
    }
}
