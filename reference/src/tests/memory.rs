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
