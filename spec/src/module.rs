//! A module in memory: what the loader produces and the assembler builds.
//!
//! A `Module` may be anything; only a [`crate::VerifiedModule`] (which only the verifier makes)
//! satisfies the verifier rules that engines rely on.

use crate::instr::{ClassIdx, FuncIdx, Instr};

/// A whole program: constants, classes, functions, and the entry function.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    /// The constant pool, indexed by [`crate::ConstIdx`] (`Const` and `Str` operands).
    pub constants: Vec<Constant>,
    /// The class table, indexed by [`ClassIdx`] (verified: a superclass precedes its
    /// subclasses).
    pub classes: Vec<Class>,
    /// The function table, indexed by [`FuncIdx`]; methods are functions too.
    pub functions: Vec<Function>,
    /// The function run as the main thread.
    pub entry: FuncIdx,
}

/// A constant-pool entry.
#[derive(Clone, Debug)]
pub enum Constant {
    /// A 64-bit signed integer.
    Int(i64),
    /// A float. NaN constants must be the canonical NaN (verifier rule); equality of constants
    /// compares bits, so -0.0 and 0.0 are different constants.
    Float(f64),
    /// An immutable byte string (not necessarily UTF-8).
    Str(Box<[u8]>),
}

impl PartialEq for Constant {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Constant::Int(a), Constant::Int(b)) => a == b,
            (Constant::Float(a), Constant::Float(b)) => a.to_bits() == b.to_bits(),
            (Constant::Str(a), Constant::Str(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Constant {}

/// A class: fixed named fields and methods, with at most one superclass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    /// The class's name, unique in the module ([verify.class-name-unique]).
    pub name: String,
    /// Verified: precedes this class in the class table (so inheritance is acyclic).
    pub superclass: Option<ClassIdx>,
    /// The fields this class adds; its slots follow the superclass's slots.
    pub fields: Vec<String>,
    /// The methods this class defines or overrides.
    pub methods: Vec<Method>,
}

/// A method: a name bound to a function whose first parameter is the receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// The name a `send` looks up.
    pub name: String,
    /// The function that runs, the receiver in its register 0.
    pub func: FuncIdx,
}

/// A function: `arity` parameters arrive in registers `0..arity`; the frame has `regs` registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// The function's name, unique in the module ([verify.function-name-unique]): what calls
    /// in assembly text, traps and `--invoke` name it by.
    pub name: String,
    /// How many parameters it takes; a call or spawn passes exactly that many.
    pub arity: u32,
    /// The size of its frame: its registers are `0..regs` (verified: at least `arity`).
    pub regs: u32,
    /// Its instructions; a jump's [`crate::Label`] is an index into them.
    pub code: Vec<Instr>,
}

impl Module {
    /// All fields of `class`, inherited ones first: the slot order of its instances.
    /// Stops at a superclass index out of range or not preceding its subclass, so it is total
    /// on unverified modules too.
    pub fn all_fields(&self, class: ClassIdx) -> Vec<&str> {
        let mut chain = Vec::new();
        let mut cur = Some(class);
        while let Some(c) = cur {
            let Some(def) = self.classes.get(c.0 as usize) else { break };
            chain.push(def);
            cur = match def.superclass {
                Some(s) if s.0 < c.0 => Some(s),
                _ => None,
            };
        }
        chain.iter().rev().flat_map(|c| c.fields.iter().map(String::as_str)).collect()
    }

    /// The function named `name`, if any (the first one, in a module that repeats names).
    pub fn function_by_name(&self, name: &str) -> Option<FuncIdx> {
        self.functions.iter().position(|f| f.name == name).map(|i| FuncIdx(i as u32))
    }

    /// The class named `name`, if any (the first one, in a module that repeats names).
    pub fn class_by_name(&self, name: &str) -> Option<ClassIdx> {
        self.classes.iter().position(|c| c.name == name).map(|i| ClassIdx(i as u32))
    }
}
