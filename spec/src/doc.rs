//! Generates `spec/instructions.md` from the instruction table, so the document cannot drift:
//! `spec/tests/instructions_doc.rs` fails when the committed copy differs, and
//! `LOCKSTEP_BLESS=1 cargo test -p lockstep-spec --test instructions_doc` rewrites it.

use crate::instr::Opcode;
use crate::trap::TrapKind;
use std::fmt::Write;

/// The Markdown text of `spec/instructions.md`.
pub fn instructions_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Instruction table\n\n");
    out.push_str(
        "<!-- Generated from spec/src/isa.rs by spec/src/doc.rs. Do not edit: run\n     \
         LOCKSTEP_BLESS=1 cargo test -p lockstep-spec --test instructions_doc -->\n\n",
    );
    out.push_str(
        "Each instruction is its opcode byte followed by its operands in the order listed, \
         encoded as `binary-format.md` says for their kinds. Flags: see `concurrency.md` \
         (BOUNDARY_BEFORE, BOUNDARY_AFTER), `limits.md` (fuel: JUMP when backward, CALL) and \
         `verifier.md` (TERMINATOR). The meaning of each instruction is in `semantics.md`.\n\n",
    );
    out.push_str("| opcode | mnemonic | operands | flags | summary |\n");
    out.push_str("|---|---|---|---|---|\n");
    for &op in Opcode::ALL {
        let operands: Vec<String> = op.operands().iter().map(|o| format!("{}: {}", o.name, o.kind.name())).collect();
        let flags = op.flags().names().join(", ");
        let _ = writeln!(
            out,
            "| `{:#04x}` | `{}` | {} | {} | {} |",
            op.byte(),
            op.mnemonic(),
            if operands.is_empty() { "-".to_string() } else { format!("`{}`", operands.join(", ")) },
            if flags.is_empty() { "-".to_string() } else { flags },
            op.summary()
        );
    }
    out.push_str("\n## Trap kinds\n\n| name | meaning |\n|---|---|\n");
    for &t in TrapKind::ALL {
        let _ = writeln!(out, "| `{}` | {} |", t.name(), t.description());
    }
    out
}
