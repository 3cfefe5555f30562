//! Threads, segments, atomic blocks, the three schedulers and replay divergence.

use super::*;
use lockstep_spec::limits::MAX_THREADS;
use lockstep_spec::schedule::{Schedule, ScheduleEntry, ThreadId};

fn text(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn replay(module: &Module, schedule_text: &str) -> Result<Outcome, RunError> {
    let schedule = Schedule::parse(schedule_text).expect("test schedule parses");
    with_scheduler(module, Scheduler::Replay(schedule))
}

/// Each blocked thread as `THREAD at FUNCTION PC joins THREAD`.
fn deadlock_of(o: &Outcome) -> Vec<String> {
    match &o.end {
        End::Deadlock { blocked } => blocked
            .iter()
            .map(|b| format!("{} at {} {} joins {}", b.thread, b.function_name, b.pc, b.waits_for))
            .collect(),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

/// main spawns A (prints `a` three times) and B (prints `b` three times) and joins both.
fn printers() -> Module {
    let mut b = Builder::new();
    let ka = b.str("a");
    let kb = b.str("b");
    b.func(
        "main",
        0,
        3,
        vec![
            Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) },
            Instr::Spawn { dst: r(1), func: FuncIdx(2), args: args(&[]) },
            Instr::Join { dst: r(2), thread: r(0) },
            Instr::Join { dst: r(2), thread: r(1) },
            ret(2),
        ],
    );
    for (name, k) in [("A", ka), ("B", kb)] {
        let p = Instr::Print { src: r(0) };
        b.func(name, 0, 1, vec![Instr::LdK { dst: r(0), k }, p.clone(), p.clone(), p, ret(0)]);
    }
    b.build()
}

/// Two workers each add 1 to a shared counter `n` times, reading it, calling `inc` (a segment
/// boundary) and writing it back; `atomic` wraps each update in an atomic block.
fn counter(n: i64, atomic: bool) -> Module {
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        5,
        vec![
            ldi(4, 0),
            ldi(3, 1),
            Instr::ANew { dst: r(0), len: r(3) },
            Instr::ASet { arr: r(0), idx: r(4), src: r(4) },
            Instr::Spawn { dst: r(1), func: FuncIdx(1), args: args(&[0]) },
            Instr::Spawn { dst: r(2), func: FuncIdx(1), args: args(&[0]) },
            Instr::Join { dst: r(3), thread: r(1) },
            Instr::Join { dst: r(3), thread: r(2) },
            Instr::AGet { dst: r(3), arr: r(0), idx: r(4) },
            ret(3),
        ],
    );
    let mut body = vec![ldi(1, 0), ldi(2, n), ldi(4, 1), ldi(5, 0)];
    let top = body.len() as u32;
    if atomic {
        body.push(Instr::AtomicBegin {});
    }
    body.push(Instr::AGet { dst: r(3), arr: r(0), idx: r(5) });
    body.push(call(3, FuncIdx(2), &[3]));
    body.push(Instr::ASet { arr: r(0), idx: r(5), src: r(3) });
    if atomic {
        body.push(Instr::AtomicEnd {});
    }
    body.push(Instr::Add { dst: r(1), a: r(1), b: r(4) });
    body.push(Instr::Lt { dst: r(6), a: r(1), b: r(2) });
    body.push(Instr::JmpIf { cond: r(6), target: Label(top) });
    body.push(ret(1));
    b.func("worker", 1, 7, body);
    b.func("inc", 1, 2, vec![ldi(1, 1), Instr::Add { dst: r(0), a: r(0), b: r(1) }, ret(0)]);
    b.build()
}

#[test]
fn round_robin_interleaves_in_creation_order() {
    let o = run(&printers());
    assert_eq!(text(&o), "aababb");
    assert_eq!(finished(&o), "b");
    assert_eq!(
        o.schedule.to_text(),
        "lockstep-schedule 1\n0 1\n0.0 1\n0 1\n0.0 1\n0.1 1\n0.0 1\n0.1 1\n0.0 1\n0.1 1\n0 1\n0.1 1\n0 1\n"
    );
}

#[test]
fn seeds_choose_other_interleavings_and_replay_reproduces_every_run() {
    let module = printers();
    let rr = text(&run(&module));
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..32 {
        let o = with_scheduler(&module, Scheduler::Seed(seed)).expect("seeded run");
        let out = text(&o);
        // Each thread's own prints stay in order; only the interleaving varies.
        assert_eq!((out.matches('a').count(), out.matches('b').count(), out.len()), (3, 3, 6), "{out}");
        let again = with_scheduler(&module, Scheduler::Seed(seed)).expect("seeded run");
        assert_eq!(again, o, "seed {seed} is deterministic");
        let replayed = replay(&module, &o.schedule.to_text()).expect("recorded schedule replays");
        assert_eq!(replayed, o, "replay of seed {seed}");
        seen.insert(out);
    }
    assert!(seen.len() >= 3, "seeds gave only {seen:?}");
    assert!(seen.iter().any(|s| *s != rr));
}

#[test]
fn seeded_scheduling_follows_splitmix64() {
    // The first draws of SplitMix64 seeded with 0 (reference values of the algorithm).
    let mut rng = crate::scheduler::SplitMix64::new(0);
    let draws: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
    assert_eq!(draws, vec![0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f]);
    // A draw per decision: seed 0 on `printers`. Decision 1 has one runnable thread (main),
    // decision 2 has two (main, 0.0): 0x6e78...f4 % 2 = 0, so main runs again.
    let o = with_scheduler(&printers(), Scheduler::Seed(0)).expect("seeded run");
    assert_eq!(o.schedule.entries[0].thread.to_string(), "0");
    assert_eq!(o.schedule.entries[0].segments, 2);
}

#[test]
fn atomic_blocks_keep_updates_whole_under_every_schedule() {
    let n = 20;
    let schedulers: Vec<Scheduler> =
        std::iter::once(Scheduler::RoundRobin).chain((0..16).map(Scheduler::Seed)).collect();
    let mut lost = false;
    for s in &schedulers {
        let safe = with_scheduler(&counter(n, true), s.clone()).expect("run");
        assert_eq!(finished(&safe), "40", "{s:?}");
        let racy = with_scheduler(&counter(n, false), s.clone()).expect("run");
        lost |= finished(&racy) != "40";
        assert_eq!(replay(&counter(n, false), &racy.schedule.to_text()).expect("replay"), racy);
    }
    assert!(lost, "no schedule lost an update without atomic blocks");
}

#[test]
fn segments_end_at_boundaries_only_outside_atomic_blocks() {
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        4,
        vec![
            ldi(0, 0),
            ldi(1, 1),
            ldi(2, 3),
            Instr::Add { dst: r(0), a: r(0), b: r(1) },
            Instr::Lt { dst: r(3), a: r(0), b: r(2) },
            Instr::JmpIf { cond: r(3), target: Label(3) }, // 3 times: a boundary each, taken or not
            Instr::Print { src: r(0) },                    // boundary
            Instr::AtomicBegin {},
            Instr::Print { src: r(0) }, // no boundary inside the block
            Instr::Yield {},
            Instr::AtomicBegin {},
            Instr::AtomicEnd {}, // depth 1 after it: no boundary
            Instr::AtomicEnd {}, // boundary
            Instr::Yield {},     // boundary
            ret(0),              // the thread's end ends the last segment
        ],
    );
    let o = run(&b.build());
    assert_eq!(text(&o), "33");
    assert_eq!(o.schedule.to_text(), "lockstep-schedule 1\n0 7\n");

    // A join outside atomic blocks begins a segment.
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        2,
        vec![
            Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) },
            ldi(1, 5),
            Instr::Join { dst: r(1), thread: r(0) },
            ret(1),
        ],
    );
    b.func("child", 0, 1, vec![ldi(0, 9), ret(0)]);
    let o = run(&b.build());
    assert_eq!(finished(&o), "9");
    assert_eq!(o.schedule.to_text(), "lockstep-schedule 1\n0 1\n0.0 1\n0 2\n");
}

#[test]
fn spawn_join_handles_and_thread_ids() {
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        4,
        vec![
            ldi(1, 21),
            Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[1]) },
            Instr::Join { dst: r(2), thread: r(0) },
            Instr::PrintLn { src: r(0) },
            Instr::TypeOf { dst: r(3), a: r(0) },
            Instr::PrintLn { src: r(3) },
            // The child returned its own child's handle: thread 0.0.0.
            Instr::PrintLn { src: r(2) },
            Instr::Join { dst: r(3), thread: r(2) },
            Instr::PrintLn { src: r(3) },
            // Joining again gives the same value.
            Instr::Join { dst: r(3), thread: r(2) },
            Instr::PrintLn { src: r(3) },
            Instr::Spawn { dst: r(2), func: FuncIdx(2), args: args(&[1]) },
            Instr::PrintLn { src: r(2) },
            Instr::Eq { dst: r(3), a: r(0), b: r(0) },
            Instr::PrintLn { src: r(3) },
            Instr::Eq { dst: r(3), a: r(0), b: r(2) },
            ret(3),
        ],
    );
    b.func("parent", 1, 2, vec![Instr::Spawn { dst: r(1), func: FuncIdx(2), args: args(&[0]) }, ret(1)]);
    b.func("double", 1, 1, vec![Instr::Add { dst: r(0), a: r(0), b: r(0) }, ret(0)]);
    let o = run(&b.build());
    assert_eq!(text(&o), "<thread 0.0>\nthread\n<thread 0.0.0>\n42\n42\n<thread 0.1>\ntrue\n");
    assert_eq!(finished(&o), "false");
}

#[test]
fn joining_a_trapped_thread_traps_naming_its_trap() {
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        3,
        vec![
            Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) },
            Instr::Spawn { dst: r(1), func: FuncIdx(2), args: args(&[0]) },
            Instr::Join { dst: r(2), thread: r(1) },
            ret(2),
        ],
    );
    b.func("bad", 0, 1, vec![ldi(0, 0), Instr::Div { dst: r(0), a: r(0), b: r(0) }, ret(0)]);
    // The middle thread joins the bad one and traps in turn; main joins the middle one.
    b.func("middle", 1, 1, vec![Instr::Join { dst: r(0), thread: r(0) }, ret(0)]);
    let o = run(&b.build());
    let message = assert_trap(&o, TrapKind::ThreadTrapped, "0", "main", 2);
    assert_eq!(message.as_deref(), Some("thread_trapped"));

    // Joined directly, the message names the joined thread's own trap.
    let mut b = Builder::new();
    main_spawns_and_joins_function_1(&mut b);
    b.func("bad", 0, 1, vec![ldi(0, 0), Instr::Div { dst: r(0), a: r(0), b: r(0) }, ret(0)]);
    let message = assert_trap(&run(&b.build()), TrapKind::ThreadTrapped, "0", "main", 1);
    assert_eq!(message.as_deref(), Some("division_by_zero"));
}

#[test]
fn join_of_a_non_thread_and_traps_in_threads_stay_in_their_thread() {
    let mut b = Builder::new();
    b.func("main", 0, 1, vec![ldi(0, 3), Instr::Join { dst: r(0), thread: r(0) }, ret(0)]);
    assert_trap(&run(&b.build()), TrapKind::TypeError, "0", "main", 1);

    // A thread's trap ends only that thread; its earlier output remains and main finishes.
    let mut b = Builder::new();
    let msg = b.str("child failed");
    b.func(
        "main",
        0,
        1,
        vec![
            Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) },
            Instr::Yield {},
            Instr::Yield {},
            ldi(0, 1),
            ret(0),
        ],
    );
    b.func("child", 0, 1, vec![ldi(0, 7), Instr::Print { src: r(0) }, Instr::Trap { msg }]);
    let o = run(&b.build());
    assert_eq!(text(&o), "7");
    assert_eq!(finished(&o), "1");
}

#[test]
fn the_run_ends_when_main_ends_abandoning_other_threads() {
    let mut b = Builder::new();
    b.func("main", 0, 1, vec![Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) }, ldi(0, 1), ret(0)]);
    b.func("forever", 0, 1, vec![ldi(0, 0), Instr::Print { src: r(0) }, jmp(1)]);
    let o = run(&b.build());
    assert_eq!(text(&o), "0");
    assert_eq!(finished(&o), "1");
}

#[test]
fn fuel_is_per_thread() {
    // Each worker needs 3 units (entry and two calls); main needs 1.
    let module = |calls: usize| {
        let mut b = Builder::new();
        b.func(
            "main",
            0,
            2,
            vec![
                Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) },
                Instr::Spawn { dst: r(1), func: FuncIdx(1), args: args(&[]) },
                Instr::Join { dst: r(0), thread: r(0) },
                Instr::Join { dst: r(1), thread: r(1) },
                ret(1),
            ],
        );
        let mut code: Vec<Instr> = (0..calls).map(|_| call(0, FuncIdx(2), &[])).collect();
        code.push(ret(0));
        b.func("worker", 0, 1, code);
        b.func("leaf", 0, 1, vec![ldi(0, 4), ret(0)]);
        b.build()
    };
    let config = Config { fuel: 3, ..Config::default() };
    assert_eq!(finished(&run_config(&module(2), &config)), "4");
    let o = run_config(&module(3), &config);
    let message = assert_trap(&o, TrapKind::ThreadTrapped, "0", "main", 2);
    assert_eq!(message.as_deref(), Some("out_of_fuel"));
    // A spawned thread's root entry is charged at its first segment, at (root, pc 0).
    let mut b = Builder::new();
    main_spawns_and_joins_function_1(&mut b);
    b.func("child", 0, 1, vec![ret(0)]);
    let o = run_config(&b.build(), &Config { fuel: 1, ..Config::default() });
    assert_eq!(finished(&o), "nil");
}

#[test]
fn atomic_block_traps() {
    let cases: Vec<(Vec<Instr>, TrapKind, u32)> = vec![
        (vec![Instr::AtomicEnd {}, ret(0)], TrapKind::UnbalancedAtomic, 0),
        (vec![Instr::AtomicBegin {}, Instr::AtomicEnd {}, Instr::AtomicEnd {}, ret(0)], TrapKind::UnbalancedAtomic, 2),
        (vec![Instr::AtomicBegin {}, ret(0)], TrapKind::UnbalancedAtomic, 1),
        (
            vec![
                Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) },
                Instr::AtomicBegin {},
                Instr::Join { dst: r(0), thread: r(0) },
                ret(0),
            ],
            TrapKind::JoinInAtomic,
            2,
        ),
        // The target is checked before the atomic depth.
        (vec![Instr::AtomicBegin {}, Instr::Join { dst: r(0), thread: r(0) }, ret(0)], TrapKind::TypeError, 1),
    ];
    for (code, kind, pc) in cases {
        let mut b = Builder::new();
        b.func("main", 0, 1, code);
        b.func("child", 0, 1, vec![ret(0)]);
        assert_trap(&run(&b.build()), kind, "0", "main", pc);
    }
    // A block may span calls and returns; only the root's return checks the depth.
    let mut b = Builder::new();
    b.func("main", 0, 1, vec![call(0, FuncIdx(1), &[]), Instr::AtomicEnd {}, ret(0)]);
    b.func("opens", 0, 1, vec![Instr::AtomicBegin {}, ldi(0, 2), ret(0)]);
    assert_eq!(finished(&run(&b.build())), "2");
    // A spawned thread that ends inside a block traps in that thread, at its ret.
    let mut b = Builder::new();
    main_spawns_and_joins_function_1(&mut b);
    b.func("child", 0, 1, vec![Instr::AtomicBegin {}, ret(0)]);
    let message = assert_trap(&run(&b.build()), TrapKind::ThreadTrapped, "0", "main", 1);
    assert_eq!(message.as_deref(), Some("unbalanced_atomic"));
}

/// main publishes the handles of `n` children (spawned inside one atomic block, so before any
/// child runs) in an array; child k joins the handle at `targets[k]`; main joins child 0.
fn joiners(targets: &[i64]) -> Module {
    let mut b = Builder::new();
    let mut code = vec![ldi(1, targets.len() as i64), Instr::ANew { dst: r(0), len: r(1) }, Instr::AtomicBegin {}];
    for (k, &target) in targets.iter().enumerate() {
        code.push(ldi(1, target));
        code.push(Instr::Spawn { dst: r(2), func: FuncIdx(1), args: args(&[0, 1]) });
        code.push(ldi(1, k as i64));
        code.push(Instr::ASet { arr: r(0), idx: r(1), src: r(2) });
        if k == 0 {
            code.push(Instr::Mov { dst: r(3), src: r(2) });
        }
    }
    code.push(Instr::AtomicEnd {});
    code.push(Instr::Join { dst: r(3), thread: r(3) });
    code.push(ret(3));
    b.func("main", 0, 4, code);
    b.func(
        "child",
        2,
        3,
        vec![Instr::AGet { dst: r(2), arr: r(0), idx: r(1) }, Instr::Join { dst: r(2), thread: r(2) }, ret(2)],
    );
    b.build()
}

#[test]
fn deadlocks() {
    // A thread joining itself; each blocked thread is reported at its `join`, with the thread
    // it waits for.
    let o = run(&joiners(&[0]));
    assert_eq!(deadlock_of(&o), vec!["0 at main 9 joins 0.0", "0.0 at child 1 joins 0.0"]);
    // Two threads joining each other.
    let m = joiners(&[1, 0]);
    let o = run(&m);
    let want = vec!["0 at main 13 joins 0.0", "0.0 at child 1 joins 0.1", "0.1 at child 1 joins 0.0"];
    assert_eq!(deadlock_of(&o), want);
    // Under every seed too, and the recorded schedule of a deadlock replays.
    for seed in 0..8 {
        let o = with_scheduler(&m, Scheduler::Seed(seed)).expect("run");
        assert_eq!(deadlock_of(&o), want);
        assert_eq!(replay(&m, &o.schedule.to_text()).expect("replay"), o);
    }
}

#[test]
fn thread_limit() {
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        4,
        vec![
            ldi(0, 0),
            ldi(1, 1),
            ldi(2, MAX_THREADS as i64),
            Instr::Spawn { dst: r(3), func: FuncIdx(1), args: args(&[]) },
            Instr::Add { dst: r(0), a: r(0), b: r(1) },
            jmp(3),
        ],
    );
    b.func("noop", 0, 1, vec![ret(0)]);
    let o = run(&b.build());
    assert_trap(&o, TrapKind::ThreadLimit, "0", "main", 3);
    let threads: std::collections::BTreeSet<String> = o.schedule.entries.iter().map(|e| e.thread.to_string()).collect();
    // main and the MAX_THREADS - 1 children it could spawn.
    assert_eq!(threads.len(), MAX_THREADS as usize);
}

#[test]
fn replay_divergence_errors() {
    let m = printers();
    let recorded = run(&m).schedule.to_text();
    let cases: Vec<(String, usize, &str)> = vec![
        ("lockstep-schedule 1\n0 1\n0.5 1\n".into(), 2, "thread 0.5 does not exist"),
        // A child of a thread that has spawned none (a name is a path through the spawns).
        ("lockstep-schedule 1\n0 1\n0.0.0 1\n".into(), 2, "thread 0.0.0 does not exist"),
        ("lockstep-schedule 1\n0 1\n0 1\n0 1\n".into(), 3, "thread 0 cannot run: it is blocked in a join"),
        ("lockstep-schedule 1\n0 1\n0.0 4\n0.0 1\n".into(), 3, "thread 0.0 cannot run: it has returned"),
        ("lockstep-schedule 1\n0 1\n0.0 5\n".into(), 2, "thread 0.0 ended after 4 of the 5 segments"),
        ("lockstep-schedule 1\n0 1\n".into(), 2, "the schedule ended but the run did not"),
        ("lockstep-schedule 1\n".into(), 1, "the schedule ended but the run did not"),
        (format!("{recorded}0.0 1\n0 2\n"), 13, "the run ended but 2 schedule entries are left"),
        // main ends before its entry's count is used up.
        (
            format!("{}0 2\n", recorded.strip_suffix("0 1\n").unwrap_or("")),
            12,
            "thread 0 ended after 1 of the 2 segments",
        ),
    ];
    for (schedule, entry, needle) in cases {
        match replay(&m, &schedule) {
            Err(e @ RunError::ScheduleDiverged { entry: got, .. }) => {
                assert_eq!(got, entry, "{schedule}: {e}");
                let shown = e.to_string();
                assert!(shown.starts_with(&format!("schedule diverged at entry {entry}: ")), "{shown}");
                assert!(shown.contains(needle), "{shown} lacks {needle}");
            }
            Err(e) => panic!("{schedule}: {e} instead of diverging"),
            Ok(o) => panic!("{schedule} replayed without diverging: {o:?}"),
        }
    }
    // Names no file can hold (the parser accepts only `0(.N)*`), in a `Schedule` built in code.
    for (path, shown) in [(vec![1], "thread 1 does not exist"), (vec![], "thread  does not exist")] {
        let schedule = Schedule { entries: vec![ScheduleEntry { thread: ThreadId(path), segments: 1 }] };
        match with_scheduler(&m, Scheduler::Replay(schedule)) {
            Err(RunError::ScheduleDiverged { entry: 1, message }) => assert!(message.contains(shown), "{message}"),
            other => panic!("expected a divergence at entry 1, got {other:?}"),
        }
    }
    // A deadlocked run: asking for one more segment of the last entry diverges at that entry.
    let m = joiners(&[0]);
    let mut recorded = run(&m).schedule;
    let last = recorded.entries.len();
    if let Some(e) = recorded.entries.last_mut() {
        e.segments += 1;
    }
    match with_scheduler(&m, Scheduler::Replay(recorded)) {
        Err(RunError::ScheduleDiverged { entry, message }) => {
            assert_eq!(entry, last, "{message}");
            assert!(message.contains("1 segment(s) of this entry not run"), "{message}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    // An entry split over two lines is the same schedule.
    let mut b = Builder::new();
    b.func("main", 0, 1, vec![ldi(0, 1), Instr::Print { src: r(0) }, Instr::Print { src: r(0) }, ret(0)]);
    let m = b.build();
    let o = run(&m);
    assert_eq!(o.schedule.to_text(), "lockstep-schedule 1\n0 3\n");
    let split = replay(&m, "lockstep-schedule 1\n0 1\n# a comment\n0 2\n").expect("replay");
    assert_eq!(split, o);
}

/// Adds `main`, which spawns function 1 with no arguments, joins it and returns its result.
fn main_spawns_and_joins_function_1(b: &mut Builder) {
    b.func(
        "main",
        0,
        1,
        vec![
            Instr::Spawn { dst: r(0), func: FuncIdx(1), args: args(&[]) },
            Instr::Join { dst: r(0), thread: r(0) },
            ret(0),
        ],
    );
}

/// [exec.trap-report] The reference reports a trap's presentation: the call stack, innermost
/// first at each call instruction, and for `thread_trapped` the joined thread's whole report,
/// down a chain of joins.
#[test]
fn a_trap_reports_its_call_stack_and_the_joined_threads_trap() {
    let source = "\
func bad(x) {
    local s
    ldk s, \"s\"
    add x, x, s
    ret x
}
func middle(x) {
    nop
    call x, bad, (x)
    ret x
}
func child(x) {
    call x, middle, (x)
    ret x
}
func relay(x) {
    local t
    spawn t, child, (x)
    join x, t
    ret x
}
func main() {
    local t, x
    ldi x, 1
    spawn t, relay, (x)
    join x, t
    ret x
}
";
    let module = lockstep_spec::asm::assemble(source, "t.lsa").unwrap().module;
    let module = lockstep_spec::verify::verify(module).unwrap();
    let outcome = crate::run(&module, &Config::default()).unwrap();
    let End::Trapped(main) = &outcome.end else { panic!("{}", outcome.to_json()) };
    let frames = |t: &lockstep_spec::outcome::TrapInfo| -> Vec<(String, u32)> {
        t.callers.as_ref().unwrap().iter().map(|f| (f.function_name.clone(), f.pc)).collect()
    };
    assert_eq!((main.kind, main.function_name.as_str(), main.pc), (TrapKind::ThreadTrapped, "main", 2));
    assert_eq!(frames(main), vec![]);
    let relay = main.joined.as_ref().expect("main joined relay");
    assert_eq!((relay.kind, relay.thread.to_string(), relay.pc), (TrapKind::ThreadTrapped, "0.0".into(), 1));
    let child = relay.joined.as_ref().expect("relay joined child");
    assert_eq!((child.kind, child.thread.to_string()), (TrapKind::TypeError, "0.0.0".to_string()));
    assert_eq!((child.function_name.as_str(), child.pc), ("bad", 1));
    assert_eq!(frames(child), vec![("middle".to_string(), 1), ("child".to_string(), 0)]);
    assert!(child.joined.is_none());
}
