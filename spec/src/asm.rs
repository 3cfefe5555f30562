//! The assembler: `.lsa` text to a [`Module`] (the language is `spec/text-format.md`).
//!
//! It exists so that people and tests can write programs by hand, and so that every module the
//! disassembler prints can be read back. It works in two passes, because every name may be used
//! before its declaration: `parser` reads the text line by line into declarations whose
//! operands are still names (registers and literals are settled there, since they are local to a
//! line or to the function header), and `resolve` turns names into indices and builds the
//! constant pool. Operands are parsed by the kind the instruction table lists for them, and the
//! instruction is built with [`Instr::from_operands`](crate::Instr::from_operands), so a new row
//! in `isa.rs` needs no change here.
//!
//! The assembler does not verify: a module that names a jump target past the end, or a class
//! whose superclass comes later, is produced as written and left to the verifier. The two
//! verifier rules it checks too are the depth of superclass chains, which bounds its own field
//! lookups, and that no class redeclares an inherited field, which it can report at the field
//! where the verifier could only name the class ([text.class]). It does report every error it
//! can see at its source position, and it never panics, whatever the input.

mod lexer;
mod parser;
mod resolve;

use crate::module::Module;
use std::fmt;

/// The result of assembling: the module and where each of its instructions came from.
#[derive(Clone, Debug)]
pub struct Assembly {
    /// The module the text spells (not verified yet).
    pub module: Module,
    /// Where each function, class and instruction of `module` is in the text, for messages.
    pub source_map: SourceMap,
}

/// A stretch of one source line: 1-based line, 1-based character column of its first
/// character, and its width in characters (0 for a point just past the end of the line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// The 1-based line.
    pub line: u32,
    /// The 1-based column of the first character, counting characters, not bytes.
    pub column: u32,
    /// How many characters it covers.
    pub width: u32,
}

/// Where each function and instruction came from, for messages about a module made from text
/// (verifier errors, traps): `instructions[f][pc]` is the text of instruction `pc` of function
/// `f`, from its mnemonic to the end of its last operand; `functions[f]` is the name in the
/// function's header, `classes[c]` the name in class `c`'s.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceMap {
    /// Per function, per instruction: the instruction's text.
    pub instructions: Vec<Vec<Span>>,
    /// Per function: its name in its header.
    pub functions: Vec<Span>,
    /// Per class: its name in its header.
    pub classes: Vec<Span>,
}

impl SourceMap {
    /// The source line of instruction `pc` of function `func`, if there is such an instruction.
    pub fn line(&self, func: u32, pc: u32) -> Option<u32> {
        self.instruction(func, pc).map(|span| span.line)
    }

    /// The text of instruction `pc` of function `func`, if there is such an instruction.
    pub fn instruction(&self, func: u32, pc: u32) -> Option<Span> {
        self.instructions.get(func as usize)?.get(pc as usize).copied()
    }

    /// The name in the header of function `func`.
    pub fn function(&self, func: u32) -> Option<Span> {
        self.functions.get(func as usize).copied()
    }

    /// The name in the header of class `class`.
    pub fn class(&self, class: u32) -> Option<Span> {
        self.classes.get(class as usize).copied()
    }
}

/// The input was not a valid `.lsa` program: the first error, with its position. [text.errors]
///
/// `line` and `column` are 1-based; the column counts characters (not bytes) of the line.
/// `width` is the number of characters of the token at the column (0 at the end of the line).
/// `source_line` is the text of that line, for display. `help` is a suggestion, when one is
/// known: the declared name nearest to an unknown one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    /// The name of the file, as given to the assembler.
    pub file: String,
    /// The 1-based line of the error.
    pub line: u32,
    /// The 1-based column, in characters.
    pub column: u32,
    /// The width of the token at fault, in characters (0 at the end of the line).
    pub width: u32,
    /// What is wrong and what was expected.
    pub message: String,
    /// The text of the line, for display.
    pub source_line: String,
    /// A suggestion, when one is known (the declared name nearest to an unknown one).
    pub help: Option<String>,
}

impl fmt::Display for AsmError {
    /// Three lines: `file:line:col: error: message`, the source line, carets under the token
    /// (one caret at the end of a line), then `help: ...` when there is a suggestion.
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
        // The token may be cut by the window's end; the carets stop with what is shown.
        let shown_after = self.source_line.chars().count().saturating_sub(col).min(WINDOW);
        let token: String = self.source_line.chars().skip(col).take((self.width as usize).min(shown_after)).collect();
        let carets = printable(&token).chars().count().max(1);
        write!(f, "{:width$} | {pad}{}", "", "^".repeat(carets))?;
        if let Some(help) = &self.help {
            write!(f, "\n{:width$} = help: {}", "", printable(help))?;
        }
        Ok(())
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
    help: Option<String>,
}

impl Fail {
    #[cold]
    fn new(pos: Pos, message: impl Into<String>) -> Fail {
        Fail { pos, message: message.into(), help: None }
    }

    /// An unknown `what` named `written`: suggests the nearest of `known`, if one is near.
    #[cold]
    fn unknown<'a>(
        pos: Pos,
        message: String,
        written: &str,
        what: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Fail {
        let help = crate::suggest::closest(written, known).map(|name| format!("did you mean the {what} `{name}`?"));
        Fail { pos, message, help }
    }
}

/// Assembles `.lsa` source text. `file_name` is used only in error messages.
pub fn assemble(source: &str, file_name: &str) -> Result<Assembly, AsmError> {
    let result = parser::parse(source).and_then(resolve::resolve);
    result.map_err(|fail| {
        // [text.lines] The line is found again only now: the parser keeps no list of lines.
        let line = source.split('\n').nth((fail.pos.line as usize).wrapping_sub(1)).unwrap_or_default();
        let line = line.strip_suffix('\r').unwrap_or(line);
        AsmError {
            file: file_name.to_string(),
            line: fail.pos.line,
            column: fail.pos.col,
            width: lexer::token_width(line, fail.pos),
            message: fail.message,
            source_line: line.to_string(),
            help: fail.help,
        }
    })
}
