//! Pass 2: turns the names left by [`super::parser`] into indices and builds the [`Module`].
//!
//! The constant pool is built here because its order depends on every declaration: the named
//! constants first, in declaration order, then each inline literal in order of first appearance,
//! reusing an equal entry when there is one. [text.const-pool]

use super::parser::{Ast, ClassDecl, ConstRef, FieldSel, FuncDecl, Lit, Name, Pending};
use super::{Assembly, Fail, Pos, SourceMap, Span};
use crate::instr::{ClassIdx, ConstIdx, FieldRef, FuncIdx, Instr, Label, Operand};
use crate::limits::MAX_CLASS_DEPTH;
use crate::module::{Class, Constant, Function, Method, Module};
use std::collections::HashMap;

/// A constant's identity for sharing pool entries: floats by bits, so `0.0` and `-0.0` differ.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Float(u64),
    Str(Vec<u8>),
}

fn key(c: &Constant) -> Key {
    match c {
        Constant::Int(v) => Key::Int(*v),
        Constant::Float(v) => Key::Float(v.to_bits()),
        Constant::Str(s) => Key::Str(s.to_vec()),
    }
}

fn constant(lit: &Lit) -> Constant {
    match lit {
        Lit::Int(v) => Constant::Int(*v),
        Lit::Float(v) => Constant::Float(*v),
        Lit::Str(s) => Constant::Str(s.clone().into_boxed_slice()),
    }
}

fn index_u32(n: usize, pos: Pos, what: &str) -> Result<u32, Fail> {
    u32::try_from(n).map_err(|_| Fail::new(pos, format!("too many {what}")))
}

struct Resolver<'a> {
    ast: &'a Ast<'a>,
    pool: Vec<Constant>,
    shared: HashMap<Key, u32>,
    /// Per class: the number of inherited fields, and its own fields by name.
    base: Vec<u32>,
    own_fields: Vec<HashMap<&'a str, u32>>,
    superclass: Vec<Option<u32>>,
    field_cache: HashMap<(u32, &'a str), Option<u32>>,
}

pub(super) fn resolve(mut ast: Ast<'_>) -> Result<Assembly, Fail> {
    // Each function's pending code is dropped once it is resolved, so that the pending and the
    // final form of all the code are never held at once.
    let funcs = std::mem::take(&mut ast.funcs);
    let mut r = Resolver {
        ast: &ast,
        pool: Vec::new(),
        shared: HashMap::new(),
        base: Vec::new(),
        own_fields: Vec::new(),
        superclass: Vec::new(),
        field_cache: HashMap::new(),
    };
    for decl in &ast.consts {
        let c = constant(&decl.value);
        let index = index_u32(r.pool.len(), decl.name.pos, "constants")?;
        r.shared.entry(key(&c)).or_insert(index);
        r.pool.push(c);
    }
    let classes = r.classes()?;
    let mut functions = Vec::with_capacity(funcs.len());
    let mut map = SourceMap {
        instructions: Vec::with_capacity(funcs.len()),
        functions: Vec::with_capacity(funcs.len()),
        classes: ast.classes.iter().map(|c| name_span(&c.name)).collect(),
    };
    for decl in funcs {
        let (function, spans) = r.function(&decl)?;
        functions.push(function);
        map.instructions.push(spans);
        map.functions.push(name_span(&decl.name));
    }
    let entry = r.entry()?;
    let module = Module { constants: r.pool, classes, functions, entry };
    Ok(Assembly { module, source_map: map })
}

fn name_span(name: &Name) -> Span {
    let width = u32::try_from(name.text.chars().count()).unwrap_or(u32::MAX);
    Span { line: name.pos.line, column: name.pos.col, width }
}

impl<'a> Resolver<'a> {
    fn func(&self, name: &Name) -> Result<FuncIdx, Fail> {
        match self.ast.func_index.get(name.text) {
            Some(&i) => Ok(FuncIdx(i)),
            None => Err(Fail::unknown(
                name.pos,
                format!("unknown function `{}`", name.text),
                name.text,
                "function",
                self.ast.func_index.keys().copied(),
            )),
        }
    }

    fn class(&self, name: &Name) -> Result<u32, Fail> {
        match self.ast.class_index.get(name.text) {
            Some(&i) => Ok(i),
            None => Err(Fail::unknown(
                name.pos,
                format!("unknown class `{}`", name.text),
                name.text,
                "class",
                self.ast.class_index.keys().copied(),
            )),
        }
    }

    /// `entry NAME`, else the function named `main`. [text.entry]
    fn entry(&self) -> Result<FuncIdx, Fail> {
        match &self.ast.entry {
            Some(name) => self.func(name),
            None => self.ast.func_index.get("main").map(|&i| FuncIdx(i)).ok_or_else(|| {
                Fail::new(
                    Pos { line: 1, col: 1 },
                    "no entry function: write `entry NAME` or define a function named `main`",
                )
            }),
        }
    }

    fn classes(&mut self) -> Result<Vec<Class>, Fail> {
        let decls: &'a [ClassDecl<'a>] = &self.ast.classes;
        for decl in decls {
            let sup = decl.superclass.as_ref().map(|s| self.class(s)).transpose()?;
            self.superclass.push(sup);
            self.own_fields.push(decl.fields.iter().enumerate().map(|(i, f)| (f.text, i as u32)).collect());
        }
        self.check_chains(decls)?;
        self.check_inherited_fields(decls)?;
        let mut out = Vec::with_capacity(decls.len());
        for (decl, sup) in decls.iter().zip(&self.superclass) {
            let mut methods = Vec::with_capacity(decl.methods.len());
            for (name, func) in &decl.methods {
                methods.push(Method { name: name.text.to_string(), func: self.func(func)? });
            }
            out.push(Class {
                name: decl.name.text.to_string(),
                superclass: sup.map(ClassIdx),
                fields: decl.fields.iter().map(|f| f.text.to_string()).collect(),
                methods,
            });
        }
        Ok(out)
    }

    /// Rejects inheritance cycles and chains longer than `MAX_CLASS_DEPTH`, and counts each
    /// class's inherited fields, in time linear in the number of classes. [text.class]
    ///
    /// The depth limit is a verifier rule, checked here as well because field names are looked
    /// up along the chain ([text.field-operand]): a chain of n classes with a field operand per
    /// class would cost n^2 lookups, for a module the verifier rejects anyway. With it, each
    /// lookup walks at most `MAX_CLASS_DEPTH` classes.
    fn check_chains(&mut self, decls: &[ClassDecl<'a>]) -> Result<(), Fail> {
        const TODO: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let n = decls.len();
        let mut state = vec![TODO; n];
        self.base = vec![0; n];
        let mut depth = vec![0u32; n];
        for start in 0..n {
            let mut path = Vec::new();
            let mut cur = Some(start);
            while let Some(c) = cur {
                match state.get(c).copied() {
                    Some(TODO) => {
                        state[c] = ON_PATH;
                        path.push(c);
                        cur = self.superclass.get(c).copied().flatten().map(|s| s as usize);
                    }
                    Some(ON_PATH) => {
                        let name = &decls[c].name;
                        return Err(Fail::new(name.pos, format!("class `{}` inherits from itself", name.text)));
                    }
                    _ => break,
                }
            }
            for &c in path.iter().rev() {
                state[c] = DONE;
                (self.base[c], depth[c]) = match self.superclass[c] {
                    Some(s) => {
                        let s = s as usize;
                        (self.base[s].saturating_add(decls[s].fields.len() as u32), depth[s].saturating_add(1))
                    }
                    None => (0, 1),
                };
            }
        }
        // The first too deep class in file order, so that the error does not depend on the
        // order the chains were walked in.
        if let Some(c) = depth.iter().position(|&d| d > MAX_CLASS_DEPTH) {
            let name = &decls[c].name;
            return Err(Fail::new(
                name.pos,
                format!(
                    "class `{}` has {} classes in its superclass chain (itself included), at most \
                     {MAX_CLASS_DEPTH} are allowed",
                    name.text, depth[c]
                ),
            ));
        }
        Ok(())
    }

    /// Rejects a field whose name an ancestor of its class already declares, at the field's
    /// declaration, the first in file order. [text.class]
    ///
    /// The verifier rejects such a module too ([verify.field-unique]), but from the module it
    /// can only point at the class; here the error is at the field itself. Each field walks at
    /// most `MAX_CLASS_DEPTH - 1` ancestors (chains are checked first), so this stays linear.
    fn check_inherited_fields(&self, decls: &[ClassDecl<'a>]) -> Result<(), Fail> {
        for (c, decl) in decls.iter().enumerate() {
            for field in &decl.fields {
                let mut cur = self.superclass[c];
                while let Some(s) = cur {
                    let s = s as usize;
                    if self.own_fields[s].contains_key(field.text) {
                        let message = format!(
                            "class `{}` declares field `{}`, which it already inherits from `{}`",
                            decl.name.text, field.text, decls[s].name.text
                        );
                        let help = format!(
                            "a field name may appear once along a superclass chain, so that `{}.{}` names one \
                             field: rename this one",
                            decl.name.text, field.text
                        );
                        return Err(Fail { pos: field.pos, message, help: Some(help) });
                    }
                    cur = self.superclass[s];
                }
            }
        }
        Ok(())
    }

    /// The slot of field `name` seen from `class`: the class in its chain that declares it (at
    /// most one does, [text.class]). [text.field-operand]
    fn field_slot(&mut self, class: u32, name: &'a str) -> Option<u32> {
        if let Some(&slot) = self.field_cache.get(&(class, name)) {
            return slot;
        }
        let mut cur = Some(class);
        let mut slot = None;
        // Chains are acyclic and at most `MAX_CLASS_DEPTH` long (checked), so this ends soon.
        while let Some(c) = cur {
            if let Some(i) = self.own_fields.get(c as usize).and_then(|m| m.get(name)) {
                slot = Some(self.base[c as usize].saturating_add(*i));
                break;
            }
            cur = self.superclass.get(c as usize).copied().flatten();
        }
        self.field_cache.insert((class, name), slot);
        slot
    }

    fn field(&mut self, class_name: &Name<'a>, sel: &FieldSel<'a>) -> Result<FieldRef, Fail> {
        let class = self.class(class_name)?;
        let slot = match sel {
            FieldSel::Name(field) => self.field_slot(class, field.text).ok_or_else(|| {
                let message = format!("class `{}` has no field `{}`", class_name.text, field.text);
                Fail::unknown(field.pos, message, field.text, "field", self.chain_fields(class))
            })?,
            FieldSel::Slot(slot, pos) => {
                let c = class as usize;
                let count = self.base[c].saturating_add(self.ast.classes[c].fields.len() as u32);
                if *slot >= count {
                    return Err(Fail::new(
                        *pos,
                        format!("field slot {slot} is out of range: class `{}` has {count} fields", class_name.text),
                    ));
                }
                *slot
            }
        };
        Ok(FieldRef { class: ClassIdx(class), slot })
    }

    /// The pool index of a constant operand; `string` demands a string constant.
    fn constant(&mut self, r: &ConstRef, pos: Pos, string: bool) -> Result<ConstIdx, Fail> {
        let index = match r {
            ConstRef::Named(name) => {
                let &i = self.ast.const_index.get(name.text).ok_or_else(|| {
                    let message = format!("unknown constant `{}`", name.text);
                    Fail::unknown(name.pos, message, name.text, "constant", self.ast.const_index.keys().copied())
                })?;
                if string && !matches!(self.pool.get(i as usize), Some(Constant::Str(_))) {
                    return Err(Fail::new(
                        name.pos,
                        format!("expected a string, but constant `{}` is a number", name.text),
                    ));
                }
                i
            }
            ConstRef::Lit(lit) => {
                let c = constant(lit);
                if string && !matches!(c, Constant::Str(_)) {
                    return Err(Fail::new(pos, "expected a string"));
                }
                let k = key(&c);
                match self.shared.get(&k) {
                    Some(&i) => i,
                    None => {
                        let i = index_u32(self.pool.len(), pos, "constants")?;
                        self.shared.insert(k, i);
                        self.pool.push(c);
                        i
                    }
                }
            }
        };
        Ok(ConstIdx(index))
    }

    /// The names of every field of `class`, inherited ones included (the chain is at most
    /// `MAX_CLASS_DEPTH` long: checked before fields are resolved).
    fn chain_fields(&self, class: u32) -> Vec<&'a str> {
        let mut names = Vec::new();
        let mut cur = Some(class);
        while let Some(c) = cur {
            names.extend(self.own_fields.get(c as usize).into_iter().flat_map(|m| m.keys().copied()));
            cur = self.superclass.get(c as usize).copied().flatten();
        }
        names
    }

    fn function(&mut self, decl: &FuncDecl<'a>) -> Result<(Function, Vec<Span>), Fail> {
        let mut code = Vec::with_capacity(decl.code.len());
        let mut spans = Vec::with_capacity(decl.code.len());
        for instr in &decl.code {
            let mut operands = Vec::with_capacity(instr.operands.len());
            for p in &instr.operands {
                operands.push(match p {
                    Pending::Ready(op) => op.clone(),
                    Pending::Const(r, pos) => Operand::Const(self.constant(r, *pos, false)?),
                    Pending::Str(r, pos) => Operand::Str(self.constant(r, *pos, true)?),
                    Pending::Func(name) => Operand::Func(self.func(name)?),
                    Pending::Class(name) => Operand::Class(ClassIdx(self.class(name)?)),
                    Pending::Field(class, sel) => Operand::Field(self.field(class, sel)?),
                    Pending::Label(name) => match decl.labels.get(name.text) {
                        Some(&pc) => Operand::Label(Label(pc)),
                        None => {
                            return Err(Fail::unknown(
                                name.pos,
                                format!("unknown label `{}` in function `{}`", name.text, decl.name.text),
                                name.text,
                                "label",
                                decl.labels.keys().copied(),
                            ))
                        }
                    },
                });
            }
            // The parser followed the table's kinds, so this fails only on a bug.
            let built = Instr::from_operands(instr.opcode, operands)
                .map_err(|e| Fail::new(instr.pos, format!("internal error: {e}")))?;
            code.push(built);
            spans.push(Span { line: instr.pos.line, column: instr.pos.col, width: instr.width });
        }
        let function = Function { name: decl.name.text.to_string(), arity: decl.arity, regs: decl.regs, code };
        Ok((function, spans))
    }
}
