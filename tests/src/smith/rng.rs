//! Choices drawn from `arbitrary` input, infallible: an exhausted input gives the smallest
//! choice and `false` for every chance, so generation always ends with a smaller program.
//! (`Unstructured::ratio` answers `true` on an exhausted input, which would keep any
//! "add another?" loop going; `chance` here does not.)

use arbitrary::Unstructured;

pub(crate) struct Rng<'a, 'b> {
    u: &'b mut Unstructured<'a>,
}

impl<'a, 'b> Rng<'a, 'b> {
    pub fn new(u: &'b mut Unstructured<'a>) -> Self {
        Rng { u }
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    /// True with probability `num / den`; false once the input is exhausted.
    pub fn chance(&mut self, num: u32, den: u32) -> bool {
        if self.u.is_empty() {
            return false;
        }
        self.u.ratio(num, den).unwrap_or(false)
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> Option<T> {
        if xs.is_empty() {
            None
        } else {
            Some(xs[self.below(xs.len())])
        }
    }

    pub fn u64(&mut self) -> u64 {
        self.u.arbitrary().unwrap_or(0)
    }

    /// An integer, usually an edge case.
    pub fn int(&mut self) -> i64 {
        const EDGES: &[i64] = &[
            0,
            1,
            -1,
            2,
            3,
            7,
            10,
            63,
            64,
            65,
            255,
            -128,
            1 << 31,
            1 << 32,
            1 << 53,
            (1 << 53) + 1,
            -(1 << 53) - 1,
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            i64::MAX - 1,
            1_000_000_007,
        ];
        match self.below(4) {
            0 | 1 => EDGES[self.below(EDGES.len())],
            2 => self.range(0, 200) as i64 - 100,
            _ => self.u64() as i64,
        }
    }

    /// A float, usually an edge case. NaN is always the canonical NaN ([verify.nan]).
    pub fn float(&mut self) -> f64 {
        const EDGES: &[f64] = &[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.1,
            2.5,
            -2.5,
            3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            1e300,
            -1e-300,
            9_223_372_036_854_775_808.0,
            -9_223_372_036_854_775_808.0,
            9_223_372_036_854_774_784.0,
            9_007_199_254_740_993.0,
            1e16,
            1.5e-7,
        ];
        let v = match self.below(4) {
            0 | 1 => EDGES[self.below(EDGES.len())],
            2 => (self.range(0, 2000) as f64 - 1000.0) / 8.0,
            _ => f64::from_bits(self.u64()),
        };
        if v.is_nan() {
            f64::NAN
        } else {
            v
        }
    }

    /// A string, often one that `stoi`/`stof` parse or nearly parse.
    pub fn string(&mut self) -> Vec<u8> {
        const EDGES: &[&[u8]] = &[
            b"",
            b"a",
            b"hello",
            b"0",
            b"123",
            b"-42",
            b"+5",
            b" 1",
            b"1 ",
            b"0x10",
            b"9223372036854775807",
            b"9223372036854775808",
            b"-9223372036854775808",
            b"1.5",
            b"-0.0",
            b"1e400",
            b"1e-400",
            b".5",
            b"5.",
            b"nan",
            b"inf",
            b"-inf",
            b"\xff\xfe",
            "\u{e9}t\u{e9}".as_bytes(),
            b"\n",
            b"tab\there",
            b"\"quoted\"",
            b"m0",
            b"m1",
        ];
        if self.chance(1, 5) {
            let n = self.below(6);
            (0..n).map(|_| self.range(0, 255) as u8).collect()
        } else {
            EDGES[self.below(EDGES.len())].to_vec()
        }
    }
}
