//! The conformance suite: every case of `tests/conformance/*.lsc` on every engine, and the
//! mechanical check that the cases cover every rule of the spec and name no rule that does
//! not exist. The script format is documented in `tests/src/script.rs`.
//!
//! Expectations are written for one schedule (round-robin unless the case asks for `seed:N` or
//! `replay:FILE`). A run under another schedule is checked by the schedule-replay oracle
//! instead: a case that asks for a schedule on an engine that cannot follow one, and a
//! multithreaded case (the program contains a `spawn`) on an engine that does not follow
//! round-robin (`Engine::follows_round_robin`). Loader expectations (`invalid`, `malformed`)
//! and single-threaded cases are checked exactly on every engine.

use lockstep_spec::invoke::{invocation, Arg};
use lockstep_spec::outcome::{End, Outcome};
use lockstep_spec::program::{load_program, LoadError, Program};
use lockstep_spec::schedule::ThreadId;
use lockstep_tests::script::{self, Case, Expect, Input};
use lockstep_tests::{files_with_extension, replay_on_reference, repo_root, Engine, RunSettings};
use std::collections::{BTreeMap, BTreeSet};

mod common;
use common::{replays_on_reference, spawns};

fn all_cases() -> Vec<Case> {
    let dir = repo_root().join("tests").join("conformance");
    let mut cases = Vec::new();
    for path in files_with_extension(&dir, "lsc") {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = format!("tests/conformance/{}", path.file_name().unwrap().to_string_lossy());
        cases.extend(script::parse(&text, &name).unwrap_or_else(|e| panic!("{e}")));
    }
    cases
}

/// Checks one case on one engine; returns a description of the mismatch, if any.
fn check(case: &Case, engine: Engine) -> Result<(), String> {
    let (bytes, file) = match &case.input {
        Input::Text(t) => (t.as_bytes().to_vec(), format!("{}.lsa", case.name)),
        Input::Bytes(b) => (b.clone(), format!("{}.lsb", case.name)),
    };
    let loaded = load_program(&bytes, &file);
    let program = match (&case.expect, loaded) {
        (Expect::Invalid { rule }, Err(LoadError::Verify(e))) => {
            return if e.rule == rule {
                Ok(())
            } else {
                Err(format!("rejected under {} instead of {rule}: {e}", e.rule))
            };
        }
        (Expect::MalformedText { line, column, fragment }, Err(LoadError::Asm(e))) => {
            return if e.line == *line && e.column == *column && e.message.contains(fragment.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "assembler said {}:{}: {} (expected {line}:{column}: ...{fragment}...)",
                    e.line, e.column, e.message
                ))
            };
        }
        (Expect::MalformedBytes { offset, fragment }, Err(LoadError::Decode(e))) => {
            return if e.offset == *offset && e.message.contains(fragment.as_str()) {
                Ok(())
            } else {
                Err(format!("decoder said byte {}: {} (expected byte {offset}: ...{fragment}...)", e.offset, e.message))
            };
        }
        (_, Err(e)) => return Err(format!("did not load: {e}")),
        (Expect::Invalid { .. } | Expect::MalformedText { .. } | Expect::MalformedBytes { .. }, Ok(_)) => {
            return Err("loaded, but the case expects it to be rejected".into());
        }
        (_, Ok(program)) => program,
    };
    // [exec.invoke]: the program run is the invocation of the function, `args` its arguments.
    let (program, args) = match &case.invoke {
        None => (program, case.args.clone()),
        Some(name) => {
            let parsed: Vec<Arg> =
                case.args.iter().map(|a| a.parse()).collect::<Result<_, _>>().map_err(|e| format!("{e}"))?;
            let module = invocation(&program.module, name, &parsed).map_err(|e| format!("{e}"))?;
            (Program { module, ..program }, Vec::new())
        }
    };
    let settings = RunSettings {
        args,
        fuel: Some(case.fuel.unwrap_or(CASE_FUEL)),
        schedule: case.schedule.clone(),
        max_heap: case.max_heap,
        ..RunSettings::default()
    };
    let wants_schedule = case.schedule.as_deref().is_some_and(|s| s != "round-robin");
    let (expect, may_run_out) = match &case.expect {
        Expect::OutOfMemoryOr(inner) => (inner.as_ref(), true),
        other => (other, false),
    };
    if wants_schedule && !engine.follows_schedules() || !engine.follows_round_robin() && spawns(&program) {
        return check_own_schedule(case, expect, engine, &program, settings, may_run_out);
    }
    let outcome = match (engine.run_with(&program, &settings), expect) {
        (Err(e), Expect::Diverged { entry, fragment }) => {
            let head = format!("schedule diverged at entry {entry}");
            return if e.contains(&head) && e.contains(fragment.as_str()) {
                Ok(())
            } else {
                Err(format!("said `{e}`, expected `{head}: ...{fragment}...`"))
            };
        }
        (Err(e), _) if may_run_out && e.contains("out of memory") => return Ok(()),
        (Err(e), _) => return Err(e),
        (Ok(outcome), _) => outcome,
    };
    if !engine.follows_round_robin() && names_other_threads(&outcome) {
        // No `spawn` in the program, yet the engine reports other threads.
        let oracle = replay_on_reference(&program, &settings, &outcome).err().unwrap_or_default();
        return Err(format!("a program without `spawn` recorded the schedule\n{}{oracle}", outcome.schedule.to_text()));
    }
    if let Expect::Diverged { .. } = expect {
        return Err(format!("ran to {} instead of diverging", outcome.to_json()));
    }
    compare(case, expect, &outcome)?;
    if engine != Engine::Reference {
        same_as_reference(&program, &settings, &outcome)?;
    }
    Ok(())
}

/// An engine that followed the case's own schedule reports exactly what the reference does
/// under it: stdout, the end with the trap's thread, location, message and detail
/// (`[exec.outcome]`), and the schedule itself.
fn same_as_reference(program: &Program, settings: &RunSettings, outcome: &Outcome) -> Result<(), String> {
    let reference = Engine::Reference.run_with(program, settings)?;
    if &reference == outcome {
        return Ok(());
    }
    Err(format!(
        "the reference under the same schedule gave\n  {}\nthis engine\n  {}",
        reference.to_json(),
        outcome.to_json()
    ))
}

/// A case on an engine that picks its own schedule, where the case's expectation (written for
/// round-robin, or for the schedule the case asks for) need not hold: the engine runs under its
/// own schedule, and the schedule-replay oracle must agree with what it did. Where the engine
/// happened to follow exactly the schedule the expectation was written for, the expectation
/// holds as well.
fn check_own_schedule(
    case: &Case,
    expect: &Expect,
    engine: Engine,
    program: &Program,
    settings: RunSettings,
    may_run_out: bool,
) -> Result<(), String> {
    let own = RunSettings { schedule: None, ..settings.clone() };
    let outcome = match engine.run_with(program, &own) {
        Err(e) if may_run_out && e.contains("out of memory") => return Ok(()),
        other => other?,
    };
    replays_on_reference(program, &own, &outcome, &format!("{}-{engine:?}", case.name))?;
    // The schedule the expectation was written for, as the reference follows it (none when the
    // case expects a divergence or the reference cannot run it).
    let expected_schedule = Engine::Reference.run_with(program, &settings).ok().map(|o| o.schedule);
    if expected_schedule.as_ref() == Some(&outcome.schedule) {
        compare(case, expect, &outcome).map_err(|e| format!("{e} (the engine followed the case's own schedule)"))?;
    }
    Ok(())
}

/// Whether the outcome's schedule names a thread other than main.
fn names_other_threads(outcome: &Outcome) -> bool {
    outcome.schedule.entries.iter().any(|e| e.thread != ThreadId::main())
}

fn compare(case: &Case, expect: &Expect, outcome: &Outcome) -> Result<(), String> {
    if outcome.stdout != case.stdout {
        return Err(format!(
            "stdout {:?}, expected {:?}",
            String::from_utf8_lossy(&outcome.stdout),
            String::from_utf8_lossy(&case.stdout)
        ));
    }
    let ok = match (expect, &outcome.end) {
        (Expect::Finished { value }, End::Finished { value: v }) => v.to_string() == *value,
        (Expect::Deadlock { waiting }, End::Deadlock { blocked }) => waiting.as_ref().is_none_or(|waiting| {
            let got =
                blocked.iter().map(|b| format!("{} at {} {} joins {}", b.thread, b.function_name, b.pc, b.waits_for));
            got.eq(waiting.iter().cloned())
        }),
        (Expect::Trapped { kind, function, pc, thread, message }, End::Trapped(t)) => {
            t.kind.name() == kind
                && &t.function_name == function
                && t.pc == *pc
                && thread.as_ref().is_none_or(|id| &t.thread.to_string() == id)
                && message.as_ref().is_none_or(|m| &t.message == m)
        }
        _ => false,
    };
    if !ok {
        return Err(format!("ended {}, expected {:?}", outcome.to_json(), expect));
    }
    if let Some(expected) = &case.json {
        // [exec.trap-report] Only the outcome's part of a trap is compared: an engine may leave
        // out the presentation, so it is blanked here.
        let mut outcome = outcome.clone();
        if let End::Trapped(t) = &mut outcome.end {
            (t.callers, t.joined) = (None, None);
        }
        let json = outcome.to_json();
        if &json != expected {
            return Err(format!("JSON form\n  {json}\nexpected\n  {expected}"));
        }
    }
    Ok(())
}

/// Fuel per thread for a case that names none: far more than any case uses (the suite's
/// largest loops run a few million laps), so that an engine that loops where it should not (a
/// planted bug's stale register keeping a guest loop running, `tier2_callee_dst_unwritten`)
/// fails the case as out of fuel within seconds instead of hanging the suite until
/// `tests/run-mutants`' timeout.
const CASE_FUEL: u64 = 1 << 30;

/// Every case on every engine, on as many threads as the machine has cores (each check is
/// independent: its own program, engine and output). With `LOCKSTEP_FIRST_FAILURE` set (as
/// `tests/run-mutants` does: one failure is all it needs), the workers stop at the first failure.
#[test]
fn every_conformance_case_passes_on_every_engine() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    use std::sync::Mutex;
    let cases = all_cases();
    assert!(!cases.is_empty(), "no conformance cases found");
    let work: Vec<(usize, Engine)> = (0..cases.len()).flat_map(|c| Engine::ALL.iter().map(move |&e| (c, e))).collect();
    let first_failure_only = std::env::var_os("LOCKSTEP_FIRST_FAILURE").is_some_and(|v| !v.is_empty());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !stop.load(Relaxed) {
                    let i = next.fetch_add(1, Relaxed);
                    let Some(&(c, engine)) = work.get(i) else { break };
                    let case = &cases[c];
                    for run in 1..=case.runs {
                        if let Err(why) = check(case, engine) {
                            let n =
                                if case.runs > 1 { format!(" (run {run} of {})", case.runs) } else { String::new() };
                            let text = format!("{} `{}` on {engine:?}{n}: {why}", case.location, case.name);
                            failures.lock().unwrap().push((i, text));
                            stop.store(first_failure_only, Relaxed);
                            break;
                        }
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let failures: Vec<String> = failures.into_iter().map(|(_, text)| text).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn case_names_are_unique() {
    let mut seen = BTreeMap::new();
    for case in all_cases() {
        if let Some(first) = seen.insert(case.name.clone(), case.location.clone()) {
            panic!("case `{}` at {} repeats the name of the case at {first}", case.name, case.location);
        }
    }
}

#[test]
fn the_cases_cover_every_spec_rule_and_name_only_existing_rules() {
    let defined = script::spec_rules(&repo_root().join("spec"));
    let mut names = BTreeSet::new();
    for (name, file) in &defined {
        assert!(names.insert(name.clone()), "rule [{name}] is defined twice (again in spec/{file})");
    }
    assert!(names.len() > 50, "found only {} rules in spec/*.md", names.len());
    let cases = all_cases();
    let mut covered = BTreeSet::new();
    for case in &cases {
        for rule in &case.rules {
            assert!(
                names.contains(rule),
                "{} `{}` names rule [{rule}], which spec/ does not define",
                case.location,
                case.name
            );
            covered.insert(rule.clone());
        }
    }
    let uncovered: Vec<String> = defined
        .iter()
        .filter(|(name, _)| !covered.contains(name))
        .map(|(name, file)| format!("[{name}] (spec/{file})"))
        .collect();
    assert!(
        uncovered.is_empty(),
        "{} rules are covered by no conformance case:\n{}",
        uncovered.len(),
        uncovered.join("\n")
    );
}
