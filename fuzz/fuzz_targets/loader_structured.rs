//! The loader (decode, then verify) on near-valid modules: a valid module from the program
//! generator (`lockstep_tests::smith`), encoded, then a few byte-level mutations inside its
//! sections. The raw `loader` target rarely gets past the header and the first section
//! (0.8% of its inputs are valid modules); here most inputs are whole modules with one thing
//! wrong deep inside, so the checks of the last sections, of every operand kind and of the
//! verifier get exercised, and a large share still load and verify.
//!
//! Checked, as in `loader` and `roundtrip`: no panic, hang or huge allocation; a module that
//! decodes re-encodes to the same bytes; a mutated module that verifies disassembles,
//! re-assembles and re-encodes to the same bytes. (Not an unchanged one: that is the
//! generator's output, whose round trip `tests/tests/differential.rs` checks, and the round
//! trip through text costs more than everything else here together.)
//!
//! The input: its first `PLAN_BYTES` bytes choose the mutations, the rest drives the generator.
//! To turn a crash file into a plain `.lsb` reproducer for `tests/regressions/loader/`, run it
//! with `LOCKSTEP_DUMP_LSB=FILE`: the target writes the mutated module's bytes there first.
#![no_main]
use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use lockstep_spec::Opcode;
use lockstep_tests::smith::{self, Options};

#[path = "common.rs"]
mod common;

/// Input bytes reserved for the mutation plan (up to 4 mutations of about 6 choices each).
const PLAN_BYTES: usize = 32;

fuzz_target!(|data: &[u8]| {
    let (plan, program) = data.split_at(data.len().min(PLAN_BYTES));
    let generated = smith::generate(&mut Unstructured::new(program), Options::ANY);
    let original = lockstep_spec::encode::encode(&generated.module);
    let bytes = mutate(&original, &mut Unstructured::new(plan));
    if let Some(path) = std::env::var_os("LOCKSTEP_DUMP_LSB") {
        std::fs::write(path, &bytes).expect("LOCKSTEP_DUMP_LSB names a writable file");
    }
    let changed = bytes != original;
    let valid = load(&bytes, changed);
    common::count_mutated("loader_structured", valid, changed);
});

/// Loads `bytes`, checking the round trips on the way (through text only when `changed`);
/// whether they load and verify.
fn load(bytes: &[u8], changed: bool) -> bool {
    let Ok(module) = lockstep_spec::decode::decode(bytes) else { return false };
    assert_eq!(lockstep_spec::encode::encode(&module), bytes, "decode then encode changed the bytes");
    let Ok(verified) = lockstep_spec::verify::verify(module) else { return false };
    if !changed {
        return true;
    }
    let text = lockstep_spec::disasm::disassemble(verified.module());
    let again = lockstep_spec::asm::assemble(&text, "loader_structured.lsa")
        .unwrap_or_else(|e| panic!("disassembly does not re-assemble: {e}\n{text}"));
    assert_eq!(lockstep_spec::encode::encode(&again.module), bytes, "round trip changed the bytes");
    true
}

/// One section of an encoded module: where its length and its content are.
struct Section {
    /// Offset of the length (just after the id byte).
    len_at: usize,
    /// The content: `start..end`.
    start: usize,
    end: usize,
}

/// The sections of a module the encoder wrote (so the framing is well formed).
fn sections(bytes: &[u8]) -> Vec<Section> {
    let mut out = Vec::new();
    let mut pos = lockstep_spec::MAGIC.len() + 4; // magic, version
    while pos < bytes.len() {
        let len_at = pos + 1;
        let (len, width) = read_uleb(&bytes[len_at..]);
        let start = len_at + width;
        out.push(Section { len_at, start, end: start + len });
        pos = start + len;
    }
    out
}

/// A well-formed unsigned LEB128 at the start of `bytes`: its value and width.
fn read_uleb(bytes: &[u8]) -> (usize, usize) {
    let mut value = 0usize;
    for (i, b) in bytes.iter().enumerate() {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    unreachable!("the encoder writes complete LEB128 numbers")
}

/// Opcodes with the same operand kinds as `op`: swapping one for another keeps the
/// instruction's length, so the rest of the section still decodes.
fn same_shape(op: Opcode) -> Vec<Opcode> {
    let kinds = |o: Opcode| o.operands().iter().map(|s| s.kind).collect::<Vec<_>>();
    Opcode::ALL.iter().copied().filter(|&o| o != op && kinds(o) == kinds(op)).collect()
}

/// Applies one to four mutations chosen by `u` to `original`. Each works inside one section
/// and keeps the framing (a mutation that changes a section's size rewrites its length), so
/// what the decoder and the verifier see is a module with something wrong, or something
/// different, inside. Mutations that keep a byte's continuation bit keep the LEB128 numbers'
/// widths, which is what keeps many mutated modules decodable.
fn mutate(original: &[u8], u: &mut Unstructured<'_>) -> Vec<u8> {
    let mut bytes = original.to_vec();
    let count = match u.int_in_range(0u8..=7).unwrap_or(0) {
        0..=5 => 1,
        6 => 2,
        _ => u.int_in_range(3..=4).unwrap_or(3),
    };
    for _ in 0..count {
        let secs = sections(&bytes);
        // The function section holds most of a module and most of the verifier's rules.
        let which = match u.int_in_range(0u8..=9).unwrap_or(0) {
            0..=1 => 0, // constants
            2 => 1,     // classes
            3 => 3,     // entry
            _ => 2,     // functions
        };
        let Some(s) = secs.get(which) else { continue };
        if s.start == s.end {
            continue;
        }
        let at = u.int_in_range(s.start..=s.end - 1).unwrap_or(s.start);
        let b = bytes[at];
        // Weights (out of 16) measured to keep about half of single mutations valid: value
        // changes mostly keep a module valid, inserted or removed bytes almost never do.
        match u.int_in_range(0u8..=15).unwrap_or(0) {
            // A smaller value, same continuation bit: an index or register stays in range
            // more often than not. (Zero becomes one, so that the byte changes.)
            0..=3 => {
                let low = b & 0x7f;
                bytes[at] = (b & 0x80) | if low == 0 { 1 } else { u.int_in_range(0..=low - 1).unwrap_or(0) };
            }
            // One more or one less: off-by-one at every limit the verifier checks.
            4 | 5 => bytes[at] = (b & 0x80) | (b.wrapping_add(1) & 0x7f),
            6 | 7 => bytes[at] = (b & 0x80) | (b.wrapping_sub(1) & 0x7f),
            // An opcode swapped for one with the same operand kinds (when the byte is one).
            8..=10 => match Opcode::from_byte(b) {
                Some(op) => {
                    let others = same_shape(op);
                    if let Ok(o) = u.choose(&others) {
                        bytes[at] = o.byte();
                    }
                }
                None => bytes[at] = b ^ (1 << u.int_in_range(0..=6).unwrap_or(0)),
            },
            // Any byte.
            11 => bytes[at] = u.arbitrary().unwrap_or(0),
            // A flipped bit.
            12 | 13 => bytes[at] = b ^ (1 << u.int_in_range(0..=7).unwrap_or(0)),
            // A byte inserted or removed, the section's length rewritten to match.
            14 | 15 => {
                let mut content = bytes[s.start..s.end].to_vec();
                let local = at - s.start;
                if u.arbitrary().unwrap_or(false) {
                    content.insert(local, u.arbitrary().unwrap_or(0));
                } else {
                    content.remove(local);
                }
                let mut rebuilt = bytes[..s.len_at].to_vec();
                lockstep_spec::encode::uleb(&mut rebuilt, content.len() as u64);
                rebuilt.extend_from_slice(&content);
                rebuilt.extend_from_slice(&bytes[s.end..]);
                bytes = rebuilt;
            }
            _ => unreachable!(),
        }
    }
    bytes
}
