//! Properties of the loader (decode, then verify) on hostile input: random bytes, and valid
//! modules truncated, bit-flipped and with huge LEB128 fields spliced in. Loading must return
//! `Ok` or `Err` without panicking, stay fast, and (`binary.round-trip`) whatever decodes must
//! re-encode to the same bytes.

use lockstep_spec::decode::decode;
use lockstep_spec::encode::encode;
use lockstep_spec::instr::{FieldRef, Label};
use lockstep_spec::verify::verify;
use lockstep_spec::{
    Class, ClassIdx, ConstIdx, Constant, FuncIdx, Function, Instr, Method, Module, Opcode, Operand, OperandKind, Reg,
};
use lockstep_spec::{MAGIC, VERSION};
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Generous: a correct loader takes microseconds on these inputs; a hang or a huge allocation
/// takes far longer (or aborts).
const TOO_SLOW: Duration = Duration::from_secs(2);

/// Decodes, verifies what decodes, and checks the re-encoding. Never panics unless a property
/// fails.
fn load(bytes: &[u8]) {
    let start = Instant::now();
    if let Ok(m) = decode(bytes) {
        assert_eq!(encode(&m), bytes, "decoded bytes re-encode differently");
        let _ = verify(m);
    }
    assert!(start.elapsed() < TOO_SLOW, "loading {} bytes took {:?}", bytes.len(), start.elapsed());
}

/// Draws numbers from a seed, cyclically, so a fixed-size random vector builds any module.
struct Draw<'a> {
    seed: &'a [u32],
    i: usize,
}

impl Draw<'_> {
    fn next(&mut self) -> u32 {
        let v = self.seed[self.i % self.seed.len()].wrapping_add((self.i / self.seed.len()) as u32);
        self.i += 1;
        v
    }

    fn below(&mut self, n: usize) -> usize {
        self.next() as usize % n.max(1)
    }

    fn i64(&mut self) -> i64 {
        (i64::from(self.next()) << 32 | i64::from(self.next())) >> self.below(64)
    }
}

/// A valid module built from `seed`: a few constants of each kind, classes with inheritance,
/// fields and methods, and functions whose code draws opcodes from the whole table (or, with
/// `all_opcodes`, uses each opcode once in the first function).
fn valid_module(seed: &[u32], all_opcodes: bool) -> Module {
    let mut d = Draw { seed, i: 0 };
    let mut constants = vec![Constant::Str(b"s"[..].into())];
    for _ in 0..d.below(5) {
        constants.push(match d.below(3) {
            0 => Constant::Int(d.i64()),
            1 => {
                let f = f64::from_bits(d.i64() as u64);
                Constant::Float(if f.is_nan() { f64::NAN } else { f })
            }
            _ => Constant::Str((0..d.below(6)).map(|_| d.next() as u8).collect()),
        });
    }
    let string_consts: Vec<u32> =
        (0..constants.len()).filter(|&i| matches!(constants[i], Constant::Str(_))).map(|i| i as u32).collect();

    let nfuncs = 1 + d.below(4);
    let arity: Vec<u32> = (0..nfuncs).map(|i| if i == 0 { 0 } else { d.below(3) as u32 }).collect();
    let regs: Vec<u32> = arity.iter().map(|a| a + 1 + d.below(5) as u32).collect();
    let with_receiver: Vec<u32> = (0..nfuncs).filter(|&i| arity[i] >= 1).map(|i| i as u32).collect();

    let mut classes: Vec<Class> = Vec::new();
    for i in 0..1 + d.below(4) {
        let superclass = if i > 0 && d.below(2) == 0 { Some(ClassIdx(d.below(i) as u32)) } else { None };
        let nfields = if i == 0 { 1 + d.below(3) } else { d.below(3) };
        let methods = match with_receiver.is_empty() {
            true => vec![],
            false => (0..d.below(3))
                .map(|j| Method { name: format!("m{j}"), func: FuncIdx(with_receiver[d.below(with_receiver.len())]) })
                .collect(),
        };
        classes.push(Class {
            name: format!("C{i}"),
            superclass,
            fields: (0..nfields).map(|j| format!("f{i}_{j}")).collect(),
            methods,
        });
    }
    let shell = Module { constants, classes, functions: vec![], entry: FuncIdx(0) };
    let field_counts: Vec<usize> =
        (0..shell.classes.len()).map(|c| shell.all_fields(ClassIdx(c as u32)).len()).collect();

    let mut functions = Vec::new();
    for f in 0..nfuncs {
        let ops: Vec<Opcode> = if all_opcodes && f == 0 {
            Opcode::ALL.to_vec()
        } else {
            (0..d.below(12)).map(|_| Opcode::ALL[d.below(Opcode::ALL.len())]).collect()
        };
        let len = ops.len() + 1;
        let mut code = Vec::with_capacity(len);
        for op in ops {
            let mut static_arity = None;
            let mut operands = Vec::new();
            for spec in op.operands() {
                let reg = |d: &mut Draw| Reg(d.below(regs[f] as usize) as u16);
                operands.push(match spec.kind {
                    OperandKind::Reg => Operand::Reg(reg(&mut d)),
                    OperandKind::Imm => Operand::Imm(d.i64()),
                    OperandKind::Const => Operand::Const(ConstIdx(d.below(shell.constants.len()) as u32)),
                    OperandKind::Str => Operand::Str(ConstIdx(string_consts[d.below(string_consts.len())])),
                    OperandKind::Func => {
                        let callee = d.below(nfuncs);
                        static_arity = Some(arity[callee] as usize);
                        Operand::Func(FuncIdx(callee as u32))
                    }
                    OperandKind::Class => Operand::Class(ClassIdx(d.below(shell.classes.len()) as u32)),
                    OperandKind::Field => {
                        // Class 0 has a field, so some class always does.
                        let mut class = d.below(shell.classes.len());
                        if field_counts[class] == 0 {
                            class = 0;
                        }
                        Operand::Field(FieldRef {
                            class: ClassIdx(class as u32),
                            slot: d.below(field_counts[class]) as u32,
                        })
                    }
                    OperandKind::Label => Operand::Label(Label(d.below(len) as u32)),
                    OperandKind::Args => {
                        let n = static_arity.unwrap_or_else(|| d.below(3));
                        Operand::Args((0..n).map(|_| reg(&mut d)).collect())
                    }
                });
            }
            code.push(Instr::from_operands(op, operands).expect("operands follow the table"));
        }
        code.push(Instr::Ret { src: Reg(0) });
        functions.push(Function { name: format!("fn{f}"), arity: arity[f], regs: regs[f], code });
    }
    Module { functions, ..shell }
}

/// A huge value as canonical LEB128 (`u32::MAX`), for splicing over count and length fields.
const HUGE: [u8; 5] = [0xff, 0xff, 0xff, 0xff, 0x0f];

fn config() -> ProptestConfig {
    ProptestConfig { cases: 48, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_modules_verify_and_round_trip(seed in prop::collection::vec(any::<u32>(), 16..64), all in any::<bool>()) {
        let m = valid_module(&seed, all);
        let bytes = encode(&m);
        let back = decode(&bytes);
        prop_assert_eq!(back.as_ref(), Ok(&m));
        if let Err(e) = verify(m) {
            panic!("generated module does not verify: {e}");
        }
    }

    #[test]
    fn random_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..256), with_header in any::<bool>()) {
        let mut bytes = Vec::new();
        if with_header {
            bytes.extend_from_slice(&MAGIC);
            bytes.extend_from_slice(&VERSION.to_le_bytes());
        }
        bytes.extend(tail);
        load(&bytes);
    }

    #[test]
    fn truncations_are_all_rejected(seed in prop::collection::vec(any::<u32>(), 16..64), all in any::<bool>()) {
        let bytes = encode(&valid_module(&seed, all));
        for len in 0..bytes.len() {
            let start = Instant::now();
            let err = decode(&bytes[..len]);
            prop_assert!(err.is_err(), "a prefix of {} of {} bytes decoded", len, bytes.len());
            prop_assert!(start.elapsed() < TOO_SLOW);
        }
    }

    #[test]
    fn bit_flips_never_panic(
        seed in prop::collection::vec(any::<u32>(), 16..64),
        all in any::<bool>(),
        flips in prop::collection::vec((any::<usize>(), 0u8..8), 1..4),
    ) {
        let mut bytes = encode(&valid_module(&seed, all));
        for (at, bit) in flips {
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
        }
        load(&bytes);
    }

    #[test]
    fn huge_fields_spliced_in_never_panic(
        seed in prop::collection::vec(any::<u32>(), 16..64),
        at in any::<usize>(),
        replace in 0usize..3,
    ) {
        let mut bytes = encode(&valid_module(&seed, false));
        let at = at % bytes.len();
        let end = (at + replace).min(bytes.len());
        bytes.splice(at..end, HUGE);
        load(&bytes);
    }
}

/// A file whose only variable part is `leb`, placed as an int constant (`signed`) or as the
/// entry function index.
fn file_with_leb(leb: &[u8], signed: bool) -> Vec<u8> {
    let mut out = [&MAGIC[..], &VERSION.to_le_bytes()[..]].concat();
    let (consts, entry) =
        if signed { ([&[0x01, 0x00][..], leb].concat(), vec![0x00]) } else { (vec![0x00], leb.to_vec()) };
    let funcs = [0x01, 0x01, b'f', 0x00, 0x01, 0x01, 0x35, 0x00];
    for (id, content) in [(1u8, &consts[..]), (2, &[0x00][..]), (3, &funcs[..]), (4, &entry[..])] {
        out.push(id);
        out.push(content.len() as u8);
        out.extend_from_slice(content);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// [binary.leb128] Any well-terminated LEB128 of up to 11 bytes either is rejected or is the
    /// one encoding of its value.
    #[test]
    fn leb128_decoding_accepts_only_canonical_encodings(
        low in prop::collection::vec(0u8..0x80, 0..11),
        signed in any::<bool>(),
        interesting in 0u8..4,
    ) {
        // Bias the last byte towards the ones where overlong encodings hide.
        let last = match interesting { 0 => 0x00, 1 => 0x7f, 2 => 0x40, _ => low.first().copied().unwrap_or(1) };
        let mut leb: Vec<u8> = low.iter().map(|b| b | 0x80).collect();
        leb.push(last);
        let bytes = file_with_leb(&leb, signed);
        if let Ok(m) = decode(&bytes) {
            prop_assert_eq!(encode(&m), bytes);
        }
    }
}

/// Every single-bit change of a module using every opcode: exhaustive, not sampled.
#[test]
fn every_bit_flip_of_an_every_opcode_module() {
    let seed: Vec<u32> = (0..40u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
    let bytes = encode(&valid_module(&seed, true));
    for at in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[at] ^= 1 << bit;
            load(&b);
        }
    }
}

/// [binary.robust] A short input that declares an enormous count is rejected at once, before
/// anything is reserved for it.
#[test]
fn huge_counts_in_tiny_inputs_are_rejected_quickly() {
    let header = [&MAGIC[..], &VERSION.to_le_bytes()[..]].concat();
    let cases: [(&[u8], &str); 4] = [
        // 2^32 - 1 constants: above the limit.
        (&[0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f], "expected at most 1048576"),
        // 2^32 constants does not even fit the 32-bit count.
        (&[0x01, 0x06, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00], "does not fit in 32 bits"),
        // Within the limit, but the section has no room for them.
        (&[0x01, 0x04, 0x80, 0x80, 0x40, 0x00], "but only 1 bytes remain"),
        // A string constant of 2^24 bytes in a 20-byte file.
        (&[0x01, 0x07, 0x01, 0x02, 0x80, 0x80, 0x80, 0x08, 0x00], "but only 1 bytes remain"),
    ];
    for (tail, words) in cases {
        let bytes = [&header[..], tail].concat();
        assert!(bytes.len() <= 20);
        let start = Instant::now();
        let err = decode(&bytes).expect_err("must be rejected");
        assert!(start.elapsed() < Duration::from_millis(50), "took {:?}", start.elapsed());
        assert!(err.message.contains(words), "{err}");
    }
}
