//! What compiled code knows about each register's kind before each op (a SmallInt, a
//! SmallFloat, or anything), and which registers keep their decoded float in an xmm register.
//!
//! The facts are about compiled code's own paths: a forward dataflow over the edges the
//! templates take from op to op, where an op's template establishes its result's kind because
//! it leaves before the op otherwise (a float add whose other operand is no SmallFloat, or whose
//! sum has no SmallFloat encoding, leaves, and the interpreter does it). Every other way into a
//! function's code (the interpreter resuming before an op, a return to the caller, the helper
//! continuing after a call or a `new`) goes through that op's *entry check*
//! (`x64.rs`), which tests each fact on the registers in memory and leaves before the op when one
//! fails, and loads the float homes. So a fact never has to hold of what the interpreter did,
//! and this module needs to know only what the templates write.
//!
//! The registers stay in memory as the interpreter has them (every template stores its result):
//! a *home* is a copy, never the only place of a value, so leaving compiled code never has
//! anything to write back.

use super::Guess;
use crate::code::{Op, Program};
use crate::value::{Value, TAG_FLOAT, TAG_INT, TAG_MASK};

/// What a register holds at an op, on every path of compiled code to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Any,
    Int,
    Float,
    /// An object that passed a field access's class test for this class (`x64.rs`,
    /// `object_of_class`: the class or one of its first subclasses).
    Object(u32),
    Array,
}

impl Kind {
    pub fn of_constant(v: Value) -> Kind {
        match v & TAG_MASK {
            TAG_INT => Kind::Int,
            TAG_FLOAT => Kind::Float,
            _ => Kind::Any,
        }
    }

    fn join(self, other: Kind) -> Kind {
        if self == other || mutant!(jit_kinds_join_keeps_first) {
            self
        } else {
            Kind::Any
        }
    }
}

/// The kind of an arithmetic op's result, which is also the template it gets
/// ([`arith_kind`]'s contract with `x64.rs`): the float template when an operand is known to
/// be a SmallFloat (the other is checked), the SmallInt one when an operand is a SmallInt,
/// else the template with both paths, whose result is either.
pub(super) fn arith_kind(a: Kind, b: Kind) -> Kind {
    if a == Kind::Float || b == Kind::Float {
        Kind::Float
    } else if a == Kind::Int || b == Kind::Int {
        Kind::Int
    } else {
        Kind::Any
    }
}

/// The most xmm registers that hold float homes (`xmm2` to `xmm15`; `xmm0` and `xmm1` are the
/// templates' scratch).
pub(super) const HOMES: usize = 14;
pub(super) const FIRST_HOME: u8 = 2;

/// Above this many (op, register) pairs a function is compiled without facts: the analysis
/// keeps one kind per pair.
const MAX_CELLS: usize = 1 << 22;

pub(super) struct Kinds {
    /// Per op, per register: the kind on entry to the op's code.
    pub at: Vec<Vec<Kind>>,
    /// Per register: its xmm home, if it has one.
    pub home: Vec<Option<u8>>,
    /// Per op: the kind an arithmetic op guesses its operands are (its tests of them then
    /// leave through the guess's own exit, `x64.rs`), or `Any` when it does not guess.
    pub guess: Vec<Kind>,
    /// Per op: whether compiled code's own paths reach it. One they do not (the jump of a fused
    /// comparison, `code::fuse`, which the fused op jumps over) has no facts, but the ops after
    /// it rely on facts its own path never established, so its way in from outside leaves at
    /// once (`x64.rs`, `entry_checks`): tier 2 leaves before such jumps.
    pub reached: Vec<bool>,
}

impl Kinds {
    pub fn of(&self, pc: usize, r: u16) -> Kind {
        self.at[pc][r as usize]
    }

    /// The template of arithmetic op `pc` on registers `a` and `b` ([`arith_kind`], or its
    /// guess when nothing is known of either operand), which is its result's kind.
    pub fn arith(&self, pc: usize, a: u16, b: u16) -> Kind {
        match arith_kind(self.of(pc, a), self.of(pc, b)) {
            Kind::Any => self.guess[pc],
            k => k,
        }
    }
}

/// The kind arithmetic op `op` takes as its template's when nothing is known of its operands:
/// SmallFloat or SmallInt as guessed (an integer division has no template of its own: no
/// guess), or none.
fn guessed(op: &Op, g: Guess) -> Kind {
    match (op, g) {
        (Op::Add { .. } | Op::Sub { .. } | Op::Mul { .. } | Op::Div { .. }, Guess::Float) => Kind::Float,
        (Op::Add { .. } | Op::Sub { .. } | Op::Mul { .. }, Guess::Int) => Kind::Int,
        _ => Kind::Any,
    }
}

/// The facts for function `func`, whose arithmetic ops guess as `guesses` says (one per op), and
/// whose register 0 is an object of `self_class` at its entry, if it has one
/// (`jit::self_classes`: the sends that know it enter past op 0's entry check, which tests it for
/// every other way in).
pub(super) fn analyse(prog: &Program, func: u32, guesses: &[Guess], self_class: Option<u32>) -> Kinds {
    let f = &prog.funcs[func as usize];
    let (n, regs) = (f.code.len(), f.regs as usize);
    if n.saturating_mul(regs) > MAX_CELLS || guesses.len() != n {
        return Kinds {
            at: vec![vec![Kind::Any; regs]; n],
            home: vec![None; regs],
            guess: vec![Kind::Any; n],
            reached: vec![true; n],
        };
    }
    let guessed: Vec<Kind> = f.code.iter().zip(guesses).map(|(op, &g)| guessed(op, g)).collect();
    let mut at: Vec<Option<Vec<Kind>>> = vec![None; n];
    // Op 0 is also the function's entry, where nothing is known but the receiver's class.
    let mut entry = vec![Kind::Any; regs];
    if let (Some(k), Some(r0)) = (self_class, entry.first_mut()) {
        *r0 = Kind::Object(k);
    }
    at[0] = Some(entry);
    let mut work = vec![0];
    while let Some(pc) = work.pop() {
        let mut st = at[pc].clone().expect("queued ops have a state");
        after(&f.code[pc], &mut st, guessed[pc]);
        for s in successors(&f.code[pc], pc).into_iter().flatten().filter(|&s| s < n) {
            let changed = match &mut at[s] {
                slot @ None => {
                    *slot = Some(st.clone());
                    true
                }
                Some(old) => {
                    let mut changed = false;
                    for (o, &k) in old.iter_mut().zip(&st) {
                        let j = o.join(k);
                        changed |= j != *o;
                        *o = j;
                    }
                    changed
                }
            };
            if changed {
                work.push(s);
            }
        }
    }
    let reached = at.iter().map(Option::is_some).collect();
    // Ops that compiled code never reaches but by their entry check: nothing known.
    let at: Vec<Vec<Kind>> = at.into_iter().map(|s| s.unwrap_or_else(|| vec![Kind::Any; regs])).collect();
    // Homes for the registers most often read as SmallFloats.
    let mut uses = vec![0u32; regs];
    for (pc, op) in f.code.iter().enumerate() {
        for r in float_reads(op) {
            if at[pc][r as usize] == Kind::Float {
                uses[r as usize] += 1;
            }
        }
    }
    let mut ranked: Vec<usize> = (0..regs).filter(|&r| uses[r] > 0).collect();
    ranked.sort_by_key(|&r| (std::cmp::Reverse(uses[r]), r));
    let mut home = vec![None; regs];
    for (i, &r) in ranked.iter().take(HOMES).enumerate() {
        home[r] = Some(FIRST_HOME + i as u8);
    }
    // An op guesses only where nothing is known of its operands.
    let guess = (0..n)
        .map(|pc| match f.code[pc] {
            Op::Add { a, b, .. } | Op::Sub { a, b, .. } | Op::Mul { a, b, .. } | Op::Div { a, b, .. }
                if arith_kind(at[pc][a as usize], at[pc][b as usize]) == Kind::Any =>
            {
                guessed[pc]
            }
            _ => Kind::Any,
        })
        .collect();
    Kinds { at, home, guess, reached }
}

/// The operands an op reads where a float home saves a load and a decode.
fn float_reads(op: &Op) -> Vec<u16> {
    match *op {
        Op::Add { a, b, .. }
        | Op::Sub { a, b, .. }
        | Op::Mul { a, b, .. }
        | Op::Div { a, b, .. }
        | Op::LtJmp { a, b, .. }
        | Op::LeJmp { a, b, .. }
        | Op::GtJmp { a, b, .. }
        | Op::GeJmp { a, b, .. }
        | Op::LtJmpBack { a, b, .. }
        | Op::LeJmpBack { a, b, .. }
        | Op::GtJmpBack { a, b, .. }
        | Op::GeJmpBack { a, b, .. } => vec![a, b],
        Op::Mov { s, .. } => vec![s],
        Op::Sqrt { a, .. } | Op::Neg { a, .. } => vec![a],
        _ => vec![],
    }
}

/// Where compiled code goes from op `pc`, besides leaving: the ops its template continues at,
/// and, for the ops after which compiled code continues through the next op's entry check (calls
/// and `new`), that op (whose facts the check then tests). More successors than the code takes
/// only weaken the facts.
fn successors(op: &Op, pc: usize) -> [Option<usize>; 2] {
    match *op {
        Op::Jmp { t } | Op::JmpBack { t } => [Some(t as usize), None],
        Op::JmpIf { t, .. } | Op::JmpIfNot { t, .. } | Op::JmpIfBack { t, .. } | Op::JmpIfNotBack { t, .. } => {
            [Some(t as usize), Some(pc + 1)]
        }
        Op::LtJmp { t, .. }
        | Op::LeJmp { t, .. }
        | Op::GtJmp { t, .. }
        | Op::GeJmp { t, .. }
        | Op::EqJmp { t, .. }
        | Op::NeJmp { t, .. }
        | Op::LtJmpBack { t, .. }
        | Op::LeJmpBack { t, .. }
        | Op::GtJmpBack { t, .. }
        | Op::GeJmpBack { t, .. }
        | Op::EqJmpBack { t, .. }
        | Op::NeJmpBack { t, .. } => [Some(t as usize), Some(pc + 2)],
        Op::LdAdd { .. } | Op::LdSub { .. } => [Some(pc + 2), None],
        Op::Ret { .. } | Op::Trap { .. } => [None, None],
        _ => [Some(pc + 1), None],
    }
}

/// The kinds after op `op`'s template, given `st` before it (and `guess`, what the op guesses
/// when nothing is known of its operands): what it writes, and what its checks make sure of. An
/// op this does not know may write anything: nothing is known after it.
fn after(op: &Op, st: &mut [Kind], guess: Kind) {
    let k = |r: u16| st[r as usize];
    let (d, kind) = match *op {
        Op::Nop
        | Op::Jmp { .. }
        | Op::JmpBack { .. }
        | Op::JmpIf { .. }
        | Op::JmpIfNot { .. }
        | Op::JmpIfBack { .. }
        | Op::JmpIfNotBack { .. }
        | Op::Print { .. }
        | Op::PrintLn { .. }
        | Op::Assert { .. } => return,
        Op::Mov { d, s } => (d, k(s)),
        Op::Ld { d, v } => (d, Kind::of_constant(v)),
        Op::Add { d, a, b } | Op::Sub { d, a, b } | Op::Mul { d, a, b } | Op::Div { d, a, b } => (
            d,
            match arith_kind(k(a), k(b)) {
                Kind::Any => guess,
                known => known,
            },
        ),
        Op::Neg { d, a } => (d, k(a)),
        Op::Rem { d, .. } | Op::Xor { d, .. } | Op::Shl { d, .. } | Op::Shr { d, .. } => (d, Kind::Int),
        // Field and array accesses test their object (and leave otherwise); the access's
        // result is written after the test, so `d` may be the object's own register.
        Op::GetF { d, o, class, .. } => {
            st[o as usize] = Kind::Object(class);
            (d, Kind::Any)
        }
        Op::SetF { o, class, .. } => (o, Kind::Object(class)),
        Op::ALen { d, a } => {
            st[a as usize] = Kind::Array;
            (d, Kind::Int)
        }
        Op::AGet { d, a, .. } => {
            st[a as usize] = Kind::Array;
            (d, Kind::Any)
        }
        Op::ASet { a, .. } => (a, Kind::Array),
        // A new object passes its class's field test. (An inline `new` keeps every register
        // and home; one through the helper continues at the next op's entry check.)
        Op::New { d, class } => (d, Kind::Object(class)),
        // Compiled code continues after these through the next op's entry check, and a check
        // on every return would cost more than the facts save: nothing is known after them.
        Op::Call { .. } | Op::CallV { .. } | Op::Send { .. } => {
            st.fill(Kind::Any);
            return;
        }
        Op::Sqrt { d, .. } | Op::IToF { d, .. } => (d, Kind::Float),
        Op::LdAdd { t, d, k: c, .. } | Op::LdSub { t, d, k: c, .. } => {
            st[t as usize] = Kind::of_constant(c);
            (d, Kind::Int)
        }
        Op::And { d, .. }
        | Op::Or { d, .. }
        | Op::Not { d, .. }
        | Op::UShr { d, .. }
        | Op::Eq { d, .. }
        | Op::Ne { d, .. }
        | Op::Lt { d, .. }
        | Op::Le { d, .. }
        | Op::Gt { d, .. }
        | Op::Ge { d, .. }
        | Op::FToI { d, .. }
        | Op::TypeOf { d, .. }
        | Op::InstanceOf { d, .. }
        | Op::ANew { d, .. }
        | Op::Concat { d, .. }
        | Op::SLen { d, .. }
        | Op::ToStr { d, .. }
        | Op::SToI { d, .. }
        | Op::SToF { d, .. }
        | Op::Spawn { d, .. }
        | Op::Join { d, .. }
        | Op::LtJmp { d, .. }
        | Op::LeJmp { d, .. }
        | Op::GtJmp { d, .. }
        | Op::GeJmp { d, .. }
        | Op::EqJmp { d, .. }
        | Op::NeJmp { d, .. }
        | Op::LtJmpBack { d, .. }
        | Op::LeJmpBack { d, .. }
        | Op::GtJmpBack { d, .. }
        | Op::GeJmpBack { d, .. }
        | Op::EqJmpBack { d, .. }
        | Op::NeJmpBack { d, .. } => (d, Kind::Any),
        _ => {
            st.fill(Kind::Any);
            return;
        }
    };
    st[d as usize] = kind;
}
