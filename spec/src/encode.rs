//! The `.lsb` encoder: [`Module`] to bytes, as `spec/binary-format.md` defines them.
//!
//! The encoder is total: it writes any `Module`, even one the verifier would reject or whose
//! counts and names exceed what the decoder accepts (the decoder then reports them). Keeping it
//! total means tools can always write out what they built and let the loader say what is wrong;
//! the alternative, a fallible encoder, would duplicate the decoder's and verifier's checks.
//!
//! Every value has exactly one encoding (canonical LEB128, fixed section order, no padding), so
//! `encode(decode(b)) == b` whenever `decode(b)` succeeds.

use crate::instr::{Instr, Operand};
use crate::module::{Class, Constant, Function, Module};
use crate::{MAGIC, VERSION};

/// Section ids, in the only order they may appear. // [binary.sections]
pub(crate) const SECTION_CONSTANTS: u8 = 1;
pub(crate) const SECTION_CLASSES: u8 = 2;
pub(crate) const SECTION_FUNCTIONS: u8 = 3;
pub(crate) const SECTION_ENTRY: u8 = 4;

/// Constant tags. // [binary.constant]
pub(crate) const TAG_INT: u8 = 0;
pub(crate) const TAG_FLOAT: u8 = 1;
pub(crate) const TAG_STRING: u8 = 2;

/// Encodes `module` as a `.lsb` file. Never fails and never panics.
pub fn encode(module: &Module) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC); // [binary.magic]
    out.extend_from_slice(&VERSION.to_le_bytes()); // [binary.version]

    let mut content = Vec::new();
    constants(&mut content, &module.constants);
    section(&mut out, SECTION_CONSTANTS, &mut content);
    classes(&mut content, &module.classes);
    section(&mut out, SECTION_CLASSES, &mut content);
    functions(&mut content, &module.functions);
    section(&mut out, SECTION_FUNCTIONS, &mut content);
    uleb(&mut content, u64::from(module.entry.0)); // [binary.entry]
    section(&mut out, SECTION_ENTRY, &mut content);
    out
}

/// Appends a section (id, length, content) and empties `content` for the next one.
fn section(out: &mut Vec<u8>, id: u8, content: &mut Vec<u8>) {
    out.push(id);
    uleb(out, content.len() as u64);
    out.append(content);
}

fn constants(out: &mut Vec<u8>, constants: &[Constant]) {
    uleb(out, constants.len() as u64);
    for c in constants {
        match c {
            Constant::Int(v) => {
                out.push(TAG_INT);
                sleb(out, *v);
            }
            Constant::Float(v) => {
                out.push(TAG_FLOAT);
                // The exact bits, NaN payload included: the verifier, not the format, decides
                // which NaNs are allowed. // [binary.float]
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            Constant::Str(bytes) => {
                out.push(TAG_STRING);
                byte_string(out, bytes);
            }
        }
    }
}

fn classes(out: &mut Vec<u8>, classes: &[Class]) {
    uleb(out, classes.len() as u64);
    for class in classes {
        byte_string(out, class.name.as_bytes());
        // 0 is "no superclass", so index k is written as k + 1 (which needs 33 bits for
        // k = u32::MAX; the decoder allows that). // [binary.superclass]
        uleb(out, class.superclass.map_or(0, |s| u64::from(s.0) + 1));
        uleb(out, class.fields.len() as u64);
        for field in &class.fields {
            byte_string(out, field.as_bytes());
        }
        uleb(out, class.methods.len() as u64);
        for method in &class.methods {
            byte_string(out, method.name.as_bytes());
            uleb(out, u64::from(method.func.0));
        }
    }
}

fn functions(out: &mut Vec<u8>, functions: &[Function]) {
    uleb(out, functions.len() as u64);
    for f in functions {
        byte_string(out, f.name.as_bytes());
        uleb(out, u64::from(f.arity));
        uleb(out, u64::from(f.regs));
        uleb(out, f.code.len() as u64);
        for instr in &f.code {
            instruction(out, instr);
        }
    }
}

/// Opcode byte, then each operand by its kind, in table order. // [binary.instruction]
fn instruction(out: &mut Vec<u8>, instr: &Instr) {
    out.push(instr.opcode().byte());
    for operand in instr.operands() {
        match operand {
            Operand::Reg(r) => uleb(out, u64::from(r.0)),
            Operand::Imm(v) => sleb(out, v),
            Operand::Const(k) | Operand::Str(k) => uleb(out, u64::from(k.0)),
            Operand::Func(f) => uleb(out, u64::from(f.0)),
            Operand::Class(c) => uleb(out, u64::from(c.0)),
            Operand::Field(field) => {
                uleb(out, u64::from(field.class.0));
                uleb(out, u64::from(field.slot));
            }
            Operand::Label(l) => uleb(out, u64::from(l.0)),
            Operand::Args(args) => {
                uleb(out, args.len() as u64);
                for r in args.iter() {
                    uleb(out, u64::from(r.0));
                }
            }
        }
    }
}

/// A length, then the bytes. // [binary.name], [binary.constant]
fn byte_string(out: &mut Vec<u8>, bytes: &[u8]) {
    uleb(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Unsigned LEB128, shortest form. // [binary.leb128]
/// Public for tools that patch encoded modules (the `loader_structured` fuzz target rewrites a
/// section's length after changing its size).
pub fn uleb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Signed LEB128, shortest form. // [binary.leb128]
pub(crate) fn sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let sign_bit_clear = byte & 0x40 == 0;
        if (value == 0 && sign_bit_clear) || (value == -1 && !sign_bit_clear) {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_examples() {
        let cases_u: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (624_485, &[0xe5, 0x8e, 0x26]),
            (u64::MAX, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ];
        for (v, bytes) in cases_u {
            let mut out = Vec::new();
            uleb(&mut out, *v);
            assert_eq!(&out, bytes, "uleb {v}");
        }
        let cases_s: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (63, &[0x3f]),
            (64, &[0xc0, 0x00]),
            (-1, &[0x7f]),
            (-64, &[0x40]),
            (-65, &[0xbf, 0x7f]),
            (-123_456, &[0xc0, 0xbb, 0x78]),
            (i64::MIN, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]),
            (i64::MAX, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]),
        ];
        for (v, bytes) in cases_s {
            let mut out = Vec::new();
            sleb(&mut out, *v);
            assert_eq!(&out, bytes, "sleb {v}");
        }
    }
}
