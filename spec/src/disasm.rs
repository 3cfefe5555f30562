//! The disassembler: a [`Module`] as `.lsa` text (the language is `spec/text-format.md`).
//!
//! It exists to show what a binary module holds, and its output is held to a strict promise:
//! for every module the verifier accepts, assembling the text gives back an equal module (and
//! so identical bytes). [text.round-trip] To keep that promise it prints the explicit forms of
//! the language: registers as `rN`, `regs N` in every header, labels `L<pc>`, floats in their
//! shortest exact form, and the constant pool either as inline literals (when inline assembly
//! rebuilds exactly that pool) or as named `kN` constants.
//!
//! It is total: any module, even one the verifier rejects, prints without panicking; an index
//! out of range prints as `func#N`, `class#N`, `const#N` and the text need not assemble.

use crate::instr::{ClassIdx, ConstIdx, FieldRef, FuncIdx, Instr, Operand};
use crate::limits::MAX_ARGS;
use crate::module::{Constant, Function, Module};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;

/// The text of `module`. Never panics. [text.disasm-total]
pub fn disassemble(module: &Module) -> String {
    let printer = Printer { module, inline: pool_is_inline(module), fields: RefCell::default() };
    let mut out = String::new();
    if !printer.inline {
        for (i, c) in module.constants.iter().enumerate() {
            let _ = writeln!(out, "const k{i} = {}", literal(c));
        }
        if !module.constants.is_empty() {
            out.push('\n');
        }
    }
    for class in &module.classes {
        let _ = write!(out, "class {}", class.name);
        if let Some(sup) = class.superclass {
            let _ = write!(out, " : {}", printer.class(sup));
        }
        out.push_str(" {\n");
        for field in &class.fields {
            let _ = writeln!(out, "    field {field}");
        }
        for method in &class.methods {
            let _ = writeln!(out, "    method {} {}", method.name, printer.func(method.func));
        }
        out.push_str("}\n\n");
    }
    for function in &module.functions {
        printer.function(&mut out, function);
        out.push('\n');
    }
    let _ = writeln!(out, "entry {}", printer.func(module.entry));
    out
}

/// Whether assembling the constants as inline literals rebuilds exactly this pool: no two
/// entries equal, every entry used, first uses in pool order, each `Str` operand a string.
fn pool_is_inline(module: &Module) -> bool {
    let mut seen = HashSet::new();
    for c in &module.constants {
        let key = match c {
            Constant::Int(v) => (0u8, v.to_le_bytes().to_vec()),
            Constant::Float(v) => (1, v.to_bits().to_le_bytes().to_vec()),
            Constant::Str(s) => (2, s.to_vec()),
        };
        if !seen.insert(key) {
            return false;
        }
    }
    let mut next: u64 = 0;
    for function in &module.functions {
        for instr in &function.code {
            for op in instr.operands() {
                let (k, string) = match op {
                    Operand::Const(k) => (k, false),
                    Operand::Str(k) => (k, true),
                    _ => continue,
                };
                match module.constants.get(k.0 as usize) {
                    None => return false,
                    Some(c) if string && !matches!(c, Constant::Str(_)) => return false,
                    Some(_) => {}
                }
                let k = u64::from(k.0);
                if k > next {
                    return false;
                }
                if k == next {
                    next += 1;
                }
            }
        }
    }
    next == module.constants.len() as u64
}

/// A constant as a literal that reads back to the same constant.
fn literal(c: &Constant) -> String {
    match c {
        Constant::Int(v) => v.to_string(),
        Constant::Float(v) => float(*v),
        Constant::Str(s) => string_literal(s),
    }
}

/// [text.float-literal] Rust's `Debug` form is the shortest that reads back to the same bits,
/// and always has a `.` or an exponent for finite values.
fn float(v: f64) -> String {
    if v.is_nan() {
        "nan".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        let s = format!("{v:?}");
        if s.contains(['.', 'e']) {
            s
        } else {
            s + ".0"
        }
    }
}

/// [text.string-literal] Printable ASCII as itself, the named escapes, `\xHH` for the rest.
/// (Trap details write method names so too: `trap::detail::method`.)
pub fn string_literal(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0 => s.push_str("\\0"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

struct Printer<'m> {
    module: &'m Module,
    inline: bool,
    /// Printed field operands: naming one walks the class chain, so each is computed once.
    fields: RefCell<HashMap<(u32, u32), String>>,
}

impl Printer<'_> {
    fn func(&self, f: FuncIdx) -> String {
        match self.module.functions.get(f.0 as usize) {
            Some(def) => def.name.clone(),
            None => format!("func#{}", f.0),
        }
    }

    fn class(&self, c: ClassIdx) -> String {
        match self.module.classes.get(c.0 as usize) {
            Some(def) => def.name.clone(),
            None => format!("class#{}", c.0),
        }
    }

    fn constant(&self, k: ConstIdx) -> String {
        match self.module.constants.get(k.0 as usize) {
            Some(c) if self.inline => literal(c),
            Some(_) => format!("k{}", k.0),
            None => format!("const#{}", k.0),
        }
    }

    /// `Class.name` when the name, looked up from the class, finds this slot (the nearest
    /// declaration wins); otherwise `Class.slot`. [text.field-operand]
    fn field(&self, f: FieldRef) -> String {
        if let Some(s) = self.fields.borrow().get(&(f.class.0, f.slot)) {
            return s.clone();
        }
        let s = self.field_uncached(f);
        self.fields.borrow_mut().insert((f.class.0, f.slot), s.clone());
        s
    }

    fn field_uncached(&self, f: FieldRef) -> String {
        let class = self.class(f.class);
        let all = self.all_fields(f.class);
        match all.get(f.slot as usize) {
            Some(name) if all.iter().rposition(|n| n == name) == Some(f.slot as usize) => {
                format!("{class}.{name}")
            }
            _ => format!("{class}.{}", f.slot),
        }
    }

    /// All fields of `class`, inherited first, following the superclass chain as the assembler
    /// does (whatever the order of the classes), and stopping if it loops.
    fn all_fields(&self, class: ClassIdx) -> Vec<&str> {
        let mut chain = Vec::new();
        let mut cur = Some(class);
        while let Some(c) = cur {
            let Some(def) = self.module.classes.get(c.0 as usize) else { break };
            if chain.len() > self.module.classes.len() {
                break;
            }
            chain.push(def);
            cur = def.superclass;
        }
        chain.iter().rev().flat_map(|c| c.fields.iter().map(String::as_str)).collect()
    }

    fn operand(&self, op: &Operand) -> String {
        match op {
            Operand::Reg(r) => format!("r{}", r.0),
            Operand::Imm(v) => v.to_string(),
            Operand::Const(k) | Operand::Str(k) => self.constant(*k),
            Operand::Func(f) => self.func(*f),
            Operand::Class(c) => self.class(*c),
            Operand::Field(f) => self.field(*f),
            Operand::Label(l) => format!("L{}", l.0),
            Operand::Args(args) => {
                let regs: Vec<String> = args.iter().map(|r| format!("r{}", r.0)).collect();
                format!("({})", regs.join(", "))
            }
        }
    }

    fn instr(&self, out: &mut String, instr: &Instr) {
        out.push_str("    ");
        out.push_str(instr.opcode().mnemonic());
        for (i, op) in instr.operands().iter().enumerate() {
            out.push_str(if i == 0 { " " } else { ", " });
            out.push_str(&self.operand(op));
        }
        out.push('\n');
    }

    fn function(&self, out: &mut String, function: &Function) {
        // An arity the verifier would reject could be billions: print its number instead.
        let params = if function.arity <= MAX_ARGS {
            (0..function.arity).map(|i| format!("r{i}")).collect::<Vec<_>>().join(", ")
        } else {
            format!("arity#{}", function.arity)
        };
        let _ = writeln!(out, "func {}({params}) regs {} {{", function.name, function.regs);
        let targets: BTreeSet<u32> = function
            .code
            .iter()
            .flat_map(|i| i.operands())
            .filter_map(|op| match op {
                Operand::Label(l) => Some(l.0),
                _ => None,
            })
            .collect();
        for (pc, instr) in function.code.iter().enumerate() {
            if targets.contains(&(pc as u32)) {
                let _ = writeln!(out, "L{pc}:");
            }
            self.instr(out, instr);
        }
        // A target just past the end is printed too, so even that module reads back as it is.
        let end = function.code.len() as u32;
        if targets.contains(&end) {
            let _ = writeln!(out, "L{end}:");
        }
        out.push_str("}\n");
    }
}
