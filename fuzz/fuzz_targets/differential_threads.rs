//! A generated multithreaded program: the optimized engine's recorded schedule replayed on the
//! reference gives the same outcome, and the reference under two schedule seeds drawn from the
//! input ends in a defined outcome that replaying its own schedule reproduces.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockstep_tests::smith::{self, oracle, Options};
use lockstep_tests::RunSettings;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let seed = data.iter().take(8).fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let g = smith::generate(&mut arbitrary::Unstructured::new(data), Options::THREADED);
    let Ok(module) = lockstep_spec::verify::verify(g.module.clone()) else {
        panic!("smith made an invalid module");
    };
    let settings = RunSettings { fuel: Some(g.fuel), ..RunSettings::default() };
    match oracle::threads_agree(&oracle::program(&module), &settings, seed, 2) {
        Ok(oracle::Verdict::Agreed(outcomes)) => {
            common::record("differential_threads", 256, |s| outcomes.iter().for_each(|o| s.record(o)))
        }
        Ok(oracle::Verdict::HostLimit) => common::record("differential_threads", 256, |s| s.record_host_error()),
        Err(e) => panic!("{e}\nfuel {}\n{}", g.fuel, lockstep_spec::disasm::disassemble(&g.module)),
    }
});
