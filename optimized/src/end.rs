//! How a run ends, decided in one place for both drivers (`serial.rs` and `par.rs`): main's end
//! as the outcome states it, the deadlock outcome, and the thread a thread stopped at a `join`
//! waits for.

use crate::code::{Op, Program};
use crate::heap::Heap;
use crate::ops::{self, ThreadNames};
use crate::thread::{Thread, ThreadState, TrapRecord};
use crate::value::as_thread;
use lockstep_spec::outcome::{End, StackFrame, TrapInfo};
use lockstep_spec::schedule::ThreadId;
use std::sync::Arc;

/// Main's end, if it ended: its value read from `heap` (in a parallel run, the state at
/// main's serialization point), or its trap.
pub(crate) fn main_end(prog: &Program, heap: &Heap, names: &dyn ThreadNames, main: &ThreadState) -> Option<End> {
    match main {
        ThreadState::Finished(v) => {
            // SAFETY: a finished thread's result is a GC root of its run (`Thread::roots`), so an
            // immediate or a live cell (engine invariant, like a register's value).
            Some(End::Finished { value: unsafe { ops::outcome_value(prog, heap, names, *v) } })
        }
        ThreadState::Trapped(t) => Some(End::Trapped(trap_info(prog, names, ThreadId::main(), t))),
        ThreadState::Running => None,
    }
}

/// The report of thread `thread`'s trap `t`, its presentation included ([exec.trap-report]):
/// the call stack, and down the chain of joined threads' traps.
fn trap_info(prog: &Program, names: &dyn ThreadNames, thread: ThreadId, t: &TrapRecord) -> TrapInfo {
    let name = |func: u32| prog.funcs[func as usize].name.clone();
    let callers =
        t.callers.iter().map(|&(function, pc)| StackFrame { function, function_name: name(function), pc }).collect();
    let joined = t.joined.as_ref().map(|joined| {
        let (index, record) = &**joined;
        // Thread names are the ids' canonical spelling, which parses back.
        let id = names.thread_name(*index).parse().unwrap_or_else(|_| ThreadId::main());
        Arc::new(trap_info(prog, names, id, record))
    });
    TrapInfo {
        kind: t.kind,
        thread,
        function: t.func,
        function_name: name(t.func),
        pc: t.pc,
        message: t.message.clone(),
        detail: t.detail.clone(),
        callers: Some(callers),
        joined,
    }
}

/// [thread.deadlock] The outcome when every live thread is blocked: all of them, sorted.
pub(crate) fn deadlock(blocked: impl Iterator<Item = ThreadId>) -> End {
    let mut blocked: Vec<ThreadId> = blocked.collect();
    blocked.sort();
    End::Deadlock { blocked }
}

/// The thread that `th`, stopped at a `join`, waits for (`None` when its next instruction is
/// not a `join` on a thread handle).
pub(crate) fn join_target(prog: &Program, th: &Thread) -> Option<u32> {
    let top = th.frames.last()?;
    let Some(Op::Join { t, .. }) = prog.funcs[top.func as usize].code.get(top.pc as usize).copied() else {
        return None;
    };
    as_thread(th.regs.get(top.base as usize + t as usize).copied().unwrap_or(0))
}
