//! Tests for survivors of the `cargo mutants` sample of shard 2/19 (tests/README.md, "Mutation
//! testing"): behaviour that no suite pinned, each named after what it keeps. The figures
//! asserted are `--stats` figures or outcomes that do not depend on timing.

use lockstep_optimized as opt;
use lockstep_spec::outcome::{End, Value};

/// Tier 1 has a template for every comparison fused with the conditional jump on its result
/// (`LtJmp` ... `NeJmpBack`, `x64.rs`, `Emitter::op`), forward and backward, on either
/// polarity. A loop of 5,000 laps built on each stays in compiled code, entered a handful of
/// times; an op without its template (its arm deleted: the shard-2 survivor was `GtJmp`'s)
/// leaves compiled code at every lap for the interpreter, the same outcome with about 5,000
/// entries.
#[test]
fn tier_one_keeps_every_fused_comparison_and_jump_in_compiled_code() {
    // (comparison, jump, backward, the loop's result): forward loops test at the top and leave
    // on the jump, backward ones count at the top and jump back while the test holds.
    let cases = [
        ("lt", "jmpifnot", false, 5000),
        ("le", "jmpifnot", false, 5001),
        ("gt", "jmpif", false, 5001),
        ("ge", "jmpif", false, 5000),
        ("eq", "jmpif", false, 5000),
        ("ne", "jmpifnot", false, 5000),
        ("lt", "jmpif", true, 5000),
        ("le", "jmpif", true, 5001),
        ("gt", "jmpifnot", true, 5001),
        ("ge", "jmpifnot", true, 5000),
        ("eq", "jmpifnot", true, 5000),
        ("ne", "jmpif", true, 5000),
    ];
    for (cmp, jmp, back, want) in cases {
        let body = if back {
            format!("loop:\n add i, i, one\n {cmp} t, i, n\n {jmp} t, loop\n ret i\n")
        } else {
            format!("loop:\n {cmp} t, i, n\n {jmp} t, done\n add i, i, one\n jmp loop\ndone:\n ret i\n")
        };
        let text = format!("func main() {{\n local i, n, one, t\n ldi i, 0\n ldi n, 5000\n ldi one, 1\n{body}}}\n");
        let name = format!("{cmp}-{jmp}-{}", if back { "back" } else { "forward" });
        let module = lockstep_spec::program::load_program(text.as_bytes(), &name).expect("loads").module;
        for stm in [false, true] {
            let config = opt::Config { stm, jit: opt::JitMode::Always, stats: true, ..opt::Config::default() };
            let report = opt::run_with_stats(&module, &config).expect("runs");
            assert!(
                matches!(report.outcome.end, End::Finished { value: Value::Int(n) } if n == want),
                "{name}, stm {stm}: {:?}",
                report.outcome.end
            );
            let s = report.stats.expect("stats were asked for");
            assert!(s.jit.entries < 100, "{name}, stm {stm}: compiled code left at every lap: {:?}", s.jit);
        }
    }
}

/// A loop that writes `v` before it reads it, in a function whose code after the loop reads an
/// object with one op of each kind `reads` lists (`tier2/`: the registers an op reads, for
/// the liveness at a loop's header): `v` is dead at the header, so the region compiled during
/// the first call does not test its kind when it is entered. When the liveness takes such an op
/// for one that may read any register (its arm of `reads` deleted: the shard-2 survivor was
/// `getf`/`instanceof`'s), `v` is live at the header, the region expects the float it held
/// there, and every later call, arriving from before the loop with `v` still nil, fails the
/// region's entry check. (tests/tests/mutants_shard1.rs has the same for `slen`.)
#[test]
fn tier_two_knows_which_registers_field_ops_read() {
    for op in ["getf k, o, C.f", "instanceof k, o, C"] {
        let text = format!(
            "class C {{\n field f\n}}\n\
func f(o) {{\n local v, i, n, one, t, h, k\n ldi i, 0\n ldi n, 10\n ldi one, 1\n ldk h, 0.5\n\
loop:\n lt t, i, n\n jmpifnot t, done\n mul v, h, h\n add i, i, one\n jmp loop\n\
done:\n {op}\n ret i\n}}\n\
func main() {{\n local o, j, m, one, t, r, a, seven\n new o, C\n ldi seven, 7\n setf o, C.f, seven\n ldi j, 0\n ldi m, 8\n ldi one, 1\n ldi a, 0\n\
outer:\n lt t, j, m\n jmpifnot t, done\n call r, f, (o)\n add a, a, r\n add j, j, one\n jmp outer\ndone:\n ret a\n}}\n"
        );
        let module = lockstep_spec::program::load_program(text.as_bytes(), "fields.lsa").expect("loads").module;
        let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
        let report = opt::run_with_stats(&module, &config).expect("runs");
        assert!(
            matches!(report.outcome.end, End::Finished { value: Value::Int(80) }),
            "{op}: {:?}",
            report.outcome.end
        );
        let s = report.stats.expect("stats were asked for").jit;
        let entry = opt::DEOPT_KINDS.iter().position(|k| *k == "entry").unwrap();
        assert_eq!(s.region_deopts[entry], 0, "{op}: {s:?}");
        assert!(s.region_entries >= 8, "{op}: {s:?}");
    }
}

/// A hot inner loop waits for the loop around it to be compiled (`tier2/`, `PATIENCE`: up to
/// 1,024 arrivals), so that a region entered at the outer header runs the whole nest, entered
/// once instead of once per outer lap. Here the inner loop runs 200 laps an outer lap: it is
/// hot at its 64th arrival, the outer loop comes back to its header 136 arrivals later and is
/// compiled, and the inner loop is never compiled alone. With a patience of 80 arrivals (`16 *
/// HOT_ARRIVALS` made `16 + HOT_ARRIVALS`, a shard-2 survivor) it gives up waiting first and
/// is compiled alone as well: two regions.
#[test]
fn tier_two_compiles_a_nest_once_at_its_outer_loop() {
    const NEST: &str =
        "func main() {\n local i, j, n, m, one, t, s\n ldi i, 0\n ldi n, 20\n ldi m, 200\n ldi one, 1\n ldi s, 0\n\
outer:\n lt t, i, n\n jmpifnot t, done\n ldi j, 0\n\
inner:\n lt t, j, m\n jmpifnot t, next\n add s, s, j\n add j, j, one\n jmp inner\n\
next:\n add i, i, one\n jmp outer\ndone:\n ret s\n}\n";
    // `--jit=opt` compiling on the running thread (as tests/cli.rs runs it): the counts then do
    // not depend on how fast another thread is. No other test of this file runs `JitMode::Opt`.
    std::env::set_var("LOCKSTEP_TIER2_BACKGROUND", "0");
    let module = lockstep_spec::program::load_program(NEST.as_bytes(), "nest.lsa").expect("loads").module;
    let config = opt::Config { stm: false, jit: opt::JitMode::Opt, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&module, &config).expect("runs");
    assert!(matches!(report.outcome.end, End::Finished { value: Value::Int(398_000) }), "{:?}", report.outcome.end);
    let s = report.stats.expect("stats were asked for").jit;
    assert_eq!(s.regions_compiled, 1, "{s:?}");
    assert!(s.region_laps >= 3000, "the nest did not run in its region: {s:?}");
}

/// `apush` on a full array doubles its storage (`interp/memory.rs`, `apush`), so 20,000 pushes
/// allocate about 320 KB of storages in all, under one collection at a 1 MiB threshold. Grown by
/// two elements at a time (`cap * 2` made `cap + 2`, a shard-2 survivor) the same pushes
/// allocate about 800 MB of storages that at once become garbage: the same outcome, quadratic
/// time, hundreds of collections.
#[test]
fn apush_doubles_a_full_array() {
    const PUSH: &str =
        "func main() {\n local a, i, n, one, t, z\n ldi z, 0\n anew a, z\n ldi i, 0\n ldi n, 20000\n ldi one, 1\n\
loop:\n apush a, i\n add i, i, one\n lt t, i, n\n jmpif t, loop\n alen t, a\n ret t\n}\n";
    let module = lockstep_spec::program::load_program(PUSH.as_bytes(), "push.lsa").expect("loads").module;
    for stm in [false, true] {
        let config = opt::Config {
            stm,
            jit: opt::JitMode::Off,
            stats: true,
            gc_threshold_bytes: 1 << 20,
            ..opt::Config::default()
        };
        let report = opt::run_with_stats(&module, &config).expect("runs");
        assert!(matches!(report.outcome.end, End::Finished { value: Value::Int(20000) }), "{:?}", report.outcome.end);
        let gc = report.stats.expect("stats were asked for").gc;
        assert!(gc.collections <= 2, "stm {stm}: {gc:?}");
    }
}
