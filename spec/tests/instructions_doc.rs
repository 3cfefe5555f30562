//! The committed `spec/instructions.md` must equal what the instruction table generates.

#[test]
fn instructions_md_matches_the_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("instructions.md");
    let generated = lockstep_spec::doc::instructions_markdown();
    if std::env::var_os("LOCKSTEP_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "spec/instructions.md is out of date with spec/src/isa.rs; regenerate it with\n  \
         LOCKSTEP_BLESS=1 cargo test -p lockstep-spec --test instructions_doc"
    );
}
