//! Guest threads: each owns a flat register stack and a frame stack (VM data, never the host
//! stack), its fuel and its atomic-block depth.

use crate::code::Program;
use crate::value::Value;
use lockstep_spec::TrapKind;
use std::sync::Arc;

/// One activation. `pc` is where the frame continues: for the running frame it is saved at
/// every exit from the interpreter, for callers it is the return address. `dst` is the caller's
/// register that receives this frame's result. `#[repr(C)]`: compiled code reads and writes
/// frames (layout in `DESIGN.md`, checked by the tests below).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Frame {
    pub func: u32,
    pub base: u32,
    pub pc: u32,
    pub dst: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrapRecord {
    pub kind: TrapKind,
    pub func: u32,
    pub pc: u32,
    pub message: Option<String>,
    pub detail: String,
    /// Presentation ([exec.trap-report]): the frames below the trapping one, innermost first,
    /// each as (function, pc of the call it is running). Taken only when a thread traps.
    pub callers: Vec<(u32, u32)>,
    /// Presentation: for `thread_trapped`, the joined thread (its index) and its own trap.
    /// Shared, so that a chain of joins of trapped threads costs one record per thread.
    pub joined: Option<Arc<(u32, TrapRecord)>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum ThreadState {
    #[default]
    Running,
    Finished(Value),
    Trapped(TrapRecord),
}

/// A guest thread. `#[repr(C)]` with the two counters compiled code updates in place first
/// (`DESIGN.md`, "Entering and leaving the interpreter").
#[derive(Default)]
#[repr(C)]
pub struct Thread {
    pub fuel: u64,
    /// Atomic block depth.
    pub atomic: u64,
    pub regs: Vec<Value>,
    pub frames: Vec<Frame>,
    /// How many threads this one has spawned (the next child's last id component).
    pub spawned: u32,
    /// Whether the root function's entry has been charged.
    pub started: bool,
    /// Bytes of register stack growth counted against the heap limit (`Heap::reserve_stack`),
    /// returned when the thread ends (`Heap::release_stack`).
    pub stack_bytes: usize,
    pub state: ThreadState,
}

impl Thread {
    /// A thread about to run `func` with `args` in its first registers.
    pub fn new(prog: &Program, func: u32, args: &[Value], fuel: u64) -> Thread {
        let mut regs = vec![0; (prog.funcs[func as usize].regs as usize).max(16)];
        regs[..args.len()].copy_from_slice(args);
        Thread {
            regs,
            frames: vec![Frame { func, base: 0, pc: 0, dst: 0 }],
            fuel,
            atomic: 0,
            spawned: 0,
            stack_bytes: 0,
            started: false,
            state: ThreadState::Running,
        }
    }

    pub fn ended(&self) -> bool {
        !matches!(self.state, ThreadState::Running)
    }

    /// Appends the thread's GC roots: the registers of every live frame, or its result.
    pub fn roots(&self, prog: &Program, out: &mut Vec<Value>) {
        match &self.state {
            ThreadState::Finished(v) => out.push(*v),
            ThreadState::Trapped(_) => {}
            ThreadState::Running => out.extend_from_slice(self.live_regs(prog)),
        }
    }

    /// The registers of every live frame (the stack up to the top frame's last register).
    pub fn live_regs(&self, prog: &Program) -> &[Value] {
        let end = self.frames.last().map_or(0, |top| top.base as usize + prog.funcs[top.func as usize].regs as usize);
        &self.regs[..end.min(self.regs.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The layout `DESIGN.md` documents for compiled code.
    #[test]
    fn frame_and_thread_layouts_are_the_documented_ones() {
        assert_eq!(size_of::<Frame>(), 16);
        assert_eq!(
            [offset_of!(Frame, func), offset_of!(Frame, base), offset_of!(Frame, pc), offset_of!(Frame, dst)],
            [0, 4, 8, 12]
        );
        assert_eq!([offset_of!(Thread, fuel), offset_of!(Thread, atomic)], [0, 8]);
    }
}
