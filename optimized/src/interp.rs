//! The dispatch loop: runs one guest thread until a segment ends (or for many segments when no
//! other thread could run in between), with inline fast paths for SmallInts, SmallFloats,
//! exact-class field access and cached sends, and the rest in [`crate::ops`].
//!
//! Accounting follows `spec/semantics.md` and `spec/concurrency.md`: one unit of fuel per
//! function entry (including a thread's root, charged at its pc 0) and per taken backward
//! jump, the call depth limit on entry, and segment boundaries after calls, sends, returns,
//! spawns, prints, `atomic_end`, `yield` and taken backward jumps, and before `join`, none of
//! them inside an atomic block. Safepoints (where the collector may run) are function entries
//! and taken backward jumps: there every live value is in a register, never in a Rust local.

use crate::code::Op;
use crate::heap::{OutOfMemory, ARRAY_CAP, ARRAY_LEN, ARRAY_STORAGE, HEADER_WORDS};
use crate::mode::{Mode, Spawned};
use crate::ops::{self, Arith, Bits, Cmp, Fault};
use crate::regs::Window;
use crate::stm::Abort;
use crate::thread::{Frame, Thread, ThreadState, TrapRecord};
use crate::value::*;
use crate::vm::Vm;
use lockstep_spec::limits::{MAX_ARRAY_LEN, MAX_CALL_DEPTH, MAX_STRING_LEN, MAX_THREADS};
use lockstep_spec::{num, TrapKind};

/// When guest output streams to stdout, it is written in chunks of about this many bytes.
const STREAM_CHUNK: usize = 1 << 16;

/// How many registers a call clears at once (see `enter!`); the register stack keeps this
/// much room above the top frame.
const FILL_SLACK: usize = 8;

/// Why [`Vm::run_thread`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The budget of segments is used up; the thread can continue (its next instruction is
    /// not a `join`).
    Boundary,
    /// As `Boundary`, with a `join` next: whether the thread can continue depends on the
    /// joined thread (the scheduler looks).
    BeforeJoin,
    /// The thread finished or trapped.
    Ended,
    /// The thread's next instruction is a `join` on a thread that has not ended.
    Blocked,
    /// (Parallel runs) The transaction must roll back: a read no longer holds.
    Aborted(Abort),
    /// (Parallel runs) The run is over; the thread is abandoned where it is.
    Abandoned,
}

impl Vm {
    /// Runs thread `ti` (moved out of the thread table into `th`) for at most `budget`
    /// segments. Returns why it stopped and how many segments it completed.
    pub(crate) fn run_thread<const STATS: bool, M: Mode>(
        &mut self,
        ti: usize,
        th: &mut Thread,
        budget: u64,
        mode: &mut M,
    ) -> Result<(Stop, u64), OutOfMemory> {
        let mut icount: u64 = 0;
        let r = self.run_inner::<STATS, M>(ti, th, budget, &mut icount, mode);
        self.instructions += icount;
        r
    }

    #[allow(clippy::too_many_lines)]
    fn run_inner<const STATS: bool, M: Mode>(
        &mut self,
        ti: usize,
        th: &mut Thread,
        budget: u64,
        icount: &mut u64,
        mode: &mut M,
    ) -> Result<(Stop, u64), OutOfMemory> {
        let prog = &self.prog;
        let heap = &mut self.heap;
        // How many segments may complete before returning (`limit`), and how many of them are
        // left: `limit - left` have completed. Counting down keeps the hot boundary check to a
        // decrement and a test of one register.
        let mut limit = budget;
        let mut left = budget;

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
                });
                return Ok((Stop::Ended, 1));
            }
            th.fuel -= 1;
        }

        let top = *th.frames.last().unwrap_or(&Frame { func: prog.entry, base: 0, pc: 0, dst: 0 });
        let fi = top.func as usize;
        // The code of the running function, and the instruction pointer into it. `ip` always
        // points at an instruction of `cb`'s function (see the fetch below for why).
        let mut cb: *const Op = prog.funcs[fi].code.as_ptr();
        let base = top.base as usize;
        let nregs = prog.funcs[fi].regs as usize;
        // SAFETY: a saved pc is an instruction index of its function (it is only ever set to 0,
        // to a jump target, or to the instruction after a call), so it lies inside the code.
        let mut ip: *const Op = unsafe { cb.add(top.pc as usize) };
        macro_rules! pc {
            () => {
                // SAFETY: `ip` and `cb` point into the same code array (see above).
                (unsafe { ip.offset_from(cb) }) as usize
            };
        }
        // Moves to the next instruction; only after an instruction that is not a terminator, so
        // the next one exists [verify.fall-through].
        macro_rules! next {
            () => {
                // SAFETY: see above; the result is inside the code array.
                ip = unsafe { ip.add(1) }
            };
        }
        macro_rules! goto {
            ($t:expr) => {
                // SAFETY: jump targets are instruction indices of the function [verify.label-range].
                ip = unsafe { cb.add($t as usize) }
            };
        }
        // SAFETY: the top frame's registers base..base+nregs lie inside `th.regs` (every frame
        // entry grows the stack to cover them) and only this window accesses them meanwhile.
        let mut w = unsafe { Window::new(th.regs.as_mut_ptr().add(base), nregs) };
        // Where the current segment began: a `join` there is the segment's first instruction.
        // Where the current segment began: a `join` there is the segment's first instruction.
        // The instruction pointer alone identifies it: returning to the same instruction needs
        // a backward jump, a call or a return, each a boundary, except inside an atomic block,
        // whose end is a boundary too (and a `join` inside one traps before this matters).
        let mut seg_start: *const Op = ip;
        // Backward jumps taken in this call, for [stm.validate] (see `back_jump!`).
        let mut back_jumps: u32 = 0;

        macro_rules! save_pc {
            () => {
                if let Some(f) = th.frames.last_mut() {
                    f.pc = pc!() as u32;
                }
            };
        }
        macro_rules! done {
            ($stop:expr) => {{
                let n = (limit - left) + if $stop == Stop::Ended { 1 } else { 0 };
                return Ok(($stop, n));
            }};
        }
        // The location of the instruction executing, for conflict reports.
        macro_rules! loc {
            () => {
                || (th.frames.last().map_or(0, |f| f.func), pc!() as u32)
            };
        }
        // A rollback: the driver restores the thread as it was when the transaction began.
        macro_rules! stm {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(a) => {
                        save_pc!();
                        return Ok((Stop::Aborted(a), 0));
                    }
                }
            };
        }
        // [stm.validate] before an effect: a doomed transaction must not act on what it read.
        macro_rules! validate {
            () => {
                if M::PARALLEL {
                    stm!(mode.validate(loc!()));
                }
            };
        }
        macro_rules! trap {
            ($kind:expr, $msg:expr, $detail:expr) => {{
                validate!();
                save_pc!();
                th.state = ThreadState::Trapped(TrapRecord {
                    kind: $kind,
                    func: th.frames.last().map_or(0, |f| f.func),
                    pc: pc!() as u32,
                    message: $msg,
                    detail: $detail,
                });
                done!(Stop::Ended)
            }};
            ($kind:expr, $detail:expr) => {
                trap!($kind, None, $detail)
            };
        }
        macro_rules! check {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(Fault::Trap(kind, detail)) => trap!(kind, detail),
                    Err(Fault::Oom) => {
                        validate!();
                        return Err(OutOfMemory);
                    }
                }
            };
        }
        macro_rules! oom {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(OutOfMemory) => {
                        validate!();
                        return Err(OutOfMemory);
                    }
                }
            };
        }
        // A mutable heap word, through the mode (the STM's barriers in a parallel run).
        macro_rules! load {
            ($obj:expr, $i:expr) => {
                stm!(mode.load($obj, $i, loc!()))
            };
        }
        // Re-derives the frame registers and code after a call or return.
        macro_rules! reload {
            () => {{
                // SAFETY: a running thread has at least one frame (the last `ret` ends the thread
                // instead of popping it).
                let f = unsafe { *th.frames.last().unwrap_unchecked() };
                // SAFETY: frames hold function indices the verifier checked [verify.func-range].
                let func = unsafe { prog.funcs.get_unchecked(f.func as usize) };
                cb = func.code.as_ptr();
                // SAFETY: as for the first window: the frame lies inside the register stack.
                w = unsafe { Window::new(th.regs.as_mut_ptr().add(f.base as usize), func.regs as usize) };
            }};
        }
        // `pc` must already be the next instruction.
        macro_rules! boundary {
            () => {
                if th.atomic == 0 {
                    left -= 1;
                    seg_start = ip;
                    // A waiting collection or the run's end is noticed within 64 boundaries:
                    // soon enough, and the flags stay off the path of most boundaries.
                    if left == 0 || (M::PARALLEL && (mode.wants_end() || (left % 64 == 0 && mode.should_end()))) {
                        save_pc!();
                        // SAFETY: `ip` points at the next instruction (see `next!`).
                        if matches!(unsafe { &*ip }, Op::Join { .. }) {
                            done!(Stop::BeforeJoin)
                        }
                        done!(Stop::Boundary)
                    }
                }
            };
        }
        // (Parallel runs collect between transactions; `should_end` ends them for it.)
        macro_rules! safepoint {
            () => {
                if !M::PARALLEL && heap.gc_requested {
                    save_pc!();
                    crate::vm::collect(heap, prog, &self.threads, th, &self.type_names);
                }
            };
        }
        macro_rules! charge_fuel {
            ($what:expr) => {
                if th.fuel == 0 {
                    trap!(TrapKind::OutOfFuel, format!("no fuel left for {}", $what))
                }
                th.fuel -= 1;
            };
        }
        // Enters function `$cf` with `$argc` arguments from the pool at `$args` (after `$recv`
        // if given); the result goes to register `$d`.
        macro_rules! enter {
            ($cf:expr, $d:expr, $argc:expr, $args:expr, $recv:expr) => {{
                let cf = $cf as usize;
                // SAFETY: `call` and `spawn` name functions the verifier checked
                // [verify.func-range]; `callv` and `send` take indices from function values and
                // method tables, which only hold checked indices.
                let callee = unsafe { prog.funcs.get_unchecked(cf) };
                // [exec.call-depth], then [exec.fuel]
                if th.frames.len() >= MAX_CALL_DEPTH as usize {
                    trap!(
                        TrapKind::StackOverflow,
                        format!("calling {} would exceed {} frames", callee.name, MAX_CALL_DEPTH)
                    )
                }
                charge_fuel!(format!("entering {}", callee.name));
                // SAFETY: as in `reload!`.
                let caller = unsafe { *th.frames.last().unwrap_unchecked() };
                // SAFETY: as in `reload!`.
                let base = caller.base as usize;
                let new_base = base + unsafe { prog.funcs.get_unchecked(caller.func as usize) }.regs as usize;
                let nregs = callee.regs as usize;
                let need = new_base + nregs;
                // FILL_SLACK words of room above the frame: the nil fill below writes a whole
                // block, past the frame when it is small (those words belong to no frame).
                if th.regs.len() < need + FILL_SLACK {
                    let grown = (need + FILL_SLACK).max(th.regs.len() * 2);
                    th.regs.resize(grown, NIL);
                }
                let p = th.regs.as_mut_ptr();
                let recv: Option<Value> = $recv;
                let argc = $argc as usize;
                let first = recv.is_some() as usize;
                // SAFETY: the callee's frame new_base..need lies inside the register stack (grown
                // just above) and after the caller's frame base..new_base, so the argument
                // registers (caller registers below its count [verify.reg-range]) do not overlap
                // it; `args..args + argc` is the call's own slice of the argument pool (built at
                // pre-decoding), and first + argc <= the callee's arity <= its register count
                // ([verify.call-arity], [verify.arity-regs] for `call`, checked above for `callv` and
                // `send`); the block fill ends at most at need + FILL_SLACK, inside the stack too.
                unsafe {
                    let dst = p.add(new_base);
                    let src = p.add(base);
                    if let Some(r) = recv {
                        *dst = r;
                    }
                    let pool = prog.arg_pool.as_ptr().add($args as usize);
                    let to = dst.add(first);
                    // One or two arguments are the common case: straight-line copies.
                    match argc {
                        0 => {}
                        1 => *to = *src.add(*pool as usize),
                        2 => {
                            *to = *src.add(*pool as usize);
                            *to.add(1) = *src.add(*pool.add(1) as usize);
                        }
                        _ => {
                            for i in 0..argc {
                                *to.add(i) = *src.add(*pool.add(i) as usize);
                            }
                        }
                    }
                    // [exec.call]: the other registers start as nil (the zero word). Frames
                    // are small: one fixed-size block of stores covers most, a loop the rest.
                    std::ptr::write_bytes(dst.add(first + argc), 0, FILL_SLACK);
                    let mut j = first + argc + FILL_SLACK;
                    while j < nregs {
                        *dst.add(j) = NIL;
                        j += 1;
                    }
                }
                next!();
                // The return address, in the caller's frame (the last one, as above).
                // SAFETY: as in `reload!`.
                unsafe { th.frames.last_mut().unwrap_unchecked() }.pc = pc!() as u32;
                th.frames.push(Frame { func: cf as u32, base: new_base as u32, pc: 0, dst: $d });
                cb = callee.code.as_ptr();
                ip = cb;
                // SAFETY: the callee's frame lies inside the register stack (grown above).
                w = unsafe { Window::new(p.add(new_base), nregs) };
                safepoint!();
                boundary!();
            }};
        }
        macro_rules! binop {
            ($d:expr, $a:expr, $b:expr, $fast:expr, $slow:expr) => {{
                let (x, y) = (w.get($a), w.get($b));
                let fast: Option<Value> = $fast(x, y);
                let r = match fast {
                    Some(r) => r,
                    None => check!($slow(&mut *heap, x, y)),
                };
                w.set($d, r);
                next!();
            }};
        }
        macro_rules! cmpop {
            ($d:expr, $a:expr, $b:expr, $op:expr, $int:expr) => {{
                let (x, y) = (w.get($a), w.get($b));
                let r = if both_small_int(x, y) {
                    bool_value($int(x as i64, y as i64))
                } else if both_small_float(x, y) {
                    bool_value($op.holds(decode_float(x).partial_cmp(&decode_float(y))))
                } else {
                    check!(ops::compare(heap, $op, x, y))
                };
                w.set($d, r);
                next!();
            }};
        }
        // The second half of a fused comparison and jump: `$r` is the comparison's result, `ip`
        // still at the comparison. The jump's own accounting and trap location (its index) are
        // kept: `ip` moves to the jump before anything the jump does.
        macro_rules! fused_jump {
            ($r:expr, $d:expr, $t:expr, $on:expr, $back:expr) => {{
                let r: bool = $r;
                w.set($d, bool_value(r));
                if STATS {
                    *icount += 1;
                }
                next!();
                if r == $on {
                    if $back {
                        back_jump!($t)
                    } else {
                        goto!($t)
                    }
                } else {
                    next!();
                    if $back {
                        // [thread.boundary-after]: also when not taken.
                        boundary!();
                    }
                }
            }};
        }
        macro_rules! cmpjmp {
            ($d:expr, $a:expr, $b:expr, $op:expr, $int:expr, $t:expr, $on:expr, $back:expr) => {{
                let (x, y) = (w.get($a), w.get($b));
                let r = if both_small_int(x, y) {
                    $int(x as i64, y as i64)
                } else if both_small_float(x, y) {
                    $op.holds(decode_float(x).partial_cmp(&decode_float(y)))
                } else {
                    check!(ops::compare(heap, $op, x, y)) == TRUE
                };
                fused_jump!(r, $d, $t, $on, $back)
            }};
        }
        macro_rules! eqjmp {
            ($d:expr, $a:expr, $b:expr, $ne:expr, $t:expr, $on:expr, $back:expr) => {{
                let (x, y) = (w.get($a), w.get($b));
                let r = equal(heap, x, y);
                fused_jump!(r != $ne, $d, $t, $on, $back)
            }};
        }
        macro_rules! cond {
            ($c:expr) => {{
                let v = w.get($c);
                if v == TRUE {
                    true
                } else if v == FALSE {
                    false
                } else {
                    trap!(TrapKind::TypeError, format!("a condition must be a bool, got {}", ops::type_name(heap, v)))
                }
            }};
        }
        macro_rules! back_jump {
            ($t:expr) => {{
                // A loop inside an atomic block has no boundary: this is where a doomed
                // transaction notices, and an abandoned thread stops. Every 64th backward jump
                // is as good a bound on a doomed loop as every one, and keeps the clock and the
                // end flag out of tight loops (mandelbrot's inner loop is 17 instructions).
                if M::PARALLEL {
                    back_jumps = back_jumps.wrapping_add(1);
                    if back_jumps % 64 == 0 {
                        validate!();
                        if mode.over() {
                            save_pc!();
                            return Ok((Stop::Abandoned, 0));
                        }
                    }
                }
                charge_fuel!("a backward jump");
                goto!($t);
                safepoint!();
                boundary!();
            }};
        }

        loop {
            // SAFETY: pc < code.len(): jump targets are in range [verify.label-range], the code
            // never runs off its end [verify.fall-through], and calls and returns set pc to 0 or
            // to the instruction after a call (which a call cannot be the last of, as a call is
            // no terminator).
            // (A reference, not a copy: each arm then loads only the operands it uses.)
            let op: &Op = unsafe { &*ip };
            if STATS {
                *icount += 1;
            }
            match *op {
                Op::Nop => next!(),
                Op::Mov { d, s } => {
                    w.set(d, w.get(s));
                    next!();
                }
                Op::Ld { d, v } => {
                    w.set(d, v);
                    next!();
                }
                Op::Add { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) {
                        small_add(x, y)
                    } else if both_small_float(x, y) {
                        encode_float(decode_float(x) + decode_float(y))
                    } else {
                        None
                    },
                    |h, x, y| ops::arith(h, Arith::Add, x, y)
                ),
                Op::Sub { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) {
                        small_sub(x, y)
                    } else if both_small_float(x, y) {
                        encode_float(decode_float(x) - decode_float(y))
                    } else {
                        None
                    },
                    |h, x, y| ops::arith(h, Arith::Sub, x, y)
                ),
                Op::Mul { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    // Floats first: multiplication is mostly a float operation in hot loops.
                    |x, y| if both_small_float(x, y) {
                        encode_float(decode_float(x) * decode_float(y))
                    } else if both_small_int(x, y) {
                        small_int_value(x).checked_mul(small_int_value(y)).and_then(small_int)
                    } else {
                        None
                    },
                    |h, x, y| ops::arith(h, Arith::Mul, x, y)
                ),
                Op::Div { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) && y != TAG_INT {
                        small_int(small_int_value(x).wrapping_div(small_int_value(y)))
                    } else if both_small_float(x, y) {
                        encode_float(decode_float(x) / decode_float(y))
                    } else {
                        None
                    },
                    |h, x, y| ops::arith(h, Arith::Div, x, y)
                ),
                Op::Rem { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) && y != TAG_INT {
                        small_int(small_int_value(x).wrapping_rem(small_int_value(y)))
                    } else {
                        None
                    },
                    |h, x, y| ops::arith(h, Arith::Rem, x, y)
                ),
                Op::Neg { d, a } => {
                    let x = w.get(a);
                    let r = if is_small_float(x) {
                        encode_float(-decode_float(x))
                    } else if is_small_int(x) {
                        small_int(small_int_value(x).wrapping_neg())
                    } else {
                        None
                    };
                    let r = match r {
                        Some(r) => r,
                        None => check!(ops::neg(heap, x)),
                    };
                    w.set(d, r);
                    next!();
                }
                Op::Sqrt { d, a } => {
                    let x = w.get(a);
                    let r = if is_small_float(x) { encode_float(decode_float(x).sqrt()) } else { None };
                    let r = match r {
                        Some(r) => r,
                        None => check!(ops::sqrt(heap, x)),
                    };
                    w.set(d, r);
                    next!();
                }
                Op::And { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) {
                        Some(x & y)
                    } else if is_bool(x) && is_bool(y) {
                        Some(bool_value(x == TRUE && y == TRUE))
                    } else {
                        None
                    },
                    |h, x, y| ops::bits(h, Bits::And, x, y)
                ),
                Op::Or { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) {
                        Some(x | y)
                    } else if is_bool(x) && is_bool(y) {
                        Some(bool_value(x == TRUE || y == TRUE))
                    } else {
                        None
                    },
                    |h, x, y| ops::bits(h, Bits::Or, x, y)
                ),
                Op::Xor { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| both_small_int(x, y).then_some((x ^ y) | TAG_INT),
                    |h, x, y| ops::bits(h, Bits::Xor, x, y)
                ),
                Op::Not { d, a } => {
                    let x = w.get(a);
                    // The complement of SmallInt i is the SmallInt !i, whose word is (!x & !7) | 1.
                    let r = if is_small_int(x) {
                        (!x & !TAG_MASK) | TAG_INT
                    } else if is_bool(x) {
                        x ^ (TRUE ^ FALSE)
                    } else {
                        check!(ops::not(heap, x))
                    };
                    w.set(d, r);
                    next!();
                }
                Op::Shl { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) {
                        small_int(small_int_value(x).wrapping_shl(num::shift_amount(small_int_value(y))))
                    } else {
                        None
                    },
                    |h, x, y| ops::bits(h, Bits::Shl, x, y)
                ),
                Op::Shr { d, a, b } => binop!(
                    d,
                    a,
                    b,
                    |x, y| if both_small_int(x, y) {
                        small_int(small_int_value(x).wrapping_shr(num::shift_amount(small_int_value(y))))
                    } else {
                        None
                    },
                    |h, x, y| ops::bits(h, Bits::Shr, x, y)
                ),
                Op::UShr { d, a, b } => binop!(d, a, b, |_, _| None, |h, x, y| ops::bits(h, Bits::UShr, x, y)),
                Op::Eq { d, a, b } => {
                    let (x, y) = (w.get(a), w.get(b));
                    let r = equal(heap, x, y);
                    w.set(d, bool_value(r));
                    next!();
                }
                Op::Ne { d, a, b } => {
                    let (x, y) = (w.get(a), w.get(b));
                    let r = equal(heap, x, y);
                    w.set(d, bool_value(!r));
                    next!();
                }
                // Tagged SmallInt words order like their values: compare the words directly.
                Op::Lt { d, a, b } => cmpop!(d, a, b, Cmp::Lt, ops::small_int_lt),
                Op::Le { d, a, b } => cmpop!(d, a, b, Cmp::Le, |x: i64, y: i64| x <= y),
                Op::Gt { d, a, b } => cmpop!(d, a, b, Cmp::Gt, |x: i64, y: i64| x > y),
                Op::Ge { d, a, b } => cmpop!(d, a, b, Cmp::Ge, |x: i64, y: i64| x >= y),
                Op::IToF { d, a } => {
                    let x = w.get(a);
                    let r = match is_small_int(x).then(|| encode_float(small_int_value(x) as f64)).flatten() {
                        Some(r) => r,
                        None => check!(ops::itof(heap, x)),
                    };
                    w.set(d, r);
                    next!();
                }
                Op::FToI { d, a } => {
                    let r = check!(ops::ftoi(heap, w.get(a)));
                    w.set(d, r);
                    next!();
                }
                Op::TypeOf { d, a } => {
                    w.set(d, self.type_names[ops::type_index(heap, w.get(a))]);
                    next!();
                }
                Op::Jmp { t } => goto!(t),
                Op::JmpBack { t } => back_jump!(t),
                Op::JmpIf { c, t } => {
                    if cond!(c) {
                        goto!(t)
                    } else {
                        next!()
                    }
                }
                Op::JmpIfNot { c, t } => {
                    if cond!(c) {
                        next!()
                    } else {
                        goto!(t)
                    }
                }
                // [thread.boundary-after]: a backward jump ends its segment even when not taken.
                Op::JmpIfBack { c, t } => {
                    if cond!(c) {
                        back_jump!(t)
                    } else {
                        next!();
                        boundary!();
                    }
                }
                Op::JmpIfNotBack { c, t } => {
                    if cond!(c) {
                        next!();
                        boundary!();
                    } else {
                        back_jump!(t)
                    }
                }
                Op::Call { d, argc, f, args } => enter!(f, d, argc, args, None),
                Op::CallV { d, callee, argc, args } => {
                    let v = w.get(callee);
                    let Some(f) = as_func(v) else {
                        trap!(TrapKind::TypeError, format!("callv expects a function, got {}", ops::type_name(heap, v)))
                    };
                    let arity = prog.funcs[f as usize].arity;
                    if arity != argc as u32 {
                        trap!(
                            TrapKind::ArityMismatch,
                            format!("{} takes {} arguments, callv passed {}", prog.funcs[f as usize].name, arity, argc)
                        )
                    }
                    enter!(f, d, argc, args, None)
                }
                Op::Send { d, recv, argc, site, args } => {
                    let r = w.get(recv);
                    let Some(class) = heap.object_class(r) else {
                        trap!(TrapKind::TypeError, format!("send to a {}, not an object", ops::type_name(heap, r)))
                    };
                    let Some(f) = self.ic.lookup(prog, site, class) else {
                        trap!(
                            TrapKind::NoSuchMethod,
                            format!("class {} has no such method", prog.classes[class as usize].name)
                        )
                    };
                    let arity = prog.funcs[f as usize].arity;
                    if arity != argc as u32 + 1 {
                        trap!(
                            TrapKind::ArityMismatch,
                            format!(
                                "method {} takes {} arguments with the receiver, send passed {}",
                                prog.funcs[f as usize].name,
                                arity,
                                argc as u32 + 1
                            )
                        )
                    }
                    enter!(f, d, argc, args, Some(r))
                }
                Op::Ret { s } => {
                    let v = w.get(s);
                    if th.frames.len() == 1 {
                        if th.atomic > 0 {
                            trap!(TrapKind::UnbalancedAtomic, "the thread ends inside an atomic block".into())
                        }
                        save_pc!();
                        th.state = ThreadState::Finished(v);
                        done!(Stop::Ended)
                    }
                    // SAFETY: there are at least two frames (checked just above).
                    let done_frame = unsafe { th.frames.pop().unwrap_unchecked() };
                    reload!();
                    // SAFETY: a caller's saved pc is the instruction after its call, which exists
                    // because a call is not a terminator [verify.fall-through]; there is a frame
                    // (as in `reload!`).
                    ip = unsafe { cb.add(th.frames.last().unwrap_unchecked().pc as usize) };
                    w.set(done_frame.dst, v);
                    boundary!();
                }
                Op::New { d, class } => {
                    let v = oom!(heap.new_object(class, prog.nfields[class as usize] as usize));
                    w.set(d, v);
                    next!();
                }
                Op::GetF { d, o, slot, class } => {
                    let v = w.get(o);
                    match heap.object_class(v) {
                        // The slot is below the field count of `class` [verify.field-slot], which
                        // an instance of `class` or a subclass has at least.
                        Some(c) if c == class || prog.is_subclass(c, class) => {
                            w.set(d, load!(v, HEADER_WORDS + slot as usize))
                        }
                        _ => trap!(
                            TrapKind::TypeError,
                            format!(
                                "getf needs a {} object, got {}",
                                prog.classes[class as usize].name,
                                ops::type_name(heap, v)
                            )
                        ),
                    }
                    next!();
                }
                Op::SetF { o, s, slot, class } => {
                    let v = w.get(o);
                    match heap.object_class(v) {
                        Some(c) if c == class || prog.is_subclass(c, class) => {
                            mode.store(v, HEADER_WORDS + slot as usize, w.get(s))
                        }
                        _ => trap!(
                            TrapKind::TypeError,
                            format!(
                                "setf needs a {} object, got {}",
                                prog.classes[class as usize].name,
                                ops::type_name(heap, v)
                            )
                        ),
                    }
                    next!();
                }
                Op::InstanceOf { d, o, class } => {
                    let r = match heap.object_class(w.get(o)) {
                        Some(c) => c == class || prog.is_subclass(c, class),
                        None => false,
                    };
                    w.set(d, bool_value(r));
                    next!();
                }
                Op::ANew { d, len } => {
                    let v = w.get(len);
                    let Some(n) = ops::int(heap, v) else {
                        trap!(
                            TrapKind::TypeError,
                            format!("anew expects an int length, got {}", ops::type_name(heap, v))
                        )
                    };
                    if n < 0 || n as u64 > MAX_ARRAY_LEN {
                        trap!(TrapKind::BadLength, format!("array length {n} is outside 0..={MAX_ARRAY_LEN}"))
                    }
                    let a = oom!(heap.new_array(n as usize));
                    w.set(d, a);
                    next!();
                }
                Op::AGet { d, a, i } => {
                    let (av, iv) = (w.get(a), w.get(i));
                    let len = if heap.is_array(av) { load!(av, ARRAY_LEN) as usize } else { 0 };
                    let k = check!(array_index(heap, "aget", av, iv, len));
                    let storage = load!(av, ARRAY_STORAGE);
                    w.set(d, load!(storage, HEADER_WORDS + k));
                    next!();
                }
                Op::ASet { a, i, s } => {
                    let (av, iv) = (w.get(a), w.get(i));
                    let len = if heap.is_array(av) { load!(av, ARRAY_LEN) as usize } else { 0 };
                    let k = check!(array_index(heap, "aset", av, iv, len));
                    let storage = load!(av, ARRAY_STORAGE);
                    mode.store(storage, HEADER_WORDS + k, w.get(s));
                    next!();
                }
                Op::ALen { d, a } => {
                    let av = w.get(a);
                    if !heap.is_array(av) {
                        trap!(TrapKind::TypeError, format!("alen expects an array, got {}", ops::type_name(heap, av)))
                    }
                    w.set(d, small_int(load!(av, ARRAY_LEN) as i64).unwrap_or(NIL));
                    next!();
                }
                Op::APush { a, s } => {
                    let av = w.get(a);
                    if !heap.is_array(av) {
                        trap!(TrapKind::TypeError, format!("apush expects an array, got {}", ops::type_name(heap, av)))
                    }
                    let len = load!(av, ARRAY_LEN) as usize;
                    if len as u64 >= MAX_ARRAY_LEN {
                        trap!(TrapKind::BadLength, format!("an array may hold at most {MAX_ARRAY_LEN} elements"))
                    }
                    if !M::PARALLEL {
                        oom!(heap.array_push(av, w.get(s)));
                    } else {
                        // The same steps as `Heap::array_push`, each word through the barriers
                        // (fresh storage is private to the transaction: no log).
                        let cap = load!(av, ARRAY_CAP) as usize;
                        let mut storage = load!(av, ARRAY_STORAGE);
                        if len == cap {
                            let new_cap = (cap * 2).max(4);
                            let fresh = oom!(heap.new_storage(new_cap));
                            for j in 0..len {
                                let e = load!(storage, HEADER_WORDS + j);
                                mode.store(fresh, HEADER_WORDS + j, e);
                            }
                            mode.store(av, ARRAY_STORAGE, fresh);
                            mode.store(av, ARRAY_CAP, new_cap as u64);
                            storage = fresh;
                        }
                        mode.store(storage, HEADER_WORDS + len, w.get(s));
                        mode.store(av, ARRAY_LEN, len as u64 + 1);
                    }
                    next!();
                }
                Op::Concat { d, a, b } => {
                    let (x, y) = (w.get(a), w.get(b));
                    let (lx, ly) = match (heap.str_bytes(x), heap.str_bytes(y)) {
                        (Some(p), Some(q)) => (p.len(), q.len()),
                        _ => trap!(
                            TrapKind::TypeError,
                            format!(
                                "concat expects two strings, got {} and {}",
                                ops::type_name(heap, x),
                                ops::type_name(heap, y)
                            )
                        ),
                    };
                    if (lx + ly) as u64 > MAX_STRING_LEN {
                        trap!(TrapKind::BadLength, format!("a string may hold at most {MAX_STRING_LEN} bytes"))
                    }
                    let r = oom!(concat(heap, x, y));
                    w.set(d, r);
                    next!();
                }
                Op::SLen { d, s } => {
                    let v = w.get(s);
                    let Some(n) = heap.str_bytes(v).map(|b| b.len()) else {
                        trap!(TrapKind::TypeError, format!("slen expects a string, got {}", ops::type_name(heap, v)))
                    };
                    w.set(d, small_int(n as i64).unwrap_or(NIL));
                    next!();
                }
                Op::ToStr { d, a } => {
                    let v = w.get(a);
                    let mut buf = std::mem::take(&mut self.scratch);
                    buf.clear();
                    let alen = if heap.is_array(v) { Some(load!(v, ARRAY_LEN) as usize) } else { None };
                    ops::display(prog, heap, mode.names(&self.ids), v, alen, &mut buf);
                    let r = heap.new_string(&buf);
                    self.scratch = buf;
                    w.set(d, oom!(r));
                    next!();
                }
                Op::SToI { d, s } => {
                    let v = w.get(s);
                    let Some(bytes) = heap.str_bytes(v) else {
                        trap!(TrapKind::TypeError, format!("stoi expects a string, got {}", ops::type_name(heap, v)))
                    };
                    let r = match num::parse_int(bytes) {
                        Some(i) => oom!(ops::make_int(heap, i)),
                        None => NIL,
                    };
                    w.set(d, r);
                    next!();
                }
                Op::SToF { d, s } => {
                    let v = w.get(s);
                    let Some(bytes) = heap.str_bytes(v) else {
                        trap!(TrapKind::TypeError, format!("stof expects a string, got {}", ops::type_name(heap, v)))
                    };
                    let r = match num::parse_float(bytes) {
                        Some(f) => oom!(ops::make_float(heap, f)),
                        None => NIL,
                    };
                    w.set(d, r);
                    next!();
                }
                Op::Print { s } => {
                    let v = w.get(s);
                    let alen = if heap.is_array(v) { Some(load!(v, ARRAY_LEN) as usize) } else { None };
                    validate!();
                    ops::display(prog, heap, mode.names(&self.ids), v, alen, &mut self.out);
                    if self.stream_stdout && self.out.len() >= STREAM_CHUNK {
                        crate::vm::write_stdout(&mut self.out);
                    }
                    next!();
                    boundary!();
                }
                Op::PrintLn { s } => {
                    let v = w.get(s);
                    let alen = if heap.is_array(v) { Some(load!(v, ARRAY_LEN) as usize) } else { None };
                    validate!();
                    ops::display(prog, heap, mode.names(&self.ids), v, alen, &mut self.out);
                    self.out.push(b'\n');
                    if self.stream_stdout && self.out.len() >= STREAM_CHUNK {
                        crate::vm::write_stdout(&mut self.out);
                    }
                    next!();
                    boundary!();
                }
                Op::Spawn { d, argc, f, args } if M::PARALLEL => {
                    validate!();
                    let argv: Vec<Value> =
                        (0..argc as usize).map(|i| w.get(prog.arg_pool[args as usize + i])).collect();
                    match stm!(mode.spawn(th, f, &argv, self.initial_fuel)) {
                        Spawned::Handle(h) => w.set(d, h),
                        Spawned::Limit => {
                            trap!(TrapKind::ThreadLimit, format!("a run may create at most {MAX_THREADS} threads"))
                        }
                    }
                    next!();
                    boundary!();
                }
                Op::Spawn { d, argc, f, args } => {
                    if self.threads.len() >= MAX_THREADS as usize {
                        trap!(TrapKind::ThreadLimit, format!("a run may create at most {MAX_THREADS} threads"))
                    }
                    let argv: Vec<Value> =
                        (0..argc as usize).map(|i| w.get(prog.arg_pool[args as usize + i])).collect();
                    let child = Thread::new(prog, f, &argv, self.initial_fuel);
                    let id = self.ids[ti].child(th.spawned);
                    th.spawned += 1;
                    let handle = thread_value(self.threads.len() as u32);
                    self.threads.push(Box::new(child));
                    self.ids.push(id);
                    w.set(d, handle);
                    next!();
                    // Another thread can run now: end the segment at the next boundary.
                    if left > 1 {
                        limit -= left - 1;
                        left = 1;
                    }
                    boundary!();
                }
                Op::Join { d, t } => {
                    // [thread.boundary-before]: outside atomic blocks, join starts a segment.
                    if th.atomic == 0 && ip != seg_start {
                        boundary!();
                    }
                    // [thread.join]: the operand type, then the atomic block, then the target.
                    let v = w.get(t);
                    let Some(target) = as_thread(v) else {
                        trap!(TrapKind::TypeError, format!("join expects a thread, got {}", ops::type_name(heap, v)))
                    };
                    if th.atomic > 0 {
                        trap!(TrapKind::JoinInAtomic, "join inside an atomic block".into())
                    }
                    let state = if target as usize == ti {
                        ThreadState::Running
                    } else if M::PARALLEL {
                        stm!(mode.join_state(target))
                    } else {
                        self.threads[target as usize].state.clone()
                    };
                    match state {
                        ThreadState::Running => {
                            save_pc!();
                            done!(Stop::Blocked)
                        }
                        ThreadState::Finished(r) => {
                            w.set(d, r);
                            next!();
                        }
                        ThreadState::Trapped(tr) => trap!(
                            TrapKind::ThreadTrapped,
                            Some(tr.kind.name().to_string()),
                            format!("thread {} trapped: {}", mode.names(&self.ids).thread_name(target), tr.kind)
                        ),
                    }
                }
                Op::AtomicBegin => {
                    // Saturating, as the reference: 2^64 nested blocks take longer than any run.
                    th.atomic = th.atomic.saturating_add(1);
                    next!();
                }
                Op::AtomicEnd => {
                    if th.atomic == 0 {
                        trap!(TrapKind::UnbalancedAtomic, "atomic_end outside an atomic block".into())
                    }
                    th.atomic -= 1;
                    next!();
                    boundary!();
                }
                Op::Yield => {
                    next!();
                    boundary!();
                }
                Op::Trap { msg } => {
                    let m = prog.messages.get(&msg).cloned().unwrap_or_default();
                    trap!(TrapKind::ExplicitTrap, Some(m.clone()), m)
                }
                Op::LtJmp { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Lt, ops::small_int_lt, t, on, false),
                Op::LeJmp { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Le, |x: i64, y: i64| x <= y, t, on, false),
                Op::GtJmp { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Gt, |x: i64, y: i64| x > y, t, on, false),
                Op::GeJmp { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Ge, |x: i64, y: i64| x >= y, t, on, false),
                Op::EqJmp { d, a, b, t, on } => eqjmp!(d, a, b, false, t, on, false),
                Op::NeJmp { d, a, b, t, on } => eqjmp!(d, a, b, true, t, on, false),
                Op::LtJmpBack { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Lt, ops::small_int_lt, t, on, true),
                Op::LeJmpBack { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Le, |x: i64, y: i64| x <= y, t, on, true),
                Op::GtJmpBack { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Gt, |x: i64, y: i64| x > y, t, on, true),
                Op::GeJmpBack { d, a, b, t, on } => cmpjmp!(d, a, b, Cmp::Ge, |x: i64, y: i64| x >= y, t, on, true),
                Op::EqJmpBack { d, a, b, t, on } => eqjmp!(d, a, b, false, t, on, true),
                Op::NeJmpBack { d, a, b, t, on } => eqjmp!(d, a, b, true, t, on, true),
                Op::LdAdd { t, d, a, k } => {
                    w.set(t, k);
                    if STATS {
                        *icount += 1;
                    }
                    next!();
                    let x = w.get(a);
                    let r = match if is_small_int(x) { small_add(x, k) } else { None } {
                        Some(r) => r,
                        None => check!(ops::arith(heap, Arith::Add, x, k)),
                    };
                    w.set(d, r);
                    next!();
                }
                Op::LdSub { t, d, a, k } => {
                    w.set(t, k);
                    if STATS {
                        *icount += 1;
                    }
                    next!();
                    let x = w.get(a);
                    let r = match if is_small_int(x) { small_sub(x, k) } else { None } {
                        Some(r) => r,
                        None => check!(ops::arith(heap, Arith::Sub, x, k)),
                    };
                    w.set(d, r);
                    next!();
                }
                Op::Assert { c, msg } => {
                    if cond!(c) {
                        next!();
                    } else {
                        let m = prog.messages.get(&msg).cloned().unwrap_or_default();
                        trap!(TrapKind::AssertionFailed, Some(m.clone()), m)
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn is_bool(v: Value) -> bool {
    v == TRUE || v == FALSE
}

/// [value.equality] with the cases decided by the words alone inline: two SmallInts, or any
/// operand that is `nil`, a bool, a function or a thread (equal only to the same word; these
/// are never equal to a value of another type). Strings, boxed numbers and floats (where
/// -0.0 == 0.0 but the words differ) go to `ops::equal`.
#[inline(always)]
fn equal(heap: &crate::heap::Heap, x: Value, y: Value) -> bool {
    if both_small_int(x, y) || x == NIL || y == NIL || (x | y) & TAG_IMM != 0 {
        x == y
    } else {
        ops::equal(heap, x, y)
    }
}

/// The index `i` into array `a` of length `len` (read by the caller through its mode).
fn array_index(heap: &crate::heap::Heap, what: &str, a: Value, i: Value, len: usize) -> Result<usize, Fault> {
    if !heap.is_array(a) {
        return ops::trap(TrapKind::TypeError, format!("{what} expects an array, got {}", ops::type_name(heap, a)));
    }
    let Some(k) = ops::int(heap, i) else {
        return ops::trap(TrapKind::TypeError, format!("{what} expects an int index, got {}", ops::type_name(heap, i)));
    };
    if k < 0 || k as u64 >= len as u64 {
        return ops::trap(TrapKind::IndexOutOfBounds, format!("index {k} outside an array of length {len}"));
    }
    Ok(k as usize)
}

fn concat(heap: &mut crate::heap::Heap, x: Value, y: Value) -> Result<Value, OutOfMemory> {
    heap.concat_strings(x, y)
}
