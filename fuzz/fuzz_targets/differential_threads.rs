//! A generated multithreaded program: the optimized engine's recorded schedule replayed on the
//! reference gives the same outcome, and the reference under two schedule seeds drawn from the
//! input ends in a defined outcome that replaying its own schedule reproduces
//! (`oracle::threads_agree`, which also runs the `--stm=off` engines, JIT included, against the
//! reference's round-robin run). Then the parallel engine runs again with the JIT forced
//! (`JitMode::Always`, and `JitMode::Stress` with the input's seed): the default `JitMode::On`
//! compiles only hot functions, which a short generated program seldom has, so without this
//! compiled code would rarely run with its barriers while another thread is live. Each of
//! those runs must agree with its schedule replayed on the reference.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockstep_optimized::{Config, JitMode};
use lockstep_tests::smith::{self, oracle, Options};
use lockstep_tests::{replay_on_reference, RunSettings};
use std::panic::AssertUnwindSafe;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let seed = data.iter().take(8).fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let g = smith::generate(&mut arbitrary::Unstructured::new(data), Options::THREADED);
    let Ok(module) = lockstep_spec::verify::verify(g.module.clone()) else {
        panic!("smith made an invalid module");
    };
    let program = oracle::program(&module);
    let settings = RunSettings { fuel: Some(g.fuel), ..RunSettings::default() };
    let fail = |e: String| -> ! { panic!("{e}\nfuel {}\n{}", g.fuel, lockstep_spec::disasm::disassemble(&g.module)) };
    let outcomes = match oracle::threads_agree(&program, &settings, seed, 2) {
        Ok(oracle::Verdict::Agreed(outcomes)) => outcomes,
        Ok(oracle::Verdict::HostLimit) => {
            return common::record("differential_threads", 256, |s| s.record_host_error());
        }
        Err(e) => fail(e),
    };
    for jit in [JitMode::Always, JitMode::Stress(seed)] {
        let config = Config { fuel: g.fuel, jit, ..Config::default() };
        let optimized = match std::panic::catch_unwind(AssertUnwindSafe(|| lockstep_optimized::run(&module, &config))) {
            Ok(Ok(o)) => o,
            // Heap exhaustion (and its kin) is the one divergence the spec allows.
            Ok(Err(_)) => return common::record("differential_threads", 256, |s| s.record_host_error()),
            Err(p) => fail(format!("the parallel engine with {jit:?} panicked: {}", oracle::panic_message(p.as_ref()))),
        };
        replay_on_reference(&program, &settings, &optimized).unwrap_or_else(|e| {
            fail(format!(
                "the parallel engine with {jit:?}: its schedule replayed on the reference differs\n{e}\nschedule:\n{}",
                optimized.schedule.to_text()
            ))
        });
    }
    common::record("differential_threads", 256, |s| outcomes.iter().for_each(|o| s.record(o)));
});
