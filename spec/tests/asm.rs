//! The assembler: every error path as data (source -> line, column, message fragment), the
//! module it builds for each operand kind and header form, and every opcode of the table.

use lockstep_spec::asm::{assemble, AsmError, Span};
use lockstep_spec::{
    ClassIdx, ConstIdx, Constant, FieldRef, FuncIdx, Instr, Label, Module, Opcode, Operand, OperandKind, Reg,
};

fn asm(src: &str) -> Module {
    match assemble(src, "test.lsa") {
        Ok(a) => a.module,
        Err(e) => panic!("unexpected error:\n{e}\nin:\n{src}"),
    }
}

fn asm_err(src: &str) -> AsmError {
    match assemble(src, "test.lsa") {
        Ok(a) => panic!("expected an error, got {:?}\nfrom:\n{src}", a.module),
        Err(e) => e,
    }
}

/// A function `main` around `body`, so error cases can be one line.
fn in_main(body: &str) -> String {
    format!("func main(a, b) {{\n{body}\n}}\n")
}

/// (source, line, column, fragment of the message). Bodies marked `@` are wrapped in `main`
/// (whose body starts at line 2).
const ERRORS: &[(&str, u32, u32, &str)] = &[
    // ---- lexical ----
    ("@    add a, a, @b", 2, 15, "unexpected character `@`"),
    ("@    ldi a, 0x", 2, 14, "hexadecimal digits after `0x`"),
    ("@    ldk a, 1.", 2, 14, "digit after `.`"),
    ("@    ldk a, 1e", 2, 14, "digit in the exponent"),
    ("@    ldk a, 1e+", 2, 15, "digit in the exponent"),
    ("@    ldi a, 12ab", 2, 12, "invalid number literal `12ab`"),
    ("@    ldi a, 1.5.2", 2, 12, "invalid number literal"),
    ("@    ldk a, 1e400", 2, 12, "out of range (write `inf`"),
    ("@    ldi a, 9223372036854775808", 2, 12, "integer literal `9223372036854775808` is out of range"),
    ("@    ldi a, -9223372036854775809", 2, 12, "is out of range"),
    ("@    ldi a, 0x8000000000000000", 2, 12, "is out of range"),
    ("@    ldi a, 99999999999999999999999999999999999999999", 2, 12, "is out of range"),
    ("@    ldk a, \"abc", 2, 12, "unterminated string literal"),
    ("@    ldk a, \"a\\qb\"", 2, 14, "bad escape `\\q`"),
    ("@    ldk a, \"a\\x4\"", 2, 14, "exactly two hexadecimal digits"),
    ("@    ldk a, \"a\\", 2, 14, "at end of line"),
    ("const s = \"x\ny\"", 1, 11, "unterminated string literal"),
    // ---- top level ----
    ("add r0, r0, r0", 1, 1, "expected `class`, `const`, `func` or `entry`, found `add`"),
    ("5", 1, 1, "expected `class`, `const`, `func` or `entry`, found `5`"),
    ("entry", 1, 6, "expected a function name, found end of line"),
    ("entry main x", 1, 12, "expected end of line, found `x`"),
    ("func main() {\n}\nentry main\nentry main", 4, 7, "duplicate `entry` (the entry is already given at line 3)"),
    ("entry nowhere\nfunc main() {\n}", 1, 7, "unknown function `nowhere`"),
    ("func f() {\n}", 1, 1, "no entry function"),
    ("", 1, 1, "no entry function"),
    // ---- constants ----
    ("const nan = 1", 1, 7, "`nan` is reserved"),
    ("const inf = 1", 1, 7, "`inf` is reserved"),
    ("const k 1", 1, 9, "expected `=`, found `1`"),
    ("const k = x", 1, 11, "expected a literal (integer, float or string), found `x`"),
    ("const k = 1 2", 1, 13, "expected end of line, found `2`"),
    ("const k = 1\nconst k = 2", 2, 7, "duplicate constant `k`"),
    ("const = 1", 1, 7, "expected a constant name, found `=`"),
    // ---- braces ----
    ("func main() ret", 1, 13, "expected `{`, found `ret`"),
    ("func main() { ret a", 1, 15, "expected end of line, found `ret`"),
    ("func main() {\n    nop\n", 1, 13, "missing `}`: function `main` is not closed"),
    ("class C {\n    field x\n", 1, 9, "missing `}`: class `C` is not closed"),
    (
        "func main() {\n    nop\nfunc g() {\n}",
        3,
        1,
        "expected `}` to close function `main` (opened at line 1), found `func`",
    ),
    ("class C {\nclass D {\n}", 2, 1, "expected `}` to close class `C`"),
    ("func main() {\n} x", 2, 3, "expected end of line, found `x`"),
    // ---- classes ----
    ("class C {\n}\nclass C {\n}", 3, 7, "duplicate class `C`"),
    ("class {\n}", 1, 7, "expected a class name, found `{`"),
    ("class C : {\n}", 1, 11, "expected a superclass name, found `{`"),
    ("class C {\n    fild x\n}", 2, 5, "expected `field`, `method` or `}`, found `fild`"),
    ("class C {\n    5\n}", 2, 5, "expected `field`, `method` or `}`, found `5`"),
    ("class C {\n    field x\n    field x\n}", 3, 11, "duplicate field `x`"),
    ("class C {\n    field\n}", 2, 10, "expected a field name, found end of line"),
    ("class C {\n    field x y\n}", 2, 13, "expected end of line, found `y`"),
    ("class C {\n    method m\n}", 2, 13, "expected the function implementing the method, found end of line"),
    ("class C {\n    method m f\n    method m f\n}\nfunc f() {\n}", 3, 12, "duplicate method `m`"),
    ("class C {\n    method m nowhere\n}\nfunc main() {\n}", 2, 14, "unknown function `nowhere`"),
    ("class C : Nope {\n}\nfunc main() {\n}", 1, 11, "unknown class `Nope`"),
    ("class A : B {\n}\nclass B : A {\n}\nfunc main() {\n}", 1, 7, "class `A` inherits from itself"),
    ("class A : A {\n}\nfunc main() {\n}", 1, 7, "class `A` inherits from itself"),
    // ---- function headers ----
    ("func main() {\n}\nfunc main() {\n}", 3, 6, "duplicate function `main`"),
    ("func (a) {\n}", 1, 6, "expected a function name, found `(`"),
    ("func main {\n}", 1, 11, "expected `(`, found `{`"),
    ("func main(a b) {\n}", 1, 13, "expected `,` or `)`, found `b`"),
    ("func main(a, 5) {\n}", 1, 14, "expected a parameter name, found `5`"),
    ("func main(a, a) {\n}", 1, 14, "duplicate register name `a`"),
    ("func main(r1) {\n}", 1, 11, "parameter 0 cannot be written `r1`"),
    ("func main(a, r0) {\n}", 1, 14, "parameter 1 cannot be written `r0`"),
    ("func main(r99999) {\n}", 1, 11, "parameter 0 cannot be written `r99999`"),
    ("func main() regs {\n}", 1, 18, "expected a register count, found `{`"),
    ("func main() regs -1 {\n}", 1, 18, "must be between 0 and 4294967295"),
    ("func main(a, b) regs 1 {\n}", 1, 22, "`regs 1` is too small: the function uses 2 registers"),
    ("func main() regs 2 {\n    mov r2, r0\n}", 1, 18, "`regs 2` is too small: the function uses 3 registers"),
    // ---- locals and registers ----
    ("@    local x, x", 2, 14, "duplicate register name `x`"),
    ("@    local a", 2, 11, "duplicate register name `a`"),
    ("@    local r3", 2, 11, "`r3` cannot name a register"),
    ("@    local x,", 2, 13, "expected a register name, found end of line"),
    ("@    local x y", 2, 13, "expected end of line, found `y`"),
    ("@    nop\n    local x", 3, 5, "`local` lines must come before the first instruction or label"),
    ("@l:\n    local x", 3, 5, "`local` lines must come before"),
    ("@    mov a, zz", 2, 12, "unknown register `zz`"),
    ("@    mov a, r65536", 2, 12, "register `r65536` is out of range (at most r65535)"),
    // ---- labels ----
    ("@l:\nl: nop", 3, 1, "duplicate label `l`"),
    ("@    jmp nowhere", 2, 9, "unknown label `nowhere` in function `main`"),
    // ---- instructions and operand kinds ----
    ("@    frob a", 2, 5, "unknown mnemonic `frob`"),
    ("@    5", 2, 5, "expected an instruction mnemonic or a label, found `5`"),
    ("@    add a, a", 2, 13, "`add` takes 3 operands (dst: Reg, a: Reg, b: Reg), found 2"),
    ("@    ret", 2, 8, "`ret` takes 1 operand (src: Reg), found 0"),
    ("@    add a, a, b, b", 2, 16, "too many operands: `add` takes 3 operands"),
    ("@    nop a", 2, 9, "expected end of line, found `a`"),
    ("@    yield, a", 2, 10, "too many operands: `yield` takes no operands"),
    ("@    add a a b", 2, 11, "expected `,`, found `a`"),
    ("@    add a, 5, b", 2, 12, "expected a register, found `5`"),
    ("@    ldi a, 1.5", 2, 12, "expected an integer literal, found `1.5`"),
    ("@    ldi a, b", 2, 12, "expected an integer literal, found `b`"),
    ("@    ldk a, (", 2, 12, "expected a constant (a number, a string or a constant name), found `(`"),
    ("@    ldk a, nope", 2, 12, "unknown constant `nope`"),
    ("@    trap 5", 2, 10, "expected a string (a string literal or a constant name), found `5`"),
    ("@    trap nan", 2, 10, "expected a string"),
    ("@    trap nope", 2, 10, "unknown constant `nope`"),
    ("const k = 1.5\n@    trap k", 3, 10, "expected a string, but constant `k` is a number"),
    ("@    ldfn a, 5", 2, 13, "expected a function name, found `5`"),
    ("@    ldfn a, nope", 2, 13, "unknown function `nope`"),
    ("@    new a, \"C\"", 2, 12, "expected a class name, found `\"C\"`"),
    ("@    new a, Nope", 2, 12, "unknown class `Nope`"),
    ("class C {\n    field x\n}\n@    getf a, b, C", 5, 17, "expected `.`, found end of line"),
    ("class C {\n    field x\n}\n@    getf a, b, C.(", 5, 18, "expected a field name or slot number, found `(`"),
    ("class C {\n    field x\n}\n@    getf a, b, 5", 5, 16, "expected a field (`Class.field`), found `5`"),
    ("class C {\n    field x\n}\n@    getf a, b, C.y", 5, 18, "class `C` has no field `y`"),
    ("class C {\n    field x\n}\n@    getf a, b, C.1", 5, 18, "field slot 1 is out of range: class `C` has 1 fields"),
    ("class C {\n    field x\n}\n@    getf a, b, C.-1", 5, 18, "field slot must be between 0"),
    ("@    getf a, b, Nope.x", 2, 16, "unknown class `Nope`"),
    ("@    jmp 5", 2, 9, "expected a label, found `5`"),
    ("@    call a, main, a", 2, 19, "expected `(`, found `a`"),
    ("@    call a, main, (a b)", 2, 22, "expected `,` or `)`, found `b`"),
    ("@    call a, main, (a, 5)", 2, 23, "expected a register, found `5`"),
    ("@    call a, main, (a, zz)", 2, 23, "unknown register `zz`"),
];

#[test]
fn every_error_is_reported_where_it_is_with_what_was_expected() {
    let mut failures = Vec::new();
    for &(case, line, column, fragment) in ERRORS {
        let src = if let Some((before, body)) = case.split_once('@') {
            format!("{before}{}", in_main(body))
        } else {
            case.to_string()
        };
        match assemble(&src, "test.lsa") {
            Ok(_) => failures.push(format!("{case:?}: assembled without error")),
            Err(e) => {
                if (e.line, e.column) != (line, column) || !e.message.contains(fragment) {
                    failures.push(format!(
                        "{case:?}: expected {line}:{column} containing {fragment:?}, got {}:{}: {}",
                        e.line, e.column, e.message
                    ));
                }
                let expected_line = src.split('\n').nth(line as usize - 1).unwrap_or("");
                if e.source_line != expected_line || e.file != "test.lsa" {
                    failures.push(format!("{case:?}: wrong source line {:?} or file {:?}", e.source_line, e.file));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_error_display_is_three_lines_with_a_caret_under_the_column() {
    let e = asm_err("func main(r0, r1, r2) {\n    add r1, 5, r2\n}\n");
    assert_eq!(
        e.to_string(),
        "test.lsa:2:13: error: expected a register, found `5`\n    2 |     add r1, 5, r2\n      |             ^"
    );
    // Tabs in the source are kept in the caret line so that it lines up.
    let e = asm_err("func main(a) {\n\tadd a,\t5, a\n}\n");
    assert_eq!(e.column, 9);
    assert_eq!(e.to_string().lines().nth(2), Some("      | \t      \t^"));
    // The first error wins, whatever its pass.
    let e = asm_err("func main() {\n    jmp nowhere\n    frob\n}\n");
    assert_eq!((e.line, e.message.as_str()), (3, "unknown mnemonic `frob`"));
}

#[test]
fn columns_count_characters_and_crlf_is_accepted() {
    let e = asm_err("func main(a) {\r\n    ldk a, \"é\" b\r\n}\r\n");
    assert_eq!((e.line, e.column), (2, 16));
    assert_eq!(e.source_line, "    ldk a, \"é\" b");
    let m = asm("func main(a) {\r\n    ret a\r\n}\r\n");
    assert_eq!(m.functions[0].code, vec![Instr::Ret { src: Reg(0) }]);
}

#[test]
fn header_forms_set_arity_and_register_count() {
    // (header, body, arity, regs)
    let cases: &[(&str, &str, u32, u32)] = &[
        ("func main() {", "", 0, 0),
        ("func main() {}", "", 0, 0),
        ("func main(a, b) {", "", 2, 2),
        ("func main(r0, b, r2) {", "", 3, 3),
        ("func main(a) {", "    local x, y\n    local z", 1, 4),
        ("func main(a) {", "    mov r9, a", 1, 10),
        ("func main(a) {", "    local x\n    mov x, r1", 1, 2),
        ("func main(a, b) regs 8 {", "    mov a, b", 2, 8),
        ("func main(a) regs 10 {", "    mov r9, a", 1, 10),
        ("func main() regs 0 {}", "", 0, 0),
    ];
    for &(header, body, arity, regs) in cases {
        let src = if header.ends_with("{}") { header.to_string() } else { format!("{header}\n{body}\n}}") };
        let m = asm(&src);
        let f = &m.functions[0];
        assert_eq!((f.name.as_str(), f.arity, f.regs), ("main", arity, regs), "{src}");
    }
}

#[test]
fn registers_are_named_in_declaration_order_or_raw() {
    let m =
        asm("func main(a, r1, c) {\n    local x, y\n    add y, x, c\n    mov r7, r1\n    call a, main, (y, a, r3)\n}");
    let f = &m.functions[0];
    assert_eq!((f.arity, f.regs), (3, 8));
    assert_eq!(
        f.code,
        vec![
            Instr::Add { dst: Reg(4), a: Reg(3), b: Reg(2) },
            Instr::Mov { dst: Reg(7), src: Reg(1) },
            Instr::Call { dst: Reg(0), func: FuncIdx(0), args: vec![Reg(4), Reg(0), Reg(3)].into() },
        ]
    );
}

fn float_bits(c: &Constant) -> Option<u64> {
    match c {
        Constant::Float(f) => Some(f.to_bits()),
        _ => None,
    }
}

#[test]
fn literals_mean_exactly_what_they_say() {
    // (operand text in ldi/ldk position, expected constant or immediate)
    let imms: &[(&str, i64)] = &[
        ("0", 0),
        ("-1", -1),
        ("0x7fffffffffffffff", i64::MAX),
        ("0XfF", 255),
        ("-0x10", -16),
        ("9223372036854775807", i64::MAX),
        ("-9223372036854775808", i64::MIN),
        ("-0x8000000000000000", i64::MIN),
        ("007", 7),
    ];
    for &(text, value) in imms {
        let m = asm(&in_main(&format!("    ldi a, {text}")));
        assert_eq!(m.functions[0].code[0], Instr::LdI { dst: Reg(0), value }, "{text}");
    }
    let floats: &[(&str, u64)] = &[
        ("1.0", 1.0f64.to_bits()),
        ("-0.0", (-0.0f64).to_bits()),
        ("0.0", 0),
        ("1e10", 1e10f64.to_bits()),
        ("1.5e-7", 1.5e-7f64.to_bits()),
        ("1e+100", 1e100f64.to_bits()),
        ("1E2", 100.0f64.to_bits()),
        ("0.1", 0x3fb999999999999a),
        ("5e-324", 1),
        ("1e-400", 0),
        ("1.7976931348623157e308", f64::MAX.to_bits()),
        ("nan", 0x7ff8000000000000),
        ("inf", f64::INFINITY.to_bits()),
        ("-inf", f64::NEG_INFINITY.to_bits()),
    ];
    for &(text, bits) in floats {
        let m = asm(&in_main(&format!("    ldk a, {text}")));
        assert_eq!(m.constants.len(), 1, "{text}");
        assert_eq!(float_bits(&m.constants[0]), Some(bits), "{text}");
    }
    let strings: &[(&str, &[u8])] = &[
        (r#""""#, b""),
        (r#""hello\n""#, b"hello\n"),
        (r#""\t\r\0\\\"""#, b"\t\r\0\\\""),
        (r#""\x00\xff\xAb""#, b"\x00\xff\xab"),
        ("\"é;,\"", "é;,".as_bytes()),
        ("\"tab\there\"", b"tab\there"),
    ];
    for &(text, bytes) in strings {
        let m = asm(&in_main(&format!("    ldk a, {text} ; trailing comment")));
        assert_eq!(m.constants, vec![Constant::Str(bytes.into())], "{text}");
    }
}

#[test]
fn the_pool_holds_named_constants_then_inline_literals_each_once() {
    let m = asm(concat!(
        "const greeting = \"hi\"\n",
        "const one = 1\n",
        "const one_again = 1\n",
        "func main(a) {\n",
        "    ldk a, 2\n",
        "    ldk a, 1\n",
        "    ldk a, \"hi\"\n",
        "    ldk a, 2\n",
        "    ldk a, 1.0\n",
        "    ldk a, -0.0\n",
        "    ldk a, 0.0\n",
        "    ldk a, one_again\n",
        "    trap greeting\n",
        "    assert a, \"boom\"\n",
        "    ldk a, later\n",
        "}\n",
        "const later = \"boom\"\n",
    ));
    let s = |b: &str| Constant::Str(b.as_bytes().into());
    assert_eq!(
        m.constants,
        vec![
            s("hi"),
            Constant::Int(1),
            Constant::Int(1),
            s("boom"),
            Constant::Int(2),
            Constant::Float(1.0),
            Constant::Float(-0.0),
            Constant::Float(0.0),
        ]
    );
    let ks: Vec<u32> = m.functions[0]
        .code
        .iter()
        .flat_map(|i| i.operands())
        .filter_map(|op| match op {
            Operand::Const(k) | Operand::Str(k) => Some(k.0),
            _ => None,
        })
        .collect();
    assert_eq!(ks, vec![4, 1, 0, 4, 5, 6, 7, 2, 0, 3, 3]);
}

#[test]
fn classes_fields_methods_and_inheritance() {
    let m = asm(concat!(
        "class Sub : Base {       ; a forward reference to the superclass\n",
        "    field z\n",
        "    field w               ; slot 3, after Base's two\n",
        "    method get get_sub\n",
        "}\n",
        "class Base {\n",
        "    field x\n",
        "    field y\n",
        "    method get get_base\n",
        "    method other main\n",
        "}\n",
        "class Empty {}\n",
        "func get_base(self) {\n    ret self\n}\n",
        "func get_sub(self) {\n    ret self\n}\n",
        "func main(o) {\n",
        "    getf o, o, Base.y\n",
        "    getf o, o, Sub.y\n",
        "    getf o, o, Sub.w\n",
        "    getf o, o, Base.x\n",
        "    setf o, Sub.z, o\n",
        "    setf o, Sub.1, o\n",
        "    new o, Empty\n",
        "    instanceof o, o, Sub\n",
        "}\n",
    ));
    assert_eq!(m.classes.len(), 3);
    assert_eq!(m.classes[0].name, "Sub");
    assert_eq!(m.classes[0].superclass, Some(ClassIdx(1)));
    assert_eq!(m.classes[0].fields, vec!["z", "w"]);
    assert_eq!(m.classes[0].methods.len(), 1);
    assert_eq!((m.classes[0].methods[0].name.as_str(), m.classes[0].methods[0].func), ("get", FuncIdx(1)));
    assert_eq!(m.classes[1].superclass, None);
    assert_eq!(m.classes[1].methods[1].func, FuncIdx(2));
    assert!(m.classes[2].fields.is_empty() && m.classes[2].methods.is_empty());
    let field = |class, slot| FieldRef { class: ClassIdx(class), slot };
    let o = Reg(0);
    assert_eq!(
        m.functions[2].code,
        vec![
            Instr::GetF { dst: o, obj: o, field: field(1, 1) },
            Instr::GetF { dst: o, obj: o, field: field(0, 1) },
            Instr::GetF { dst: o, obj: o, field: field(0, 3) },
            Instr::GetF { dst: o, obj: o, field: field(1, 0) },
            Instr::SetF { obj: o, field: field(0, 2), src: o },
            Instr::SetF { obj: o, field: field(0, 1), src: o },
            Instr::New { dst: o, class: ClassIdx(2) },
            Instr::InstanceOf { dst: o, obj: o, class: ClassIdx(0) },
        ]
    );
    assert_eq!(m.entry, FuncIdx(2));
}

/// A field an ancestor already declares is the assembler's error, at the field, with the
/// ancestor named (the verifier would reject the module too, but could only point at the class).
#[test]
fn a_field_an_ancestor_declares_is_an_error_at_the_field() {
    let e = asm_err(concat!(
        "class Leaf : Mid {\n",
        "    field own\n",
        "    field count\n",
        "}\n",
        "class Mid : Root {\n",
        "}\n",
        "class Root {\n",
        "    field count\n",
        "}\n",
        "func main() {\n    ret r0\n}\n",
    ));
    assert_eq!((e.line, e.column, e.width), (3, 11, 5), "{e}");
    assert_eq!(e.message, "class `Leaf` declares field `count`, which it already inherits from `Root`");
    assert!(e.help.as_deref().is_some_and(|h| h.contains("`Leaf.count` names one field")), "{e}");
    // The same name in two unrelated classes, or in sibling classes, is no error.
    asm("class A {\n    field x\n}\nclass B : A {\n}\nclass C : A {\n    field y\n}\nclass D : A {\n    field y\n}\nclass E {\n    field x\n}\nfunc main() {\n    ret r0\n}\n");
}

#[test]
fn labels_functions_entry_and_the_source_map() {
    let a = assemble(
        concat!(
            "; leading comment\n",
            "func helper(x, y) {\n",
            "    ret x\n",
            "}\n",
            "\n",
            "func start(a) {\n",
            "top: jmpif a, end       ; forward\n",
            "middle:\n",
            "    ldfn a, start\n",
            "a1: a2: jmpifnot a, top\n",
            "    call a, helper, (a, a)\n",
            "    callv a, a, ()\n",
            "    spawn a, helper, (a, a)\n",
            "    jmp middle\n",
            "end:\n",
            "}\n",
            "func main() {}\n",
            "entry start\n",
        ),
        "x.lsa",
    )
    .unwrap();
    let m = &a.module;
    assert_eq!(m.entry, FuncIdx(1));
    let r = Reg(0);
    assert_eq!(
        m.functions[1].code,
        vec![
            Instr::JmpIf { cond: r, target: Label(7) },
            Instr::LdFn { dst: r, func: FuncIdx(1) },
            Instr::JmpIfNot { cond: r, target: Label(0) },
            Instr::Call { dst: r, func: FuncIdx(0), args: vec![r, r].into() },
            Instr::CallV { dst: r, callee: r, args: vec![].into() },
            Instr::Spawn { dst: r, func: FuncIdx(0), args: vec![r, r].into() },
            Instr::Jmp { target: Label(1) },
        ]
    );
    let lines: Vec<Vec<u32>> = a.source_map.instructions.iter().map(|f| f.iter().map(|s| s.line).collect()).collect();
    assert_eq!(lines, vec![vec![3], vec![7, 9, 10, 11, 12, 13, 14], vec![]]);
    assert_eq!(a.source_map.line(1, 2), Some(10));
    // An instruction's span runs from its mnemonic to its last operand, comments and labels
    // left out; a function's is its name.
    let span = |line, column, width| Span { line, column, width };
    assert_eq!(a.source_map.instruction(1, 0), Some(span(7, 6, 12)), "`jmpif a, end`");
    assert_eq!(a.source_map.instruction(1, 2), Some(span(10, 9, 15)), "`jmpifnot a, top`");
    assert_eq!(a.source_map.instruction(1, 3), Some(span(11, 5, 22)), "`call a, helper, (a, a)`");
    assert_eq!(a.source_map.function(1), Some(span(6, 6, 5)));
    assert_eq!(a.source_map.line(1, 7), None);
    assert_eq!(a.source_map.line(3, 0), None);
}

#[test]
fn names_may_be_keywords_where_they_cannot_be_confused() {
    let m = asm(concat!(
        "class field {\n    field method\n    method field func\n}\n",
        "func func(local, regs) {\n",
        "local: nop\n",
        "}\n",
        "func main(a) {\n    getf a, a, field.method\n}\n",
    ));
    assert_eq!(m.functions[0].name, "func");
    assert_eq!(m.functions[0].arity, 2);
    assert_eq!(m.classes[0].methods[0].func, FuncIdx(0));
    assert_eq!(
        m.functions[1].code[0],
        Instr::GetF { dst: Reg(0), obj: Reg(0), field: FieldRef { class: ClassIdx(0), slot: 0 } }
    );
    let e = asm_err("func f() {\nlocal: local: nop\nx: x: nop\n}");
    assert_eq!((e.line, e.column), (2, 8));
}

/// Source text and expected operand for each kind, used to assemble every opcode.
fn sample(kind: OperandKind, m_consts: &[Constant]) -> (&'static str, Operand) {
    let pos = |c: Constant| ConstIdx(m_consts.iter().position(|x| *x == c).unwrap_or(usize::MAX) as u32);
    match kind {
        OperandKind::Reg => ("r1", Operand::Reg(Reg(1))),
        OperandKind::Imm => ("-7", Operand::Imm(-7)),
        OperandKind::Const => ("2.5", Operand::Const(pos(Constant::Float(2.5)))),
        OperandKind::Str => ("\"msg\"", Operand::Str(pos(Constant::Str((*b"msg").into())))),
        OperandKind::Func => ("g", Operand::Func(FuncIdx(0))),
        OperandKind::Class => ("C", Operand::Class(ClassIdx(0))),
        OperandKind::Field => ("C.f", Operand::Field(FieldRef { class: ClassIdx(0), slot: 0 })),
        OperandKind::Label => ("L", Operand::Label(Label(0))),
        OperandKind::Args => ("(r1, r2)", Operand::Args(vec![Reg(1), Reg(2)].into())),
    }
}

#[test]
fn every_opcode_of_the_table_assembles() {
    let mut src = String::from("class C {\n    field f\n}\nfunc g(x) {\n    ret x\n}\nfunc main(x) {\nL:\n");
    for &op in Opcode::ALL {
        let texts: Vec<&str> = op.operands().iter().map(|s| sample(s.kind, &[]).0).collect();
        src.push_str(&format!("    {} {}\n", op.mnemonic(), texts.join(", ")));
    }
    src.push_str("}\n");
    let m = asm(&src);
    let code = &m.functions[1].code;
    assert_eq!(code.len(), Opcode::ALL.len());
    for (instr, &op) in code.iter().zip(Opcode::ALL) {
        assert_eq!(instr.opcode(), op);
        let expected: Vec<Operand> = op.operands().iter().map(|s| sample(s.kind, &m.constants).1).collect();
        assert_eq!(instr.operands(), expected, "{}", op.mnemonic());
    }
    assert_eq!(m.functions[1].regs, 3);
}

#[test]
fn the_example_of_the_spec_assembles() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/text-format.md")).unwrap();
    let example = md.split("```").nth(1).expect("text-format.md starts with an example");
    let m = asm(example);
    let names: Vec<&str> = m.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Point_norm2", "Point3_norm2", "main"]);
    assert_eq!(m.entry, FuncIdx(2));
    assert_eq!(m.classes[1].superclass, Some(ClassIdx(0)));
    assert_eq!(m.functions[1].regs, 2);
}

/// A superclass chain deeper than `MAX_CLASS_DEPTH` is rejected at its first too deep class,
/// before field names are looked up along it: a chain of n classes with a `getf` per class took
/// n^2 lookups (65,536 classes: minutes), for a module the verifier rejects anyway.
#[test]
fn a_chain_deeper_than_the_limit_is_rejected_before_field_lookup() {
    let n = 4096;
    let mut src = format!("func main() {{\n    local o\n    new o, C{}\n", n - 1);
    for i in 0..n {
        src.push_str(&format!("    getf o, o, C{}.f{i}\n", n - 1));
    }
    src.push_str("    ret o\n}\nclass C0 {\n    field f0\n}\n");
    for i in 1..n {
        src.push_str(&format!("class C{i} : C{} {{\n    field f{i}\n}}\n", i - 1));
    }
    let e = asm_err(&src);
    // `main` takes n + 5 lines and each class three: C64 is declared on line n + 6 + 64 * 3.
    assert_eq!((e.line, e.column), (n + 6 + 64 * 3, 7), "{e}");
    assert!(e.message.contains("class `C64` has 65 classes in its superclass chain"), "{e}");
}

/// A function longer than `MAX_CODE_LEN` is rejected at its first instruction past the limit, so
/// that the assembler never holds more pending code than a valid module can have.
#[test]
fn a_function_longer_than_the_limit_is_rejected_as_it_is_read() {
    let max = lockstep_spec::limits::MAX_CODE_LEN as usize;
    let src = format!("func main() {{\n{}    ret r0\n}}\n", "    nop\n".repeat(max));
    let e = asm_err(&src);
    assert_eq!((e.line, e.column), (max as u32 + 2, 5), "{e}");
    assert!(e.message.contains("function `main` has more than 1048576 instructions"), "{e}");
    // One fewer fits.
    let src = format!("func main() {{\n{}    ret r0\n}}\n", "    nop\n".repeat(max - 1));
    assert_eq!(asm(&src).functions[0].code.len(), max);
}

/// The error display shows a hostile line without obeying it: control characters (but tabs)
/// and bidirectional-text controls are escaped, in the line and in the message, with the carets
/// still under the token (as wide as its escaped form); a long line is shown only around the
/// column.
#[test]
fn the_error_display_escapes_control_characters_and_cuts_long_lines() {
    let e = asm_err("func main() {\n    ret \"\x1b[2J\u{202e}\" \x1b[31m\n}\n");
    assert_eq!(
        e.to_string(),
        format!(
            "test.lsa:2:17: error: unexpected character `\\u{{1b}}`\n    \
             2 |     ret \"\\u{{1b}}[2J\\u{{202e}}\" \\u{{1b}}[31m\n      | {}^^^^^^",
            " ".repeat(28)
        )
    );
    let e = asm_err("func main() {\n    ret \"\x1b[2J\" ,\n}\n");
    assert_eq!(e.to_string().lines().next(), Some("test.lsa:2:9: error: expected a register, found `\"\\u{1b}[2J\"`"));
    let e = asm_err("func main() {\n\tret \"\x07\" ,\n}\n");
    assert_eq!(e.to_string().lines().nth(1), Some("    2 | \tret \"\\u{7}\" ,"));
    assert_eq!(e.to_string().lines().nth(2), Some("      | \t    ^^^^^^^"));
    let e = asm_err(&format!("func main() {{\n{}ret ,{}\n}}\n", " ".repeat(1000), "a".repeat(1000)));
    assert_eq!(e.column, 1005);
    let shown = e.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[1], format!("    2 | ...{}ret ,{}...", " ".repeat(76), "a".repeat(79)));
    assert_eq!(lines[2], format!("      | {}^", " ".repeat(83)));
}

/// [text.float-literal] A float literal rounds as `stof` does, however many digits it has and
/// whatever its exponent: a million zeros after the point cancelled by the exponent is 1.0 (the
/// assembler used `f64::from_str`, whose exponent saturates there, and made it 0.0).
#[test]
fn a_float_literal_with_a_million_digits_rounds_correctly() {
    let zeros = "0".repeat(1_000_000);
    let m = asm(&in_main(&format!("ldk a, 0.{zeros}1e1000001\nret a")));
    assert_eq!(m.constants, vec![Constant::Float(1.0)]);
}

/// [text.errors] An error underlines the whole token, and an unknown name comes with the
/// nearest declared name of its kind, when one is near.
#[test]
fn unknown_names_suggest_the_nearest_declared_one() {
    let program = |body: &str| {
        format!(
            "const limit = 10\nclass Point {{\n    field x_coord\n}}\nfunc helper() {{\n    ret r0\n}}\n\
             func main() {{\n    local total\nloop:\n{body}\n    ret total\n}}\n"
        )
    };
    let cases = [
        ("    ad total, total, total", "unknown mnemonic `ad`", 2, "did you mean the mnemonic `add`?"),
        ("    jmp lop", "unknown label `lop` in function `main`", 3, "did you mean the label `loop`?"),
        ("    call total, helpr, ()", "unknown function `helpr`", 5, "did you mean the function `helper`?"),
        ("    new total, Pont", "unknown class `Pont`", 4, "did you mean the class `Point`?"),
        (
            "    getf total, total, Point.x_cord",
            "class `Point` has no field `x_cord`",
            6,
            "did you mean the field `x_coord`?",
        ),
        ("    ldk total, limt", "unknown constant `limt`", 4, "did you mean the constant `limit`?"),
        ("    mov total, totl", "unknown register `totl`", 4, "did you mean the register `total`?"),
    ];
    for (body, message, width, help) in cases {
        let e = asm_err(&program(body));
        assert_eq!((e.message.as_str(), e.width, e.help.as_deref()), (message, width, Some(help)), "{body}");
        assert!(e.to_string().ends_with(&format!("{}\n      = help: {help}", "^".repeat(width as usize))), "{e}");
    }
    let e = asm_err(&program("    frobnicate total"));
    assert_eq!((e.width, e.help), (10, None), "nothing near `frobnicate`");
}
