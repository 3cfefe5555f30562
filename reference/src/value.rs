//! Guest values (`spec/values.md`) and the operations on them that need no machine state:
//! type names, the display form, equality and ordering.
//!
//! Arrays and objects are `Rc<RefCell<..>>`: identity is `Rc::ptr_eq`, and reference counting
//! reclaims acyclic garbage as soon as it is dropped. Cycles are reclaimed only when the heap
//! would otherwise exceed its limit, by [`collect_cycles`]: garbage never counts against the
//! limit ([limit.memory]).
//!
//! The bytes held by strings, arrays and objects are counted while they are alive
//! (`live_bytes`), so that the machine can stop a run whose heap outgrows its limit with a clean
//! error instead of letting the host run out of memory ([limit.memory]).

use lockstep_spec::num;
use lockstep_spec::outcome::Value as OutcomeValue;
use lockstep_spec::schedule::ThreadId;
use lockstep_spec::{ClassIdx, FuncIdx, Module};
use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::ops::{Deref, DerefMut};
use std::rc::{Rc, Weak};

thread_local! {
    /// Bytes held by the live strings, arrays, objects and frames of runs on this host thread.
    /// Per host thread, because a run's values never leave the thread it runs on (they are `Rc`).
    static LIVE_BYTES: Cell<usize> = const { Cell::new(0) };
    /// Every array and object of this host thread that may still be alive, for
    /// [`collect_cycles`] to find the ones in unreachable cycles.
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

#[derive(Default)]
struct Registry {
    arrays: Vec<Weak<RefCell<Elems>>>,
    objects: Vec<Weak<Object>>,
    /// The length after the last pruning: entries of freed values are dropped each time the
    /// registry doubles, so it stays within twice the number of live values (or a small floor).
    pruned: usize,
}

impl Registry {
    fn prune_if_doubled(&mut self) {
        if self.arrays.len() + self.objects.len() > 2 * self.pruned.max(1024) {
            self.arrays.retain(|w| w.strong_count() > 0);
            self.objects.retain(|w| w.strong_count() > 0);
            self.pruned = self.arrays.len() + self.objects.len();
        }
    }
}

/// Frees the arrays and objects that `roots` cannot reach (cycles, since reference counting
/// frees everything else), by emptying them: emptied, a cycle holds no references and falls
/// apart. Values no root reaches can never be read again, so emptying them is unobservable.
/// Called only when the heap would exceed its limit, so the reference pays for tracing only
/// where it changes an outcome.
pub(crate) fn collect_cycles<'a>(roots: impl Iterator<Item = &'a Value>) {
    // Mark, with a work list so that a long chain does not recurse on the host stack.
    let mut reached: HashSet<*const ()> = HashSet::new();
    let mut work: Vec<Value> = roots.cloned().collect();
    while let Some(v) = work.pop() {
        // Each array and object is followed the first time it is reached.
        match v {
            Value::Array(a) if reached.insert(Rc::as_ptr(&a).cast()) => work.extend(a.borrow().iter().cloned()),
            Value::Object(o) if reached.insert(Rc::as_ptr(&o).cast()) => work.extend(o.fields.borrow().iter().cloned()),
            _ => {}
        }
    }
    // Empty the unreached, then drop what they held, which frees them.
    let mut garbage: Vec<Value> = Vec::new();
    REGISTRY.with(|registry| {
        let registry = registry.borrow();
        for a in registry.arrays.iter().filter_map(Weak::upgrade) {
            if !reached.contains(&Rc::as_ptr(&a).cast()) {
                garbage.append(&mut a.borrow_mut().items);
            }
        }
        for o in registry.objects.iter().filter_map(Weak::upgrade) {
            if !reached.contains(&Rc::as_ptr(&o).cast()) {
                garbage.append(&mut o.fields.borrow_mut());
            }
        }
    });
    drop_iteratively(garbage);
    REGISTRY.with(|registry| {
        let mut registry = registry.borrow_mut();
        registry.arrays.retain(|w| w.strong_count() > 0);
        registry.objects.retain(|w| w.strong_count() > 0);
        registry.pruned = registry.arrays.len() + registry.objects.len();
    });
}

/// What a heap value costs besides its contents: an estimate of the `Rc` and vector headers.
const HEADER_BYTES: usize = 32;
const VALUE_BYTES: usize = std::mem::size_of::<Value>();

/// What a frame of `regs` registers counts while it is on a call stack: its registers and an
/// estimate of its own header. [limit.memory]
pub(crate) fn frame_bytes(regs: usize) -> usize {
    HEADER_BYTES + regs * VALUE_BYTES
}

/// Bytes held by live heap values on this host thread. [limit.memory]
pub(crate) fn live_bytes() -> usize {
    LIVE_BYTES.with(Cell::get)
}

pub(crate) fn charge(bytes: usize) {
    LIVE_BYTES.with(|live| live.set(live.get().saturating_add(bytes)));
}

pub(crate) fn release(bytes: usize) {
    LIVE_BYTES.with(|live| live.set(live.get().saturating_sub(bytes)));
}

/// A string's bytes, counted in `live_bytes` while alive.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Bytes(Box<[u8]>);

impl Bytes {
    fn new(bytes: &[u8]) -> Bytes {
        charge(HEADER_BYTES + bytes.len());
        Bytes(bytes.into())
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        release(HEADER_BYTES + self.0.len());
    }
}

/// An array's elements, counted in `live_bytes` (by capacity) while alive. Reads and element
/// writes go through the slice; growing goes through [`Elems::push`], which keeps the count.
#[derive(Debug)]
pub(crate) struct Elems {
    items: Vec<Value>,
    counted: usize,
}

impl Elems {
    fn new(items: Vec<Value>) -> Elems {
        let counted = HEADER_BYTES + items.capacity() * VALUE_BYTES;
        charge(counted);
        Elems { items, counted }
    }

    pub fn push(&mut self, v: Value) {
        self.items.push(v);
        let now = HEADER_BYTES + self.items.capacity() * VALUE_BYTES;
        charge(now - self.counted);
        self.counted = now;
    }
}

impl Deref for Elems {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        &self.items
    }
}

impl DerefMut for Elems {
    fn deref_mut(&mut self) -> &mut [Value] {
        &mut self.items
    }
}

impl Drop for Elems {
    fn drop(&mut self) {
        release(self.counted);
        drop_iteratively(std::mem::take(&mut self.items));
    }
}

/// An array: shared, mutable, compared by identity.
pub(crate) type ArrayRef = Rc<RefCell<Elems>>;

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
    Str(Rc<Bytes>),
    Array(ArrayRef),
    Object(Rc<Object>),
    Function(FuncIdx),
    Thread(ThreadHandle),
}

/// An instance: its class and its fields, inherited ones first. Counted in `live_bytes` while
/// alive; the count is kept apart from the fields, which freeing empties before the drop.
#[derive(Debug)]
pub(crate) struct Object {
    pub class: ClassIdx,
    pub fields: RefCell<Vec<Value>>,
    counted: usize,
}

impl Object {
    /// Only through [`Value::object`], which registers it for [`collect_cycles`].
    fn new(class: ClassIdx, field_count: usize) -> Object {
        let counted = HEADER_BYTES + field_count * VALUE_BYTES;
        charge(counted);
        Object { class, fields: RefCell::new(vec![Value::Nil; field_count]), counted }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        release(self.counted);
        drop_iteratively(std::mem::take(self.fields.get_mut()));
    }
}

/// Drops the elements or fields of an array or object being freed. Left to the compiler, freeing
/// a chain (a linked list, arrays nested in arrays) recurses once per link and overflows the host
/// stack on a long one. Here the values are a work list instead: an array or object that only the
/// list holds is unwrapped and its own values join the list, so it is freed empty and the drops
/// never nest more than one level. The list holds no more values than the garbage being freed.
fn drop_iteratively(mut work: Vec<Value>) {
    while let Some(v) = work.pop() {
        match v {
            Value::Array(a) => {
                if let Some(cell) = Rc::into_inner(a) {
                    work.append(&mut cell.into_inner().items);
                }
            }
            Value::Object(o) => {
                if let Some(mut obj) = Rc::into_inner(o) {
                    work.append(obj.fields.get_mut());
                }
            }
            _ => {}
        }
    }
}

/// A thread handle: the thread's index in creation order (its identity) and its id (its name).
#[derive(Clone, Debug)]
pub(crate) struct ThreadHandle {
    pub index: usize,
    pub id: Rc<ThreadId>,
}

impl Value {
    pub fn str(bytes: &[u8]) -> Value {
        Value::Str(Rc::new(Bytes::new(bytes)))
    }

    pub fn array(items: Vec<Value>) -> Value {
        let a = Rc::new(RefCell::new(Elems::new(items)));
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            r.arrays.push(Rc::downgrade(&a));
            r.prune_if_doubled();
        });
        Value::Array(a)
    }

    /// A new instance of `class`, its fields nil.
    pub fn object(class: ClassIdx, field_count: usize) -> Value {
        let o = Rc::new(Object::new(class, field_count));
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            r.objects.push(Rc::downgrade(&o));
            r.prune_if_doubled();
        });
        Value::Object(o)
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
            Value::Object(o) => format!("<{}>", module.classes[o.class.0 as usize].name).into_bytes(),
            Value::Function(f) => format!("<function {}>", module.functions[f.0 as usize].name).into_bytes(),
            Value::Thread(t) => format!("<thread {}>", t.id).into_bytes(),
        }
    }
}

impl Value {
    /// The outcome's form of the value main returned ([exec.outcome]): plain values whole,
    /// the others by what their display form shows.
    pub fn to_outcome(&self, module: &Module) -> OutcomeValue {
        match self {
            Value::Nil => OutcomeValue::Nil,
            Value::Bool(b) => OutcomeValue::Bool(*b),
            Value::Int(i) => OutcomeValue::Int(*i),
            Value::Float(f) => OutcomeValue::Float(*f),
            Value::Str(s) => OutcomeValue::Str(s.to_vec()),
            Value::Array(a) => OutcomeValue::Array { len: a.borrow().len() },
            Value::Object(o) => OutcomeValue::Object { class: module.classes[o.class.0 as usize].name.clone() },
            Value::Function(f) => OutcomeValue::Function { name: module.functions[f.0 as usize].name.clone() },
            Value::Thread(t) => OutcomeValue::Thread((*t.id).clone()),
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
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => num::int_eq_float(*i, *f),
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
#[inline(always)]
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
