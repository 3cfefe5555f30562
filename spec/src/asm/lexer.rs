//! Splits one source line into tokens.
//!
//! The language is line-oriented and no token spans lines (a string may not contain a raw
//! newline), so each line is lexed on its own, when the parser reaches it: the first error in the
//! file is then the first one reported. Literals are fully decoded here (range checks, escapes,
//! correctly rounded floats), so the parser deals only in values.

use super::{Fail, Pos};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum TokKind {
    /// `[A-Za-z_][A-Za-z0-9_]*`, and the one signed word `-inf`.
    Ident(String),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    /// One of `, ( ) { } : . =`.
    Punct(char),
}

#[derive(Clone, Debug)]
pub(super) struct Tok {
    pub kind: TokKind,
    /// 1-based character column of the token's first character.
    pub col: u32,
    /// The token as written, for messages.
    pub text: String,
}

/// What a line holds: its tokens, and the column just past its last character (where an
/// "end of line" error points).
pub(super) struct LexedLine {
    pub tokens: Vec<Tok>,
    pub end_col: u32,
}

// [text.identifier]
fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn col_of(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Lexes line number `line` (1-based), whose text is `text` (without its newline).
pub(super) fn lex_line(text: &str, line: u32) -> Result<LexedLine, Fail> {
    let chars: Vec<char> = text.chars().collect();
    let mut lexer = Lexer { chars: &chars, line, tokens: Vec::new() };
    lexer.run()?;
    Ok(LexedLine { tokens: lexer.tokens, end_col: col_of(chars.len()) })
}

struct Lexer<'a> {
    chars: &'a [char],
    line: u32,
    tokens: Vec<Tok>,
}

impl Lexer<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn pos(&self, i: usize) -> Pos {
        Pos { line: self.line, col: col_of(i) }
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars.get(from..to).unwrap_or_default().iter().collect()
    }

    fn push(&mut self, kind: TokKind, from: usize, to: usize) {
        let text = self.text(from, to);
        self.tokens.push(Tok { kind, col: col_of(from), text });
    }

    fn run(&mut self) -> Result<(), Fail> {
        let mut i = 0;
        while let Some(c) = self.at(i) {
            // [text.comment]
            if c == ';' {
                break;
            }
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            i = if is_ident_start(c) {
                let end = self.scan_ident(i);
                self.push(TokKind::Ident(self.text(i, end)), i, end);
                end
            } else if c.is_ascii_digit() || (c == '-' && self.at(i + 1).is_some_and(|d| d.is_ascii_digit())) {
                self.number(i)?
            } else if c == '-' && self.text(i, i + 4) == "-inf" && !self.at(i + 4).is_some_and(is_ident_continue) {
                self.push(TokKind::Ident("-inf".to_string()), i, i + 4);
                i + 4
            } else if c == '"' {
                self.string(i)?
            } else if ",(){}:.=".contains(c) {
                // [text.punctuation]
                self.push(TokKind::Punct(c), i, i + 1);
                i + 1
            } else {
                return Err(Fail::new(self.pos(i), format!("unexpected character `{}`", c.escape_debug())));
            };
        }
        Ok(())
    }

    fn scan_ident(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(is_ident_continue) {
            i += 1;
        }
        i
    }

    fn scan_digits(&self, mut i: usize, radix: u32) -> usize {
        while self.at(i).is_some_and(|c| c.is_digit(radix)) {
            i += 1;
        }
        i
    }

    /// An integer or float literal starting at `start` (a digit, or `-` and a digit).
    fn number(&mut self, start: usize) -> Result<usize, Fail> {
        let negative = self.at(start) == Some('-');
        let digits_start = start + usize::from(negative);
        let hex = self.at(digits_start) == Some('0') && matches!(self.at(digits_start + 1), Some('x' | 'X'));
        let (mut end, mut is_float, radix, magnitude_start) = if hex {
            let m = digits_start + 2;
            (self.scan_digits(m, 16), false, 16, m)
        } else {
            (self.scan_digits(digits_start, 10), false, 10, digits_start)
        };
        let magnitude_end = end;
        if hex && magnitude_end == magnitude_start {
            return Err(Fail::new(self.pos(end), "expected hexadecimal digits after `0x`"));
        }
        // [text.float-literal] a fraction and/or an exponent make a decimal literal a float.
        if !hex {
            if self.at(end) == Some('.') {
                if !self.at(end + 1).is_some_and(|c| c.is_ascii_digit()) {
                    return Err(Fail::new(
                        self.pos(end + 1),
                        "expected a digit after `.` in a float literal (write `1.0`, not `1.`)",
                    ));
                }
                end = self.scan_digits(end + 1, 10);
                is_float = true;
            }
            if matches!(self.at(end), Some('e' | 'E')) {
                let mut e = end + 1;
                if matches!(self.at(e), Some('+' | '-')) {
                    e += 1;
                }
                if !self.at(e).is_some_and(|c| c.is_ascii_digit()) {
                    return Err(Fail::new(self.pos(e), "expected a digit in the exponent of a float literal"));
                }
                end = self.scan_digits(e, 10);
                is_float = true;
            }
        }
        if self.at(end).is_some_and(|c| is_ident_continue(c) || c == '.') {
            let bad_end = self.scan_ident(end).max(end + 1);
            return Err(Fail::new(self.pos(start), format!("invalid number literal `{}`", self.text(start, bad_end))));
        }
        let text = self.text(start, end);
        if is_float {
            // Rust's parser rounds correctly; the grammar checked above is a subset of its own.
            let value: f64 =
                text.parse().map_err(|_| Fail::new(self.pos(start), format!("invalid float literal `{text}`")))?;
            if value.is_infinite() {
                return Err(Fail::new(
                    self.pos(start),
                    format!("float literal `{text}` is out of range (write `inf` for infinity)"),
                ));
            }
            self.push(TokKind::Float(value), start, end);
        } else {
            // [text.int-literal]
            let mut magnitude: Option<u128> = Some(0);
            for c in self.chars.get(magnitude_start..magnitude_end).unwrap_or_default() {
                let d = c.to_digit(radix).unwrap_or(0);
                magnitude = magnitude
                    .and_then(|m| m.checked_mul(u128::from(radix)))
                    .and_then(|m| m.checked_add(u128::from(d)))
                    .filter(|m| *m <= 1 << 64);
            }
            let value = magnitude
                .and_then(|m| i128::try_from(m).ok())
                .map(|m| if negative { -m } else { m })
                .and_then(|v| i64::try_from(v).ok())
                .ok_or_else(|| {
                    Fail::new(
                        self.pos(start),
                        format!(
                            "integer literal `{text}` is out of range (integers are 64-bit: {} to {})",
                            i64::MIN,
                            i64::MAX
                        ),
                    )
                })?;
            self.push(TokKind::Int(value), start, end);
        }
        Ok(end)
    }

    /// A string literal starting at the `"` at `start`. [text.string-literal]
    fn string(&mut self, start: usize) -> Result<usize, Fail> {
        let mut bytes = Vec::new();
        let mut i = start + 1;
        loop {
            let Some(c) = self.at(i) else {
                return Err(Fail::new(
                    self.pos(start),
                    "unterminated string literal (expected a closing `\"` on the same line)",
                ));
            };
            match c {
                '"' => break,
                '\\' => {
                    let (byte, next) = self.escape(i)?;
                    bytes.push(byte);
                    i = next;
                }
                _ => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += 1;
                }
            }
        }
        self.push(TokKind::Str(bytes), start, i + 1);
        Ok(i + 1)
    }

    /// The escape sequence whose `\` is at `i`: its byte and the index after it.
    fn escape(&self, i: usize) -> Result<(u8, usize), Fail> {
        let byte = match self.at(i + 1) {
            Some('n') => b'\n',
            Some('t') => b'\t',
            Some('r') => b'\r',
            Some('0') => 0,
            Some('\\') => b'\\',
            Some('"') => b'"',
            Some('x') => {
                let hi = self.at(i + 2).and_then(|c| c.to_digit(16));
                let lo = self.at(i + 3).and_then(|c| c.to_digit(16));
                return match (hi, lo) {
                    (Some(hi), Some(lo)) => Ok(((hi * 16 + lo) as u8, i + 4)),
                    _ => Err(Fail::new(
                        self.pos(i),
                        "bad escape: `\\x` must be followed by exactly two hexadecimal digits",
                    )),
                };
            }
            other => {
                let shown = other.map(|c| format!("`\\{}`", c.escape_debug())).unwrap_or("`\\` at end of line".into());
                return Err(Fail::new(
                    self.pos(i),
                    format!("bad escape {shown} (expected one of \\n \\t \\r \\0 \\\\ \\\" \\xHH)"),
                ));
            }
        };
        Ok((byte, i + 2))
    }
}
