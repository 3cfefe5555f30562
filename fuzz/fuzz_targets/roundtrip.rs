//! For every module that loads and verifies: disassemble, assemble again, encode: the bytes
//! must be the ones we started from.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let verified = lockstep_spec::decode::decode(data).ok().and_then(|m| lockstep_spec::verify::verify(m).ok());
    common::count("roundtrip", verified.is_some());
    let Some(verified) = verified else { return };
    let text = lockstep_spec::disasm::disassemble(verified.module());
    let again = lockstep_spec::asm::assemble(&text, "roundtrip.lsa")
        .unwrap_or_else(|e| panic!("disassembly does not re-assemble: {e}\n{text}"));
    assert_eq!(lockstep_spec::encode::encode(&again.module), data, "round trip changed the bytes");
});
