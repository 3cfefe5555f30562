//! Calls, sends, returns, the call depth limit and fuel.

use super::*;
use lockstep_spec::limits::MAX_CALL_DEPTH;

/// `main` calls `rec(n)`, which recurses down to `rec(0)`: depth n + 2 at the deepest, and
/// 1 + (n + 1) units of fuel.
fn recursion(n: i64) -> Module {
    let mut b = Builder::new();
    b.func("main", 0, 2, vec![ldi(0, n), call(1, FuncIdx(1), &[0]), ret(1)]);
    b.func(
        "rec",
        1,
        5,
        vec![
            ldi(1, 0),
            Instr::Eq { dst: r(2), a: r(0), b: r(1) },
            Instr::JmpIfNot { cond: r(2), target: Label(4) },
            ret(1),
            ldi(3, 1),
            Instr::Sub { dst: r(3), a: r(0), b: r(3) },
            call(4, FuncIdx(1), &[3]),
            ret(4),
        ],
    );
    b.build()
}

fn with_fuel(fuel: u64) -> Config {
    Config { fuel, ..Config::default() }
}

#[test]
fn deep_recursion_is_a_stack_overflow_not_a_host_crash() {
    assert_trap(&run(&recursion(100_000)), TrapKind::StackOverflow, "0", "rec", 6);
}

#[test]
fn call_depth_limit_is_exact_and_checked_before_fuel() {
    let deepest = MAX_CALL_DEPTH as i64 - 2;
    assert_eq!(finished(&run(&recursion(deepest))), "0");
    assert_trap(&run(&recursion(deepest + 1)), TrapKind::StackOverflow, "0", "rec", 6);
    // Exactly enough fuel for every entry of the deepest legal recursion.
    let need = deepest as u64 + 2;
    assert_eq!(finished(&run_config(&recursion(deepest), &with_fuel(need))), "0");
    assert_trap(&run_config(&recursion(deepest), &with_fuel(need - 1)), TrapKind::OutOfFuel, "0", "rec", 6);
    // With no fuel left and the depth exceeded, the depth is reported.
    assert_trap(&run_config(&recursion(deepest + 1), &with_fuel(need)), TrapKind::StackOverflow, "0", "rec", 6);
}

#[test]
fn fuel_is_charged_at_entry_calls_and_taken_backward_jumps() {
    assert_trap(&run_config(&recursion(0), &with_fuel(0)), TrapKind::OutOfFuel, "0", "main", 0);
    assert_trap(&run_config(&recursion(0), &with_fuel(1)), TrapKind::OutOfFuel, "0", "main", 1);
    assert_eq!(finished(&run_config(&recursion(0), &with_fuel(2))), "0");
    // Ten iterations take the backward jump nine times: 1 + 9 units.
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        4,
        vec![
            ldi(0, 0),
            ldi(1, 1),
            ldi(2, 10),
            Instr::Add { dst: r(0), a: r(0), b: r(1) },
            Instr::Lt { dst: r(3), a: r(0), b: r(2) },
            Instr::JmpIf { cond: r(3), target: Label(3) },
            ret(0),
        ],
    );
    let m = b.build();
    assert_eq!(finished(&run_config(&m, &with_fuel(10))), "10");
    assert_trap(&run_config(&m, &with_fuel(9)), TrapKind::OutOfFuel, "0", "main", 5);
    // A jump to itself is backward.
    let mut b = Builder::new();
    b.func("main", 0, 1, vec![jmp(0)]);
    assert_trap(&run_config(&b.build(), &with_fuel(5)), TrapKind::OutOfFuel, "0", "main", 0);
}

#[test]
fn callv_and_its_traps() {
    let mut b = Builder::new();
    // main(kind): r1 := callee, call it with one argument.
    let code = |callee: Instr, nargs: usize| {
        let a: Vec<u16> = (0..nargs as u16).map(|_| 2).collect();
        vec![callee, ldi(2, 20), Instr::CallV { dst: r(0), callee: r(1), args: args(&a) }, ret(0)]
    };
    b.func("double", 1, 1, vec![Instr::Add { dst: r(0), a: r(0), b: r(0) }, ret(0)]);
    let base = b.module.clone();
    let cases: Vec<(Instr, usize, Result<&str, TrapKind>)> = vec![
        (Instr::LdFn { dst: r(1), func: FuncIdx(0) }, 1, Ok("40")),
        (Instr::LdFn { dst: r(1), func: FuncIdx(0) }, 2, Err(TrapKind::ArityMismatch)),
        (Instr::LdFn { dst: r(1), func: FuncIdx(0) }, 0, Err(TrapKind::ArityMismatch)),
        // Not a function, and the wrong count too: the callee is checked first.
        (ldi(1, 0), 2, Err(TrapKind::TypeError)),
        (Instr::LdNil { dst: r(1) }, 1, Err(TrapKind::TypeError)),
    ];
    for (callee, nargs, want) in cases {
        let mut b = Builder { module: base.clone() };
        b.func("main", 0, 3, code(callee, nargs));
        let o = run(&b.build());
        match want {
            Ok(v) => assert_eq!(finished(&o), v),
            Err(kind) => {
                assert_trap(&o, kind, "0", "main", 2);
            }
        }
    }
}

/// Shape (describe, area) <- Rect (area) <- Square (describe); methods print and return.
fn shapes() -> (Builder, ClassIdx, ClassIdx, ClassIdx) {
    let mut b = Builder::new();
    let k = |b: &mut Builder, s: &str| b.str(s);
    let shape_area = k(&mut b, "Shape.area");
    let rect_area = k(&mut b, "Rect.area");
    let square_describe = k(&mut b, "Square.describe");
    let shape_describe = k(&mut b, "Shape.describe");
    let say = |b: &mut Builder, name: &str, arity: u32, k| {
        // Prints its name, returns its argument count's last argument (or the receiver).
        let last = arity as u16 - 1;
        b.func(
            name,
            arity,
            arity + 1,
            vec![Instr::LdK { dst: r(arity as u16), k }, Instr::PrintLn { src: r(arity as u16) }, ret(last)],
        )
    };
    let f_shape_area = say(&mut b, "Shape_area", 1, shape_area);
    let f_rect_area = say(&mut b, "Rect_area", 2, rect_area);
    let f_square_describe = say(&mut b, "Square_describe", 1, square_describe);
    let f_shape_describe = say(&mut b, "Shape_describe", 1, shape_describe);
    let shape = b.class("Shape", None, &[], &[("area", f_shape_area), ("describe", f_shape_describe)]);
    let rect = b.class("Rect", Some(shape), &[], &[("area", f_rect_area)]);
    let square = b.class("Square", Some(rect), &[], &[("describe", f_square_describe)]);
    (b, shape, rect, square)
}

#[test]
fn send_finds_the_nearest_method_and_passes_the_receiver() {
    let (mut b, shape, _rect, square) = shapes();
    let area = b.str("area");
    let describe = b.str("describe");
    let code = vec![
        Instr::New { dst: r(0), class: square },
        ldi(1, 9),
        Instr::Send { dst: r(2), recv: r(0), name: area, args: args(&[1]) }, // Rect's area
        Instr::PrintLn { src: r(2) },
        Instr::Send { dst: r(2), recv: r(0), name: describe, args: args(&[]) }, // Square's own
        Instr::Eq { dst: r(3), a: r(2), b: r(0) },                              // the receiver came back
        Instr::PrintLn { src: r(3) },
        Instr::New { dst: r(0), class: shape },
        Instr::Send { dst: r(2), recv: r(0), name: describe, args: args(&[]) },
        ret(2),
    ];
    b.func("main", 0, 4, code);
    let o = run(&b.build());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "Rect.area\n9\nSquare.describe\ntrue\nShape.describe\n");
    assert_eq!(finished(&o), "<Shape>");
}

#[test]
fn send_traps_in_check_order() {
    let (base, shape, _rect, square) = shapes();
    let cases: Vec<(Instr, &str, usize, TrapKind)> = vec![
        // Not an object (and no such method either): type_error first.
        (ldi(0, 1), "nothing", 0, TrapKind::TypeError),
        (Instr::LdNil { dst: r(0) }, "area", 0, TrapKind::TypeError),
        (Instr::New { dst: r(0), class: square }, "nothing", 0, TrapKind::NoSuchMethod),
        // Rect.area takes the receiver and one argument.
        (Instr::New { dst: r(0), class: square }, "area", 0, TrapKind::ArityMismatch),
        (Instr::New { dst: r(0), class: square }, "area", 2, TrapKind::ArityMismatch),
        // Shape.area takes only the receiver.
        (Instr::New { dst: r(0), class: shape }, "area", 1, TrapKind::ArityMismatch),
    ];
    for (recv, name, nargs, kind) in cases {
        let mut b = Builder { module: base.module.clone() };
        let name = b.str(name);
        let a: Vec<u16> = (0..nargs as u16).map(|_| 1).collect();
        b.func(
            "main",
            0,
            3,
            vec![recv, ldi(1, 1), Instr::Send { dst: r(2), recv: r(0), name, args: args(&a) }, ret(2)],
        );
        assert_trap(&run(&b.build()), kind, "0", "main", 2);
    }
}

/// Naive fib: a workload of about 250k calls for `fib(25)`. Run with
/// `cargo test --release -p lockstep-reference fib -- --nocapture` to see the time.
#[test]
fn naive_fib() {
    let mut b = Builder::new();
    b.func("main", 0, 2, vec![ldi(0, 25), call(1, FuncIdx(1), &[0]), ret(1)]);
    b.func(
        "fib",
        1,
        4,
        vec![
            ldi(1, 2),
            Instr::Lt { dst: r(2), a: r(0), b: r(1) },
            Instr::JmpIfNot { cond: r(2), target: Label(4) },
            ret(0),
            ldi(1, 1),
            Instr::Sub { dst: r(1), a: r(0), b: r(1) },
            call(2, FuncIdx(1), &[1]),
            ldi(1, 2),
            Instr::Sub { dst: r(1), a: r(0), b: r(1) },
            call(3, FuncIdx(1), &[1]),
            Instr::Add { dst: r(0), a: r(2), b: r(3) },
            ret(0),
        ],
    );
    let m = b.build();
    let start = std::time::Instant::now();
    let o = run(&m);
    eprintln!("fib(25) on the reference interpreter: {:?}", start.elapsed());
    assert_eq!(finished(&o), "75025");
    // One thread: every segment is main's, so the schedule is one entry.
    assert_eq!(o.schedule.entries.len(), 1);
}
