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
//! and an exit knows which variable to write back for each register.
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
        Op::Ret { .. } => {}
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

/// The webs of the region `h..=end` of `code`, whose ops all name registers below `nregs`; or
/// `None` when an op of the region is not one tier 2 translates, or there are more webs than
/// register numbers.
pub(super) fn webs(code: &[Op], h: usize, end: usize, nregs: usize) -> Option<Webs> {
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
    let mut parent: Vec<u32> = (0..ndefs as u32).collect();
    for (i, set) in reaching.iter().enumerate() {
        let mut first: Vec<Option<u32>> = vec![None; nregs];
        for d in defs_at(set, ndefs) {
            let r = reg_of(d) as usize;
            if cfg!(lockstep_mutant = "tier2_webs_join_only_at_uses") && !ops[i].0.contains(&(r as u16)) {
                continue;
            }
            match first[r] {
                None => first[r] = Some(d as u32),
                Some(f) => {
                    let (a, b) = (find(&mut parent, f), find(&mut parent, d as u32));
                    parent[a as usize] = b;
                }
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
    Some(Webs { code: renamed, reg, entry, before, def })
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
        let w = webs(&code, 0, 7, 5).expect("translatable");
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
    }
}
