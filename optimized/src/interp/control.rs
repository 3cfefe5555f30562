//! Control: segment boundaries, fuel, jumps, calls, sends and returns. Guest calls push a
//! frame on the thread's own frame stack and never recurse on the host stack.

use super::{boundary_after, loc, Exec, Exit, Flow, FILL_SLACK};
use crate::code::Op;
use crate::heap::{Heap, OutOfMemory};
use crate::mode::Mode;
use crate::ops;
use crate::regs::Window;
use crate::stop::Stop;
use crate::thread::{Frame, Thread, ThreadState};
use crate::value::{as_func, Value, NIL};
use lockstep_spec::limits::MAX_CALL_DEPTH;
use lockstep_spec::trap::detail;
use lockstep_spec::TrapKind;

impl<const STATS: bool, const JIT: bool, M: Mode> Exec<'_, STATS, JIT, M> {
    /// A segment boundary (`ip` already at the next instruction): outside atomic blocks, one
    /// segment of the budget is done; leave when none is left or the mode asks.
    #[inline(always)]
    pub(super) fn boundary(&mut self) -> Flow {
        if self.th.atomic == 0 {
            self.left -= 1;
            self.seg_start = self.ip;
            if self.left == 0 || self.mode.end_at_boundary(self.left) {
                self.save_pc();
                // SAFETY: `ip` points at the next instruction (see `next`).
                let stop =
                    if matches!(unsafe { &*self.ip }, Op::Join { .. }) { Stop::BeforeJoin } else { Stop::Boundary };
                return Err(self.done(stop));
            }
        }
        Ok(())
    }

    /// [exec.fuel]: one unit, or an out_of_fuel trap at `ip`.
    #[inline(always)]
    fn charge_fuel(&mut self, what: impl FnOnce() -> String) -> Flow {
        if self.th.fuel == 0 {
            let detail = format!("no fuel left for {}", what());
            return Err(self.trap(TrapKind::OutOfFuel, None, detail));
        }
        self.th.fuel -= 1;
        Ok(())
    }

    /// A safepoint: the mode may collect (every live value is in a register; the roots are
    /// the registers of every frame up to the top one, which does not need its pc saved).
    ///
    /// # Safety
    /// Called only at a safepoint (a function entry, a taken backward jump): no value lives in
    /// a Rust local across it, only in registers.
    #[inline(always)]
    unsafe fn safepoint(&mut self) {
        // SAFETY: a safepoint (the caller's contract): every live value is in a register of this
        // or another thread (immediates and live cells, engine invariant), and the `typeof`
        // names are allocated before the run and rooted for all of it.
        unsafe { self.mode.safepoint(&mut self.cx.heap, self.prog, self.th, &self.cx.type_names) };
    }

    #[inline(always)]
    pub(super) fn jmp(&mut self, t: u32) -> Flow {
        self.goto(t);
        Ok(())
    }

    /// A taken backward jump: fuel, a safepoint and a segment boundary.
    #[inline(always)]
    pub(super) fn back_jump(&mut self, t: u32) -> Flow {
        let r = self.mode.at_back_jump(loc(self.th, self.ip, self.cb));
        if self.stm(r)? {
            self.save_pc();
            return Err(Exit::Stop(Stop::Abandoned, 0));
        }
        self.charge_fuel(|| "a backward jump".into())?;
        self.goto(t);
        if JIT && self.jf.is_null() {
            self.jit_refresh(1);
        }
        // SAFETY: a taken backward jump is a safepoint.
        unsafe { self.safepoint() };
        self.boundary()
    }

    /// A conditional jump at `ip` to `t`, taken or not; `BACK` when the target is at or before
    /// the jump.
    #[inline(always)]
    pub(super) fn branch<const BACK: bool>(&mut self, taken: bool, t: u32) -> Flow {
        if taken {
            if BACK {
                self.back_jump(t)
            } else {
                self.jmp(t)
            }
        } else {
            self.next();
            if BACK {
                // [thread.boundary-after]: a backward jump ends its segment even when not taken.
                self.boundary()
            } else {
                Ok(())
            }
        }
    }

    /// `jmpif` (`on` = true) or `jmpifnot`.
    #[inline(always)]
    pub(super) fn jmp_if<const BACK: bool>(&mut self, c: u16, t: u32, on: bool) -> Flow {
        let taken = self.cond(c)? == on;
        self.branch::<BACK>(taken, t)
    }

    /// Enters function `cf` with `argc` arguments from the pool at `args` (after `recv` if
    /// given); the result goes to register `d` of the caller.
    #[inline(always)]
    fn enter(&mut self, cf: u32, d: u16, argc: u16, args: u32, recv: Option<Value>) -> Result<(), Exit> {
        let prog = self.prog;
        let cf = cf as usize;
        // SAFETY: `call` and `spawn` name functions the verifier checked [verify.func-range];
        // `callv` and `send` take indices from function values and method tables, which only
        // hold checked indices.
        let callee = unsafe { prog.funcs.get_unchecked(cf) };
        // [exec.call-depth], then [exec.fuel]
        if self.th.frames.len() >= MAX_CALL_DEPTH as usize {
            let detail = format!("calling {} would exceed {} frames", callee.name, MAX_CALL_DEPTH);
            return Err(self.trap(TrapKind::StackOverflow, None, detail));
        }
        self.charge_fuel(|| format!("entering {}", callee.name))?;
        // The return address: the instruction after the call.
        let ret_pc = self.pc() + 1;
        // SAFETY: a running thread has at least one frame (the last `ret` ends the thread
        // instead of popping it).
        let caller = unsafe { *self.th.frames.last().unwrap_unchecked() };
        let base = caller.base as usize;
        // SAFETY: frames hold function indices the verifier checked [verify.func-range].
        let new_base = base + unsafe { prog.funcs.get_unchecked(caller.func as usize) }.regs as usize;
        let nregs = callee.regs as usize;
        let need = new_base + nregs;
        // FILL_SLACK words of room above the frame: the nil fill below writes a whole block,
        // past the frame when it is small (those words belong to no frame).
        if self.th.regs.len() < need + FILL_SLACK {
            let r = grow_registers(self.th, &mut self.cx.heap, need + FILL_SLACK);
            self.alloc(r)?;
        }
        let th = &mut *self.th;
        let p = th.regs.as_mut_ptr();
        let argc = argc as usize;
        let first = recv.is_some() as usize;
        // SAFETY: the callee's frame new_base..need lies inside the register stack (grown just
        // above) and after the caller's frame base..new_base, so the argument registers (caller
        // registers below its count [verify.reg-range]) do not overlap it; `args..args + argc`
        // is the call's own slice of the argument pool (built at pre-decoding), and first + argc
        // <= the callee's arity <= its register count ([verify.call-arity], [verify.arity-regs]
        // for `call`, checked by the caller for `callv` and `send`); the block fill ends at most
        // at need + FILL_SLACK, inside the stack too.
        unsafe {
            let dst = p.add(new_base);
            let src = p.add(base);
            if let Some(r) = recv {
                *dst = r;
            }
            let pool = prog.arg_pool.as_ptr().add(args as usize);
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
            // [exec.call]: the other registers start as nil (the zero word). Frames are small:
            // one fixed-size block of stores covers most, a loop the rest.
            std::ptr::write_bytes(dst.add(first + argc), 0, FILL_SLACK);
            let mut j = first + argc + FILL_SLACK;
            while j < nregs {
                *dst.add(j) = NIL;
                j += 1;
            }
        }
        // The return address, in the caller's frame (the last one, as above).
        // SAFETY: as above.
        unsafe { th.frames.last_mut().unwrap_unchecked() }.pc = ret_pc;
        th.frames.push(Frame { func: cf as u32, base: new_base as u32, pc: 0, dst: d });
        self.cb = callee.code.as_ptr();
        self.ip = self.cb;
        // SAFETY: the callee's frame lies inside the register stack (grown above).
        self.w = unsafe { Window::new(p.add(new_base), nregs) };
        self.jit_refresh(1);
        // SAFETY: a function entry is a safepoint.
        unsafe { self.safepoint() };
        Ok(())
    }

    #[inline(always)]
    pub(super) fn call(&mut self, d: u16, argc: u16, f: u32, args: u32) -> Flow {
        self.enter(f, d, argc, args, None)?;
        boundary_after!(self, Call)
    }

    #[inline(always)]
    pub(super) fn callv(&mut self, d: u16, callee: u16, argc: u16, args: u32) -> Flow {
        let v = self.w.get(callee);
        let Some(f) = as_func(v) else {
            // SAFETY: a register value (live: engine invariant).
            let detail = format!("callv expects a function, got {}", unsafe { ops::type_name(&self.cx.heap, v) });
            return Err(self.trap(TrapKind::TypeError, None, detail));
        };
        let func = &self.prog.funcs[f as usize];
        if func.arity != argc as u32 {
            let detail = detail::callv_arity(&func.name, func.arity, argc as u32);
            return Err(self.trap(TrapKind::ArityMismatch, None, detail));
        }
        self.enter(f, d, argc, args, None)?;
        boundary_after!(self, CallV)
    }

    /// The method name `send` site `site` looks up (for trap details).
    #[cold]
    fn method_name(&self, site: u32) -> &[u8] {
        let selector = self.prog.sites[site as usize].selector;
        // [verify.str-const] makes every selector a name's; `u32::MAX` would be none.
        self.prog.method_names.get(selector as usize).map_or(&[], |n| n)
    }

    #[inline(always)]
    pub(super) fn send(&mut self, d: u16, recv: u16, argc: u16, site: u32, args: u32) -> Flow {
        let r = self.w.get(recv);
        // SAFETY (both blocks): a register value (live: engine invariant).
        let Some(class) = (unsafe { self.cx.heap.object_class(r) }) else {
            let detail = format!("send expects an object, got {}", unsafe { ops::type_name(&self.cx.heap, r) });
            return Err(self.trap(TrapKind::TypeError, None, detail));
        };
        let Some(f) = self.cx.ic.lookup(self.prog, site, class) else {
            let detail = detail::no_such_method(&self.prog.classes[class as usize].name, self.method_name(site));
            return Err(self.trap(TrapKind::NoSuchMethod, None, detail));
        };
        let func = &self.prog.funcs[f as usize];
        if func.arity != argc as u32 + 1 {
            let class = &self.prog.classes[class as usize].name;
            let detail = detail::send_arity(&func.name, self.method_name(site), class, func.arity, argc as u32 + 1);
            return Err(self.trap(TrapKind::ArityMismatch, None, detail));
        }
        self.enter(f, d, argc, args, Some(r))?;
        boundary_after!(self, Send)
    }

    #[inline(always)]
    pub(super) fn ret(&mut self, s: u16) -> Flow {
        let v = self.w.get(s);
        if self.th.frames.len() == 1 {
            if self.th.atomic > 0 {
                return Err(self.trap(
                    TrapKind::UnbalancedAtomic,
                    None,
                    "the thread ends inside an atomic block".into(),
                ));
            }
            self.save_pc();
            self.th.state = ThreadState::Finished(v);
            return Err(self.done(Stop::Ended));
        }
        let th = &mut *self.th;
        // SAFETY: there are at least two frames (checked just above).
        let done_frame = unsafe { th.frames.pop().unwrap_unchecked() };
        // SAFETY: a running thread has at least one frame left.
        let f = unsafe { *th.frames.last().unwrap_unchecked() };
        // SAFETY: frames hold function indices the verifier checked [verify.func-range].
        let func = unsafe { self.prog.funcs.get_unchecked(f.func as usize) };
        self.cb = func.code.as_ptr();
        // SAFETY: the caller's frame lies inside the register stack.
        self.w = unsafe { Window::new(th.regs.as_mut_ptr().add(f.base as usize), func.regs as usize) };
        // A caller's saved pc is the instruction after its call, which exists because a call is
        // not a terminator [verify.fall-through].
        self.goto(f.pc);
        self.w.set(done_frame.dst, v);
        self.jit_refresh(0);
        boundary_after!(self, Ret)
    }
}

/// Grows `th`'s register stack to at least `words` (doubling), counting the growth against the
/// heap limit [limit.memory]: registers are data a run keeps alive, so deep recursion in many
/// threads ends in `OutOfMemory` (exit status 3), not in a failed host allocation.
#[cold]
#[inline(never)]
fn grow_registers(th: &mut Thread, heap: &mut Heap, words: usize) -> Result<(), OutOfMemory> {
    let grown = words.max(th.regs.len() * 2);
    let bytes = (grown - th.regs.len()) * std::mem::size_of::<Value>();
    heap.reserve_stack(bytes)?;
    th.stack_bytes += bytes;
    th.regs.resize(grown, NIL);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The register stack grows by doubling, so that deep recursion copies the registers a
    /// logarithmic number of times, not once per few calls (a shard-2 survivor grew it by two
    /// words: the same outcomes, quadratic time). The growth is counted against the heap limit.
    #[test]
    fn the_register_stack_grows_by_doubling() {
        let m = lockstep_spec::asm::assemble("func main() {\n local a\n ldi a, 1\n ret a\n}\n", "t.lsa")
            .expect("assembles");
        let v = lockstep_spec::verify::verify(m.module).expect("verifies");
        let mut heap = Heap::new(1 << 30, 1 << 20);
        let prog = crate::code::predecode(&v, &mut heap).expect("predecodes");
        let mut th = Thread::new(&prog, prog.entry, &[], u64::MAX);
        let before = th.regs.len();
        grow_registers(&mut th, &mut heap, before + 1).expect("room under the limit");
        assert!(th.regs.len() >= 2 * before, "{} words after {before}", th.regs.len());
        assert_eq!(th.stack_bytes, (th.regs.len() - before) * std::mem::size_of::<Value>());
    }
}
