//! Output, threads, atomic blocks and explicit traps: the instructions whose effects other
//! threads (or the world) see, each validated first in a parallel run.

use super::{boundary_after, Exec, Exit, Flow};
use crate::context::STREAM_CHUNK;
use crate::mode::{Mode, Spawned, Undelivered};
use crate::ops;
use crate::stop::Stop;
use crate::thread::ThreadState;
use crate::value::{as_thread, Value};
use lockstep_spec::limits::MAX_THREADS;
use lockstep_spec::TrapKind;

impl<const STATS: bool, const JIT: bool, M: Mode> Exec<'_, STATS, JIT, M> {
    /// `print` (or `println` when `line`).
    #[inline(always)]
    pub(super) fn print(&mut self, s: u16, line: bool) -> Flow {
        let v = self.w.get(s);
        // SAFETY (both blocks): a register value (live: engine invariant).
        let alen = unsafe { self.display_len(v) }?;
        self.validate()?;
        unsafe { ops::display(self.prog, &self.cx.heap, self.mode.names(), v, alen, &mut self.cx.out) };
        if line {
            self.cx.out.push(b'\n');
        }
        if self.cx.out.len() >= STREAM_CHUNK {
            let (stream, in_atomic) = (self.cx.stream_stdout, self.th.atomic > 0);
            match self.mode.deliver(&mut self.cx.out, stream, in_atomic) {
                Ok(()) => {}
                Err(Undelivered::Abort(a)) => return self.stm(Err(a)),
                Err(Undelivered::Io(e)) => {
                    self.next();
                    self.save_pc();
                    return Err(Exit::Output(e));
                }
            }
        }
        self.next();
        if line {
            boundary_after!(self, PrintLn)
        } else {
            boundary_after!(self, Print)
        }
    }

    #[inline(always)]
    pub(super) fn spawn(&mut self, d: u16, argc: u16, f: u32, args: u32) -> Flow {
        self.validate()?;
        let argv: Vec<Value> = (0..argc as usize).map(|i| self.w.get(self.prog.arg_pool[args as usize + i])).collect();
        let r = self.mode.spawn(self.prog, self.th, f, &argv, self.cx.initial_fuel);
        match self.stm(r)? {
            Spawned::Handle(h) => self.w.set(d, h),
            Spawned::Limit => {
                let detail = format!("a run may create at most {MAX_THREADS} threads");
                return Err(self.trap(TrapKind::ThreadLimit, None, detail));
            }
        }
        self.next();
        // Another thread can run now: end the run of segments at the next boundary.
        if M::YIELD_AFTER_SPAWN && self.left > 1 {
            self.limit -= self.left - 1;
            self.left = 1;
        }
        boundary_after!(self, Spawn)
    }

    #[inline(always)]
    pub(super) fn join(&mut self, d: u16, t: u16) -> Flow {
        // [thread.boundary-before]: outside atomic blocks, join starts a segment.
        const { assert!(lockstep_spec::Opcode::Join.flags().contains(lockstep_spec::Flags::BOUNDARY_BEFORE)) };
        if self.th.atomic == 0 && self.ip != self.seg_start {
            self.boundary()?;
        }
        // [thread.join]: the operand type, then the atomic block, then the target.
        let v = self.w.get(t);
        let Some(target) = as_thread(v) else {
            // SAFETY: a register value (live: engine invariant).
            let detail = format!("join expects a thread, got {}", unsafe { ops::type_name(&self.cx.heap, v) });
            return Err(self.trap(TrapKind::TypeError, None, detail));
        };
        if self.th.atomic > 0 {
            return Err(self.trap(TrapKind::JoinInAtomic, None, "join inside an atomic block".into()));
        }
        let state = if target as usize == self.ti {
            ThreadState::Running
        } else {
            let r = self.mode.join_state(target);
            self.stm(r)?
        };
        match state {
            ThreadState::Running => {
                self.save_pc();
                Err(self.done(Stop::Blocked))
            }
            ThreadState::Finished(r) => {
                self.w.set(d, r);
                self.next();
                Ok(())
            }
            ThreadState::Trapped(tr) => {
                let detail = format!("thread {} trapped: {}", self.mode.names().thread_name(target), tr.kind);
                let exit = self.trap(TrapKind::ThreadTrapped, Some(tr.kind.name().to_string()), detail);
                // The joined thread's own trap ([exec.trap-report]), when the trap happened (a
                // doomed transaction's does not).
                if let ThreadState::Trapped(record) = &mut self.th.state {
                    record.joined = Some(std::sync::Arc::new((target, tr)));
                }
                Err(exit)
            }
        }
    }

    #[inline(always)]
    pub(super) fn atomic_begin(&mut self) -> Flow {
        // Saturating, as the reference: 2^64 nested blocks take longer than any run.
        self.th.atomic = self.th.atomic.saturating_add(1);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn atomic_end(&mut self) -> Flow {
        if self.th.atomic == 0 {
            return Err(self.trap(TrapKind::UnbalancedAtomic, None, "atomic_end outside an atomic block".into()));
        }
        self.th.atomic -= 1;
        self.next();
        boundary_after!(self, AtomicEnd)
    }

    #[inline(always)]
    pub(super) fn yield_(&mut self) -> Flow {
        self.next();
        boundary_after!(self, Yield)
    }

    #[inline(always)]
    pub(super) fn trap_op(&mut self, msg: u32) -> Flow {
        let m = self.prog.messages.get(&msg).cloned().unwrap_or_default();
        Err(self.trap(TrapKind::ExplicitTrap, Some(m.clone()), m))
    }

    #[inline(always)]
    pub(super) fn assert(&mut self, c: u16, msg: u32) -> Flow {
        if self.cond(c)? {
            self.next();
            Ok(())
        } else {
            let m = self.prog.messages.get(&msg).cloned().unwrap_or_default();
            Err(self.trap(TrapKind::AssertionFailed, Some(m.clone()), m))
        }
    }
}
