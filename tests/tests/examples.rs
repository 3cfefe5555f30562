//! Every example runs to completion on every engine and prints exactly its `NAME.stdout`;
//! every example survives the round trip asm -> lsb -> disasm -> asm with identical bytes.
//!
//! The multithreaded examples print the same under every schedule by construction (each says
//! why in its header), so their `.stdout` holds on every engine, the parallel one included; on
//! top of that, each run of one of them must pass the schedule-replay oracle (the reference,
//! replaying the schedule the engine recorded, reaches the identical outcome).

use lockstep_spec::outcome::End;
use lockstep_tests::{example_programs, load, Engine, RunSettings};

mod common;
use common::{replays_on_reference, spawns};

#[test]
fn examples_print_their_expected_output_on_every_engine() {
    let examples = example_programs();
    assert!(examples.len() >= 10, "expected the ten examples, found {}", examples.len());
    for path in &examples {
        let expected_path = path.with_extension("stdout");
        let expected = std::fs::read(&expected_path)
            .unwrap_or_else(|e| panic!("{} has no expected output: {e}", expected_path.display()));
        let program = load(path);
        for &engine in Engine::ALL {
            let outcome = engine.run(&program, &[]);
            assert!(
                matches!(outcome.end, End::Finished { .. }),
                "{} on {engine:?} did not finish: {}",
                path.display(),
                outcome.to_json()
            );
            assert_eq!(
                String::from_utf8_lossy(&outcome.stdout),
                String::from_utf8_lossy(&expected),
                "{} on {engine:?}",
                path.display()
            );
            if spawns(&program) {
                let name = format!("{}-{engine:?}", path.file_stem().unwrap().to_string_lossy());
                replays_on_reference(&program, &RunSettings::default(), &outcome, &name)
                    .unwrap_or_else(|e| panic!("{} on {engine:?}: {e}", path.display()));
            }
        }
    }
}

#[test]
fn examples_round_trip_through_binary_and_disassembly_with_identical_bytes() {
    for path in example_programs() {
        let program = load(&path);
        let bytes = lockstep_spec::encode::encode(program.module.module());
        let decoded = lockstep_spec::decode::decode(&bytes)
            .unwrap_or_else(|e| panic!("{}: encoded module does not decode: {e}", path.display()));
        assert_eq!(&decoded, program.module.module(), "{}: decode(encode(m)) != m", path.display());
        let text = lockstep_spec::disasm::disassemble(&decoded);
        let again = lockstep_spec::asm::assemble(&text, "disassembly.lsa")
            .unwrap_or_else(|e| panic!("{}: disassembly does not assemble:\n{e}\n{text}", path.display()));
        let bytes_again = lockstep_spec::encode::encode(&again.module);
        assert!(bytes == bytes_again, "{}: asm -> lsb -> disasm -> asm changed the bytes", path.display());
    }
}
