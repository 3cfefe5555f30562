//! Trap kinds: the defined ways a guest thread can fail. `spec/values.md` and
//! `spec/semantics.md` say which instruction raises which.

use std::fmt;

macro_rules! traps {
    ( $( $Name:ident $name:literal $what:literal ; )* ) => {
        /// A trap kind. Its `name()` is stable: tests, outcomes and schedules use it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum TrapKind { $( $Name, )* }

        impl TrapKind {
            pub const ALL: &'static [TrapKind] = &[ $( TrapKind::$Name, )* ];

            pub fn name(self) -> &'static str {
                match self { $( TrapKind::$Name => $name, )* }
            }

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
