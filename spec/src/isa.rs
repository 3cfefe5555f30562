//! The instruction set, defined once.
//!
//! `for_each_instruction!` lists every instruction of the lockstep machine: its Rust name, its
//! opcode byte, its mnemonic, its operands (name and kind), its flags, and a one-line summary.
//! Everything else derives from this table by invoking the macro with a callback: the
//! [`Opcode`](crate::Opcode) and [`Instr`](crate::Instr) enums, the binary encoder and decoder,
//! the verifier's operand checks, the assembler, the disassembler and the instruction table in
//! `spec/instructions.md` (generated; a test fails when the committed copy drifts).
//!
//! This is wasmparser's `for_each_operator!` pattern. A data file read by a build script was the
//! alternative; a macro keeps the table in Rust, checked by the compiler, with no build step.
//!
//! Adding an instruction means adding one row here and its meaning in each engine: every engine
//! matches exhaustively on `Instr`, so the compiler points at each place that must change.
//!
//! Row syntax: `Name opcode "mnemonic" { operand: Kind, ... } [FLAG, ...] "summary";`
//!
//! Operand kinds (see `spec/binary-format.md` for their encodings):
//! - `Reg`: a register of the current frame;
//! - `Imm`: a signed 64-bit immediate;
//! - `Const`: an index into the constant pool (int, float or string);
//! - `Str`: an index into the constant pool that must name a string constant;
//! - `Func`: a function index;
//! - `Class`: a class index;
//! - `Field`: a class index and a field slot of that class (own or inherited);
//! - `Label`: an instruction index in the current function (a jump target);
//! - `Args`: a list of registers passed as arguments (at most `limits::MAX_ARGS`).
//!
//! Flags (see `spec/concurrency.md` and `spec/limits.md` for what they mean):
//! - `BOUNDARY_AFTER`: a segment boundary follows the instruction (outside atomic blocks);
//! - `BOUNDARY_BEFORE`: a segment boundary precedes the instruction (only `join`, so that a
//!   thread blocks only at the start of a segment);
//! - `JUMP`: a jump; when its target is at or before the jump itself it is a *backward jump*:
//!   taking it charges one unit of fuel, and a segment boundary follows it;
//! - `CALL`: enters a function in the current thread, charging one unit of fuel on entry;
//! - `TERMINATOR`: never falls through to the next instruction.

/// Invokes `$callback!` with the whole instruction table. See the module documentation.
#[macro_export]
macro_rules! for_each_instruction {
    ($callback:ident) => {
        $callback! {
            // ---- constants and moves ----------------------------------------------------------
            Nop         0x00 "nop"          {}                                  []
                "Does nothing.";
            Mov         0x01 "mov"          { dst: Reg, src: Reg }              []
                "dst := src.";
            LdNil       0x02 "ldnil"        { dst: Reg }                        []
                "dst := nil.";
            LdTrue      0x03 "ldtrue"       { dst: Reg }                        []
                "dst := true.";
            LdFalse     0x04 "ldfalse"      { dst: Reg }                        []
                "dst := false.";
            LdI         0x05 "ldi"          { dst: Reg, value: Imm }            []
                "dst := the integer value.";
            LdK         0x06 "ldk"          { dst: Reg, k: Const }              []
                "dst := constant k (an int, float or string).";
            LdFn        0x07 "ldfn"         { dst: Reg, func: Func }            []
                "dst := a reference to function func.";
            // ---- arithmetic ---------------------------------------------------------------------
            Add         0x10 "add"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a + b (int wraps; float if either is float).";
            Sub         0x11 "sub"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a - b (int wraps; float if either is float).";
            Mul         0x12 "mul"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a * b (int wraps; float if either is float).";
            Div         0x13 "div"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a / b (int truncates, traps on zero; float is IEEE).";
            Rem         0x14 "rem"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a rem b (int: sign of a, traps on zero; float: fmod).";
            Neg         0x15 "neg"          { dst: Reg, a: Reg }                []
                "dst := -a (int wraps).";
            Sqrt        0x16 "sqrt"         { dst: Reg, a: Reg }                []
                "dst := the square root of the number a, as a float (IEEE, correctly rounded).";
            // ---- logic and bits -----------------------------------------------------------------
            And         0x18 "and"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a and b (bool: logical; int: bitwise).";
            Or          0x19 "or"           { dst: Reg, a: Reg, b: Reg }        []
                "dst := a or b (bool: logical; int: bitwise).";
            Xor         0x1a "xor"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a xor b (bool: logical; int: bitwise).";
            Not         0x1b "not"          { dst: Reg, a: Reg }                []
                "dst := not a (bool: logical; int: bitwise complement).";
            Shl         0x1c "shl"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a << (b & 63), ints only.";
            Shr         0x1d "shr"          { dst: Reg, a: Reg, b: Reg }        []
                "dst := a >> (b & 63), arithmetic, ints only.";
            UShr        0x1e "ushr"         { dst: Reg, a: Reg, b: Reg }        []
                "dst := a >> (b & 63), logical, ints only.";
            // ---- comparison ---------------------------------------------------------------------
            Eq          0x20 "eq"           { dst: Reg, a: Reg, b: Reg }        []
                "dst := (a == b), defined for every pair of values.";
            Ne          0x21 "ne"           { dst: Reg, a: Reg, b: Reg }        []
                "dst := (a != b), defined for every pair of values.";
            Lt          0x22 "lt"           { dst: Reg, a: Reg, b: Reg }        []
                "dst := (a < b) on numbers or on strings.";
            Le          0x23 "le"           { dst: Reg, a: Reg, b: Reg }        []
                "dst := (a <= b) on numbers or on strings.";
            Gt          0x24 "gt"           { dst: Reg, a: Reg, b: Reg }        []
                "dst := (a > b) on numbers or on strings.";
            Ge          0x25 "ge"           { dst: Reg, a: Reg, b: Reg }        []
                "dst := (a >= b) on numbers or on strings.";
            // ---- conversions and types ----------------------------------------------------------
            IToF        0x28 "itof"         { dst: Reg, a: Reg }                []
                "dst := the int a as a float (round to nearest, ties to even).";
            FToI        0x29 "ftoi"         { dst: Reg, a: Reg }                []
                "dst := the float a truncated to an int (traps on NaN or out of range).";
            TypeOf      0x2a "typeof"       { dst: Reg, a: Reg }                []
                "dst := the name of a's type as a string.";
            // ---- control ------------------------------------------------------------------------
            Jmp         0x30 "jmp"          { target: Label }                   [JUMP, TERMINATOR]
                "Continue at target.";
            JmpIf       0x31 "jmpif"        { cond: Reg, target: Label }        [JUMP]
                "Continue at target if cond is true (cond must be a bool).";
            JmpIfNot    0x32 "jmpifnot"     { cond: Reg, target: Label }        [JUMP]
                "Continue at target if cond is false (cond must be a bool).";
            Call        0x33 "call"         { dst: Reg, func: Func, args: Args } [CALL, BOUNDARY_AFTER]
                "dst := func(args...).";
            CallV       0x34 "callv"        { dst: Reg, callee: Reg, args: Args } [CALL, BOUNDARY_AFTER]
                "dst := callee(args...), where callee holds a function reference.";
            Ret         0x35 "ret"          { src: Reg }                        [BOUNDARY_AFTER, TERMINATOR]
                "Return src to the caller.";
            // ---- objects ------------------------------------------------------------------------
            New         0x40 "new"          { dst: Reg, class: Class }          []
                "dst := a new instance of class, every field nil.";
            GetF        0x41 "getf"         { dst: Reg, obj: Reg, field: Field } []
                "dst := obj.field (obj must be an instance of the field's class).";
            SetF        0x42 "setf"         { obj: Reg, field: Field, src: Reg } []
                "obj.field := src (obj must be an instance of the field's class).";
            Send        0x43 "send"         { dst: Reg, recv: Reg, name: Str, args: Args } [CALL, BOUNDARY_AFTER]
                "dst := recv.name(args...): call the method found on recv's class.";
            InstanceOf  0x44 "instanceof"   { dst: Reg, obj: Reg, class: Class } []
                "dst := whether obj is an instance of class or of a subclass.";
            // ---- arrays -------------------------------------------------------------------------
            ANew        0x48 "anew"         { dst: Reg, len: Reg }              []
                "dst := a new array of len nils.";
            AGet        0x49 "aget"         { dst: Reg, arr: Reg, idx: Reg }    []
                "dst := arr[idx].";
            ASet        0x4a "aset"         { arr: Reg, idx: Reg, src: Reg }    []
                "arr[idx] := src.";
            ALen        0x4b "alen"         { dst: Reg, arr: Reg }              []
                "dst := the length of arr.";
            APush       0x4c "apush"        { arr: Reg, src: Reg }              []
                "Append src to arr.";
            // ---- strings ------------------------------------------------------------------------
            Concat      0x50 "concat"       { dst: Reg, a: Reg, b: Reg }        []
                "dst := the string a followed by the string b.";
            SLen        0x51 "slen"         { dst: Reg, s: Reg }                []
                "dst := the length of the string s in bytes.";
            ToStr       0x52 "tostr"        { dst: Reg, a: Reg }                []
                "dst := the display form of a, as a string.";
            SToI        0x53 "stoi"         { dst: Reg, s: Reg }                []
                "dst := the int that the string s spells, or nil.";
            SToF        0x54 "stof"         { dst: Reg, s: Reg }                []
                "dst := the float that the string s spells, or nil.";
            // ---- output -------------------------------------------------------------------------
            Print       0x58 "print"        { src: Reg }                        [BOUNDARY_AFTER]
                "Write the display form of src to stdout.";
            PrintLn     0x59 "println"      { src: Reg }                        [BOUNDARY_AFTER]
                "Write the display form of src and a newline to stdout.";
            // ---- threads and atomicity ----------------------------------------------------------
            Spawn       0x60 "spawn"        { dst: Reg, func: Func, args: Args } [BOUNDARY_AFTER]
                "dst := the handle of a new thread running func(args...).";
            Join        0x61 "join"         { dst: Reg, thread: Reg }           [BOUNDARY_BEFORE]
                "Wait for thread to end; dst := its return value (traps if it trapped).";
            AtomicBegin 0x62 "atomic_begin" {}                                  []
                "Enter an atomic block (they nest).";
            AtomicEnd   0x63 "atomic_end"   {}                                  [BOUNDARY_AFTER]
                "Leave an atomic block.";
            Yield       0x64 "yield"        {}                                  [BOUNDARY_AFTER]
                "A segment boundary and nothing else.";
            // ---- traps --------------------------------------------------------------------------
            Trap        0x68 "trap"         { msg: Str }                        [TERMINATOR]
                "Trap explicit_trap with the message msg.";
            Assert      0x69 "assert"       { cond: Reg, msg: Str }             []
                "Trap assertion_failed with msg unless cond is true (cond must be a bool).";
        }
    };
}
