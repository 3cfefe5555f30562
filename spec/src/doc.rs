//! Generates `spec/instructions.md` from the instruction table, so the document cannot drift:
//! `spec/tests/instructions_doc.rs` fails when the committed copy differs, and
//! `LOCKSTEP_BLESS=1 cargo test -p lockstep-spec --test instructions_doc` rewrites it.
//! Likewise the fuzzers' dictionary of the `.lsb` format, `fuzz/loader.dict` (its test:
//! `spec/tests/fuzz_dict.rs`).

use crate::encode::{
    sleb, uleb, SECTION_CLASSES, SECTION_CONSTANTS, SECTION_ENTRY, SECTION_FUNCTIONS, TAG_FLOAT, TAG_INT, TAG_STRING,
};
use crate::instr::Opcode;
use crate::trap::TrapKind;
use crate::{limits, MAGIC, VERSION};
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

/// The text of `fuzz/loader.dict`, a libFuzzer dictionary of the `.lsb` format: the magic and
/// header, the section ids and constant tags, every opcode byte, the LEB128 encodings of the
/// limits the decoder and verifier check (and one past them), and the float bit patterns the
/// verifier cares about. libFuzzer splices these into inputs, so a mutation can produce a
/// valid opcode or a value at a limit in one step instead of guessing it byte by byte.
/// Entries with the same bytes are written once (the first name wins).
pub fn fuzz_dictionary() -> String {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&VERSION.to_le_bytes());
    entries.push(("magic".into(), MAGIC.to_vec()));
    entries.push(("header".into(), header));
    for (name, id) in [
        ("constants", SECTION_CONSTANTS),
        ("classes", SECTION_CLASSES),
        ("functions", SECTION_FUNCTIONS),
        ("entry", SECTION_ENTRY),
    ] {
        entries.push((format!("section_{name}"), vec![id]));
    }
    for (name, tag) in [("int", TAG_INT), ("float", TAG_FLOAT), ("string", TAG_STRING)] {
        entries.push((format!("tag_{name}"), vec![tag]));
    }
    for &op in Opcode::ALL {
        entries.push((format!("op_{}", op.mnemonic()), vec![op.byte()]));
    }
    let unsigned: [(&str, u64); 11] = [
        ("regs", limits::MAX_REGS.into()),
        ("args", limits::MAX_ARGS.into()),
        ("fields", limits::MAX_FIELDS.into()),
        ("methods", limits::MAX_METHODS.into()),
        ("name_len", limits::MAX_NAME_LEN.into()),
        ("class_depth", limits::MAX_CLASS_DEPTH.into()),
        ("classes", limits::MAX_CLASSES.into()),
        ("functions", limits::MAX_FUNCTIONS.into()),
        ("constants", limits::MAX_CONSTANTS.into()),
        ("code_len", limits::MAX_CODE_LEN.into()),
        ("string_len", limits::MAX_STRING_LEN),
    ];
    for (name, limit) in unsigned {
        for (suffix, value) in [("", limit), ("_plus_1", limit + 1)] {
            let mut bytes = Vec::new();
            uleb(&mut bytes, value);
            entries.push((format!("max_{name}{suffix}"), bytes));
        }
    }
    for (name, value) in [("u16_max", u64::from(u16::MAX)), ("u32_max", u64::from(u32::MAX)), ("u64_max", u64::MAX)] {
        let mut bytes = Vec::new();
        uleb(&mut bytes, value);
        entries.push((format!("uleb_{name}"), bytes));
    }
    for (name, value) in [("i64_min", i64::MIN), ("i64_max", i64::MAX), ("minus_1", -1)] {
        let mut bytes = Vec::new();
        sleb(&mut bytes, value);
        entries.push((format!("sleb_{name}"), bytes));
    }
    // [verify.nan]: the one NaN allowed, and one that is not.
    for (name, value) in [
        ("nan", f64::NAN.to_bits()),
        ("nan_other", 0x7ff8_0000_0000_0001),
        ("inf", f64::INFINITY.to_bits()),
        ("minus_zero", (-0.0f64).to_bits()),
    ] {
        entries.push((format!("float_{name}"), value.to_le_bytes().to_vec()));
    }

    let mut out = String::from(
        "# libFuzzer dictionary of the .lsb format. Generated from spec/src (isa.rs, encode.rs,\n\
         # limits.rs) by spec/src/doc.rs; do not edit: run\n\
         #   LOCKSTEP_BLESS=1 cargo test -p lockstep-spec --test fuzz_dict\n",
    );
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for (name, bytes) in entries {
        if seen.contains(&bytes) {
            continue;
        }
        let escaped: String = bytes
            .iter()
            .map(|&b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(b).to_string(),
                _ => format!("\\x{b:02x}"),
            })
            .collect();
        let _ = writeln!(out, "{name}=\"{escaped}\"");
        seen.push(bytes);
    }
    out
}
