//! Arithmetic, logic, shifts and comparisons on values: the instructions whose result depends
//! only on their operands (`spec/values.md`, `spec/semantics.md`).

use crate::fault::Fault;
use crate::value::{self, Value};
use lockstep_spec::num;
use lockstep_spec::TrapKind;
use std::cmp::Ordering;

/// Two numeric operands after promotion. [value.mixed-arith]
enum Numbers {
    Ints(i64, i64),
    Floats(f64, f64),
}

fn numbers(op: &str, a: &Value, b: &Value) -> Result<Numbers, Fault> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Numbers::Ints(*x, *y)),
        (Value::Float(x), Value::Float(y)) => Ok(Numbers::Floats(*x, *y)),
        (Value::Int(x), Value::Float(y)) => Ok(Numbers::Floats(num::int_to_float(*x), *y)),
        (Value::Float(x), Value::Int(y)) => Ok(Numbers::Floats(*x, num::int_to_float(*y))),
        _ => Err(operand_types(op, "two numbers", a, b)),
    }
}

#[cold]
fn operand_types(op: &str, expected: &str, a: &Value, b: &Value) -> Fault {
    Fault::type_error(format!("{op} expects {expected}, got {} and {}", a.type_name(), b.type_name()))
}

/// The binary arithmetic instructions. [exec.arith]
#[derive(Clone, Copy, Debug)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

pub(crate) fn arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value, Fault> {
    let name = match op {
        ArithOp::Add => "add",
        ArithOp::Sub => "sub",
        ArithOp::Mul => "mul",
        ArithOp::Div => "div",
        ArithOp::Rem => "rem",
    };
    Ok(match numbers(name, a, b)? {
        // [value.int-wrap]
        Numbers::Ints(x, y) => Value::Int(match op {
            ArithOp::Add => x.wrapping_add(y),
            ArithOp::Sub => x.wrapping_sub(y),
            ArithOp::Mul => x.wrapping_mul(y),
            // [value.int-div]
            ArithOp::Div => num::int_div(x, y).ok_or_else(|| by_zero(x, name))?,
            ArithOp::Rem => num::int_rem(x, y).ok_or_else(|| by_zero(x, name))?,
        }),
        // [value.float-arith]: Rust's f64 operators are IEEE binary64, round to nearest even,
        // never fused; `%` is fmod.
        Numbers::Floats(x, y) => Value::Float(match op {
            ArithOp::Add => x + y,
            ArithOp::Sub => x - y,
            ArithOp::Mul => x * y,
            ArithOp::Div => x / y,
            ArithOp::Rem => x % y,
        }),
    })
}

/// [value.int-div]: an int division or remainder by zero.
#[cold]
fn by_zero(x: i64, name: &str) -> Fault {
    Fault::new(TrapKind::DivisionByZero, format!("{x} {name} 0"))
}

/// `neg`. [exec.neg]
pub(crate) fn neg(a: &Value) -> Result<Value, Fault> {
    match a {
        Value::Int(x) => Ok(Value::Int(x.wrapping_neg())),
        Value::Float(x) => Ok(Value::Float(-*x)),
        _ => Err(Fault::type_error(format!("neg expects a number, got {}", a.type_name()))),
    }
}

/// `sqrt`: the correctly rounded square root of a number, as a float. [exec.sqrt]
pub(crate) fn sqrt(a: &Value) -> Result<Value, Fault> {
    match a {
        Value::Int(x) => Ok(Value::Float(num::int_to_float(*x).sqrt())),
        Value::Float(x) => Ok(Value::Float(x.sqrt())),
        _ => Err(Fault::type_error(format!("sqrt expects a number, got {}", a.type_name()))),
    }
}

/// The logic instructions on two bools or two ints. [exec.logic]
#[derive(Clone, Copy, Debug)]
pub(crate) enum LogicOp {
    And,
    Or,
    Xor,
}

pub(crate) fn logic(op: LogicOp, a: &Value, b: &Value) -> Result<Value, Fault> {
    match (op, a, b) {
        (LogicOp::And, Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(*x && *y)),
        (LogicOp::Or, Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(*x || *y)),
        (LogicOp::Xor, Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(*x != *y)),
        (LogicOp::And, Value::Int(x), Value::Int(y)) => Ok(Value::Int(x & y)),
        (LogicOp::Or, Value::Int(x), Value::Int(y)) => Ok(Value::Int(x | y)),
        (LogicOp::Xor, Value::Int(x), Value::Int(y)) => Ok(Value::Int(x ^ y)),
        _ => {
            let name = match op {
                LogicOp::And => "and",
                LogicOp::Or => "or",
                LogicOp::Xor => "xor",
            };
            Err(operand_types(name, "two bools or two ints", a, b))
        }
    }
}

/// `not`. [exec.not]
pub(crate) fn not(a: &Value) -> Result<Value, Fault> {
    match a {
        Value::Bool(x) => Ok(Value::Bool(!*x)),
        Value::Int(x) => Ok(Value::Int(!*x)),
        _ => Err(Fault::type_error(format!("not expects a bool or an int, got {}", a.type_name()))),
    }
}

/// The shifts, on ints only. [exec.shift]
#[derive(Clone, Copy, Debug)]
pub(crate) enum ShiftOp {
    Shl,
    Shr,
    UShr,
}

pub(crate) fn shift(op: ShiftOp, a: &Value, b: &Value) -> Result<Value, Fault> {
    let (Value::Int(x), Value::Int(y)) = (a, b) else {
        let name = match op {
            ShiftOp::Shl => "shl",
            ShiftOp::Shr => "shr",
            ShiftOp::UShr => "ushr",
        };
        return Err(operand_types(name, "two ints", a, b));
    };
    // [value.shift]
    let n = num::shift_amount(*y);
    Ok(Value::Int(match op {
        ShiftOp::Shl => x.wrapping_shl(n),
        ShiftOp::Shr => x >> n,
        ShiftOp::UShr => ((*x as u64) >> n) as i64,
    }))
}

/// The ordering instructions. [exec.compare]
#[derive(Clone, Copy, Debug)]
pub(crate) enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
}

#[inline(always)]
pub(crate) fn compare(op: CompareOp, a: &Value, b: &Value) -> Result<Value, Fault> {
    let name = match op {
        CompareOp::Lt => "lt",
        CompareOp::Le => "le",
        CompareOp::Gt => "gt",
        CompareOp::Ge => "ge",
    };
    let ord = value::order(a, b).map_err(|()| operand_types(name, "two numbers or two strings", a, b))?;
    // Unordered (NaN) makes every ordering false.
    Ok(Value::Bool(match (op, ord) {
        (_, None) => false,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
    }))
}
