//! Sizes and times for people: `--max-heap 64MiB` on the way in, `12.5 MiB` and `3.40 ms` on the
//! way out (`--stats`, `--stm-report`). The JSON forms keep plain bytes and nanoseconds.
//!
//! Units, case-insensitive, with or without a space before them: none or `B` (bytes); `KiB`,
//! `MiB`, `GiB`, `TiB` (powers of 1024); `kB`, `MB`, `GB`, `TB` (powers of 1000, as the SI and
//! IEC define them). A fraction is allowed when the product is a whole number of bytes
//! (`1.5GiB`). Bare `K`/`M`/`G` are refused rather than guessed: tools disagree on whether they
//! mean 1000 or 1024.

use std::time::Duration;

/// The units `parse_size` accepts, with their factors.
const UNITS: &[(&str, u64)] = &[
    ("b", 1),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
];

const EXPECTED: &str =
    "expected bytes, optionally with a unit: B, KiB, MiB, GiB, TiB (x1024) or kB, MB, GB, TB (x1000), \
                        for example 64MiB";

/// Parses a size in bytes: `4096`, `64MiB`, `1.5 GiB`, `100MB`. The error says what was wrong
/// and what is expected.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let number_end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = (&t[..number_end], t[number_end..].trim_start());
    if number.is_empty() {
        return Err(format!("`{text}` is not a size: {EXPECTED}"));
    }
    let factor = if unit.is_empty() {
        1
    } else {
        match UNITS.iter().find(|(name, _)| unit.eq_ignore_ascii_case(name)) {
            Some(&(_, f)) => f,
            None => return Err(format!("unknown unit `{unit}` in `{text}`: {EXPECTED}")),
        }
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if fraction.contains('.') || (whole.is_empty() && fraction.is_empty()) {
        return Err(format!("`{text}` is not a size: {EXPECTED}"));
    }
    let too_large = || format!("`{text}` is too large: at most {} bytes", usize::MAX);
    // value = (whole + fraction / 10^digits) * factor, computed exactly in 128 bits.
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 24 {
        return Err(format!("`{text}` has more decimal places than a size needs"));
    }
    let parse = |digits: &str| -> Result<u128, String> {
        if digits.is_empty() {
            return Ok(0);
        }
        digits.parse::<u128>().map_err(|_| too_large())
    };
    let scale = 10u128.pow(fraction.len() as u32);
    let scaled = parse(whole)?
        .checked_mul(scale)
        .and_then(|w| w.checked_add(parse(fraction).ok()?))
        .and_then(|n| n.checked_mul(u128::from(factor)))
        .ok_or_else(too_large)?;
    if scaled % scale != 0 {
        return Err(format!("`{text}` is not a whole number of bytes"));
    }
    usize::try_from(scaled / scale).map_err(|_| too_large())
}

/// A byte count for people: `512 B`, `12.5 KiB`, `1.00 MiB`, `4.00 GiB` (three significant
/// digits from KiB on).
pub fn bytes(n: u64) -> String {
    const NAMES: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    // Move up while the shown figure would reach 1024 (1023.98 KiB is `1.00 MiB`).
    while value >= 1023.5 && unit + 1 < NAMES.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{} {}", three_digits(value), NAMES[unit])
}

/// A duration for people: `0 s`, `850 ns`, `12.3 us`, `4.56 ms`, `1.23 s`, `125 s`.
pub fn duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0 s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns} ns");
    }
    // The unit is chosen so that the rounded figure stays below 1000 (999,999 ns is `1.00 ms`).
    let (value, unit) = if ns < 999_500 {
        (ns as f64 / 1e3, "us")
    } else if ns < 999_500_000 {
        (ns as f64 / 1e6, "ms")
    } else {
        (ns as f64 / 1e9, "s")
    };
    format!("{} {unit}", three_digits(value))
}

/// `value` (at least 1) with three significant digits, or as a whole number from 100 on.
fn three_digits(value: f64) -> String {
    // Rounding can carry into the next decade (9.996 -> "10.0", 99.96 -> "100").
    if value >= 99.95 {
        format!("{value:.0}")
    } else if value >= 9.995 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_and_without_units() {
        for (text, want) in [
            ("0", 0),
            ("4096", 4096),
            ("4096B", 4096),
            ("64MiB", 64 << 20),
            ("64mib", 64 << 20),
            ("64 MiB", 64 << 20),
            ("4GiB", 4 << 30),
            ("1KiB", 1024),
            ("2TiB", 2 << 40),
            ("100MB", 100_000_000),
            ("3kB", 3_000),
            ("1.5GiB", 3 << 29),
            ("0.5KiB", 512),
            ("1.25kB", 1_250),
            ("2.000MB", 2_000_000),
            (" 8MiB ", 8 << 20),
            ("18446744073709551615", usize::MAX),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_sizes_say_what_is_wrong() {
        for (text, says) in [
            ("", "is not a size"),
            ("MiB", "is not a size"),
            ("-1", "is not a size"),
            ("64XB", "unknown unit `XB`"),
            ("64M", "unknown unit `M`"),
            ("64 MiB extra", "unknown unit `MiB extra`"),
            ("1.2.3MiB", "is not a size"),
            (".", "is not a size"),
            ("0.1KiB", "not a whole number of bytes"),
            ("1.5", "not a whole number of bytes"),
            ("18446744073709551616", "too large"),
            ("17179869184GiB", "too large"),
            ("99999999999999999999999999999999999999999", "too large"),
        ] {
            let e = parse_size(text).expect_err(text);
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(parse_size("64XB").unwrap_err().contains("KiB, MiB, GiB"));
    }

    #[test]
    fn human_bytes() {
        for (n, want) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.00 KiB"),
            (12_800, "12.5 KiB"),
            (1_048_704, "1.00 MiB"),
            (1023 * 1024 + 1000, "1.00 MiB"),
            (150 << 20, "150 MiB"),
            (4 << 30, "4.00 GiB"),
        ] {
            assert_eq!(bytes(n), want, "{n}");
        }
    }

    #[test]
    fn human_durations() {
        for (ns, want) in [
            (0, "0 s"),
            (850, "850 ns"),
            (1_000, "1.00 us"),
            (12_345, "12.3 us"),
            (999_499, "999 us"),
            (999_999, "1.00 ms"),
            (4_560_000, "4.56 ms"),
            (99_960_000, "100 ms"),
            (1_234_000_000, "1.23 s"),
            (125_000_000_000, "125 s"),
        ] {
            assert_eq!(duration(Duration::from_nanos(ns)), want, "{ns}");
        }
    }
}
