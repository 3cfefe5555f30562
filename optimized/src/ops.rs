//! The slow paths of the instructions: everything the interpreter's inline fast paths (two
//! SmallInts, two SmallFloats, an object of the exact class) do not handle. Each follows the
//! rules of `spec/values.md`; the shared number helpers of `lockstep_spec::num` do the parts
//! that are easy to get subtly wrong.
//!
//! Every function here that takes a [`Value`] and may look into the cell it refers to is an
//! `unsafe fn` with one precondition, called *live values* below: each value argument is an
//! immediate (nil included) or a heap reference to a live cell of the run. The interpreter
//! passes values it read from the registers of the running thread, which are live by the engine
//! invariant (ARCHITECTURE.md: collection only at safepoints, every register a root).

use crate::code::Program;
use crate::heap::{Heap, Kind, OutOfMemory};
use crate::value::*;
use lockstep_spec::num;
use lockstep_spec::outcome::Value as OutcomeValue;
use lockstep_spec::schedule::ThreadId;
use lockstep_spec::TrapKind;
use std::cmp::Ordering;

/// Why an instruction did not produce its result.
#[derive(Debug)]
pub enum Fault {
    Trap(TrapKind, String),
    Oom,
}

impl From<OutOfMemory> for Fault {
    fn from(_: OutOfMemory) -> Fault {
        Fault::Oom
    }
}

#[cold]
pub fn trap<T>(kind: TrapKind, detail: String) -> Result<T, Fault> {
    Err(Fault::Trap(kind, detail))
}

#[derive(Clone, Copy, Debug)]
pub enum Num {
    I(i64),
    F(f64),
}

/// The number `v` is, small or boxed; `None` for any other value.
///
/// # Safety
/// `v` is a live value (module doc).
#[inline]
pub unsafe fn num(heap: &Heap, v: Value) -> Option<Num> {
    if is_small_int(v) {
        Some(Num::I(small_int_value(v)))
    } else if is_small_float(v) {
        Some(Num::F(decode_float(v)))
    } else {
        // SAFETY: a live value (the caller's contract).
        match unsafe { heap.kind(v) }? {
            Kind::BoxInt => unsafe { heap.boxed_int(v) }.map(Num::I),
            Kind::BoxFloat => unsafe { heap.boxed_float(v) }.map(Num::F),
            _ => None,
        }
    }
}

/// The int `v` is, small or boxed.
///
/// # Safety
/// `v` is a live value (module doc).
pub unsafe fn int(heap: &Heap, v: Value) -> Option<i64> {
    // SAFETY: the caller's contract.
    match unsafe { num(heap, v) }? {
        Num::I(i) => Some(i),
        Num::F(_) => None,
    }
}

#[inline]
pub fn make_int(heap: &mut Heap, i: i64) -> Result<Value, OutOfMemory> {
    match small_int(i) {
        Some(v) => Ok(v),
        None => heap.new_boxed_int(i),
    }
}

#[inline]
pub fn make_float(heap: &mut Heap, f: f64) -> Result<Value, OutOfMemory> {
    match encode_float(f) {
        Some(v) => Ok(v),
        None => heap.new_boxed_float(f),
    }
}

/// The name `typeof` gives each type, in [`type_index`] order. (rule `value.typeof`)
pub const TYPE_NAMES: [&str; 9] = ["nil", "bool", "int", "float", "string", "array", "object", "function", "thread"];

/// The index in [`TYPE_NAMES`] of `v`'s type.
///
/// # Safety
/// `v` is a live value (module doc).
pub unsafe fn type_index(heap: &Heap, v: Value) -> usize {
    if v == NIL {
        0
    } else if v == TRUE || v == FALSE {
        1
    } else if is_small_int(v) {
        2
    } else if is_small_float(v) {
        3
    } else if as_func(v).is_some() {
        7
    } else if as_thread(v).is_some() {
        8
    } else {
        // SAFETY: a live value (the caller's contract).
        match unsafe { heap.kind(v) } {
            Some(Kind::BoxInt) => 2,
            Some(Kind::BoxFloat) => 3,
            Some(Kind::Str) => 4,
            Some(Kind::Array) => 5,
            _ => 6,
        }
    }
}

/// The name of `v`'s type, for trap messages.
///
/// # Safety
/// `v` is a live value (module doc).
pub unsafe fn type_name(heap: &Heap, v: Value) -> &'static str {
    // SAFETY: the caller's contract.
    TYPE_NAMES[unsafe { type_index(heap, v) }]
}

#[derive(Clone, Copy, Debug)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl Arith {
    fn name(self) -> &'static str {
        match self {
            Arith::Add => "add",
            Arith::Sub => "sub",
            Arith::Mul => "mul",
            Arith::Div => "div",
            Arith::Rem => "rem",
        }
    }
}

/// # Safety
/// `a` and `b` are live values (module doc).
#[cold]
unsafe fn type_error2<T>(heap: &Heap, what: &str, a: Value, b: Value) -> Result<T, Fault> {
    // SAFETY: the caller's contract.
    let (ta, tb) = unsafe { (type_name(heap, a), type_name(heap, b)) };
    trap(TrapKind::TypeError, format!("{what} got {ta} and {tb}"))
}

/// # Safety
/// `a` is a live value (module doc).
#[cold]
unsafe fn type_error1<T>(heap: &Heap, what: &str, a: Value) -> Result<T, Fault> {
    // SAFETY: the caller's contract.
    trap(TrapKind::TypeError, format!("{what} got {}", unsafe { type_name(heap, a) }))
}

/// `add`..`rem` on any operands. (rules `value.int-wrap`, `value.mixed`, `value.int-div`)
///
/// # Safety
/// `a` and `b` are live values (module doc).
pub unsafe fn arith(heap: &mut Heap, op: Arith, a: Value, b: Value) -> Result<Value, Fault> {
    // SAFETY (every block of this function): `a` and `b` are live (the caller's contract).
    let (x, y) = match unsafe { (num(heap, a), num(heap, b)) } {
        (Some(x), Some(y)) => (x, y),
        _ => return unsafe { type_error2(heap, &format!("{} expects two numbers,", op.name()), a, b) },
    };
    match (x, y) {
        (Num::I(x), Num::I(y)) => {
            let r = match op {
                Arith::Add => x.wrapping_add(y),
                Arith::Sub => x.wrapping_sub(y),
                Arith::Mul => x.wrapping_mul(y),
                Arith::Div => match int_div(x, y) {
                    Some(r) => r,
                    None => return trap(TrapKind::DivisionByZero, format!("{x} div 0")),
                },
                Arith::Rem => match num::int_rem(x, y) {
                    Some(r) => r,
                    None => return trap(TrapKind::DivisionByZero, format!("{x} rem 0")),
                },
            };
            Ok(make_int(heap, r)?)
        }
        (x, y) => {
            let f = |n: Num| match n {
                Num::I(i) => num::int_to_float(i),
                Num::F(f) => f,
            };
            Ok(make_float(heap, float_op(op, f(x), f(y)))?)
        }
    }
}

#[inline(always)]
pub fn float_op(op: Arith, x: f64, y: f64) -> f64 {
    match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div => x / y,
        Arith::Rem => x % y,
    }
}

/// `neg` on any operand.
///
/// # Safety
/// `a` is a live value (module doc).
pub unsafe fn neg(heap: &mut Heap, a: Value) -> Result<Value, Fault> {
    // SAFETY (both blocks): `a` is live (the caller's contract).
    match unsafe { num(heap, a) } {
        Some(Num::I(i)) => Ok(make_int(heap, i.wrapping_neg())?),
        Some(Num::F(f)) => Ok(make_float(heap, -f)?),
        None => unsafe { type_error1(heap, "neg expects a number,", a) },
    }
}

/// `sqrt`: the correctly rounded square root of a number, as a float. [exec.sqrt]
///
/// # Safety
/// `a` is a live value (module doc).
pub unsafe fn sqrt(heap: &mut Heap, a: Value) -> Result<Value, Fault> {
    // SAFETY (both blocks): `a` is live (the caller's contract).
    match unsafe { num(heap, a) } {
        Some(Num::I(i)) => Ok(make_float(heap, lockstep_spec::num::int_to_float(i).sqrt())?),
        Some(Num::F(f)) => Ok(make_float(heap, f.sqrt())?),
        None => unsafe { type_error1(heap, "sqrt expects a number,", a) },
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Bits {
    And,
    Or,
    Xor,
    Shl,
    Shr,
    UShr,
}

/// `and`, `or`, `xor` (bools or ints) and the shifts (ints only).
///
/// # Safety
/// `a` and `b` are live values (module doc).
pub unsafe fn bits(heap: &mut Heap, op: Bits, a: Value, b: Value) -> Result<Value, Fault> {
    let is_bool = |v| v == TRUE || v == FALSE;
    if matches!(op, Bits::And | Bits::Or | Bits::Xor) && is_bool(a) && is_bool(b) {
        let (x, y) = (a == TRUE, b == TRUE);
        return Ok(bool_value(match op {
            Bits::And => x && y,
            Bits::Or => x || y,
            _ => x ^ y,
        }));
    }
    // SAFETY (both blocks): `a` and `b` are live (the caller's contract).
    let (x, y) = match unsafe { (int(heap, a), int(heap, b)) } {
        (Some(x), Some(y)) => (x, y),
        _ => {
            let what = match op {
                Bits::And => "and expects two bools or two ints,",
                Bits::Or => "or expects two bools or two ints,",
                Bits::Xor => "xor expects two bools or two ints,",
                Bits::Shl => "shl expects two ints,",
                Bits::Shr => "shr expects two ints,",
                Bits::UShr => "ushr expects two ints,",
            };
            return unsafe { type_error2(heap, what, a, b) };
        }
    };
    let r = match op {
        Bits::And => x & y,
        Bits::Or => x | y,
        Bits::Xor => x ^ y,
        Bits::Shl => x.wrapping_shl(num::shift_amount(y)),
        Bits::Shr => x.wrapping_shr(num::shift_amount(y)),
        Bits::UShr => ((x as u64) >> num::shift_amount(y)) as i64,
    };
    Ok(make_int(heap, r)?)
}

/// `not` on any operand.
///
/// # Safety
/// `a` is a live value (module doc).
pub unsafe fn not(heap: &mut Heap, a: Value) -> Result<Value, Fault> {
    if a == TRUE || a == FALSE {
        return Ok(bool_value(a == FALSE));
    }
    // SAFETY (both blocks): `a` is live (the caller's contract).
    match unsafe { int(heap, a) } {
        Some(i) => Ok(make_int(heap, !i)?),
        None => unsafe { type_error1(heap, "not expects a bool or an int,", a) },
    }
}

/// `eq`: defined on every pair. (rule `value.equality`)
///
/// # Safety
/// `a` and `b` are live values (module doc).
pub unsafe fn equal(heap: &Heap, a: Value, b: Value) -> bool {
    // SAFETY (both blocks): `a` and `b` are live (the caller's contract).
    if let (Some(x), Some(y)) = unsafe { (num(heap, a), num(heap, b)) } {
        return match (x, y) {
            (Num::I(x), Num::I(y)) => x == y,
            (Num::F(x), Num::F(y)) => x == y,
            (Num::I(i), Num::F(f)) | (Num::F(f), Num::I(i)) => num::int_eq_float(i, f),
        };
    }
    if let (Some(x), Some(y)) = unsafe { (heap.str_bytes(a), heap.str_bytes(b)) } {
        return x == y;
    }
    a == b
}

#[derive(Clone, Copy, Debug)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    #[inline(always)]
    pub fn holds(self, o: Option<Ordering>) -> bool {
        match self {
            Cmp::Lt => o == Some(Ordering::Less),
            Cmp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
            Cmp::Gt => o == Some(Ordering::Greater),
            Cmp::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cmp::Lt => "lt",
            Cmp::Le => "le",
            Cmp::Gt => "gt",
            Cmp::Ge => "ge",
        }
    }
}

/// `lt`..`ge` on two numbers or two strings. (rule `value.ordering`)
///
/// # Safety
/// `a` and `b` are live values (module doc).
pub unsafe fn compare(heap: &Heap, op: Cmp, a: Value, b: Value) -> Result<Value, Fault> {
    // SAFETY (every block of this function): `a` and `b` are live (the caller's contract).
    let o = match unsafe { (num(heap, a), num(heap, b)) } {
        (Some(Num::I(x)), Some(Num::I(y))) => Some(x.cmp(&y)),
        (Some(Num::F(x)), Some(Num::F(y))) => x.partial_cmp(&y),
        (Some(Num::I(i)), Some(Num::F(f))) => num::cmp_int_float(i, f),
        (Some(Num::F(f)), Some(Num::I(i))) => num::cmp_int_float(i, f).map(Ordering::reverse),
        _ => match unsafe { (heap.str_bytes(a), heap.str_bytes(b)) } {
            (Some(x), Some(y)) => Some(x.cmp(y)),
            _ => {
                let what = format!("{} expects two numbers or two strings,", op.name());
                return unsafe { type_error2(heap, &what, a, b) };
            }
        },
    };
    Ok(bool_value(op.holds(o)))
}

/// `itof` on any operand.
///
/// # Safety
/// `a` is a live value (module doc).
pub unsafe fn itof(heap: &mut Heap, a: Value) -> Result<Value, Fault> {
    // SAFETY (both blocks): `a` is live (the caller's contract).
    match unsafe { num(heap, a) } {
        Some(Num::I(i)) => Ok(make_float(heap, num::int_to_float(i))?),
        _ => unsafe { type_error1(heap, "itof expects an int,", a) },
    }
}

/// `ftoi` on any operand.
///
/// # Safety
/// `a` is a live value (module doc).
pub unsafe fn ftoi(heap: &mut Heap, a: Value) -> Result<Value, Fault> {
    // SAFETY (both blocks): `a` is live (the caller's contract).
    match unsafe { num(heap, a) } {
        Some(Num::F(f)) => match num::float_to_int(f) {
            Some(i) => Ok(make_int(heap, i)?),
            None => trap(TrapKind::InvalidConversion, lockstep_spec::trap::detail::ftoi(f)),
        },
        _ => unsafe { type_error1(heap, "ftoi expects a float,", a) },
    }
}

/// Thread names, for displaying thread handles.
pub trait ThreadNames {
    fn thread_name(&self, index: u32) -> String;
}

/// Appends the display form of `v` to `out`. (rule `value.display`) An array shows its length:
/// `array_len` when given (read by the caller through the STM's barrier), else the heap's.
///
/// # Safety
/// `v` is a live value (module doc).
pub unsafe fn display(
    prog: &Program,
    heap: &Heap,
    names: &dyn ThreadNames,
    v: Value,
    array_len: Option<usize>,
    out: &mut Vec<u8>,
) {
    use std::io::Write;
    // SAFETY (every block of this function): `v` is live (the caller's contract), and an
    // array's length word is read only once `is_array` said it is one.
    if v == NIL {
        out.extend_from_slice(b"nil");
    } else if v == TRUE {
        out.extend_from_slice(b"true");
    } else if v == FALSE {
        out.extend_from_slice(b"false");
    } else if let Some(f) = as_func(v) {
        let _ = write!(out, "<function {}>", prog.funcs[f as usize].name);
    } else if let Some(t) = as_thread(v) {
        let _ = write!(out, "<thread {}>", names.thread_name(t));
    } else if let Some(n) = unsafe { num(heap, v) } {
        match n {
            Num::I(i) => {
                let _ = write!(out, "{i}");
            }
            Num::F(f) => out.extend_from_slice(num::format_float(f).as_bytes()),
        }
    } else if let Some(s) = unsafe { heap.str_bytes(v) } {
        out.extend_from_slice(s);
    } else if unsafe { heap.is_array(v) } {
        let _ = write!(out, "<array {}>", array_len.unwrap_or_else(|| unsafe { heap.array_len(v) }));
    } else if let Some(c) = unsafe { heap.object_class(v) } {
        let _ = write!(out, "<{}>", prog.classes[c as usize].name);
    }
}

/// The outcome's form of `v`, the value main returned ([exec.outcome]): what [`display`]
/// writes, typed. A thread's id is its name, which is the id's canonical spelling.
///
/// # Safety
/// `v` is a live value (module doc).
pub unsafe fn outcome_value(prog: &Program, heap: &Heap, names: &dyn ThreadNames, v: Value) -> OutcomeValue {
    // SAFETY (every block of this function): as in `display`.
    if v == NIL {
        OutcomeValue::Nil
    } else if v == TRUE {
        OutcomeValue::Bool(true)
    } else if v == FALSE {
        OutcomeValue::Bool(false)
    } else if let Some(f) = as_func(v) {
        OutcomeValue::Function { name: prog.funcs[f as usize].name.clone() }
    } else if let Some(t) = as_thread(v) {
        OutcomeValue::Thread(names.thread_name(t).parse().unwrap_or_else(|_| ThreadId::main()))
    } else if let Some(n) = unsafe { num(heap, v) } {
        match n {
            Num::I(i) => OutcomeValue::Int(i),
            Num::F(f) => OutcomeValue::Float(f),
        }
    } else if let Some(s) = unsafe { heap.str_bytes(v) } {
        OutcomeValue::Str(s.to_vec())
    } else if unsafe { heap.is_array(v) } {
        OutcomeValue::Array { len: unsafe { heap.array_len(v) } }
    } else if let Some(c) = unsafe { heap.object_class(v) } {
        OutcomeValue::Object { class: prog.classes[c as usize].name.clone() }
    } else {
        unreachable!("a live value is an immediate, a number, a string, an array or an object")
    }
}

// Planted bugs. Each `mutant!(NAME)` below is a known bug that the differential
// suite must catch (`tests/run-mutants`, results in tests/README.md); normal builds never set it.

/// `lt` on two small ints (the planted bug `lt_off_by_one` makes it `le`).
#[inline(always)]
pub fn small_int_lt(x: i64, y: i64) -> bool {
    if mutant!(lt_off_by_one) {
        x <= y
    } else {
        x < y
    }
}

/// Int division (the planted bug `div_min_overflow` traps on `MIN div -1`, which wraps).
fn int_div(x: i64, y: i64) -> Option<i64> {
    if mutant!(div_min_overflow) {
        x.checked_div(y)
    } else {
        num::int_div(x, y)
    }
}
