//! Trap kinds: the defined ways a guest thread can fail. `spec/values.md` and
//! `spec/semantics.md` say which instruction raises which.

use std::fmt;

macro_rules! traps {
    ( $( $Name:ident $name:literal $what:literal ; )* ) => {
        /// A trap kind. Its `name()` is stable: tests, outcomes and schedules use it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum TrapKind { $( #[doc = concat!("`", $name, "`: ", $what, ".")] $Name, )* }

        impl TrapKind {
            /// Every trap kind, in the table's order.
            pub const ALL: &'static [TrapKind] = &[ $( TrapKind::$Name, )* ];

            /// The stable name (`out_of_fuel`): what outcomes, their JSON form and messages say.
            pub fn name(self) -> &'static str {
                match self { $( TrapKind::$Name => $name, )* }
            }

            /// The kind whose [`TrapKind::name`] is `name`, if any (conformance scripts name
            /// the trap they expect).
            pub fn from_name(name: &str) -> Option<TrapKind> {
                match name { $( $name => Some(TrapKind::$Name), )* _ => None }
            }

            /// What the trap means, in one line.
            pub fn description(self) -> &'static str {
                match self { $( TrapKind::$Name => $what, )* }
            }
        }
    };
}

traps! {
    TypeError        "type_error"          "an operand has a type the instruction does not accept";
    DivisionByZero   "division_by_zero"    "integer division or remainder by zero";
    IndexOutOfBounds "index_out_of_bounds" "an array index is negative or not below the length";
    BadLength        "bad_length"          "a length is negative or above the limit for arrays or strings";
    InvalidConversion "invalid_conversion" "ftoi of NaN or of a value outside the int range";
    NoSuchMethod     "no_such_method"      "send found no method of that name on the receiver's class";
    ArityMismatch    "arity_mismatch"      "callv or send passed a number of arguments the callee does not take";
    StackOverflow    "stack_overflow"      "a call would exceed the maximum call depth";
    OutOfFuel        "out_of_fuel"         "the thread's fuel ran out";
    ThreadLimit      "thread_limit"        "spawn would exceed the maximum number of threads";
    ThreadTrapped    "thread_trapped"      "join on a thread that ended in a trap";
    JoinInAtomic     "join_in_atomic"      "join inside an atomic block";
    UnbalancedAtomic "unbalanced_atomic"   "atomic_end outside an atomic block, or a thread ended inside one";
    ExplicitTrap     "explicit_trap"       "the trap instruction";
    AssertionFailed  "assertion_failed"    "assert of false";
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The trap details ([exec.trap-detail]) that need more than one format string: a count with
/// its noun, a method name the program wrote as arbitrary bytes, the class of an object of the
/// wrong class. Both engines build these details with these functions, so that they cannot
/// drift apart in grammar (the optimized engine once said "1 arguments"; `send` on an int
/// said "send to a int").
pub mod detail {
    /// `1 argument`, `2 arguments`.
    pub fn arguments(n: u32) -> String {
        format!("{n} argument{}", if n == 1 { "" } else { "s" })
    }

    /// A method name as a string literal of the text format ([text.string-literal]): the name
    /// is a string constant, any bytes, and a detail is one line.
    pub fn method(name: &[u8]) -> String {
        crate::disasm::string_literal(name)
    }

    /// `callv` of `func`, which takes `arity` arguments, with `passed`.
    pub fn callv_arity(func: &str, arity: u32, passed: u32) -> String {
        format!("{func} takes {}, callv passed {passed}", arguments(arity))
    }

    /// `send` of `method`, found on `class` as `func`, which takes `arity` arguments with the
    /// receiver, with `passed` (the receiver included).
    pub fn send_arity(func: &str, method_name: &[u8], class: &str, arity: u32, passed: u32) -> String {
        format!(
            "{func}, method {} of class {class}, takes {} with the receiver, send passed {passed}",
            method(method_name),
            arguments(arity)
        )
    }

    /// `send` of `method_name` to an instance of `class`, which has no such method.
    pub fn no_such_method(class: &str, method_name: &[u8]) -> String {
        format!("class {class} has no method {}", method(method_name))
    }

    /// `ftoi` of a float with no int value: NaN, or outside the int range.
    pub fn ftoi(f: f64) -> String {
        let why = if f.is_nan() { "not a number" } else { "outside the int range" };
        format!("ftoi of {}: {why}", crate::num::format_float(f))
    }

    /// `op` (`getf`, `setf`) on a value that is no instance of `class` (or a subclass): `got`
    /// is the value's type name, `got_class` its class when it is an object.
    pub fn needs_instance(op: &str, class: &str, got: &str, got_class: Option<&str>) -> String {
        match got_class {
            Some(c) => format!("{op} needs an object of class {class}, got an object of class {c}"),
            None => format!("{op} needs an object of class {class}, got {got}"),
        }
    }
}
