//! Guest values (`spec/values.md`) and the operations on them that need no machine state:
//! type names, the display form, equality and ordering.
//!
//! Arrays and objects are `Rc<RefCell<..>>`: identity is `Rc::ptr_eq`, and reference counting
//! reclaims acyclic garbage. A tracing collector was rejected as needless for an oracle; cyclic
//! garbage lives until the run ends.

use lockstep_spec::num;
use lockstep_spec::schedule::ThreadId;
use lockstep_spec::{ClassIdx, FuncIdx, Module};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

/// An array: shared, mutable, compared by identity.
pub(crate) type ArrayRef = Rc<RefCell<Vec<Value>>>;

/// A guest value. [value.types] **Clone is cheap**: strings, arrays and objects are shared.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    /// NaN bits are whatever the float operations produced; no instruction can observe them.
    /// [value.nan]
    Float(f64),
    /// Immutable bytes, so sharing them is unobservable.
    Str(Rc<[u8]>),
    Array(ArrayRef),
    Object(Rc<Object>),
    Function(FuncIdx),
    Thread(ThreadHandle),
}

/// An instance: its class and its fields, inherited ones first.
#[derive(Debug)]
pub(crate) struct Object {
    pub class: ClassIdx,
    pub fields: RefCell<Vec<Value>>,
}

/// A thread handle: the thread's index in creation order (its identity) and its id (its name).
#[derive(Clone, Debug)]
pub(crate) struct ThreadHandle {
    pub index: usize,
    pub id: Rc<ThreadId>,
}

impl Value {
    pub fn str(bytes: &[u8]) -> Value {
        Value::Str(Rc::from(bytes))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(RefCell::new(items)))
    }

    /// The name `typeof` gives. [value.typeof]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Function(_) => "function",
            Value::Thread(_) => "thread",
        }
    }

    /// The display form (`print`, `println`, `tostr`). [value.display]
    pub fn display(&self, module: &Module) -> Vec<u8> {
        match self {
            Value::Nil => b"nil".to_vec(),
            Value::Bool(b) => {
                if *b {
                    b"true".to_vec()
                } else {
                    b"false".to_vec()
                }
            }
            Value::Int(i) => i.to_string().into_bytes(),
            Value::Float(f) => num::format_float(*f).into_bytes(),
            Value::Str(s) => s.to_vec(),
            Value::Array(a) => format!("<array {}>", a.borrow().len()).into_bytes(),
            Value::Object(o) => {
                format!("<{}>", module.classes[o.class.0 as usize].name).into_bytes()
            }
            Value::Function(f) => {
                format!("<function {}>", module.functions[f.0 as usize].name).into_bytes()
            }
            Value::Thread(t) => format!("<thread {}>", t.id).into_bytes(),
        }
    }
}

/// `eq`: defined on every pair, never traps. [value.equality]
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        // IEEE equality: NaN equals nothing, -0.0 equals 0.0.
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => {
            num::int_eq_float(*i, *f)
        }
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => Rc::ptr_eq(x, y),
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        (Value::Function(x), Value::Function(y)) => x == y,
        (Value::Thread(x), Value::Thread(y)) => x.index == y.index,
        _ => false,
    }
}

/// The order of two numbers or two strings, for `lt`, `le`, `gt`, `ge`: `Err(())` when the
/// operands are not both numbers or both strings, `Ok(None)` when a NaN makes them unordered.
/// [value.ordering]
pub(crate) fn order(a: &Value, b: &Value) -> Result<Option<Ordering>, ()> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Some(x.cmp(y))),
        (Value::Float(x), Value::Float(y)) => Ok(x.partial_cmp(y)),
        (Value::Int(i), Value::Float(f)) => Ok(num::cmp_int_float(*i, *f)),
        (Value::Float(f), Value::Int(i)) => Ok(num::cmp_int_float(*i, *f).map(Ordering::reverse)),
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.as_ref().cmp(y.as_ref()))),
        _ => Err(()),
    }
}
