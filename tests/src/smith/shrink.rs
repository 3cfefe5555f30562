//! Reducing a failing program to a small one that still fails.
//!
//! The generator's input could be shrunk instead (proptest's way), but a smaller input is a
//! different program that may not fail at all; reducing the module itself keeps the failure
//! and works for programs from any source. Every candidate is verified before it is tried, so
//! the predicate only sees valid modules.
//!
//! Steps, each kept only when the program still fails: replace whole functions by a stub
//! (`ldnil r0; ret r0`); replace ever smaller runs of instructions by `nop` (a `nop` keeps
//! every label valid); finally delete the `nop`s, moving labels to the next instruction left, and the constants
//! no instruction uses any more.

use lockstep_spec::verify::verify;
use lockstep_spec::{Instr, Label, Module, VerifiedModule};

/// Most candidates tried; each runs the predicate (usually both engines) once.
const MAX_TRIES: usize = 4000;

/// The smallest module found that still satisfies `fails` (which `module` must satisfy).
pub fn shrink(module: &Module, mut fails: impl FnMut(&VerifiedModule) -> bool) -> Module {
    let mut best = module.clone();
    let mut tries = 0;
    let mut attempt = |candidate: Module, best: &mut Module| -> bool {
        if tries >= MAX_TRIES {
            return false;
        }
        tries += 1;
        match verify(candidate) {
            Ok(v) if fails(&v) => {
                *best = v.into_module();
                true
            }
            _ => false,
        }
    };
    for f in 0..best.functions.len() {
        let mut candidate = best.clone();
        let func = &mut candidate.functions[f];
        if func.code.len() <= 2 {
            continue;
        }
        func.regs = func.regs.max(1);
        func.code = vec![Instr::LdNil { dst: lockstep_spec::Reg(0) }, Instr::Ret { src: lockstep_spec::Reg(0) }];
        attempt(candidate, &mut best);
    }
    for f in 0..best.functions.len() {
        let mut size = best.functions[f].code.len().next_power_of_two();
        while size >= 1 {
            let mut start = 0;
            while start + 1 < best.functions[f].code.len() {
                let code = &best.functions[f].code;
                // The last instruction is the function's terminator: it stays.
                let end = (start + size).min(code.len() - 1);
                if code[start..end].iter().any(|i| !matches!(i, Instr::Nop {})) {
                    let mut candidate = best.clone();
                    for i in &mut candidate.functions[f].code[start..end] {
                        *i = Instr::Nop {};
                    }
                    attempt(candidate, &mut best);
                }
                start += size;
            }
            size /= 2;
        }
    }
    let mut compacted = without_nops(&best);
    super::body::canonical_pool(&mut compacted);
    attempt(compacted, &mut best);
    best
}

/// `module` with every `nop` deleted and jump targets moved accordingly.
pub fn without_nops(module: &Module) -> Module {
    let mut out = module.clone();
    for f in &mut out.functions {
        // new_index[p] = instructions kept before p: where a label at p lands.
        let mut new_index = Vec::with_capacity(f.code.len() + 1);
        let mut kept = 0u32;
        for i in &f.code {
            new_index.push(kept);
            if !matches!(i, Instr::Nop {}) {
                kept += 1;
            }
        }
        if kept == 0 {
            continue;
        }
        let code = std::mem::take(&mut f.code);
        f.code = code
            .into_iter()
            .filter(|i| !matches!(i, Instr::Nop {}))
            .map(|mut i| {
                if let Instr::Jmp { target } | Instr::JmpIf { target, .. } | Instr::JmpIfNot { target, .. } = &mut i {
                    let p = target.0 as usize;
                    *target = Label(new_index.get(p).copied().unwrap_or(kept - 1).min(kept - 1));
                }
                i
            })
            .collect();
    }
    out
}
