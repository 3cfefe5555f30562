//! Moves, constants, arithmetic, logic, comparisons and conversions: SmallInt and SmallFloat
//! fast paths inline (`DESIGN.md`, "Values"), everything else through `ops`.

use super::{Exec, Flow};
use crate::mode::Mode;
use crate::ops::{self, Arith, Bits, Cmp};
use crate::value::*;
use lockstep_spec::num;
use lockstep_spec::TrapKind;

// The four orderings, as const parameters (an enum cannot be one on stable Rust).
pub(crate) const LT: u8 = 0;
pub(crate) const LE: u8 = 1;
pub(crate) const GT: u8 = 2;
pub(crate) const GE: u8 = 3;

#[inline(always)]
fn cmp_of<const C: u8>() -> Cmp {
    match C {
        LT => Cmp::Lt,
        LE => Cmp::Le,
        GT => Cmp::Gt,
        _ => Cmp::Ge,
    }
}

/// The ordering on two SmallInts (tagged SmallInt words order like their values).
#[inline(always)]
fn int_holds<const C: u8>(x: i64, y: i64) -> bool {
    match C {
        LT => ops::small_int_lt(x, y),
        LE => x <= y,
        GT => x > y,
        _ => x >= y,
    }
}

#[inline(always)]
fn is_bool(v: Value) -> bool {
    v == TRUE || v == FALSE
}

/// [value.equality] with the cases decided by the words alone inline: two SmallInts, or any
/// operand that is `nil`, a bool, a function or a thread (equal only to the same word; these
/// are never equal to a value of another type). Strings, boxed numbers and floats (where
/// -0.0 == 0.0 but the words differ) go to `ops::equal`.
///
/// # Safety
/// `x` and `y` are immediates or live cells (as for `ops`).
#[inline(always)]
unsafe fn equal(heap: &crate::heap::Heap, x: Value, y: Value) -> bool {
    if both_small_int(x, y) || x == NIL || y == NIL || (x | y) & TAG_IMM != 0 {
        x == y
    } else {
        // SAFETY: the caller's contract.
        unsafe { ops::equal(heap, x, y) }
    }
}

impl<const STATS: bool, const JIT: bool, M: Mode> Exec<'_, STATS, JIT, M> {
    #[inline(always)]
    pub(super) fn nop(&mut self) -> Flow {
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn mov(&mut self, d: u16, s: u16) -> Flow {
        self.w.set(d, self.w.get(s));
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn ld(&mut self, d: u16, v: Value) -> Flow {
        self.w.set(d, v);
        self.next();
        Ok(())
    }

    /// A binary op: `fast` on the words, else the slow path `op` (which may trap). Both get the
    /// two register values, live (engine invariant: ARCHITECTURE.md), which is the precondition
    /// of the `ops` slow paths.
    #[inline(always)]
    fn binop(
        &mut self,
        d: u16,
        a: u16,
        b: u16,
        fast: impl FnOnce(Value, Value) -> Option<Value>,
        slow: impl FnOnce(&mut crate::heap::Heap, Value, Value) -> Result<Value, ops::Fault>,
    ) -> Flow {
        let (x, y) = (self.w.get(a), self.w.get(b));
        let r = match fast(x, y) {
            Some(r) => r,
            None => {
                let r = slow(&mut self.cx.heap, x, y);
                self.check(r)?
            }
        };
        self.w.set(d, r);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn add(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) {
                    small_add(x, y)
                } else if both_small_float(x, y) {
                    encode_float(decode_float(x) + decode_float(y))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::arith(h, Arith::Add, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn sub(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) {
                    small_sub(x, y)
                } else if both_small_float(x, y) {
                    encode_float(decode_float(x) - decode_float(y))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::arith(h, Arith::Sub, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn mul(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            // Floats first: multiplication is mostly a float operation in hot loops.
            |x, y| {
                if both_small_float(x, y) {
                    encode_float(decode_float(x) * decode_float(y))
                } else if both_small_int(x, y) {
                    small_int_value(x).checked_mul(small_int_value(y)).and_then(small_int)
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::arith(h, Arith::Mul, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn div(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) && y != TAG_INT {
                    small_int(small_int_value(x).wrapping_div(small_int_value(y)))
                } else if both_small_float(x, y) {
                    encode_float(decode_float(x) / decode_float(y))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::arith(h, Arith::Div, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn rem(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) && y != TAG_INT {
                    small_int(small_int_value(x).wrapping_rem(small_int_value(y)))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::arith(h, Arith::Rem, x, y) },
        )
    }

    /// A unary op: `fast` on the word, else the slow path (both get the register value, live,
    /// as in `binop`).
    #[inline(always)]
    fn unop(
        &mut self,
        d: u16,
        a: u16,
        fast: impl FnOnce(Value) -> Option<Value>,
        slow: impl FnOnce(&mut crate::heap::Heap, Value) -> Result<Value, ops::Fault>,
    ) -> Flow {
        let x = self.w.get(a);
        let r = match fast(x) {
            Some(r) => r,
            None => {
                let r = slow(&mut self.cx.heap, x);
                self.check(r)?
            }
        };
        self.w.set(d, r);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn neg(&mut self, d: u16, a: u16) -> Flow {
        self.unop(
            d,
            a,
            |x| {
                if is_small_float(x) {
                    encode_float(-decode_float(x))
                } else if is_small_int(x) {
                    small_int(small_int_value(x).wrapping_neg())
                } else {
                    None
                }
            },
            // SAFETY: a register value (see `unop`).
            |h, x| unsafe { ops::neg(h, x) },
        )
    }

    #[inline(always)]
    pub(super) fn sqrt(&mut self, d: u16, a: u16) -> Flow {
        // SAFETY: a register value (see `unop`).
        self.unop(
            d,
            a,
            |x| if is_small_float(x) { encode_float(decode_float(x).sqrt()) } else { None },
            |h, x| unsafe { ops::sqrt(h, x) },
        )
    }

    #[inline(always)]
    pub(super) fn and(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) {
                    Some(x & y)
                } else if is_bool(x) && is_bool(y) {
                    Some(bool_value(x == TRUE && y == TRUE))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::bits(h, Bits::And, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn or(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) {
                    Some(x | y)
                } else if is_bool(x) && is_bool(y) {
                    Some(bool_value(x == TRUE || y == TRUE))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::bits(h, Bits::Or, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn xor(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| both_small_int(x, y).then_some((x ^ y) | TAG_INT),
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::bits(h, Bits::Xor, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn not(&mut self, d: u16, a: u16) -> Flow {
        self.unop(
            d,
            a,
            // The complement of SmallInt i is the SmallInt !i, whose word is (!x & !7) | 1.
            |x| {
                if is_small_int(x) {
                    Some((!x & !TAG_MASK) | TAG_INT)
                } else if is_bool(x) {
                    Some(x ^ (TRUE ^ FALSE))
                } else {
                    None
                }
            },
            // SAFETY: a register value (see `unop`).
            |h, x| unsafe { ops::not(h, x) },
        )
    }

    #[inline(always)]
    pub(super) fn shl(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) {
                    small_int(small_int_value(x).wrapping_shl(num::shift_amount(small_int_value(y))))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::bits(h, Bits::Shl, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn shr(&mut self, d: u16, a: u16, b: u16) -> Flow {
        self.binop(
            d,
            a,
            b,
            |x, y| {
                if both_small_int(x, y) {
                    small_int(small_int_value(x).wrapping_shr(num::shift_amount(small_int_value(y))))
                } else {
                    None
                }
            },
            // SAFETY: register values (see `binop`).
            |h, x, y| unsafe { ops::bits(h, Bits::Shr, x, y) },
        )
    }

    #[inline(always)]
    pub(super) fn ushr(&mut self, d: u16, a: u16, b: u16) -> Flow {
        // SAFETY: register values (see `binop`).
        self.binop(d, a, b, |_, _| None, |h, x, y| unsafe { ops::bits(h, Bits::UShr, x, y) })
    }

    /// `eq` (or `ne` when `negate`).
    #[inline(always)]
    pub(super) fn eq(&mut self, d: u16, a: u16, b: u16, negate: bool) -> Flow {
        let (x, y) = (self.w.get(a), self.w.get(b));
        // SAFETY: register values (live: engine invariant).
        let r = unsafe { equal(&self.cx.heap, x, y) };
        self.w.set(d, bool_value(r != negate));
        self.next();
        Ok(())
    }

    /// The ordering `C` on `a` and `b` (may trap).
    #[inline(always)]
    fn compare<const C: u8>(&mut self, a: u16, b: u16) -> Result<bool, super::Exit> {
        let (x, y) = (self.w.get(a), self.w.get(b));
        Ok(if both_small_int(x, y) {
            int_holds::<C>(x as i64, y as i64)
        } else if both_small_float(x, y) {
            cmp_of::<C>().holds(decode_float(x).partial_cmp(&decode_float(y)))
        } else {
            // SAFETY: register values (live: engine invariant).
            let r = unsafe { ops::compare(&self.cx.heap, cmp_of::<C>(), x, y) };
            self.check(r)? == TRUE
        })
    }

    #[inline(always)]
    pub(super) fn cmp<const C: u8>(&mut self, d: u16, a: u16, b: u16) -> Flow {
        let r = self.compare::<C>(a, b)?;
        self.w.set(d, bool_value(r));
        self.next();
        Ok(())
    }

    /// The second half of a fused comparison and jump (`code::fuse`): `r` is the comparison's
    /// result, `ip` still at the comparison. The jump's own accounting and trap location (its
    /// index) are kept: `ip` moves to the jump before anything the jump does.
    #[inline(always)]
    fn fused_jump<const BACK: bool>(&mut self, r: bool, d: u16, t: u32, on: bool) -> Flow {
        self.w.set(d, bool_value(r));
        if STATS {
            self.icount += 1;
        }
        self.next();
        self.branch::<BACK>(r == on, t)
    }

    #[inline(always)]
    pub(super) fn cmp_jmp<const C: u8, const BACK: bool>(&mut self, d: u16, a: u16, b: u16, t: u32, on: bool) -> Flow {
        let r = self.compare::<C>(a, b)?;
        self.fused_jump::<BACK>(r, d, t, on)
    }

    #[inline(always)]
    pub(super) fn eq_jmp<const BACK: bool>(&mut self, d: u16, a: u16, b: u16, negate: bool, t: u32, on: bool) -> Flow {
        let (x, y) = (self.w.get(a), self.w.get(b));
        // SAFETY: register values (live: engine invariant).
        let r = unsafe { equal(&self.cx.heap, x, y) };
        self.fused_jump::<BACK>(r != negate, d, t, on)
    }

    /// `ldi t, K` fused with `add`/`sub d, a, t` (`code::fuse`): the arithmetic is located (for
    /// a trap) at its own index, the next one.
    #[inline(always)]
    pub(super) fn ld_arith<const SUB: bool>(&mut self, t: u16, d: u16, a: u16, k: Value) -> Flow {
        self.w.set(t, k);
        if STATS {
            self.icount += 1;
        }
        self.next();
        let x = self.w.get(a);
        let fast = if !is_small_int(x) {
            None
        } else if SUB {
            small_sub(x, k)
        } else {
            small_add(x, k)
        };
        let r = match fast {
            Some(r) => r,
            None => {
                // SAFETY: a register value and a SmallInt constant (live).
                let r = unsafe { ops::arith(&mut self.cx.heap, if SUB { Arith::Sub } else { Arith::Add }, x, k) };
                self.check(r)?
            }
        };
        self.w.set(d, r);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn itof(&mut self, d: u16, a: u16) -> Flow {
        // SAFETY: a register value (see `unop`).
        self.unop(
            d,
            a,
            |x| is_small_int(x).then(|| encode_float(small_int_value(x) as f64)).flatten(),
            |h, x| unsafe { ops::itof(h, x) },
        )
    }

    #[inline(always)]
    pub(super) fn ftoi(&mut self, d: u16, a: u16) -> Flow {
        // SAFETY: a register value (see `unop`).
        self.unop(d, a, |_| None, |h, x| unsafe { ops::ftoi(h, x) })
    }

    #[inline(always)]
    pub(super) fn type_of(&mut self, d: u16, a: u16) -> Flow {
        // SAFETY: a register value (live: engine invariant).
        self.w.set(d, self.cx.type_names[unsafe { ops::type_index(&self.cx.heap, self.w.get(a)) }]);
        self.next();
        Ok(())
    }

    /// A condition operand: a bool, or a type error.
    #[inline(always)]
    pub(super) fn cond(&mut self, c: u16) -> Result<bool, super::Exit> {
        let v = self.w.get(c);
        if v == TRUE {
            Ok(true)
        } else if v == FALSE {
            Ok(false)
        } else {
            // SAFETY: a register value (live: engine invariant).
            let detail = format!("a condition must be a bool, got {}", unsafe { ops::type_name(&self.cx.heap, v) });
            Err(self.trap(TrapKind::TypeError, None, detail))
        }
    }
}
