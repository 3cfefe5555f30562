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
    Some(parse_decimal(s))
}

/// A spelling that matches the float grammar, correctly rounded. `f64::from_str` is correctly
/// rounded for mantissas of any length, but it saturates an explicit exponent past a few tens of
/// thousands, so `0.000…01e1000001` (a million zeros) came out 0.0 instead of 1.0. So the
/// decimal point is folded into the exponent first: with the leading zeros of the digits
/// stripped, the value is `0.SIG × 10^POINT`, and POINT, computed exactly, is small for any
/// value that is neither zero nor infinite after rounding; only that normal form is handed to
/// `from_str`.
fn parse_decimal(s: &[u8]) -> f64 {
    let (negative, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let signed = |x: f64| if negative { -x } else { x };
    let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(e) => (&rest[..e], &rest[e + 1..]),
        None => (rest, &b""[..]),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(d) => (&mantissa[..d], &mantissa[d + 1..]),
        None => (mantissa, &b""[..]),
    };
    // The explicit exponent, saturated far beyond any that matters (the input is at most a few
    // GB long, so POINT below cannot overflow).
    let (exp_negative, exp_digits) = match exponent.first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    let mut exp: i64 = 0;
    for &b in exp_digits {
        exp = (exp * 10 + i64::from(b - b'0')).min(1 << 50);
    }
    if exp_negative {
        exp = -exp;
    }
    let digits = || int.iter().chain(frac.iter());
    let leading_zeros = digits().take_while(|&&b| b == b'0').count();
    let significant: Vec<u8> = digits().skip(leading_zeros).copied().collect();
    let significant = &significant[..significant.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1)];
    if significant.is_empty() {
        return signed(0.0);
    }
    // value = 0.SIG × 10^point
    let point = int.len() as i64 - leading_zeros as i64 + exp;
    if point > 310 {
        // At least 10^310: past the largest float (about 1.8 × 10^308).
        return signed(f64::INFINITY);
    }
    if point < -330 {
        // Below 10^-330: under half the smallest subnormal (about 4.9 × 10^-324).
        return signed(0.0);
    }
    let mut text = String::with_capacity(significant.len() + 8);
    text.push_str("0.");
    text.extend(significant.iter().map(|&b| b as char));
    text.push('e');
    text.push_str(&point.to_string());
    // The bytes are ASCII digits in the grammar of `from_str`: it cannot fail.
    signed(text.parse::<f64>().unwrap_or(f64::NAN))
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
