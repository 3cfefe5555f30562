//! A generated single-threaded program (`lockstep_tests::smith`) runs on the reference and the
//! optimized engine with the same outcome. On a failure the program is printed as .lsa; the
//! crash file is the reproducer (`cargo +nightly fuzz run differential CRASH`), and belongs in
//! tests/regressions/differential/ once found.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lockstep_tests::smith::{self, oracle, Options};
use lockstep_tests::RunSettings;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let g = smith::generate(&mut arbitrary::Unstructured::new(data), Options::SINGLE);
    let Ok(module) = lockstep_spec::verify::verify(g.module.clone()) else {
        panic!("smith made an invalid module");
    };
    let settings = RunSettings { fuel: Some(g.fuel), ..RunSettings::default() };
    match oracle::engines_agree(&oracle::program(&module), &settings) {
        Ok(oracle::Verdict::Agreed(outcomes)) => {
            common::record("differential", common::EVERY, |s| outcomes.iter().for_each(|o| s.record(o)))
        }
        Ok(oracle::Verdict::HostLimit) => common::record("differential", common::EVERY, |s| s.record_host_error()),
        Err(e) => panic!("{e}\nfuel {}\n{}", g.fuel, lockstep_spec::disasm::disassemble(&g.module)),
    }
});
