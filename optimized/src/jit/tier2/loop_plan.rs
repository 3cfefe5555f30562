//! What tier 2 decides per loop of a region before translating it: the loops whose laps keep
//! no segment start, the counted loops' steps whose overflow check is made once, and what each
//! loop's preheader tests, loads and carries ([`Lift`], [`Fwd`]).

use super::flow::{jump, loops, successors, writes};
use super::Rep;
use crate::code::Op;
use std::collections::HashMap;

/// The innermost loops of the region `h..=end` whose laps need no segment start of their own
/// ([`Tr::seg_of_loop`]): entered only at the header, with no call, send or return (only its
/// own backward jumps spend the budget in it), every backward jump in it to its header, and a
/// conditional one only as its last op (one not taken elsewhere would start a segment inside
/// the loop).
pub(super) fn seg_loops(code: &[Op], h: usize, end: usize) -> Vec<(usize, usize)> {
    let region = h..=end;
    let jumps: Vec<(usize, usize)> = region.clone().filter_map(|pc| jump(&code[pc]).map(|(t, _, _)| (pc, t))).collect();
    loops(code)
        .into_iter()
        .filter(|&(lh, le)| {
            lh >= h
                && le <= end
                && !jumps.iter().any(|&(pc, t)| !(lh..=le).contains(&pc) && t > lh && t <= le)
                && code[lh..=le].iter().enumerate().all(|(i, op)| match (op, jump(op)) {
                    (Op::Call { .. } | Op::Send { .. } | Op::Ret { .. }, _) => false,
                    (_, Some((t, true, cond))) => t == lh && (!cond || lh + i == le),
                    _ => true,
                })
        })
        .collect()
}

/// A counted loop's step whose overflow check the region's entry (or the loop's preheader)
/// makes once for every lap ([`counted_steps`]): the `add i, i, c` (or `add i, c, i`, or
/// `sub i, i, c`) of a loop whose header tests `i` against a bound `n`, where `c` and `n` do
/// not change in the loop. Going on past the header means `i < n` (or `i <= n`; `i > n`,
/// `i >= n` for a `sub`), and `i` changes nowhere else in that loop, so once `c > 0` and `n + c`
/// (less one step of the tag, for a strict test) does not overflow, the step cannot: the region
/// tests that at its entry when `n` and `c` change nowhere in it, else each time the loop is
/// entered ([`Step::pre`]), and compiles the step as a plain machine add. loop_sum's `add i, i, one` and mandelbrot's iteration
/// counter; the check of `add s, s, i` stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Step {
    pub(super) pc: usize,
    /// The webs of the bound `n` and the step `c`.
    pub(super) bound: u16,
    pub(super) step: u16,
    /// `add` under an upper bound, or `sub` under a lower one; whether the test is strict.
    pub(super) up: bool,
    pub(super) strict: bool,
    /// Where the test is made: `None` at the region's entry (the bound and the step are the
    /// same all through the region), or the header of the loop, tested in its preheader
    /// ([`Tr::preheader`]) each time the loop is entered, when they change in the region but
    /// not in the loop (nbody's `alen n, bodies` at the start of `advance`, a whole-function
    /// region, bounds its pair loop).
    pub(super) pre: Option<usize>,
}

/// The counted loops' steps of the region `h..=end` ([`Step`]) of `code` (renamed to webs), but
/// not those of `kept` (a compilation whose entry test of such a step failed keeps its check).
pub(super) fn counted_steps(
    code: &[Op],
    h: usize,
    end: usize,
    rep: &[Option<Rep>],
    live_w: &[bool],
    kept: &[usize],
) -> Vec<Step> {
    let region = h..=end;
    let written = |w: u16, within: std::ops::RangeInclusive<usize>| -> Vec<usize> {
        within.filter(|&pc| writes(&code[pc]) == Some(w)).collect()
    };
    let int = |w: u16| rep.get(w as usize).copied().flatten() == Some(Rep::I);
    // An invariant: live at the entry, an int there, and written nowhere in the region.
    let invariant = |w: u16| int(w) && live_w[w as usize] && written(w, region.clone()).is_empty();
    // Or an int written nowhere in the loop.
    let in_loop = |w: u16, lh: usize, le: usize| int(w) && written(w, lh..=le).is_empty();
    // The loops inside the region (the region's own among them), by the jumps of the region.
    let jumps: Vec<(usize, usize)> = region.clone().filter_map(|pc| jump(&code[pc]).map(|(t, _, _)| (pc, t))).collect();
    let mut inner: HashMap<usize, usize> = HashMap::new();
    for &(pc, t) in &jumps {
        if region.contains(&t) && t <= pc {
            let e = inner.entry(t).or_insert(pc);
            *e = (*e).max(pc);
        }
    }
    let mut steps = Vec::new();
    for (&lh, &le) in &inner {
        // The header's test, and the jump out of the loop when it does not hold.
        let (Some(test), Some(exit)) = (code.get(lh), code.get(lh + 1)) else { continue };
        let (t_if, x, when) = match *exit {
            Op::JmpIfNot { c, t } | Op::JmpIfNotBack { c, t } => (c, t as usize, true),
            Op::JmpIf { c, t } | Op::JmpIfBack { c, t } => (c, t as usize, false),
            _ => continue,
        };
        if lh + 1 > le || (lh..=le).contains(&x) {
            continue;
        }
        // `a < b` (etc.) holds past the jump, as (less, strict).
        let (d, a, b, less, strict) = match *test {
            Op::Lt { d, a, b } => (d, a, b, when, when),
            Op::Le { d, a, b } => (d, a, b, when, !when),
            Op::Gt { d, a, b } => (d, a, b, !when, when),
            Op::Ge { d, a, b } => (d, a, b, !when, !when),
            _ => continue,
        };
        if d != t_if {
            continue;
        }
        // No jump from the rest of the region into the loop but to its header.
        if jumps.iter().any(|&(pc, t)| !(lh..=le).contains(&pc) && t > lh && t <= le) {
            continue;
        }
        for (i, n, up) in [(a, b, less), (b, a, !less)] {
            if !int(i) || !in_loop(n, lh, le) {
                continue;
            }
            let [p] = written(i, lh..=le)[..] else { continue };
            let c = match code[p] {
                Op::Add { d, a, b } if up && d == i && a == i => b,
                Op::Add { d, a, b } if up && d == i && b == i => a,
                Op::Sub { d, a, b } if !up && d == i && a == i => b,
                _ => continue,
            };
            // Once a lap: not inside a loop nested in this one.
            let nested = jumps.iter().any(|&(q, t)| t <= q && t > lh && t <= p && p <= q);
            if c != i && in_loop(c, lh, le) && !nested && !kept.contains(&p) {
                let pre = if invariant(n) && invariant(c) { None } else { Some(lh) };
                steps.push(Step { pc: p, bound: n, step: c, up, strict, pre });
            }
        }
    }
    steps.sort_by_key(|s| s.pc);
    steps.dedup_by_key(|s| s.pc);
    steps
}

/// A loop inside a region whose loop-invariant heap cells are tested, and the doubles of whose
/// fields no op of the loop writes are decoded, once where the loop is entered (its preheader,
/// [`Tr::preheader`]) rather than at every lap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Lift {
    pub(super) h: usize,
    pub(super) e: usize,
    /// Webs the loop reads and never writes that some op of every lap tests as a heap cell:
    /// (web, class, or `u32::MAX` for an array).
    pub(super) cells: Vec<(u16, u32)>,
    /// The `getf` ops of the loop whose object is one of `cells` and whose field (by slot) no
    /// `setf` of the loop writes: their double is decoded once (the op still loads the word).
    pub(super) loads: Vec<usize>,
    /// The fields of `cells` the loop reads and writes through the same object, whose double
    /// the laps carry from each store to the next read instead of loading and decoding it
    /// ([`Fwd`]).
    pub(super) fwd: Vec<Fwd>,
}

/// A field of a loop-invariant object `o` that an innermost loop reads and writes (nbody's
/// `bi.vx` in its pair loop): the preheader decodes it once (its tag tested there) into a
/// variable the laps carry, each `setf` of it through `o` (of a double) sets the variable to
/// the double it stores, and each `getf` of it through `o` takes the variable's double instead
/// of decoding the word it still loads (for the exits). Holds while no other code writes the
/// field: heap words are plain, the loop calls nothing, and each `setf` of the slot through
/// another object first tests that that object is not `o` (`guards`), a guess that leaves
/// before the store when it fails (counted as `alias`, at the store), after which the region is
/// compiled again without the variable (`Cell::kept`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Fwd {
    pub(super) o: u16,
    pub(super) slot: u16,
    pub(super) loads: Vec<usize>,
    pub(super) stores: Vec<usize>,
    pub(super) guards: Vec<usize>,
}

/// The loops of the region `h..=end` (of webs' code) with something to lift ([`Lift`]). A loop
/// qualifies when the rest of the region enters it only at its header, so that its preheader
/// comes before every lap. A cell is tested there only when an op that tests it runs on every
/// lap (every path from the header to a backward jump to it passes the op): a loop whose
/// invariant object is nil where a test of it is not reached would otherwise leave at each
/// entry. Loads are lifted only when heap words are plain (`plain`): no other code writes the
/// heap while a region runs, and no barrier has to see the read.
pub(super) fn lifts(code: &[Op], h: usize, end: usize, plain: bool, rep: &[Option<Rep>], kept: &[usize]) -> Vec<Lift> {
    let region = h..=end;
    let jumps: Vec<(usize, usize)> = region.clone().filter_map(|pc| jump(&code[pc]).map(|(t, _, _)| (pc, t))).collect();
    let mut out = Vec::new();
    for (lh, le) in loops(code) {
        if lh < h || le > end || jumps.iter().any(|&(pc, t)| !(lh..=le).contains(&pc) && t > lh && t <= le) {
            continue;
        }
        let body = lh..=le;
        let written: Vec<u16> = body.clone().filter_map(|pc| writes(&code[pc])).collect();
        let stored: Vec<u16> = body
            .clone()
            .filter_map(|pc| if let Op::SetF { slot, .. } = code[pc] { Some(slot) } else { None })
            .collect();
        // Whether op `p` runs on every lap: no path from the header (not through `p`) reaches
        // a backward jump to it.
        let every_lap = |p: usize| {
            if p == lh {
                return true;
            }
            let (mut seen, mut todo) = (vec![false; le + 1 - lh], vec![lh]);
            while let Some(q) = todo.pop() {
                if q == p || seen[q - lh] {
                    continue;
                }
                seen[q - lh] = true;
                for s in successors(&code[q], q) {
                    if s == lh {
                        return false;
                    }
                    if body.contains(&s) {
                        todo.push(s);
                    }
                }
            }
            true
        };
        let mut lift = Lift { h: lh, e: le, cells: Vec::new(), loads: Vec::new(), fwd: Vec::new() };
        for pc in body.clone() {
            let cell = match code[pc] {
                Op::GetF { o, class, .. } | Op::SetF { o, class, .. } => (o, class),
                Op::AGet { a, .. } | Op::ASet { a, .. } | Op::ALen { a, .. } => (a, u32::MAX),
                _ => continue,
            };
            let invariant = !written.contains(&cell.0) || mutant!(tier2_lift_written_object);
            if invariant && !lift.cells.contains(&cell) && every_lap(pc) {
                lift.cells.push(cell);
            }
        }
        // A callee may store to any field.
        let calls = body.clone().any(|pc| matches!(code[pc], Op::Call { .. } | Op::Send { .. }));
        for pc in body.clone() {
            if let Op::GetF { o, class, slot, .. } = code[pc] {
                let unwritten = !calls && !stored.contains(&slot) || mutant!(tier2_lift_ignores_stores);
                if plain && lift.cells.contains(&(o, class)) && unwritten {
                    lift.loads.push(pc);
                }
            }
        }
        // Innermost: no backward jump in the body to another header.
        let innermost = body.clone().all(|pc| !matches!(jump(&code[pc]), Some((t, true, _)) if t != lh));
        if plain && !calls && innermost {
            lift.fwd = forwarded(code, lh, le, &lift.cells, rep, kept);
        }
        if !lift.cells.is_empty() {
            out.push(lift);
        }
    }
    out
}

/// The fields the loop `lh..=le` carries from store to read ([`Fwd`]), of its invariant
/// objects `cells`: every access of the slot through the object is of the object's class,
/// every store through it stores a double (`rep`), and no store through another object is one
/// whose test that it is not the object failed before (`kept`).
pub(super) fn forwarded(
    code: &[Op],
    lh: usize,
    le: usize,
    cells: &[(u16, u32)],
    rep: &[Option<Rep>],
    kept: &[usize],
) -> Vec<Fwd> {
    let body = lh..=le;
    let mut out: Vec<Fwd> = Vec::new();
    for &(o, class) in cells.iter().filter(|c| c.1 != u32::MAX) {
        for pc in body.clone() {
            let Op::GetF { o: g, slot, .. } = code[pc] else { continue };
            if g != o || out.iter().any(|f| (f.o, f.slot) == (o, slot)) {
                continue;
            }
            let (mut f, mut ok) = (Fwd { o, slot, loads: Vec::new(), stores: Vec::new(), guards: Vec::new() }, true);
            for q in body.clone() {
                match code[q] {
                    Op::GetF { o: g, slot: s, class: c, .. } if g == o && s == slot => {
                        ok &= c == class;
                        f.loads.push(q);
                    }
                    Op::SetF { o: g, s: v, slot: s, class: c } if s == slot => {
                        if g == o {
                            ok &= c == class && rep[v as usize] == Some(Rep::F);
                            f.stores.push(q);
                        } else {
                            ok &= !kept.contains(&q);
                            f.guards.push(q);
                        }
                    }
                    _ => {}
                }
            }
            if ok && !f.stores.is_empty() {
                out.push(f);
            }
        }
    }
    out
}
