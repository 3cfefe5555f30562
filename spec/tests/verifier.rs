//! The verifier, as data: one table of modules that each break exactly one rule of
//! `spec/verifier.md`, checked by one helper, plus modules that must pass. A test also ties the
//! table to the document: every `**[verify.*]**` rule has a case, and every case names a rule.

use lockstep_spec::instr::{FieldRef, Label};
use lockstep_spec::limits;
use lockstep_spec::verify::{verify, VerifyError};
use lockstep_spec::{
    Class, ClassIdx, ConstIdx, Constant, FuncIdx, Function, Instr, Method, Module, Opcode, Operand, OperandKind, Reg,
};
use std::collections::BTreeSet;

fn func(name: &str, arity: u32, regs: u32, code: Vec<Instr>) -> Function {
    Function { name: name.to_string(), arity, regs, code }
}

fn class(name: &str, superclass: Option<u32>, fields: &[&str], methods: &[(&str, u32)]) -> Class {
    Class {
        name: name.to_string(),
        superclass: superclass.map(ClassIdx),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        methods: methods.iter().map(|(n, f)| Method { name: n.to_string(), func: FuncIdx(*f) }).collect(),
    }
}

fn ret(r: u16) -> Instr {
    Instr::Ret { src: Reg(r) }
}

/// A small valid module every case starts from:
/// constants `"msg"`, `1`, `1.5`; classes `Point { x, y; get }` and `Point3: Point { z }`;
/// functions `main` (arity 0, 4 registers) and `get` (arity 1, 2 registers), entry `main`.
fn base() -> Module {
    Module {
        constants: vec![Constant::Str(b"msg"[..].into()), Constant::Int(1), Constant::Float(1.5)],
        classes: vec![class("Point", None, &["x", "y"], &[("get", 1)]), class("Point3", Some(0), &["z"], &[])],
        functions: vec![
            func("main", 0, 4, vec![Instr::LdI { dst: Reg(0), value: 7 }, ret(0)]),
            func(
                "get",
                1,
                2,
                vec![Instr::GetF { dst: Reg(1), obj: Reg(0), field: FieldRef { class: ClassIdx(0), slot: 0 } }, ret(1)],
            ),
        ],
        entry: FuncIdx(0),
    }
}

/// Replaces `main`'s code with `code` followed by `ret r0`.
fn main_code(m: &mut Module, code: Vec<Instr>) {
    m.functions[0].code = code;
    m.functions[0].code.push(ret(0));
}

/// A module using every opcode of the table, with valid operands chosen by kind.
fn every_opcode() -> Module {
    let mut m = base();
    let mut code = Vec::new();
    for (i, &op) in Opcode::ALL.iter().enumerate() {
        let operands = op
            .operands()
            .iter()
            .enumerate()
            .map(|(j, spec)| match spec.kind {
                OperandKind::Reg => Operand::Reg(Reg(((i + j) % 4) as u16)),
                OperandKind::Imm => Operand::Imm(-(i as i64) * 1_000_003),
                OperandKind::Const => Operand::Const(ConstIdx((i % 3) as u32)),
                OperandKind::Str => Operand::Str(ConstIdx(0)),
                OperandKind::Func => Operand::Func(FuncIdx(1)),
                OperandKind::Class => Operand::Class(ClassIdx(1)),
                OperandKind::Field => Operand::Field(FieldRef { class: ClassIdx(1), slot: 2 }),
                OperandKind::Label => Operand::Label(Label(i as u32)),
                // `get` has arity 1, and so do the lists of callv and send here.
                OperandKind::Args => Operand::Args(vec![Reg(3)].into_boxed_slice()),
            })
            .collect();
        code.push(Instr::from_operands(op, operands).expect("operands follow the table"));
    }
    main_code(&mut m, code);
    m
}

/// Where an error must be reported: outside functions, or in function `f` (at `pc`).
#[derive(Clone, Copy, Debug)]
enum At {
    Module,
    Func(u32, Option<u32>),
}

struct Case {
    rule: &'static str,
    /// Words the message must contain.
    words: &'static [&'static str],
    at: At,
    edit: fn(&mut Module),
}

const fn case(rule: &'static str, words: &'static [&'static str], at: At, edit: fn(&mut Module)) -> Case {
    Case { rule, words, at, edit }
}

fn cases() -> Vec<Case> {
    use At::{Func as F, Module as M};
    vec![
        case("verify.constant-count", &["1048577 constants", "at most 1048576"], M, |m| {
            m.constants = vec![Constant::Int(0); limits::MAX_CONSTANTS as usize + 1]
        }),
        case("verify.class-count", &["65537 classes", "at most 65536"], M, |m| {
            m.classes = vec![class("A", None, &[], &[]); limits::MAX_CLASSES as usize + 1]
        }),
        case("verify.function-count", &["65537 functions", "at most 65536"], M, |m| {
            m.functions = vec![func("f", 0, 1, vec![ret(0)]); limits::MAX_FUNCTIONS as usize + 1]
        }),
        case("verify.string-constant-len", &["string constant 1", "16777217 bytes", "at most 16777216"], M, |m| {
            m.constants[1] = Constant::Str(vec![b'a'; limits::MAX_STRING_LEN as usize + 1].into())
        }),
        case("verify.nan", &["float constant 2", "0x7ff8000000000001", "canonical NaN 0x7ff8000000000000"], M, |m| {
            m.constants[2] = Constant::Float(f64::from_bits(0x7ff8_0000_0000_0001))
        }),
        case("verify.nan", &["0xfff8000000000000"], M, |m| {
            m.constants[2] = Constant::Float(f64::from_bits(0xfff8_0000_0000_0000))
        }),
        case("verify.name", &["`1st`", "function 0", "not an identifier"], F(0, None), |m| {
            m.functions[0].name = "1st".into()
        }),
        case("verify.name", &["``", "class 1", "not an identifier"], M, |m| m.classes[1].name = String::new()),
        case("verify.name", &["`a-b`", "field 1 of class `Point`"], M, |m| m.classes[0].fields[1] = "a-b".into()),
        case("verify.name", &["`é`", "method 0 of class `Point`"], M, |m| m.classes[0].methods[0].name = "é".into()),
        case("verify.name", &["256 bytes long", "at most 255"], F(1, None), |m| m.functions[1].name = "g".repeat(256)),
        case("verify.function-name-unique", &["function 1 is named `main`"], F(1, None), |m| {
            m.functions[1].name = "main".into()
        }),
        case("verify.class-name-unique", &["class 1 is named `Point`"], M, |m| m.classes[1].name = "Point".into()),
        case("verify.superclass", &["class `Point` (index 0)", "superclass index 0", "below 0"], M, |m| {
            m.classes[0].superclass = Some(ClassIdx(0))
        }),
        case("verify.superclass", &["superclass index 7", "below 1"], M, |m| {
            m.classes[1].superclass = Some(ClassIdx(7))
        }),
        case("verify.class-depth", &["class `C64`", "65 classes", "at most 64"], M, |m| {
            m.classes = (0..65u32).map(|i| class(&format!("C{i}"), i.checked_sub(1), &[], &[])).collect()
        }),
        case("verify.field-count", &["class `Big`", "1025 fields", "at most 1024"], M, |m| {
            let names: Vec<String> = (0..1025).map(|i| format!("f{i}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            m.classes.push(class("Big", None, &refs, &[]));
        }),
        case("verify.field-count", &["class `Sub`", "1025 fields including inherited"], M, |m| {
            let names: Vec<String> = (0..1022).map(|i| format!("f{i}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            m.classes.push(class("Sub", Some(1), &refs, &[]));
        }),
        case("verify.field-unique", &["class `Point` declares field `x` twice"], M, |m| {
            m.classes[0].fields[1] = "x".into()
        }),
        case("verify.field-unique", &["class `Point3` declares field `y`", "inherits from class `Point`"], M, |m| {
            m.classes[1].fields[0] = "y".into()
        }),
        case("verify.method-count", &["4097 methods", "at most 4096"], M, |m| {
            m.classes[0].methods = (0..4097).map(|i| Method { name: format!("m{i}"), func: FuncIdx(1) }).collect()
        }),
        case("verify.method-unique", &["class `Point` defines method `get` twice"], M, |m| {
            m.classes[0].methods.push(Method { name: "get".into(), func: FuncIdx(1) })
        }),
        case("verify.method-function", &["method `get`", "function 5", "has 2 functions"], M, |m| {
            m.classes[0].methods[0].func = FuncIdx(5)
        }),
        case("verify.method-function", &["function `main` of arity 0", "at least 1 (the receiver)"], M, |m| {
            m.classes[0].methods[0].func = FuncIdx(0)
        }),
        case("verify.regs-limit", &["1025 registers", "at most 1024"], F(0, None), |m| m.functions[0].regs = 1025),
        case("verify.arity-limit", &["arity 256", "at most 255"], F(1, None), |m| {
            m.functions[1].arity = 256;
            m.functions[1].regs = 1024;
        }),
        case("verify.arity-regs", &["arity 3 but only 2 registers"], F(1, None), |m| m.functions[1].arity = 3),
        case("verify.code-nonempty", &["no instructions"], F(1, None), |m| m.functions[1].code.clear()),
        case("verify.code-len", &["1048577 instructions", "at most 1048576"], F(0, None), |m| {
            m.functions[0].code = vec![Instr::Nop {}; limits::MAX_CODE_LEN as usize + 1]
        }),
        case("verify.fall-through", &["last instruction `nop`", "fall through"], F(0, Some(1)), |m| {
            m.functions[0].code[1] = Instr::Nop {}
        }),
        case("verify.fall-through", &["`jmpif`"], F(0, Some(1)), |m| {
            m.functions[0].code[1] = Instr::JmpIf { cond: Reg(0), target: Label(0) }
        }),
        case(
            "verify.reg-range",
            &["register r9 out of range (function has 4 registers)", "operand `b` of `add`"],
            F(0, Some(1)),
            |m| main_code(m, vec![Instr::Nop {}, Instr::Add { dst: Reg(0), a: Reg(1), b: Reg(9) }]),
        ),
        case("verify.reg-range", &["register r4 out of range", "operand `args` of `callv`"], F(0, Some(0)), |m| {
            main_code(m, vec![Instr::CallV { dst: Reg(0), callee: Reg(1), args: vec![Reg(0), Reg(4)].into() }])
        }),
        case("verify.reg-range", &["register r0 out of range (function has 0 registers)"], F(0, Some(0)), |m| {
            m.functions[0].regs = 0
        }),
        case(
            "verify.const-range",
            &["constant 3 out of range (module has 3 constants)", "`ldk`"],
            F(0, Some(0)),
            |m| main_code(m, vec![Instr::LdK { dst: Reg(0), k: ConstIdx(3) }]),
        ),
        case("verify.const-range", &["constant 40 out of range", "operand `msg` of `trap`"], F(0, Some(0)), |m| {
            m.functions[0].code = vec![Instr::Trap { msg: ConstIdx(40) }]
        }),
        case(
            "verify.str-const",
            &["operand `name` of `send`", "constant 1", "not a string constant"],
            F(0, Some(0)),
            |m| main_code(m, vec![Instr::Send { dst: Reg(0), recv: Reg(1), name: ConstIdx(1), args: vec![].into() }]),
        ),
        case("verify.str-const", &["operand `msg` of `assert`", "constant 2"], F(0, Some(0)), |m| {
            main_code(m, vec![Instr::Assert { cond: Reg(0), msg: ConstIdx(2) }])
        }),
        case(
            "verify.func-range",
            &["function 2 out of range (module has 2 functions)", "`ldfn`"],
            F(0, Some(0)),
            |m| main_code(m, vec![Instr::LdFn { dst: Reg(0), func: FuncIdx(2) }]),
        ),
        case("verify.func-range", &["function 9 out of range", "`spawn`"], F(0, Some(0)), |m| {
            main_code(m, vec![Instr::Spawn { dst: Reg(0), func: FuncIdx(9), args: vec![].into() }])
        }),
        case("verify.class-range", &["class 2 out of range (module has 2 classes)", "`new`"], F(0, Some(0)), |m| {
            main_code(m, vec![Instr::New { dst: Reg(0), class: ClassIdx(2) }])
        }),
        case("verify.class-range", &["class 5 out of range", "operand `field` of `setf`"], F(0, Some(0)), |m| {
            main_code(
                m,
                vec![Instr::SetF { obj: Reg(0), field: FieldRef { class: ClassIdx(5), slot: 0 }, src: Reg(1) }],
            )
        }),
        case("verify.field-slot", &["field slot 3 out of range (class `Point3` has 3 fields)"], F(0, Some(0)), |m| {
            main_code(
                m,
                vec![Instr::GetF { dst: Reg(0), obj: Reg(1), field: FieldRef { class: ClassIdx(1), slot: 3 } }],
            )
        }),
        case("verify.field-slot", &["field slot 2 out of range (class `Point` has 2 fields)"], F(1, Some(0)), |m| {
            m.functions[1].code[0] =
                Instr::GetF { dst: Reg(1), obj: Reg(0), field: FieldRef { class: ClassIdx(0), slot: 2 } }
        }),
        case("verify.label-range", &["jump target 2 out of range (function has 2 instructions)"], F(0, Some(0)), |m| {
            m.functions[0].code[0] = Instr::JmpIfNot { cond: Reg(0), target: Label(2) }
        }),
        case("verify.args-limit", &["`callv` passes 256 arguments", "at most 255"], F(0, Some(0)), |m| {
            main_code(m, vec![Instr::CallV { dst: Reg(0), callee: Reg(1), args: vec![Reg(2); 256].into() }])
        }),
        case(
            "verify.call-arity",
            &["`call` passes 0 arguments to function `get`, which has arity 1"],
            F(0, Some(0)),
            |m| main_code(m, vec![Instr::Call { dst: Reg(0), func: FuncIdx(1), args: vec![].into() }]),
        ),
        case(
            "verify.call-arity",
            &["`spawn` passes 2 arguments to function `main`, which has arity 0"],
            F(0, Some(0)),
            |m| main_code(m, vec![Instr::Spawn { dst: Reg(0), func: FuncIdx(0), args: vec![Reg(1), Reg(2)].into() }]),
        ),
        case("verify.entry", &["entry function 2 is out of range (module has 2 functions)"], M, |m| {
            m.entry = FuncIdx(2)
        }),
        case("verify.entry", &["entry function `main` has arity 2", "expected arity 0 or 1"], M, |m| {
            m.functions[0].arity = 2
        }),
    ]
}

/// Applies a case to `base()` and checks the rejection.
fn check(case: &Case) {
    let mut m = base();
    (case.edit)(&mut m);
    let err: VerifyError = match verify(m) {
        Ok(_) => panic!("[{}] expected a rejection, the module verified", case.rule),
        Err(e) => e,
    };
    assert_eq!(err.rule, case.rule, "wrong rule; error: {err}");
    for w in case.words {
        assert!(err.message.contains(w), "[{}] message lacks {w:?}: {}", case.rule, err.message);
    }
    match case.at {
        At::Module => assert_eq!((&err.function, err.pc), (&None, None), "{err}"),
        At::Func(f, pc) => {
            assert_eq!(err.function.as_ref().map(|(i, _)| *i), Some(f), "{err}");
            assert_eq!(err.pc, pc, "{err}");
        }
    }
}

#[test]
fn every_case_is_rejected_by_its_rule() {
    for case in cases() {
        check(&case);
    }
}

#[test]
fn valid_modules_pass() {
    let max_class_chain = {
        let mut m = base();
        m.classes = (0..limits::MAX_CLASS_DEPTH)
            .map(|i| class(&format!("C{i}"), i.checked_sub(1), if i == 0 { &["x"] } else { &[] }, &[]))
            .collect();
        m
    };
    let edge_values = {
        let mut m = base();
        m.constants.push(Constant::Float(f64::NAN));
        m.constants.push(Constant::Float(-0.0));
        m.constants.push(Constant::Str(vec![0xff, 0x00][..].into()));
        m.functions[1].arity = limits::MAX_ARGS;
        m.functions[1].regs = limits::MAX_REGS;
        m.functions[1].name = format!("_{}", "x".repeat(limits::MAX_NAME_LEN as usize - 1));
        m.classes[0].methods.clear();
        m.functions[0].arity = 1;
        // Unreachable code is allowed, and a backward jump may end a function.
        m.functions[0].code = vec![Instr::Jmp { target: Label(0) }, Instr::Nop {}, Instr::Jmp { target: Label(1) }];
        m
    };
    let override_method = {
        let mut m = base();
        m.classes[1].methods.push(Method { name: "get".into(), func: FuncIdx(1) });
        m
    };
    for (what, m) in [
        ("base", base()),
        ("every opcode", every_opcode()),
        ("class chain of MAX_CLASS_DEPTH", max_class_chain),
        ("edge values", edge_values),
        ("override", override_method),
    ] {
        let all: Vec<usize> = (0..m.classes.len()).map(|c| m.all_fields(ClassIdx(c as u32)).len()).collect();
        match verify(m) {
            Ok(v) => {
                let counts: Vec<usize> =
                    (0..v.classes.len()).map(|c| v.field_count(ClassIdx(c as u32)) as usize).collect();
                assert_eq!(counts, all, "{what}: field_count disagrees with all_fields");
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

#[test]
fn every_opcode_module_really_has_every_opcode() {
    let m = every_opcode();
    let used: BTreeSet<u8> = m.functions[0].code.iter().map(|i| i.opcode().byte()).collect();
    assert_eq!(used.len(), Opcode::ALL.len());
}

#[test]
fn display_names_rule_function_and_instruction() {
    let mut m = base();
    m.functions[0].name = "fib".into();
    main_code(
        &mut m,
        vec![Instr::Nop {}, Instr::Nop {}, Instr::Nop {}, Instr::Add { dst: Reg(0), a: Reg(9), b: Reg(1) }],
    );
    let err = verify(m).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid module: [verify.reg-range] in function `fib` at instruction 3: \
         register r9 out of range (function has 4 registers) in operand `a` of `add`"
    );
    let mut m = base();
    m.entry = FuncIdx(9);
    assert_eq!(
        verify(m).unwrap_err().to_string(),
        "invalid module: [verify.entry]: the entry function 9 is out of range (module has 2 functions)"
    );
    let mut m = base();
    m.functions[1].code.clear();
    assert_eq!(
        verify(m).unwrap_err().to_string(),
        "invalid module: [verify.code-nonempty] in function `get`: the function has no instructions, expected at least one"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(verify(Module::default()).unwrap_err());
    assert!(boxed.to_string().starts_with("invalid module: [verify.entry]"));
}

/// The verify rules introduced in `spec/verifier.md` (each must be introduced exactly once, in
/// bold brackets at the start of a list item or paragraph).
fn documented_rules() -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier.md");
    let text = std::fs::read_to_string(&path).expect("spec/verifier.md is readable");
    let mut rules = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim_start();
        let line = line.strip_prefix("- ").unwrap_or(line);
        if let Some(rest) = line.strip_prefix("**[") {
            let name = rest.split(']').next().unwrap_or("");
            assert!(rest[name.len()..].starts_with("]**"), "malformed rule introduction: {line}");
            assert!(rules.insert(name.to_string()), "rule [{name}] introduced twice");
        }
    }
    rules.into_iter().filter(|r| r.starts_with("verify.")).collect()
}

#[test]
fn table_covers_every_documented_rule_and_nothing_else() {
    let documented = documented_rules();
    assert!(documented.len() >= 25, "suspiciously few rules parsed: {documented:?}");
    let tested: BTreeSet<String> = cases().iter().map(|c| c.rule.to_string()).collect();
    let untested: Vec<_> = documented.difference(&tested).collect();
    let undocumented: Vec<_> = tested.difference(&documented).collect();
    assert!(untested.is_empty(), "rules in verifier.md with no case: {untested:?}");
    assert!(undocumented.is_empty(), "cases naming rules not in verifier.md: {undocumented:?}");
}
