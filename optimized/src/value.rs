//! One machine word per value: the encoding every part of the optimized engine (and the JIT to
//! come) agrees on. See `optimized/DESIGN.md` for the rationale; in short, low-bit tagging in the
//! style of the Cog/Spur VM, chosen over NaN-boxing because lockstep ints are full 64-bit and
//! loop-style sums (loop_sum reaches ~5e15 > 2^52) must stay unboxed, while the common float
//! exponent range (2^-126 .. 2^128, where mandelbrot and nbody live) is immediate too.
//!
//! | low 3 bits | meaning |
//! |---|---|
//! | `000` | heap reference (8-aligned address of a cell header), or `0` = `nil` |
//! | `001` | SmallInt: a signed 61-bit integer in the upper bits |
//! | `010` | other immediates: `false`, `true`, function references, thread handles |
//! | `100` | SmallFloat: an IEEE double whose exponent less 896 is 1..255 (or ±0.0), rotated |
//!
//! **Canonical form** (an invariant every constructor keeps): an int is a SmallInt exactly when
//! it fits in 61 bits, otherwise a boxed int on the heap; a float is a SmallFloat exactly when
//! [`encode_float`] accepts it, otherwise boxed. So two ints are equal iff their words are equal
//! when both are small, and a small int never equals a boxed one.

/// A value: one 64-bit word, interpreted by its low tag bits.
pub type Value = u64;

pub const TAG_MASK: u64 = 7;
pub const TAG_INT: u64 = 1;
pub const TAG_IMM: u64 = 2;
pub const TAG_FLOAT: u64 = 4;

/// `nil` is the zero word, so fresh register frames are zero-filled memory.
pub const NIL: Value = 0;
pub const FALSE: Value = (1 << 3) | TAG_IMM;
pub const TRUE: Value = (2 << 3) | TAG_IMM;
const SUB_FUNC: u64 = 3;
const SUB_THREAD: u64 = 4;

/// Smallest and largest SmallInt (the range `small_int` and `small_add` implement).
#[cfg(test)]
pub const SMALL_INT_MIN: i64 = -(1 << 60);
#[cfg(test)]
pub const SMALL_INT_MAX: i64 = (1 << 60) - 1;

#[inline(always)]
pub fn is_heap(v: Value) -> bool {
    v & TAG_MASK == 0 && v != NIL
}

// The tags are one-hot (001, 010, 100, and 000 for references): bit 0 alone says SmallInt and
// bit 2 alone says SmallFloat, so the checks for two operands are one AND and one test.

#[inline(always)]
pub fn is_small_int(v: Value) -> bool {
    v & TAG_INT != 0
}

#[inline(always)]
pub fn both_small_int(a: Value, b: Value) -> bool {
    a & b & TAG_INT != 0
}

#[inline(always)]
pub fn is_small_float(v: Value) -> bool {
    v & TAG_FLOAT != 0
}

#[inline(always)]
pub fn both_small_float(a: Value, b: Value) -> bool {
    a & b & TAG_FLOAT != 0
}

/// The SmallInt for `i`, if it fits in 61 bits.
#[inline(always)]
pub fn small_int(i: i64) -> Option<Value> {
    let v = i.wrapping_shl(3);
    if v >> 3 == i {
        Some(v as u64 | TAG_INT)
    } else {
        None
    }
}

#[inline(always)]
pub fn small_int_value(v: Value) -> i64 {
    (v as i64) >> 3
}

/// Adds two SmallInts; `None` when the sum leaves the 61-bit range (the caller boxes it).
#[inline(always)]
pub fn small_add(a: Value, b: Value) -> Option<Value> {
    // (x<<3|1) + (y<<3) = (x+y)<<3|1, and the i64 add overflows exactly when x+y needs > 61 bits.
    (a as i64).checked_add((b ^ TAG_INT) as i64).map(|r| r as u64)
}

#[inline(always)]
pub fn small_sub(a: Value, b: Value) -> Option<Value> {
    (a as i64).checked_sub((b ^ TAG_INT) as i64).map(|r| r as u64)
}

// After rotating the IEEE bits left by one, the sign is bit 0 and the 11-bit exponent is bits
// 53..64. Subtracting 896 from the exponent maps the exponents 897..1151 (2^-126 .. 2^128) to
// 1..255, which leaves the top three bits clear for the tag shift. That subtraction is the
// double multiplied by 2^-896, exactly (the result is a normal double): so a SmallFloat's word,
// shifted and rotated back, is the bits of `f * 2^-896`, and decoding is a multiply by 2^896,
// which maps ±0.0 to itself (their words need no special case). Exponent 896 (2^-127 .. 2^-126)
// would be 0 there, a subnormal that the multiply would not give back: those doubles are boxed.
const EXP_OFFSET: u64 = 896 << 53;

/// 2^896: decoding a SmallFloat multiplies by it (`decode_float`, tier 2's `Tr::decode`).
pub const SCALE_UP: f64 = f64::from_bits((1023 + 896) << 52);

/// The SmallFloat for `f`, if its exponent is in the immediate range (2^-126 .. 2^128) or it
/// is ±0.0.
#[inline(always)]
pub fn encode_float(f: f64) -> Option<Value> {
    let rot = f.to_bits().rotate_left(1);
    let r = rot.wrapping_sub(EXP_OFFSET);
    // The common case first, in one unsigned compare: 2^53 <= r < 2^61 (a biased exponent of
    // 1..255 after the offset).
    // (Planted bug: the least exponent is 896 again, as before session 22.)
    let least = if mutant!(float_admits_exponent_896) { 2 } else { 1 << 53 };
    if r.wrapping_sub(least) < (1 << 61) - least {
        Some((r << 3) | TAG_FLOAT)
    } else if rot <= 1 {
        Some((rot << 3) | TAG_FLOAT)
    } else {
        None
    }
}

/// The double of a SmallFloat: its word's bits rotated back, times 2^896 (exact: see
/// `EXP_OFFSET`). Compiled code decodes the same way (`jit/tier2/`); tier 1's integer form
/// (add the offset unless the value is ±0.0) gives the same bits on every SmallFloat, which
/// `decodings_agree` checks.
#[inline(always)]
pub fn decode_float(v: Value) -> f64 {
    f64::from_bits((v >> 3).rotate_right(1)) * SCALE_UP
}

#[inline(always)]
pub fn bool_value(b: bool) -> Value {
    if b {
        TRUE
    } else {
        FALSE
    }
}

pub fn func_value(index: u32) -> Value {
    ((index as u64) << 8) | (SUB_FUNC << 3) | TAG_IMM
}

/// The function index of a function reference.
#[inline(always)]
pub fn as_func(v: Value) -> Option<u32> {
    if v & 0xff == (SUB_FUNC << 3) | TAG_IMM {
        Some((v >> 8) as u32)
    } else {
        None
    }
}

pub fn thread_value(index: u32) -> Value {
    ((index as u64) << 8) | (SUB_THREAD << 3) | TAG_IMM
}

/// The thread-table index of a thread handle.
#[inline(always)]
pub fn as_thread(v: Value) -> Option<u32> {
    if v & 0xff == (SUB_THREAD << 3) | TAG_IMM {
        Some((v >> 8) as u32)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_ints_round_trip_exactly_at_the_range_edges() {
        for i in [0, 1, -1, 42, SMALL_INT_MIN, SMALL_INT_MAX, 4_999_999_950_000_000] {
            let v = small_int(i).expect("fits");
            assert!(is_small_int(v) && !is_heap(v));
            assert_eq!(small_int_value(v), i);
        }
        for i in [SMALL_INT_MAX + 1, SMALL_INT_MIN - 1, i64::MAX, i64::MIN] {
            assert_eq!(small_int(i), None, "{i} must be boxed");
        }
    }

    #[test]
    fn small_add_and_sub_detect_leaving_the_range() {
        let cases: &[(i64, i64)] = &[
            (1, 2),
            (-5, 3),
            (SMALL_INT_MAX, 0),
            (SMALL_INT_MAX, 1),
            (SMALL_INT_MIN, -1),
            (SMALL_INT_MIN, SMALL_INT_MIN),
            (SMALL_INT_MAX, SMALL_INT_MIN),
        ];
        for &(x, y) in cases {
            let (a, b) = (small_int(x).unwrap(), small_int(y).unwrap());
            assert_eq!(small_add(a, b).map(small_int_value), small_int(x + y).map(|_| x + y), "{x}+{y}");
            assert_eq!(small_sub(a, b).map(small_int_value), small_int(x - y).map(|_| x - y), "{x}-{y}");
        }
    }

    /// Tier 1's decoding (`jit/x64.rs`: add the exponent offset unless the word is ±0.0's, then
    /// rotate back) and the multiply of [`decode_float`] agree on every SmallFloat, and both give
    /// the encoded double back; exponent 896, where they would not, has no SmallFloat.
    #[test]
    fn decodings_agree() {
        let integer_decode = |v: Value| {
            let r = v >> 3;
            f64::from_bits(if r > 1 { r.wrapping_add(EXP_OFFSET) } else { r }.rotate_right(1))
        };
        let mantissas = [0, 1, 0x8_0000_0000_0000, 0xF_FFFF_FFFF_FFFF, 0x5_5555_5555_5555];
        let mut small = 0;
        for exp in 0..2048u64 {
            for m in mantissas {
                for sign in [0, 1u64 << 63] {
                    let f = f64::from_bits(sign | exp << 52 | m);
                    let Some(v) = encode_float(f) else {
                        assert!(f != 0.0 && !(897..=1151).contains(&exp), "{f:e} should be immediate");
                        continue;
                    };
                    assert!(f == 0.0 || (897..=1151).contains(&exp), "{f:e} should be boxed");
                    assert_eq!(decode_float(v).to_bits(), f.to_bits(), "{f:e}");
                    assert_eq!(integer_decode(v).to_bits(), f.to_bits(), "{f:e}");
                    small += 1;
                }
            }
        }
        assert_eq!(small, 255 * 5 * 2 + 2);
    }

    #[test]
    fn floats_round_trip_bit_exactly_or_are_refused() {
        let cases = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            std::f64::consts::PI,
            1e38,
            -1e-38,
            f64::from_bits(0x3800_0000_0000_0001), // just above 2^-127
            f64::from_bits(0x380F_FFFF_FFFF_FFFF), // just below 2^-126
            f64::powi(2.0, -126),
            -f64::powi(2.0, -126),
            f64::powi(2.0, 128) * 1.5,
            f64::powi(2.0, -127),
            -f64::powi(2.0, -127),
            f64::powi(2.0, 129),
            1e300,
            5e-324,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for f in cases {
            let exp = ((f.to_bits() >> 52) & 0x7ff) as i64 - 1023;
            let expect_small = f == 0.0 || (-126..=128).contains(&exp);
            match encode_float(f) {
                Some(v) => {
                    assert!(expect_small, "{f:e} should be boxed");
                    assert!(is_small_float(v) && !is_small_int(v) && !is_heap(v));
                    assert_eq!(decode_float(v).to_bits(), f.to_bits(), "{f:e}");
                }
                None => assert!(!expect_small, "{f:e} should be immediate"),
            }
        }
    }

    #[test]
    fn immediates_are_distinct_and_decodable() {
        let vals = [NIL, FALSE, TRUE, func_value(0), func_value(7), thread_value(0), thread_value(7)];
        for (i, a) in vals.iter().enumerate() {
            for b in &vals[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(as_func(func_value(7)), Some(7));
        assert_eq!(as_func(thread_value(7)), None);
        assert_eq!(as_thread(thread_value(65535)), Some(65535));
        assert!(!is_heap(NIL) && !is_heap(TRUE));
    }

    #[test]
    fn the_one_bit_tag_tests_tell_every_kind_apart() {
        let int = small_int(-5).unwrap();
        let float = encode_float(2.5).unwrap();
        let zero = encode_float(-0.0).unwrap();
        let others = [NIL, FALSE, TRUE, func_value(3), thread_value(9), 0x1000, 0xffff_fff8];
        for v in others {
            assert!(!is_small_int(v) && !is_small_float(v), "{v:#x}");
            assert!(!both_small_int(v, int) && !both_small_int(int, v) && !both_small_float(v, float), "{v:#x}");
        }
        assert!(is_small_int(int) && !is_small_float(int));
        assert!(is_small_float(float) && !is_small_int(float) && is_small_float(zero));
        assert!(both_small_int(int, int) && both_small_float(float, zero));
        assert!(!both_small_int(int, float) && !both_small_float(int, float));
    }
}
