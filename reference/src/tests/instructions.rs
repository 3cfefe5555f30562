//! One table per instruction shape: operands loaded into registers, the instruction, and the
//! result's display form or the trap it raises.

use super::*;
use lockstep_spec::limits::MAX_ARRAY_LEN;
use lockstep_spec::{FieldRef, Opcode, Operand};

/// An operand loaded before the instruction under test.
#[derive(Clone, Copy, Debug)]
enum Lit {
    I(i64),
    F(f64),
    S(&'static str),
    B(bool),
    N,
}
use Lit::*;

/// What the case expects: main's result (display form) or a trap at the instruction.
#[derive(Clone, Copy, Debug)]
enum Want {
    V(&'static str),
    T(TrapKind),
}
use Want::*;

fn load(b: &mut Builder, dst: u16, lit: Lit) -> Instr {
    match lit {
        I(i) => ldi(dst, i),
        F(f) => Instr::LdK { dst: r(dst), k: b.konst(Constant::Float(f)) },
        S(s) => Instr::LdK { dst: r(dst), k: b.str(s) },
        B(true) => Instr::LdTrue { dst: r(dst) },
        B(false) => Instr::LdFalse { dst: r(dst) },
        N => Instr::LdNil { dst: r(dst) },
    }
}

/// Runs `op r0, r1[, r2]` with the literals in r1 and r2 and checks the expectation.
fn check(op: Opcode, operands: &[Lit], want: Want) {
    let mut b = Builder::new();
    let mut code: Vec<Instr> = operands.iter().enumerate().map(|(i, &l)| load(&mut b, i as u16 + 1, l)).collect();
    let regs = (0..=operands.len() as u16).map(|i| Operand::Reg(r(i))).collect();
    let pc = code.len() as u32;
    code.push(Instr::from_operands(op, regs).expect("register operands"));
    code.push(ret(0));
    b.func("main", 0, 4, code);
    let o = run(&b.build());
    let what = format!("{} {operands:?}", op.mnemonic());
    match want {
        V(v) => assert_eq!(finished(&o), v, "{what}"),
        T(kind) => {
            assert_trap(&o, kind, "0", "main", pc);
        }
    }
}

const MIN: &str = "-9223372036854775808";
const MAX: &str = "9223372036854775807";
const TE: Want = T(TrapKind::TypeError);

#[test]
fn binary_instructions() {
    use Opcode as O;
    let cases: &[(Opcode, Lit, Lit, Want)] = &[
        (O::Add, I(1), I(2), V("3")),
        (O::Add, I(i64::MAX), I(1), V(MIN)),
        (O::Add, I(1), F(0.5), V("1.5")),
        (O::Add, F(0.5), I(1), V("1.5")),
        (O::Add, F(0.1), F(0.2), V("0.30000000000000004")),
        (O::Add, I(1), S("a"), TE),
        (O::Add, N, I(1), TE),
        (O::Add, B(true), I(1), TE),
        (O::Sub, I(i64::MIN), I(1), V(MAX)),
        (O::Sub, F(1.0), F(1.0), V("0.0")),
        (O::Mul, I(i64::MAX), I(2), V("-2")),
        (O::Mul, F(1e308), F(10.0), V("inf")),
        (O::Mul, I(-1), F(0.0), V("-0.0")),
        (O::Div, I(7), I(-2), V("-3")),
        (O::Div, I(-7), I(2), V("-3")),
        (O::Div, I(i64::MIN), I(-1), V(MIN)),
        (O::Div, I(1), I(0), T(TrapKind::DivisionByZero)),
        (O::Div, F(1.0), F(0.0), V("inf")),
        (O::Div, I(1), F(0.0), V("inf")),
        (O::Div, F(-1.0), I(0), V("-inf")),
        (O::Div, F(0.0), F(0.0), V("nan")),
        (O::Div, S("a"), I(0), TE),
        (O::Rem, I(-7), I(2), V("-1")),
        (O::Rem, I(7), I(-2), V("1")),
        (O::Rem, I(i64::MIN), I(-1), V("0")),
        (O::Rem, I(5), I(0), T(TrapKind::DivisionByZero)),
        (O::Rem, F(5.5), F(2.0), V("1.5")),
        (O::Rem, F(-5.5), I(2), V("-1.5")),
        (O::Rem, F(1.0), F(0.0), V("nan")),
        (O::And, B(true), B(false), V("false")),
        (O::And, I(12), I(10), V("8")),
        (O::And, B(true), I(1), TE),
        (O::Or, B(false), B(true), V("true")),
        (O::Or, I(12), I(10), V("14")),
        (O::Or, F(1.0), F(1.0), TE),
        (O::Xor, B(true), B(true), V("false")),
        (O::Xor, I(12), I(10), V("6")),
        (O::Xor, N, N, TE),
        (O::Shl, I(1), I(3), V("8")),
        (O::Shl, I(1), I(63), V(MIN)),
        (O::Shl, I(1), I(64), V("1")),
        (O::Shl, I(1), I(-1), V(MIN)),
        (O::Shl, F(1.0), I(1), TE),
        (O::Shr, I(-8), I(1), V("-4")),
        (O::Shr, I(-1), I(63), V("-1")),
        (O::Shr, I(8), F(1.0), TE),
        (O::UShr, I(-1), I(60), V("15")),
        (O::UShr, I(-8), I(65), V("9223372036854775804")),
        (O::UShr, B(true), I(1), TE),
        (O::Eq, I(1), F(1.0), V("true")),
        (O::Eq, I(0), F(-0.0), V("true")),
        (O::Eq, F(f64::NAN), F(f64::NAN), V("false")),
        (O::Eq, I(9007199254740993), F(9007199254740992.0), V("false")),
        (O::Eq, S("a"), S("a"), V("true")),
        (O::Eq, S("1"), I(1), V("false")),
        (O::Eq, N, N, V("true")),
        (O::Eq, N, B(false), V("false")),
        (O::Eq, B(true), B(true), V("true")),
        (O::Ne, I(1), I(2), V("true")),
        (O::Ne, F(f64::NAN), F(f64::NAN), V("true")),
        (O::Ne, S("a"), S("a"), V("false")),
        (O::Lt, I(1), F(1.5), V("true")),
        (O::Lt, S("ab"), S("b"), V("true")),
        (O::Lt, S("a"), S("a"), V("false")),
        (O::Lt, S("a"), S("ab"), V("true")),
        (O::Lt, F(f64::NAN), I(1), V("false")),
        (O::Lt, I(1), S("a"), TE),
        (O::Lt, N, N, TE),
        (O::Le, I(2), I(2), V("true")),
        (O::Le, F(f64::NAN), F(f64::NAN), V("false")),
        (O::Gt, I(9007199254740993), F(9007199254740992.0), V("true")),
        (O::Gt, F(9007199254740992.0), I(9007199254740993), V("false")),
        (O::Ge, S("b"), S("ab"), V("true")),
        (O::Ge, B(true), B(false), TE),
        (O::Concat, S("ab"), S("cd"), V("abcd")),
        (O::Concat, S(""), S(""), V("")),
        (O::Concat, S("a"), I(1), TE),
    ];
    for &(op, a, b, want) in cases {
        check(op, &[a, b], want);
    }
}

#[test]
fn unary_instructions() {
    use Opcode as O;
    let cases: &[(Opcode, Lit, Want)] = &[
        (O::Mov, S("x"), V("x")),
        (O::Neg, I(5), V("-5")),
        (O::Neg, I(i64::MIN), V(MIN)),
        (O::Neg, F(0.0), V("-0.0")),
        (O::Neg, S("a"), TE),
        (O::Not, B(true), V("false")),
        (O::Not, I(0), V("-1")),
        (O::Not, F(1.0), TE),
        (O::IToF, I(9007199254740993), V("9007199254740992.0")),
        (O::IToF, I(3), V("3.0")),
        (O::IToF, F(1.0), TE),
        (O::FToI, F(-1.9), V("-1")),
        (O::FToI, F(-9223372036854775808.0), V(MIN)),
        (O::FToI, F(9223372036854775808.0), T(TrapKind::InvalidConversion)),
        (O::FToI, F(f64::NAN), T(TrapKind::InvalidConversion)),
        (O::FToI, F(f64::NEG_INFINITY), T(TrapKind::InvalidConversion)),
        (O::FToI, I(1), TE),
        (O::TypeOf, N, V("nil")),
        (O::TypeOf, B(false), V("bool")),
        (O::TypeOf, I(1), V("int")),
        (O::TypeOf, F(1.0), V("float")),
        (O::TypeOf, S(""), V("string")),
        (O::ToStr, F(1e16), V("10000000000000000.0")),
        (O::ToStr, F(1e17), V("1e+17")),
        (O::ToStr, F(-0.0), V("-0.0")),
        (O::ToStr, N, V("nil")),
        (O::ToStr, B(true), V("true")),
        (O::ToStr, I(-3), V("-3")),
        (O::SLen, S("héllo"), V("6")),
        (O::SLen, I(1), TE),
        (O::SToI, S("-12"), V("-12")),
        (O::SToI, S("1.0"), V("nil")),
        (O::SToI, S("9223372036854775808"), V("nil")),
        (O::SToI, I(1), TE),
        (O::SToF, S("1e3"), V("1000.0")),
        (O::SToF, S("-inf"), V("-inf")),
        (O::SToF, S("x"), V("nil")),
        (O::SToF, F(1.0), TE),
        (O::ANew, I(2), V("<array 2>")),
        (O::ANew, I(0), V("<array 0>")),
        (O::ANew, I(-1), T(TrapKind::BadLength)),
        (O::ANew, I(MAX_ARRAY_LEN as i64 + 1), T(TrapKind::BadLength)),
        (O::ANew, S("1"), TE),
        (O::ALen, I(1), TE),
    ];
    for &(op, a, want) in cases {
        check(op, &[a], want);
    }
}

#[test]
fn loads_and_display_forms() {
    let mut b = Builder::new();
    let kf = b.konst(Constant::Float(2.5));
    let ki = b.konst(Constant::Int(-7));
    let ks = b.str("s");
    let sep = b.str("|");
    let class = b.class("Point", None, &["x"], &[]);
    let code = vec![
        Instr::LdK { dst: r(0), k: kf },
        Instr::Print { src: r(0) },
        Instr::LdK { dst: r(0), k: ki },
        Instr::Print { src: r(0) },
        Instr::LdK { dst: r(0), k: ks },
        Instr::Print { src: r(0) },
        Instr::LdK { dst: r(1), k: sep },
        Instr::Print { src: r(1) },
        Instr::LdFn { dst: r(0), func: FuncIdx(0) },
        Instr::Print { src: r(0) },
        Instr::TypeOf { dst: r(0), a: r(0) },
        Instr::Print { src: r(0) },
        Instr::New { dst: r(0), class },
        Instr::PrintLn { src: r(0) },
        Instr::TypeOf { dst: r(0), a: r(0) },
        Instr::PrintLn { src: r(0) },
        Instr::LdNil { dst: r(0) },
        Instr::PrintLn { src: r(0) },
        // Register 2 was never written: non-argument registers start nil.
        Instr::PrintLn { src: r(2) },
        Instr::Nop {},
        Instr::LdTrue { dst: r(0) },
        Instr::ToStr { dst: r(0), a: r(0) },
        ret(0),
    ];
    b.func("main", 0, 3, code);
    let o = run(&b.build());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "2.5-7s|<function main>function<Point>\nobject\nnil\nnil\n");
    assert_eq!(finished(&o), "true");
}

#[test]
fn arrays() {
    let mut b = Builder::new();
    let code = vec![
        ldi(0, 2),
        Instr::ANew { dst: r(1), len: r(0) },
        ldi(2, 1),
        ldi(3, 42),
        Instr::ASet { arr: r(1), idx: r(2), src: r(3) },
        Instr::APush { arr: r(1), src: r(2) },
        Instr::ALen { dst: r(4), arr: r(1) },
        Instr::PrintLn { src: r(4) },
        Instr::AGet { dst: r(4), arr: r(1), idx: r(2) },
        Instr::PrintLn { src: r(4) },
        Instr::AGet { dst: r(4), arr: r(1), idx: r(0) }, // index 2: the pushed 1
        Instr::PrintLn { src: r(4) },
        ldi(0, 0),
        Instr::AGet { dst: r(4), arr: r(1), idx: r(0) },
        Instr::PrintLn { src: r(4) },
        Instr::Mov { dst: r(5), src: r(1) },
        Instr::Eq { dst: r(4), a: r(5), b: r(1) }, // same array: identity
        Instr::PrintLn { src: r(4) },
        Instr::ANew { dst: r(5), len: r(0) },
        Instr::ANew { dst: r(6), len: r(0) },
        Instr::Eq { dst: r(4), a: r(5), b: r(6) }, // two empty arrays are different arrays
        Instr::PrintLn { src: r(4) },
        Instr::TypeOf { dst: r(4), a: r(1) },
        ret(4),
    ];
    b.func("main", 0, 7, code);
    let o = run(&b.build());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "3\n42\n1\nnil\ntrue\nfalse\n");
    assert_eq!(finished(&o), "array");
}

#[test]
fn array_traps_in_check_order() {
    // (setup in r1 = array?, r2 = index, the instruction, the trap)
    let aget = Instr::AGet { dst: r(0), arr: r(1), idx: r(2) };
    let aset = Instr::ASet { arr: r(1), idx: r(2), src: r(2) };
    let cases: &[(Lit, bool, Lit, &Instr, TrapKind)] = &[
        // Not an array and not an int index: the array is checked first.
        (I(0), false, S("x"), &aget, TrapKind::TypeError),
        (N, false, I(0), &aset, TrapKind::TypeError),
        (I(2), true, S("x"), &aget, TrapKind::TypeError),
        (I(2), true, F(0.0), &aset, TrapKind::TypeError),
        (I(2), true, I(2), &aget, TrapKind::IndexOutOfBounds),
        (I(2), true, I(-1), &aget, TrapKind::IndexOutOfBounds),
        (I(0), true, I(0), &aset, TrapKind::IndexOutOfBounds),
        (I(2), true, I(i64::MIN), &aset, TrapKind::IndexOutOfBounds),
    ];
    for &(len, is_array, idx, instr, kind) in cases {
        let mut b = Builder::new();
        let mut code = vec![load(&mut b, 1, len)];
        if is_array {
            code.push(Instr::ANew { dst: r(1), len: r(1) });
        }
        code.push(load(&mut b, 2, idx));
        let pc = code.len() as u32;
        code.push(instr.clone());
        code.push(ret(0));
        b.func("main", 0, 3, code);
        assert_trap(&run(&b.build()), kind, "0", "main", pc);
    }
    let mut b = Builder::new();
    b.func("main", 0, 2, vec![ldi(0, 1), Instr::APush { arr: r(0), src: r(0) }, ret(0)]);
    assert_trap(&run(&b.build()), TrapKind::TypeError, "0", "main", 1);
}

#[test]
fn objects_fields_and_instanceof() {
    let mut b = Builder::new();
    let shape = b.class("Shape", None, &["name"], &[]);
    let rect = b.class("Rect", Some(shape), &["w", "h"], &[]);
    let circle = b.class("Circle", Some(shape), &["r"], &[]);
    let kname = b.str("box");
    let code = vec![
        Instr::New { dst: r(0), class: rect },
        Instr::LdK { dst: r(1), k: kname },
        // The inherited field through the superclass and through the subclass: one slot.
        Instr::SetF { obj: r(0), field: FieldRef { class: shape, slot: 0 }, src: r(1) },
        Instr::GetF { dst: r(2), obj: r(0), field: FieldRef { class: rect, slot: 0 } },
        Instr::PrintLn { src: r(2) },
        ldi(1, 7),
        Instr::SetF { obj: r(0), field: FieldRef { class: rect, slot: 2 }, src: r(1) },
        Instr::GetF { dst: r(2), obj: r(0), field: FieldRef { class: rect, slot: 2 } },
        Instr::PrintLn { src: r(2) },
        Instr::GetF { dst: r(2), obj: r(0), field: FieldRef { class: rect, slot: 1 } },
        Instr::PrintLn { src: r(2) },
        Instr::InstanceOf { dst: r(2), obj: r(0), class: shape },
        Instr::PrintLn { src: r(2) },
        Instr::InstanceOf { dst: r(2), obj: r(0), class: circle },
        Instr::PrintLn { src: r(2) },
        Instr::New { dst: r(3), class: shape },
        Instr::InstanceOf { dst: r(2), obj: r(3), class: rect },
        Instr::PrintLn { src: r(2) },
        Instr::InstanceOf { dst: r(2), obj: r(1), class: shape },
        Instr::PrintLn { src: r(2) },
        ret(0),
    ];
    b.func("main", 0, 4, code);
    let o = run(&b.build());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "box\n7\nnil\ntrue\nfalse\nfalse\nfalse\n");
    assert_eq!(finished(&o), "<Rect>");
}

#[test]
fn field_access_traps() {
    let mut b = Builder::new();
    let shape = b.class("Shape", None, &["name"], &[]);
    let rect = b.class("Rect", Some(shape), &["w"], &[]);
    let cases: Vec<(Instr, Instr)> = vec![
        // A Shape is not a Rect.
        (
            Instr::New { dst: r(0), class: shape },
            Instr::GetF { dst: r(1), obj: r(0), field: FieldRef { class: rect, slot: 1 } },
        ),
        (
            Instr::New { dst: r(0), class: shape },
            Instr::SetF { obj: r(0), field: FieldRef { class: rect, slot: 0 }, src: r(0) },
        ),
        (ldi(0, 1), Instr::GetF { dst: r(1), obj: r(0), field: FieldRef { class: shape, slot: 0 } }),
        (Instr::LdNil { dst: r(0) }, Instr::SetF { obj: r(0), field: FieldRef { class: shape, slot: 0 }, src: r(0) }),
    ];
    for (setup, instr) in cases {
        let mut b = Builder { module: b.module.clone() };
        b.module.functions.clear();
        b.func("main", 0, 2, vec![setup, instr, ret(0)]);
        assert_trap(&run(&b.build()), TrapKind::TypeError, "0", "main", 1);
    }
}

#[test]
fn control_flow_and_explicit_traps() {
    let mut b = Builder::new();
    // Sum 1..=10 with a forward unconditional jump and a backward conditional one.
    b.func(
        "main",
        0,
        5,
        vec![
            ldi(0, 0),
            ldi(1, 0),
            ldi(2, 10),
            ldi(3, 1),
            jmp(6),
            ret(2),
            Instr::Add { dst: r(0), a: r(0), b: r(3) },
            Instr::Add { dst: r(1), a: r(1), b: r(0) },
            Instr::Lt { dst: r(4), a: r(0), b: r(2) },
            Instr::JmpIf { cond: r(4), target: Label(6) },
            ret(1),
        ],
    );
    assert_eq!(finished(&run(&b.build())), "55");
    let mut b = Builder::new();
    let msg = b.str("bad thing");
    let cases: Vec<(Vec<Instr>, TrapKind, Option<&str>)> = vec![
        (vec![Instr::Trap { msg }], TrapKind::ExplicitTrap, Some("bad thing")),
        (
            vec![Instr::LdFalse { dst: r(0) }, Instr::Assert { cond: r(0), msg }],
            TrapKind::AssertionFailed,
            Some("bad thing"),
        ),
        (vec![ldi(0, 1), Instr::Assert { cond: r(0), msg }], TrapKind::TypeError, None),
        (vec![Instr::LdNil { dst: r(0) }, Instr::JmpIf { cond: r(0), target: Label(0) }], TrapKind::TypeError, None),
        (vec![ldi(0, 0), Instr::JmpIfNot { cond: r(0), target: Label(3) }], TrapKind::TypeError, None),
    ];
    for (mut code, kind, message) in cases {
        let pc = code.len() as u32 - 1;
        code.push(ret(0));
        code.push(ret(0));
        let mut b = Builder { module: b.module.clone() };
        b.func("main", 0, 1, code);
        let got = assert_trap(&run(&b.build()), kind, "0", "main", pc);
        assert_eq!(got.as_deref(), message);
    }
    let mut b = Builder { module: b.module.clone() };
    b.func("main", 0, 1, vec![Instr::LdTrue { dst: r(0) }, Instr::Assert { cond: r(0), msg }, ret(0)]);
    assert_eq!(finished(&run(&b.build())), "true");
}

#[test]
fn main_receives_its_arguments() {
    let mut b = Builder::new();
    b.func(
        "main",
        1,
        3,
        vec![
            Instr::ALen { dst: r(1), arr: r(0) },
            Instr::PrintLn { src: r(1) },
            ldi(1, 1),
            Instr::AGet { dst: r(2), arr: r(0), idx: r(1) },
            ret(2),
        ],
    );
    let config = Config { args: vec![b"a".to_vec(), b"b\xff".to_vec()], ..Config::default() };
    let o = run_config(&b.build(), &config);
    assert_eq!(o.stdout, b"2\n");
    assert_eq!(finished(&o), "b\u{fffd}");
}
