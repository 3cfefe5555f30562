//! Any bytes given to the loader (decode, then verify) give a module or an error, never a
//! panic, hang or huge allocation. A module that loads re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(module) = lockstep_spec::decode::decode(data) {
        assert_eq!(lockstep_spec::encode::encode(&module), data, "decode then encode changed the bytes");
        common::count("loader", lockstep_spec::verify::verify(module).is_ok());
    } else {
        common::count("loader", false);
    }
});
