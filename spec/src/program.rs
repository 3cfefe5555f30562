//! Reading a program file of either format, recognised by content: a file that starts with
//! [`crate::MAGIC`] is binary (`.lsb`), anything else must be UTF-8 assembly text (`.lsa`).
//! Extensions are never consulted, so a renamed file still loads as what it is.

use crate::asm::{self, AsmError, SourceMap};
use crate::decode::{self, DecodeError};
use crate::verify::{self, VerifiedModule, VerifyError};
use std::fmt;

/// Which format a program file was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A binary module (`.lsb`), recognised by its magic bytes.
    Binary,
    /// Assembly text (`.lsa`): any file without the magic.
    Text,
}

/// A loaded, verified program, with its source map when it came from text.
#[derive(Clone, Debug)]
pub struct Program {
    /// The program, verified: what engines run.
    pub module: VerifiedModule,
    /// The format the file was in.
    pub format: Format,
    /// From text: where each function and instruction is in it, for messages about traps.
    pub source_map: Option<SourceMap>,
}

/// Why a program file could not be loaded. Every variant means "the input was invalid".
#[derive(Clone, Debug)]
pub enum LoadError {
    /// The bytes start with the magic but are not a well-formed module.
    Decode(DecodeError),
    /// The file is not binary and not valid UTF-8 text.
    NotText {
        /// The byte offset of the first byte that is not part of valid UTF-8.
        offset: usize,
    },
    /// The text does not assemble.
    Asm(AsmError),
    /// The module is well formed but breaks a verifier rule.
    Verify(VerifyError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Decode(e) => write!(f, "{e}"),
            LoadError::NotText { offset } => write!(
                f,
                "not a lockstep program: no `\\0lsb` magic, and not UTF-8 text (invalid byte at offset {offset:#x})"
            ),
            LoadError::Asm(e) => write!(f, "{e}"),
            LoadError::Verify(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Loads and verifies a program from the bytes of a file named `file_name` (used in messages).
pub fn load_program(bytes: &[u8], file_name: &str) -> Result<Program, LoadError> {
    if bytes.starts_with(&crate::MAGIC) {
        let module = decode::decode(bytes).map_err(LoadError::Decode)?;
        let module = verify::verify(module).map_err(LoadError::Verify)?;
        return Ok(Program { module, format: Format::Binary, source_map: None });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotText { offset: e.valid_up_to() })?;
    let assembly = asm::assemble(text, file_name).map_err(LoadError::Asm)?;
    let map = assembly.source_map;
    let module = verify::verify(assembly.module).map_err(|mut e| {
        e.span = match (&e.function, e.pc, &e.class) {
            (Some((f, _)), Some(pc), _) => map.instruction(*f, pc),
            (Some((f, _)), None, _) => map.function(*f),
            (None, _, Some(c)) => map.class(*c),
            _ => None,
        };
        LoadError::Verify(e)
    })?;
    Ok(Program { module, format: Format::Text, source_map: Some(map) })
}
