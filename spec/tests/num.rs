//! The number rules of `spec/values.md`, as tables of cases plus round-trip properties.

use lockstep_spec::num::*;
use proptest::prelude::*;
use std::cmp::Ordering::{self, Equal, Greater, Less};

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
/// The largest float below 2^63.
const BELOW_TWO_POW_63: f64 = 9_223_372_036_854_774_784.0;

#[test]
fn format_float_cases() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (-1.0, "-1.0"),
        (0.1, "0.1"),
        (0.001, "0.001"),
        (1e-5, "0.00001"),
        (1.25e-5, "0.0000125"),
        (1e-6, "1e-06"),
        (1.5e-7, "1.5e-07"),
        (123.5, "123.5"),
        (-2.5, "-2.5"),
        (1234567.0, "1234567.0"),
        (0.30000000000000004, "0.30000000000000004"),
        (1e16, "10000000000000000.0"),
        (1.5e16, "15000000000000000.0"),
        (1e17, "1e+17"),
        (123456789012345680.0, "1.2345678901234568e+17"),
        (TWO_POW_63, "9.223372036854776e+18"),
        (1e100, "1e+100"),
        (-1e100, "-1e+100"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (5e-324, "5e-324"),
        (f64::NAN, "nan"),
        (-f64::NAN, "nan"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ];
    for &(f, want) in cases {
        assert_eq!(format_float(f), want, "format_float({f:e})");
    }
}

#[test]
fn parse_int_cases() {
    let cases: &[(&[u8], Option<i64>)] = &[
        (b"0", Some(0)),
        (b"-0", Some(0)),
        (b"+5", Some(5)),
        (b"007", Some(7)),
        (b"00000000000000000000000000001", Some(1)),
        (b"-42", Some(-42)),
        (b"9223372036854775807", Some(i64::MAX)),
        (b"-9223372036854775808", Some(i64::MIN)),
        (b"9223372036854775808", None),
        (b"-9223372036854775809", None),
        (b"99999999999999999999999", None),
        (b"", None),
        (b"+", None),
        (b"-", None),
        (b"+-1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"1.0", None),
        (b"1e3", None),
        (b"0x10", None),
        (b"1_000", None),
        (b"\xd9\xa1", None),
    ];
    for &(s, want) in cases {
        assert_eq!(parse_int(s), want, "parse_int({:?})", String::from_utf8_lossy(s));
    }
}

#[test]
fn parse_float_cases() {
    let cases: &[(&[u8], Option<f64>)] = &[
        (b"1", Some(1.0)),
        (b"1.", Some(1.0)),
        (b".5", Some(0.5)),
        (b"-.5", Some(-0.5)),
        (b"+1e3", Some(1000.0)),
        (b"1E-2", Some(0.01)),
        (b"2.5e+2", Some(250.0)),
        (b"0.1", Some(0.1)),
        (b"-0", Some(-0.0)),
        (b"-0.0", Some(-0.0)),
        (b"inf", Some(f64::INFINITY)),
        (b"-inf", Some(f64::NEG_INFINITY)),
        (b"1e400", Some(f64::INFINITY)),
        (b"-1e400", Some(f64::NEG_INFINITY)),
        (b"1e-400", Some(0.0)),
        // 2^53 + 1 lies halfway between two floats: ties to even.
        (b"9007199254740993", Some(9007199254740992.0)),
        (b"9007199254740995", Some(9007199254740996.0)),
        (b"", None),
        (b".", None),
        (b"-", None),
        (b"e5", None),
        (b".e5", None),
        (b"1e", None),
        (b"1e+", None),
        (b"1e5.0", None),
        (b"+inf", None),
        (b"-nan", None),
        (b"NaN", None),
        (b"Inf", None),
        (b"infinity", None),
        (b" 1", None),
        (b"1 ", None),
        (b"1_0", None),
        (b"0x1p3", None),
        (b"1..2", None),
    ];
    for &(s, want) in cases {
        let got = parse_float(s);
        let same = match (got, want) {
            (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
            (None, None) => true,
            _ => false,
        };
        assert!(same, "parse_float({:?}) = {got:?}, want {want:?}", String::from_utf8_lossy(s));
    }
    assert!(parse_float(b"nan").is_some_and(f64::is_nan));
}

/// [value.stof] Correct rounding however many digits a spelling has, also when the digits and a
/// large exponent cancel out: `f64::from_str` saturates an explicit exponent, so these came out
/// 0.0 or inf in both engines (issue 16 item 12).
#[test]
fn parse_float_folds_long_digit_runs_into_the_exponent() {
    let zeros = "0".repeat(1_000_000);
    let cases: Vec<(String, f64)> = vec![
        (format!("0.{zeros}1e1000001"), 1.0),
        (format!("-0.{zeros}15e1000001"), -1.5),
        (format!("1{zeros}e-1000000"), 1.0),
        (format!("25{zeros}e-1000001"), 2.5),
        (format!("{zeros}.{zeros}3e1000001"), 3.0),
        (format!("0.{zeros}1e-1000001"), 0.0),
        (format!("1{zeros}e100"), f64::INFINITY),
        (format!("-0.{zeros}"), -0.0),
        ("1e99999999999999999999999".to_string(), f64::INFINITY),
        ("1e-99999999999999999999999".to_string(), 0.0),
        ("0e99999999999999999999999".to_string(), 0.0),
        ("4.9406564584124654e-324".to_string(), f64::from_bits(1)),
        ("2.4703282292062328e-324".to_string(), f64::from_bits(1)),
        ("2.4703282292062327e-324".to_string(), 0.0),
        ("1.7976931348623158e308".to_string(), f64::MAX),
        ("1.7976931348623159e308".to_string(), f64::INFINITY),
    ];
    for (text, want) in cases {
        let got = parse_float(text.as_bytes()).expect("in the grammar");
        assert_eq!(got.to_bits(), want.to_bits(), "{}...: {got} want {want}", &text[..text.len().min(40)]);
    }
    // Ordinary spellings agree with `from_str` (which is correct for them).
    for text in ["123.456", "6.02214076e23", "-1.5e-7", "0.30000000000000004", "9007199254740993", "1e308"] {
        assert_eq!(parse_float(text.as_bytes()), text.parse::<f64>().ok(), "{text}");
    }
}

#[test]
fn cmp_int_float_cases() {
    let cases: &[(i64, f64, Option<Ordering>)] = &[
        (1, 1.0, Some(Equal)),
        (0, -0.0, Some(Equal)),
        (1, 1.5, Some(Less)),
        (2, 1.5, Some(Greater)),
        (-1, -1.5, Some(Greater)),
        (-2, -1.5, Some(Less)),
        ((1 << 53) + 1, 9007199254740992.0, Some(Greater)),
        (1 << 53, 9007199254740992.0, Some(Equal)),
        (i64::MAX, TWO_POW_63, Some(Less)),
        (i64::MAX, BELOW_TWO_POW_63, Some(Greater)),
        (i64::MIN, -TWO_POW_63, Some(Equal)),
        (i64::MIN, -9_223_372_036_854_777_856.0, Some(Greater)),
        (5, f64::INFINITY, Some(Less)),
        (5, f64::NEG_INFINITY, Some(Greater)),
        (5, f64::NAN, None),
    ];
    for &(i, f, want) in cases {
        assert_eq!(cmp_int_float(i, f), want, "cmp_int_float({i}, {f:e})");
        assert_eq!(int_eq_float(i, f), want == Some(Equal));
    }
}

#[test]
fn float_to_int_cases() {
    let cases: &[(f64, Option<i64>)] = &[
        (0.0, Some(0)),
        (-0.0, Some(0)),
        (1.9, Some(1)),
        (-1.9, Some(-1)),
        (BELOW_TWO_POW_63, Some(9_223_372_036_854_774_784)),
        (TWO_POW_63, None),
        (-TWO_POW_63, Some(i64::MIN)),
        (-9_223_372_036_854_777_856.0, None),
        (f64::NAN, None),
        (f64::INFINITY, None),
        (f64::NEG_INFINITY, None),
    ];
    for &(f, want) in cases {
        assert_eq!(float_to_int(f), want, "float_to_int({f:e})");
    }
}

#[test]
fn integer_helpers() {
    assert_eq!(int_to_float((1 << 53) + 1), 9007199254740992.0);
    assert_eq!(int_to_float((1 << 53) + 3), 9007199254740996.0);
    assert_eq!(int_to_float(i64::MAX), TWO_POW_63);
    let div_cases: &[(i64, i64, Option<i64>, Option<i64>)] = &[
        (7, 2, Some(3), Some(1)),
        (-7, 2, Some(-3), Some(-1)),
        (7, -2, Some(-3), Some(1)),
        (-7, -2, Some(3), Some(-1)),
        (i64::MIN, -1, Some(i64::MIN), Some(0)),
        (5, 0, None, None),
        (0, 0, None, None),
    ];
    for &(a, b, q, r) in div_cases {
        assert_eq!((int_div(a, b), int_rem(a, b)), (q, r), "{a} div/rem {b}");
    }
    for (b, want) in [(0, 0), (1, 1), (63, 63), (64, 0), (65, 1), (-1, 63), (i64::MIN, 0)] {
        assert_eq!(shift_amount(b), want, "shift_amount({b})");
    }
}

proptest! {
    #[test]
    fn format_float_round_trips(bits in any::<u64>()) {
        let f = f64::from_bits(bits);
        let text = format_float(f);
        let back = parse_float(text.as_bytes());
        prop_assert!(back.is_some(), "{} does not parse", text);
        let back = back.unwrap_or(0.0);
        if f.is_nan() {
            prop_assert!(back.is_nan());
            prop_assert_eq!(text, "nan");
        } else {
            prop_assert_eq!(back.to_bits(), bits, "{}", text);
            prop_assert!(text.contains('.') || text.contains('e') || text.ends_with("inf"));
        }
    }

    #[test]
    fn format_float_agrees_with_rust_shortest_digits(f in any::<f64>()) {
        // Rust's Display prints the same shortest digits positionally; the two spellings
        // must denote the same number.
        prop_assume!(f.is_finite());
        let ours = format_float(f);
        prop_assert_eq!(ours.parse::<f64>().ok().map(f64::to_bits), Some(f.to_bits()));
        let digits = |s: &str| {
            let mantissa = s.split(['e', 'E']).next().unwrap_or("").to_string();
            mantissa.chars().filter(char::is_ascii_digit).collect::<String>()
                .trim_matches('0').to_string()
        };
        prop_assert_eq!(digits(&ours), digits(&format!("{f}")));
    }

    #[test]
    fn parse_int_round_trips(i in any::<i64>()) {
        prop_assert_eq!(parse_int(i.to_string().as_bytes()), Some(i));
    }

    #[test]
    fn cmp_int_float_agrees_with_wide_arithmetic(i in any::<i64>(), f in -1e19f64..1e19f64) {
        // i128 holds every int and every integral float in this range exactly.
        let whole = f.trunc() as i128;
        let want = (i as i128).cmp(&whole).then(if f.fract() > 0.0 { Less } else if f.fract() < 0.0 { Greater } else { Equal });
        prop_assert_eq!(cmp_int_float(i, f), Some(want));
    }
}
