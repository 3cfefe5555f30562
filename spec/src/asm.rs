//! The assembler: `.lsa` text to a [`Module`] (the language is `spec/text-format.md`).
//!
//! It exists so that people and tests can write programs by hand, and so that every module the
//! disassembler prints can be read back. It works in two passes, because every name may be used
//! before its declaration: [`parser`] reads the text line by line into declarations whose
//! operands are still names (registers and literals are settled there, since they are local to a
//! line or to the function header), and [`resolve`] turns names into indices and builds the
//! constant pool. Operands are parsed by the kind the instruction table lists for them, and the
//! instruction is built with [`Instr::from_operands`](crate::Instr::from_operands), so a new row
//! in `isa.rs` needs no change here.
//!
//! The assembler does not verify: a module that names a jump target past the end, or a class
//! whose superclass comes later, is produced as written and left to the verifier. The one
//! verifier rule it checks too is the depth of superclass chains, which bounds its own field
//! lookups ([text.class]). It does report
//! every error it can see at its source position, and it never panics, whatever the input.

mod lexer;
mod parser;
mod resolve;

use crate::module::Module;
use std::fmt;

/// The result of assembling: the module and where each of its instructions came from.
#[derive(Clone, Debug)]
pub struct Assembly {
    pub module: Module,
    pub source_map: SourceMap,
}

/// Source lines of instructions: `lines[f][pc]` is the 1-based source line of instruction `pc`
/// of function `f`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceMap {
    pub lines: Vec<Vec<u32>>,
}

impl SourceMap {
    /// The source line of instruction `pc` of function `func`, if there is such an instruction.
    pub fn line(&self, func: u32, pc: u32) -> Option<u32> {
        self.lines.get(func as usize)?.get(pc as usize).copied()
    }
}

/// The input was not a valid `.lsa` program: the first error, with its position. [text.errors]
///
/// `line` and `column` are 1-based; the column counts characters (not bytes) of the line.
/// `source_line` is the text of that line, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub source_line: String,
}

impl fmt::Display for AsmError {
    /// Three lines: `file:line:col: error: message`, the source line, a caret under the column.
    /// The input is shown through [`printable`], so a hostile line cannot drive the terminal,
    /// and a long line only around the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Characters shown on each side of the column of a long line.
        const WINDOW: usize = 80;
        let number = self.line.to_string();
        let width = number.len().max(5);
        writeln!(f, "{}:{}:{}: error: {}", self.file, self.line, self.column, printable(&self.message))?;
        let col = self.column.saturating_sub(1) as usize;
        let first = col.saturating_sub(WINDOW);
        let (mut shown, mut pad) = (String::new(), String::new());
        if first > 0 {
            shown.push_str("...");
            pad.push_str("   ");
        }
        let mut chars = self.source_line.chars().skip(first);
        let mut before = first;
        for c in chars.by_ref().take(col - first + WINDOW) {
            let start = shown.len();
            // Tabs are copied so that the caret lines up however the terminal expands them.
            if c == '\t' {
                shown.push('\t');
            } else {
                shown.push_str(&printable(c.encode_utf8(&mut [0; 4])));
            }
            if before < col {
                before += 1;
                let piece = &shown[start..];
                pad.extend(piece.chars().map(|c| if c == '\t' { '\t' } else { ' ' }));
            }
        }
        if chars.next().is_some() {
            shown.push_str("...");
        }
        // An error at the end of the line points just past its last character.
        pad.extend(std::iter::repeat_n(' ', col.saturating_sub(before)));
        writeln!(f, "{number:>width$} | {shown}")?;
        write!(f, "{:width$} | {pad}^", "")
    }
}

/// `text` with every control character but newline and tab, and every bidirectional-text
/// control, written as an escape (`\u{1b}`): for messages that quote their input, so that
/// printing them to a terminal shows the input instead of obeying it.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    fn hostile(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hostile(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl std::error::Error for AsmError {}

/// A position in the source: 1-based line and character column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pos {
    line: u32,
    col: u32,
}

/// An error before it is given its file name and source line.
#[derive(Clone, Debug)]
struct Fail {
    pos: Pos,
    message: String,
}

impl Fail {
    #[cold]
    fn new(pos: Pos, message: impl Into<String>) -> Fail {
        Fail { pos, message: message.into() }
    }
}

/// Assembles `.lsa` source text. `file_name` is used only in error messages.
pub fn assemble(source: &str, file_name: &str) -> Result<Assembly, AsmError> {
    let result = parser::parse(source).and_then(resolve::resolve);
    result.map_err(|fail| {
        // [text.lines] The line is found again only now: the parser keeps no list of lines.
        let line = source.split('\n').nth((fail.pos.line as usize).wrapping_sub(1)).unwrap_or_default();
        AsmError {
            file: file_name.to_string(),
            line: fail.pos.line,
            column: fail.pos.col,
            message: fail.message,
            source_line: line.strip_suffix('\r').unwrap_or(line).to_string(),
        }
    })
}
