//! How a run ends, decided in one place for both drivers (`serial.rs` and `par.rs`): main's end
//! as the outcome states it, the deadlock outcome, and where a thread stopped at a `join` waits
//! and for which thread.

use crate::code::{Op, Program};
use crate::heap::Heap;
use crate::ops::{self, ThreadNames};
use crate::thread::{Thread, ThreadState, TrapRecord};
use crate::value::as_thread;
use lockstep_spec::outcome::{BlockedThread, End, StackFrame, TrapInfo};
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

/// Where a thread stopped at a `join` of a thread handle is, and the thread it waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JoinWait {
    /// The joined thread's index.
    pub target: u32,
    /// The function and pc of the `join` (the thread's top frame).
    pub func: u32,
    pub pc: u32,
}

/// [thread.deadlock] The outcome when every live thread is blocked: all of them, sorted by id,
/// each at its `join` with the thread it waits for (`ids`: every thread's id, by index).
pub(crate) fn deadlock(prog: &Program, ids: &[ThreadId], blocked: impl Iterator<Item = (u32, JoinWait)>) -> End {
    let mut blocked: Vec<BlockedThread> = blocked
        .map(|(thread, wait)| BlockedThread {
            thread: ids[thread as usize].clone(),
            waits_for: ids[wait.target as usize].clone(),
            function: wait.func,
            function_name: prog.funcs[wait.func as usize].name.clone(),
            pc: wait.pc,
        })
        .collect();
    blocked.sort_by(|a, b| a.thread.cmp(&b.thread));
    End::Deadlock { blocked }
}

/// Where `th` waits when it is stopped at a `join` of a thread handle (`None` when its next
/// instruction is not a `join` on a thread handle).
pub(crate) fn join_wait(prog: &Program, th: &Thread) -> Option<JoinWait> {
    let top = th.frames.last()?;
    let Some(Op::Join { t, .. }) = prog.funcs[top.func as usize].code.get(top.pc as usize).copied() else {
        return None;
    };
    let target = as_thread(th.regs.get(top.base as usize + t as usize).copied().unwrap_or(0))?;
    Some(JoinWait { target, func: top.func, pc: top.pc })
}
