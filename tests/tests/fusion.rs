//! Fusion (`optimized/src/code.rs`, `fuse`) replaces a compare followed by a conditional jump
//! on the compare's result with one op; it must leave alone a compare followed by a jump on
//! another register. Here each compare (`OP a, x, y`) is followed by a jump, backward or
//! forward, `jmpif` or `jmpifnot`, on `b`, the result of the `lt` before it: fused on the
//! compare (its result tested instead of `b`), the loop would end early or run on. Every engine
//! must agree with the reference.

use lockstep_tests::Engine;

fn program(op: &str, x: &str, y: &str, back: bool, not: bool) -> String {
    let mut s = String::from("func main() {\n local i, n, one, a, b, c\n ldi i, 0\n ldi n, 5\n ldi one, 1\nloop:\n");
    s += " add i, i, one\n lt b, i, n\n";
    let (jmp, neg) = if not { ("jmpifnot", "not c, b\n") } else { ("jmpif", "") };
    // The jump's register is `b` (or its negation `c`), never the compare's `a`.
    let cond = if not { "c" } else { "b" };
    if !neg.is_empty() {
        s += " ";
        s += neg;
    }
    s += &format!(" {op} a, {x}, {y}\n");
    if back {
        s += &format!(" {jmp} {cond}, loop\n ret i\n}}\n");
    } else {
        // Forward: leave the loop when `b` is false.
        let (fjmp, fcond) = if not { ("jmpif", "c") } else { ("jmpifnot", "b") };
        s += &format!(" {fjmp} {fcond}, done\n jmp loop\ndone:\n ret i\n}}\n");
    }
    s
}

#[test]
fn a_compare_followed_by_a_jump_on_another_register_is_not_fused() {
    for op in ["lt", "le", "gt", "ge", "eq", "ne"] {
        for (x, y) in [("i", "n"), ("n", "i"), ("i", "i")] {
            for back in [true, false] {
                for not in [false, true] {
                    let text = program(op, x, y, back, not);
                    let program = lockstep_spec::program::load_program(text.as_bytes(), "fusion.lsa")
                        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
                    let expected = Engine::Reference.run(&program, &[]);
                    assert!(expected.to_json().contains("\"value\":\"5\""), "{}\n{text}", expected.to_json());
                    for engine in Engine::ALL {
                        let outcome = engine.run(&program, &[]);
                        assert_eq!(outcome.to_json(), expected.to_json(), "{engine:?}\n{text}");
                    }
                }
            }
        }
    }
}
