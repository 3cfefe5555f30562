//! The disassembler: its output assembles back to an equal module and is a fixpoint, on
//! hand-written sources and on generated well-formed modules; it never panics on any module; and
//! the assembler never panics on random or mutated text. [text.round-trip]

use lockstep_spec::asm::assemble;
use lockstep_spec::disasm::disassemble;
use lockstep_spec::limits::MAX_ARGS;
use lockstep_spec::{
    Class, ClassIdx, ConstIdx, Constant, FieldRef, FuncIdx, Function, Instr, Label, Method, Module, Opcode, Operand,
    OperandKind, Reg,
};
use proptest::prelude::*;

fn asm(src: &str) -> Module {
    match assemble(src, "test.lsa") {
        Ok(a) => a.module,
        Err(e) => panic!("unexpected error:\n{e}\nin:\n{src}"),
    }
}

/// disasm(m) assembles to m, and disassembling that again prints the same text.
fn check_round_trip(m: &Module) -> String {
    let text = disassemble(m);
    let back = match assemble(&text, "disassembled.lsa") {
        Ok(a) => a.module,
        Err(e) => panic!("the disassembly does not assemble:\n{e}\n{text}"),
    };
    assert_eq!(&back, m, "the disassembly assembles to a different module:\n{text}");
    assert_eq!(disassemble(&back), text, "the disassembly is not a fixpoint");
    text
}

const EXAMPLE: &str = r#"
; the example of text-format.md
class Point {
    field x
    field y
    method norm2 Point_norm2        ; method NAME FUNCTION
}
class Point3 : Point {              ; single inheritance
    field z
    method norm2 Point3_norm2
}
const greeting = "hello\n"
func Point_norm2(self) {
    local a, b
    getf a, self, Point.x
    mul a, a, a
    getf b, self, Point.y
    mul b, b, b
    add a, a, b
    ret a
}
func Point3_norm2(self) {
    local a
    getf a, self, Point3.z
    ret a
}
func helper(x, y) {
    ret y
}
func main(args) {
    local p, t, i, n
    new p, Point
    ldi t, 3
    setf p, Point.x, t
    send t, p, "norm2", ()
    println t
    ldi i, 0
    ldi n, 10
loop:
    add i, i, t
    lt t, i, n
    jmpif t, loop
    call t, helper, (i, n)
    ldk t, greeting
    ldk t, 1.5e-3
    ldk t, "tab\there \x00 \"quoted\""
    ret t
}
entry main
"#;

/// Inherited fields named through subclasses, and by slot, with the superclass declared last.
const INHERITANCE: &str = "
class Sub : Base {
    field w
    field y
}
class Base {
    field x
}
class Leaf : Sub {
}
func main(o) regs 3 {
    getf r1, o, Base.x
    getf r1, o, Sub.x
    getf r2, o, Sub.2
    setf o, Leaf.0, r2
    setf o, Leaf.w, r2
    instanceof r1, o, Leaf
    ret r1
}
";

const CONSTANTS: &str = r#"
const unused = 42
const dup1 = "same"
const dup2 = "same"
const zero = 0.0
func main() {
    local a
    ldk a, dup2
    ldk a, -0.0
    ldk a, 0.0
    trap dup1
}
"#;

const FLOATS: &str = "
func main(a) {
    ldk a, nan
    ldk a, inf
    ldk a, -inf
    ldk a, -0.0
    ldk a, 0.0
    ldk a, 5e-324
    ldk a, -2.2250738585072014e-308
    ldk a, 2.225073858507201e-308
    ldk a, 1.7976931348623157e308
    ldk a, 0.1
    ldk a, 1e16
    ldk a, 1e15
    ldk a, 0.0001
    ldk a, 0.00001
    ldk a, 123456789.123456789
    ldk a, 1
    ldk a, -9223372036854775808
    ret a
}
";

const SHAPES: &str = "
class Empty {}
func noop() {}
func end_label(c) {
    jmpif c, out
    jmp out
out:
}
func main(a, b) regs 300 {
    mov r299, a
    atomic_begin
    spawn a, end_label, (b)
    join a, a
    atomic_end
    callv a, a, (a, b, a, b)
    ret a
}
";

/// A source whose string constants hold every byte 0..=255, one byte per string and all of
/// them in one string.
fn every_byte_source() -> String {
    let mut all = String::new();
    let mut src = String::from("func main(a) {\n");
    for b in 0..=255u8 {
        let esc = format!("\\x{b:02x}");
        all.push_str(&esc);
        src.push_str(&format!("    ldk a, \"{esc}\"\n"));
    }
    src.push_str(&format!("    ldk a, \"{all}\"\n    ldk a, \"é€😀 ;,\"\n    ret a\n}}\n"));
    src
}

/// Every opcode of the table, with every operand kind.
fn every_opcode_source() -> String {
    let mut src = String::from("class C {\n    field f\n}\nfunc g(x) {\n    ret x\n}\nfunc main(x) regs 3 {\nL:\n");
    for &op in Opcode::ALL {
        let texts: Vec<&str> = op
            .operands()
            .iter()
            .map(|s| match s.kind {
                OperandKind::Reg => "r1",
                OperandKind::Imm => "-7",
                OperandKind::Const => "2.5",
                OperandKind::Str => "\"msg\"",
                OperandKind::Func => "g",
                OperandKind::Class => "C",
                OperandKind::Field => "C.f",
                OperandKind::Label => "L",
                OperandKind::Args => "(r1, r2)",
            })
            .collect();
        src.push_str(&format!("    {} {}\n", op.mnemonic(), texts.join(", ")));
    }
    src.push_str("}\n");
    src
}

fn sources() -> Vec<String> {
    vec![
        EXAMPLE.to_string(),
        INHERITANCE.to_string(),
        CONSTANTS.to_string(),
        FLOATS.to_string(),
        SHAPES.to_string(),
        every_byte_source(),
        every_opcode_source(),
    ]
}

#[test]
fn hand_written_sources_round_trip() {
    for src in sources() {
        check_round_trip(&asm(&src));
    }
}

#[test]
fn constants_print_inline_only_when_inline_assembly_rebuilds_the_pool() {
    // (source, whether the disassembly declares `const` lines)
    let cases: &[(&str, bool)] = &[
        (EXAMPLE, true),   // the inline "norm2" is used before the named `greeting`
        (SHAPES, false),   // no constants at all
        (CONSTANTS, true), // unused and duplicate entries
        (FLOATS, false),
        ("const b = 2\nconst a = 1\nfunc main(r) {\n    ldk r, a\n    ldk r, b\n}", true), // out of order
        ("const a = 1\nfunc main(r) {\n    ldk r, a\n    ldk r, 1\n}", false),
    ];
    for &(src, named) in cases {
        let text = check_round_trip(&asm(src));
        assert_eq!(text.contains("const k0 = "), named, "{text}");
    }
}

#[test]
fn the_disassembly_format() {
    let mut m = asm(concat!(
        "class A {\n    field x\n}\nclass B : A {\n    field w\n    method m main\n}\n",
        "const s = \"a\\x01\\\"\"\n",
        "func main(p) {\n    local q\nback:\n    getf q, p, B.0\n    getf q, p, B.w\n",
        "    trap s\n    jmp back\n}\n",
    ));
    // B redeclares A's x: the verifier rejects that ([verify.field-unique]) and the assembler
    // cannot write it ([text.class]), but the disassembler prints any module, naming the slot
    // `B.x` does not find by its number.
    m.classes[1].fields[0] = "x".to_string();
    let expected = concat!(
        "class A {\n    field x\n}\n\n",
        "class B : A {\n    field x\n    method m main\n}\n\n",
        "func main(r0) regs 2 {\n",
        "L0:\n",
        "    getf r1, r0, B.0\n",
        "    getf r1, r0, B.x\n",
        "    trap \"a\\x01\\\"\"\n",
        "    jmp L0\n",
        "}\n\n",
        "entry main\n",
    );
    assert_eq!(disassemble(&m), expected);
}

#[test]
fn out_of_range_indices_print_recognisably() {
    let m = Module {
        constants: vec![Constant::Int(1)],
        classes: vec![Class { name: "C".into(), superclass: Some(ClassIdx(9)), fields: vec![], methods: vec![] }],
        functions: vec![Function {
            name: "f".into(),
            arity: u32::MAX,
            regs: 0,
            code: vec![
                Instr::Call { dst: Reg(7), func: FuncIdx(99), args: vec![].into() },
                Instr::LdK { dst: Reg(0), k: ConstIdx(5) },
                Instr::New { dst: Reg(0), class: ClassIdx(4) },
                Instr::GetF { dst: Reg(0), obj: Reg(0), field: FieldRef { class: ClassIdx(0), slot: 3 } },
                Instr::Jmp { target: Label(1000) },
            ],
        }],
        entry: FuncIdx(7),
    };
    let text = disassemble(&m);
    for needle in ["func#99", "const#5", "class#4", "class#9", "C.3", "L1000", "entry func#7", "arity#4294967295"] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

/// SplitMix64: a small deterministic generator, so that a proptest seed describes a module.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index into a table of `n`, or (when `wild`) sometimes one past it or far out.
    fn index(&mut self, n: usize, wild: bool) -> u32 {
        if wild && (n == 0 || self.chance(15)) {
            *self.pick(&[n as u32, n as u32 + 1, u32::MAX])
        } else {
            self.below(n) as u32
        }
    }

    fn int(&mut self) -> i64 {
        let any = self.next() as i64;
        *self.pick(&[0, 1, -1, i64::MIN, i64::MAX, any, 255])
    }

    fn float(&mut self, wild: bool) -> f64 {
        let bits = self.next();
        let f = *self.pick(&[
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            0.1,
            1e16,
            f64::from_bits(bits),
        ]);
        if f.is_nan() && !wild {
            f64::from_bits(0x7ff8_0000_0000_0000)
        } else {
            f
        }
    }

    fn bytes(&mut self) -> Box<[u8]> {
        let len = self.below(6);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn name(rng: &mut Rng, prefix: &str, i: usize, wild: bool) -> String {
    if wild && rng.chance(10) {
        rng.pick(&["", "two words", "é", "r1", "-inf", "x".repeat(300).as_str()]).to_string()
    } else {
        format!("{}{i}", rng.pick(&[prefix, "r", "func", "nan", "_"]))
    }
}

/// A random module. When `wild` is false it is well formed (every index in range, registers
/// below the count, superclasses before subclasses, names unique identifiers, canonical NaN,
/// string operands on string constants): the modules the verifier is meant to accept. When
/// `wild` is true anything goes.
fn random_module(seed: u64, wild: bool) -> Module {
    let rng = &mut Rng(seed);
    let constants: Vec<Constant> = (0..rng.below(6))
        .map(|_| match rng.below(3) {
            0 => Constant::Int(rng.int()),
            1 => Constant::Float(rng.float(wild)),
            _ => Constant::Str(rng.bytes()),
        })
        .collect();
    let strings: Vec<u32> =
        (0..constants.len() as u32).filter(|&i| matches!(constants[i as usize], Constant::Str(_))).collect();
    let nfuncs = 1 + rng.below(4);
    let mut classes: Vec<Class> = Vec::new();
    for i in 0..rng.below(4) {
        let superclass = if wild {
            rng.chance(50).then(|| ClassIdx(rng.index(4, true)))
        } else {
            (i > 0 && rng.chance(60)).then(|| ClassIdx(rng.below(i) as u32))
        };
        // A well-formed class declares no name twice along its chain ([text.class]).
        let inherited: Vec<String> = match superclass {
            Some(s) if !wild => {
                let m = Module { classes: classes.clone(), ..Module::default() };
                m.all_fields(s).into_iter().map(str::to_string).collect()
            }
            _ => Vec::new(),
        };
        let mut fields: Vec<String> = Vec::new();
        for _ in 0..rng.below(3) {
            let f = rng.pick(&["x", "y", "z", "field"]).to_string();
            if wild || !(fields.contains(&f) || inherited.contains(&f)) {
                fields.push(f);
            }
        }
        let mut methods: Vec<Method> = Vec::new();
        for _ in 0..rng.below(3) {
            let m = rng.pick(&["m", "n", "class"]).to_string();
            if wild || !methods.iter().any(|x| x.name == m) {
                methods.push(Method { name: m, func: FuncIdx(rng.index(nfuncs, wild)) });
            }
        }
        classes.push(Class { name: name(rng, "C", i, wild), superclass, fields, methods });
    }
    let field_counts: Vec<usize> = (0..classes.len())
        .map(|c| {
            let m = Module { classes: classes.clone(), ..Module::default() };
            m.all_fields(ClassIdx(c as u32)).len()
        })
        .collect();
    let mut functions = Vec::new();
    for i in 0..nfuncs {
        let arity = if wild && rng.chance(10) { u32::MAX } else { rng.below(4) as u32 };
        let regs = if wild { rng.below(6) as u32 } else { arity + 1 + rng.below(4) as u32 };
        let len = rng.below(12);
        let mut code = Vec::new();
        for _ in 0..len {
            let op = *rng.pick(Opcode::ALL);
            let mut operands = Vec::new();
            for spec in op.operands() {
                let reg =
                    |rng: &mut Rng| Reg(if wild { rng.next() as u16 % 8 } else { rng.below(regs as usize) as u16 });
                operands.push(match spec.kind {
                    OperandKind::Reg => Operand::Reg(reg(rng)),
                    OperandKind::Imm => Operand::Imm(rng.int()),
                    OperandKind::Const if !wild && constants.is_empty() => break,
                    OperandKind::Const => Operand::Const(ConstIdx(rng.index(constants.len(), wild))),
                    OperandKind::Str if wild => Operand::Str(ConstIdx(rng.index(constants.len(), true))),
                    OperandKind::Str if strings.is_empty() => break,
                    OperandKind::Str => Operand::Str(ConstIdx(*rng.pick(&strings))),
                    OperandKind::Func => Operand::Func(FuncIdx(rng.index(nfuncs, wild))),
                    OperandKind::Class if !wild && classes.is_empty() => break,
                    OperandKind::Class => Operand::Class(ClassIdx(rng.index(classes.len(), wild))),
                    OperandKind::Field => {
                        let class = rng.index(classes.len(), wild);
                        let count = field_counts.get(class as usize).copied().unwrap_or(0);
                        if !wild && count == 0 {
                            break;
                        }
                        Operand::Field(FieldRef { class: ClassIdx(class), slot: rng.index(count, wild) })
                    }
                    OperandKind::Label => Operand::Label(Label(rng.index(len, wild))),
                    OperandKind::Args => Operand::Args((0..rng.below(4)).map(|_| reg(rng)).collect()),
                });
            }
            // An operand that cannot be made well formed drops the instruction.
            if let Ok(instr) = Instr::from_operands(op, operands) {
                code.push(instr);
            }
        }
        // Dropped instructions may leave labels past the end; keep them in range.
        if !wild {
            let n = code.len() as u32;
            for instr in &mut code {
                if let Some(Label(t)) = instr.jump_target() {
                    let ops: Vec<Operand> = instr
                        .operands()
                        .into_iter()
                        .map(|o| if matches!(o, Operand::Label(_)) { Operand::Label(Label(t % n)) } else { o })
                        .collect();
                    *instr = Instr::from_operands(instr.opcode(), ops).expect("same kinds");
                }
            }
        }
        functions.push(Function { name: name(rng, "f", i, wild), arity, regs, code });
    }
    let entry = FuncIdx(rng.index(nfuncs, wild));
    Module { constants, classes, functions, entry }
}

/// Pieces of the language for mutating sources and for building token soup.
const SNIPPETS: &[&str] = &[
    "r0",
    "r1",
    "r65535",
    "r99999",
    ",",
    "(",
    ")",
    "{",
    "}",
    ":",
    ".",
    "=",
    "\n",
    "\"",
    "\\",
    "\\x",
    ";",
    "-",
    "0x",
    "1e",
    "1.5",
    "nan",
    "-inf",
    "func",
    "class",
    "local",
    "regs 2",
    "regs 0",
    "entry main",
    "L0:",
    "loop",
    "add r0, r0, r0",
    "9223372036854775808",
    " ",
    "é",
    "\t",
    "const k = 1\n",
    "field x\n",
    "method m main\n",
    "Point.x",
    "Point.7",
    "()",
    "main",
    "helper",
    "self",
    "\r",
    "}\n}",
    "\nfunc f() {\n",
];

/// `src` with a few edits chosen by `seed`: character edits, which mostly make errors, and
/// whole-line edits, which mostly keep the source valid and so exercise the round trip.
fn mutate(src: &str, seed: u64) -> String {
    let rng = &mut Rng(seed);
    let mut text = src.to_string();
    for _ in 0..1 + rng.below(3) {
        let mut chars: Vec<char> = text.chars().collect();
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let at = rng.below(chars.len() + 1);
        let (l1, l2) = (rng.below(lines.len()), rng.below(lines.len()));
        let char_edit = match rng.below(7) {
            0 => {
                let end = (at + 1 + rng.below(8)).min(chars.len());
                chars.drain(at.min(end)..end);
                true
            }
            1 => {
                let snippet: Vec<char> = rng.pick(SNIPPETS).chars().collect();
                chars.splice(at..at, snippet);
                true
            }
            2 => {
                let other = rng.below(chars.len() + 1);
                let (a, b) = (at.min(other), at.max(other));
                let copy: Vec<char> = chars[a..b.min(a + 40)].to_vec();
                chars.splice(b..b, copy);
                true
            }
            3 => {
                lines.remove(l1);
                false
            }
            4 => {
                let copy = lines[l1].clone();
                lines.insert(l2, copy);
                false
            }
            _ => {
                lines.swap(l1, l2);
                false
            }
        };
        text = if char_edit { chars.into_iter().collect() } else { lines.join("\n") };
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn assemble_never_panics_on_random_text(text in any::<String>()) {
        let _ = assemble(&text, "random.lsa");
    }

    #[test]
    fn assemble_never_panics_on_token_soup(picks in proptest::collection::vec(0..SNIPPETS.len(), 0..60)) {
        let text: String = picks.iter().map(|&i| SNIPPETS[i]).collect::<Vec<_>>().join(" ");
        let _ = assemble(&text, "soup.lsa");
    }

    /// A mutated source either fails cleanly or assembles to a module that round-trips.
    #[test]
    fn mutated_sources_fail_cleanly_or_round_trip(which in 0..7usize, seed in any::<u64>()) {
        let sources = sources();
        let text = mutate(&sources[which % sources.len()], seed);
        if let Ok(a) = assemble(&text, "mutated.lsa") {
            prop_assume!(a.module.functions.iter().all(|f| f.arity <= MAX_ARGS));
            check_round_trip(&a.module);
        }
    }

    #[test]
    fn disassemble_never_panics_on_any_module(seed in any::<u64>()) {
        let text = disassemble(&random_module(seed, true));
        // Whatever it printed, the assembler must handle it without panicking.
        let _ = assemble(&text, "wild.lsa");
    }

    #[test]
    fn well_formed_modules_round_trip(seed in any::<u64>()) {
        check_round_trip(&random_module(seed, false));
    }
}
