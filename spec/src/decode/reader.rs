//! A bounds-checked cursor over the input: every read names what it expected, so each error
//! carries the byte offset and the expectation without the decoder repeating itself.
//!
//! Offsets are absolute (from the start of the file), even inside a section, so an error points
//! at the byte a hex dump shows. The cursor never reads past `end`: the end of the current
//! section, or of the input between sections.

use super::DecodeError;

pub(super) type Result<T> = std::result::Result<T, DecodeError>;

pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Reads stop here: the end of the current section, or of the input.
    end: usize,
    /// The section being read, for messages ("" between sections).
    section: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0, end: bytes.len(), section: "" }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// Confines reads to the next `len` bytes (checked by the caller) named `section`.
    pub(super) fn enter_section(&mut self, section: &'static str, len: usize) {
        self.section = section;
        self.end = self.pos + len;
    }

    /// Reads may continue to the end of the input again.
    pub(super) fn leave_section(&mut self) {
        self.section = "";
        self.end = self.bytes.len();
    }

    /// The error for input that stops before `what`.
    #[cold]
    pub(super) fn truncated(&self, what: &str) -> DecodeError {
        if self.end == self.bytes.len() {
            DecodeError::new(self.end, format!("unexpected end of input, expected {what}"))
        } else {
            DecodeError::new(self.end, format!("expected {what}, but the {} section ends here", self.section))
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            self.bytes.get(self.pos).copied()
        } else {
            None
        }
    }

    pub(super) fn byte(&mut self, what: &str) -> Result<u8> {
        let b = self.peek().ok_or_else(|| self.truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes; `n` is checked against the bytes left before anything is copied.
    pub(super) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.truncated(what));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Canonical unsigned LEB128 of a value of `bits` bits (16, 32 or 64). // [binary.leb128]
    pub(super) fn uleb(&mut self, bits: u32, what: &str) -> Result<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        let mut shift: u32 = 0;
        loop {
            let b = self.byte(what)?;
            let low = u64::from(b & 0x7f);
            if shift + 7 > bits && low >> (bits - shift) != 0 {
                return Err(DecodeError::new(start, format!("expected {what}: value does not fit in {bits} bits")));
            }
            value |= low << shift;
            if b & 0x80 == 0 {
                if shift > 0 && b == 0 {
                    return Err(overlong(start, what));
                }
                return Ok(value);
            }
            shift += 7;
            if shift >= bits {
                return Err(too_long(start, what, bits));
            }
        }
    }

    /// Canonical signed LEB128 of an `i64`. // [binary.leb128]
    pub(super) fn sleb(&mut self, what: &str) -> Result<i64> {
        let start = self.pos;
        let mut value: u64 = 0;
        let mut shift: u32 = 0;
        let mut prev: u8 = 0;
        loop {
            let b = self.byte(what)?;
            let low = b & 0x7f;
            if shift == 63 {
                // The tenth byte holds bit 63; its other bits must repeat it (sign extension).
                if b & 0x80 != 0 {
                    return Err(too_long(start, what, 64));
                }
                if low != 0 && low != 0x7f {
                    return Err(DecodeError::new(start, format!("expected {what}: value does not fit in 64 bits")));
                }
            }
            value |= u64::from(low) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && low & 0x40 != 0 {
                    value |= !0u64 << shift;
                }
                // The last byte is redundant when it only repeats the previous byte's sign bit.
                let redundant = (b == 0x00 && prev & 0x40 == 0) || (b == 0x7f && prev & 0x40 != 0);
                if shift > 7 && redundant {
                    return Err(overlong(start, what));
                }
                return Ok(value as i64);
            }
            prev = b;
        }
    }
}

#[cold]
fn overlong(start: usize, what: &str) -> DecodeError {
    DecodeError::new(start, format!("expected {what}: LEB128 encoding is not the shortest one (overlong)"))
}

#[cold]
fn too_long(start: usize, what: &str, bits: u32) -> DecodeError {
    DecodeError::new(
        start,
        format!("expected {what}: LEB128 encoding longer than {} bytes for a {bits}-bit value", bits.div_ceil(7)),
    )
}
