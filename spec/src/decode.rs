//! The `.lsb` decoder: bytes to [`Module`], checking the byte-level structure of
//! `spec/binary-format.md` and nothing more.
//!
//! Decoding and verification are separate passes. The decoder checks what it must to build a
//! `Module` at all and to bound its own work: magic and version, section order and lengths,
//! canonical LEB128, known opcodes and constant tags, UTF-8 names, and the count and length
//! limits (checked, together with the bytes that remain, before anything is reserved). Whether
//! indices are in range, registers exist, names are identifiers and so on is the verifier's
//! job ([`crate::verify`]), which also runs on modules that never were bytes (the assembler's).
//!
//! The decoder never panics, runs in time linear in its input, and allocates at most a small
//! constant multiple of it (see `[binary.robust]`).

mod reader;

use crate::encode::{
    SECTION_CLASSES, SECTION_CONSTANTS, SECTION_ENTRY, SECTION_FUNCTIONS, TAG_FLOAT, TAG_INT, TAG_STRING,
};
use crate::instr::{ClassIdx, ConstIdx, FieldRef, FuncIdx, Instr, Label, Opcode, Operand, OperandKind, Reg};
use crate::limits;
use crate::module::{Class, Constant, Function, Method, Module};
use crate::{MAGIC, VERSION};
use reader::{Reader, Result};
use std::fmt;

/// The input is not a well-formed `.lsb` file: `offset` is the byte where the problem is, and
/// `message` says what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The byte offset in the file where the problem is.
    pub offset: usize,
    /// What was expected there.
    pub message: String,
}

impl DecodeError {
    #[cold]
    fn new(offset: usize, message: String) -> DecodeError {
        DecodeError { offset, message }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed module at byte {:#x}: {}", self.offset, self.message)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes a `.lsb` file. The result is well formed but not verified: pass it to
/// [`crate::verify::verify`] before running it.
pub fn decode(bytes: &[u8]) -> std::result::Result<Module, DecodeError> {
    // [limit.module-bytes] Checked first, so nothing below ever sees a larger input.
    if bytes.len() > limits::MAX_MODULE_BYTES {
        return Err(DecodeError::new(
            limits::MAX_MODULE_BYTES,
            format!(
                "the input is {} bytes long, expected at most {} bytes (limit.module-bytes)",
                bytes.len(),
                limits::MAX_MODULE_BYTES
            ),
        ));
    }
    let mut r = Reader::new(bytes);
    header(&mut r)?;
    let constants = section(&mut r, SECTION_CONSTANTS, constants)?;
    let classes = section(&mut r, SECTION_CLASSES, classes)?;
    let functions = section(&mut r, SECTION_FUNCTIONS, functions)?;
    let entry = section(&mut r, SECTION_ENTRY, |r| Ok(FuncIdx(u32_(r, "the entry function index")?)))?;
    // [binary.sections] Nothing follows the entry section.
    if r.remaining() > 0 {
        return Err(DecodeError::new(
            r.pos(),
            "expected the end of the input after the entry section, found more bytes".to_string(),
        ));
    }
    Ok(Module { constants, classes, functions, entry })
}

/// [binary.magic], [binary.version]
fn header(r: &mut Reader<'_>) -> Result<()> {
    for (i, &expected) in MAGIC.iter().enumerate() {
        match r.peek() {
            Some(b) if b == expected => r.byte("the magic bytes")?,
            _ => {
                return Err(DecodeError::new(
                    i,
                    "expected the magic bytes `\\0lsb` (00 6c 73 62): not a lockstep binary module".to_string(),
                ))
            }
        };
    }
    let start = r.pos();
    let raw = r.take(4, "the format version (4 bytes, little-endian)")?;
    let version = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    if version != VERSION {
        return Err(DecodeError::new(
            start,
            format!("unsupported format version {version}, expected version {VERSION}"),
        ));
    }
    Ok(())
}

fn section_name(id: u8) -> &'static str {
    match id {
        SECTION_CONSTANTS => "constants",
        SECTION_CLASSES => "classes",
        SECTION_FUNCTIONS => "functions",
        SECTION_ENTRY => "entry",
        _ => "unknown",
    }
}

/// Reads section `id` (which must come next) with `body`, which must consume it exactly.
/// [binary.sections]
fn section<T>(r: &mut Reader<'_>, id: u8, body: impl FnOnce(&mut Reader<'_>) -> Result<T>) -> Result<T> {
    let name = section_name(id);
    let expected = format!("section {id} ({name})");
    let at = r.pos();
    let found = r.byte(&expected)?;
    if found != id {
        let what = if (SECTION_CONSTANTS..=SECTION_ENTRY).contains(&found) {
            format!("section {found} ({}), which is repeated or out of order", section_name(found))
        } else {
            format!("unknown section id {found}")
        };
        return Err(DecodeError::new(at, format!("expected {expected}, found {what}")));
    }
    let len_at = r.pos();
    let len = r.uleb(32, &format!("the byte length of the {name} section"))? as usize;
    if len > r.remaining() {
        return Err(DecodeError::new(
            len_at,
            format!("the {name} section declares {len} bytes but only {} remain in the input", r.remaining()),
        ));
    }
    r.enter_section(name, len);
    let value = body(r)?;
    if r.remaining() > 0 {
        return Err(DecodeError::new(
            r.pos(),
            format!("expected the end of the {name} section, found {} more bytes inside its length", r.remaining()),
        ));
    }
    r.leave_section();
    Ok(value)
}

/// A count or length: at most `limit` (rule `limit_rule`), and small enough that `count`
/// elements of at least `min_bytes` bytes each fit in what is left. Checked before any
/// allocation sized by it. [binary.robust]
fn count(r: &mut Reader<'_>, what: &str, limit: u64, limit_rule: &str, min_bytes: usize) -> Result<usize> {
    let at = r.pos();
    let n = r.uleb(32, what)?;
    if n > limit {
        return Err(DecodeError::new(at, format!("{what} is {n}, expected at most {limit} ({limit_rule})")));
    }
    // n <= u32::MAX, so this cannot overflow a 64-bit usize, and saturates elsewhere.
    let needed = (n as usize).saturating_mul(min_bytes);
    if needed > r.remaining() {
        return Err(DecodeError::new(
            at,
            format!(
                "{what} is {n}, but only {} bytes remain for them (each takes at least {min_bytes})",
                r.remaining()
            ),
        ));
    }
    Ok(n as usize)
}

fn u32_(r: &mut Reader<'_>, what: &str) -> Result<u32> {
    Ok(r.uleb(32, what)? as u32)
}

fn reg(r: &mut Reader<'_>, what: &str) -> Result<Reg> {
    Ok(Reg(r.uleb(16, what)? as u16))
}

/// [binary.name]
fn name(r: &mut Reader<'_>, what: &str) -> Result<String> {
    let len = count(r, &format!("the length of {what}"), u64::from(limits::MAX_NAME_LEN), "limit.name-len", 1)?;
    let at = r.pos();
    let bytes = r.take(len, what)?;
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(DecodeError::new(
            at + e.valid_up_to(),
            format!("expected {what} in UTF-8, found an invalid byte sequence"),
        )),
    }
}

/// [binary.constant]
fn constants(r: &mut Reader<'_>) -> Result<Vec<Constant>> {
    let n = count(r, "the constant count", u64::from(limits::MAX_CONSTANTS), "limit.constants", 2)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let at = r.pos();
        let c = match r.byte(&format!("the tag of constant {i}"))? {
            TAG_INT => Constant::Int(r.sleb(&format!("the value of int constant {i}"))?),
            TAG_FLOAT => {
                let raw = r.take(8, &format!("the 8 bytes of float constant {i}"))?;
                let mut bits = [0u8; 8];
                bits.copy_from_slice(raw);
                Constant::Float(f64::from_bits(u64::from_le_bytes(bits)))
            }
            TAG_STRING => {
                let len = count(
                    r,
                    &format!("the length of string constant {i}"),
                    limits::MAX_STRING_LEN,
                    "limit.string-len",
                    1,
                )?;
                Constant::Str(r.take(len, &format!("the bytes of string constant {i}"))?.into())
            }
            tag => {
                return Err(DecodeError::new(
                    at,
                    format!(
                        "unknown constant tag {tag:#04x} for constant {i}, expected \
                         {TAG_INT} (int), {TAG_FLOAT} (float) or {TAG_STRING} (string)"
                    ),
                ))
            }
        };
        out.push(c);
    }
    Ok(out)
}

/// [binary.class]
fn classes(r: &mut Reader<'_>) -> Result<Vec<Class>> {
    let n = count(r, "the class count", u64::from(limits::MAX_CLASSES), "limit.classes", 4)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let name = name(r, &format!("the name of class {i}"))?;
        let at = r.pos();
        let what = format!("the superclass of class {i}");
        // [binary.superclass] 0 is none, k + 1 is class k (k up to u32::MAX).
        let superclass = match r.uleb(64, &what)? {
            0 => None,
            k if k <= 1 << 32 => Some(ClassIdx((k - 1) as u32)),
            k => {
                return Err(DecodeError::new(
                    at,
                    format!("{what} is {k}, expected 0 (none) or a class index plus one, at most 2^32"),
                ))
            }
        };
        let nf = count(r, &format!("the field count of class {i}"), u64::from(limits::MAX_FIELDS), "limit.fields", 1)?;
        let mut fields = Vec::with_capacity(nf);
        for j in 0..nf {
            fields.push(self::name(r, &format!("the name of field {j} of class {i}"))?);
        }
        let nm =
            count(r, &format!("the method count of class {i}"), u64::from(limits::MAX_METHODS), "limit.methods", 2)?;
        let mut methods = Vec::with_capacity(nm);
        for j in 0..nm {
            let name = self::name(r, &format!("the name of method {j} of class {i}"))?;
            let func = FuncIdx(u32_(r, &format!("the function of method {j} of class {i}"))?);
            methods.push(Method { name, func });
        }
        out.push(Class { name, superclass, fields, methods });
    }
    Ok(out)
}

/// [binary.function]
fn functions(r: &mut Reader<'_>) -> Result<Vec<Function>> {
    let n = count(r, "the function count", u64::from(limits::MAX_FUNCTIONS), "limit.functions", 4)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let name = name(r, &format!("the name of function {i}"))?;
        let arity = u32_(r, &format!("the arity of function {i}"))?;
        let regs = u32_(r, &format!("the register count of function {i}"))?;
        let len = count(
            r,
            &format!("the instruction count of function {i}"),
            u64::from(limits::MAX_CODE_LEN),
            "limit.code-len",
            1,
        )?;
        let mut code = Vec::with_capacity(len);
        for pc in 0..len {
            code.push(instruction(r, i, pc)?);
        }
        out.push(Function { name, arity, regs, code });
    }
    Ok(out)
}

/// [binary.instruction]
fn instruction(r: &mut Reader<'_>, func: usize, pc: usize) -> Result<Instr> {
    let at = r.pos();
    let byte = r.byte(&format!("the opcode of instruction {pc} of function {func}"))?;
    let Some(opcode) = Opcode::from_byte(byte) else {
        return Err(DecodeError::new(
            at,
            format!("unknown opcode {byte:#04x} at instruction {pc} of function {func}, expected an opcode of the instruction table"),
        ));
    };
    let mut operands = Vec::with_capacity(opcode.operands().len());
    for spec in opcode.operands() {
        let what = format!("operand `{}` of `{}` (instruction {pc} of function {func})", spec.name, opcode.mnemonic());
        let operand = match spec.kind {
            OperandKind::Reg => Operand::Reg(reg(r, &what)?),
            OperandKind::Imm => Operand::Imm(r.sleb(&what)?),
            OperandKind::Const => Operand::Const(ConstIdx(u32_(r, &what)?)),
            OperandKind::Str => Operand::Str(ConstIdx(u32_(r, &what)?)),
            OperandKind::Func => Operand::Func(FuncIdx(u32_(r, &what)?)),
            OperandKind::Class => Operand::Class(ClassIdx(u32_(r, &what)?)),
            OperandKind::Field => {
                let class = ClassIdx(u32_(r, &format!("the class of {what}"))?);
                let slot = u32_(r, &format!("the slot of {what}"))?;
                Operand::Field(FieldRef { class, slot })
            }
            OperandKind::Label => Operand::Label(Label(u32_(r, &what)?)),
            OperandKind::Args => {
                let n =
                    count(r, &format!("the argument count of {what}"), u64::from(limits::MAX_ARGS), "limit.args", 1)?;
                let mut args = Vec::with_capacity(n);
                for k in 0..n {
                    args.push(reg(r, &format!("argument {k} of {what}"))?);
                }
                Operand::Args(args.into_boxed_slice())
            }
        };
        operands.push(operand);
    }
    // The operands were read from the opcode's own list, so they always match it.
    Instr::from_operands(opcode, operands).map_err(|e| DecodeError::new(at, format!("internal error: {e}")))
}
