//! Pre-decoding: a verified module turned into the engine's compact form once, before running.
//!
//! Every [`Instr`] becomes one 16-byte [`Op`] with register numbers as `u16`, jumps split into
//! forward and backward variants (so fuel and segment accounting cost nothing on forward jumps),
//! constants materialised as ready [`Value`]s (heap constants are allocated once and rooted for
//! the whole run, so their words can be embedded), argument lists moved to one shared pool,
//! method names interned as selector numbers, and each `send` given its inline-cache site. The
//! interpreter therefore never hashes, allocates or compares strings to dispatch. Rejected
//! alternative: threading `Instr` directly, whose boxed argument lists and 40-byte size cost a
//! pointer chase and cache misses per instruction.

use crate::heap::{Heap, OutOfMemory};
use crate::value::{bool_value, encode_float, func_value, small_int, Value, FALSE, NIL, TRUE};
use lockstep_spec::{Constant, Instr, Module, VerifiedModule};
use std::collections::HashMap;

/// A pre-decoded instruction. Register operands are frame-relative indices the verifier bounded
/// by the frame size [verify.reg-range]; `args` index [`Program::arg_pool`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Nop,
    Mov { d: u16, s: u16 },
    Ld { d: u16, v: Value },
    Add { d: u16, a: u16, b: u16 },
    Sub { d: u16, a: u16, b: u16 },
    Mul { d: u16, a: u16, b: u16 },
    Div { d: u16, a: u16, b: u16 },
    Rem { d: u16, a: u16, b: u16 },
    Neg { d: u16, a: u16 },
    Sqrt { d: u16, a: u16 },
    And { d: u16, a: u16, b: u16 },
    Or { d: u16, a: u16, b: u16 },
    Xor { d: u16, a: u16, b: u16 },
    Not { d: u16, a: u16 },
    Shl { d: u16, a: u16, b: u16 },
    Shr { d: u16, a: u16, b: u16 },
    UShr { d: u16, a: u16, b: u16 },
    Eq { d: u16, a: u16, b: u16 },
    Ne { d: u16, a: u16, b: u16 },
    Lt { d: u16, a: u16, b: u16 },
    Le { d: u16, a: u16, b: u16 },
    Gt { d: u16, a: u16, b: u16 },
    Ge { d: u16, a: u16, b: u16 },
    IToF { d: u16, a: u16 },
    FToI { d: u16, a: u16 },
    TypeOf { d: u16, a: u16 },
    Jmp { t: u32 },
    JmpBack { t: u32 },
    JmpIf { c: u16, t: u32 },
    JmpIfBack { c: u16, t: u32 },
    JmpIfNot { c: u16, t: u32 },
    JmpIfNotBack { c: u16, t: u32 },
    Call { d: u16, argc: u16, f: u32, args: u32 },
    CallV { d: u16, callee: u16, argc: u16, args: u32 },
    Ret { s: u16 },
    New { d: u16, class: u32 },
    GetF { d: u16, o: u16, slot: u16, class: u32 },
    SetF { o: u16, s: u16, slot: u16, class: u32 },
    Send { d: u16, recv: u16, argc: u16, site: u32, args: u32 },
    InstanceOf { d: u16, o: u16, class: u32 },
    ANew { d: u16, len: u16 },
    AGet { d: u16, a: u16, i: u16 },
    ASet { a: u16, i: u16, s: u16 },
    ALen { d: u16, a: u16 },
    APush { a: u16, s: u16 },
    Concat { d: u16, a: u16, b: u16 },
    SLen { d: u16, s: u16 },
    ToStr { d: u16, a: u16 },
    SToI { d: u16, s: u16 },
    SToF { d: u16, s: u16 },
    Print { s: u16 },
    PrintLn { s: u16 },
    Spawn { d: u16, argc: u16, f: u32, args: u32 },
    Join { d: u16, t: u16 },
    AtomicBegin,
    AtomicEnd,
    Yield,
    Trap { msg: u32 },
    Assert { c: u16, msg: u32 },
    // Superinstructions (see [`fuse`]): a comparison into `d` fused with the conditional jump
    // after it, which tests `d` and jumps to `t` when `d == on`. The jump instruction itself
    // stays at the next index (other jumps may target it); the fused op does the work of both
    // and continues after the jump. `...Back` variants carry the backward jump's accounting.
    LtJmp { d: u16, a: u16, b: u16, t: u32, on: bool },
    LeJmp { d: u16, a: u16, b: u16, t: u32, on: bool },
    GtJmp { d: u16, a: u16, b: u16, t: u32, on: bool },
    GeJmp { d: u16, a: u16, b: u16, t: u32, on: bool },
    EqJmp { d: u16, a: u16, b: u16, t: u32, on: bool },
    NeJmp { d: u16, a: u16, b: u16, t: u32, on: bool },
    LtJmpBack { d: u16, a: u16, b: u16, t: u32, on: bool },
    LeJmpBack { d: u16, a: u16, b: u16, t: u32, on: bool },
    GtJmpBack { d: u16, a: u16, b: u16, t: u32, on: bool },
    GeJmpBack { d: u16, a: u16, b: u16, t: u32, on: bool },
    EqJmpBack { d: u16, a: u16, b: u16, t: u32, on: bool },
    NeJmpBack { d: u16, a: u16, b: u16, t: u32, on: bool },
    // A SmallInt constant loaded into `t` and added to / subtracted from `a` by the next
    // instruction (`ldi t, K` then `add d, a, t`): both done here, the arithmetic located (for a
    // trap) at its own index, which keeps its own op.
    LdAdd { t: u16, d: u16, a: u16, k: Value },
    LdSub { t: u16, d: u16, a: u16, k: Value },
}

/// Fuses each comparison that a conditional jump on its result register immediately follows
/// into one superinstruction at the comparison's index. Loops and conditionals compile to this
/// pair almost always; fusing saves a dispatch and a register round trip. The jump stays at
/// its own index, so a jump to it, a trap at it (fuel) and saved pcs mean what they meant.
pub fn fuse(code: &mut [Op]) {
    for pc in 0..code.len().saturating_sub(1) {
        if let Op::Ld { d: t, v: k } = code[pc] {
            let fused = match code[pc + 1] {
                Op::Add { d, a, b } if b == t && a != t && crate::value::is_small_int(k) => Op::LdAdd { t, d, a, k },
                Op::Sub { d, a, b } if b == t && a != t && crate::value::is_small_int(k) => Op::LdSub { t, d, a, k },
                _ => continue,
            };
            code[pc] = fused;
            continue;
        }
        let (c, t, on, back) = match code[pc + 1] {
            Op::JmpIf { c, t } => (c, t, true, false),
            Op::JmpIfBack { c, t } => (c, t, true, true),
            Op::JmpIfNot { c, t } => (c, t, false, false),
            Op::JmpIfNotBack { c, t } => (c, t, false, true),
            _ => continue,
        };
        let fused = match (code[pc], back) {
            (Op::Lt { d, a, b }, false) if d == c => Op::LtJmp { d, a, b, t, on },
            (Op::Le { d, a, b }, false) if d == c => Op::LeJmp { d, a, b, t, on },
            (Op::Gt { d, a, b }, false) if d == c => Op::GtJmp { d, a, b, t, on },
            (Op::Ge { d, a, b }, false) if d == c => Op::GeJmp { d, a, b, t, on },
            (Op::Eq { d, a, b }, false) if d == c => Op::EqJmp { d, a, b, t, on },
            (Op::Ne { d, a, b }, false) if d == c => Op::NeJmp { d, a, b, t, on },
            (Op::Lt { d, a, b }, true) if d == c => Op::LtJmpBack { d, a, b, t, on },
            (Op::Le { d, a, b }, true) if d == c => Op::LeJmpBack { d, a, b, t, on },
            (Op::Gt { d, a, b }, true) if d == c => Op::GtJmpBack { d, a, b, t, on },
            (Op::Ge { d, a, b }, true) if d == c => Op::GeJmpBack { d, a, b, t, on },
            (Op::Eq { d, a, b }, true) if d == c => Op::EqJmpBack { d, a, b, t, on },
            (Op::Ne { d, a, b }, true) if d == c => Op::NeJmpBack { d, a, b, t, on },
            _ => continue,
        };
        code[pc] = fused;
    }
}

/// A function in compact form.
pub struct Func {
    pub name: String,
    pub arity: u32,
    pub regs: u32,
    pub code: Vec<Op>,
}

/// A class in compact form.
pub struct ClassInfo {
    pub name: String,
    pub superclass: Option<u32>,
    /// Slots of an instance, inherited ones included. Not read (the collector uses
    /// [`Program::nfields`]), but removing it changes the struct's size and with it the code the
    /// interpreter's `is_subclass` compiles to: richards ran 1.5% more instructions (cachegrind).
    #[allow(dead_code)]
    pub nfields: u32,
    /// Methods this class defines, sorted by selector.
    pub methods: Vec<(u32, u32)>,
    /// The class's ancestors from the root down to itself (a Cohen display): `c` is a subclass
    /// of `t` iff `display.get(depth(t)) == Some(&t)`.
    pub display: Vec<u32>,
}

/// One `send` site: its selector.
pub struct SendSite {
    pub selector: u32,
}

/// The whole module in compact form, plus the rooted heap constants.
pub struct Program {
    pub funcs: Vec<Func>,
    pub classes: Vec<ClassInfo>,
    pub nfields: Vec<u32>,
    pub arg_pool: Vec<u16>,
    pub sites: Vec<SendSite>,
    /// Every heap value the code embeds: a GC root for the whole run.
    pub heap_constants: Vec<Value>,
    /// The message text of `trap` and `assert`, by constant index (lossy UTF-8 of the bytes).
    pub messages: HashMap<u32, String>,
    /// Each selector's method name, by selector number: for the detail of `no_such_method`
    /// and of a `send`'s arity mismatch ([exec.trap-detail]).
    pub method_names: Vec<Box<[u8]>>,
    pub entry: u32,
}

impl Program {
    /// Whether class `c` is `of` or a subclass of it (a Cohen display lookup, unchecked: it
    /// is on the path of every `getf`/`setf` on a subclass instance).
    ///
    /// # Safety
    /// Both are class indices of this program (below `classes.len()`): `of` an operand the
    /// verifier checked [verify.class-range], `c` the class of a live object, which `new`
    /// created with such an operand.
    #[inline]
    pub unsafe fn is_subclass(&self, c: u32, of: u32) -> bool {
        debug_assert!((c as usize) < self.classes.len() && (of as usize) < self.classes.len());
        // SAFETY: both indices are in range (the caller's contract); a display is never empty
        // (it ends with the class itself), so `len() - 1` does not wrap.
        unsafe {
            let depth = self.classes.get_unchecked(of as usize).display.len() - 1;
            self.classes.get_unchecked(c as usize).display.get(depth) == Some(&of)
        }
    }

    /// The method `selector` resolves to on class `c`, searching superclasses; the nearest
    /// definition wins.
    pub fn lookup(&self, mut c: u32, selector: u32) -> Option<u32> {
        loop {
            let class = &self.classes[c as usize];
            if let Ok(i) = class.methods.binary_search_by_key(&selector, |m| m.0) {
                return Some(class.methods[i].1);
            }
            c = class.superclass?;
        }
    }
}

fn const_value(heap: &mut Heap, roots: &mut Vec<Value>, k: &Constant) -> Result<Value, OutOfMemory> {
    let v = match k {
        Constant::Int(i) => match small_int(*i) {
            Some(v) => return Ok(v),
            None => heap.new_boxed_int(*i)?,
        },
        Constant::Float(f) => match encode_float(*f) {
            Some(v) => return Ok(v),
            None => heap.new_boxed_float(*f)?,
        },
        Constant::Str(s) => heap.new_string(s)?,
    };
    roots.push(v);
    Ok(v)
}

/// Pre-decodes `module`, allocating its heap constants in `heap`. Taking a [`VerifiedModule`]
/// (only the verifier makes one) is what lets the interpreter index the result unchecked.
pub fn predecode(module: &VerifiedModule, heap: &mut Heap) -> Result<Program, OutOfMemory> {
    let mut heap_constants = Vec::new();
    let mut consts = Vec::with_capacity(module.constants.len());
    for k in &module.constants {
        consts.push(const_value(heap, &mut heap_constants, k)?);
    }
    let mut selectors: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut intern = |name: &[u8]| -> u32 {
        let n = selectors.len() as u32;
        *selectors.entry(name.to_vec()).or_insert(n)
    };

    let mut classes: Vec<ClassInfo> = Vec::with_capacity(module.classes.len());
    let mut nfields = Vec::with_capacity(module.classes.len());
    for (i, c) in module.classes.iter().enumerate() {
        let mut methods: Vec<(u32, u32)> = c.methods.iter().map(|m| (intern(m.name.as_bytes()), m.func.0)).collect();
        // Should a class list a name twice, the first definition wins, as a linear search would.
        methods.sort_by_key(|m| m.0);
        methods.dedup_by_key(|m| m.0);
        // [verify.superclass]: a superclass precedes its subclass, so its display is ready.
        let mut display = match c.superclass {
            Some(s) => classes[s.0 as usize].display.clone(),
            None => Vec::new(),
        };
        display.push(i as u32);
        let n = module.all_fields(lockstep_spec::ClassIdx(i as u32)).len() as u32;
        nfields.push(n);
        classes.push(ClassInfo {
            name: c.name.clone(),
            superclass: c.superclass.map(|s| s.0),
            nfields: n,
            methods,
            display,
        });
    }

    let mut arg_pool: Vec<u16> = Vec::new();
    let mut sites = Vec::new();
    let mut messages = HashMap::new();
    let mut funcs = Vec::with_capacity(module.functions.len());
    for f in &module.functions {
        let mut code = Vec::with_capacity(f.code.len());
        for (pc, instr) in f.code.iter().enumerate() {
            let mut args = |regs: &[lockstep_spec::Reg]| -> (u16, u32) {
                let at = arg_pool.len() as u32;
                arg_pool.extend(regs.iter().map(|r| r.0));
                (regs.len() as u16, at)
            };
            let back = |t: u32| t as usize <= pc;
            use Instr as I;
            let op = match instr {
                I::Nop {} => Op::Nop,
                I::Mov { dst, src } => Op::Mov { d: dst.0, s: src.0 },
                I::LdNil { dst } => Op::Ld { d: dst.0, v: NIL },
                I::LdTrue { dst } => Op::Ld { d: dst.0, v: TRUE },
                I::LdFalse { dst } => Op::Ld { d: dst.0, v: FALSE },
                I::LdI { dst, value } => {
                    let v = const_value(heap, &mut heap_constants, &Constant::Int(*value))?;
                    Op::Ld { d: dst.0, v }
                }
                I::LdK { dst, k } => Op::Ld { d: dst.0, v: consts[k.0 as usize] },
                I::LdFn { dst, func } => Op::Ld { d: dst.0, v: func_value(func.0) },
                I::Add { dst, a, b } => Op::Add { d: dst.0, a: a.0, b: b.0 },
                I::Sub { dst, a, b } => Op::Sub { d: dst.0, a: a.0, b: b.0 },
                I::Mul { dst, a, b } => Op::Mul { d: dst.0, a: a.0, b: b.0 },
                I::Div { dst, a, b } => Op::Div { d: dst.0, a: a.0, b: b.0 },
                I::Rem { dst, a, b } => Op::Rem { d: dst.0, a: a.0, b: b.0 },
                I::Neg { dst, a } => Op::Neg { d: dst.0, a: a.0 },
                I::Sqrt { dst, a } => Op::Sqrt { d: dst.0, a: a.0 },
                I::And { dst, a, b } => Op::And { d: dst.0, a: a.0, b: b.0 },
                I::Or { dst, a, b } => Op::Or { d: dst.0, a: a.0, b: b.0 },
                I::Xor { dst, a, b } => Op::Xor { d: dst.0, a: a.0, b: b.0 },
                I::Not { dst, a } => Op::Not { d: dst.0, a: a.0 },
                I::Shl { dst, a, b } => Op::Shl { d: dst.0, a: a.0, b: b.0 },
                I::Shr { dst, a, b } => Op::Shr { d: dst.0, a: a.0, b: b.0 },
                I::UShr { dst, a, b } => Op::UShr { d: dst.0, a: a.0, b: b.0 },
                I::Eq { dst, a, b } => Op::Eq { d: dst.0, a: a.0, b: b.0 },
                I::Ne { dst, a, b } => Op::Ne { d: dst.0, a: a.0, b: b.0 },
                I::Lt { dst, a, b } => Op::Lt { d: dst.0, a: a.0, b: b.0 },
                I::Le { dst, a, b } => Op::Le { d: dst.0, a: a.0, b: b.0 },
                I::Gt { dst, a, b } => Op::Gt { d: dst.0, a: a.0, b: b.0 },
                I::Ge { dst, a, b } => Op::Ge { d: dst.0, a: a.0, b: b.0 },
                I::IToF { dst, a } => Op::IToF { d: dst.0, a: a.0 },
                I::FToI { dst, a } => Op::FToI { d: dst.0, a: a.0 },
                I::TypeOf { dst, a } => Op::TypeOf { d: dst.0, a: a.0 },
                I::Jmp { target } => {
                    if back(target.0) {
                        Op::JmpBack { t: target.0 }
                    } else {
                        Op::Jmp { t: target.0 }
                    }
                }
                I::JmpIf { cond, target } => {
                    if back(target.0) {
                        Op::JmpIfBack { c: cond.0, t: target.0 }
                    } else {
                        Op::JmpIf { c: cond.0, t: target.0 }
                    }
                }
                I::JmpIfNot { cond, target } => {
                    if back(target.0) {
                        Op::JmpIfNotBack { c: cond.0, t: target.0 }
                    } else {
                        Op::JmpIfNot { c: cond.0, t: target.0 }
                    }
                }
                I::Call { dst, func, args: a } => {
                    let (argc, args) = args(a);
                    Op::Call { d: dst.0, argc, f: func.0, args }
                }
                I::CallV { dst, callee, args: a } => {
                    let (argc, args) = args(a);
                    Op::CallV { d: dst.0, callee: callee.0, argc, args }
                }
                I::Ret { src } => Op::Ret { s: src.0 },
                I::New { dst, class } => Op::New { d: dst.0, class: class.0 },
                I::GetF { dst, obj, field } => {
                    Op::GetF { d: dst.0, o: obj.0, slot: field.slot as u16, class: field.class.0 }
                }
                I::SetF { obj, field, src } => {
                    Op::SetF { o: obj.0, s: src.0, slot: field.slot as u16, class: field.class.0 }
                }
                I::Send { dst, recv, name, args: a } => {
                    let (argc, args) = args(a);
                    let selector = match &module.constants[name.0 as usize] {
                        Constant::Str(s) => intern(s),
                        // [verify.str-const]: a Str operand names a string constant.
                        _ => u32::MAX,
                    };
                    let site = sites.len() as u32;
                    sites.push(SendSite { selector });
                    Op::Send { d: dst.0, recv: recv.0, argc, site, args }
                }
                I::InstanceOf { dst, obj, class } => Op::InstanceOf { d: dst.0, o: obj.0, class: class.0 },
                I::ANew { dst, len } => Op::ANew { d: dst.0, len: len.0 },
                I::AGet { dst, arr, idx } => Op::AGet { d: dst.0, a: arr.0, i: idx.0 },
                I::ASet { arr, idx, src } => Op::ASet { a: arr.0, i: idx.0, s: src.0 },
                I::ALen { dst, arr } => Op::ALen { d: dst.0, a: arr.0 },
                I::APush { arr, src } => Op::APush { a: arr.0, s: src.0 },
                I::Concat { dst, a, b } => Op::Concat { d: dst.0, a: a.0, b: b.0 },
                I::SLen { dst, s } => Op::SLen { d: dst.0, s: s.0 },
                I::ToStr { dst, a } => Op::ToStr { d: dst.0, a: a.0 },
                I::SToI { dst, s } => Op::SToI { d: dst.0, s: s.0 },
                I::SToF { dst, s } => Op::SToF { d: dst.0, s: s.0 },
                I::Print { src } => Op::Print { s: src.0 },
                I::PrintLn { src } => Op::PrintLn { s: src.0 },
                I::Spawn { dst, func, args: a } => {
                    let (argc, args) = args(a);
                    Op::Spawn { d: dst.0, argc, f: func.0, args }
                }
                I::Join { dst, thread } => Op::Join { d: dst.0, t: thread.0 },
                I::AtomicBegin {} => Op::AtomicBegin,
                I::AtomicEnd {} => Op::AtomicEnd,
                I::Yield {} => Op::Yield,
                I::Trap { msg } => {
                    messages.entry(msg.0).or_insert_with(|| message_text(module, msg.0));
                    Op::Trap { msg: msg.0 }
                }
                I::Assert { cond, msg } => {
                    messages.entry(msg.0).or_insert_with(|| message_text(module, msg.0));
                    Op::Assert { c: cond.0, msg: msg.0 }
                }
            };
            code.push(op);
        }
        fuse(&mut code);
        funcs.push(Func { name: f.name.clone(), arity: f.arity, regs: f.regs, code });
    }
    let _ = bool_value; // (kept in scope for symmetry with the interpreter's constructors)
    let mut method_names = vec![Box::default(); selectors.len()];
    for (name, selector) in selectors {
        method_names[selector as usize] = name.into_boxed_slice();
    }
    Ok(Program {
        funcs,
        classes,
        nfields,
        arg_pool,
        sites,
        heap_constants,
        messages,
        method_names,
        entry: module.entry.0,
    })
}

fn message_text(module: &Module, k: u32) -> String {
    match module.constants.get(k as usize) {
        Some(Constant::Str(s)) => String::from_utf8_lossy(s).into_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_stay_sixteen_bytes() {
        assert!(std::mem::size_of::<Op>() <= 16, "{}", std::mem::size_of::<Op>());
    }
}
