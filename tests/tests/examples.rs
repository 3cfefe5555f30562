//! Every example runs to completion on every engine and prints exactly its `NAME.stdout`;
//! every example survives the round trip asm -> lsb -> disasm -> asm with identical bytes.

use lockstep_spec::outcome::End;
use lockstep_tests::{example_programs, load, Engine};

#[test]
fn examples_print_their_expected_output_on_every_engine() {
    let examples = example_programs();
    assert!(examples.len() >= 7, "expected the seven examples, found {}", examples.len());
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
