//! Compiled code calls compiled code (inline calls, sends dispatched from the class table or
//! the inline cache, and calls through `jit/calls.rs`'s helper, which continues at the callee's
//! compiled code): the interpreter enters compiled code a few dozen times in a run of 22,000
//! calls and sends, not once per call. (`--stats`' "entries into compiled code"; when a change
//! makes compiled code leave at every call the outcome stays, only the time grows, so this is
//! the test that sees it.)

use lockstep_optimized as opt;

/// `fib(20)` by calls, and the same by sends to an object's method: 21,890 calls and sends.
const PROGRAM: &str = "class C {\n field f\n method fib fibm\n}\n\
func fib(n) {\n local two, one, a, b\n ldi two, 2\n lt a, n, two\n jmpif a, small\n ldi one, 1\n sub n, n, one\n \
call a, fib, (n)\n sub n, n, one\n call b, fib, (n)\n add a, a, b\n ret a\nsmall:\n ret n\n}\n\
func fibm(self, n) {\n local two, one, a, b\n ldi two, 2\n lt a, n, two\n jmpif a, small\n ldi one, 1\n sub n, n, one\n \
send a, self, \"fib\", (n)\n sub n, n, one\n send b, self, \"fib\", (n)\n add a, a, b\n ret a\nsmall:\n ret n\n}\n\
func main() {\n local n, a, b, o\n ldi n, 20\n call a, fib, (n)\n new o, C\n send b, o, \"fib\", (n)\n add a, a, b\n ret a\n}\n";

#[test]
fn compiled_code_calls_compiled_code() {
    let program = lockstep_spec::program::load_program(PROGRAM.as_bytes(), "jit_entries.lsa").unwrap();
    for stm in [false, true] {
        let config = opt::Config { stm, jit: opt::JitMode::Always, stats: true, ..opt::Config::default() };
        let report = opt::run_with_stats(&program.module, &config).expect("runs");
        let s = report.stats.expect("stats were asked for");
        assert!(
            matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(13530)),
            "stm {stm}: {:?}",
            report.outcome.end
        );
        // 39 with --stm=off, 70 with the STM; 21,921 when every call enters from the interpreter.
        assert!(s.jit.entries < 1000, "stm {stm}: compiled code left at calls: {:?}", s.jit);
    }
}

/// A loop that copies a float into a float register and an int into an int register (`mov`
/// between registers of one kind, unboxed): tier 2 translates it (`tier2/`,
/// `representations`: a `mov` is admitted when its destination holds its source's kind or a
/// word) and runs its laps. When the check rejects a `mov` of one kind to the same kind, the
/// loop stays in tier 1: the same outcome, no region compiled.
#[test]
fn tier_two_compiles_a_loop_that_copies_registers_of_one_kind() {
    const COPIES: &str = "func main() {\n local i, n, one, t, j, x, y, h\n ldi i, 0\n ldi n, 1000\n ldi one, 1\n \
ldi j, 0\n ldk x, 0.0\n ldk h, 0.5\nloop:\n lt t, i, n\n jmpifnot t, done\n mov y, x\n add x, y, h\n add i, i, one\n \
mov j, i\n jmp loop\ndone:\n add x, x, h\n ret x\n}\n";
    let program = lockstep_spec::program::load_program(COPIES.as_bytes(), "copies.lsa").unwrap();
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Float(500.5)),
        "{:?}",
        report.outcome.end
    );
    assert!(s.jit.regions_compiled >= 1, "the loop was not compiled by tier 2: {:?}", s.jit);
    // 1000 laps, the first in tier 1 (a loop is compiled at its first lap).
    assert!(s.jit.region_laps >= 900, "the loop's laps ran in tier 1: {:?}", s.jit);
}

/// `--jit=opt-always` (the suites' tier-2 engine) compiles a loop at its first lap: a loop of
/// ten laps, which `--jit=opt` would leave to tier 1 (not hot), is compiled by tier 2 and
/// entered (`tier2/`, `regions`: an eager region waits one arrival, not `HOT_ARRIVALS`).
#[test]
fn tier_two_under_opt_always_compiles_a_short_loop_at_its_first_lap() {
    const SHORT: &str = "func main() {\n local i, n, one, t, x, h\n ldi i, 0\n ldi n, 10\n ldi one, 1\n \
ldk x, 0.0\n ldk h, 0.5\nloop:\n lt t, i, n\n jmpifnot t, done\n add x, x, h\n add i, i, one\n jmp loop\ndone:\n ret x\n}\n";
    let program = lockstep_spec::program::load_program(SHORT.as_bytes(), "short.lsa").unwrap();
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Float(5.0)),
        "{:?}",
        report.outcome.end
    );
    assert_eq!(s.jit.regions_compiled, 1, "{:?}", s.jit);
    assert!(s.jit.region_entries >= 1, "{:?}", s.jit);
}

/// Tier 2 counts its failed guesses by kind (`--stats`' `region_deopts`, in the order of
/// `DEOPT_KINDS`): a loop that doubles an int past 61 bits (the unboxed int's range) fails the
/// overflow guess and leaves for tier 1, and that exit is counted as `overflow`, not as another
/// kind (`tier2/`, `count_failure`: the counter's address from the exit's kind).
#[test]
fn tier_two_counts_an_overflow_exit_as_overflow() {
    const DOUBLING: &str = "func main() {\n local i, n, one, t, x\n ldi i, 0\n ldi n, 62\n ldi one, 1\n ldi x, 1\n\
loop:\n lt t, i, n\n jmpifnot t, done\n add x, x, x\n add i, i, one\n jmp loop\ndone:\n ret x\n}\n";
    let program = lockstep_spec::program::load_program(DOUBLING.as_bytes(), "doubling.lsa").unwrap();
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(1 << 62)),
        "{:?}",
        report.outcome.end
    );
    let overflow = opt::DEOPT_KINDS.iter().position(|k| *k == "overflow").unwrap();
    assert!(s.jit.region_deopts[overflow] >= 1, "{:?}", s.jit);
    let others: u64 = (0..opt::DEOPT_KINDS.len()).filter(|&k| k != overflow).map(|k| s.jit.region_deopts[k]).sum();
    assert_eq!(others, 0, "{:?}", s.jit);
}

/// A store through an object that is the one whose field a loop carries (`tier2::Fwd`) leaves
/// before the store, counted as `alias` (no other kind); the region, compiled again without
/// carrying the field once most of its failed guesses are those, runs the rest of the laps
/// without leaving. Every third lap of `run` stores through the array element that is `o`.
#[test]
fn tier_two_counts_a_store_through_the_carried_object_as_alias_and_compiles_again() {
    const ALIASED: &str = "class P {\n field v\n}\nfunc run(a, o, n) {\n local i, one, t, three, k, p, x, y, half\n\
ldi i, 0\n ldi one, 1\n ldi three, 3\n ldk half, 0.5\nloop:\n lt t, i, n\n jmpifnot t, done\n getf x, o, P.v\n\
add x, x, half\n setf o, P.v, x\n rem k, i, three\n aget p, a, k\n getf y, p, P.v\n add y, y, half\n setf p, P.v, y\n\
add i, i, one\n jmp loop\ndone:\n getf x, o, P.v\n ret x\n}\nfunc main() {\n local a, o, z, n, s, b\n ldi z, 0\n\
anew a, z\n ldk s, 0.0\n new b, P\n setf b, P.v, s\n apush a, b\n new o, P\n setf o, P.v, s\n apush a, o\n\
apush a, b\n ldi n, 3000\n call s, run, (a, o, n)\n ret s\n}\n";
    let program = lockstep_spec::program::load_program(ALIASED.as_bytes(), "aliased.lsa").unwrap();
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    // 3000 halves through `o`, and 1000 more through `p` when it is `o`.
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Float(2000.0)),
        "{:?}",
        report.outcome.end
    );
    let alias = opt::DEOPT_KINDS.iter().position(|k| *k == "alias").unwrap();
    assert!(s.jit.region_deopts[alias] >= 1, "{:?}", s.jit);
    assert!(s.jit.region_deopts[alias] < 1000, "compiled again without the field: {:?}", s.jit);
    assert!(s.jit.region_recompiles >= 1, "{:?}", s.jit);
    let others: u64 = (0..opt::DEOPT_KINDS.len()).filter(|&k| k != alias).map(|k| s.jit.region_deopts[k]).sum();
    assert_eq!(others, 0, "{:?}", s.jit);
}

/// In the barrier flavour (a thread in company; here `--stm=barriers`, which keeps a thread
/// alone in it), a field or array access of an object that is not private to the running
/// transaction goes through the STM's barriers by a helper call (`jit/barriers.rs`) and stays
/// in compiled code: a loop of 5,000 laps over an object and an array that earlier
/// transactions allocated enters compiled code about once per transaction, not five times a
/// lap. (When shared accesses leave for the interpreter the outcome stays and the entries
/// number about 25,000.)
#[test]
fn shared_fields_and_elements_do_not_leave_compiled_code() {
    const SHARED: &str = "class Box {\n field v\n}\n\
func main() {\n local b, a, i, n, one, t, x, k, len\n new b, Box\n ldi x, 0\n setf b, Box.v, x\n ldi k, 4\n anew a, k\n \
ldi k, 0\n aset a, k, x\n ldi i, 0\n ldi n, 5000\n ldi one, 1\n\
loop:\n lt t, i, n\n jmpifnot t, done\n getf x, b, Box.v\n add x, x, one\n setf b, Box.v, x\n aget x, a, k\n \
add x, x, one\n aset a, k, x\n alen len, a\n add i, i, one\n jmp loop\n\
done:\n getf x, b, Box.v\n aget t, a, k\n add x, x, t\n add x, x, len\n ret x\n}\n";
    let program = lockstep_spec::program::load_program(SHARED.as_bytes(), "shared.lsa").unwrap();
    let config =
        opt::Config { stm: true, stm_solo: false, jit: opt::JitMode::Always, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(10004)),
        "{:?}",
        report.outcome.end
    );
    assert!(s.jit.entries < 2000, "shared accesses left compiled code: {:?}", s.jit);
}

/// Tier 2 in the barrier flavour: a loop that reads and writes a field of an object an earlier
/// transaction allocated (shared: not private to the running one) runs its laps in its region,
/// the field through the STM's barriers by helper calls (`tier2/`, `Tr::load_field`,
/// `Tr::store_field`). When a shared object fails a guard instead, the region leaves at every
/// entry (64 failed operand guesses, no lap) and tier 1 runs the loop: the same outcome.
#[test]
fn tier_two_reads_and_writes_shared_fields_through_the_barriers() {
    const SHARED: &str = "class Box {\n field v\n}\n\
func main() {\n local b, i, n, one, t, x\n new b, Box\n ldi x, 0\n setf b, Box.v, x\n atomic_begin\n atomic_end\n \
ldi i, 0\n ldi n, 1000\n ldi one, 1\n\
loop:\n lt t, i, n\n jmpifnot t, done\n getf x, b, Box.v\n add x, x, one\n setf b, Box.v, x\n add i, i, one\n jmp loop\n\
done:\n getf x, b, Box.v\n ret x\n}\n";
    let program = lockstep_spec::program::load_program(SHARED.as_bytes(), "shared2.lsa").unwrap();
    let config =
        opt::Config { stm: true, stm_solo: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(1000)),
        "{:?}",
        report.outcome.end
    );
    assert!(s.jit.region_laps >= 900, "the loop's laps ran in tier 1: {:?}", s.jit);
    assert_eq!(s.jit.region_deopts, [0; opt::DEOPT_KINDS.len()], "{:?}", s.jit);
}

/// Tier 2 takes an `add` of two words (two elements of an array, of no kind it knows) for
/// floats; when that guess fails, it compiles the loop again taking that `add` for ints
/// (`tier2/`, `Cell::int_ops`), and the laps of a loop over an int array then run in the
/// region. Without the second compilation every lap fails the float guess and leaves for tier
/// 1 (the region is given up after 64 of them): the same outcome, almost no laps in tier 2.
#[test]
fn tier_two_compiles_again_an_add_of_elements_that_hold_ints() {
    const SUM: &str =
        "func main() {\n local a, n, i, one, t, x, y, s\n ldi n, 2000\n anew a, n\n ldi one, 1\n ldi i, 0\n\
fill:\n lt t, i, n\n jmpifnot t, filled\n aset a, i, i\n add i, i, one\n jmp fill\n\
filled:\n ldi s, 0\n ldi i, 1\n\
sum:\n lt t, i, n\n jmpifnot t, done\n aget x, a, i\n sub t, i, one\n aget y, a, t\n add x, x, y\n add s, s, x\n \
add i, i, one\n jmp sum\n\
done:\n ret s\n}\n";
    let program = lockstep_spec::program::load_program(SUM.as_bytes(), "sum.lsa").unwrap();
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    // The sum of (i + i - 1) for i in 1..2000: 1999^2.
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(1999 * 1999)),
        "{:?}",
        report.outcome.end
    );
    assert!(s.jit.region_recompiles >= 1, "the loop was not compiled again: {:?}", s.jit);
    // 2000 laps of the fill loop and about 1900 of the sum loop after its first 64 failures.
    assert!(s.jit.region_laps >= 3500, "the sum loop's laps ran in tier 1: {:?}", s.jit);
}

/// Tier 2's representations settle for a loop that adds two words into one register in a row
/// (`add s, s, x` then `add s, s, y`, `x` and `y` elements of an int array): each op sees what
/// the ops before it in the lap made of its operands (`tier2/`, `representations`), so both
/// adds take `s` for an int, and the loop runs in its region. When each pass saw only the last
/// pass's representations, the two `s` took turns being an int and a float, never settled,
/// and the loop was not translated: the same outcome, every lap in tier 1.
#[test]
fn tier_two_translates_a_loop_that_adds_two_words_into_one_register() {
    const TWO: &str = "func main() {\n local a, n, i, one, t, x, s, y, k\n ldi n, 100\n anew a, n\n ldi one, 1\n ldi i, 0\n\
fill:\n lt t, i, n\n jmpifnot t, filled\n aset a, i, i\n add i, i, one\n jmp fill\n\
filled:\n ldi k, 0\n ldi i, 0\n ldi s, 0\n\
sum:\n lt t, i, n\n jmpifnot t, summed\n aget x, a, i\n add s, s, x\n aget y, a, k\n add s, s, y\n add i, i, one\n jmp sum\n\
summed:\n ret s\n}\n";
    let program = lockstep_spec::program::load_program(TWO.as_bytes(), "two.lsa").unwrap();
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(4950)),
        "{:?}",
        report.outcome.end
    );
    assert_eq!(s.jit.regions_compiled, 2, "the sum loop was not translated: {:?}", s.jit);
    assert!(s.jit.region_laps >= 190, "{:?}", s.jit);
}

/// Two guest threads run the same hot loop under `--jit=opt`: each thread's cell of the loop
/// gets code, and the compiler thread compiles it once; the second thread's code is a copy of
/// the first's (`tier2/`, `Memo`). Without the memo, `region_copies` stays 0 and the
/// compiler thread's work doubles with the threads.
#[test]
fn tier_two_compiles_a_loop_two_threads_run_once() {
    const TWO: &str = "func partial(n, out, k) {\n local s, i, one, t\n ldi s, 0\n ldi i, 0\n ldi one, 1\n\
loop:\n lt t, i, n\n jmpifnot t, done\n add s, s, i\n add i, i, one\n jmp loop\ndone:\n aset out, k, s\n ret s\n}\n\
func main() {\n local n, out, k, two, a, b, x, y\n ldi n, 20000000\n ldi two, 2\n anew out, two\n ldi k, 0\n \
spawn a, partial, (n, out, k)\n ldi k, 1\n spawn b, partial, (n, out, k)\n join x, a\n join y, b\n add x, x, y\n ret x\n}\n";
    let program = lockstep_spec::program::load_program(TWO.as_bytes(), "two.lsa").unwrap();
    let config = opt::Config { stm: true, jit: opt::JitMode::Opt, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(2 * 199_999_990_000_000)),
        "{:?}",
        report.outcome.end
    );
    assert!(s.jit.regions_compiled >= 2, "each thread's loop was not compiled: {:?}", s.jit);
    assert!(s.jit.region_copies >= 1, "the second thread's loop was compiled again: {:?}", s.jit);
}

/// A counted loop's step (`tier2/`, `counted_steps`) whose bound leaves no room for one more
/// step in a SmallInt: the region's entry test fails (a failed guess at the entry), and after
/// 64 of them the loop is compiled again with the step checked at each lap, so that its laps
/// run in tier 2 from then on. `up` runs 1001 laps a call from `2^60 - 1 - 3001` by 3, its last
/// step past the SmallInt range. (Compiled again without the step's check, the entry would fail
/// as before, and after three compilations the laps would all run in tier 1.)
#[test]
fn tier_two_compiles_again_a_counted_loop_whose_bound_leaves_no_room() {
    const UP: &str = "func up(i, n, c) {\n local t\nloop:\n lt t, i, n\n jmpifnot t, done\n add i, i, c\n jmp loop\n\
done:\n ret i\n}\n\
func main() {\n local k, calls, one, t, top, a, c, r\n ldi calls, 150\n ldi one, 1\n ldi k, 0\n \
ldi top, 1152921504606846975\n ldi c, 3001\n sub a, top, c\n ldi c, 3\n\
calls:\n lt t, k, calls\n jmpifnot t, out\n call r, up, (a, top, c)\n add k, k, one\n jmp calls\n\
out:\n ret r\n}\n";
    let program = lockstep_spec::program::load_program(UP.as_bytes(), "up.lsa").unwrap();
    let config = opt::Config { stm: false, jit: opt::JitMode::OptAlways, stats: true, ..opt::Config::default() };
    let report = opt::run_with_stats(&program.module, &config).expect("runs");
    let s = report.stats.expect("stats were asked for");
    assert!(
        matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int((1 << 60) + 1)),
        "{:?}",
        report.outcome.end
    );
    let entry = opt::DEOPT_KINDS.iter().position(|k| *k == "entry").unwrap();
    assert!(s.jit.region_deopts[entry] >= 64, "the entry's test of the bound did not fail: {:?}", s.jit);
    assert!(s.jit.region_recompiles >= 1, "the loop was not compiled again: {:?}", s.jit);
    assert!(s.jit.region_laps >= 50_000, "the loop's laps ran in tier 1: {:?}", s.jit);
}
