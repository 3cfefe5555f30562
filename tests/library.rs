//! The `lockstep` library as an embedder uses it: output into any writer, the typed outcome,
//! an interrupt from another thread, invoking a function with arguments, on every engine, and
//! comparing two runs.

use lockstep::{
    compare, compare_replaying, Arg, CompareError, Config, Difference, End, Engine, Error, InvokeError, JitMode, Stm,
    TrapKind, Value, Vm,
};
use std::time::{Duration, Instant};

/// Every engine setting an embedder can choose (the JIT both ways, since compiled code looks at
/// the interrupt flag on its own schedule).
fn engines() -> Vec<Engine> {
    let mut all = vec![Engine::reference()];
    for stm in [Stm::On, Stm::Off, Stm::Barriers] {
        for jit in [JitMode::On, JitMode::Off, JitMode::Always, JitMode::Opt, JitMode::OptAlways] {
            all.push(Engine::Optimized { stm, jit });
        }
    }
    all
}

fn load(text: &str) -> lockstep::Program {
    lockstep::load(text.as_bytes(), "test.lsa").unwrap_or_else(|e| panic!("{e}"))
}

const GREET: &str = r#"
func main(args) {
    local s, n
    ldk s, "hello "
    print s
    alen n, args
    println n
    ldk s, 2.5
    ret s
}
func twice(x) {
    add x, x, x
    ret x
}
func shout(s, n) {
    local t
    ldk t, "!"
    concat s, s, t
    println s
    ret n
}
func bad(x) {
    local y
    ldk y, "str"
    call x, twice, (y)
    ret x
}
"#;

#[test]
fn output_goes_to_the_writer_and_the_outcome_is_typed() {
    let program = load(GREET);
    for engine in engines() {
        let vm = Vm::new(Config::new().engine(engine.clone()).args(["a", "b", "c"]));
        let mut out = Vec::new();
        let report = vm.run(&program.module, &mut out).unwrap_or_else(|e| panic!("{engine:?}: {e}"));
        assert_eq!(out, b"hello 3\n", "{engine:?}");
        assert_eq!(report.outcome.end, End::Finished { value: Value::Float(2.5) }, "{engine:?}");
        assert!(report.outcome.stdout.is_empty(), "{engine:?}: the output went to the writer");
    }
}

/// main's value is the same typed [`Value`] on every engine, one program per type of
/// `spec/values.md` (ints and floats at their edges, a string that is not UTF-8, an array, objects
/// of a class and its subclass, a function, a thread); and its `Display` is exactly what the
/// guest prints for it.
#[test]
fn main_values_are_typed_and_the_same_on_every_engine() {
    let cases: &[(&str, Value)] = &[
        ("ldnil a", Value::Nil),
        ("ldfalse a", Value::Bool(false)),
        ("ldi a, -7", Value::Int(-7)),
        ("ldi a, 1\n    ldi b, 62\n    shl a, a, b", Value::Int(1 << 62)),
        ("ldi a, 1\n    ldi b, 63\n    shl a, a, b", Value::Int(i64::MIN)),
        ("ldi a, 1\n    ldi b, 3\n    itof a, a\n    div a, a, b", Value::Float(1.0 / 3.0)),
        ("ldi a, 0\n    itof a, a\n    neg a, a", Value::Float(-0.0)),
        ("ldi a, 0\n    itof a, a\n    div a, a, a", Value::Float(f64::NAN)),
        ("ldk a, \"1e300\"\n    stof a, a\n    mul a, a, a", Value::Float(f64::INFINITY)),
        ("ldk a, \"a\\xffb\"", Value::Str(b"a\xffb".to_vec())),
        ("ldi a, 12\n    tostr a, a", Value::Str(b"12".to_vec())),
        ("ldi b, 0\n    anew a, b\n    apush a, b\n    apush a, a", Value::Array { len: 2 }),
        ("new a, P", Value::Object { class: "P".into() }),
        ("new a, Q\n    ldi b, 3\n    setf a, P.x, b", Value::Object { class: "Q".into() }),
        ("ldfn a, worker", Value::Function { name: "worker".into() }),
        ("spawn a, worker, ()\n    join b, a", Value::Thread("0.0".parse().unwrap())),
    ];
    for (body, want) in cases {
        let text = format!(
            "class P {{\n    field x\n}}\nclass Q : P {{\n}}\nfunc worker() {{\n    local r\n    ldnil r\n    ret r\n}}\n\
             func main() {{\n    local a, b\n    {body}\n    print a\n    ret a\n}}\n"
        );
        let program = load(&text);
        let mut reference = None;
        for engine in engines() {
            let mut out = Vec::new();
            let report = Vm::new(Config::new().engine(engine.clone())).run(&program.module, &mut out).unwrap();
            let End::Finished { value } = report.outcome.end else {
                panic!("{engine:?}, {body}: {:?}", report.outcome.end)
            };
            assert_eq!(value, *want, "{engine:?}, {body}");
            assert_eq!(value.display_bytes(), out, "{engine:?}, {body}: the display form is what print wrote");
            assert_eq!(value.to_string(), String::from_utf8_lossy(&out), "{engine:?}, {body}");
            assert_eq!(reference.get_or_insert_with(|| value.clone()), &value, "{engine:?} and the reference, {body}");
        }
    }
}

#[test]
fn invoke_calls_a_function_with_typed_arguments() {
    let program = load(GREET);
    for engine in engines() {
        let vm = Vm::new(Config::new().engine(engine.clone()));
        let finished = |function: &str, args: &[Arg]| {
            let mut out = Vec::new();
            let report = vm.invoke(&program.module, function, args, &mut out).unwrap_or_else(|e| panic!("{e}"));
            match report.outcome.end {
                End::Finished { value } => (String::from_utf8(out).unwrap(), value),
                other => panic!("{engine:?}: {other:?}"),
            }
        };
        assert_eq!(finished("twice", &[Arg::Int(21)]), (String::new(), Value::Int(42)));
        assert_eq!(finished("twice", &[Arg::Float(1.25)]), (String::new(), Value::Float(2.5)));
        assert_eq!(
            finished("shout", &[Arg::Str(b"hey".to_vec()), Arg::Bool(true)]),
            ("hey!\n".into(), Value::Bool(true))
        );
        assert_eq!(finished("shout", &["\"\"".parse().unwrap(), Arg::Nil]), ("!\n".into(), Value::Nil));
        // A trap in the invoked function is the run's outcome, located in that function.
        let report = vm.invoke(&program.module, "bad", &[Arg::Nil], std::io::sink()).unwrap();
        let End::Trapped(trap) = report.outcome.end else { panic!("{engine:?}: bad does not trap") };
        assert_eq!((trap.kind, trap.function_name.as_str(), trap.pc), (TrapKind::TypeError, "twice", 0));
    }
}

#[test]
fn invoking_what_does_not_fit_is_an_error_not_a_run() {
    let program = load(GREET);
    let vm = Vm::new(Config::new());
    let invoke = |name: &str, args: &[Arg]| match vm.invoke(&program.module, name, args, std::io::sink()) {
        Err(Error::Invoke(e)) => e,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(
        invoke("twise", &[Arg::Int(1)]),
        InvokeError::UnknownFunction { name: "twise".into(), suggestion: Some("twice".into()) }
    );
    assert_eq!(invoke("twice", &[]), InvokeError::Arity { name: "twice".into(), arity: 1, given: 0 });
    assert_eq!(
        invoke("twice", &[Arg::Int(1), Arg::Int(2)]).to_string(),
        "function `twice` takes 1 argument, but 2 were given"
    );
    for text in ["", "x", "1x", "\"", "--1", "1.5.5", "9223372036854775808"] {
        assert!(text.parse::<Arg>().is_err(), "{text:?} parsed");
    }
    assert_eq!("-9223372036854775808".parse(), Ok(Arg::Int(i64::MIN)));
    assert_eq!("inf".parse(), Ok(Arg::Float(f64::INFINITY)));
}

/// A writer that refuses everything.
struct Full;

impl std::io::Write for Full {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "no space"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_writer_that_fails_ends_the_run_with_its_error() {
    // Prints forever: only the failing writer can end it.
    let program = load("func main() {\n local s\n ldk s, \"x\"\nloop:\n println s\n jmp loop\n}");
    for engine in engines() {
        let vm = Vm::new(Config::new().engine(engine.clone()));
        match vm.run(&program.module, Full) {
            Err(Error::Output(e)) => assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{engine:?}"),
            other => panic!("{engine:?}: {other:?}"),
        }
    }
}

/// Runs `text` on every engine, interrupting it from another thread while it loops; each run
/// must stop with `Error::Interrupted` soon after, having delivered what it printed before.
fn interrupts(text: &str) {
    let program = load(text);
    for engine in engines() {
        // Fuel for minutes of looping: were the interrupt ignored, the run would end in a trap
        // (and fail the test) rather than hang it.
        let vm = Vm::new(Config::new().engine(engine.clone()).fuel(20_000_000_000));
        let stop = vm.interrupt_handle();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            stop.interrupt();
            Instant::now()
        });
        let mut out = Vec::new();
        let ran = vm.run(&program.module, &mut out);
        let stopped = Instant::now();
        let asked = stopper.join().unwrap();
        match ran {
            Err(Error::Interrupted) => {}
            other => panic!("{engine:?}: {other:?}"),
        }
        let late = stopped.saturating_duration_since(asked);
        assert!(late < Duration::from_secs(2), "{engine:?}: stopped {late:?} after the interrupt");
        // Output is delivered in chunks; what was printed before the interrupt is delivered.
        assert_eq!(out, b"go\n", "{engine:?}");
        // The request is spent: the next run is not interrupted.
        let quick = load("func main() {\n local r\n ldi r, 1\n ret r\n}");
        assert!(vm.run(&quick.module, std::io::sink()).is_ok(), "{engine:?}");
    }
}

/// Prints a line (in a segment of its own: a call follows), then runs `$body`.
macro_rules! after_a_line {
    ($($body:literal),*) => {
        concat!(
            "func say() {\n local s\n ldk s, \"go\"\n println s\n ret s\n}\n",
            $($body),*
        )
    };
}

#[test]
fn an_interrupt_stops_an_infinite_loop() {
    interrupts(after_a_line!("func main() {\n local r\n call r, say, ()\nspin:\n jmp spin\n}"));
}

#[test]
fn an_interrupt_stops_an_infinite_loop_inside_an_atomic_block() {
    interrupts(after_a_line!("func main() {\n local r\n call r, say, ()\n atomic_begin\nspin:\n jmp spin\n}"));
}

#[test]
fn an_interrupt_stops_unbounded_recursion_free_calls_and_threads() {
    // main waits in a join for a thread that calls a function forever.
    interrupts(after_a_line!(
        "func noop() {\n local r\n ret r\n}\n",
        "func worker() {\n local r\nspin:\n call r, noop, ()\n jmp spin\n}\n",
        "func main() {\n local r, t\n call r, say, ()\n spawn t, worker, ()\n join r, t\n ret r\n}"
    ));
}

#[test]
fn an_interrupt_stops_nested_loops_that_compute() {
    // The inner loop is short: tier 2 compiles the nest as one region and enters it again and
    // again from the outer loop's backward jump.
    interrupts(after_a_line!(
        "func main() {\n local r, j, n, one, c, s\n call r, say, ()\n ldi n, 300\n ldi one, 1\n ldi s, 0\n",
        "outer:\n ldi j, 0\ninner:\n add j, j, one\n add s, s, j\n lt c, j, n\n jmpif c, inner\n jmp outer\n}"
    ));
}

/// Programs that trap below calls, in a joined thread, and down a chain of joins.
const TRAPPING: [&str; 4] = [
    "func f(x) {\n local s\n ldk s, \"s\"\n add x, x, s\n ret x\n}\n\
     func g(x) {\n call x, f, (x)\n ret x\n}\n\
     func main() {\n local a\n ldi a, 1\n call a, g, (a)\n ret a\n}",
    // Recursion 40 deep, then a trap: the stack has every frame.
    "func down(n) {\n local one, t\n ldi one, 0\n eq t, n, one\n jmpif t, bottom\n ldi one, 1\n sub n, n, one\n\
     call t, down, (n)\n ret t\nbottom:\n trap \"bottom\"\n}\n\
     func main() {\n local n\n ldi n, 40\n call n, down, (n)\n ret n\n}",
    "func f(x) {\n local s\n ldk s, \"s\"\n add x, x, s\n ret x\n}\n\
     func worker() {\n local r\n ldi r, 1\n call r, f, (r)\n ret r\n}\n\
     func main() {\n local t, n\n spawn t, worker, ()\n join n, t\n ret n\n}",
    "func inner() {\n local r\n ldi r, 0\n div r, r, r\n ret r\n}\n\
     func outer() {\n local t, r\n spawn t, inner, ()\n join r, t\n ret r\n}\n\
     func wait(t) {\n local r\n join r, t\n ret r\n}\n\
     func main() {\n local t, r\n spawn t, outer, ()\n call r, wait, (t)\n ret r\n}",
];

#[test]
fn every_engine_reports_the_references_call_stack_and_joined_traps() {
    for text in TRAPPING {
        let program = load(text);
        let report = |engine: &Engine| {
            let vm = Vm::new(Config::new().engine(engine.clone()));
            match vm.run(&program.module, std::io::sink()).unwrap().outcome.end {
                // The whole report, presentation included, down the chain of joined traps.
                End::Trapped(trap) => format!("{trap:#?}"),
                other => panic!("{engine:?}: {other:?}\n{text}"),
            }
        };
        let want = report(&Engine::reference());
        assert!(want.contains("callers: Some("), "{want}");
        for engine in engines() {
            assert_eq!(report(&engine), want, "{engine:?}\n{text}");
        }
    }
}

// ---- comparing runs: `lockstep::compare`, `compare_replaying` ---------------------------------

/// Prints `n` lines `i` for i = 1..=n (n from main's first argument, else 20) by recursion, so
/// that each line costs one unit of fuel, and returns n through one more call: a run takes
/// n + 2 units of fuel.
const COUNT: &str = r#"
func main(args) {
    local n, i, len, zero
    ldi n, 20
    alen len, args
    ldi zero, 0
    gt len, len, zero
    jmpifnot len, go
    aget n, args, zero
    stoi n, n
go:
    ldi i, 1
    call i, lines, (i, n)
    call n, same, (n)
    ret n
}
func same(x) {
    ret x
}
func lines(i, n) {
    local more, one
    println i
    lt more, i, n
    jmpifnot more, done
    ldi one, 1
    add i, i, one
    call i, lines, (i, n)
done:
    ret n
}
"#;

#[test]
fn compare_finds_no_difference_between_engines_that_agree() {
    let program = load(COUNT);
    let reference = Config::new().engine(Engine::reference()).args(["7"]);
    for engine in engines() {
        let c = compare(&program.module, &reference, &reference.clone().engine(engine.clone()))
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"));
        assert_eq!((c.difference(), c.describe("a", "b")), (None, None), "{engine:?}");
        assert_eq!(c.first.stdout, b"1\n2\n3\n4\n5\n6\n7\n", "{engine:?}: the output is captured");
        assert_eq!(c.second.stdout, c.first.stdout, "{engine:?}");
        assert_eq!(c.second.end, End::Finished { value: Value::Int(7) }, "{engine:?}");
    }
}

/// Fuel is one unit per function entry: with 5, the fifth call of `lines` runs out. The first
/// difference is in stdout (4 lines against 20), where the second's output stops; with the
/// output the same (n = 4: the call of `same` runs out), the end.
#[test]
fn compare_reports_where_runs_with_other_fuel_differ() {
    let program = load(COUNT);
    let full = Config::new().engine(Engine::reference());
    let short = full.clone().fuel(5);
    let c = compare(&program.module, &full, &short).unwrap();
    assert_eq!(c.second.stdout, b"1\n2\n3\n4\n");
    assert_eq!(c.difference(), Some(Difference::Stdout { at: 8 }));
    assert_eq!(
        c.describe("full", "short").unwrap(),
        r#"stdout differs at byte 8: full "5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n", short """#
    );
    let End::Trapped(trap) = &c.second.end else { panic!("{:?}", c.second.end) };
    assert_eq!((trap.kind, trap.function_name.as_str()), (TrapKind::OutOfFuel, "lines"));

    // Both print 4 lines; one finishes and the other runs out of fuel.
    let full = full.args(["4"]);
    for engine in engines() {
        let c = compare(&program.module, &full, &short.clone().engine(engine.clone()).args(["4"])).unwrap();
        assert_eq!(c.difference(), Some(Difference::End), "{engine:?}");
        assert_eq!(c.first.end, End::Finished { value: Value::Int(4) }, "{engine:?}");
        assert!(matches!(&c.second.end, End::Trapped(t) if t.kind == TrapKind::OutOfFuel), "{engine:?}");
        let words = c.describe("full", "short").unwrap();
        assert!(words.starts_with("the runs end differently:\n  full {"), "{engine:?}: {words}");
        assert!(words.contains("\n  short {") && words.contains("\"trap\":\"out_of_fuel\""), "{engine:?}: {words}");
    }
}

/// The schedule-replay oracle on a multithreaded program, on each threading of the optimized
/// engine: the reference replays the schedule each recorded, to the same outcome.
#[test]
fn compare_replaying_agrees_on_a_threaded_program() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/counter.lsa")).unwrap();
    let program = load(&text);
    for stm in [Stm::On, Stm::Off, Stm::Barriers] {
        let config = Config::new().engine(Engine::Optimized { stm, jit: JitMode::On }).args(["3", "200"]);
        // Not recording is overridden: the replay needs the schedule.
        let c = compare_replaying(&program.module, &config.record_schedule(false)).unwrap();
        assert_eq!(c.difference(), None, "{stm:?}: {}", c.describe("optimized", "reference").unwrap());
        assert_eq!(c.first.stdout, b"600\n", "{stm:?}");
        assert!(c.first.schedule.entries.len() > 1, "{stm:?}: {:?}", c.first.schedule);
        assert_eq!(c.second.schedule, c.first.schedule, "{stm:?}");
    }
}

/// A run without an outcome makes the comparison an error that says which run failed.
#[test]
fn a_run_that_fails_makes_the_comparison_an_error() {
    let program = load("func main() {\n local a, keep, n, z\n ldi z, 0\n anew keep, z\n ldi n, 65536\nloop:\n anew a, n\n apush keep, a\n jmp loop\n}\n");
    let small = Config::new().engine(Engine::reference()).max_heap_bytes(1 << 20);
    match compare(&program.module, &small, &Config::new()) {
        Err(e @ CompareError::First(Error::OutOfMemory { limit_bytes: 1048576 })) => {
            assert!(e.to_string().starts_with("the first run failed: out of memory"), "{e}");
            assert!(std::error::Error::source(&e).is_some());
        }
        other => panic!("{other:?}"),
    }
    // With fuel for 3 laps, an array of 65,536 nils each, the first run traps in the default
    // heap, and the second fails in 64 KiB.
    let laps = Config::new().engine(Engine::reference()).fuel(3);
    match compare(&program.module, &laps, &laps.clone().max_heap_bytes(1 << 16)) {
        Err(e @ CompareError::Second(Error::OutOfMemory { limit_bytes: 65536 })) => {
            assert!(e.to_string().starts_with("the second run failed: out of memory"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match compare_replaying(&program.module, &small) {
        Err(CompareError::First(Error::OutOfMemory { .. })) => {}
        other => panic!("{other:?}"),
    }
}
