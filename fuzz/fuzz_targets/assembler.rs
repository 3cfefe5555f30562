//! Any text given to the assembler gives a module or an error with a position, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let mut valid = false;
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(assembly) = lockstep_spec::asm::assemble(text, "fuzz.lsa") {
            valid = lockstep_spec::verify::verify(assembly.module).is_ok();
        }
    }
    common::count("assembler", valid);
});
