//! Tests for survivors of the `cargo mutants` sample of shard 1/19 (tests/README.md, "Mutation
//! testing"): behaviour that no suite pinned, each named after the mutant it kills. The
//! figures asserted are `--stats` figures or outcomes that do not depend on timing.

use lockstep_optimized as opt;
use lockstep_spec::outcome::{End, Value};

fn load(text: &str, name: &str) -> lockstep_spec::VerifiedModule {
    lockstep_spec::program::load_program(text.as_bytes(), name).expect("loads").module
}

fn finished_int(end: &End) -> Option<i64> {
    match end {
        End::Finished { value: Value::Int(n) } => Some(*n),
        _ => None,
    }
}

/// Tier 1 has a template for `gt` and for the fused `ne` + backward `jmpif` (`NeJmpBack`) and
/// `ge` + forward `jmpif` (`GeJmp`): a loop of 5,000 laps built on each stays in compiled
/// code, entered a handful of times. When an op has no template (`x64.rs`, `Emitter::op`: its
/// arm deleted) compiled code leaves before it at every lap and the interpreter runs it: the
/// same outcome, about 5,000 entries into compiled code per loop. (Kills the deleted arms of
/// `Gt` and `NeJmpBack`, and of `GeJmp`, judged equivalent before: exclusion 11.)
#[test]
fn tier_one_keeps_gt_and_the_fused_ne_and_ge_jumps_in_compiled_code() {
    // `gt` with its result moved before the jump: not fused.
    const GT: &str = "func main() {\n local i, n, one, t, u\n ldi i, 5000\n ldi n, 0\n ldi one, 1\n\
loop:\n gt t, i, n\n mov u, t\n jmpifnot u, done\n sub i, i, one\n jmp loop\ndone:\n ret i\n}\n";
    // `ne` then a backward `jmpif` on its result: `NeJmpBack`.
    const NE_BACK: &str = "func main() {\n local i, n, one, t\n ldi i, 0\n ldi n, 5000\n ldi one, 1\n\
loop:\n add i, i, one\n ne t, i, n\n jmpif t, loop\n ret i\n}\n";
    // `ge` then a forward `jmpif` on its result: `GeJmp`.
    const GE: &str = "func main() {\n local i, n, one, t\n ldi i, 0\n ldi n, 5000\n ldi one, 1\n\
loop:\n ge t, i, n\n jmpif t, done\n add i, i, one\n jmp loop\ndone:\n ret i\n}\n";
    for (name, text, want) in [("gt", GT, 0), ("ne_back", NE_BACK, 5000), ("ge", GE, 5000)] {
        let module = load(text, name);
        let config = opt::Config { stm: false, jit: opt::JitMode::Always, stats: true, ..opt::Config::default() };
        let report = opt::run_with_stats(&module, &config).expect("runs");
        assert_eq!(finished_int(&report.outcome.end), Some(want), "{name}: {:?}", report.outcome.end);
        let s = report.stats.expect("stats were asked for");
        assert!(s.jit.entries < 100, "{name}: compiled code left at every lap: {:?}", s.jit);
    }
}

/// `--stats`' inline-cache figures of a parallel run are the sum of every worker's (`par.rs`,
/// `worker`, at the thread's end: `ic.hits += st.hits`). A loop of 200 sends to one receiver
/// hits the site's cache 199 times or so; with `*=` for `+=` the sum stays 0.
#[test]
fn a_parallel_run_reports_its_inline_cache_hits() {
    const SENDS: &str = "class C {\n field f\n method m cm\n}\n\
func cm(self) {\n ret self\n}\n\
func work(o) {\n local i, n, one, t, r\n ldi i, 0\n ldi n, 200\n ldi one, 1\n\
loop:\n lt t, i, n\n jmpifnot t, done\n send r, o, \"m\", ()\n add i, i, one\n jmp loop\ndone:\n ret i\n}\n\
func main() {\n local o, th, a, b\n new o, C\n spawn th, work, (o)\n call a, work, (o)\n join b, th\n add a, a, b\n ret a\n}\n";
    let module = load(SENDS, "sends.lsa");
    for stm_solo in [true, false] {
        let config = opt::Config { stm: true, stm_solo, jit: opt::JitMode::Off, stats: true, ..opt::Config::default() };
        let report = opt::run_with_stats(&module, &config).expect("runs");
        assert_eq!(finished_int(&report.outcome.end), Some(400), "{:?}", report.outcome.end);
        let s = report.stats.expect("stats were asked for");
        assert!(s.inline_caches.hits >= 300, "solo {stm_solo}: {:?}", s.inline_caches);
    }
}

/// Two atomic blocks, one after the other, each printing 96 KiB (more than the 64 KiB at which
/// a thread delivers its output): inside an atomic block the delivery makes the transaction
/// inevitable mid-way (`par.rs`, `deliver`; `stm/clock.rs`, `try_acquire_token`: it takes the
/// ticket being served, `inev_next` from `serving` to `serving + 1`). The second block takes the
/// token again. When the first took a wrong ticket (`serving - 1`), the queue never serves the
/// second: it aborts, waits for a ticket that never comes, and the run hangs. Run on a thread
/// of its own, so that a hang fails the test after a minute instead of stopping the suite.
#[test]
fn two_atomic_blocks_that_print_past_the_flush_threshold_each_take_the_token() {
    // 1,024 prints of 96 bytes per block.
    let line = "x".repeat(95);
    let text = format!(
        "func block() {{\n local s, i, n, one, t\n ldk s, \"{line}\"\n ldi i, 0\n ldi n, 1024\n ldi one, 1\n atomic_begin\n\
loop:\n lt t, i, n\n jmpifnot t, done\n println s\n add i, i, one\n jmp loop\ndone:\n atomic_end\n ret i\n}}\n\
func main() {{\n local a, b, th\n spawn th, block, ()\n call a, block, ()\n join b, th\n call b, block, ()\n add a, a, b\n ret a\n}}\n"
    );
    let module = load(&text, "inevitable.lsa");
    for stm_solo in [true, false] {
        let (tx, rx) = std::sync::mpsc::channel();
        let m = module.clone();
        std::thread::spawn(move || {
            let config = opt::Config { stm: true, stm_solo, jit: opt::JitMode::Off, ..opt::Config::default() };
            let _ = tx.send(opt::run(&m, &config).map(|o| (o.end, o.stdout.len())));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(60));
        let (end, out) =
            got.expect("the run hung (a second inevitable transaction never got the token)").expect("runs");
        assert_eq!(finished_int(&end), Some(2048), "solo {stm_solo}: {end:?}");
        assert_eq!(out, 3 * 1024 * 96, "solo {stm_solo}");
    }
}

fn opt_always_stats(text: &str, name: &str) -> (End, opt::JitStats) {
    let module = load(text, name);
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&module, &config).expect("runs");
    (report.outcome.end, report.stats.expect("stats were asked for").jit)
}

/// Under `--jit=opt-always` a loop is compiled at its second arrival (the first lap's backward
/// jump) and the region runs at once, from that arrival: of a loop of ten laps it runs the last
/// nine (`tier2/`, `install`: it runs the code `publish` installed when that says there is
/// some). When `publish` reports no code although it installed some, tier 1 runs one more lap
/// and the region runs eight.
#[test]
fn tier_two_runs_a_region_from_the_arrival_that_compiled_it() {
    const SHORT: &str = "func main() {\n local i, n, one, t, x, h\n ldi i, 0\n ldi n, 10\n ldi one, 1\n \
ldk x, 0.0\n ldk h, 0.5\nloop:\n lt t, i, n\n jmpifnot t, done\n add x, x, h\n add i, i, one\n jmp loop\ndone:\n ret x\n}\n";
    let (end, s) = opt_always_stats(SHORT, "short.lsa");
    assert_eq!(end, End::Finished { value: Value::Float(5.0) });
    assert_eq!((s.regions_compiled, s.region_entries, s.region_laps), (1, 1, 9), "{s:?}");
}

/// Two nested loops under `--jit=opt-always`: the outer loop is not compiled before its second
/// arrival, after the first lap's thousand inner laps, so the inner loop does not wait for it
/// (`tier2/`, `first_entry`: an eager region's patience is 0) and is compiled alone at its
/// own second arrival; the outer one is compiled later and runs the second lap. Two regions,
/// and every lap of the inner loop but the first runs in one of them. An inner loop that
/// waits for a pending outer loop (`outer.entry != 0 && ..` made `||`) is never compiled
/// alone: one region, and the first outer lap runs in tier 1.
#[test]
fn tier_two_compiles_an_inner_loop_alone_when_its_outer_loop_is_not_compiled_yet() {
    const NESTED: &str =
        "func main() {\n local i, j, n, m, one, t, s\n ldi j, 0\n ldi m, 2\n ldi n, 1000\n ldi one, 1\n ldi s, 0\n\
outer:\n lt t, j, m\n jmpifnot t, done\n ldi i, 0\n\
inner:\n lt t, i, n\n jmpifnot t, next\n add s, s, one\n add i, i, one\n jmp inner\n\
next:\n add j, j, one\n jmp outer\ndone:\n ret s\n}\n";
    let (end, s) = opt_always_stats(NESTED, "nested.lsa");
    assert_eq!(end, End::Finished { value: Value::Int(2000) });
    assert_eq!(s.regions_compiled, 2, "{s:?}");
    assert!(s.region_laps >= 1999, "{s:?}");
}

/// tests/cli.rs's `tier_two_compiles_again_for_the_kinds_that_failed_its_entry` with the library
/// (the CLI's tests are not in the mutation run's test command): `last` is called 300 times, its
/// loop's `y` nil when tier 1 arrives from before the loop and a number on the laps after, and
/// its argument an int for 250 calls, then a float. Compiled for the laps' kinds, the region
/// fails at every entry from before the loop; after 64 failures it is compiled again as soon
/// as an arrival shows a kind not seen before (`tier2/`, `first_entry`: `joined ==
/// cell.seen && cell.waited < HOT_ARRIVALS`), and once more for the float. With `||` for `&&`
/// it waits 64 arrivals even for a new kind: the same compilations, later, and fewer laps in
/// the region. (The `not`, an op tier 2 does not translate, keeps `last` from being a region
/// as a whole, entered by calls: the test is about the loop's.)
#[test]
fn tier_two_compiles_again_at_the_first_arrival_that_shows_a_new_kind() {
    const LAST: &str = "func last(x, n) {\n local y, i, one, t\n ldi i, 0\n ldi one, 1\n\
loop:\n lt t, i, n\n jmpifnot t, done\n mov y, x\n add i, i, one\n jmp loop\ndone:\n typeof t, one\n ret y\n}\n\
func main() {\n local k, m, x, n, one, t, s, r, step\n ldi k, 0\n ldi m, 300\n ldi one, 1\n ldi n, 20\n ldk s, 0.0\n ldi step, 250\n\
outer:\n lt t, k, m\n jmpifnot t, done\n mov x, k\n lt t, k, step\n jmpif t, call\n ldk x, 2.5\n\
call:\n call r, last, (x, n)\n add s, s, r\n add k, k, one\n jmp outer\ndone:\n ret s\n}\n";
    // `--jit=opt` compiles on the running thread without a compiler thread (as tests/cli.rs runs
    // it): the counts then do not depend on how fast another thread is.
    std::env::set_var("LOCKSTEP_TIER2_BACKGROUND", "0");
    let module = load(LAST, "last-nil.lsa");
    let config = opt::Config { stm: false, jit: opt::JitMode::Opt, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&module, &config).expect("runs");
    assert_eq!(report.outcome.end, End::Finished { value: Value::Float(31250.0) });
    let s = report.stats.expect("stats were asked for").jit;
    let entry = opt::DEOPT_KINDS.iter().position(|k| *k == "entry").unwrap();
    assert_eq!((s.region_recompiles, s.region_deopts[entry]), (2, 128), "{s:?}");
    // Of the 6,000 laps, 5,795 ran in the region on this commit; waiting 64 arrivals for the
    // nil (and again for the float) leaves about 120 more to tier 1 (5,674). The bound sits
    // between the two.
    assert!(s.region_laps >= 5750, "{s:?}");
}

/// A loop that writes `v` before it reads it, in a function whose code after the loop reads a
/// string's length (`slen`): `v` is dead at the loop's header, so the region compiled during
/// the first call does not test its kind when it is entered (`tier2/`, `reads`: the registers
/// `slen`, `stoi` and `stof` read). When the liveness takes `slen` for an op that may read any
/// register, `v` is live at the header, the region expects the float it held there, and every
/// later call, arriving from before the loop with `v` still nil, fails the region's entry.
#[test]
fn tier_two_knows_which_registers_slen_reads() {
    const SLEN: &str = "func f(s) {\n local v, i, n, one, t, h, k\n ldi i, 0\n ldi n, 10\n ldi one, 1\n ldk h, 0.5\n\
loop:\n lt t, i, n\n jmpifnot t, done\n mul v, h, h\n add i, i, one\n jmp loop\n\
done:\n slen k, s\n add k, k, i\n ret k\n}\n\
func main() {\n local s, j, m, one, t, r, a\n ldk s, \"abc\"\n ldi j, 0\n ldi m, 8\n ldi one, 1\n ldi a, 0\n\
outer:\n lt t, j, m\n jmpifnot t, done\n call r, f, (s)\n add a, a, r\n add j, j, one\n jmp outer\ndone:\n ret a\n}\n";
    let (end, s) = opt_always_stats(SLEN, "slen.lsa");
    assert_eq!(end, End::Finished { value: Value::Int(104) });
    let entry = opt::DEOPT_KINDS.iter().position(|k| *k == "entry").unwrap();
    assert_eq!(s.region_deopts[entry], 0, "{s:?}");
    assert!(s.region_entries >= 8, "{s:?}");
}

/// `--stm-report`'s count of transactions that started inevitable (`par.rs`, `worker`:
/// `fig.inevitable += 1` when a retry begins holding the token). Two threads each run an atomic
/// block that prints 76 KiB (past the 64 KiB at which output is delivered, which makes the
/// transaction inevitable mid-way) and then counts to 20 million: the first to print holds the
/// token while it counts, the other, printing meanwhile, finds the token busy, aborts and
/// retries inevitable. Whether they overlap depends on the machine (7 runs of 10 did with a
/// count of 3 million on the 2-core machine, under load), so the run is repeated until one
/// does, 20 times at most; in every run a thread starts at most one inevitable transaction
/// per abort. With `-=` for `+=` the count wraps below zero.
#[test]
fn a_transaction_that_found_the_token_busy_is_counted_as_started_inevitable() {
    let line = "x".repeat(95);
    let text = format!(
        "func block() {{\n local s, i, n, one, t\n ldk s, \"{line}\"\n ldi i, 0\n ldi n, 800\n ldi one, 1\n atomic_begin\n\
loop:\n lt t, i, n\n jmpifnot t, spin\n println s\n add i, i, one\n jmp loop\n\
spin:\n ldi n, 20000000\nwait:\n lt t, i, n\n jmpifnot t, done\n add i, i, one\n jmp wait\n\
done:\n atomic_end\n ret i\n}}\n\
func main() {{\n local a, b, th\n spawn th, block, ()\n call a, block, ()\n join b, th\n add a, a, b\n ret a\n}}\n"
    );
    let module = load(&text, "inevitable-busy.lsa");
    let config =
        opt::Config { stm: true, stm_solo: false, stm_report: true, jit: opt::JitMode::On, ..opt::Config::default() };
    let mut overlapped = 0;
    for _ in 0..20 {
        let report = opt::run_with_stats(&module, &config).expect("runs");
        assert_eq!(finished_int(&report.outcome.end), Some(40_000_000), "{:?}", report.outcome.end);
        let r = report.stm.expect("the report was asked for");
        for t in &r.threads {
            assert!(
                t.inevitable <= t.aborted,
                "thread {}: {} started inevitable, {} aborted",
                t.id,
                t.inevitable,
                t.aborted
            );
        }
        if r.threads.iter().any(|t| t.inevitable > 0) {
            overlapped += 1;
            break;
        }
    }
    assert_eq!(overlapped, 1, "no run of 20 had a thread find the token busy");
}
