//! Splits one source line into tokens.
//!
//! The language is line-oriented and no token spans lines (a string may not contain a raw
//! newline), so each line is lexed on its own, when the parser reaches it: the first error in the
//! file is then the first one reported. Literals are fully decoded here (range checks, escapes,
//! correctly rounded floats), so the parser deals only in values.

use super::{Fail, Pos};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum TokKind<'a> {
    /// `[A-Za-z_][A-Za-z0-9_]*`, and the one signed word `-inf`.
    Ident(&'a str),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    /// One of `, ( ) { } : . =`.
    Punct(char),
}

/// A token borrows its text from the source: a line of many one-character tokens must not cost
/// an allocation per token.
#[derive(Clone, Debug)]
pub(super) struct Tok<'a> {
    pub kind: TokKind<'a>,
    /// 1-based character column of the token's first character.
    pub col: u32,
    /// The token as written, for messages.
    pub text: &'a str,
}

// [text.identifier]
fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Checks that line number `line` (1-based), whose text is `text` (without its newline), is
/// made of valid tokens, so that a lexical error anywhere on a line is reported before a
/// grammar error on it. The parser then lexes the line again, one token at a time
/// ([`Lexer::next_token`]): a line is never held as a list of tokens, which would take tens of
/// bytes per one-byte token.
pub(super) fn check_line(text: &str, line: u32) -> Result<(), Fail> {
    let mut lexer = Lexer::new(text, line);
    while lexer.next_token()?.is_some() {}
    Ok(())
}

/// The width in characters of the token that starts at `pos` on line `text`, for underlining
/// an error there ([text.errors]). Where no whole token starts there (a lexical error), the run
/// of characters up to the next space or punctuation if it starts like a token, else the one
/// character; 0 past the end of the line.
pub(super) fn token_width(text: &str, pos: Pos) -> u32 {
    let mut lexer = Lexer::new(text, pos.line);
    while let Ok(Some(tok)) = lexer.next_token() {
        if tok.col == pos.col {
            return u32::try_from(tok.text.chars().count()).unwrap_or(u32::MAX);
        }
        if tok.col > pos.col {
            break;
        }
    }
    let mut rest = text.chars().skip((pos.col as usize).saturating_sub(1)).peekable();
    let width = match rest.peek() {
        None => 0,
        Some(&c) if is_ident_continue(c) || c == '-' || c == '"' => {
            rest.take_while(|c| !c.is_whitespace() && !",;(){}".contains(*c)).count()
        }
        Some(_) => 1,
    };
    u32::try_from(width).unwrap_or(u32::MAX)
}

/// The tokens of one line, one at a time. Positions are byte offsets into the line; columns
/// count characters, kept up to date as the lexer moves forward so that a long line costs no
/// more than its length.
pub(super) struct Lexer<'a> {
    text: &'a str,
    line: u32,
    /// Where the next token is looked for.
    next: usize,
    /// The number of characters in `text[..counted_to]`.
    counted_to: usize,
    counted_chars: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str, line: u32) -> Lexer<'a> {
        Lexer { text, line, next: 0, counted_to: 0, counted_chars: 0 }
    }

    /// The 1-based character column of byte offset `i` (a character boundary).
    pub fn col(&mut self, i: usize) -> u32 {
        let chars = if i >= self.counted_to {
            self.counted_chars += self.text.get(self.counted_to..i).map_or(0, |s| s.chars().count());
            self.counted_to = i;
            self.counted_chars
        } else {
            // Only error positions look back, once.
            self.text.get(..i).map_or(0, |s| s.chars().count())
        };
        u32::try_from(chars + 1).unwrap_or(u32::MAX)
    }

    fn at(&self, i: usize) -> Option<char> {
        self.text.get(i..)?.chars().next()
    }

    fn pos(&mut self, i: usize) -> Pos {
        Pos { line: self.line, col: self.col(i) }
    }

    fn text(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or_default()
    }

    fn tok(&mut self, kind: TokKind<'a>, from: usize, to: usize) -> Tok<'a> {
        let text = self.text(from, to);
        self.next = to;
        Tok { kind, col: self.col(from), text }
    }

    /// The next token of the line, or `None` at its end (or at a comment).
    pub fn next_token(&mut self) -> Result<Option<Tok<'a>>, Fail> {
        let mut i = self.next;
        while let Some(c) = self.at(i) {
            // [text.comment]
            if c == ';' {
                break;
            }
            if c.is_whitespace() {
                i += c.len_utf8();
                continue;
            }
            let tok = if is_ident_start(c) {
                let end = self.scan_ident(i);
                self.tok(TokKind::Ident(self.text(i, end)), i, end)
            } else if c.is_ascii_digit() || (c == '-' && self.at(i + 1).is_some_and(|d| d.is_ascii_digit())) {
                self.number(i)?
            } else if c == '-' && self.text(i, i + 4) == "-inf" && !self.at(i + 4).is_some_and(is_ident_continue) {
                self.tok(TokKind::Ident("-inf"), i, i + 4)
            } else if c == '"' {
                self.string(i)?
            } else if ",(){}:.=".contains(c) {
                // [text.punctuation]
                self.tok(TokKind::Punct(c), i, i + 1)
            } else {
                return Err(Fail::new(self.pos(i), format!("unexpected character `{}`", c.escape_debug())));
            };
            return Ok(Some(tok));
        }
        self.next = self.text.len();
        Ok(None)
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
    fn number(&mut self, start: usize) -> Result<Tok<'a>, Fail> {
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
            // `num::parse_float` rounds correctly however many digits and whatever exponent
            // ([text.float-literal] as [value.stof]); the grammar checked above is a subset of its own.
            let value: f64 = crate::num::parse_float(text.as_bytes())
                .ok_or_else(|| Fail::new(self.pos(start), format!("invalid float literal `{text}`")))?;
            if value.is_infinite() {
                return Err(Fail::new(
                    self.pos(start),
                    format!("float literal `{text}` is out of range (write `inf` for infinity)"),
                ));
            }
            Ok(self.tok(TokKind::Float(value), start, end))
        } else {
            // [text.int-literal]
            let mut magnitude: Option<u128> = Some(0);
            for c in self.text(magnitude_start, magnitude_end).chars() {
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
            Ok(self.tok(TokKind::Int(value), start, end))
        }
    }

    /// A string literal starting at the `"` at `start`. [text.string-literal]
    fn string(&mut self, start: usize) -> Result<Tok<'a>, Fail> {
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
                    i += c.len_utf8();
                }
            }
        }
        Ok(self.tok(TokKind::Str(bytes), start, i + 1))
    }

    /// The escape sequence whose `\` is at `i`: its byte and the index after it.
    fn escape(&mut self, i: usize) -> Result<(u8, usize), Fail> {
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
