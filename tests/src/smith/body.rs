//! Function bodies: a typed register file, a prologue that gives every register a value of its
//! type, then random statements (single instructions chosen from the swarm's families, if/else,
//! counted loops, atomic blocks, shared counters), then the epilogue.
//!
//! Labels are symbolic while a body is written and resolved at the end, so a statement can jump
//! over code that does not exist yet.

use super::plan::{Plan, Role, Ty, BASIC};
use super::rng::Rng;
use super::{family, Family, DENY};
use lockstep_spec::{
    Class, ClassIdx, ConstIdx, Constant, FieldRef, Flags, FuncIdx, Function, Instr, Label, Method, Module, Opcode,
    Operand, OperandKind, Reg,
};

/// Registers above this are not handed out: frames stay far below `MAX_REGS`.
const REG_CAP: u32 = 800;
/// Instructions above this end the body early.
const CODE_CAP: usize = 1500;
/// Deepest nesting of blocks.
const MAX_NEST: u32 = 5;

pub(crate) fn build(plan: &Plan, r: &mut Rng<'_, '_>) -> Module {
    let mut pool = Vec::new();
    let classes = plan
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| Class {
            name: format!("C{i}"),
            superclass: c.superclass.map(ClassIdx),
            fields: (0..c.own.len()).map(|j| format!("f{i}_{j}")).collect(),
            methods: c.methods.iter().map(|&(m, f)| Method { name: format!("m{m}"), func: FuncIdx(f) }).collect(),
        })
        .collect();
    let mut functions = Vec::with_capacity(plan.funcs.len());
    for me in 0..plan.funcs.len() {
        functions.push(FnGen::new(plan, &mut pool, r, me as u32).generate());
    }
    let mut module = Module { constants: pool, classes, functions, entry: FuncIdx(0) };
    canonical_pool(&mut module);
    module
}

/// Renumbers the constant pool in order of first use and drops unused entries, so that the
/// disassembly can write constants inline (the most readable form of a reproducer).
pub(crate) fn canonical_pool(module: &mut Module) {
    let old = std::mem::take(&mut module.constants);
    let mut map: Vec<Option<u32>> = vec![None; old.len()];
    for f in &mut module.functions {
        for instr in &mut f.code {
            let ops: Vec<Operand> = instr
                .operands()
                .into_iter()
                .map(|op| {
                    let remap = |k: ConstIdx, map: &mut Vec<Option<u32>>, new: &mut Vec<Constant>| {
                        let i = k.0 as usize;
                        let n = *map[i].get_or_insert_with(|| {
                            new.push(old[i].clone());
                            new.len() as u32 - 1
                        });
                        ConstIdx(n)
                    };
                    match op {
                        Operand::Const(k) => Operand::Const(remap(k, &mut map, &mut module.constants)),
                        Operand::Str(k) => Operand::Str(remap(k, &mut map, &mut module.constants)),
                        other => other,
                    }
                })
                .collect();
            *instr = mk(instr.opcode(), ops);
        }
    }
}

/// Builds an instruction from operands this module chose to match the table.
fn mk(op: Opcode, operands: Vec<Operand>) -> Instr {
    Instr::from_operands(op, operands).unwrap_or_else(|e| panic!("smith built a malformed instruction: {e}"))
}

fn reg(r: Reg) -> Operand {
    Operand::Reg(r)
}

struct FnGen<'p, 'a, 'b> {
    plan: &'p Plan,
    pool: &'p mut Vec<Constant>,
    r: &'p mut Rng<'a, 'b>,
    me: u32,
    /// Types of registers `0..tys.len()`: parameters, then typed locals. Registers from
    /// `tys.len()` up to `next` are scratch registers owned by one pattern each.
    tys: Vec<Ty>,
    next: u32,
    code: Vec<Instr>,
    labels: Vec<Option<u32>>,
    fixups: Vec<(usize, usize)>,
    random_jumps: Vec<(usize, u64)>,
    loop_depth: u32,
    atomic_depth: u32,
    /// Nesting of blocks (if/else, loops, atomic blocks, skipped code).
    depth: u32,
    spawns_left: u32,
    /// Thread handles (register, result type) spawned in the current scope or an enclosing one.
    handles: Vec<(Reg, Ty)>,
    ops: Vec<Opcode>,
}

impl<'p, 'a, 'b> FnGen<'p, 'a, 'b> {
    fn new(plan: &'p Plan, pool: &'p mut Vec<Constant>, r: &'p mut Rng<'a, 'b>, me: u32) -> Self {
        let f = &plan.funcs[me as usize];
        let spawns_left = match f.role {
            _ if !plan.threads => 0,
            Role::Main => 4,
            Role::ThreadRoot => 2,
            _ => 0,
        };
        let ops = Opcode::ALL.iter().copied().filter(|op| plan.has(family(*op)) && !DENY.contains(op)).collect();
        FnGen {
            plan,
            pool,
            r,
            me,
            tys: f.params.clone(),
            next: 0,
            code: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
            random_jumps: Vec::new(),
            loop_depth: 0,
            atomic_depth: 0,
            depth: 0,
            spawns_left,
            handles: Vec::new(),
            ops,
        }
    }

    fn generate(mut self) -> Function {
        let f = &self.plan.funcs[self.me as usize];
        let (name, arity, role, ret) = (f.name.clone(), f.params.len() as u32, f.role, f.ret);
        self.declare_locals();
        self.next = self.tys.len() as u32;
        self.prologue();
        if role == Role::Recursive {
            self.recursion();
            return self.finish(name, arity);
        }
        let budget = match role {
            Role::Main => self.r.range(6, 40),
            Role::Method { .. } => self.r.range(1, 10),
            _ => self.r.range(2, 20),
        };
        if role == Role::Main && self.plan.threads {
            self.fork();
        }
        // Not `block`: handles spawned at the top level stay joinable at the end.
        for _ in 0..budget {
            if self.full() {
                break;
            }
            self.statement();
        }
        self.join_remaining();
        if role == Role::Main {
            self.observe();
        }
        let v = self.value_of(ret);
        self.emit(Instr::Ret { src: v });
        self.finish(name, arity)
    }

    fn finish(mut self, name: String, arity: u32) -> Function {
        for &(at, label) in &self.fixups {
            let pos = self.labels[label].unwrap_or(0);
            set_target(&mut self.code[at], pos);
        }
        let len = self.code.len() as u64;
        for &(at, draw) in &self.random_jumps {
            set_target(&mut self.code[at], (draw % len) as u32);
        }
        Function { name, arity, regs: self.next.max(arity), code: self.code }
    }

    // ---- registers --------------------------------------------------------------------------

    fn declare_locals(&mut self) {
        for &ty in BASIC {
            let n = if ty == Ty::Int { self.r.range(2, 4) } else { self.r.range(1, 2) };
            for _ in 0..n {
                self.tys.push(ty);
            }
        }
        for c in 0..self.plan.classes.len() as u32 {
            if self.r.chance(2, 3) {
                self.tys.push(Ty::Obj(c));
            }
        }
        for s in 0..self.plan.sigs.len() as u32 {
            if !self.callable_with_sig(s).is_empty() && self.r.chance(2, 3) {
                self.tys.push(Ty::Fn(s));
            }
        }
    }

    /// Helpers of signature `s` that this function may call (higher index).
    fn callable_with_sig(&self, s: u32) -> Vec<u32> {
        self.plan
            .funcs
            .iter()
            .enumerate()
            .filter(|(i, f)| *i as u32 > self.me && f.sig == Some(s))
            .map(|(i, _)| i as u32)
            .collect()
    }

    fn fresh(&mut self) -> Reg {
        let r = Reg(self.next as u16);
        self.next += 1;
        r
    }

    fn regs_where(&self, pred: impl Fn(Ty) -> bool) -> Vec<Reg> {
        self.tys.iter().enumerate().filter(|(_, t)| pred(**t)).map(|(i, _)| Reg(i as u16)).collect()
    }

    /// A register holding a value that fits `ty`, if any.
    fn src_of(&mut self, ty: Ty) -> Option<Reg> {
        let plan = self.plan;
        let regs = self.regs_where(|t| plan.fits(t, ty));
        self.r.pick(&regs)
    }

    /// A register to write a value of type `ty` into: one of exactly that type, sometimes an
    /// `Any` one, else a fresh scratch register.
    fn dst_of(&mut self, ty: Ty) -> Reg {
        if self.r.chance(1, 6) {
            if let Some(r) = self.any_dst() {
                return r;
            }
        }
        let regs = self.regs_where(|t| t == ty);
        match self.r.pick(&regs) {
            Some(r) => r,
            None => self.fresh(),
        }
    }

    fn any_dst(&mut self) -> Option<Reg> {
        let regs = self.regs_where(|t| t == Ty::Any);
        self.r.pick(&regs)
    }

    /// Any register of the typed file (every type may be read where anything is accepted).
    fn any_src(&mut self) -> Reg {
        let n = self.tys.len();
        if n == 0 {
            let r = self.fresh();
            self.emit(Instr::LdNil { dst: r });
            return r;
        }
        Reg(self.r.below(n) as u16)
    }

    /// A register holding a value of type `ty`: an existing one, or a fresh one loaded now.
    fn value_of(&mut self, ty: Ty) -> Reg {
        if let Some(r) = self.src_of(ty) {
            return r;
        }
        let r = self.fresh();
        self.load(r, ty);
        r
    }

    /// Loads a new value of type `ty` into `dst`.
    fn load(&mut self, dst: Reg, ty: Ty) {
        match ty {
            Ty::Int => {
                if self.r.chance(1, 2) {
                    let value = self.r.int();
                    self.emit(Instr::LdI { dst, value });
                } else {
                    let c = Constant::Int(self.r.int());
                    let k = self.konst(c);
                    self.emit(Instr::LdK { dst, k });
                }
            }
            Ty::Float => {
                let c = Constant::Float(self.r.float());
                let k = self.konst(c);
                self.emit(Instr::LdK { dst, k });
            }
            Ty::Bool => {
                let i = if self.r.chance(1, 2) { Instr::LdTrue { dst } } else { Instr::LdFalse { dst } };
                self.emit(i);
            }
            Ty::Str => {
                let s = self.r.string();
                let k = self.konst(Constant::Str(s.into()));
                self.emit(Instr::LdK { dst, k });
            }
            Ty::Arr => {
                let len = self.fresh();
                let value = self.r.range(0, 4) as i64;
                self.emit(Instr::LdI { dst: len, value });
                self.emit(Instr::ANew { dst, len });
                for _ in 0..self.r.below(3) {
                    let src = self.any_src();
                    self.emit(Instr::APush { arr: dst, src });
                }
            }
            Ty::Obj(c) => {
                let subs = self.plan.subclasses(c);
                let k = self.r.pick(&subs).unwrap_or(c);
                self.construct(dst, k);
            }
            Ty::Fn(s) => {
                let targets = self.callable_with_sig(s);
                match self.r.pick(&targets) {
                    Some(g) => self.emit(Instr::LdFn { dst, func: FuncIdx(g) }),
                    None => self.emit(Instr::LdNil { dst }),
                }
            }
            Ty::Any => {
                if !self.tys.is_empty() && self.r.chance(2, 3) {
                    let src = self.any_src();
                    self.emit(Instr::Mov { dst, src });
                } else {
                    self.emit(Instr::LdNil { dst });
                }
            }
        }
    }

    /// `new dst, K` and a value of its type in every field (so typed reads of fields see their
    /// type), unless chaos leaves some fields nil.
    fn construct(&mut self, dst: Reg, k: u32) {
        self.emit(Instr::New { dst, class: ClassIdx(k) });
        let all = self.plan.classes[k as usize].all.clone();
        for (slot, ty) in all.into_iter().enumerate() {
            if self.chaotic() {
                continue;
            }
            let src = self.value_of(ty);
            self.emit(Instr::SetF { obj: dst, field: FieldRef { class: ClassIdx(k), slot: slot as u32 }, src });
        }
    }

    fn konst(&mut self, c: Constant) -> ConstIdx {
        if let Some(i) = self.pool.iter().position(|k| *k == c) {
            return ConstIdx(i as u32);
        }
        self.pool.push(c);
        ConstIdx(self.pool.len() as u32 - 1)
    }

    fn str_const(&mut self, s: &[u8]) -> ConstIdx {
        self.konst(Constant::Str(s.into()))
    }

    fn chaotic(&mut self) -> bool {
        self.plan.chaos > 0 && self.r.chance(self.plan.chaos, 1000)
    }

    fn guarded(&mut self) -> bool {
        !(self.plan.unguarded > 0 && self.r.chance(self.plan.unguarded, 1000))
    }

    // ---- code and labels --------------------------------------------------------------------

    fn emit(&mut self, i: Instr) {
        self.code.push(i);
    }

    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn place(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len() as u32);
    }

    fn jump(&mut self, i: Instr, l: usize) {
        self.fixups.push((self.code.len(), l));
        self.emit(i);
    }

    fn full(&self) -> bool {
        self.next >= REG_CAP || self.code.len() >= CODE_CAP
    }

    // ---- prologue and epilogue --------------------------------------------------------------

    fn prologue(&mut self) {
        let arity = self.plan.funcs[self.me as usize].params.len();
        // Basic types first: objects' fields and `Any` copies read them.
        let mut order: Vec<usize> = (arity..self.tys.len()).collect();
        order.sort_by_key(|&i| match self.tys[i] {
            Ty::Obj(_) | Ty::Fn(_) => 1,
            Ty::Any => 2,
            _ => 0,
        });
        let saved = std::mem::take(&mut self.tys);
        // While loading, only already-initialised registers may be read.
        self.tys = saved[..arity].to_vec();
        let mut done: Vec<(usize, Ty)> = Vec::new();
        for i in order {
            let ty = saved[i];
            self.load(Reg(i as u16), ty);
            done.push((i, ty));
            // Rebuild the visible file: parameters and the registers loaded so far, each at
            // its own index (unloaded ones are hidden behind an impossible type).
            self.tys = saved
                .iter()
                .enumerate()
                .map(|(j, t)| if j < arity || done.iter().any(|d| d.0 == j) { *t } else { Ty::Fn(u32::MAX) })
                .collect();
        }
        self.tys = saved;
    }

    /// `rec(n)`: returns n when n <= 0, else recurses on n - 1.
    fn recursion(&mut self) {
        let (zero, c, one, n1, res) = (self.fresh(), self.fresh(), self.fresh(), self.fresh(), self.fresh());
        let deeper = self.label();
        self.emit(Instr::LdI { dst: zero, value: 0 });
        self.emit(Instr::Le { dst: c, a: Reg(0), b: zero });
        self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, deeper);
        self.emit(Instr::Ret { src: Reg(0) });
        self.place(deeper);
        self.emit(Instr::LdI { dst: one, value: 1 });
        self.emit(Instr::Sub { dst: n1, a: Reg(0), b: one });
        self.emit(Instr::Call { dst: res, func: FuncIdx(self.me), args: vec![n1].into() });
        let b = self.r.range(0, 3);
        self.block(b);
        self.emit(Instr::Add { dst: res, a: res, b: Reg(0) });
        self.emit(Instr::Ret { src: res });
    }

    /// Main with threads: spawn workers that share this function's objects and arrays.
    fn fork(&mut self) {
        let n = self.r.range(1, 3);
        for _ in 0..n {
            self.spawn();
        }
    }

    fn join_remaining(&mut self) {
        let handles = self.handles.clone();
        for (h, ty) in handles {
            if self.r.chance(4, 5) {
                let dst = self.dst_of(ty);
                self.emit(Instr::Join { dst, thread: h });
            }
        }
    }

    /// Main's last words: print what the program computed, so that a wrong value shows.
    fn observe(&mut self) {
        let n = self.tys.len();
        for _ in 0..self.r.range(1, 4) {
            let src = Reg(self.r.below(n) as u16);
            match self.tys[src.0 as usize] {
                Ty::Obj(c) => {
                    let all = self.plan.classes[c as usize].all.len();
                    for slot in 0..all {
                        let dst = self.fresh();
                        self.emit(Instr::GetF {
                            dst,
                            obj: src,
                            field: FieldRef { class: ClassIdx(c), slot: slot as u32 },
                        });
                        self.emit(Instr::PrintLn { src: dst });
                    }
                }
                Ty::Arr => {
                    let dst = self.fresh();
                    self.emit(Instr::ALen { dst, arr: src });
                    self.emit(Instr::PrintLn { src: dst });
                }
                _ => self.emit(Instr::PrintLn { src }),
            }
        }
    }

    // ---- statements -------------------------------------------------------------------------

    fn block(&mut self, n: u64) {
        // Bounded nesting: short fuzz inputs run out, and an exhausted input makes the same
        // choice forever, which must not be "nest again".
        if self.depth >= MAX_NEST {
            return;
        }
        self.depth += 1;
        let saved = self.handles.len();
        for _ in 0..n {
            if self.full() {
                break;
            }
            self.statement();
        }
        self.handles.truncate(saved);
        self.depth -= 1;
    }

    fn statement(&mut self) {
        let control = self.plan.has(Family::Control);
        // 0 (what an exhausted input gives) is a single instruction.
        match self.r.below(16) {
            11 | 12 if control => self.if_else(),
            13 if control && self.loop_depth < 2 => self.counted_loop(),
            14 if self.plan.has(Family::Atomic) && self.atomic_depth < 3 => self.atomic_block(),
            15 if self.plan.threads => self.shared_counter(),
            _ => {
                for _ in 0..4 {
                    let Some(op) = self.r.pick(&self.ops) else { return };
                    if self.instruction(op) {
                        return;
                    }
                }
                self.emit(Instr::Nop {});
            }
        }
    }

    fn cond(&mut self) -> Reg {
        if self.r.chance(1, 2) {
            let a = self.value_of(Ty::Int);
            let b = self.value_of(Ty::Int);
            let c = self.fresh();
            self.emit(Instr::Lt { dst: c, a, b });
            c
        } else {
            self.value_of(Ty::Bool)
        }
    }

    fn if_else(&mut self) {
        let c = self.cond();
        let (els, end) = (self.label(), self.label());
        self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, els);
        let n = self.r.range(1, 4);
        self.block(n);
        self.jump(Instr::Jmp { target: Label(0) }, end);
        self.place(els);
        let n = self.r.range(0, 3);
        self.block(n);
        self.place(end);
    }

    fn counted_loop(&mut self) {
        let (count, one, zero, c) = (self.fresh(), self.fresh(), self.fresh(), self.fresh());
        let value = self.r.range(0, 6) as i64;
        self.emit(Instr::LdI { dst: count, value });
        self.emit(Instr::LdI { dst: one, value: 1 });
        self.emit(Instr::LdI { dst: zero, value: 0 });
        let head = self.label();
        self.place(head);
        self.loop_depth += 1;
        let n = self.r.range(1, 5);
        self.block(n);
        self.loop_depth -= 1;
        self.emit(Instr::Sub { dst: count, a: count, b: one });
        self.emit(Instr::Gt { dst: c, a: count, b: zero });
        self.jump(Instr::JmpIf { cond: c, target: Label(0) }, head);
    }

    fn atomic_block(&mut self) {
        self.emit(Instr::AtomicBegin {});
        self.atomic_depth += 1;
        let n = self.r.range(1, 5);
        self.block(n);
        self.atomic_depth -= 1;
        self.emit(Instr::AtomicEnd {});
    }

    /// The classic race: read, increment, (yield,) write back a shared counter, inside an
    /// atomic block or not.
    fn shared_counter(&mut self) {
        let atomic = self.atomic_depth == 0 && self.r.chance(1, 2);
        if atomic {
            self.emit(Instr::AtomicBegin {});
        }
        let plan = self.plan;
        let objs: Vec<(Reg, u32, u32)> = self
            .tys
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t {
                Ty::Obj(c) => plan.classes[*c as usize]
                    .all
                    .iter()
                    .position(|f| *f == Ty::Int)
                    .map(|s| (Reg(i as u16), *c, s as u32)),
                _ => None,
            })
            .collect();
        let yield_between = self.r.chance(1, 2);
        if let Some((o, c, slot)) = self.r.pick(&objs) {
            let (x, one) = (self.fresh(), self.fresh());
            let field = FieldRef { class: ClassIdx(c), slot };
            self.emit(Instr::GetF { dst: x, obj: o, field });
            self.emit(Instr::LdI { dst: one, value: 1 });
            self.emit(Instr::Add { dst: x, a: x, b: one });
            if yield_between {
                self.emit(Instr::Yield {});
            }
            self.emit(Instr::SetF { obj: o, field, src: x });
        } else {
            let arr = self.value_of(Ty::Arr);
            let n = self.fresh();
            self.emit(Instr::ALen { dst: n, arr });
            if yield_between {
                self.emit(Instr::Yield {});
            }
            self.emit(Instr::APush { arr, src: n });
        }
        if atomic {
            self.emit(Instr::AtomicEnd {});
        }
    }

    // ---- single instructions ----------------------------------------------------------------

    /// Emits `op` (with whatever set-up it needs); false when this function cannot use it here.
    fn instruction(&mut self, op: Opcode) -> bool {
        if self.chaotic() && self.chaos_instruction(op) {
            return true;
        }
        use Opcode::*;
        match op {
            Nop => self.emit(Instr::Nop {}),
            Mov => {
                let src = self.any_src();
                let ty = self.tys[src.0 as usize];
                let dst = self.dst_of(ty);
                self.emit(Instr::Mov { dst, src });
            }
            LdNil => {
                let Some(dst) = self.any_dst() else { return false };
                self.emit(Instr::LdNil { dst });
            }
            LdTrue | LdFalse => {
                let dst = self.dst_of(Ty::Bool);
                self.emit(mk(op, vec![reg(dst)]));
            }
            LdI => {
                let dst = self.dst_of(Ty::Int);
                let value = self.r.int();
                self.emit(Instr::LdI { dst, value });
            }
            LdK => {
                let (ty, c) = match self.r.below(3) {
                    0 => (Ty::Int, Constant::Int(self.r.int())),
                    1 => (Ty::Float, Constant::Float(self.r.float())),
                    _ => (Ty::Str, Constant::Str(self.r.string().into())),
                };
                let k = self.konst(c);
                let dst = self.dst_of(ty);
                self.emit(Instr::LdK { dst, k });
            }
            LdFn => {
                let fns: Vec<Reg> = self.regs_where(|t| matches!(t, Ty::Fn(_)));
                match self.r.pick(&fns) {
                    Some(dst) if self.r.chance(2, 3) => {
                        let ty = self.tys[dst.0 as usize];
                        self.load(dst, ty);
                    }
                    _ => {
                        let Some(dst) = self.any_dst() else { return false };
                        let func = FuncIdx(self.r.below(self.plan.funcs.len()) as u32);
                        self.emit(Instr::LdFn { dst, func });
                    }
                }
            }
            Add | Sub | Mul | Div | Rem => self.arith(op),
            Neg => {
                let ty = if self.r.chance(1, 2) { Ty::Int } else { Ty::Float };
                let a = self.value_of(ty);
                let dst = self.dst_of(ty);
                self.emit(Instr::Neg { dst, a });
            }
            Sqrt => {
                let ty = if self.r.chance(1, 3) { Ty::Int } else { Ty::Float };
                let a = self.value_of(ty);
                let dst = self.dst_of(Ty::Float);
                self.emit(Instr::Sqrt { dst, a });
            }
            And | Or | Xor => {
                let ty = if self.r.chance(1, 2) { Ty::Int } else { Ty::Bool };
                let (a, b) = (self.value_of(ty), self.value_of(ty));
                let dst = self.dst_of(ty);
                self.emit(mk(op, vec![reg(dst), reg(a), reg(b)]));
            }
            Not => {
                let ty = if self.r.chance(1, 2) { Ty::Int } else { Ty::Bool };
                let a = self.value_of(ty);
                let dst = self.dst_of(ty);
                self.emit(Instr::Not { dst, a });
            }
            Shl | Shr | UShr => {
                let (a, b) = (self.value_of(Ty::Int), self.value_of(Ty::Int));
                let dst = self.dst_of(Ty::Int);
                self.emit(mk(op, vec![reg(dst), reg(a), reg(b)]));
            }
            Eq | Ne => {
                let (a, b) = (self.any_src(), self.any_src());
                let dst = self.dst_of(Ty::Bool);
                self.emit(mk(op, vec![reg(dst), reg(a), reg(b)]));
            }
            Lt | Le | Gt | Ge => {
                let (a, b) = match self.r.below(3) {
                    0 => (self.value_of(Ty::Str), self.value_of(Ty::Str)),
                    1 => (self.value_of(Ty::Int), self.value_of(Ty::Float)),
                    _ => (self.value_of(Ty::Int), self.value_of(Ty::Int)),
                };
                let dst = self.dst_of(Ty::Bool);
                self.emit(mk(op, vec![reg(dst), reg(a), reg(b)]));
            }
            IToF => {
                let a = self.value_of(Ty::Int);
                let dst = self.dst_of(Ty::Float);
                self.emit(Instr::IToF { dst, a });
            }
            FToI => self.ftoi(),
            TypeOf => {
                let a = self.any_src();
                let dst = self.dst_of(Ty::Str);
                self.emit(Instr::TypeOf { dst, a });
            }
            Jmp => {
                if self.chaotic() && !self.plan.threads {
                    // A jump anywhere: fuel ends whatever loop it makes.
                    self.random_jumps.push((self.code.len(), self.r.u64()));
                    self.emit(Instr::Jmp { target: Label(0) });
                    // What follows is reachable only by other jumps; keep it valid.
                    return true;
                }
                let over = self.label();
                self.jump(Instr::Jmp { target: Label(0) }, over);
                let n = self.r.range(0, 2);
                self.block(n);
                self.place(over);
            }
            JmpIf | JmpIfNot => {
                let c = self.cond();
                let over = self.label();
                self.jump(mk(op, vec![reg(c), Operand::Label(Label(0))]), over);
                let n = self.r.range(1, 3);
                self.block(n);
                self.place(over);
            }
            Ret => {
                if self.atomic_depth > 0 {
                    return false;
                }
                let c = self.cond();
                let over = self.label();
                self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, over);
                let ret = self.plan.funcs[self.me as usize].ret;
                let src = self.value_of(ret);
                self.emit(Instr::Ret { src });
                self.place(over);
            }
            Call => return self.call(),
            CallV => return self.callv(),
            New => {
                if self.plan.classes.is_empty() {
                    return false;
                }
                let k = self.r.below(self.plan.classes.len()) as u32;
                let plan = self.plan;
                let dsts = self.regs_where(|t| t == Ty::Any || matches!(t, Ty::Obj(c) if plan.is_subclass(k, c)));
                let dst = match self.r.pick(&dsts) {
                    Some(d) => d,
                    None => self.fresh(),
                };
                self.construct(dst, k);
            }
            GetF | SetF => {
                let Some((obj, field, ty)) = self.field() else { return false };
                if op == GetF {
                    let dst = self.dst_of(ty);
                    self.emit(Instr::GetF { dst, obj, field });
                } else {
                    let src = self.value_of(ty);
                    self.emit(Instr::SetF { obj, field, src });
                }
            }
            Send => return self.send(),
            InstanceOf => {
                if self.plan.classes.is_empty() {
                    return false;
                }
                let obj = self.any_src();
                let class = ClassIdx(self.r.below(self.plan.classes.len()) as u32);
                let dst = self.dst_of(Ty::Bool);
                self.emit(Instr::InstanceOf { dst, obj, class });
            }
            ANew => {
                let len = self.fresh();
                if self.guarded() {
                    let (x, mask) = (self.value_of(Ty::Int), self.fresh());
                    self.emit(Instr::LdI { dst: mask, value: 15 });
                    self.emit(Instr::And { dst: len, a: x, b: mask });
                } else {
                    let bad = [-1, i64::MIN, (1 << 24) + 1, 0][self.r.below(4)];
                    self.emit(Instr::LdI { dst: len, value: bad });
                }
                let dst = self.dst_of(Ty::Arr);
                self.emit(Instr::ANew { dst, len });
            }
            AGet | ASet => {
                let arr = self.value_of(Ty::Arr);
                let skip = self.label();
                let idx = if self.guarded() {
                    let (x, mask, n, c, idx) =
                        (self.value_of(Ty::Int), self.fresh(), self.fresh(), self.fresh(), self.fresh());
                    self.emit(Instr::LdI { dst: mask, value: 7 });
                    self.emit(Instr::And { dst: idx, a: x, b: mask });
                    self.emit(Instr::ALen { dst: n, arr });
                    self.emit(Instr::Lt { dst: c, a: idx, b: n });
                    self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, skip);
                    idx
                } else {
                    self.value_of(Ty::Int)
                };
                if op == AGet {
                    let dst = match self.any_dst() {
                        Some(d) => d,
                        None => self.fresh(),
                    };
                    self.emit(Instr::AGet { dst, arr, idx });
                } else {
                    let src = self.any_src();
                    self.emit(Instr::ASet { arr, idx, src });
                }
                self.place(skip);
            }
            ALen => {
                let arr = self.value_of(Ty::Arr);
                let dst = self.dst_of(Ty::Int);
                self.emit(Instr::ALen { dst, arr });
            }
            APush => {
                let arr = self.value_of(Ty::Arr);
                let src = self.any_src();
                self.emit(Instr::APush { arr, src });
            }
            Concat => {
                let a = self.value_of(Ty::Str);
                // Mostly a short constant on the right, so strings grow linearly, not by doubling.
                let b = if self.r.chance(4, 5) {
                    let b = self.fresh();
                    self.load(b, Ty::Str);
                    b
                } else {
                    self.value_of(Ty::Str)
                };
                let dst = self.dst_of(Ty::Str);
                self.emit(Instr::Concat { dst, a, b });
            }
            SLen => {
                let s = self.value_of(Ty::Str);
                let dst = self.dst_of(Ty::Int);
                self.emit(Instr::SLen { dst, s });
            }
            ToStr => {
                let a = self.any_src();
                let dst = self.dst_of(Ty::Str);
                self.emit(Instr::ToStr { dst, a });
            }
            SToI | SToF => {
                let s = self.value_of(Ty::Str);
                let dst = match self.any_dst() {
                    Some(d) => d,
                    None => self.fresh(),
                };
                self.emit(mk(op, vec![reg(dst), reg(s)]));
            }
            Print | PrintLn => {
                let src = self.any_src();
                self.emit(mk(op, vec![reg(src)]));
            }
            Spawn => return self.spawn(),
            Join => {
                if self.atomic_depth > 0 {
                    return false;
                }
                match self.r.pick(&self.handles) {
                    Some((thread, ty)) => {
                        let dst = self.dst_of(ty);
                        self.emit(Instr::Join { dst, thread });
                    }
                    None if self.plan.threads => self.join_shared(),
                    None => return false,
                }
            }
            AtomicBegin | AtomicEnd => {
                if self.plan.has(Family::Traps) && self.r.chance(1, 30) {
                    // Unbalanced on purpose: `unbalanced_atomic` at the end or at this end.
                    self.emit(mk(op, vec![]));
                } else {
                    self.atomic_block();
                }
            }
            Yield => self.emit(Instr::Yield {}),
            Trap => {
                // Behind a condition that is usually false: two values rarely equal.
                let a = self.value_of(Ty::Int);
                let b = self.fresh();
                self.load(b, Ty::Int);
                let c = self.fresh();
                let over = self.label();
                self.emit(Instr::Eq { dst: c, a, b });
                self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, over);
                let text = self.r.string();
                let msg = self.str_const(&text);
                self.emit(Instr::Trap { msg });
                self.place(over);
            }
            Assert => {
                let cond = if !self.r.chance(1, 10) {
                    // Usually true; false for NaN, which equals nothing.
                    let ty = [Ty::Int, Ty::Str, Ty::Float, Ty::Bool][self.r.below(4)];
                    let x = self.value_of(ty);
                    let c = self.fresh();
                    self.emit(Instr::Eq { dst: c, a: x, b: x });
                    c
                } else {
                    self.value_of(Ty::Bool)
                };
                let text = self.r.string();
                let msg = self.str_const(&text);
                self.emit(Instr::Assert { cond, msg });
            }
        }
        true
    }

    fn arith(&mut self, op: Opcode) {
        let float = self.r.chance(1, 3);
        let (a, mut b, ty) = if float {
            match self.r.below(3) {
                0 => (self.value_of(Ty::Int), self.value_of(Ty::Float), Ty::Float),
                1 => (self.value_of(Ty::Float), self.value_of(Ty::Int), Ty::Float),
                _ => (self.value_of(Ty::Float), self.value_of(Ty::Float), Ty::Float),
            }
        } else {
            (self.value_of(Ty::Int), self.value_of(Ty::Int), Ty::Int)
        };
        if !float && matches!(op, Opcode::Div | Opcode::Rem) && self.r.chance(1, 16) {
            // [value.int-div] The one quotient that overflows, MIN div -1 (and MIN rem -1), on
            // purpose: random edge values pair them too rarely (the planted bug
            // `div_min_overflow` survived 300 programs before this).
            let (x, y) = (self.fresh(), self.fresh());
            self.emit(Instr::LdI { dst: x, value: i64::MIN });
            self.emit(Instr::LdI { dst: y, value: -1 });
            let dst = self.dst_of(Ty::Int);
            self.emit(mk(op, vec![reg(dst), reg(x), reg(y)]));
            return;
        }
        if !float && matches!(op, Opcode::Div | Opcode::Rem) && self.guarded() {
            // [value.int-div] Guarded: a zero divisor becomes 3.
            let (t, z, c, ok) = (self.fresh(), self.fresh(), self.fresh(), self.label());
            self.emit(Instr::Mov { dst: t, src: b });
            self.emit(Instr::LdI { dst: z, value: 0 });
            self.emit(Instr::Ne { dst: c, a: t, b: z });
            self.jump(Instr::JmpIf { cond: c, target: Label(0) }, ok);
            self.emit(Instr::LdI { dst: t, value: 3 });
            self.place(ok);
            b = t;
        }
        let dst = self.dst_of(ty);
        self.emit(mk(op, vec![reg(dst), reg(a), reg(b)]));
    }

    fn ftoi(&mut self) {
        let a = self.value_of(Ty::Float);
        let dst = self.dst_of(Ty::Int);
        if !self.guarded() {
            self.emit(Instr::FToI { dst, a });
            return;
        }
        // In range and not NaN: -2^63 <= a < 2^63.
        let (lo, hi, c, skip) = (self.fresh(), self.fresh(), self.fresh(), self.label());
        let k = self.konst(Constant::Float(9_223_372_036_854_775_808.0));
        self.emit(Instr::LdK { dst: hi, k });
        self.emit(Instr::Lt { dst: c, a, b: hi });
        self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, skip);
        let k = self.konst(Constant::Float(-9_223_372_036_854_775_808.0));
        self.emit(Instr::LdK { dst: lo, k });
        self.emit(Instr::Ge { dst: c, a, b: lo });
        self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, skip);
        self.emit(Instr::FToI { dst, a });
        self.place(skip);
    }

    /// An object register and one of its fields (of its class or an ancestor), with the type.
    fn field(&mut self) -> Option<(Reg, FieldRef, Ty)> {
        let plan = self.plan;
        let objs: Vec<Reg> = self.regs_where(|t| matches!(t, Ty::Obj(c) if !plan.classes[c as usize].all.is_empty()));
        let obj = self.r.pick(&objs)?;
        let Ty::Obj(c) = self.tys[obj.0 as usize] else { return None };
        let chain: Vec<u32> = plan.chain(c).into_iter().filter(|&k| !plan.classes[k as usize].all.is_empty()).collect();
        let k = self.r.pick(&chain)?;
        let all = &plan.classes[k as usize].all;
        let slot = self.r.below(all.len());
        Some((obj, FieldRef { class: ClassIdx(k), slot: slot as u32 }, all[slot]))
    }

    fn args_for(&mut self, params: &[Ty]) -> Box<[Reg]> {
        params.iter().map(|&t| self.value_of(t)).collect::<Vec<_>>().into()
    }

    fn call(&mut self) -> bool {
        let targets: Vec<u32> = (self.me + 1..self.plan.funcs.len() as u32)
            .filter(|&g| !matches!(self.plan.funcs[g as usize].role, Role::ThreadRoot | Role::Main))
            .collect();
        let Some(g) = self.r.pick(&targets) else { return false };
        let f = &self.plan.funcs[g as usize];
        let (params, ret, role) = (f.params.clone(), f.ret, f.role);
        let args = if role == Role::Recursive { vec![self.depth()].into() } else { self.args_for(&params) };
        let dst = self.dst_of(ret);
        self.emit(Instr::Call { dst, func: FuncIdx(g), args });
        true
    }

    /// The argument of a recursive function: usually shallow, sometimes around the call-depth
    /// limit when the program was drawn for deep recursion.
    fn depth(&mut self) -> Reg {
        let n = self.fresh();
        if self.plan.deep_recursion && self.r.chance(1, 2) {
            let value = [9_990, 9_998, 9_999, 10_000, 20_000][self.r.below(5)];
            self.emit(Instr::LdI { dst: n, value });
        } else {
            let (x, mask) = (self.value_of(Ty::Int), self.fresh());
            self.emit(Instr::LdI { dst: mask, value: 31 });
            self.emit(Instr::And { dst: n, a: x, b: mask });
        }
        n
    }

    fn callv(&mut self) -> bool {
        let fns = self.regs_where(|t| matches!(t, Ty::Fn(_)));
        let callee = match self.r.pick(&fns) {
            Some(r) => r,
            None => {
                let sigs: Vec<u32> =
                    (0..self.plan.sigs.len() as u32).filter(|&s| !self.callable_with_sig(s).is_empty()).collect();
                let Some(s) = self.r.pick(&sigs) else { return false };
                let r = self.fresh();
                self.load(r, Ty::Fn(s));
                return self.callv_with(r, s);
            }
        };
        let Ty::Fn(s) = self.tys[callee.0 as usize] else { return false };
        self.callv_with(callee, s)
    }

    fn callv_with(&mut self, callee: Reg, s: u32) -> bool {
        let sig = self.plan.sigs[s as usize].clone();
        let mut args = self.args_for(&sig.params).into_vec();
        if self.chaotic() {
            // [exec.callv] A wrong argument count traps arity_mismatch.
            args.push(callee);
        }
        let dst = self.dst_of(sig.ret);
        self.emit(Instr::CallV { dst, callee, args: args.into() });
        true
    }

    fn send(&mut self) -> bool {
        let plan = self.plan;
        let me = self.me;
        // Receivers whose every possible method is later than this function.
        let mut sites = Vec::new();
        for (i, t) in self.tys.iter().enumerate() {
            if let Ty::Obj(c) = t {
                for m in plan.methods_of(*c) {
                    if plan.implementations(m).all(|g| g > me) {
                        sites.push((Reg(i as u16), m));
                    }
                }
            }
        }
        let Some((recv, m)) = self.r.pick(&sites) else { return false };
        let sig = plan.method_sigs[m as usize].clone();
        let mut args = self.args_for(&sig.params).into_vec();
        let mut name = format!("m{m}");
        if self.plan.has(Family::Traps) && self.r.chance(1, 40) {
            name = "nosuch".to_string(); // [exec.send] no_such_method, without chaos
        } else if self.chaotic() {
            if self.r.chance(1, 2) {
                args.push(recv); // arity_mismatch
            } else {
                name = "nosuch".to_string(); // no_such_method
            }
        }
        let k = self.str_const(name.as_bytes());
        let dst = self.dst_of(sig.ret);
        self.emit(Instr::Send { dst, recv, name: k, args: args.into() });
        true
    }

    fn spawn(&mut self) -> bool {
        if self.spawns_left == 0 || self.loop_depth > 0 || self.atomic_depth > 0 {
            return false;
        }
        let targets: Vec<u32> = (self.me + 1..self.plan.funcs.len() as u32)
            .filter(|&g| matches!(self.plan.funcs[g as usize].role, Role::Helper | Role::ThreadRoot | Role::Recursive))
            .collect();
        let Some(g) = self.r.pick(&targets) else { return false };
        self.spawns_left -= 1;
        let f = &self.plan.funcs[g as usize];
        let (params, ret, role) = (f.params.clone(), f.ret, f.role);
        let args = if role == Role::Recursive { vec![self.depth()].into() } else { self.args_for(&params) };
        let dst = self.fresh();
        let shared: Vec<Reg> = args.iter().copied().filter(|a| self.tys.get(a.0 as usize) == Some(&Ty::Arr)).collect();
        self.emit(Instr::Spawn { dst, func: FuncIdx(g), args });
        self.handles.push((dst, ret));
        if let Some(arr) = self.r.pick(&shared) {
            if self.r.chance(1, 4) {
                // Publish the handle: the worker (or a sibling) may join it, even itself.
                self.emit(Instr::APush { arr, src: dst });
            }
        }
        true
    }

    /// Joins the thread whose handle a spawner published as the last element of a shared array,
    /// if it is one: threads joining siblings, and deadlock when a thread finds its own handle.
    fn join_shared(&mut self) {
        let arr = self.value_of(Ty::Arr);
        let (n, zero, c, x, t, s, skip) =
            (self.fresh(), self.fresh(), self.fresh(), self.fresh(), self.fresh(), self.fresh(), self.label());
        self.emit(Instr::ALen { dst: n, arr });
        self.emit(Instr::LdI { dst: zero, value: 0 });
        self.emit(Instr::Gt { dst: c, a: n, b: zero });
        self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, skip);
        let (one, last) = (self.fresh(), self.fresh());
        self.emit(Instr::LdI { dst: one, value: 1 });
        self.emit(Instr::Sub { dst: last, a: n, b: one });
        self.emit(Instr::AGet { dst: x, arr, idx: last });
        self.emit(Instr::TypeOf { dst: t, a: x });
        let k = self.str_const(b"thread");
        self.emit(Instr::LdK { dst: s, k });
        self.emit(Instr::Eq { dst: c, a: t, b: s });
        self.jump(Instr::JmpIfNot { cond: c, target: Label(0) }, skip);
        let dst = match self.any_dst() {
            Some(d) => d,
            None => self.fresh(),
        };
        self.emit(Instr::Join { dst, thread: x });
        self.place(skip);
    }

    /// `op` with operands that ignore register types (its result goes to an `Any` register):
    /// the source of type errors. Only for instructions without control flow, calls or
    /// allocation sizes, so that chaos cannot make a run unbounded in anything but fuel.
    fn chaos_instruction(&mut self, op: Opcode) -> bool {
        let specs = op.operands();
        let simple = specs.iter().any(|s| s.kind == OperandKind::Reg)
            && specs.iter().all(|s| !matches!(s.kind, OperandKind::Func | OperandKind::Label | OperandKind::Args))
            && !op.flags().contains(Flags::TERMINATOR)
            && op != Opcode::ANew;
        if !simple || self.tys.is_empty() {
            return false;
        }
        let mut operands = Vec::with_capacity(specs.len());
        for s in specs {
            operands.push(match s.kind {
                OperandKind::Reg if s.name == "dst" => match self.any_dst() {
                    Some(r) => reg(r),
                    None => reg(self.fresh()),
                },
                OperandKind::Reg => reg(self.any_src()),
                OperandKind::Imm => Operand::Imm(self.r.int()),
                OperandKind::Const => {
                    let c = match self.r.below(3) {
                        0 => Constant::Int(self.r.int()),
                        1 => Constant::Float(self.r.float()),
                        _ => Constant::Str(self.r.string().into()),
                    };
                    Operand::Const(self.konst(c))
                }
                OperandKind::Str => {
                    let s = self.r.string();
                    Operand::Str(self.str_const(&s))
                }
                OperandKind::Class => {
                    if self.plan.classes.is_empty() {
                        return false;
                    }
                    Operand::Class(ClassIdx(self.r.below(self.plan.classes.len()) as u32))
                }
                OperandKind::Field => {
                    let with: Vec<u32> = (0..self.plan.classes.len() as u32)
                        .filter(|&c| !self.plan.classes[c as usize].all.is_empty())
                        .collect();
                    let Some(c) = self.r.pick(&with) else { return false };
                    let slot = self.r.below(self.plan.classes[c as usize].all.len()) as u32;
                    Operand::Field(FieldRef { class: ClassIdx(c), slot })
                }
                OperandKind::Func | OperandKind::Label | OperandKind::Args => return false,
            });
        }
        self.emit(mk(op, operands));
        true
    }
}

fn set_target(i: &mut Instr, pos: u32) {
    match i {
        Instr::Jmp { target } | Instr::JmpIf { target, .. } | Instr::JmpIfNot { target, .. } => *target = Label(pos),
        _ => {}
    }
}
