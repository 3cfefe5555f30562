//! The interpreter core: runs one guest thread until its run of segments ends, with inline fast
//! paths for SmallInts, SmallFloats, exact-class field access and cached sends, and the rest in
//! [`crate::ops`].
//!
//! Shape (Pulley's and wasmi's executors): the per-call state is one struct, [`Exec`] (the
//! instruction pointer, the register window, the segment countdown, where the segment began);
//! each instruction's semantics is a method of it (`arith.rs`, `memory.rs`, `control.rs`,
//! `threads.rs`) that returns a [`Flow`]; the dispatch loop below matches on the op, calls the
//! method, and leaves on `Err`. Every method is `#[inline(always)]` and nothing takes the
//! `Exec` by reference outside this module's inlined code, so LLVM keeps its fields in machine
//! registers as it did the locals of the old single-function loop; cold paths are free
//! functions that take only what they need.
//!
//! Accounting follows `spec/semantics.md` and `spec/concurrency.md`: one unit of fuel per
//! function entry (including a thread's root, charged at its pc 0) and per taken backward
//! jump, the call depth limit on entry, and segment boundaries where the instruction table
//! (`spec/src/isa.rs`) says `BOUNDARY_AFTER` (calls, sends, returns, spawns, prints,
//! `atomic_end`, `yield`) and after backward jumps, and before `join` (`BOUNDARY_BEFORE`), none
//! of them inside an atomic block. Safepoints (where the collector may run) are function
//! entries and taken backward jumps: there every live value is in a register, never in a Rust
//! local.
//!
//! Entering and leaving (`DESIGN.md`): [`run_thread`] resumes a thread at the pc saved in its
//! top frame, before any op; every exit stores the pc of the next op to execute in that frame
//! first. Compiled code uses the same protocol.
//!
//! With the JIT on (`JIT`, a second copy of the loop), the loop runs the current function's
//! compiled code, if it has some, before each op it interprets (`Exec::run_compiled`): the
//! compiled code runs until an op it leaves to the interpreter, the interpreter executes that
//! one op, and compiled code resumes after it. Which function's code is current is looked up
//! only where the running function changes (entry, return, the start of a run) and at backward
//! jumps of functions not yet compiled (which count toward compiling them).

mod arith;
mod control;
mod memory;
mod threads;

use crate::code::{Op, Program};
use crate::context::Context;
use crate::heap::OutOfMemory;
use crate::jit::{Compiled, Flavour, JitCtx};
use crate::mode::{Loc, Mode};
use crate::ops::Fault;
use crate::regs::Window;
use crate::stm::Abort;
use crate::stop::{Failure, Stop};
use crate::thread::{Frame, Thread, ThreadState, TrapRecord};
use crate::value::Value;
use lockstep_spec::TrapKind;

/// How many registers a call clears at once (see `Exec::enter`); the register stack keeps this
/// much room above the top frame.
pub(crate) const FILL_SLACK: usize = 8;

/// Why a handler leaves the dispatch loop.
pub(crate) enum Exit {
    /// Back to the driver: why, and how many segments the run completed.
    Stop(Stop, u64),
    /// The heap outgrew its limit.
    Oom,
    /// Streamed output could not be written.
    Output(std::io::Error),
}

/// What a handler returns: `Ok` to continue at `ip`, `Err` to leave.
pub(crate) type Flow = Result<(), Exit>;

/// The interpreter's state while it runs one thread: the machine registers of the loop.
pub(crate) struct Exec<'a, const STATS: bool, const JIT: bool, M: Mode> {
    /// The next instruction; always inside `cb`'s code (see `dispatch`).
    ip: *const Op,
    /// The code of the running function.
    cb: *const Op,
    /// The running frame's registers.
    w: Window,
    /// Segments that may complete before returning (`limit`), and how many of them are left:
    /// `limit - left` have completed. Counting down keeps the hot boundary check to a decrement
    /// and a test of one register.
    limit: u64,
    left: u64,
    /// Where the current segment began: a `join` there is the segment's first instruction.
    /// The instruction pointer alone identifies it: returning to the same instruction needs a
    /// backward jump, a call or a return, each a boundary, except inside an atomic block, whose
    /// end is a boundary too (and a `join` inside one traps before this matters).
    seg_start: *const Op,
    /// Instructions executed (only with `STATS`).
    icount: u64,
    /// The running function's compiled code for this mode, or null (only with `JIT`).
    jf: *const Compiled,
    /// The running thread's index in the run.
    ti: usize,
    th: &'a mut Thread,
    prog: &'a Program,
    /// The heap, inline caches and output buffer, behind one pointer: each a field of its own
    /// would be one more value live across the loop, and that pressure pushed `ip` out of its
    /// register (+5% instructions on loop_sum).
    cx: &'a mut Context,
    mode: &'a mut M,
}

/// Runs thread `ti` (`th`, moved out of any table) of `prog` for at most `budget` segments in
/// `cx`. Returns why it stopped and how many segments it completed.
pub(crate) fn run_thread<const STATS: bool, M: Mode>(
    prog: &Program,
    cx: &mut Context,
    ti: usize,
    th: &mut Thread,
    budget: u64,
    mode: &mut M,
) -> Result<(Stop, u64), Failure> {
    if !th.started {
        th.started = true;
        // [exec.fuel]: the root function's entry charges one unit, located at its pc 0.
        if th.fuel == 0 {
            th.state = ThreadState::Trapped(TrapRecord {
                kind: TrapKind::OutOfFuel,
                func: th.frames[0].func,
                pc: 0,
                message: None,
                detail: "the thread has no fuel to enter its root function".into(),
                callers: Vec::new(),
                joined: None,
            });
            return Ok((Stop::Ended, 1));
        }
        th.fuel -= 1;
    }
    let top = *th.frames.last().unwrap_or(&Frame { func: prog.entry, base: 0, pc: 0, dst: 0 });
    let f = &prog.funcs[top.func as usize];
    let cb = f.code.as_ptr();
    // SAFETY: a saved pc is an instruction index of its function (it is only ever set to 0, to
    // a jump target, or to the instruction after a call), so it lies inside the code.
    let ip = unsafe { cb.add(top.pc as usize) };
    // SAFETY: the top frame's registers base..base+regs lie inside `th.regs` (every frame entry
    // grows the stack to cover them) and only this window accesses them meanwhile.
    let w = unsafe { Window::new(th.regs.as_mut_ptr().add(top.base as usize), f.regs as usize) };
    let exit = if cx.jit.enabled() {
        exec::<STATS, true, M>(ip, cb, w, budget, ti, th, prog, cx, mode)
    } else {
        exec::<STATS, false, M>(ip, cb, w, budget, ti, th, prog, cx, mode)
    };
    match exit {
        Exit::Stop(stop, segs) => Ok((stop, segs)),
        Exit::Oom => Err(Failure::OutOfMemory),
        Exit::Output(e) => Err(Failure::Output(e)),
    }
}

/// Runs the dispatch loop from `ip` in a fresh [`Exec`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn exec<const STATS: bool, const JIT: bool, M: Mode>(
    ip: *const Op,
    cb: *const Op,
    w: Window,
    budget: u64,
    ti: usize,
    th: &mut Thread,
    prog: &Program,
    cx: &mut Context,
    mode: &mut M,
) -> Exit {
    // A local, and `dispatch` inlined here: LLVM then splits the struct into scalars kept in
    // machine registers (as an argument passed by pointer it stayed in memory, which cost a
    // load and a store of `ip` per instruction: +20% instructions on loop_sum).
    let mut exec = Exec::<STATS, JIT, M> {
        ip,
        cb,
        w,
        limit: budget,
        left: budget,
        seg_start: ip,
        icount: 0,
        jf: std::ptr::null(),
        ti,
        th,
        prog,
        cx,
        mode,
    };
    exec.jit_refresh(0);
    let exit = exec.dispatch();
    exec.cx.instructions += exec.icount;
    exit
}

impl<const STATS: bool, const JIT: bool, M: Mode> Exec<'_, STATS, JIT, M> {
    /// The dispatch loop. Returns why it left.
    #[inline(always)]
    fn dispatch(&mut self) -> Exit {
        macro_rules! run {
            ($handler:expr) => {
                if let Err(exit) = $handler {
                    return exit;
                }
            };
        }
        loop {
            if JIT && !self.jf.is_null() {
                run!(self.run_compiled());
            }
            // SAFETY: pc < code.len(): jump targets are in range [verify.label-range], the code
            // never runs off its end [verify.fall-through], and calls and returns set pc to 0 or
            // to the instruction after a call (which a call cannot be the last of, as a call is
            // no terminator).
            // (A reference, not a copy: each arm then loads only the operands it uses.)
            let op: &Op = unsafe { &*self.ip };
            if STATS {
                self.icount += 1;
            }
            // Each arm leaves on `Err` itself, so that the paths that cannot fail go straight
            // back to the fetch (a result merged over all arms cost a test per instruction).
            match *op {
                Op::Nop => run!(self.nop()),
                Op::Mov { d, s } => run!(self.mov(d, s)),
                Op::Ld { d, v } => run!(self.ld(d, v)),
                Op::Add { d, a, b } => run!(self.add(d, a, b)),
                Op::Sub { d, a, b } => run!(self.sub(d, a, b)),
                Op::Mul { d, a, b } => run!(self.mul(d, a, b)),
                Op::Div { d, a, b } => run!(self.div(d, a, b)),
                Op::Rem { d, a, b } => run!(self.rem(d, a, b)),
                Op::Neg { d, a } => run!(self.neg(d, a)),
                Op::Sqrt { d, a } => run!(self.sqrt(d, a)),
                Op::And { d, a, b } => run!(self.and(d, a, b)),
                Op::Or { d, a, b } => run!(self.or(d, a, b)),
                Op::Xor { d, a, b } => run!(self.xor(d, a, b)),
                Op::Not { d, a } => run!(self.not(d, a)),
                Op::Shl { d, a, b } => run!(self.shl(d, a, b)),
                Op::Shr { d, a, b } => run!(self.shr(d, a, b)),
                Op::UShr { d, a, b } => run!(self.ushr(d, a, b)),
                Op::Eq { d, a, b } => run!(self.eq(d, a, b, false)),
                Op::Ne { d, a, b } => run!(self.eq(d, a, b, true)),
                Op::Lt { d, a, b } => run!(self.cmp::<{ arith::LT }>(d, a, b)),
                Op::Le { d, a, b } => run!(self.cmp::<{ arith::LE }>(d, a, b)),
                Op::Gt { d, a, b } => run!(self.cmp::<{ arith::GT }>(d, a, b)),
                Op::Ge { d, a, b } => run!(self.cmp::<{ arith::GE }>(d, a, b)),
                Op::IToF { d, a } => run!(self.itof(d, a)),
                Op::FToI { d, a } => run!(self.ftoi(d, a)),
                Op::TypeOf { d, a } => run!(self.type_of(d, a)),
                Op::Jmp { t } => run!(self.jmp(t)),
                Op::JmpBack { t } => run!(self.back_jump(t)),
                Op::JmpIf { c, t } => run!(self.jmp_if::<false>(c, t, true)),
                Op::JmpIfNot { c, t } => run!(self.jmp_if::<false>(c, t, false)),
                Op::JmpIfBack { c, t } => run!(self.jmp_if::<true>(c, t, true)),
                Op::JmpIfNotBack { c, t } => run!(self.jmp_if::<true>(c, t, false)),
                Op::Call { d, argc, f, args } => run!(self.call(d, argc, f, args)),
                Op::CallV { d, callee, argc, args } => run!(self.callv(d, callee, argc, args)),
                Op::Send { d, recv, argc, site, args } => run!(self.send(d, recv, argc, site, args)),
                Op::Ret { s } => run!(self.ret(s)),
                Op::New { d, class } => run!(self.new_object(d, class)),
                Op::GetF { d, o, slot, class } => run!(self.getf(d, o, slot, class)),
                Op::SetF { o, s, slot, class } => run!(self.setf(o, s, slot, class)),
                Op::InstanceOf { d, o, class } => run!(self.instance_of(d, o, class)),
                Op::ANew { d, len } => run!(self.anew(d, len)),
                Op::AGet { d, a, i } => run!(self.aget(d, a, i)),
                Op::ASet { a, i, s } => run!(self.aset(a, i, s)),
                Op::ALen { d, a } => run!(self.alen(d, a)),
                Op::APush { a, s } => run!(self.apush(a, s)),
                Op::Concat { d, a, b } => run!(self.concat(d, a, b)),
                Op::SLen { d, s } => run!(self.slen(d, s)),
                Op::ToStr { d, a } => run!(self.tostr(d, a)),
                Op::SToI { d, s } => run!(self.stoi(d, s)),
                Op::SToF { d, s } => run!(self.stof(d, s)),
                Op::Print { s } => run!(self.print(s, false)),
                Op::PrintLn { s } => run!(self.print(s, true)),
                Op::Spawn { d, argc, f, args } => run!(self.spawn(d, argc, f, args)),
                Op::Join { d, t } => run!(self.join(d, t)),
                Op::AtomicBegin => run!(self.atomic_begin()),
                Op::AtomicEnd => run!(self.atomic_end()),
                Op::Yield => run!(self.yield_()),
                Op::Trap { msg } => run!(self.trap_op(msg)),
                Op::Assert { c, msg } => run!(self.assert(c, msg)),
                Op::LtJmp { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::LT }, false>(d, a, b, t, on)),
                Op::LeJmp { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::LE }, false>(d, a, b, t, on)),
                Op::GtJmp { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::GT }, false>(d, a, b, t, on)),
                Op::GeJmp { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::GE }, false>(d, a, b, t, on)),
                Op::EqJmp { d, a, b, t, on } => run!(self.eq_jmp::<false>(d, a, b, false, t, on)),
                Op::NeJmp { d, a, b, t, on } => run!(self.eq_jmp::<false>(d, a, b, true, t, on)),
                Op::LtJmpBack { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::LT }, true>(d, a, b, t, on)),
                Op::LeJmpBack { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::LE }, true>(d, a, b, t, on)),
                Op::GtJmpBack { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::GT }, true>(d, a, b, t, on)),
                Op::GeJmpBack { d, a, b, t, on } => run!(self.cmp_jmp::<{ arith::GE }, true>(d, a, b, t, on)),
                Op::EqJmpBack { d, a, b, t, on } => run!(self.eq_jmp::<true>(d, a, b, false, t, on)),
                Op::NeJmpBack { d, a, b, t, on } => run!(self.eq_jmp::<true>(d, a, b, true, t, on)),
                Op::LdAdd { t, d, a, k } => run!(self.ld_arith::<false>(t, d, a, k)),
                Op::LdSub { t, d, a, k } => run!(self.ld_arith::<true>(t, d, a, k)),
            }
        }
    }

    // ---- the JIT ---------------------------------------------------------------------------

    /// The running function changed, or it took a backward jump (`weight` 1 counts toward
    /// compiling it): look up (or compile) its code for this mode.
    #[inline(always)]
    fn jit_refresh(&mut self, weight: u32) {
        if JIT {
            // SAFETY: a running thread has at least one frame.
            let func = unsafe { self.th.frames.last().unwrap_unchecked() }.func;
            let flavour = Flavour { plain_memory: M::PLAIN_MEMORY, stats: STATS };
            self.jf = self.cx.jit.code(self.prog, func, flavour, weight);
        }
    }

    /// Runs the current function's compiled code from `ip` until it leaves before an op, which
    /// the loop then interprets. The code's budget of backward jumps and boundaries comes from
    /// the mode (`Mode::jit_back_jumps`, `Mode::jit_boundaries`); inside an atomic block
    /// boundaries do not count, so the budget is unlimited and the count ignored. Compiled code
    /// calls and returns (`jit::calls`), so the running function may have changed: the state is
    /// reloaded from the top frame.
    #[inline(never)]
    fn run_compiled(&mut self) -> Result<(), Exit> {
        self.cx.jit.settle();
        let atomic = self.th.atomic != 0;
        let back_jumps = self.mode.jit_back_jumps(&self.cx.heap);
        let boundaries = if atomic { u64::MAX } else { self.mode.jit_boundaries(self.left) };
        let safepoints = u64::from(self.mode.jit_safepoints(&self.cx.heap));
        let pc = self.pc();
        let flavour = Flavour { plain_memory: M::PLAIN_MEMORY, stats: STATS };
        let tables = self.cx.jit.tables(flavour);
        let regs = self.th.regs.as_mut_ptr_range();
        let frames = self.th.frames.as_mut_ptr();
        let (frames_len, frames_cap) = (self.th.frames.len() as u64, self.th.frames.capacity() as u64);
        let private_tag = self.mode.jit_private_tag();
        let tx = self.mode.jit_transaction();
        let cx = &mut *self.cx;
        // (The helpers of `jit::barriers` use the mode through this while the code runs.)
        let mode: *mut M = &mut *self.mode;
        let mut ctx = JitCtx {
            regs: self.w.base(),
            thread: &mut *self.th,
            back_jumps,
            boundaries,
            seg_start: 0,
            icount: 0,
            safepoints,
            pc: 0,
            prog: self.prog,
            jit: &mut cx.jit,
            budget: 0,
            heap: &mut cx.heap,
            frames,
            frames_len,
            frames_cap,
            regs_lo: regs.start,
            regs_end: regs.end,
            entries: tables.entries,
            resumes: tables.resumes,
            ic_sites: cx.ic.sites.as_mut_ptr(),
            funcs: tables.funcs,
            spec_miss: 0,
            private_tag,
            bodies: tables.bodies,
            wholes: tables.wholes,
            mode: mode as *mut (),
            barriers: crate::jit::barriers_of::<M>(),
            tx,
            pending_left: 0,
            boxed: 0,
        };
        // SAFETY: `jf` is the code of the running function (looked up whenever it changes) for
        // this mode's flavour; the window is that function's frame; `pc` is an op of it; the
        // context's pointers are not used otherwise until the code returns.
        let pc = unsafe { (*self.jf).run(&mut ctx, pc) };
        // SAFETY: compiled code pushes and pops frames inline within the capacity (writing every
        // frame below the length first), and its helpers left `frames` and `frames_cap` as the
        // `Vec` has them.
        unsafe { self.th.frames.set_len(ctx.frames_len as usize) };
        self.mode.jit_took_back_jumps(back_jumps - ctx.back_jumps);
        // SAFETY: a running thread has at least one frame; its function index was checked
        // [verify.func-range]; its registers lie inside the register stack, which compiled code
        // never grows.
        let top = unsafe { *self.th.frames.last().unwrap_unchecked() };
        let f = unsafe { self.prog.funcs.get_unchecked(top.func as usize) };
        // A failed guess left in the top frame's function; its code may be dropped.
        let dropped = ctx.spec_miss != 0 && self.cx.jit.missed(top.func, (ctx.spec_miss - 1) as u32);
        if f.code.as_ptr() != self.cb || dropped {
            self.cb = f.code.as_ptr();
            self.jit_refresh(0);
        }
        self.w = unsafe { Window::new(self.th.regs.as_mut_ptr().add(top.base as usize), f.regs as usize) };
        let passed = boundaries - ctx.boundaries;
        if (!atomic || mutant!(jit_boundary_in_atomic)) && passed > 0 {
            self.left -= passed;
            // SAFETY: compiled code and its helpers store only op indices of the function that
            // runs after the last boundary there: every change of function is a boundary.
            self.seg_start = unsafe { self.cb.add(ctx.seg_start as usize) };
        }
        if STATS {
            self.icount += ctx.icount;
        }
        self.cx.jit.stats.entries += 1;
        self.goto(pc);
        // A tier-2 exit found no room to box a double it wrote back (`JitCtx::boxed`): the
        // registers are written, the pc is the op's, and the run stops as the interpreter's
        // own allocation would have stopped it.
        if ctx.boxed & 2 != 0 {
            return Err(self.oom());
        }
        Ok(())
    }

    // ---- the primitives every handler uses -------------------------------------------------

    /// The index of the instruction at `ip`.
    #[inline(always)]
    fn pc(&self) -> u32 {
        pc_of(self.ip, self.cb)
    }

    /// Moves to the next instruction; only after an instruction that is not a terminator, so
    /// the next one exists [verify.fall-through].
    #[inline(always)]
    fn next(&mut self) {
        // SAFETY: see above; the result is inside the code array.
        self.ip = unsafe { self.ip.add(1) }
    }

    #[inline(always)]
    fn goto(&mut self, t: u32) {
        // SAFETY: jump targets are instruction indices of the function [verify.label-range].
        self.ip = unsafe { self.cb.add(t as usize) }
    }

    /// Stores the pc in the top frame: before leaving, collecting or trapping.
    #[inline(always)]
    fn save_pc(&mut self) {
        let pc = self.pc();
        if let Some(f) = self.th.frames.last_mut() {
            f.pc = pc;
        }
    }

    /// Leaves with `stop`, counting the segment a thread's end completes.
    #[inline(always)]
    fn done(&self, stop: Stop) -> Exit {
        Exit::Stop(stop, (self.limit - self.left) + u64::from(stop == Stop::Ended))
    }

    /// A rollback: the driver restores the thread as it was when the transaction began.
    #[inline(always)]
    fn stm<T>(&mut self, r: Result<T, Abort>) -> Result<T, Exit> {
        match r {
            Ok(v) => Ok(v),
            Err(a) => {
                self.save_pc();
                Err(Exit::Stop(Stop::Aborted(a), 0))
            }
        }
    }

    /// A mutable heap word, through the mode (the STM's barriers in a parallel run).
    ///
    /// # Safety
    /// As for [`Mode::load`]: `obj` is a live cell (a register's value, or a word read in this
    /// transaction) whose kind the caller checked, and `i` lies inside it.
    #[inline(always)]
    unsafe fn load(&mut self, obj: Value, i: usize) -> Result<u64, Exit> {
        // SAFETY: the caller's contract.
        let r = unsafe { self.mode.load(obj, i, loc(self.th, self.ip, self.cb)) };
        self.stm(r)
    }

    /// [stm.validate] before an effect: a doomed transaction must not act on what it read.
    #[inline(always)]
    fn validate(&mut self) -> Flow {
        let r = self.mode.validate(loc(self.th, self.ip, self.cb));
        self.stm(r)
    }

    /// Ends the thread with a trap located at `ip` (after validating: a doomed transaction's
    /// trap is not real).
    #[inline(always)]
    fn trap(&mut self, kind: TrapKind, message: Option<String>, detail: String) -> Exit {
        if let Err(e) = self.validate() {
            return e;
        }
        self.save_pc();
        let (func, pc) = loc(self.th, self.ip, self.cb)();
        trapped(self.th, TrapRecord { kind, func, pc, message, detail, callers: Vec::new(), joined: None });
        self.done(Stop::Ended)
    }

    /// Leaves for an exhausted heap (after validating, as for a trap).
    #[inline(always)]
    fn oom(&mut self) -> Exit {
        match self.validate() {
            Err(e) => e,
            Ok(()) => Exit::Oom,
        }
    }

    /// The result of a slow path.
    #[inline(always)]
    fn check<T>(&mut self, r: Result<T, Fault>) -> Result<T, Exit> {
        match r {
            Ok(v) => Ok(v),
            Err(Fault::Trap(kind, detail)) => Err(self.trap(kind, None, detail)),
            Err(Fault::Oom) => Err(self.oom()),
        }
    }

    /// The result of an allocation.
    #[inline(always)]
    fn alloc<T>(&mut self, r: Result<T, OutOfMemory>) -> Result<T, Exit> {
        match r {
            Ok(v) => Ok(v),
            Err(OutOfMemory) => Err(self.oom()),
        }
    }
}

#[inline(always)]
fn pc_of(ip: *const Op, cb: *const Op) -> u32 {
    // SAFETY: `ip` and `cb` point into the same code array (see `Exec::ip`).
    (unsafe { ip.offset_from(cb) }) as u32
}

/// The location of the instruction at `ip` of `th`'s running function, computed only if asked
/// (for conflict reports and traps). Not kept in a field: one more value live across the loop
/// cost a register that `ip` needs.
#[inline(always)]
fn loc(th: &Thread, ip: *const Op, cb: *const Op) -> impl FnOnce() -> Loc + '_ {
    move || (th.frames.last().map_or(0, |f| f.func), pc_of(ip, cb))
}

/// Ends `th` with `record`, completed with the call stack ([exec.trap-report]): taken here, on
/// the cold path, so that a run pays for it only when a thread traps.
#[cold]
#[inline(never)]
fn trapped(th: &mut Thread, mut record: TrapRecord) {
    // A caller's saved pc is its return address, one past the call it is running.
    let below = th.frames.len().saturating_sub(1);
    record.callers = th.frames[..below].iter().rev().map(|f| (f.func, f.pc.saturating_sub(1))).collect();
    th.state = ThreadState::Trapped(record);
}

/// A segment boundary after instruction `$op` (a row of `spec/src/isa.rs`) when the instruction
/// table gives it `BOUNDARY_AFTER`: decided at compile time, so the table, not this crate, says
/// where segments end.
macro_rules! boundary_after {
    ($self:ident, $op:ident) => {
        if const { lockstep_spec::Opcode::$op.flags().contains(lockstep_spec::Flags::BOUNDARY_AFTER) } {
            $self.boundary()
        } else {
            Ok(())
        }
    };
}
pub(crate) use boundary_after;
