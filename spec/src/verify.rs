//! The verifier: checks every rule of `spec/verifier.md` and produces a [`VerifiedModule`].
//!
//! Engines trust a `VerifiedModule` completely: the reference interpreter indexes registers,
//! constants, functions and classes without checking, and the optimized engine and the JIT
//! compile that trust into unchecked accesses. So this pass checks everything such an engine
//! relies on, for modules from any source (decoded bytes, the assembler, tests building a
//! `Module` by hand). It reports the first violation it finds, checking module
//! counts, then constants, classes, functions (header, then each instruction), then the entry.
//!
//! It runs in time linear in the module's size: uniqueness uses hash sets, inherited field
//! counts and class depths are computed once per class from the superclass's (which precedes
//! it), and field-name clashes are found by walking at most `MAX_CLASS_DEPTH` ancestors.

use crate::instr::{ClassIdx, Flags, Instr, Operand};
use crate::limits;
use crate::module::{Constant, Function, Module};
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;

/// A module that satisfies every verifier rule. Only [`verify`] makes one, so an engine that
/// receives a `VerifiedModule` may rely on the rules without checking them again.
#[derive(Clone, Debug)]
pub struct VerifiedModule {
    module: Module,
    /// Per class, the number of fields including inherited ones (`Module::all_fields` length).
    field_counts: Vec<u32>,
}

impl VerifiedModule {
    /// The module, which satisfies every rule of `spec/verifier.md`.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The module, no longer known to be verified (to change it and verify it again).
    pub fn into_module(self) -> Module {
        self.module
    }

    /// The number of fields of an instance of `class`, inherited ones included: the object
    /// size an engine allocates. At most `limits::MAX_FIELDS` ([verify.field-count]).
    /// `class` must be in range (every `Class` and `Field` operand is: [verify.class-range]).
    pub fn field_count(&self, class: ClassIdx) -> u32 {
        self.field_counts.get(class.0 as usize).copied().unwrap_or(0)
    }
}

impl Deref for VerifiedModule {
    type Target = Module;
    fn deref(&self) -> &Module {
        &self.module
    }
}

/// The module breaks verifier rule `rule` (a name from `spec/verifier.md`). `function` (index
/// and name) and `pc` (instruction index) locate it when it is inside a function, `class`
/// (index) when it is about a class; `span` is that place in the source text when
/// the module came from text (the instruction, or the function's or class's name for a rule
/// about the function or class as a whole), set by
/// [`load_program`](crate::program::load_program) from the assembler's source map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The rule broken, as `spec/verifier.md` names it (`verify.reg-range`).
    pub rule: &'static str,
    /// The function the error is in: its index and name.
    pub function: Option<(u32, String)>,
    /// The instruction the error is at, an index into the function's code.
    pub pc: Option<u32>,
    /// Only the index: the message names the class, and a name here too would make every
    /// `Result` of the verifier larger.
    pub class: Option<u32>,
    /// What is wrong, naming the operands and values at fault.
    pub message: String,
    /// The place in the source text, for a module that came from text.
    pub span: Option<crate::asm::Span>,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid module: [{}]", self.rule)?;
        if let Some((_, name)) = &self.function {
            write!(f, " in function `{}`", name.escape_debug())?;
        }
        if let Some(pc) = self.pc {
            write!(f, " at instruction {pc}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for VerifyError {}

type Result<T> = std::result::Result<T, VerifyError>;

#[cold]
fn err(rule: &'static str, message: String) -> VerifyError {
    VerifyError { rule, function: None, pc: None, class: None, message, span: None }
}

/// Checks every rule of `spec/verifier.md`; on success the module is handed to engines.
pub fn verify(module: Module) -> Result<VerifiedModule> {
    module_counts(&module)?;
    constants(&module)?;
    let field_counts = classes(&module)?;
    functions(&module, &field_counts)?;
    entry(&module)?;
    Ok(VerifiedModule { module, field_counts })
}

fn module_counts(m: &Module) -> Result<()> {
    let table = [
        ("verify.constant-count", "constants", m.constants.len(), limits::MAX_CONSTANTS),
        ("verify.class-count", "classes", m.classes.len(), limits::MAX_CLASSES),
        ("verify.function-count", "functions", m.functions.len(), limits::MAX_FUNCTIONS),
    ];
    for (rule, what, n, limit) in table {
        if n > limit as usize {
            return Err(err(rule, format!("the module has {n} {what}, at most {limit} are allowed")));
        }
    }
    Ok(())
}

fn constants(m: &Module) -> Result<()> {
    for (i, c) in m.constants.iter().enumerate() {
        match c {
            // [verify.string-constant-len]
            Constant::Str(s) if s.len() as u64 > limits::MAX_STRING_LEN => {
                return Err(err(
                    "verify.string-constant-len",
                    format!(
                        "string constant {i} is {} bytes long, at most {} are allowed",
                        s.len(),
                        limits::MAX_STRING_LEN
                    ),
                ));
            }
            // [verify.nan]
            Constant::Float(v) if v.is_nan() && v.to_bits() != CANONICAL_NAN => {
                return Err(err(
                    "verify.nan",
                    format!(
                        "float constant {i} is a NaN with bits {:#018x}, expected the canonical NaN {CANONICAL_NAN:#018x}",
                        v.to_bits()
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The only NaN a float constant may be.
const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// [verify.name] An identifier `[A-Za-z_][A-Za-z0-9_]*` of at most `MAX_NAME_LEN` bytes.
fn check_name(name: &str, what: impl Fn() -> String) -> std::result::Result<(), String> {
    let bytes = name.as_bytes();
    if bytes.len() > limits::MAX_NAME_LEN as usize {
        return Err(format!(
            "the name of {} is {} bytes long, at most {} are allowed",
            what(),
            bytes.len(),
            limits::MAX_NAME_LEN
        ));
    }
    let ok = match bytes.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        None => false,
    };
    if !ok {
        return Err(format!(
            "the name `{}` of {} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)",
            name.escape_debug(),
            what()
        ));
    }
    Ok(())
}

/// Checks every class; returns each class's field count, inherited fields included.
fn classes(m: &Module) -> Result<Vec<u32>> {
    let n = m.classes.len();
    let mut names: HashSet<&str> = HashSet::with_capacity(n);
    let mut depth: Vec<u32> = Vec::with_capacity(n);
    let mut field_counts: Vec<u32> = Vec::with_capacity(n);
    let mut own_fields: Vec<HashSet<&str>> = Vec::with_capacity(n);
    for (i, class) in m.classes.iter().enumerate() {
        let cname = class.name.escape_debug().to_string();
        let err = |rule, message| in_class(i, err(rule, message));
        check_name(&class.name, || format!("class {i}")).map_err(|msg| err("verify.name", msg))?;
        if !names.insert(&class.name) {
            return Err(err(
                "verify.class-name-unique",
                format!("class {i} is named `{cname}`, like an earlier class"),
            ));
        }
        // [verify.superclass] Preceding classes only: inheritance is acyclic, and the loop
        // below always finds the superclass's facts already computed.
        let (parent_depth, parent_fields) = match class.superclass {
            None => (0, 0),
            Some(s) if (s.0 as usize) < i => (depth[s.0 as usize], field_counts[s.0 as usize]),
            Some(s) => {
                return Err(err(
                    "verify.superclass",
                    format!("class `{cname}` (index {i}) has superclass index {}, expected an index below {i}", s.0),
                ))
            }
        };
        // [verify.class-depth]
        let d = parent_depth + 1;
        if d > limits::MAX_CLASS_DEPTH {
            return Err(err(
                "verify.class-depth",
                format!(
                    "class `{cname}` has {d} classes in its superclass chain (itself included), at most {} are allowed",
                    limits::MAX_CLASS_DEPTH
                ),
            ));
        }
        // [verify.field-count]
        let total = u64::from(parent_fields) + class.fields.len() as u64;
        if total > u64::from(limits::MAX_FIELDS) {
            return Err(err(
                "verify.field-count",
                format!(
                    "class `{cname}` has {total} fields including inherited ones, at most {} are allowed",
                    limits::MAX_FIELDS
                ),
            ));
        }
        // [verify.field-unique]
        let mut own: HashSet<&str> = HashSet::with_capacity(class.fields.len());
        for (j, field) in class.fields.iter().enumerate() {
            check_name(field, || format!("field {j} of class `{cname}`")).map_err(|msg| err("verify.name", msg))?;
            if !own.insert(field) {
                return Err(err("verify.field-unique", format!("class `{cname}` declares field `{field}` twice")));
            }
            let mut ancestor = class.superclass;
            while let Some(a) = ancestor {
                let a = a.0 as usize;
                if own_fields[a].contains(field.as_str()) {
                    return Err(err(
                        "verify.field-unique",
                        format!(
                            "class `{cname}` declares field `{field}`, which it already inherits from class `{}`",
                            m.classes[a].name.escape_debug()
                        ),
                    ));
                }
                ancestor = m.classes[a].superclass;
            }
        }
        methods(m, i, &cname)?;
        depth.push(d);
        field_counts.push(total as u32);
        own_fields.push(own);
    }
    Ok(field_counts)
}

fn methods(m: &Module, i: usize, cname: &str) -> Result<()> {
    let class = &m.classes[i];
    let err = |rule, message| in_class(i, err(rule, message));
    // [verify.method-count]
    if class.methods.len() > limits::MAX_METHODS as usize {
        return Err(err(
            "verify.method-count",
            format!(
                "class `{cname}` defines {} methods, at most {} are allowed",
                class.methods.len(),
                limits::MAX_METHODS
            ),
        ));
    }
    let mut names: HashSet<&str> = HashSet::with_capacity(class.methods.len());
    for (j, method) in class.methods.iter().enumerate() {
        check_name(&method.name, || format!("method {j} of class `{cname}`")).map_err(|msg| err("verify.name", msg))?;
        if !names.insert(&method.name) {
            return Err(err("verify.method-unique", format!("class `{cname}` defines method `{}` twice", method.name)));
        }
        // [verify.method-function]
        match m.functions.get(method.func.0 as usize) {
            None => {
                return Err(err(
                    "verify.method-function",
                    format!(
                        "method `{}` of class `{cname}` names function {}, but the module has {} functions",
                        method.name,
                        method.func.0,
                        m.functions.len()
                    ),
                ))
            }
            Some(f) if f.arity == 0 => {
                return Err(err(
                    "verify.method-function",
                    format!(
                        "method `{}` of class `{cname}` is function `{}` of arity 0, expected arity at least 1 (the receiver)",
                        method.name,
                        f.name.escape_debug()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `e`, located in class `i`.
fn in_class(i: usize, e: VerifyError) -> VerifyError {
    VerifyError { class: Some(i as u32), ..e }
}

fn functions(m: &Module, field_counts: &[u32]) -> Result<()> {
    let mut names: HashSet<&str> = HashSet::with_capacity(m.functions.len());
    for (i, f) in m.functions.iter().enumerate() {
        let at = |rule: &'static str, pc: Option<usize>, message: String| VerifyError {
            rule,
            function: Some((i as u32, f.name.clone())),
            pc: pc.map(|pc| pc as u32),
            class: None,
            message,
            span: None,
        };
        check_name(&f.name, || format!("function {i}")).map_err(|msg| at("verify.name", None, msg))?;
        if !names.insert(&f.name) {
            return Err(at(
                "verify.function-name-unique",
                None,
                format!("function {i} is named `{}`, like an earlier function", f.name),
            ));
        }
        header(f).map_err(|(rule, msg)| at(rule, None, msg))?;
        for (pc, instr) in f.code.iter().enumerate() {
            instruction(m, f, field_counts, instr).map_err(|(rule, msg)| at(rule, Some(pc), msg))?;
        }
        // [verify.fall-through]
        if let Some(last) = f.code.last() {
            if !last.flags().contains(Flags::TERMINATOR) {
                return Err(at(
                    "verify.fall-through",
                    Some(f.code.len() - 1),
                    format!(
                        "the last instruction `{}` can fall through past the end of the code, expected an instruction that never falls through (ret, jmp, trap)",
                        last.opcode().mnemonic()
                    ),
                ));
            }
        }
    }
    Ok(())
}

type Violation = (&'static str, String);

fn header(f: &Function) -> std::result::Result<(), Violation> {
    if f.regs > limits::MAX_REGS {
        return Err((
            "verify.regs-limit",
            format!("the function has {} registers, at most {} are allowed", f.regs, limits::MAX_REGS),
        ));
    }
    if f.arity > limits::MAX_ARGS {
        return Err((
            "verify.arity-limit",
            format!("the function has arity {}, at most {} is allowed", f.arity, limits::MAX_ARGS),
        ));
    }
    if f.arity > f.regs {
        return Err((
            "verify.arity-regs",
            format!(
                "the function has arity {} but only {} registers, expected at least one register per parameter",
                f.arity, f.regs
            ),
        ));
    }
    if f.code.is_empty() {
        return Err(("verify.code-nonempty", "the function has no instructions, expected at least one".to_string()));
    }
    if f.code.len() > limits::MAX_CODE_LEN as usize {
        return Err((
            "verify.code-len",
            format!("the function has {} instructions, at most {} are allowed", f.code.len(), limits::MAX_CODE_LEN),
        ));
    }
    Ok(())
}

/// Checks one instruction's operands by kind, so no instruction is listed by hand.
fn instruction(m: &Module, f: &Function, field_counts: &[u32], instr: &Instr) -> std::result::Result<(), Violation> {
    let mnemonic = instr.opcode().mnemonic();
    let operands = instr.operands();
    let specs = instr.opcode().operands();
    let check_reg = |r: crate::Reg, name: &str| {
        if u32::from(r.0) < f.regs {
            Ok(())
        } else {
            Err((
                "verify.reg-range",
                format!(
                    "register r{} out of range (function has {} registers) in operand `{name}` of `{mnemonic}`",
                    r.0, f.regs
                ),
            ))
        }
    };
    let mut callee = None;
    let mut args_len = None;
    for (operand, spec) in operands.iter().zip(specs) {
        let name = spec.name;
        match operand {
            Operand::Reg(r) => check_reg(*r, name)?,
            Operand::Imm(_) => {}
            Operand::Const(k) | Operand::Str(k) => {
                let Some(c) = m.constants.get(k.0 as usize) else {
                    return Err((
                        "verify.const-range",
                        format!(
                            "constant {} out of range (module has {} constants) in operand `{name}` of `{mnemonic}`",
                            k.0,
                            m.constants.len()
                        ),
                    ));
                };
                if matches!(operand, Operand::Str(_)) && !matches!(c, Constant::Str(_)) {
                    return Err((
                        "verify.str-const",
                        format!("operand `{name}` of `{mnemonic}` is constant {}, which is not a string constant", k.0),
                    ));
                }
            }
            Operand::Func(func) => {
                if m.functions.get(func.0 as usize).is_none() {
                    return Err((
                        "verify.func-range",
                        format!(
                            "function {} out of range (module has {} functions) in operand `{name}` of `{mnemonic}`",
                            func.0,
                            m.functions.len()
                        ),
                    ));
                }
                callee = Some(*func);
            }
            Operand::Class(c) => class_in_range(m, *c, name, mnemonic)?,
            Operand::Field(field) => {
                class_in_range(m, field.class, name, mnemonic)?;
                let count = field_counts.get(field.class.0 as usize).copied().unwrap_or(0);
                if field.slot >= count {
                    return Err((
                        "verify.field-slot",
                        format!(
                            "field slot {} out of range (class `{}` has {count} fields) in operand `{name}` of `{mnemonic}`",
                            field.slot,
                            m.classes[field.class.0 as usize].name.escape_debug()
                        ),
                    ));
                }
            }
            Operand::Label(l) => {
                if l.0 as usize >= f.code.len() {
                    return Err((
                        "verify.label-range",
                        format!(
                            "jump target {} out of range (function has {} instructions) in operand `{name}` of `{mnemonic}`",
                            l.0,
                            f.code.len()
                        ),
                    ));
                }
            }
            Operand::Args(args) => {
                if args.len() > limits::MAX_ARGS as usize {
                    return Err((
                        "verify.args-limit",
                        format!(
                            "`{mnemonic}` passes {} arguments, at most {} are allowed",
                            args.len(),
                            limits::MAX_ARGS
                        ),
                    ));
                }
                for r in args.iter() {
                    check_reg(*r, name)?;
                }
                args_len = Some(args.len());
            }
        }
    }
    // [verify.call-arity] A statically named callee (call, spawn) gets exactly its arity.
    if let (Some(func), Some(n)) = (callee, args_len) {
        let target = &m.functions[func.0 as usize];
        if n != target.arity as usize {
            return Err((
                "verify.call-arity",
                format!(
                    "`{mnemonic}` passes {n} arguments to function `{}`, which has arity {}",
                    target.name.escape_debug(),
                    target.arity
                ),
            ));
        }
    }
    Ok(())
}

fn class_in_range(m: &Module, c: ClassIdx, name: &str, mnemonic: &str) -> std::result::Result<(), Violation> {
    if (c.0 as usize) < m.classes.len() {
        Ok(())
    } else {
        Err((
            "verify.class-range",
            format!(
                "class {} out of range (module has {} classes) in operand `{name}` of `{mnemonic}`",
                c.0,
                m.classes.len()
            ),
        ))
    }
}

/// [verify.entry]
fn entry(m: &Module) -> Result<()> {
    match m.functions.get(m.entry.0 as usize) {
        None => Err(err(
            "verify.entry",
            format!("the entry function {} is out of range (module has {} functions)", m.entry.0, m.functions.len()),
        )),
        Some(f) if f.arity > 1 => Err(err(
            "verify.entry",
            format!("the entry function `{}` has arity {}, expected arity 0 or 1", f.name.escape_debug(), f.arity),
        )),
        Some(_) => Ok(()),
    }
}
