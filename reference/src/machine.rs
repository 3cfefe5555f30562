//! The machine: threads, frames, the segment loop and the meaning of every instruction
//! (`spec/semantics.md`, `spec/concurrency.md`).
//!
//! Threads are logical: exactly one segment runs at a time, chosen by the scheduler between
//! segments, so the run *is* the schedule it records. Guest calls push frames on an explicit
//! per-thread stack, never on the host stack, so deep guest recursion ends in `stack_overflow`
//! rather than a host crash.
//!
//! Indexing into the module (functions, code, registers, constants, classes) relies on the
//! verifier: a `VerifiedModule` has every index in range, every frame large enough for its
//! registers, and no path that falls off the end of a function.

use crate::arith::{self, ArithOp, CompareOp, LogicOp, ShiftOp};
use crate::fault::Fault;
use crate::scheduler::{self, Replay, SplitMix64};
use crate::value::{self, ArrayRef, Object, ThreadHandle, Value};
use crate::{Config, RunError, Scheduler, Stdout};
use lockstep_spec::host::{Interrupt, Sink};
use lockstep_spec::limits::{MAX_ARRAY_LEN, MAX_CALL_DEPTH, MAX_STRING_LEN, MAX_THREADS};
use lockstep_spec::outcome::{BlockedThread, End, Outcome, StackFrame, TrapInfo};
use lockstep_spec::schedule::{Schedule, ThreadId};
use lockstep_spec::trap::detail;
use lockstep_spec::{ClassIdx, Constant, Flags, FuncIdx, Instr, Label, Module, Reg, TrapKind};
use std::rc::Rc;
use std::sync::Arc;

/// One activation of a function.
struct Frame<'m> {
    func: FuncIdx,
    /// The function's instructions (`module.functions[func].code`).
    code: &'m [Instr],
    /// The instruction about to execute.
    pc: u32,
    regs: Vec<Value>,
    /// Where the caller wants the result (`None` for a thread's root frame).
    ret_dst: Option<Reg>,
}

impl<'m> Frame<'m> {
    /// [exec.frame]: arguments in registers `0..arity`, every other register nil.
    fn new(module: &'m Module, func: FuncIdx, args: Vec<Value>, ret_dst: Option<Reg>) -> Frame<'m> {
        let function = &module.functions[func.0 as usize];
        let size = function.regs as usize;
        let mut regs = vec![Value::Nil; size];
        for (slot, arg) in regs.iter_mut().zip(args) {
            *slot = arg;
        }
        // [limit.memory]: frames count, or deep recursion in many threads (up to 10,000 frames
        // of 1,024 registers each) would grow the host's memory past any limit.
        value::charge(value::frame_bytes(size));
        Frame { func, code: &function.code, pc: 0, regs, ret_dst }
    }
}

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        value::release(value::frame_bytes(self.regs.len()));
    }
}

enum ThreadState {
    Live,
    Finished(Value),
    /// Shared with the trap of every thread that joins this one ([exec.trap-report]).
    Trapped(Arc<TrapInfo>),
}

struct Thread<'m> {
    id: Rc<ThreadId>,
    /// The executing frame; `callers` holds the frames below it, so the depth is
    /// `callers.len() + 1`.
    frame: Frame<'m>,
    callers: Vec<Frame<'m>>,
    fuel: u64,
    atomic_depth: u64,
    /// The threads this one has spawned, in order: thread `id.k` is `children[k]`, and the next
    /// child is `id.k` with `k = children.len()`.
    children: Vec<usize>,
    /// Whether the root function's entry has been charged (on the first segment).
    started: bool,
    state: ThreadState,
}

/// What executing one instruction did to the control flow of its thread.
enum Flow {
    /// The thread goes on (pc moved, or a call or return happened).
    Continue,
    /// The thread ended (its root frame returned).
    Ended,
    /// The thread is at a join whose target has not ended; pc did not move.
    Blocked,
}

/// `Stdout::Writer` behind the machine's output buffer.
struct SinkWriter(Sink);

impl std::io::Write for SinkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(bytes).map(|()| bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The whole state of a run. [exec.state]
pub(crate) struct Machine<'m> {
    module: &'m Module,
    constants: Vec<Value>,
    threads: Vec<Thread<'m>>,
    /// Threads that have not ended, in creation order.
    live: Vec<usize>,
    fuel: u64,
    stdout: Vec<u8>,
    /// Where guest output goes when it is not captured in the outcome.
    inherited: Option<std::io::BufWriter<Box<dyn std::io::Write>>>,
    /// The first error writing to `inherited`: the run stops after the instruction that met it.
    output_error: Option<std::io::Error>,
    schedule: Schedule,
    record_schedule: bool,
    max_heap_bytes: usize,
    interrupt: Option<Interrupt>,
    /// `max_heap_bytes` plus `live_bytes` when the run started (saturating): the run's data is
    /// over its limit when `live_bytes` exceeds this. Values left by earlier runs on this host
    /// thread (cyclic garbage) are not this run's.
    heap_ceiling: usize,
}

impl<'m> Machine<'m> {
    pub fn new(module: &'m Module, config: &Config) -> Machine<'m> {
        let constants = module
            .constants
            .iter()
            .map(|c| match c {
                Constant::Int(i) => Value::Int(*i),
                Constant::Float(f) => Value::Float(*f),
                Constant::Str(s) => Value::str(s),
            })
            .collect();
        let mut machine = Machine {
            module,
            constants,
            threads: Vec::new(),
            live: Vec::new(),
            fuel: config.fuel,
            stdout: Vec::new(),
            inherited: match &config.stdout {
                Stdout::Capture => None,
                Stdout::Inherit => Some(std::io::BufWriter::with_capacity(1 << 16, Box::new(std::io::stdout()))),
                Stdout::Writer(sink) => {
                    Some(std::io::BufWriter::with_capacity(1 << 16, Box::new(SinkWriter(sink.clone()))))
                }
            },
            output_error: None,
            schedule: Schedule::default(),
            record_schedule: config.record_schedule,
            max_heap_bytes: config.max_heap_bytes,
            interrupt: config.interrupt.clone(),
            heap_ceiling: usize::MAX,
        };
        // [exec.main-args]: a main function of arity 1 receives the arguments as an array of
        // strings.
        let entry = module.entry;
        let args = if module.functions[entry.0 as usize].arity == 1 {
            vec![Value::array(config.args.iter().map(|a| Value::str(a)).collect())]
        } else {
            Vec::new()
        };
        machine.add_thread(ThreadId::main(), entry, args);
        machine
    }

    fn add_thread(&mut self, id: ThreadId, func: FuncIdx, args: Vec<Value>) -> ThreadHandle {
        let index = self.threads.len();
        let id = Rc::new(id);
        self.threads.push(Thread {
            id: Rc::clone(&id),
            frame: Frame::new(self.module, func, args, None),
            callers: Vec::new(),
            fuel: self.fuel,
            atomic_depth: 0,
            children: Vec::new(),
            started: false,
            state: ThreadState::Live,
        });
        self.live.push(index);
        ThreadHandle { index, id }
    }

    /// Runs segments until the main thread ends or no thread can run. [thread.run]
    pub fn run(mut self, scheduler: &Scheduler) -> Result<Outcome, RunError> {
        let ran = self.run_segments(scheduler);
        // Whatever ends the run, the output printed before goes out (if it can): a run that
        // stops without an outcome (a divergence, the heap limit) has streamed it too
        // ([exec.output-stream], [schedule.diverged]). The run's own error comes first.
        let flushed = self.flush_output();
        let (end, replay) = ran?;
        flushed?;
        if let Some(replay) = &replay {
            replay.finish()?;
        }
        Ok(Outcome { stdout: self.stdout, end, schedule: self.schedule })
    }

    /// The segment loop of [`Machine::run`]: how the run ended, and the replayed schedule's
    /// state for its last check.
    fn run_segments<'s>(&mut self, scheduler: &'s Scheduler) -> Result<(End, Option<Replay<'s>>), RunError> {
        // Cycles left by earlier runs on this host thread are freed, and what remains (this
        // run's constants and arguments) is not counted.
        value::collect_cycles(self.roots());
        self.heap_ceiling = value::live_bytes().saturating_add(self.max_heap_bytes);
        let mut last: Option<usize> = None;
        let mut rng = match scheduler {
            Scheduler::Seed(seed) => Some(SplitMix64::new(*seed)),
            _ => None,
        };
        let mut replay = match scheduler {
            Scheduler::Replay(s) => Some(Replay::new(s)),
            _ => None,
        };
        let end = loop {
            // [thread.end-of-run]
            match &self.threads[0].state {
                ThreadState::Live => {}
                ThreadState::Finished(v) => break End::Finished { value: v.to_outcome(self.module) },
                ThreadState::Trapped(t) => break End::Trapped(TrapInfo::clone(t)),
            }
            // [thread.deadlock]
            if !self.live.iter().any(|&t| self.is_runnable(t)) {
                break self.deadlock();
            }
            // `decisions`: how many consecutive decisions choose `chosen`, one for round-robin
            // and a seed, and what is left of the current entry for a replay ([schedule.replay]:
            // an entry `THREAD N` makes the next N decisions choose THREAD).
            let (chosen, decisions) = match (&mut rng, &mut replay) {
                (Some(rng), _) => (scheduler::seeded(rng, &self.runnable()), 1),
                // (At least one: a `Schedule` built in code may hold an entry of 0, which runs one.)
                (None, Some(replay)) => (self.replay_pick(replay)?, replay.progress().0.max(1)),
                (None, None) => (scheduler::round_robin(last, &self.runnable()), 1),
            };
            // Between two segments of `chosen` no other thread runs, so the decision the loop
            // above would take is `chosen` again as long as `chosen` is runnable (main has not
            // ended, since `chosen` runs or main is blocked; some thread is runnable; the entry's
            // thread is). When it is not, the loop above decides (end of run, deadlock or
            // divergence) as for any decision. So a replay checks the schedule once per entry,
            // not once per segment.
            let mut ran = 0;
            while ran < decisions && (ran == 0 || self.is_runnable(chosen)) {
                self.run_segment(chosen)?;
                ran += 1;
            }
            last = Some(chosen);
            if let Some(replay) = &mut replay {
                replay.ran_segments(ran);
                // [schedule.diverged]: the entry's thread ended before its segments ran. (It
                // ended after its last segment, since an ended thread is not runnable.)
                let (remaining, asked) = replay.progress();
                if remaining > 0 && !matches!(self.threads[chosen].state, ThreadState::Live) {
                    return Err(RunError::diverged(
                        replay.entry_number(),
                        format!(
                            "thread {} ended after {} of the {asked} segments the entry asks for",
                            self.threads[chosen].id,
                            asked - remaining
                        ),
                    ));
                }
            }
            // [schedule.record]: the segments `chosen` ran, one entry's worth at a time (a run
            // that fails has no outcome, so recording after them changes nothing).
            if self.record_schedule {
                self.schedule.push_segments(&self.threads[chosen].id, ran);
            }
        };
        Ok((end, replay))
    }

    /// The runnable threads in creation order, for round-robin and seeded decisions.
    fn runnable(&self) -> Vec<usize> {
        self.live.iter().copied().filter(|&t| self.is_runnable(t)).collect()
    }

    /// Guest output not captured in the outcome goes to the process's stdout; a stdout that
    /// refuses it ends the run (`RunError::OutputFailed`).
    fn flush_output(&mut self) -> Result<(), RunError> {
        if let Some(out) = &mut self.inherited {
            use std::io::Write;
            if let Err(e) = out.flush() {
                self.output_error.get_or_insert(e);
            }
        }
        self.output_failure()
    }

    fn output_failure(&mut self) -> Result<(), RunError> {
        match self.output_error.take() {
            Some(e) => Err(RunError::OutputFailed { kind: e.kind(), message: e.to_string() }),
            None => Ok(()),
        }
    }

    /// Appends guest output; an error is kept for `run_segment` to end the run with, since a
    /// print is not a trap ([exec.print]: it never traps).
    fn write_output(&mut self, bytes: &[u8]) {
        match &mut self.inherited {
            Some(out) => {
                use std::io::Write;
                if self.output_error.is_none() {
                    if let Err(e) = out.write_all(bytes) {
                        self.output_error = Some(e);
                    }
                }
            }
            None => self.stdout.extend_from_slice(bytes),
        }
    }

    /// The thread the replayed schedule names, if it exists and is runnable. [schedule.replay]
    fn replay_pick(&self, replay: &mut Replay) -> Result<usize, RunError> {
        let id = replay.next_thread()?;
        let entry = replay.entry_number();
        let Some(index) = self.thread_index(id) else {
            return Err(RunError::diverged(entry, format!("thread {id} does not exist")));
        };
        if !self.is_runnable(index) {
            let why = match &self.threads[index].state {
                ThreadState::Live => "it is blocked in a join",
                ThreadState::Finished(_) => "it has returned",
                ThreadState::Trapped(_) => "it has trapped",
            };
            return Err(RunError::diverged(entry, format!("thread {id} cannot run: {why}")));
        }
        Ok(index)
    }

    /// The thread named `id`, if the run has created it: `0` is the main thread and `P.k` the
    /// `k`-th child of `P` ([thread.id]), so the name is a path from main through `children`.
    fn thread_index(&self, id: &ThreadId) -> Option<usize> {
        match id.0.split_first() {
            Some((0, path)) => path.iter().try_fold(0, |t, &k| self.threads[t].children.get(k as usize).copied()),
            _ => None,
        }
    }

    /// A live thread is runnable unless it is at a join whose target is a thread that has not
    /// ended. [thread.runnable]
    #[inline]
    fn is_runnable(&self, t: usize) -> bool {
        matches!(self.threads[t].state, ThreadState::Live)
            && self.join_target(t).is_none_or(|target| !matches!(self.threads[target].state, ThreadState::Live))
    }

    /// The thread that thread `t`'s current instruction joins, when it is a `join` of a thread
    /// handle.
    fn join_target(&self, t: usize) -> Option<usize> {
        let frame = &self.threads[t].frame;
        match &frame.code[frame.pc as usize] {
            Instr::Join { thread, .. } => match &frame.regs[thread.0 as usize] {
                Value::Thread(h) => Some(h.index),
                _ => None,
            },
            _ => None,
        }
    }

    /// [thread.deadlock] The end when no thread is runnable: every thread that has not ended,
    /// sorted by id, each at its `join` (no thread is runnable, so every one is at a `join` of
    /// a thread that has not ended) with the thread it waits for.
    fn deadlock(&self) -> End {
        let mut blocked: Vec<BlockedThread> = self
            .live
            .iter()
            .map(|&t| {
                let th = &self.threads[t];
                let target = self.join_target(t).expect("a thread that is not runnable is at a join");
                BlockedThread {
                    thread: (*th.id).clone(),
                    waits_for: (*self.threads[target].id).clone(),
                    function: th.frame.func.0,
                    function_name: self.module.functions[th.frame.func.0 as usize].name.clone(),
                    pc: th.frame.pc,
                }
            })
            .collect();
        blocked.sort_by(|a, b| a.thread.cmp(&b.thread));
        End::Deadlock { blocked }
    }

    /// Runs one segment of thread `t`: instructions up to the next boundary, or to the
    /// thread's end. [thread.segment] Fails only when the heap outgrows its limit.
    #[inline(always)]
    fn run_segment(&mut self, t: usize) -> Result<(), RunError> {
        if !self.threads[t].started {
            self.threads[t].started = true;
            // [exec.thread-entry]: the root function's entry charges fuel, at its pc 0.
            if let Err(fault) = self.charge_fuel(t, || "the thread has no fuel to enter its root function".into()) {
                self.end_trapped(t, fault);
                return Ok(());
            }
        }
        let mut first = true;
        loop {
            let th = &self.threads[t];
            let pc = th.frame.pc;
            let instr = &th.frame.code[pc as usize];
            // [thread.boundary-before]: a join outside atomic blocks starts a segment.
            if matches!(instr, Instr::Join { .. }) && th.atomic_depth == 0 && !first {
                return Ok(());
            }
            first = false;
            let flow = self.exec(t, instr);
            // [thread.boundary-after]; a backward jump ends its segment whether taken or not
            // (`pc` is where the jump was). Asked after `exec` so that the compiler can answer
            // it in each of `exec`'s arms, where the instruction is known.
            let boundary_after = instr.flags().contains(Flags::BOUNDARY_AFTER)
                || instr.jump_target().is_some_and(|target| target.0 <= pc);
            // [limit.memory]: checked after every instruction, not only between segments, since
            // an atomic block is one segment however much it allocates. A run overshoots its
            // limit by at most what one instruction allocates.
            if self.heap_exceeded() {
                return Err(RunError::OutOfMemory { limit_bytes: self.max_heap_bytes });
            }
            if self.output_error.is_some() {
                self.output_failure()?;
            }
            // Host-side: a loop, even inside an atomic block, passes a boundary or a backward
            // jump on every iteration, so this bounds how long a run ignores the flag.
            if boundary_after && self.interrupt.as_ref().is_some_and(Interrupt::is_set) {
                return Err(RunError::Interrupted);
            }
            match flow {
                // [thread.atomic-segment]: no boundary inside an atomic block.
                Ok(Flow::Continue) => {
                    if boundary_after && self.threads[t].atomic_depth == 0 {
                        return Ok(());
                    }
                }
                Ok(Flow::Ended) | Ok(Flow::Blocked) => return Ok(()),
                Err(fault) => {
                    self.end_trapped(t, fault);
                    return Ok(());
                }
            }
        }
    }

    /// [limit.memory]: whether the data the run keeps alive exceeds its limit. Garbage never
    /// counts: when the count is over, unreachable cycles (the only garbage reference counting
    /// leaves) are collected first. Near the limit, with cycles made and dropped all the time,
    /// this may collect often; the reference accepts being slow there.
    fn heap_exceeded(&self) -> bool {
        let over = || value::live_bytes() > self.heap_ceiling;
        if !over() {
            return false;
        }
        value::collect_cycles(self.roots());
        over()
    }

    /// Every value the program can still reach from: the constants, every thread's registers
    /// (its frame and its callers') and the results of the threads that have finished.
    fn roots(&self) -> impl Iterator<Item = &Value> {
        self.constants.iter().chain(self.threads.iter().flat_map(|th| {
            let finished = match &th.state {
                ThreadState::Finished(v) => Some(v),
                _ => None,
            };
            th.callers.iter().chain(std::iter::once(&th.frame)).flat_map(|f| f.regs.iter()).chain(finished)
        }))
    }

    /// [exec.trap-location]: a trap ends its thread and is located at the thread's current
    /// function and instruction. [thread.trap]
    /// The report also carries the thread's call stack and, for `thread_trapped`, the joined
    /// thread's trap ([exec.trap-report]).
    fn end_trapped(&mut self, t: usize, fault: Fault) {
        let th = &self.threads[t];
        let name = |func: FuncIdx| self.module.functions[func.0 as usize].name.clone();
        // A caller's pc is its return address, one past the call that is running.
        let callers = th
            .callers
            .iter()
            .rev()
            .map(|f| StackFrame { function: f.func.0, function_name: name(f.func), pc: f.pc.saturating_sub(1) })
            .collect();
        let fault = fault.into_data();
        let info = TrapInfo {
            kind: fault.kind,
            thread: (*th.id).clone(),
            function: th.frame.func.0,
            function_name: name(th.frame.func),
            pc: th.frame.pc,
            message: fault.message,
            detail: fault.detail,
            callers: Some(callers),
            joined: fault.joined,
        };
        self.end_thread(t, ThreadState::Trapped(Arc::new(info)));
    }

    fn end_thread(&mut self, t: usize, state: ThreadState) {
        self.threads[t].state = state;
        self.live.retain(|&x| x != t);
    }

    /// [exec.fuel]: one unit, or `out_of_fuel` when none is left.
    fn charge_fuel(&mut self, t: usize, detail: impl FnOnce() -> String) -> Result<(), Fault> {
        let th = &mut self.threads[t];
        if th.fuel == 0 {
            return Err(Fault::new(TrapKind::OutOfFuel, detail()));
        }
        th.fuel -= 1;
        Ok(())
    }

    fn reg(&self, t: usize, r: Reg) -> &Value {
        &self.threads[t].frame.regs[r.0 as usize]
    }

    fn set(&mut self, t: usize, r: Reg, v: Value) {
        self.threads[t].frame.regs[r.0 as usize] = v;
    }

    /// Sets `dst` and moves to the next instruction: the common ending of most instructions.
    fn put(&mut self, t: usize, dst: Reg, v: Value) -> Result<Flow, Fault> {
        self.set(t, dst, v);
        Ok(self.next(t))
    }

    fn next(&mut self, t: usize) -> Flow {
        self.threads[t].frame.pc += 1;
        Flow::Continue
    }

    fn args(&self, t: usize, args: &[Reg]) -> Vec<Value> {
        args.iter().map(|r| self.reg(t, *r).clone()).collect()
    }

    /// Executes one instruction of thread `t`. Checks happen in the order `semantics.md`
    /// gives, and a failing check changes nothing. [exec.step]
    #[inline(always)]
    fn exec(&mut self, t: usize, instr: &Instr) -> Result<Flow, Fault> {
        match instr {
            // [exec.nop]
            Instr::Nop {} => Ok(self.next(t)),
            // [exec.load]
            Instr::Mov { dst, src } => self.put(t, *dst, self.reg(t, *src).clone()),
            Instr::LdNil { dst } => self.put(t, *dst, Value::Nil),
            Instr::LdTrue { dst } => self.put(t, *dst, Value::Bool(true)),
            Instr::LdFalse { dst } => self.put(t, *dst, Value::Bool(false)),
            Instr::LdI { dst, value } => self.put(t, *dst, Value::Int(*value)),
            Instr::LdK { dst, k } => self.put(t, *dst, self.constants[k.0 as usize].clone()),
            Instr::LdFn { dst, func } => self.put(t, *dst, Value::Function(*func)),

            // [exec.arith]
            Instr::Add { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::arith(ArithOp::Add, x, y)),
            Instr::Sub { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::arith(ArithOp::Sub, x, y)),
            Instr::Mul { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::arith(ArithOp::Mul, x, y)),
            Instr::Div { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::arith(ArithOp::Div, x, y)),
            Instr::Rem { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::arith(ArithOp::Rem, x, y)),
            Instr::Neg { dst, a } => self.put(t, *dst, arith::neg(self.reg(t, *a))?),
            Instr::Sqrt { dst, a } => self.put(t, *dst, arith::sqrt(self.reg(t, *a))?),
            // [exec.logic]
            Instr::And { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::logic(LogicOp::And, x, y)),
            Instr::Or { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::logic(LogicOp::Or, x, y)),
            Instr::Xor { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::logic(LogicOp::Xor, x, y)),
            Instr::Not { dst, a } => self.put(t, *dst, arith::not(self.reg(t, *a))?),
            // [exec.shift]
            Instr::Shl { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::shift(ShiftOp::Shl, x, y)),
            Instr::Shr { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::shift(ShiftOp::Shr, x, y)),
            Instr::UShr { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::shift(ShiftOp::UShr, x, y)),
            // [exec.eq]
            Instr::Eq { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| Ok(Value::Bool(value::equal(x, y)))),
            Instr::Ne { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| Ok(Value::Bool(!value::equal(x, y)))),
            // [exec.compare]
            Instr::Lt { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::compare(CompareOp::Lt, x, y)),
            Instr::Le { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::compare(CompareOp::Le, x, y)),
            Instr::Gt { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::compare(CompareOp::Gt, x, y)),
            Instr::Ge { dst, a, b } => self.binary(t, *dst, *a, *b, |x, y| arith::compare(CompareOp::Ge, x, y)),

            // [exec.itof]
            Instr::IToF { dst, a } => match self.reg(t, *a) {
                Value::Int(i) => self.put(t, *dst, Value::Float(lockstep_spec::num::int_to_float(*i))),
                other => Err(Fault::type_error(format!("itof expects an int, got {}", other.type_name()))),
            },
            // [exec.ftoi]
            Instr::FToI { dst, a } => match self.reg(t, *a) {
                Value::Float(f) => match lockstep_spec::num::float_to_int(*f) {
                    Some(i) => self.put(t, *dst, Value::Int(i)),
                    None => Err(Fault::new(TrapKind::InvalidConversion, detail::ftoi(*f))),
                },
                other => Err(Fault::type_error(format!("ftoi expects a float, got {}", other.type_name()))),
            },
            // [exec.typeof]
            Instr::TypeOf { dst, a } => {
                let name = self.reg(t, *a).type_name();
                self.put(t, *dst, Value::str(name.as_bytes()))
            }

            // [exec.jmp]
            Instr::Jmp { target } => self.jump(t, *target),
            // [exec.jmpif], [value.bool-strict]
            Instr::JmpIf { cond, target } | Instr::JmpIfNot { cond, target } => {
                let want = matches!(instr, Instr::JmpIf { .. });
                match self.reg(t, *cond) {
                    Value::Bool(b) if *b == want => self.jump(t, *target),
                    Value::Bool(_) => Ok(self.next(t)),
                    other => Err(not_a_condition(other)),
                }
            }
            // [exec.call]
            Instr::Call { dst, func, args } => {
                let args = self.args(t, args);
                self.enter(t, *func, args, *dst)
            }
            // [exec.callv]
            Instr::CallV { dst, callee, args } => {
                let Value::Function(func) = self.reg(t, *callee) else {
                    let found = self.reg(t, *callee).type_name();
                    return Err(Fault::type_error(format!("callv expects a function, got {found}")));
                };
                let func = *func;
                let callee_def = &self.module.functions[func.0 as usize];
                if callee_def.arity as usize != args.len() {
                    return Err(Fault::new(
                        TrapKind::ArityMismatch,
                        detail::callv_arity(&callee_def.name, callee_def.arity, args.len() as u32),
                    ));
                }
                let args = self.args(t, args);
                self.enter(t, func, args, *dst)
            }
            // [exec.ret]
            Instr::Ret { src } => self.ret(t, *src),

            // [exec.new]
            Instr::New { dst, class } => {
                let obj = Value::object(*class, self.module.all_fields(*class).len());
                self.put(t, *dst, obj)
            }
            // [exec.getf]
            Instr::GetF { dst, obj, field } => {
                let obj = self.instance_for_field(t, *obj, field.class, "getf")?;
                let v = obj.fields.borrow()[field.slot as usize].clone();
                self.put(t, *dst, v)
            }
            // [exec.setf]
            Instr::SetF { obj, field, src } => {
                let obj = self.instance_for_field(t, *obj, field.class, "setf")?;
                obj.fields.borrow_mut()[field.slot as usize] = self.reg(t, *src).clone();
                Ok(self.next(t))
            }
            // [exec.send]
            Instr::Send { dst, recv, name, args } => {
                let receiver = self.reg(t, *recv).clone();
                let Value::Object(obj) = &receiver else {
                    return Err(Fault::type_error(format!("send expects an object, got {}", receiver.type_name())));
                };
                let name = self.const_str(name.0);
                let class_name = &self.module.classes[obj.class.0 as usize].name;
                let Some(func) = self.find_method(obj.class, name) else {
                    return Err(Fault::new(TrapKind::NoSuchMethod, detail::no_such_method(class_name, name)));
                };
                let callee_def = &self.module.functions[func.0 as usize];
                if callee_def.arity as usize != args.len() + 1 {
                    let passed = args.len() as u32 + 1;
                    return Err(Fault::new(
                        TrapKind::ArityMismatch,
                        detail::send_arity(&callee_def.name, name, class_name, callee_def.arity, passed),
                    ));
                }
                let mut values = vec![receiver.clone()];
                values.extend(self.args(t, args));
                self.enter(t, func, values, *dst)
            }
            // [exec.instanceof]
            Instr::InstanceOf { dst, obj, class } => {
                let is = match self.reg(t, *obj) {
                    Value::Object(o) => self.is_subclass(o.class, *class),
                    _ => false,
                };
                self.put(t, *dst, Value::Bool(is))
            }

            // [exec.anew]
            Instr::ANew { dst, len } => {
                let n = match self.reg(t, *len) {
                    Value::Int(n) => *n,
                    other => {
                        return Err(Fault::type_error(format!("anew expects an int length, got {}", other.type_name())))
                    }
                };
                if n < 0 || n as u64 > MAX_ARRAY_LEN {
                    return Err(Fault::new(
                        TrapKind::BadLength,
                        format!("array length {n} is outside 0..={MAX_ARRAY_LEN}"),
                    ));
                }
                self.put(t, *dst, Value::array(vec![Value::Nil; n as usize]))
            }
            // [exec.aget]
            Instr::AGet { dst, arr, idx } => {
                let (items, i) = self.array_index(t, *arr, *idx, "aget")?;
                let v = items.borrow()[i].clone();
                self.put(t, *dst, v)
            }
            // [exec.aset]
            Instr::ASet { arr, idx, src } => {
                let (items, i) = self.array_index(t, *arr, *idx, "aset")?;
                items.borrow_mut()[i] = self.reg(t, *src).clone();
                Ok(self.next(t))
            }
            // [exec.alen]
            Instr::ALen { dst, arr } => {
                let items = self.array(t, *arr, "alen")?;
                let n = items.borrow().len() as i64;
                self.put(t, *dst, Value::Int(n))
            }
            // [exec.apush]
            Instr::APush { arr, src } => {
                let items = self.array(t, *arr, "apush")?;
                if items.borrow().len() as u64 >= MAX_ARRAY_LEN {
                    return Err(Fault::new(
                        TrapKind::BadLength,
                        format!("an array may hold at most {MAX_ARRAY_LEN} elements"),
                    ));
                }
                items.borrow_mut().push(self.reg(t, *src).clone());
                Ok(self.next(t))
            }

            // [exec.concat]
            Instr::Concat { dst, a, b } => {
                let (Value::Str(x), Value::Str(y)) = (self.reg(t, *a), self.reg(t, *b)) else {
                    return Err(Fault::type_error(format!(
                        "concat expects two strings, got {} and {}",
                        self.reg(t, *a).type_name(),
                        self.reg(t, *b).type_name()
                    )));
                };
                let len = x.len() as u64 + y.len() as u64;
                if len > MAX_STRING_LEN {
                    return Err(Fault::new(
                        TrapKind::BadLength,
                        format!("a string may hold at most {MAX_STRING_LEN} bytes"),
                    ));
                }
                let joined: Vec<u8> = x.iter().chain(y.iter()).copied().collect();
                self.put(t, *dst, Value::str(&joined))
            }
            // [exec.slen]
            Instr::SLen { dst, s } => match self.reg(t, *s) {
                Value::Str(s) => {
                    let n = s.len() as i64;
                    self.put(t, *dst, Value::Int(n))
                }
                other => Err(Fault::type_error(format!("slen expects a string, got {}", other.type_name()))),
            },
            // [exec.tostr]
            Instr::ToStr { dst, a } => {
                let text = self.reg(t, *a).display(self.module);
                self.put(t, *dst, Value::str(&text))
            }
            // [exec.stoi]
            Instr::SToI { dst, s } => match self.reg(t, *s) {
                Value::Str(s) => {
                    let v = lockstep_spec::num::parse_int(s).map_or(Value::Nil, Value::Int);
                    self.put(t, *dst, v)
                }
                other => Err(Fault::type_error(format!("stoi expects a string, got {}", other.type_name()))),
            },
            // [exec.stof]
            Instr::SToF { dst, s } => match self.reg(t, *s) {
                Value::Str(s) => {
                    let v = lockstep_spec::num::parse_float(s).map_or(Value::Nil, Value::Float);
                    self.put(t, *dst, v)
                }
                other => Err(Fault::type_error(format!("stof expects a string, got {}", other.type_name()))),
            },

            // [exec.print]
            Instr::Print { src } | Instr::PrintLn { src } => {
                let mut text = self.reg(t, *src).display(self.module);
                if matches!(instr, Instr::PrintLn { .. }) {
                    text.push(b'\n');
                }
                self.write_output(&text);
                Ok(self.next(t))
            }

            // [thread.spawn]
            Instr::Spawn { dst, func, args } => {
                if self.threads.len() >= MAX_THREADS as usize {
                    return Err(Fault::new(
                        TrapKind::ThreadLimit,
                        format!("a run may create at most {MAX_THREADS} threads"),
                    ));
                }
                let args = self.args(t, args);
                // [thread.id]
                let parent = &self.threads[t];
                let id = parent.id.child(parent.children.len() as u32);
                let handle = self.add_thread(id, *func, args);
                self.threads[t].children.push(handle.index);
                self.put(t, *dst, Value::Thread(handle))
            }
            // [thread.join]
            Instr::Join { dst, thread } => {
                let Value::Thread(target) = self.reg(t, *thread) else {
                    let found = self.reg(t, *thread).type_name();
                    return Err(Fault::type_error(format!("join expects a thread, got {found}")));
                };
                let target = target.clone();
                if self.threads[t].atomic_depth > 0 {
                    return Err(Fault::new(TrapKind::JoinInAtomic, "join inside an atomic block"));
                }
                match &self.threads[target.index].state {
                    ThreadState::Live => Ok(Flow::Blocked),
                    ThreadState::Finished(v) => {
                        let v = v.clone();
                        self.put(t, *dst, v)
                    }
                    ThreadState::Trapped(info) => {
                        let mut fault = Fault::with_message(
                            TrapKind::ThreadTrapped,
                            info.kind.name().to_string(),
                            format!("thread {} trapped: {}", target.id, info.kind),
                        );
                        fault.set_joined(Arc::clone(info));
                        Err(fault)
                    }
                }
            }
            // [thread.atomic]
            Instr::AtomicBegin {} => {
                let th = &mut self.threads[t];
                // Saturating: reaching 2^64 nested blocks would take more steps than any run.
                th.atomic_depth = th.atomic_depth.saturating_add(1);
                Ok(self.next(t))
            }
            Instr::AtomicEnd {} => {
                let th = &mut self.threads[t];
                if th.atomic_depth == 0 {
                    return Err(Fault::new(TrapKind::UnbalancedAtomic, "atomic_end outside an atomic block"));
                }
                th.atomic_depth -= 1;
                Ok(self.next(t))
            }
            // [thread.yield]
            Instr::Yield {} => Ok(self.next(t)),

            // [exec.trap]
            Instr::Trap { msg } => {
                let message = String::from_utf8_lossy(self.const_str(msg.0)).into_owned();
                Err(Fault::with_message(TrapKind::ExplicitTrap, message.clone(), message))
            }
            // [exec.assert]
            Instr::Assert { cond, msg } => match self.reg(t, *cond) {
                Value::Bool(true) => Ok(self.next(t)),
                Value::Bool(false) => {
                    let message = String::from_utf8_lossy(self.const_str(msg.0)).into_owned();
                    Err(Fault::with_message(TrapKind::AssertionFailed, message.clone(), message))
                }
                other => Err(not_a_condition(other)),
            },
        }
    }

    fn binary(
        &mut self,
        t: usize,
        dst: Reg,
        a: Reg,
        b: Reg,
        op: impl FnOnce(&Value, &Value) -> Result<Value, Fault>,
    ) -> Result<Flow, Fault> {
        let v = op(self.reg(t, a), self.reg(t, b))?;
        self.put(t, dst, v)
    }

    /// Jumps to `target`; a backward jump (target at or before the jump) charges fuel when
    /// taken. [exec.backward-jump]
    fn jump(&mut self, t: usize, target: Label) -> Result<Flow, Fault> {
        if target.0 <= self.threads[t].frame.pc {
            self.charge_fuel(t, || "no fuel left for a backward jump".into())?;
        }
        self.threads[t].frame.pc = target.0;
        Ok(Flow::Continue)
    }

    /// Enters `func` with `args`, after the callee-specific checks of the calling instruction:
    /// the depth limit, then fuel. [exec.call-entry]
    fn enter(&mut self, t: usize, func: FuncIdx, args: Vec<Value>, dst: Reg) -> Result<Flow, Fault> {
        let depth = self.threads[t].callers.len() + 1;
        let name = &self.module.functions[func.0 as usize].name;
        if depth + 1 > MAX_CALL_DEPTH as usize {
            return Err(Fault::new(
                TrapKind::StackOverflow,
                format!("calling {name} would exceed {MAX_CALL_DEPTH} frames"),
            ));
        }
        self.charge_fuel(t, || format!("no fuel left for entering {name}"))?;
        let frame = Frame::new(self.module, func, args, Some(dst));
        let th = &mut self.threads[t];
        th.frame.pc += 1;
        let caller = std::mem::replace(&mut th.frame, frame);
        th.callers.push(caller);
        Ok(Flow::Continue)
    }

    /// [exec.ret]: returns to the caller, or ends the thread from its root frame, where an
    /// open atomic block traps `unbalanced_atomic`. [thread.end]
    fn ret(&mut self, t: usize, src: Reg) -> Result<Flow, Fault> {
        let v = self.reg(t, src).clone();
        let th = &mut self.threads[t];
        match th.callers.pop() {
            Some(caller) => {
                let callee = std::mem::replace(&mut th.frame, caller);
                if let Some(dst) = callee.ret_dst {
                    th.frame.regs[dst.0 as usize] = v;
                }
                Ok(Flow::Continue)
            }
            None => {
                if th.atomic_depth > 0 {
                    return Err(Fault::new(TrapKind::UnbalancedAtomic, "the thread ends inside an atomic block"));
                }
                self.end_thread(t, ThreadState::Finished(v));
                Ok(Flow::Ended)
            }
        }
    }

    fn const_str(&self, k: u32) -> &'m [u8] {
        match &self.module.constants[k as usize] {
            Constant::Str(s) => s,
            // The verifier guarantees a `Str` operand names a string constant.
            _ => b"",
        }
    }

    /// Whether `class` is `of` or a subclass of it.
    fn is_subclass(&self, class: ClassIdx, of: ClassIdx) -> bool {
        let mut cur = Some(class);
        while let Some(c) = cur {
            if c == of {
                return true;
            }
            cur = self.module.classes[c.0 as usize].superclass;
        }
        false
    }

    /// The nearest method called `name` along the class chain. [exec.method-lookup]
    fn find_method(&self, class: ClassIdx, name: &[u8]) -> Option<FuncIdx> {
        let mut cur = Some(class);
        while let Some(c) = cur {
            let def = &self.module.classes[c.0 as usize];
            if let Some(m) = def.methods.iter().find(|m| m.name.as_bytes() == name) {
                return Some(m.func);
            }
            cur = def.superclass;
        }
        None
    }

    /// The object in `obj`, if it is an instance of `class` or of a subclass. [exec.field-access]
    fn instance_for_field(&self, t: usize, obj: Reg, class: ClassIdx, op: &str) -> Result<Rc<Object>, Fault> {
        let class_name = &self.module.classes[class.0 as usize].name;
        match self.reg(t, obj) {
            Value::Object(o) if self.is_subclass(o.class, class) => Ok(Rc::clone(o)),
            other => {
                let got_class = match other {
                    Value::Object(o) => Some(self.module.classes[o.class.0 as usize].name.as_str()),
                    _ => None,
                };
                Err(Fault::type_error(detail::needs_instance(op, class_name, other.type_name(), got_class)))
            }
        }
    }

    fn array(&self, t: usize, arr: Reg, op: &str) -> Result<ArrayRef, Fault> {
        match self.reg(t, arr) {
            Value::Array(a) => Ok(Rc::clone(a)),
            other => Err(Fault::type_error(format!("{op} expects an array, got {}", other.type_name()))),
        }
    }

    /// The array and the index, checked in order: array type, index type, range.
    fn array_index(&self, t: usize, arr: Reg, idx: Reg, op: &str) -> Result<(ArrayRef, usize), Fault> {
        let items = self.array(t, arr, op)?;
        let i = match self.reg(t, idx) {
            Value::Int(i) => *i,
            other => return Err(Fault::type_error(format!("{op} expects an int index, got {}", other.type_name()))),
        };
        let len = items.borrow().len();
        if i < 0 || i as u64 >= len as u64 {
            return Err(Fault::new(TrapKind::IndexOutOfBounds, format!("index {i} outside an array of length {len}")));
        }
        Ok((items, i as usize))
    }
}

/// [value.bool-strict]: a condition (`jmpif`, `jmpifnot`, `assert`) that is not a bool.
#[cold]
fn not_a_condition(found: &Value) -> Fault {
    Fault::type_error(format!("a condition must be a bool, got {}", found.type_name()))
}
