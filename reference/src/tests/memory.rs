//! [limit.memory]: the heap limit holds inside a segment too.

use super::*;

/// An atomic block is one segment however long it runs: one that allocates 100 arrays of 64 KiB
/// under a 1 MiB limit must stop with the out-of-memory error, even though it lets them all go
/// before it ends (so a check between segments alone would never see them).
#[test]
fn the_heap_limit_holds_inside_an_atomic_block() {
    let mut b = Builder::new();
    b.func(
        "main",
        0,
        6,
        vec![
            ldi(0, 0),
            ldi(1, 1),
            ldi(2, 4096),
            Instr::ANew { dst: r(3), len: r(0) },
            Instr::AtomicBegin {},
            // 5: the loop
            Instr::ANew { dst: r(4), len: r(2) },
            Instr::APush { arr: r(3), src: r(4) },
            Instr::Add { dst: r(0), a: r(0), b: r(1) },
            ldi(5, 100),
            Instr::Lt { dst: r(5), a: r(0), b: r(5) },
            Instr::JmpIf { cond: r(5), target: Label(5) },
            Instr::LdNil { dst: r(3) },
            Instr::LdNil { dst: r(4) },
            Instr::AtomicEnd {},
            ret(0),
        ],
    );
    let module = b.build();
    let limit = 1 << 20;
    let config = Config { max_heap_bytes: limit, ..Config::default() };
    assert_eq!(run_module(&module, &config).unwrap_err(), RunError::OutOfMemory { limit_bytes: limit });
    // With room for all of it, the same program finishes.
    let config = Config { max_heap_bytes: 16 << 20, ..Config::default() };
    assert_eq!(finished(&run_config(&module, &config)), "100");
}

/// Freeing a chain through the work list must release every link's whole count: 100 lists of
/// 10,000 nodes, each dropped before the next is built, live at most 480 KB at a time, must fit in
/// 4 MiB. (Links freed from the work list used to be released without their fields, 16 bytes
/// each, so the count grew by 160 KB per list until the run stopped as out of memory.)
#[test]
fn freed_chains_release_their_whole_count() {
    let mut b = Builder::new();
    let node = b.class("Node", None, &["next"], &[]);
    let next = lockstep_spec::FieldRef { class: node, slot: 0 };
    b.func(
        "main",
        0,
        6,
        vec![
            ldi(0, 0),
            ldi(1, 1),
            Instr::LdNil { dst: r(2) },
            // 3: a new list
            ldi(3, 0),
            // 4: a new node at its head
            Instr::New { dst: r(4), class: node },
            Instr::SetF { obj: r(4), field: next, src: r(2) },
            Instr::Mov { dst: r(2), src: r(4) },
            Instr::Add { dst: r(3), a: r(3), b: r(1) },
            ldi(5, 10_000),
            Instr::Lt { dst: r(5), a: r(3), b: r(5) },
            Instr::JmpIf { cond: r(5), target: Label(4) },
            // The list is dropped.
            Instr::LdNil { dst: r(2) },
            Instr::LdNil { dst: r(4) },
            Instr::Add { dst: r(0), a: r(0), b: r(1) },
            ldi(5, 100),
            Instr::Lt { dst: r(5), a: r(0), b: r(5) },
            Instr::JmpIf { cond: r(5), target: Label(3) },
            ret(0),
        ],
    );
    let config = Config { max_heap_bytes: 4 << 20, ..Config::default() };
    assert_eq!(finished(&run_config(&b.build(), &config)), "100");
}

/// Frames count against the heap limit: 2,000 nested calls of a function with 1,024 registers
/// hold 32 MB of registers, more than an 8 MiB limit allows (uncounted, recursion in many threads
/// could take the host's memory past any limit).
#[test]
fn frames_count_against_the_heap_limit() {
    let mut b = Builder::new();
    let rec = FuncIdx(0);
    b.func(
        "rec",
        1,
        1024,
        vec![
            ldi(1, 0),
            Instr::Le { dst: r(2), a: r(0), b: r(1) },
            Instr::JmpIf { cond: r(2), target: Label(7) },
            ldi(1, 1),
            Instr::Sub { dst: r(1), a: r(0), b: r(1) },
            call(1, rec, &[1]),
            ret(1),
            ret(0),
        ],
    );
    b.func("main", 0, 1, vec![ldi(0, 2000), call(0, rec, &[0]), ret(0)]);
    let module = b.build();
    let limit = 8 << 20;
    let config = Config { max_heap_bytes: limit, ..Config::default() };
    assert_eq!(run_module(&module, &config).unwrap_err(), RunError::OutOfMemory { limit_bytes: limit });
    // With room for the frames, the same recursion returns.
    let config = Config { max_heap_bytes: 64 << 20, ..Config::default() };
    assert_eq!(finished(&run_config(&module, &config)), "0");
}
