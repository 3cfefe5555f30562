//! `load_program`: formats recognised by content, and each kind of load error.

use lockstep_spec::program::{load_program, Format, LoadError};

fn examples() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lsa"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_loads_as_text_and_as_binary() {
    let all = examples();
    assert!(all.len() >= 7);
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        let text = load_program(&bytes, "x.lsb").unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
        assert_eq!(text.format, Format::Text);
        assert!(text.source_map.is_some());
        let binary = lockstep_spec::encode::encode(text.module.module());
        let again = load_program(&binary, "x.lsa").unwrap();
        assert_eq!(again.format, Format::Binary);
        assert!(again.source_map.is_none());
        assert_eq!(again.module.module(), text.module.module());
    }
}

#[test]
fn each_load_error_says_what_went_wrong() {
    let cases: [(&[u8], &str); 4] = [
        (b"\0lsb\x02\0\0\0", "malformed module at byte"),
        (&[0xff, 0xfe, 0x41], "not UTF-8 text (invalid byte at offset 0x0)"),
        (b"func main() {\n  frob r0\n}\n", "p.lsa:2:3"),
        (b"func main() {\n  ret r0\n}\nfunc main2(a) {\n  call r0, main, (a)\n  ret a\n}\n", "[verify.call-arity]"),
    ];
    for (input, fragment) in cases {
        let err = load_program(input, "p.lsa").unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(fragment), "{shown}");
        let kind_matches = match &err {
            LoadError::Decode(_) => fragment.starts_with("malformed"),
            LoadError::NotText { .. } => fragment.starts_with("not UTF-8"),
            LoadError::Asm(_) => fragment.starts_with("p.lsa"),
            LoadError::Verify(_) => fragment.starts_with("[verify"),
        };
        assert!(kind_matches, "{err:?}");
    }
}

/// A verifier error on a text program carries the place in the source: the instruction, or the
/// function's name for a rule about the whole function; on a binary program it has none.
#[test]
fn verifier_errors_on_text_point_at_the_source() {
    use lockstep_spec::asm::Span;
    let text = b"func main() {\n  ret r0\n}\nfunc two(a) {\n  call a, main, (a)\n  ret a\n}\n";
    let Err(LoadError::Verify(e)) = load_program(text, "p.lsa") else { panic!("expected a verifier error") };
    assert_eq!((e.rule, e.span), ("verify.call-arity", Some(Span { line: 5, column: 3, width: 17 })));
    let text = b"func main() {\n  ret r0\n}\nfunc two(a) {\n  ldi a, 1\n}\n";
    let Err(LoadError::Verify(e)) = load_program(text, "p.lsa") else { panic!("expected a verifier error") };
    assert_eq!((e.rule, e.span), ("verify.fall-through", Some(Span { line: 5, column: 3, width: 8 })));
    let module = lockstep_spec::asm::assemble(std::str::from_utf8(text).unwrap(), "p.lsa").unwrap().module;
    let Err(LoadError::Verify(e)) = load_program(&lockstep_spec::encode::encode(&module), "p.lsb") else {
        panic!("expected a verifier error")
    };
    assert_eq!((e.rule, e.span), ("verify.fall-through", None));
    // A class rule points at the class's name (a method function of arity 0 has no receiver).
    let text = b"class Point {\n  method get main\n}\nfunc main() {\n  ret r0\n}\n";
    let Err(LoadError::Verify(e)) = load_program(text, "p.lsa") else { panic!("expected a verifier error") };
    let at = Some(Span { line: 1, column: 7, width: 5 });
    assert_eq!((e.rule, e.class, e.span), ("verify.method-function", Some(0), at));
}
