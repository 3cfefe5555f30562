//! Calls and returns that the templates do not do inline (`callv`, calls of functions with large
//! frames, returns to a caller without compiled code) and `new`: a helper they call (System V)
//! does the interpreter's work on the thread's own frame stack and returns where the compiled
//! code continues (the callee's or the caller's code), so that guest calls never leave compiled
//! code and never recurse on the host stack: compiled code *jumps* to the returned address.
//!
//! The helper does an op only when the interpreter's fast path would do it, and otherwise
//! refuses: it changes nothing, and the compiled code leaves before the op (the exactness rule).
//! It refuses a trap (depth, fuel, a callee that is no function, an arity mismatch, the last
//! frame's return, an exhausted heap), a register stack that would have to grow, a requested
//! collection at a function entry (a safepoint), and the end of the allowed boundaries (calls
//! and returns end a segment).
//!
//! It returns the address to continue at, or null to leave compiled code with the pc in
//! `JitCtx::pc` of the top frame's function: the op itself when it refused, else the first op of
//! the callee or the caller's return address when that function has no compiled code (yet), or
//! the op after a `new` that asked for a collection (the mode must see the request).

use super::{Flavour, JitCtx};
use crate::code::{Op, Program};
use crate::interp::FILL_SLACK;
use crate::thread::Frame;
use crate::value::{as_func, NIL};
use lockstep_spec::limits::MAX_CALL_DEPTH;

/// The helper for compiled code of flavour (`PLAIN`, `STATS`): performs the call, send or
/// return at op `pc` of the running function.
///
/// # Safety
/// Called only by compiled code of that flavour, for a call, callv, send or ret op at `pc` of
/// the running function, with `ctx` the context it runs with (every pointer in it valid and not
/// otherwise accessed while the compiled code runs) and `ctx.regs` the running frame's window.
pub(super) unsafe extern "sysv64" fn op<const PLAIN: bool, const STATS: bool>(ctx: *mut JitCtx, pc: u32) -> *const u8 {
    // SAFETY: the caller's contract: the context and everything it points to are ours while
    // compiled code runs.
    let ctx = unsafe { &mut *ctx };
    let flavour = Flavour { plain_memory: PLAIN, stats: STATS };
    // The frame stack as compiled code left it (`JitCtx::frames`), and afterwards as this left
    // it: a push may have moved it.
    // SAFETY: as above; compiled code keeps `frames_len` within the capacity, and every frame
    // below it written.
    let th = unsafe { &mut *ctx.thread };
    unsafe { th.frames.set_len(ctx.frames_len as usize) };
    let next = unsafe { step(ctx, pc) };
    let th = unsafe { &mut *ctx.thread };
    ctx.frames = th.frames.as_mut_ptr();
    ctx.frames_len = th.frames.len() as u64;
    ctx.frames_cap = th.frames.capacity() as u64;
    match next {
        Next::Refuse => {
            ctx.pc = u64::from(pc);
            std::ptr::null()
        }
        Next::Leave(to) => {
            if STATS {
                ctx.icount += 1;
            }
            ctx.pc = u64::from(to);
            std::ptr::null()
        }
        Next::Continue(func, to) => {
            if STATS {
                ctx.icount += 1;
            }
            // SAFETY: as above (`ctx.jit` and `ctx.prog`).
            let code = unsafe { (*ctx.jit).code(&*ctx.prog, func, flavour, u32::from(to == 0)) };
            if code.is_null() {
                ctx.pc = u64::from(to);
                std::ptr::null()
            } else {
                // SAFETY: `code` is `func`'s compiled code (owned by the jit, not freed during the
                // run) and `to` an op index of `func`.
                // A call (op 0) goes in where tier 1's own calls do: through the function's
                // tier-2 region, if it has one.
                unsafe {
                    if to == 0 {
                        (*code).entry()
                    } else {
                        (*code).address(to)
                    }
                }
            }
        }
    }
}

/// What became of the op.
enum Next {
    /// Not done, nothing changed: leave before it.
    Refuse,
    /// Done: continue at op `.1` of function `.0`.
    Continue(u32, u32),
    /// Done: leave before op `.0` of the same function (the mode must look again: `new` asked
    /// for a collection).
    Leave(u32),
}

/// Does or refuses the op at `pc`.
///
/// # Safety
/// As for [`op`].
unsafe fn step(ctx: &mut JitCtx, pc: u32) -> Next {
    unsafe { call(ctx, pc) }.unwrap_or(Next::Refuse)
}

/// The op at `pc`, done (where to go on) or refused (`None`, nothing changed).
///
/// # Safety
/// As for [`op`].
unsafe fn call(ctx: &mut JitCtx, pc: u32) -> Option<Next> {
    // SAFETY (every dereference of a context pointer): the caller's contract.
    let th = unsafe { &mut *ctx.thread };
    let prog: &Program = unsafe { &*ctx.prog };
    // SAFETY (the unchecked accesses below): a running thread has at least one frame; frames
    // hold verified function indices [verify.func-range]; `pc` is an op of the running function
    // (the caller's contract); register operands are below the frame's register count
    // [verify.reg-range] and the frame lies inside the register stack, as does the callee's
    // (checked below before it is written); the argument pool slice is the op's own.
    let top = unsafe { *th.frames.last().unwrap_unchecked() };
    let func = unsafe { prog.funcs.get_unchecked(top.func as usize) };
    let regs = th.regs.as_mut_ptr();
    let frame = unsafe { regs.add(top.base as usize) };
    let reg = |r: u16| unsafe { *frame.add(r as usize) };
    let op = unsafe { *func.code.get_unchecked(pc as usize) };
    if let Op::New { d, class } = op {
        // SAFETY: the context's heap is this OS thread's, not otherwise used meanwhile; the
        // class operand was verified [verify.class-range].
        let heap = unsafe { &mut *ctx.heap };
        let v = heap.new_object(class, unsafe { *prog.nfields.get_unchecked(class as usize) } as usize).ok()?;
        unsafe { *frame.add(d as usize) = v };
        // A requested collection changes what the next safepoint does: let the mode see it.
        return Some(if heap.gc_requested { Next::Leave(pc + 1) } else { Next::Continue(top.func, pc + 1) });
    }
    // Every other op here ends a segment outside atomic blocks (the counter is unlimited inside
    // them).
    if ctx.boundaries == 0 {
        return None;
    }
    let (callee, d, argc, args, recv) = match op {
        Op::Ret { s } => {
            if th.frames.len() < 2 {
                return None; // the thread's end: the interpreter's
            }
            let v = reg(s);
            let done = unsafe { th.frames.pop().unwrap_unchecked() };
            let caller = unsafe { *th.frames.last().unwrap_unchecked() };
            let window = unsafe { regs.add(caller.base as usize) };
            unsafe { *window.add(done.dst as usize) = v };
            ctx.boundaries -= 1;
            ctx.seg_start = u64::from(caller.pc);
            ctx.regs = window;
            return Some(Next::Continue(caller.func, caller.pc));
        }
        _ if th.frames.len() >= MAX_CALL_DEPTH as usize || th.fuel == 0 || ctx.safepoints == 0 => return None,
        Op::Call { d, argc, f, args } => (f, d, argc, args, None),
        Op::CallV { d, callee, argc, args } => {
            let f = as_func(reg(callee))?;
            if prog.funcs.get(f as usize)?.arity != u32::from(argc) {
                return None;
            }
            (f, d, argc, args, None)
        }
        _ => return None,
    };
    let callee_func = unsafe { prog.funcs.get_unchecked(callee as usize) };
    let base = top.base as usize + func.regs as usize;
    let nregs = callee_func.regs as usize;
    if th.regs.len() < base + nregs + FILL_SLACK {
        return None; // growing the register stack (and counting it against the heap limit)
    }
    // [exec.call]: the receiver, the arguments, then nil. `first + argc <= nregs`: the callee's
    // arity, checked above or by the verifier [verify.call-arity], is at most its register
    // count [verify.arity-regs].
    let first = usize::from(recv.is_some());
    let window = unsafe { regs.add(base) };
    unsafe {
        if let Some(r) = recv {
            *window = r;
        }
        let pool = prog.arg_pool.as_ptr().add(args as usize);
        for i in 0..argc as usize {
            *window.add(first + i) = *frame.add(*pool.add(i) as usize);
        }
        for j in first + argc as usize..nregs {
            *window.add(j) = NIL;
        }
        th.frames.last_mut().unwrap_unchecked().pc = pc + 1;
    }
    th.frames.push(Frame { func: callee, base: base as u32, pc: 0, dst: d });
    // [exec.fuel] on entry, then the call's segment boundary.
    th.fuel -= 1;
    ctx.boundaries -= 1;
    ctx.seg_start = 0;
    ctx.regs = window;
    Some(Next::Continue(callee, 0))
}

/// The helper's address for a flavour (embedded in that flavour's code).
pub(super) fn helper(flavour: Flavour) -> usize {
    type Helper = unsafe extern "sysv64" fn(*mut JitCtx, u32) -> *const u8;
    let f: Helper = match (flavour.plain_memory, flavour.stats) {
        (false, false) => op::<false, false>,
        (false, true) => op::<false, true>,
        (true, false) => op::<true, false>,
        (true, true) => op::<true, true>,
    };
    f as usize
}
