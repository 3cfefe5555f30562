//! The `.lsb` format (`spec/binary-format.md`): round trips both ways, the worked example of the
//! document, and a table of malformed inputs with the offset and message each must produce.

use lockstep_spec::decode::{decode, DecodeError};
use lockstep_spec::encode::encode;
use lockstep_spec::instr::{FieldRef, Label};
use lockstep_spec::{limits, MAGIC, VERSION};
use lockstep_spec::{
    Class, ClassIdx, ConstIdx, Constant, FuncIdx, Function, Instr, Method, Module, Opcode, Operand, OperandKind, Reg,
};

fn func(name: &str, arity: u32, regs: u32, code: Vec<Instr>) -> Function {
    Function { name: name.to_string(), arity, regs, code }
}

/// A module using every opcode, with operands of every kind (valid for the verifier too).
fn every_opcode() -> Module {
    let mut code = Vec::new();
    for (i, &op) in Opcode::ALL.iter().enumerate() {
        let operands = op
            .operands()
            .iter()
            .enumerate()
            .map(|(j, spec)| match spec.kind {
                OperandKind::Reg => Operand::Reg(Reg(((i * 7 + j) % 200) as u16)),
                OperandKind::Imm => Operand::Imm((i as i64 - 30) << (i % 60)),
                OperandKind::Const => Operand::Const(ConstIdx((i % 4) as u32)),
                OperandKind::Str => Operand::Str(ConstIdx(0)),
                OperandKind::Func => Operand::Func(FuncIdx(1)),
                OperandKind::Class => Operand::Class(ClassIdx(1)),
                OperandKind::Field => Operand::Field(FieldRef { class: ClassIdx(1), slot: 2 }),
                OperandKind::Label => Operand::Label(Label(i as u32)),
                OperandKind::Args => Operand::Args(vec![Reg(130), Reg(199)].into_boxed_slice()),
            })
            .collect();
        code.push(Instr::from_operands(op, operands).expect("operands follow the table"));
    }
    code.push(Instr::Ret { src: Reg(0) });
    Module {
        constants: vec![
            Constant::Str(b"hello"[..].into()),
            Constant::Int(-5),
            Constant::Float(0.1),
            Constant::Float(f64::NAN),
        ],
        classes: vec![
            Class { name: "Point".into(), superclass: None, fields: vec!["x".into(), "y".into()], methods: vec![] },
            Class {
                name: "Point3".into(),
                superclass: Some(ClassIdx(0)),
                fields: vec!["z".into()],
                methods: vec![Method { name: "norm".into(), func: FuncIdx(1) }],
            },
        ],
        functions: vec![func("main", 0, 200, code), func("norm", 2, 3, vec![Instr::Ret { src: Reg(2) }])],
        entry: FuncIdx(0),
    }
}

/// Values at the edges of what the format carries; most of them fail verification, which is
/// not the decoder's business.
fn edge_values() -> Module {
    Module {
        constants: vec![
            Constant::Int(i64::MIN),
            Constant::Int(i64::MAX),
            Constant::Int(-64),
            Constant::Int(64),
            Constant::Float(-0.0),
            Constant::Float(f64::from_bits(0xfff0_0000_0000_0001)),
            Constant::Float(f64::INFINITY),
            Constant::Str(Box::new([])),
            Constant::Str(vec![0xff, 0x00, 0xc3][..].into()),
        ],
        classes: vec![Class {
            name: "ünïcode".into(),
            superclass: Some(ClassIdx(u32::MAX)),
            fields: vec![String::new(), "x".repeat(limits::MAX_NAME_LEN as usize)],
            methods: vec![Method { name: "m".into(), func: FuncIdx(u32::MAX) }],
        }],
        functions: vec![
            func(
                "",
                u32::MAX,
                u32::MAX,
                vec![
                    Instr::LdI { dst: Reg(u16::MAX), value: i64::MIN },
                    Instr::LdI { dst: Reg(0), value: i64::MAX },
                    Instr::LdK { dst: Reg(1), k: ConstIdx(u32::MAX) },
                    Instr::GetF {
                        dst: Reg(2),
                        obj: Reg(3),
                        field: FieldRef { class: ClassIdx(u32::MAX), slot: u32::MAX },
                    },
                    Instr::Jmp { target: Label(u32::MAX) },
                    Instr::CallV {
                        dst: Reg(0),
                        callee: Reg(1),
                        args: vec![Reg(u16::MAX); limits::MAX_ARGS as usize].into(),
                    },
                ],
            ),
            func("empty", 0, 0, vec![]),
        ],
        entry: FuncIdx(u32::MAX),
    }
}

#[test]
fn modules_round_trip() {
    for (what, m) in [("every opcode", every_opcode()), ("edge values", edge_values()), ("empty", Module::default())] {
        let bytes = encode(&m);
        match decode(&bytes) {
            Ok(back) => assert_eq!(back, m, "{what}: decode(encode(m)) != m"),
            Err(e) => panic!("{what}: {e}"),
        }
        assert_eq!(encode(&m), bytes, "{what}: encoding is not deterministic");
    }
    assert!(lockstep_spec::verify::verify(every_opcode()).is_ok());
}

/// The hex block of the "Example" section of `spec/binary-format.md`: on each line, the leading
/// two-digit hex tokens.
fn documented_example() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("binary-format.md");
    let text = std::fs::read_to_string(path).expect("spec/binary-format.md is readable");
    let block = text.split("```hex").nth(1).and_then(|rest| rest.split("```").next()).expect("a ```hex block");
    let mut bytes = Vec::new();
    for line in block.lines() {
        for token in line.split_whitespace() {
            match u8::from_str_radix(token, 16) {
                Ok(b) if token.len() == 2 => bytes.push(b),
                _ => break,
            }
        }
    }
    bytes
}

#[test]
fn the_documented_example_is_exact() {
    let expected = Module {
        constants: vec![Constant::Str(b"hi"[..].into())],
        classes: vec![],
        functions: vec![func(
            "main",
            0,
            1,
            vec![
                Instr::LdK { dst: Reg(0), k: ConstIdx(0) },
                Instr::PrintLn { src: Reg(0) },
                Instr::Ret { src: Reg(0) },
            ],
        )],
        entry: FuncIdx(0),
    };
    let bytes = documented_example();
    assert_eq!(bytes.len(), 39, "the document says 39 bytes");
    assert_eq!(decode(&bytes), Ok(expected.clone()));
    assert_eq!(encode(&expected), bytes);
}

#[test]
fn decoded_bytes_reencode_identically() {
    for bytes in [documented_example(), encode(&every_opcode()), encode(&edge_values())] {
        let m = decode(&bytes).expect("valid bytes");
        assert_eq!(encode(&m), bytes);
    }
}

#[test]
fn every_proper_prefix_is_rejected_within_itself() {
    for bytes in [documented_example(), encode(&every_opcode()), encode(&edge_values())] {
        for len in 0..bytes.len() {
            match decode(&bytes[..len]) {
                Ok(_) => panic!("prefix of {len} bytes decoded"),
                Err(e) => assert!(e.offset <= len, "prefix {len}: error beyond the input: {e}"),
            }
        }
    }
}

#[test]
fn encode_is_total_and_decode_names_the_limit() {
    let mut long_name = every_opcode();
    long_name.functions[1].name = "n".repeat(limits::MAX_NAME_LEN as usize + 1);
    let mut many_args = every_opcode();
    many_args.functions[0].code[0] =
        Instr::CallV { dst: Reg(0), callee: Reg(0), args: vec![Reg(1); limits::MAX_ARGS as usize + 1].into() };
    let mut big_string = every_opcode();
    big_string.constants[0] = Constant::Str(vec![b'a'; limits::MAX_STRING_LEN as usize + 1].into());
    for (what, m, limit) in [
        ("long name", long_name, "limit.name-len"),
        ("many args", many_args, "limit.args"),
        ("big string", big_string, "limit.string-len"),
    ] {
        let err = decode(&encode(&m)).expect_err(what);
        assert!(err.message.contains(limit), "{what}: {err}");
    }
}

#[test]
fn error_display() {
    let e = DecodeError { offset: 0x1a, message: "expected a thing".into() };
    assert_eq!(e.to_string(), "malformed module at byte 0x1a: expected a thing");
    let boxed: Box<dyn std::error::Error> = Box::new(decode(b"").unwrap_err());
    assert_eq!(
        boxed.to_string(),
        "malformed module at byte 0x0: expected the magic bytes `\\0lsb` (00 6c 73 62): not a lockstep binary module"
    );
}

// ---- malformed inputs ---------------------------------------------------------------------------

fn uleb(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn header() -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    out
}

/// A file from section contents. With the defaults below (one byte each for constants and
/// classes, 8 for functions), the constants content starts at 10, the classes content at 13,
/// the functions content at 16, the entry content at 26, and the file is 27 bytes.
fn file(consts: &[u8], classes: &[u8], funcs: &[u8], entry: &[u8]) -> Vec<u8> {
    let mut out = header();
    for (id, content) in [(1u8, consts), (2, classes), (3, funcs), (4, entry)] {
        out.push(id);
        out.extend(uleb(content.len() as u64));
        out.extend_from_slice(content);
    }
    out
}

const C: &[u8] = &[0x00];
const K: &[u8] = &[0x00];
/// One function `f`, arity 0, one register: `ret r0`.
const F: &[u8] = &[0x01, 0x01, b'f', 0x00, 0x01, 0x01, 0x35, 0x00];
const E: &[u8] = &[0x00];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

struct Bad {
    what: &'static str,
    bytes: Vec<u8>,
    offset: usize,
    words: &'static [&'static str],
}

fn bad(what: &'static str, bytes: Vec<u8>, offset: usize, words: &'static [&'static str]) -> Bad {
    Bad { what, bytes, offset, words }
}

fn malformed() -> Vec<Bad> {
    let h = header();
    let name256 = cat(&[&[0x01], &uleb(256), &[b'a'; 256], &[0, 0, 0]]);
    vec![
        bad("default file is valid (control)", file(C, K, F, E), usize::MAX, &[]),
        bad("empty input", vec![], 0, &["expected the magic bytes"]),
        bad("wrong magic", cat(&[b"\0lsc", &h[4..]]), 3, &["magic bytes", "not a lockstep binary module"]),
        bad("short magic", b"\0ls".to_vec(), 3, &["magic bytes"]),
        bad("ELF file", b"\x7fELF\x02\x01\x01\x00".to_vec(), 0, &["magic bytes"]),
        bad("version 2", cat(&[&MAGIC, &[2, 0, 0, 0]]), 4, &["unsupported format version 2, expected version 1"]),
        bad("version 256", cat(&[&MAGIC, &[0, 1, 0, 0]]), 4, &["unsupported format version 256"]),
        bad("truncated version", cat(&[&MAGIC, &[1, 0]]), 6, &["unexpected end of input, expected the format version"]),
        bad("no sections", h.clone(), 8, &["unexpected end of input, expected section 1 (constants)"]),
        bad(
            "classes first",
            cat(&[&h, &[2, 1, 0]]),
            8,
            &["expected section 1 (constants), found section 2 (classes), which is repeated or out of order"],
        ),
        bad(
            "unknown section",
            cat(&[&h, &[9, 1, 0]]),
            8,
            &["expected section 1 (constants), found unknown section id 9"],
        ),
        bad(
            "repeated section",
            cat(&[&h, &[1, 1, 0, 1, 1, 0]]),
            11,
            &["expected section 2 (classes), found section 1 (constants)"],
        ),
        bad(
            "missing entry",
            file(C, K, F, E)[..24].to_vec(),
            24,
            &["unexpected end of input, expected section 4 (entry)"],
        ),
        bad(
            "section length beyond input",
            cat(&[&h, &[1, 0x7f, 0]]),
            9,
            &["the constants section declares 127 bytes but only 1 remain"],
        ),
        bad(
            "section longer than its content",
            file(&[0, 0], K, F, E),
            11,
            &["expected the end of the constants section, found 1 more bytes"],
        ),
        bad(
            "content runs past its section",
            file(&[1, 0, 0x80], K, F, E),
            13,
            &["expected the value of int constant 0, but the constants section ends here"],
        ),
        bad(
            "trailing bytes",
            cat(&[&file(C, K, F, E), &[0]]),
            27,
            &["expected the end of the input after the entry section"],
        ),
        bad(
            "overlong unsigned",
            file(&[0x80, 0x00], K, F, E),
            10,
            &["the constant count", "not the shortest", "overlong"],
        ),
        bad("overlong signed -1", file(&[1, 0, 0xff, 0x7f], K, F, E), 12, &["int constant 0", "overlong"]),
        bad("overlong signed 0", file(&[1, 0, 0x80, 0x00], K, F, E), 12, &["overlong"]),
        bad("overlong entry", file(C, K, F, &[0x80, 0x00]), 26, &["the entry function index", "overlong"]),
        bad(
            "too many LEB bytes",
            file(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], K, F, E),
            10,
            &["longer than 5 bytes for a 32-bit value"],
        ),
        bad(
            "bits beyond 32",
            file(&[0xff, 0xff, 0xff, 0xff, 0x1f], K, F, E),
            10,
            &["the constant count", "does not fit in 32 bits"],
        ),
        bad(
            "bits beyond 64 (signed)",
            file(&cat(&[&[1, 0], &[0x80; 9], &[0x01]]), K, F, E),
            12,
            &["does not fit in 64 bits"],
        ),
        bad(
            "sleb longer than 10 bytes",
            file(&cat(&[&[1, 0], &[0x80; 10], &[0x00]]), K, F, E),
            12,
            &["longer than 10 bytes for a 64-bit value"],
        ),
        bad(
            "register beyond 16 bits",
            file(C, K, &cat(&[&F[..7], &[0x80, 0x80, 0x04]]), E),
            23,
            &["operand `src` of `ret` (instruction 0 of function 0)", "does not fit in 16 bits"],
        ),
        bad(
            "unknown opcode",
            file(C, K, &cat(&[&F[..6], &[0xff]]), E),
            22,
            &["unknown opcode 0xff at instruction 0 of function 0"],
        ),
        bad("unknown constant tag", file(&[1, 7, 0], K, F, E), 11, &["unknown constant tag 0x07 for constant 0"]),
        bad(
            "constant count above the limit",
            file(&uleb(u32::MAX.into()), K, F, E),
            10,
            &["the constant count is 4294967295, expected at most 1048576 (limit.constants)"],
        ),
        bad(
            "constant count above the bytes",
            file(&cat(&[&uleb(1000), &[0; 10]]), K, F, E),
            10,
            &["the constant count is 1000, but only 10 bytes remain"],
        ),
        bad("class count above the limit", file(C, &uleb(65537), F, E), 13, &["limit.classes"]),
        bad("function count above the limit", file(C, K, &uleb(65537), E), 16, &["limit.functions"]),
        bad(
            "instruction count above the limit",
            file(C, K, &cat(&[&F[..5], &uleb(1 << 20 | 1)]), E),
            21,
            &["limit.code-len"],
        ),
        bad(
            "instruction count above the bytes",
            file(C, K, &cat(&[&F[..5], &uleb(1 << 20)]), E),
            21,
            &["the instruction count of function 0 is 1048576, but only 0 bytes remain"],
        ),
        bad(
            "string above the limit",
            file(&cat(&[&[1, 2], &uleb(limits::MAX_STRING_LEN + 1)]), K, F, E),
            12,
            &["the length of string constant 0 is 16777217, expected at most 16777216 (limit.string-len)"],
        ),
        bad(
            "string beyond its section",
            file(&[1, 2, 5, b'a'], K, F, E),
            12,
            &["string constant 0 is 5, but only 1 bytes remain"],
        ),
        bad(
            "truncated float",
            file(&[1, 1, 0, 0, 0], K, F, E),
            15,
            &["expected the 8 bytes of float constant 0, but the constants section ends here"],
        ),
        // The classes section is over 127 bytes here, so its length takes two bytes.
        bad(
            "name above the limit",
            file(C, &name256, F, E),
            15,
            &["the length of the name of class 0 is 256", "(limit.name-len)"],
        ),
        bad(
            "name not UTF-8",
            file(C, &[1, 2, 0xc3, 0x28, 0, 0, 0], F, E),
            15,
            &["expected the name of class 0 in UTF-8"],
        ),
        bad(
            "superclass beyond 2^32",
            file(C, &cat(&[&[1, 1, b'A'], &uleb((1 << 32) + 1), &[0, 0]]), F, E),
            16,
            &["the superclass of class 0 is 4294967297", "at most 2^32"],
        ),
        bad(
            "field count above the limit",
            file(C, &cat(&[&[1, 1, b'A', 0], &uleb(1025)]), F, E),
            17,
            &["the field count of class 0 is 1025", "limit.fields"],
        ),
        bad(
            "method count above the limit",
            file(C, &cat(&[&[1, 1, b'A', 0, 0], &uleb(4097)]), F, E),
            18,
            &["the method count of class 0 is 4097", "limit.methods"],
        ),
        // Two-byte section length again: the argument count is at 16 + 1 + 9.
        bad(
            "args above the limit",
            file(C, K, &cat(&[&[1, 1, b'f', 0, 1, 2, 0x33, 0, 0], &uleb(256), &[0; 256], &[0x35, 0]]), E),
            26,
            &["the argument count of operand `args` of `call` (instruction 0 of function 0) is 256", "limit.args"],
        ),
        bad(
            "module above the size limit",
            vec![0; limits::MAX_MODULE_BYTES + 1],
            limits::MAX_MODULE_BYTES,
            &["bytes long, expected at most", "(limit.module-bytes)"],
        ),
    ]
}

#[test]
fn malformed_inputs_are_rejected_where_and_why() {
    for case in malformed() {
        let result = decode(&case.bytes);
        if case.offset == usize::MAX {
            assert!(result.is_ok(), "{}: {result:?}", case.what);
            continue;
        }
        let err = match result {
            Ok(_) => panic!("{}: decoded", case.what),
            Err(e) => e,
        };
        assert_eq!(err.offset, case.offset, "{}: {err}", case.what);
        for w in case.words {
            assert!(err.message.contains(w), "{}: message lacks {w:?}: {err}", case.what);
        }
    }
}
