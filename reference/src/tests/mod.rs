//! Unit tests on modules built by hand. Every module built here satisfies the verifier rules
//! (registers, indices and arities in range, no falling off the end), which is what
//! `run_module` assumes; script-based tests through the assembler live in `tests/`.

mod calls;
mod instructions;
mod memory;
mod threads;

use crate::{run_module, Config, RunError, Scheduler};
use lockstep_spec::outcome::{End, Outcome};
use lockstep_spec::schedule::ThreadId;
use lockstep_spec::{
    Args, Class, ClassIdx, ConstIdx, Constant, FuncIdx, Function, Instr, Label, Method, Module, Reg, TrapKind,
};

/// Builds a module one piece at a time; function indices follow the order of `func` calls, so
/// a test that calls a later function names its index.
#[derive(Default)]
pub(crate) struct Builder {
    module: Module,
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    pub fn konst(&mut self, c: Constant) -> ConstIdx {
        self.module.constants.push(c);
        ConstIdx(self.module.constants.len() as u32 - 1)
    }

    pub fn str(&mut self, s: &str) -> ConstIdx {
        self.konst(Constant::Str(s.as_bytes().into()))
    }

    pub fn func(&mut self, name: &str, arity: u32, regs: u32, code: Vec<Instr>) -> FuncIdx {
        self.module.functions.push(Function { name: name.to_string(), arity, regs, code });
        FuncIdx(self.module.functions.len() as u32 - 1)
    }

    pub fn class(
        &mut self,
        name: &str,
        superclass: Option<ClassIdx>,
        fields: &[&str],
        methods: &[(&str, FuncIdx)],
    ) -> ClassIdx {
        self.module.classes.push(Class {
            name: name.to_string(),
            superclass,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            methods: methods.iter().map(|(n, f)| Method { name: n.to_string(), func: *f }).collect(),
        });
        ClassIdx(self.module.classes.len() as u32 - 1)
    }

    /// The module, with `main` (by name) as its entry.
    pub fn build(mut self) -> Module {
        self.module.entry = self.module.function_by_name("main").expect("test module has a main");
        self.module
    }
}

pub(crate) fn r(i: u16) -> Reg {
    Reg(i)
}

pub(crate) fn args(regs: &[u16]) -> Args {
    regs.iter().map(|&i| Reg(i)).collect()
}

pub(crate) fn ldi(dst: u16, value: i64) -> Instr {
    Instr::LdI { dst: r(dst), value }
}

pub(crate) fn ret(src: u16) -> Instr {
    Instr::Ret { src: r(src) }
}

pub(crate) fn jmp(target: u32) -> Instr {
    Instr::Jmp { target: Label(target) }
}

pub(crate) fn call(dst: u16, func: FuncIdx, a: &[u16]) -> Instr {
    Instr::Call { dst: r(dst), func, args: args(a) }
}

pub(crate) fn run(module: &Module) -> Outcome {
    run_config(module, &Config::default())
}

pub(crate) fn run_config(module: &Module, config: &Config) -> Outcome {
    match run_module(module, config) {
        Ok(o) => o,
        Err(e) => panic!("run failed: {e}"),
    }
}

pub(crate) fn with_scheduler(module: &Module, scheduler: Scheduler) -> Result<Outcome, RunError> {
    run_module(module, &Config { scheduler, ..Config::default() })
}

/// The display form of the value main finished with; panics with the outcome otherwise.
pub(crate) fn finished(o: &Outcome) -> String {
    match &o.end {
        End::Finished { value } => value.to_string(),
        other => panic!("expected the run to finish, got {other:?}"),
    }
}

/// Asserts that the run trapped with `kind` in `thread` at (`function`, `pc`).
pub(crate) fn assert_trap(o: &Outcome, kind: TrapKind, thread: &str, function: &str, pc: u32) -> Option<String> {
    match &o.end {
        End::Trapped(t) => {
            let thread: ThreadId = thread.parse().expect("valid thread id");
            assert_eq!(
                (t.kind, &t.thread, t.function_name.as_str(), t.pc),
                (kind, &thread, function, pc),
                "trap detail: {}",
                t.detail
            );
            t.message.clone()
        }
        other => panic!("expected trap {kind}, got {other:?}"),
    }
}
