//! Differential properties over generated programs (`lockstep_tests::smith`):
//!
//! - single-threaded programs: the reference and the optimized engine give the same outcome
//!   (stdout, result, trap kind and location, out of fuel);
//! - multithreaded programs: the optimized run's recorded schedule, replayed on the reference,
//!   gives the same outcome; the reference under random schedule seeds ends only in defined
//!   outcomes, and replaying what it recorded reproduces it;
//! - formats: encode/decode and disassemble/assemble are the identity on generated modules;
//!   random bytes and mutated generated modules are accepted or rejected, never a panic;
//! - the generator itself: every module verifies (checked inside `generate`), every opcode of
//!   the table occurs, and the outcomes reach the edge cases the generator aims at.
//!
//! A failure prints the seed, the program reduced by `smith::shrink` (as .lsa, also written to
//! `target/smith-failures/`), the schedule, and two ways to reproduce it:
//! `LOCKSTEP_SMITH_SEED=N cargo test --release -p lockstep-tests --test differential NAME`
//! re-runs that one seed in the failing property, and `lockstep smith --seed N ...` prints the
//! unreduced program for `lockstep run`. `LOCKSTEP_SMITH_CASES=N` changes the number of cases.
//!
//! Case counts keep this file near 10 s in release mode on one core; each property prints its
//! programs per second and the outcome mix (`cargo test -- --nocapture`), and while it runs a
//! progress line on stderr every `PROGRESS_EVERY` seconds (10 on a terminal, else 30; 0: none),
//! shown without `--nocapture` (`lockstep_tests::progress`).

use lockstep_spec::program::Program;
use lockstep_spec::Opcode;
use lockstep_tests::progress::Progress;
use lockstep_tests::smith::oracle::{self, Verdict};
use lockstep_tests::smith::{self, Generated, Options, Stats};
use lockstep_tests::{repo_root, Engine, RunSettings};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use quickcheck::{QuickCheck, TestResult};
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::Instant;

// ---- running properties --------------------------------------------------------------------

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(text.trim().parse().unwrap_or_else(|_| panic!("{name} must be an unsigned integer, found `{text}`")))
}

/// Runs `check` on `cases` random seeds (or only on `LOCKSTEP_SMITH_SEED`), reporting the
/// first failure's message, and prints throughput and the outcome mix.
fn property(name: &str, cases: u32, check: impl Fn(u64, &mut Stats) -> Result<(), String>) {
    let stats = Mutex::new(Stats::default());
    let started = Instant::now();
    let run_one = |seed: u64| -> Result<(), String> {
        let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
        match catch_unwind(AssertUnwindSafe(|| check(seed, &mut s))) {
            Ok(result) => result,
            Err(panic) => Err(format!("smith seed {seed}: panicked: {}", oracle::panic_message(panic.as_ref()))),
        }
    };
    if let Some(seed) = env_u64("LOCKSTEP_SMITH_SEED") {
        if let Err(e) = run_one(seed) {
            panic!("{name} failed:\n{e}");
        }
        return;
    }
    let cases = env_u64("LOCKSTEP_SMITH_CASES").map_or(cases, |n| n as u32);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    // A line on stderr every PROGRESS_EVERY seconds (lockstep_tests::progress) while it runs.
    let progress = Mutex::new(Progress::new(name, u64::from(cases), "programs"));
    // Seeds are not shrunk (a nearby seed is an unrelated program); `smith::shrink` reduces
    // the failing program itself.
    let result = runner.run(&any::<u64>().no_shrink(), |seed| {
        let result = run_one(seed).map_err(TestCaseError::fail);
        progress.lock().unwrap_or_else(|e| e.into_inner()).step();
        result
    });
    let elapsed = started.elapsed().as_secs_f64();
    let stats = stats.into_inner().unwrap_or_else(|e| e.into_inner());
    println!("{name}: {cases} programs in {elapsed:.2} s ({:.0} programs/s); {stats}", f64::from(cases) / elapsed);
    if let Err(e) = result {
        panic!("{name} failed:\n{e}");
    }
}

fn program_of(module: &lockstep_spec::Module) -> Program {
    let module = lockstep_spec::verify::verify(module.clone()).unwrap_or_else(|e| panic!("not valid: {e}"));
    oracle::program(&module)
}

fn settings(g: &Generated) -> RunSettings {
    RunSettings { fuel: Some(g.fuel), ..RunSettings::default() }
}

fn record(stats: &mut Stats, verdict: &Verdict) {
    match verdict {
        Verdict::Agreed(outcomes) => outcomes.iter().for_each(|o| stats.record(o)),
        Verdict::HostLimit => stats.record_host_error(),
    }
}

/// The failure report: what went wrong, how to reproduce it, and the reduced program.
fn failure(
    property: &str,
    seed: u64,
    options: Options,
    g: &Generated,
    what: &str,
    still_fails: impl FnMut(&lockstep_spec::VerifiedModule) -> bool,
) -> String {
    // `tests/run-mutants` needs only to know that a property failed (LOCKSTEP_FIRST_FAILURE):
    // the reduction, which reruns the program many times, is skipped there.
    let first_failure_only = std::env::var_os("LOCKSTEP_FIRST_FAILURE").is_some_and(|v| !v.is_empty());
    let reduced = if first_failure_only { g.module.clone() } else { smith::shrink::shrink(&g.module, still_fails) };
    let text = format!(
        "; reduced from `lockstep smith --seed {seed}{}`; run with --fuel {}\n{}",
        options.cli_flag(),
        g.fuel,
        lockstep_spec::disasm::disassemble(&reduced)
    );
    let dir = repo_root().join("target/smith-failures");
    let path = dir.join(format!("{property}-{seed}.lsa"));
    let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &text));
    let saved = match saved {
        Ok(()) => format!("written to {}", path.display()),
        Err(e) => format!("not written: {e}"),
    };
    format!(
        "smith seed {seed}: {what}\n\
         reproduce: LOCKSTEP_SMITH_SEED={seed} cargo test --release -p lockstep-tests --test differential {property}\n\
         or:        cargo run --release -- smith --seed {seed}{} > p.lsa && cargo run --release -- run --fuel {} --engine optimized p.lsa\n\
         reduced program ({saved}):\n{text}",
        options.cli_flag(),
        g.fuel
    )
}

// ---- (a) single-threaded: reference == optimized -------------------------------------------

fn single_threaded(seed: u64, stats: &mut Stats) -> Result<(), String> {
    let options = Options::SINGLE;
    let g = smith::from_seed(seed, options);
    let s = settings(&g);
    match oracle::engines_agree(&program_of(&g.module), &s) {
        Ok(verdict) => {
            record(stats, &verdict);
            Ok(())
        }
        Err(what) => Err(failure("single_threaded_programs_agree_on_both_engines", seed, options, &g, &what, |m| {
            oracle::engines_agree(&oracle::program(m), &s).is_err()
        })),
    }
}

#[test]
fn single_threaded_programs_agree_on_both_engines() {
    property("single_threaded_programs_agree_on_both_engines", 1500, single_threaded);
}

// ---- (b) multithreaded: the schedule-replay oracle and the reference's seeds ---------------

/// Schedule seeds per program for the reference.
const SCHEDULE_SEEDS: u64 = 4;

fn multithreaded(seed: u64, stats: &mut Stats) -> Result<(), String> {
    let options = Options::THREADED;
    let g = smith::from_seed(seed, options);
    let s = settings(&g);
    match oracle::threads_agree(&program_of(&g.module), &s, seed, SCHEDULE_SEEDS) {
        Ok(verdict) => {
            record(stats, &verdict);
            Ok(())
        }
        Err(what) => {
            Err(failure("multithreaded_programs_replay_and_end_in_defined_outcomes", seed, options, &g, &what, |m| {
                oracle::threads_agree(&oracle::program(m), &s, seed, SCHEDULE_SEEDS).is_err()
            }))
        }
    }
}

#[test]
fn multithreaded_programs_replay_and_end_in_defined_outcomes() {
    property("multithreaded_programs_replay_and_end_in_defined_outcomes", 300, multithreaded);
}

// ---- (c) formats ---------------------------------------------------------------------------

fn round_trips(seed: u64) -> Result<(), String> {
    let g = smith::from_seed(seed, Options::ANY);
    let bytes = lockstep_spec::encode::encode(&g.module);
    let decoded = lockstep_spec::decode::decode(&bytes)
        .map_err(|e| format!("seed {seed}: encoded module does not decode: {e}"))?;
    if decoded != g.module {
        return Err(format!("seed {seed}: decode(encode(m)) != m"));
    }
    let text = lockstep_spec::disasm::disassemble(&g.module);
    let assembled = lockstep_spec::asm::assemble(&text, "smith.lsa")
        .map_err(|e| format!("seed {seed}: disassembly does not assemble: {e}\n{text}"))?;
    if assembled.module != g.module {
        return Err(format!("seed {seed}: asm(disasm(m)) != m\n{text}"));
    }
    // The header `lockstep smith` prints is comments only: the text it prints loads too.
    let lsa = smith::to_lsa(seed, Options::ANY, &g);
    match lockstep_spec::asm::assemble(&lsa, "smith.lsa") {
        Ok(a) if a.module == g.module => Ok(()),
        Ok(_) => Err(format!("seed {seed}: the header changed the module")),
        Err(e) => Err(format!("seed {seed}: `lockstep smith` text does not assemble: {e}")),
    }
}

#[test]
fn generated_modules_round_trip_through_both_formats() {
    fn prop(seed: u64) -> TestResult {
        match round_trips(seed) {
            Ok(()) => TestResult::passed(),
            Err(e) => TestResult::error(e),
        }
    }
    QuickCheck::new().tests(env_u64("LOCKSTEP_SMITH_CASES").unwrap_or(300)).quickcheck(prop as fn(u64) -> TestResult);
}

/// Loads `bytes` as a program file; must return (either way) and never panic. A module that
/// decodes re-encodes to the same bytes (the binary format has one encoding per module).
fn load_total(bytes: &[u8]) -> Result<(), String> {
    let loaded = catch_unwind(|| lockstep_spec::program::load_program(bytes, "fuzz.lsb").is_ok())
        .map_err(|p| format!("the loader panicked: {}", oracle::panic_message(p.as_ref())))?;
    if let Ok(module) = lockstep_spec::decode::decode(bytes) {
        if lockstep_spec::encode::encode(&module) != bytes {
            return Err("decode then encode changed the bytes".to_string());
        }
    }
    let _ = loaded;
    Ok(())
}

#[test]
fn random_bytes_are_loaded_or_rejected_without_panic() {
    fn prop(bytes: Vec<u8>, magic: bool) -> TestResult {
        let mut input = if magic { lockstep_spec::MAGIC.to_vec() } else { Vec::new() };
        input.extend_from_slice(&bytes);
        match load_total(&input) {
            Ok(()) => TestResult::passed(),
            Err(e) => TestResult::error(format!("{e}\ninput: {input:?}")),
        }
    }
    QuickCheck::new().tests(2000).quickcheck(prop as fn(Vec<u8>, bool) -> TestResult);
}

#[test]
fn mutated_generated_modules_are_loaded_or_rejected_without_panic() {
    /// Each edit: (position, byte, kind): overwrite, insert or delete a byte, or flip a bit.
    fn prop(seed: u64, edits: Vec<(usize, u8, u8)>) -> TestResult {
        let g = smith::from_seed(seed, Options::ANY);
        let mut bytes = lockstep_spec::encode::encode(&g.module);
        let mut text = lockstep_spec::disasm::disassemble(&g.module).into_bytes();
        for &(pos, byte, kind) in edits.iter().take(8) {
            for target in [&mut bytes, &mut text] {
                let at = pos % (target.len() + 1);
                match kind % 4 {
                    0 if at < target.len() => target[at] = byte,
                    1 => target.insert(at, byte),
                    2 if at < target.len() => {
                        target.remove(at);
                    }
                    _ if at < target.len() => target[at] ^= 1 << (byte % 8),
                    _ => {}
                }
            }
        }
        for input in [&bytes, &text] {
            if let Err(e) = load_total(input) {
                return TestResult::error(format!("seed {seed}, edits {edits:?}: {e}"));
            }
        }
        TestResult::passed()
    }
    QuickCheck::new()
        .tests(env_u64("LOCKSTEP_SMITH_CASES").unwrap_or(500))
        .quickcheck(prop as fn(u64, Vec<(usize, u8, u8)>) -> TestResult);
}

// ---- the generator's reach -----------------------------------------------------------------

#[test]
fn generated_programs_use_every_opcode_of_the_table() {
    let mut seen = BTreeSet::new();
    for seed in 0..400 {
        let g = smith::from_seed(seed, Options::ANY);
        for f in &g.module.functions {
            seen.extend(f.code.iter().map(|i| i.opcode()));
        }
    }
    let missing: Vec<&str> = Opcode::ALL
        .iter()
        .filter(|op| !seen.contains(op) && !smith::DENY.contains(op))
        .map(|op| op.mnemonic())
        .collect();
    assert!(missing.is_empty(), "no generated program uses: {missing:?}");
}

#[test]
fn generated_programs_reach_classes_inheritance_threads_and_value_edges() {
    use lockstep_spec::Constant;
    let (mut inherits, mut overrides, mut threads, mut atomic_send) = (false, false, false, false);
    let mut floats: Vec<u64> = Vec::new();
    let mut ints = BTreeSet::new();
    for seed in 0..300 {
        let g = smith::from_seed(seed, Options::ANY);
        let m = &g.module;
        inherits |= m.classes.iter().any(|c| c.superclass.is_some());
        // An override: a class defines a method name its superclass chain also defines.
        overrides |= m.classes.iter().any(|c| {
            c.methods.iter().any(|meth| {
                let mut sup = c.superclass;
                let mut found = false;
                while let Some(s) = sup {
                    found |= m.classes[s.0 as usize].methods.iter().any(|x| x.name == meth.name);
                    sup = m.classes[s.0 as usize].superclass;
                }
                found
            })
        });
        threads |= g.threads && m.functions.iter().any(|f| f.code.iter().any(|i| i.opcode() == Opcode::Join));
        atomic_send |= m.functions.iter().any(|f| f.code.iter().any(|i| i.opcode() == Opcode::AtomicBegin))
            && m.functions.iter().any(|f| f.code.iter().any(|i| i.opcode() == Opcode::Send));
        for c in &m.constants {
            match c {
                Constant::Float(v) => floats.push(v.to_bits()),
                Constant::Int(v) => {
                    ints.insert(*v);
                }
                Constant::Str(_) => {}
            }
        }
        for f in &m.functions {
            for i in &f.code {
                if let lockstep_spec::Instr::LdI { value, .. } = i {
                    ints.insert(*value);
                }
            }
        }
    }
    assert!(inherits && overrides && threads && atomic_send, "{inherits} {overrides} {threads} {atomic_send}");
    for v in [f64::NAN, -0.0, f64::INFINITY, f64::NEG_INFINITY, 5e-324] {
        assert!(floats.contains(&v.to_bits()), "no float constant {v:?}");
    }
    for v in [i64::MIN, i64::MAX, 0, -1] {
        assert!(ints.contains(&v), "no int {v}");
    }
}

#[test]
fn generated_programs_reach_the_outcomes_they_aim_at() {
    let mut stats = Stats::default();
    for seed in 0..1500 {
        let g = smith::from_seed(seed, Options::ANY);
        let p = program_of(&g.module);
        if let Ok(o) = Engine::Reference.run_with(&p, &settings(&g)) {
            stats.record(&o);
        }
    }
    println!("{stats}");
    for trap in [
        "type_error",
        "division_by_zero",
        "index_out_of_bounds",
        "bad_length",
        "invalid_conversion",
        "no_such_method",
        "arity_mismatch",
        "stack_overflow",
        "out_of_fuel",
        "unbalanced_atomic",
        "explicit_trap",
        "assertion_failed",
    ] {
        assert!(stats.traps.contains_key(trap), "no program ended in {trap}: {stats}");
    }
    // Not mostly traps: at least a third of the programs run to their end.
    assert!(stats.finished * 3 >= stats.runs, "too few programs finish: {stats}");
    assert!(stats.multithreaded > 0, "{stats}");
}

// ---- regressions ---------------------------------------------------------------------------

/// Replays `tests/regressions/`: `seeds.txt` (lines `single N` or `threaded N`, `#` comments)
/// through the two engine properties, and every file in `differential/`,
/// `differential_threads/` (fuzz inputs of the targets of those names) and `loader/` (raw
/// loader inputs) as its fuzz target would.
#[test]
fn regressions_replay() {
    let dir = repo_root().join("tests/regressions");
    let seeds = std::fs::read_to_string(dir.join("seeds.txt")).expect("tests/regressions/seeds.txt");
    let mut stats = Stats::default();
    let mut replayed = 0;
    for (n, line) in seeds.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (kind, seed) =
            line.split_once(' ').unwrap_or_else(|| panic!("seeds.txt:{}: expected `single N` or `threaded N`", n + 1));
        let seed: u64 = seed.trim().parse().unwrap_or_else(|_| panic!("seeds.txt:{}: bad seed `{seed}`", n + 1));
        let result = match kind {
            "single" => single_threaded(seed, &mut stats),
            "threaded" => multithreaded(seed, &mut stats),
            other => panic!("seeds.txt:{}: unknown kind `{other}`", n + 1),
        };
        if let Err(e) = result {
            panic!("regression seeds.txt:{}:\n{e}", n + 1);
        }
        replayed += 1;
    }
    for (sub, options) in [("differential", Options::SINGLE), ("differential_threads", Options::THREADED)] {
        for path in files_in(&dir.join(sub)) {
            let bytes = std::fs::read(&path).expect("regression input");
            let g = smith::generate(&mut arbitrary::Unstructured::new(&bytes), options);
            let program = program_of(&g.module);
            let result = if options == Options::SINGLE {
                oracle::engines_agree(&program, &settings(&g))
            } else {
                oracle::threads_agree(&program, &settings(&g), 0, SCHEDULE_SEEDS)
            };
            if let Err(e) = result {
                panic!("regression {}:\n{e}\n{}", path.display(), lockstep_spec::disasm::disassemble(&g.module));
            }
            replayed += 1;
        }
    }
    for path in files_in(&dir.join("programs")) {
        let text = std::fs::read_to_string(&path).expect("regression program");
        let fuel = text
            .lines()
            .take_while(|l| l.starts_with(';'))
            .find_map(|l| l.split("--fuel ").nth(1)?.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{}: the header must say `--fuel N`", path.display()));
        let program = lockstep_tests::load(&path);
        let s = RunSettings { fuel: Some(fuel), ..RunSettings::default() };
        let threaded = program.module.functions.iter().any(|f| f.code.iter().any(|i| i.opcode() == Opcode::Spawn));
        let result = if threaded {
            oracle::threads_agree(&program, &s, 0, SCHEDULE_SEEDS)
        } else {
            oracle::engines_agree(&program, &s)
        };
        if let Err(e) = result {
            panic!("regression {}:\n{e}", path.display());
        }
        replayed += 1;
    }
    for path in files_in(&dir.join("loader")) {
        let bytes = std::fs::read(&path).expect("regression input");
        load_total(&bytes).unwrap_or_else(|e| panic!("regression {}: {e}", path.display()));
        replayed += 1;
    }
    assert!(replayed > 0, "tests/regressions/ is empty");
}

fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    // Dot files (`.gitkeep`) keep empty directories in git; they are not cases.
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

/// Short and exhausted inputs (what fuzz targets mostly feed the generator) still make valid
/// programs. (The `differential` targets once overflowed the stack under AddressSanitizer on
/// such inputs, because the nesting of blocks was unbounded; the inputs are in
/// tests/regressions/, and nesting is now bounded by `MAX_NEST`.)
#[test]
fn short_and_constant_inputs_make_valid_programs() {
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), vec![0], vec![0xff; 64]];
    inputs.extend((0..=255u8).map(|b| vec![b; 300]));
    inputs.extend((0..64u64).map(|n| smith::seed_bytes(n)[..(n as usize * 7) % 200].to_vec()));
    for bytes in inputs {
        for options in [Options::SINGLE, Options::THREADED] {
            // `generate` verifies its result; reaching here without a panic is the check.
            let g = smith::generate(&mut arbitrary::Unstructured::new(&bytes), options);
            assert!(!g.module.functions.is_empty());
        }
    }
}
