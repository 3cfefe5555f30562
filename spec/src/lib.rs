//! `lockstep-spec`: the lockstep machine's instruction set, module formats, loader, verifier,
//! assembler and disassembler. The normative text is in `spec/*.md`; this crate is its single
//! definition in code, and every engine reads programs through it.
//!
//! Pipeline: bytes --[`decode`]--> [`Module`] --[`verify`]--> [`VerifiedModule`] --> engines;
//! text --[`asm`]--> [`Module`]; [`Module`] --[`encode`]--> bytes; [`Module`] --[`disasm`]--> text.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod isa;

pub mod asm;
pub mod decode;
pub mod disasm;
pub mod doc;
pub mod encode;
pub mod host;
pub mod instr;
pub mod invoke;
pub mod limits;
pub mod module;
pub mod num;
pub mod outcome;
pub mod program;
pub mod schedule;
pub mod suggest;
pub mod trap;
pub mod verify;

pub use instr::{Args, ClassIdx, ConstIdx, FieldRef, Flags, FuncIdx, Instr, Label, Opcode, Operand, OperandKind, Reg};
pub use module::{Class, Constant, Function, Method, Module};
pub use trap::TrapKind;
pub use verify::VerifiedModule;

/// The first four bytes of every `.lsb` file: `\0lsb`.
pub const MAGIC: [u8; 4] = *b"\0lsb";
/// The binary format version this crate reads and writes.
pub const VERSION: u32 = 1;
