//! The control and data flow of a function's code, as tier 2's analyses see it: jumps, loops,
//! dominators, the registers each op reads and writes, liveness, the registers written before
//! each op of a region, and the registers every write of which loads the same constant.

use crate::code::{Op, Program};
use crate::value::{is_small_float, is_small_int, Value};
use std::collections::HashMap;

/// Per block of the region `h..=end` of `code` (by its first op; `starts`, sorted, begins
/// with `h`), the blocks that strictly dominate it: every path from the region's entry at `h`
/// to the block runs through each of them to its end. A block that no path from `h` reaches
/// has none. A block's successors are those of its first op that does not fall through to the
/// next (a jump, `ret`, `trap`, which `left_before` puts where the region leaves), or its
/// last's.
pub(super) fn dominators(code: &[Op], h: usize, end: usize, starts: &[usize]) -> HashMap<usize, Vec<usize>> {
    let n = starts.len();
    let index = |pc: usize| starts.binary_search(&pc).ok();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, &s) in starts.iter().enumerate() {
        let last = starts.get(i + 1).map_or(end, |&next| next - 1);
        for (pc, op) in code.iter().enumerate().take(last + 1).skip(s) {
            let next = successors(op, pc);
            if next != [pc + 1] || pc == last {
                succ[i] = next.into_iter().filter(|t| (h..=end).contains(t)).filter_map(index).collect();
                break;
            }
        }
    }
    let mut reached = vec![false; n];
    let mut todo = vec![0];
    while let Some(i) = todo.pop() {
        if !std::mem::replace(&mut reached[i], true) {
            todo.extend(succ[i].iter().copied());
        }
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ss) in succ.iter().enumerate() {
        for &j in ss.iter().filter(|_| reached[i]) {
            preds[j].push(i);
        }
    }
    // dom(b) = {b} and the blocks that dominate every predecessor, to a fixed point down from
    // "every block" (the entry's: itself).
    let mut dom: Vec<Vec<bool>> = (0..n).map(|i| (0..n).map(|j| i != 0 || j == 0).collect()).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for i in 1..n {
            if !reached[i] {
                continue;
            }
            let mut d = vec![true; n];
            for &p in &preds[i] {
                for (x, y) in d.iter_mut().zip(&dom[p]) {
                    *x &= *y;
                }
            }
            d[i] = true;
            if d != dom[i] {
                dom[i] = d;
                changed = true;
            }
        }
    }
    (0..n)
        .map(|i| {
            let strict = (0..n).filter(|&j| reached[i] && j != i && dom[i][j]).map(|j| starts[j]).collect();
            (starts[i], strict)
        })
        .collect()
}

/// A jump's target and whether it is a backward one (with the boundary accounting), and whether
/// it is conditional.
pub(super) fn jump(op: &Op) -> Option<(usize, bool, bool)> {
    match *op {
        Op::Jmp { t } => Some((t as usize, false, false)),
        Op::JmpBack { t } => Some((t as usize, true, false)),
        Op::JmpIf { t, .. } | Op::JmpIfNot { t, .. } => Some((t as usize, false, true)),
        Op::JmpIfBack { t, .. } | Op::JmpIfNotBack { t, .. } => Some((t as usize, true, true)),
        _ => None,
    }
}

/// The loops: (header, last op), one per header, by the last backward jump to it.
pub(super) fn loops(code: &[Op]) -> Vec<(usize, usize)> {
    let mut ends: HashMap<usize, usize> = HashMap::new();
    for (pc, op) in code.iter().enumerate() {
        if let Some((t, true, _)) = jump(op) {
            if t <= pc {
                let e = ends.entry(t).or_insert(pc);
                *e = (*e).max(pc);
            }
        }
    }
    let mut v: Vec<_> = ends.into_iter().collect();
    v.sort_unstable();
    v
}

/// The registers op `op` reads, or `None` when it may read any (an op this does not list).
pub(super) fn reads(prog: &Program, op: &Op) -> Option<Vec<u16>> {
    let pool = |args: u32, argc: u16| prog.arg_pool[args as usize..args as usize + argc as usize].to_vec();
    Some(match *op {
        Op::Nop | Op::Ld { .. } | Op::Jmp { .. } | Op::JmpBack { .. } | Op::New { .. } => vec![],
        Op::AtomicBegin | Op::AtomicEnd | Op::Yield | Op::Trap { .. } => vec![],
        Op::Mov { s, .. } => vec![s],
        Op::Add { a, b, .. }
        | Op::Sub { a, b, .. }
        | Op::Mul { a, b, .. }
        | Op::Div { a, b, .. }
        | Op::Rem { a, b, .. }
        | Op::And { a, b, .. }
        | Op::Or { a, b, .. }
        | Op::Xor { a, b, .. }
        | Op::Shl { a, b, .. }
        | Op::Shr { a, b, .. }
        | Op::UShr { a, b, .. }
        | Op::Eq { a, b, .. }
        | Op::Ne { a, b, .. }
        | Op::Lt { a, b, .. }
        | Op::Le { a, b, .. }
        | Op::Gt { a, b, .. }
        | Op::Ge { a, b, .. }
        | Op::Concat { a, b, .. } => vec![a, b],
        Op::Neg { a, .. } | Op::Sqrt { a, .. } | Op::Not { a, .. } | Op::IToF { a, .. } | Op::FToI { a, .. } => vec![a],
        Op::TypeOf { a, .. } | Op::ToStr { a, .. } | Op::ALen { d: _, a } => vec![a],
        Op::JmpIf { c, .. } | Op::JmpIfBack { c, .. } | Op::JmpIfNot { c, .. } | Op::JmpIfNotBack { c, .. } => vec![c],
        Op::Assert { c, .. } => vec![c],
        Op::Call { argc, args, .. } | Op::Spawn { argc, args, .. } => pool(args, argc),
        Op::CallV { callee, argc, args, .. } => [vec![callee], pool(args, argc)].concat(),
        Op::Send { recv, argc, args, .. } => [vec![recv], pool(args, argc)].concat(),
        Op::Ret { s } | Op::Print { s } | Op::PrintLn { s } => vec![s],
        Op::GetF { o, .. } | Op::InstanceOf { o, .. } => vec![o],
        Op::SetF { o, s, .. } => vec![o, s],
        Op::ANew { len, .. } => vec![len],
        Op::AGet { a, i, .. } => vec![a, i],
        Op::ASet { a, i, s } => vec![a, i, s],
        Op::APush { a, s } => vec![a, s],
        Op::SLen { s, .. } | Op::SToI { s, .. } | Op::SToF { s, .. } => vec![s],
        Op::Join { t, .. } => vec![t],
        _ => return None,
    })
}

/// The register op `op` writes, if one.
pub(super) fn writes(op: &Op) -> Option<u16> {
    match *op {
        Op::Mov { d, .. }
        | Op::Ld { d, .. }
        | Op::Add { d, .. }
        | Op::Sub { d, .. }
        | Op::Mul { d, .. }
        | Op::Div { d, .. }
        | Op::Rem { d, .. }
        | Op::Neg { d, .. }
        | Op::Sqrt { d, .. }
        | Op::And { d, .. }
        | Op::Or { d, .. }
        | Op::Xor { d, .. }
        | Op::Not { d, .. }
        | Op::Shl { d, .. }
        | Op::Shr { d, .. }
        | Op::UShr { d, .. }
        | Op::Eq { d, .. }
        | Op::Ne { d, .. }
        | Op::Lt { d, .. }
        | Op::Le { d, .. }
        | Op::Gt { d, .. }
        | Op::Ge { d, .. }
        | Op::IToF { d, .. }
        | Op::FToI { d, .. }
        | Op::TypeOf { d, .. }
        | Op::Call { d, .. }
        | Op::CallV { d, .. }
        | Op::New { d, .. }
        | Op::GetF { d, .. }
        | Op::Send { d, .. }
        | Op::InstanceOf { d, .. }
        | Op::ANew { d, .. }
        | Op::AGet { d, .. }
        | Op::ALen { d, .. }
        | Op::Concat { d, .. }
        | Op::SLen { d, .. }
        | Op::ToStr { d, .. }
        | Op::SToI { d, .. }
        | Op::SToF { d, .. }
        | Op::Spawn { d, .. }
        | Op::Join { d, .. } => Some(d),
        _ => None,
    }
}

/// The ops control may go to after op `pc` (of the unfused code).
pub(super) fn successors(op: &Op, pc: usize) -> Vec<usize> {
    match (op, jump(op)) {
        (Op::Ret { .. } | Op::Trap { .. }, _) => vec![],
        (_, Some((t, _, false))) => vec![t],
        (_, Some((t, _, true))) => vec![t, pc + 1],
        _ => vec![pc + 1],
    }
}

/// Per op of the unfused code: the registers live before it (read on some path before being
/// written). An op whose reads this does not know reads every register.
pub(in crate::jit) fn liveness(prog: &Program, code: &[Op]) -> Vec<Vec<bool>> {
    let n = code.len();
    let nregs = code
        .iter()
        .flat_map(|op| reads(prog, op).unwrap_or_default().into_iter().chain(writes(op)))
        .max()
        .map_or(0, |r| r as usize + 1);
    let mut live = vec![vec![false; nregs]; n];
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..n).rev() {
            let op = &code[pc];
            let mut l = vec![false; nregs];
            for s in successors(op, pc) {
                if let Some(ls) = live.get(s) {
                    for (x, &y) in l.iter_mut().zip(ls) {
                        *x |= y;
                    }
                }
            }
            if let Some(d) = writes(op) {
                l[d as usize] = false;
            }
            match reads(prog, op) {
                Some(rs) => rs.into_iter().for_each(|r| l[r as usize] = true),
                None => l.iter_mut().for_each(|x| *x = true),
            }
            if l != live[pc] {
                live[pc] = l;
                changed = true;
            }
        }
    }
    live
}

/// Which of the registers with a bit in `bit` (those not live at the header) the region has
/// written when it leaves, per op of the region `h..=end`, before it:
/// - `fresh`: written on every path from the header's latest start to the op, so written
///   whatever came before (the analysis without the edges back to the header);
/// - `may`: written on some path from the entry;
/// - and `every_lap`: written by every pass through a backward jump, when every backward jump
///   goes to the header (else nothing), so written once the region's budget is spent at all.
///
/// An exit writes such a register back if it is in `fresh`, or in `every_lap` and a backward
/// jump was taken; leaves it if it is not in `may`; and asks a run-time flag only otherwise
/// ([`Tr::exits`]). Without `every_lap`, a flag per register would be carried around the loop
/// for the exits of its first lap (mandelbrot's `tr`, `ti`, `t2`).
pub(super) struct Written {
    pub(super) fresh: Vec<u64>,
    pub(super) may: Vec<u64>,
    pub(super) every_lap: u64,
}

pub(super) fn written_before(code: &[Op], h: usize, end: usize, bit: &[Option<u32>]) -> Written {
    let n = end + 1 - h;
    let gen = |pc: usize| writes(&code[pc]).and_then(|d| bit[d as usize]).map_or(0, |b| 1u64 << b);
    let (mut fresh, mut may) = (vec![u64::MAX; n], vec![0u64; n]);
    fresh[0] = 0;
    let mut changed = true;
    while changed {
        changed = false;
        let (mut fresh_next, mut may_next) = (vec![u64::MAX; n], vec![0u64; n]);
        fresh_next[0] = 0;
        for pc in h..=end {
            let (m, y) = (fresh[pc - h] | gen(pc), may[pc - h] | gen(pc));
            for s in successors(&code[pc], pc) {
                if (h..=end).contains(&s) {
                    if s != h {
                        fresh_next[s - h] &= m;
                    }
                    may_next[s - h] |= y;
                }
            }
        }
        if fresh_next != fresh || may_next != may {
            (fresh, may, changed) = (fresh_next, may_next, true);
        }
    }
    // A call spends the budget too: a budget spent says a lap was run only without calls.
    let calls = code[h..=end].iter().any(|op| matches!(op, Op::Call { .. } | Op::Send { .. }));
    let mut every_lap = if calls { 0 } else { u64::MAX };
    for pc in h..=end {
        match jump(&code[pc]) {
            Some((to, true, _)) if to == h => every_lap &= fresh[pc - h],
            Some((_, true, _)) => every_lap = 0,
            _ => {}
        }
    }
    Written { fresh, may, every_lap }
}

/// Per register of a function of `nregs` registers and `arity` parameters (`code`, [`unfused`]:
/// every op's write is [`writes`]'):
/// the constant every write of it writes, when it has writes and each is a `ld` of the same
/// int or SmallFloat (mandelbrot's `two`, `four` and `ione`, loaded once before its loops).
/// A region whose header such a register is live at tests it against the constant once, at
/// its entry (a failed guess at the entry when it differs: the `ld` has not run yet), and
/// uses the constant: an immediate in the ops, no machine register held through the loop.
pub(super) fn constant_regs(code: &[Op], nregs: usize, arity: usize) -> Vec<Option<Value>> {
    // None: no write seen; Some(Some(v)): every write so far writes v; Some(None): another.
    let mut seen: Vec<Option<Option<Value>>> = vec![None; nregs];
    for op in code {
        let (d, v) = match *op {
            Op::Ld { d, v } if is_small_int(v) || is_small_float(v) => (d, Some(v)),
            _ => match writes(op) {
                Some(d) => (d, None),
                None => continue,
            },
        };
        let Some(slot) = seen.get_mut(d as usize) else { return vec![None; nregs] };
        *slot = match (*slot, v) {
            (None, v) => Some(v),
            (Some(Some(a)), Some(b)) if a == b => Some(Some(a)),
            _ => Some(None),
        };
    }
    seen.into_iter().enumerate().map(|(r, s)| if r < arity { None } else { s.flatten() }).collect()
}
