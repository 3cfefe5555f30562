//! Webs: a tier-2 region's registers split into the values they carry, so that each gets a
//! representation of its own ([`super::tier2`]).
//!
//! A guest register is often reused for values of different kinds: mandelbrot's `t` holds a
//! comparison's boolean, then a float sum of squares, then another boolean. With one
//! representation per register, `t` would be a word, and every float written to it boxed and
//! range-checked as a SmallFloat word. A *web* is a set of definitions of one register (the
//! ops that write it, and its value at the region's entry) closed under "reach the same point":
//! two definitions that both reach some point of the region, a use or not, are in one web. So
//! at every point each register is in exactly one web, whose variable holds its value there,
//! and an exit knows which variable to write back for each register. Except at a point where
//! the register is dead and every definition reaching it makes no reference (a boolean, a
//! number): they need not be one web there ([`Webs::free`]), and an exit there writes the
//! register as a constant.
//!
//! Reaching definitions are computed over the region's ops (`h..=end`), entered only at `h`
//! with every register's entry definition; edges that leave the region do not matter.

use crate::code::Op;

/// A region's webs.
pub(super) struct Webs {
    /// The region's ops with each register replaced by its web there (the same length as the
    /// code; ops outside the region are left as they are).
    pub code: Vec<Op>,
    /// Each web's register.
    pub reg: Vec<u16>,
    /// Whether the web holds its register's value at the entry (the header, from outside).
    pub entry: Vec<bool>,
    /// Per op of the region (index `pc - h`), per register: its web before the op.
    pub before: Vec<Vec<u16>>,
    /// Per op of the region: the web of the register it writes, if it writes one.
    pub def: Vec<Option<u16>>,
    /// Per op of the region, per register: whether the register is dead before the op and
    /// every definition of it that reaches there makes no reference. Its definitions there
    /// need not be one web, and an exit there writes it as a constant ([exec.dead-registers]):
    /// the web `before` names need not hold its value, and may hold a reference another of its
    /// definitions made elsewhere.
    pub free: Vec<Vec<bool>>,
}

impl Webs {
    /// Per register: its web after op `pc` (before it, but for the register it writes).
    pub fn after(&self, h: usize, pc: usize) -> Vec<u16> {
        let mut v = self.before[pc - h].clone();
        if let (Some(w), Some(d)) = (self.def[pc - h], operands(&self.code[pc]).1) {
            v[self.reg[d as usize] as usize] = w;
        }
        v
    }
}

/// The op with its registers mapped by `f(register, written)`, for the ops tier 2 translates;
/// `None` for any other op.
pub(super) fn map_regs(op: &Op, f: &mut dyn FnMut(u16, bool) -> u16) -> Option<Op> {
    // A three-register op: its operands in order, then the register it writes.
    let mut bin = |d: u16, a: u16, b: u16, make: fn(u16, u16, u16) -> Op| {
        let (a, b) = (f(a, false), f(b, false));
        make(f(d, true), a, b)
    };
    Some(match *op {
        Op::Add { d, a, b } => bin(d, a, b, |d, a, b| Op::Add { d, a, b }),
        Op::Sub { d, a, b } => bin(d, a, b, |d, a, b| Op::Sub { d, a, b }),
        Op::Mul { d, a, b } => bin(d, a, b, |d, a, b| Op::Mul { d, a, b }),
        Op::Div { d, a, b } => bin(d, a, b, |d, a, b| Op::Div { d, a, b }),
        Op::Lt { d, a, b } => bin(d, a, b, |d, a, b| Op::Lt { d, a, b }),
        Op::Le { d, a, b } => bin(d, a, b, |d, a, b| Op::Le { d, a, b }),
        Op::Gt { d, a, b } => bin(d, a, b, |d, a, b| Op::Gt { d, a, b }),
        Op::Ge { d, a, b } => bin(d, a, b, |d, a, b| Op::Ge { d, a, b }),
        Op::Eq { d, a, b } => bin(d, a, b, |d, a, b| Op::Eq { d, a, b }),
        Op::Ne { d, a, b } => bin(d, a, b, |d, a, b| Op::Ne { d, a, b }),
        Op::And { d, a, b } => bin(d, a, b, |d, a, b| Op::And { d, a, b }),
        Op::Or { d, a, b } => bin(d, a, b, |d, a, b| Op::Or { d, a, b }),
        Op::Xor { d, a, b } => bin(d, a, b, |d, a, b| Op::Xor { d, a, b }),
        Op::Shl { d, a, b } => bin(d, a, b, |d, a, b| Op::Shl { d, a, b }),
        Op::Shr { d, a, b } => bin(d, a, b, |d, a, b| Op::Shr { d, a, b }),
        Op::UShr { d, a, b } => bin(d, a, b, |d, a, b| Op::UShr { d, a, b }),
        Op::Rem { d, a, b } => bin(d, a, b, |d, a, b| Op::Rem { d, a, b }),
        Op::Neg { d, a } => {
            let a = f(a, false);
            Op::Neg { d: f(d, true), a }
        }
        Op::IToF { d, a } => {
            let a = f(a, false);
            Op::IToF { d: f(d, true), a }
        }
        Op::FToI { d, a } => {
            let a = f(a, false);
            Op::FToI { d: f(d, true), a }
        }
        Op::Not { d, a } => {
            let a = f(a, false);
            Op::Not { d: f(d, true), a }
        }
        Op::Nop => Op::Nop,
        Op::Jmp { t } => Op::Jmp { t },
        Op::JmpBack { t } => Op::JmpBack { t },
        Op::JmpIf { c, t } => Op::JmpIf { c: f(c, false), t },
        Op::JmpIfBack { c, t } => Op::JmpIfBack { c: f(c, false), t },
        Op::JmpIfNot { c, t } => Op::JmpIfNot { c: f(c, false), t },
        Op::JmpIfNotBack { c, t } => Op::JmpIfNotBack { c: f(c, false), t },
        Op::Ld { d, v } => Op::Ld { d: f(d, true), v },
        Op::Mov { d, s } => {
            let s = f(s, false);
            Op::Mov { d: f(d, true), s }
        }
        Op::Ret { s } => Op::Ret { s: f(s, false) },
        // The arguments are in the program's pool, which is not renamed: the translation takes
        // each one's web from `Webs::before` ([`super::tier2`], `Tr::call`).
        Op::Call { d, argc, f: callee, args } => Op::Call { d: f(d, true), argc, f: callee, args },
        Op::New { d, class } => Op::New { d: f(d, true), class },
        Op::Send { d, recv, argc, site, args } => {
            let recv = f(recv, false);
            Op::Send { d: f(d, true), recv, argc, site, args }
        }
        Op::Trap { msg } => Op::Trap { msg },
        Op::Sqrt { d, a } => {
            let a = f(a, false);
            Op::Sqrt { d: f(d, true), a }
        }
        Op::GetF { d, o, slot, class } => {
            let o = f(o, false);
            Op::GetF { d: f(d, true), o, slot, class }
        }
        Op::SetF { o, s, slot, class } => {
            let (o, s) = (f(o, false), f(s, false));
            Op::SetF { o, s, slot, class }
        }
        Op::AGet { d, a, i } => {
            let (a, i) = (f(a, false), f(i, false));
            Op::AGet { d: f(d, true), a, i }
        }
        Op::ASet { a, i, s } => {
            let (a, i, s) = (f(a, false), f(i, false), f(s, false));
            Op::ASet { a, i, s }
        }
        Op::ALen { d, a } => {
            let a = f(a, false);
            Op::ALen { d: f(d, true), a }
        }
        _ => return None,
    })
}

/// The registers a translated op reads, and the one it writes.
pub(super) fn operands(op: &Op) -> (Vec<u16>, Option<u16>) {
    let (mut reads, mut write) = (Vec::new(), None);
    map_regs(op, &mut |r, w| {
        if w {
            write = Some(r);
        } else {
            reads.push(r);
        }
        r
    });
    (reads, write)
}

/// The ops control may go to from op `pc` that are inside the region `h..=end`.
fn successors_in(code: &[Op], pc: usize, h: usize, end: usize) -> Vec<usize> {
    let mut v = Vec::with_capacity(2);
    match code[pc] {
        Op::Jmp { t } | Op::JmpBack { t } => v.push(t as usize),
        Op::JmpIf { t, .. } | Op::JmpIfBack { t, .. } | Op::JmpIfNot { t, .. } | Op::JmpIfNotBack { t, .. } => {
            v.extend([t as usize, pc + 1])
        }
        Op::Ret { .. } | Op::Trap { .. } => {}
        _ => v.push(pc + 1),
    }
    v.retain(|s| (h..=end).contains(s));
    v
}

/// The definitions in the set `set` (a bit per definition).
fn defs_at(set: &[u64], ndefs: usize) -> impl Iterator<Item = usize> + '_ {
    (0..ndefs).filter(move |&d| set[d / 64] & (1 << (d % 64)) != 0)
}

fn find(parent: &mut [u32], x: u32) -> u32 {
    let mut r = x;
    while parent[r as usize] != r {
        r = parent[r as usize];
    }
    let mut y = x;
    while parent[y as usize] != r {
        let next = parent[y as usize];
        parent[y as usize] = r;
        y = next;
    }
    r
}

/// Whether op `op` writes a value that is no reference to a heap cell in a region (a
/// comparison's boolean, an arithmetic result, a constant that is not a string): definitions
/// that only meet where their register is dead need not be one web ([`webs`]).
fn makes_no_reference(op: &Op) -> bool {
    match *op {
        Op::Ld { v, .. } => !crate::value::is_heap(v),
        Op::Lt { .. }
        | Op::Le { .. }
        | Op::Gt { .. }
        | Op::Ge { .. }
        | Op::Eq { .. }
        | Op::Ne { .. }
        | Op::Add { .. }
        | Op::Sub { .. }
        | Op::Mul { .. }
        | Op::Div { .. }
        | Op::Rem { .. }
        | Op::Neg { .. }
        | Op::IToF { .. }
        | Op::FToI { .. }
        | Op::Sqrt { .. }
        | Op::And { .. }
        | Op::Or { .. }
        | Op::Xor { .. }
        | Op::Shl { .. }
        | Op::Shr { .. }
        | Op::UShr { .. }
        | Op::ALen { .. }
        | Op::Not { .. } => true,
        Op::GetF { .. } | Op::AGet { .. } => mutant!(tier2_free_takes_fields_for_numbers),
        _ => false,
    }
}

/// The webs of the region `h..=end` of `code`, whose ops all name registers below `nregs`; or
/// `None` when an op of the region is not one tier 2 translates, or there are more webs than
/// register numbers. `dead(pc, r)`: whether register `r` is dead before op `pc`.
pub(super) fn webs(code: &[Op], h: usize, end: usize, nregs: usize, dead: &dyn Fn(usize, u16) -> bool) -> Option<Webs> {
    let n = end + 1 - h;
    let ops: Vec<(Vec<u16>, Option<u16>)> = code[h..=end].iter().map(operands).collect();
    for (op, (reads, write)) in code[h..=end].iter().zip(&ops) {
        map_regs(op, &mut |r, _| r)?;
        if reads.iter().chain(write).any(|&r| r as usize >= nregs) {
            return None;
        }
    }
    // Definitions: register r's entry value is `r`, op `h + i`'s write is `nregs + i`.
    let ndefs = nregs + n;
    let words = ndefs.div_ceil(64);
    let reg_of = |d: usize| if d < nregs { d as u16 } else { ops[d - nregs].1.expect("a write") };
    let mut reaching = vec![vec![0u64; words]; n];
    for r in 0..nregs {
        reaching[0][r / 64] |= 1 << (r % 64);
    }
    // Which definitions of each register, as a mask to kill them.
    let mut of_reg = vec![vec![0u64; words]; nregs];
    for d in 0..ndefs {
        if d < nregs || ops[d - nregs].1.is_some() {
            of_reg[reg_of(d) as usize][d / 64] |= 1 << (d % 64);
        }
    }
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..n {
            let mut out = reaching[i].clone();
            if let Some(d) = ops[i].1 {
                for (o, k) in out.iter_mut().zip(&of_reg[d as usize]) {
                    *o &= !k;
                }
                out[(nregs + i) / 64] |= 1 << ((nregs + i) % 64);
            }
            for s in successors_in(code, h + i, h, end) {
                for (x, o) in reaching[s - h].iter_mut().zip(&out) {
                    if *x | o != *x {
                        *x |= o;
                        changed = true;
                    }
                }
            }
        }
    }
    // Definitions that reach one point together are one web, also where their register is
    // dead: an exit there writes a word back as it is, so that the collector sees what the
    // interpreter's window holds (`tests/tests/memory.rs`), and it needs the one variable that
    // holds it.
    let no_reference = |d: usize| d >= nregs && makes_no_reference(&code[h + d - nregs]);
    let mut parent: Vec<u32> = (0..ndefs as u32).collect();
    let mut free = vec![vec![false; nregs]; n];
    for (i, set) in reaching.iter().enumerate() {
        let mut by_reg: Vec<Vec<u32>> = vec![Vec::new(); nregs];
        for d in defs_at(set, ndefs) {
            let r = reg_of(d) as usize;
            if mutant!(tier2_webs_join_only_at_uses) && !ops[i].0.contains(&(r as u16)) {
                continue;
            }
            by_reg[r].push(d as u32);
        }
        for (r, defs) in by_reg.iter().enumerate() {
            free[i][r] = !defs.is_empty() && dead(h + i, r as u16) && defs.iter().all(|&d| no_reference(d as usize));
            if defs.len() < 2 || free[i][r] {
                continue;
            }
            for &d in &defs[1..] {
                let (a, b) = (find(&mut parent, defs[0]), find(&mut parent, d));
                parent[a as usize] = b;
            }
        }
    }
    // Webs numbered in order of their first definition: the entry values first.
    let mut web_of = vec![u32::MAX; ndefs];
    let (mut reg, mut entry) = (Vec::new(), Vec::new());
    let mut number = vec![u32::MAX; ndefs];
    for d in 0..ndefs {
        if d >= nregs && ops[d - nregs].1.is_none() {
            continue;
        }
        let root = find(&mut parent, d as u32) as usize;
        if number[root] == u32::MAX {
            number[root] = reg.len() as u32;
            reg.push(reg_of(d));
            entry.push(false);
        }
        web_of[d] = number[root];
        if d < nregs {
            entry[number[root] as usize] = true;
        }
    }
    if reg.len() > u16::MAX as usize {
        return None;
    }
    // Per point, per register: its web (at a point the region never reaches, the entry's).
    let before: Vec<Vec<u16>> = reaching
        .iter()
        .map(|set| {
            let mut v: Vec<u16> = (0..nregs).map(|r| web_of[r] as u16).collect();
            for d in defs_at(set, ndefs) {
                v[reg_of(d) as usize] = web_of[d] as u16;
            }
            v
        })
        .collect();
    let def: Vec<Option<u16>> = (0..n).map(|i| ops[i].1.map(|_| web_of[nregs + i] as u16)).collect();
    let mut renamed = code.to_vec();
    for i in 0..n {
        let at = &before[i];
        renamed[h + i] = map_regs(&code[h + i], &mut |r, w| if w { def[i].expect("a write") } else { at[r as usize] })
            .expect("checked above");
    }
    Some(Webs { code: renamed, reg, entry, before, def, free })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mandelbrot's inner loop, reduced: `t` is a boolean, then a float, then a boolean.
    #[test]
    fn a_register_reused_for_values_of_different_kinds_is_several_webs() {
        // registers: 0 i, 1 n, 2 t, 3 z, 4 four
        let code = [
            Op::Lt { d: 2, a: 0, b: 1 },  // 0: t = i < n       (header)
            Op::JmpIfNot { c: 2, t: 8 },  // 1
            Op::Mul { d: 2, a: 3, b: 3 }, // 2: t = z * z
            Op::Add { d: 3, a: 2, b: 3 }, // 3: z = t + z
            Op::Gt { d: 2, a: 3, b: 4 },  // 4: t = z > four
            Op::JmpIf { c: 2, t: 8 },     // 5
            Op::Add { d: 0, a: 0, b: 1 }, // 6
            Op::JmpBack { t: 0 },         // 7
            Op::Nop,                      // 8
        ];
        let w = webs(&code, 0, 7, 5, &|_, _| false).expect("translatable");
        let web = |pc: usize, r: usize| w.before[pc][r];
        // The comparison at 0 and the float at 2 are different webs of `t`.
        let (Op::Lt { d: t0, .. }, Op::Mul { d: t2, .. }, Op::Gt { d: t4, .. }) = (w.code[0], w.code[2], w.code[4])
        else {
            panic!("renamed ops keep their kinds")
        };
        assert_ne!(t0, t2);
        assert_ne!(t2, t4);
        assert!(w.reg[t0 as usize] == 2 && w.reg[t2 as usize] == 2);
        // The boolean at 4 reaches the header along the back edge, with `t`'s entry value.
        assert_eq!(web(0, 2), t4);
        assert!(w.entry[t4 as usize]);
        assert!(!w.entry[t2 as usize]);
        // z's entry value and its new value meet at the header: one web, read by the multiply.
        assert_eq!(w.code[2], Op::Mul { d: t2, a: web(0, 3), b: web(0, 3) });
        assert_eq!(w.def[3], Some(web(0, 3)));
        // After the multiply, `t` is its web; before the next op too.
        assert_eq!(w.after(0, 2)[2], t2);
        assert_eq!(web(3, 2), t2);
        assert!(!w.free.iter().flatten().any(|&f| f), "no register is dead here");
    }

    /// nbody's `t`, reduced: a comparison at the loop's header, a product at the end of the lap
    /// that reaches the header along the back edge. `t` is dead at the header (the comparison
    /// writes it before any op reads it): the two are webs of their own, so that the product is
    /// a double and not a word (it was encoded and decoded again), and an exit at the header
    /// writes `t` as a constant.
    #[test]
    fn a_comparison_and_a_number_meeting_only_where_the_register_is_dead_are_two_webs() {
        // registers: 0 i, 1 n, 2 t, 3 x, 4 one
        let code = [
            Op::Lt { d: 2, a: 0, b: 1 },  // 0: t = i < n       (header)
            Op::JmpIfNot { c: 2, t: 6 },  // 1
            Op::Mul { d: 2, a: 3, b: 3 }, // 2: t = x * x
            Op::Add { d: 3, a: 3, b: 2 }, // 3: x = x + t
            Op::Add { d: 0, a: 0, b: 4 }, // 4
            Op::JmpBack { t: 0 },         // 5
            Op::Nop,                      // 6
        ];
        // Registers live before each op: `t` is dead at 0 and at 4, 5.
        let live = |pc: usize, r: u16| match r {
            2 => pc == 1 || pc == 3,
            _ => true,
        };
        let w = webs(&code, 0, 5, 5, &|pc, r| !live(pc, r)).expect("translatable");
        let (Op::Lt { d: t0, .. }, Op::Mul { d: t2, .. }) = (w.code[0], w.code[2]) else {
            panic!("renamed ops keep their kinds")
        };
        assert_ne!(t0, t2);
        // At the header `t` may hold its entry value, which may be a reference: not free there.
        assert!(!w.free[0][2]);
        // Where only the product reaches (past the add), `t` is dead and free.
        assert!(w.free[4][2] && w.free[5][2]);
        // Whole-function shape: with the entry value killed before the header, both meet there.
        let whole = [Op::Ld { d: 2, v: crate::value::FALSE }, Op::Nop];
        let code: Vec<Op> = whole.iter().chain(&code).copied().map(|op| shift(op, 2)).collect();
        let w = webs(&code, 0, 7, 5, &|pc, r| pc < 2 || !live(pc - 2, r)).expect("translatable");
        let (Op::Lt { d: t0, .. }, Op::Mul { d: t2, .. }) = (w.code[2], w.code[4]) else {
            panic!("renamed ops keep their kinds")
        };
        assert_ne!(t0, t2, "the comparison and the product meet only at the dead header");
        assert!(w.free[2][2]);
    }

    /// `op` with its jump target moved by `by` ops.
    fn shift(op: Op, by: u32) -> Op {
        match op {
            Op::JmpIfNot { c, t } => Op::JmpIfNot { c, t: t + by },
            Op::JmpBack { t } => Op::JmpBack { t: t + by },
            other => other,
        }
    }
}
