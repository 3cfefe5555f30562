//! A generated single-threaded program runs on the reference and on the optimized engine with
//! the baseline JIT forced, in each flavour (`--stm=off`, a thread alone, with barriers), as
//! `JitMode::Always` and as `JitMode::Stress(seed)` with the seed from the input (compiled code
//! leaves before a pseudo-random quarter of the ops and resumes after them), and with tier 2 as
//! `JitMode::OptAlways` and `JitMode::OptStress(seed)` (its loops also leave before a quarter of their
//! ops, and each guard fails once). Every outcome must
//! be the reference's, judged as `differential` judges: same behaviour (stdout, end, a trap's
//! location, message and detail) and the same schedule. The collection threshold also comes
//! from the input: tiny makes the collector run at nearly every safepoint around compiled code.
//!
//! A crash file is the reproducer (`cargo +nightly fuzz run differential_jit CRASH`). The
//! regression replay of `tests/regressions/` does not run the JIT flavours yet (fuzz/README.md,
//! "Crashes"): keep the program the failure prints as a test of its own.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockstep_optimized::{Config, JitMode};
use lockstep_tests::smith::{self, oracle, Options};
use lockstep_tests::{Engine, RunSettings};
use std::panic::AssertUnwindSafe;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    // The first bytes choose the stress seed and the collection threshold; they drive the
    // generator as well, which costs nothing (any bytes make a program).
    let seed = data.iter().take(8).fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let gc_threshold_bytes = match data.get(8).map_or(0, |b| b % 4) {
        0 => 0,
        1 => 2048,
        _ => Config::default().gc_threshold_bytes,
    };
    let g = smith::generate(&mut arbitrary::Unstructured::new(data), Options::SINGLE);
    let Ok(module) = lockstep_spec::verify::verify(g.module.clone()) else {
        panic!("smith made an invalid module");
    };
    let settings = RunSettings { fuel: Some(g.fuel), ..RunSettings::default() };
    let reference = oracle::run(Engine::Reference, &oracle::program(&module), &settings)
        .unwrap_or_else(|e| panic!("reference: {e}\n{}", lockstep_spec::disasm::disassemble(&g.module)));
    // (stm, stm_solo): serial, parallel alone, parallel with barriers.
    for (stm, stm_solo) in [(false, true), (true, true), (true, false)] {
        for jit in [JitMode::Always, JitMode::Stress(seed), JitMode::OptAlways, JitMode::OptStress(seed)] {
            let config = Config { fuel: g.fuel, stm, stm_solo, jit, gc_threshold_bytes, ..Config::default() };
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| lockstep_optimized::run(&module, &config)));
            let optimized = match run {
                Ok(Ok(o)) => o,
                // Heap exhaustion (and its kin) is the one divergence the spec allows.
                Ok(Err(_)) => {
                    common::record("differential_jit", 256, |s| s.record_host_error());
                    return;
                }
                Err(p) => panic!(
                    "the optimized engine panicked (stm {stm}, stm_solo {stm_solo}, {jit:?}, gc threshold \
                     {gc_threshold_bytes}): {}\nfuel {}\n{}",
                    oracle::panic_message(p.as_ref()),
                    g.fuel,
                    lockstep_spec::disasm::disassemble(&g.module)
                ),
            };
            if !reference.same_behaviour(&optimized) || reference.schedule != optimized.schedule {
                panic!(
                    "the engines disagree (stm {stm}, stm_solo {stm_solo}, {jit:?}, gc threshold \
                     {gc_threshold_bytes})\nreference: {}\noptimized: {}\nfuel {}\n{}",
                    reference.to_json(),
                    optimized.to_json(),
                    g.fuel,
                    lockstep_spec::disasm::disassemble(&g.module)
                );
            }
        }
    }
    common::record("differential_jit", 256, |s| s.record(&reference));
});
