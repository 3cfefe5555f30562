//! Number rules that every engine must apply bit for bit: the display form of floats, the
//! `stoi`/`stof` grammars, exact int/float comparison and the float-to-int conversion
//! (`spec/values.md`).
//!
//! They live in the spec crate rather than in each engine because they are easy to get subtly
//! wrong (shortest digits, 2^63 boundaries, -0.0) and two engines that each wrote their own
//! would disagree on exactly the cases a differential test is least likely to generate.

use std::cmp::Ordering;

/// 2^63 as a float: the first float above every int.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The display form of a float. (rule `value.float-display`)
///
/// `nan`, `inf`, `-inf`; otherwise the shortest decimal digits that read back to the same
/// float, positional when the decimal exponent `e` (of `d.ddd × 10^e`) satisfies
/// `-5 <= e < 17` (always with a `.`), else scientific `d[.ddd]e±XX` with at least two
/// exponent digits.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` without a precision prints the shortest digits that round-trip, as
    // `d[.ddd]e[-]X`; split it into the digit string and the decimal exponent.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };

    let body = if (-5..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() > int_len {
                format!("{}.{}", &digits[..int_len], &digits[int_len..])
            } else {
                format!("{}{}.0", digits, "0".repeat(int_len - digits.len()))
            }
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let exp_sign = if exp < 0 { '-' } else { '+' };
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        format!("{first}{frac}e{exp_sign}{:02}", exp.unsigned_abs())
    };
    format!("{sign}{body}")
}

/// The int a string spells, by the `stoi` grammar `[+-]?[0-9]+` (no spaces), or `None` when the
/// string does not match or the value is outside the int range. (rule `value.stoi`)
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate on the side of the sign so that i64::MIN (whose magnitude is no i64) parses.
    let mut value: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        value = value.checked_mul(10)?;
        value = if negative { value.checked_sub(d)? } else { value.checked_add(d)? };
    }
    Some(value)
}

/// The float a string spells, by the `stof` grammar, correctly rounded; `None` when the string
/// does not match. (rule `value.stof`)
///
/// Grammar: `[+-]?(D+(\.D*)?|\.D+)([eE][+-]?D+)?` where `D` is `[0-9]`, or exactly `nan`,
/// `inf` or `-inf`. A finite spelling too large for a float rounds to infinity and one too
/// small rounds to zero, as round-to-nearest prescribes.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    match s {
        b"nan" => return Some(f64::NAN),
        b"inf" => return Some(f64::INFINITY),
        b"-inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if !matches_float_grammar(s) {
        return None;
    }
    // The grammar is a subset of what `f64::from_str` accepts, and that parser is correctly
    // rounded for inputs of any length; the bytes are ASCII, so UTF-8 conversion cannot fail.
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

fn matches_float_grammar(s: &[u8]) -> bool {
    let mut i = 0;
    let digits_from = |i: usize| s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if matches!(s.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_digits = digits_from(i);
    i += int_digits;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = digits_from(i);
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = digits_from(i);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == s.len()
}

/// Compares an int with a float by exact mathematical value; `None` when the float is NaN.
/// (rule `value.compare-mixed`)
///
/// Converting the int to a float would be wrong: `2^53 + 1` and the float `2^53` would compare
/// equal.
pub fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    // Now -2^63 <= f < 2^63, so its integer part is exactly an i64 and the fraction is exact.
    let whole = f.trunc();
    let t = whole as i64;
    match i.cmp(&t) {
        Ordering::Equal => {
            let frac = f - whole;
            Some(if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        other => Some(other),
    }
}

/// Whether an int and a float are the same number (`eq` on mixed operands).
pub fn int_eq_float(i: i64, f: f64) -> bool {
    cmp_int_float(i, f) == Some(Ordering::Equal)
}

/// `ftoi`: the float truncated toward zero, or `None` when it is NaN or the truncated value is
/// outside the int range. (rule `value.ftoi`)
pub fn float_to_int(f: f64) -> Option<i64> {
    if f.is_nan() {
        return None;
    }
    let t = f.trunc();
    if (-TWO_POW_63..TWO_POW_63).contains(&t) {
        Some(t as i64)
    } else {
        None
    }
}

/// `itof`, and the promotion of an int operand in mixed arithmetic: round to nearest, ties to
/// even (Rust's `as` conversion does exactly that). (rule `value.itof`)
pub fn int_to_float(i: i64) -> f64 {
    i as f64
}

/// Integer `div`: truncates toward zero, `MIN / -1` wraps to `MIN`; `None` on a zero divisor.
/// (rule `value.int-div`)
pub fn int_div(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        None
    } else {
        Some(a.wrapping_div(b))
    }
}

/// Integer `rem`: the sign of the dividend, `MIN rem -1` is 0; `None` on a zero divisor.
pub fn int_rem(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        None
    } else {
        Some(a.wrapping_rem(b))
    }
}

/// The shift distance of `shl`, `shr`, `ushr`: the amount modulo 64 (`b & 63`, so -1 is 63).
/// (rule `value.shift`)
pub fn shift_amount(b: i64) -> u32 {
    (b & 63) as u32
}
