//! The committed `fuzz/loader.dict` must equal what the instruction table, the format's
//! constants and the limits generate (`lockstep_spec::doc::fuzz_dictionary`).

#[test]
fn fuzz_dictionary_matches_the_spec() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/loader.dict");
    let generated = lockstep_spec::doc::fuzz_dictionary();
    if std::env::var_os("LOCKSTEP_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "fuzz/loader.dict is out of date with spec/src; regenerate it with\n  \
         LOCKSTEP_BLESS=1 cargo test -p lockstep-spec --test fuzz_dict"
    );
}

/// The values of the dictionary's entries, read as libFuzzer reads them (`name="..."` with
/// `\xNN` escapes).
fn entries(dict: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for line in dict.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (_, quoted) = line.split_once('=').expect("name=\"value\"");
        let value = quoted.strip_prefix('"').and_then(|v| v.strip_suffix('"')).expect("a quoted value");
        let mut bytes = Vec::new();
        let mut rest = value.as_bytes();
        while let Some((&b, tail)) = rest.split_first() {
            if b == b'\\' {
                let hex = std::str::from_utf8(&tail[1..3]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).expect("a \\xNN escape"));
                rest = &tail[3..];
            } else {
                bytes.push(b);
                rest = tail;
            }
        }
        out.push(bytes);
    }
    out
}

/// Every opcode of the table and the magic are in the dictionary, as the bytes libFuzzer
/// reads, and no value is listed twice.
#[test]
fn fuzz_dictionary_has_every_opcode() {
    let values = entries(&lockstep_spec::doc::fuzz_dictionary());
    for &op in lockstep_spec::Opcode::ALL {
        assert!(values.contains(&vec![op.byte()]), "no entry for {op:?}");
    }
    assert!(values.contains(&lockstep_spec::MAGIC.to_vec()), "no entry for the magic");
    for (i, v) in values.iter().enumerate() {
        assert!(!values[..i].contains(v), "{v:?} listed twice");
    }
}
