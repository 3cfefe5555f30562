//! `send` where the optimized engine's method caches could answer wrongly: a megamorphic site
//! consults one global, direct-mapped method cache (`optimized/src/inline_cache.rs`, 1024
//! entries keyed by class and selector), and a program with more than 1024 classes or method
//! names makes two (class, selector) pairs share an entry. Only an entry with the same class
//! *and* the same selector may answer ([exec.send], [exec.method-lookup]); this program meets an
//! entry of the same selector on another class and one of the same class with another selector.
//!
//! The program is generated (it declares 1025 classes and 1025 method names): class `Base` is
//! class 0 and `Odd` class 1024, and `Base`'s methods make `who` selector 0 and `far` selector
//! 1024, so both pairs collide under the cache's hash whatever the multiplier, as long as the
//! table has 1024 entries (`inline_cache::tests::the_send_caches_suite_collides` checks it).
//! Every engine must print what the method lookup gives, and agree with the reference in
//! everything.

use lockstep_spec::outcome::End;
use lockstep_spec::program::load_program;
use lockstep_tests::Engine;
use std::fmt::Write;

/// Classes between `Base` (class 0) and `Odd` (class 1024), each a subclass of `Base` without
/// methods of its own.
const FILLER_CLASSES: usize = 1023;
/// Method names of `Base` between `who` (selector 0) and `far` (selector 1024).
const FILLER_METHODS: usize = 1023;

/// Which method answers a send, and the letter it returns.
#[derive(Clone, Copy)]
enum Class {
    Base,
    Filler(usize),
    Odd,
}

impl Class {
    fn name(self) -> String {
        match self {
            Class::Base => "Base".into(),
            Class::Filler(i) => format!("K{i}"),
            Class::Odd => "Odd".into(),
        }
    }
}

/// The letter `send NAME` on an instance of `class` returns: `Odd` overrides `who` only.
fn answer(selector: &str, class: Class) -> char {
    match (selector, class) {
        ("who", Class::Odd) => 'O',
        ("who", _) => 'B',
        _ => 'F',
    }
}

/// The sends main makes, in order: (selector, receiver class). Five classes make each of the
/// two sites megamorphic; then the global cache decides.
fn sends() -> Vec<(&'static str, Class)> {
    let five = [Class::Base, Class::Filler(1), Class::Filler(2), Class::Filler(3), Class::Filler(4)];
    let mut s: Vec<(&str, Class)> = Vec::new();
    s.extend(five.iter().map(|&c| ("who", c)));
    s.extend(five.iter().map(|&c| ("far", c)));
    // The entry (Base, who) is cached, then (Odd, who) shares it: same selector, other class.
    s.extend([("who", Class::Base), ("who", Class::Odd)]);
    // And back: (Base, who) meets the entry (Odd, who); then (Base, far) meets (Base, who): same
    // class, other selector.
    s.extend([("who", Class::Base), ("far", Class::Base)]);
    s
}

fn program_text() -> String {
    let mut t = String::new();
    t.push_str("class Base {\n    method who Base_who\n");
    for i in 1..=FILLER_METHODS {
        let _ = writeln!(t, "    method n{i} Base_who");
    }
    t.push_str("    method far Base_far\n}\n");
    for i in 1..=FILLER_CLASSES {
        let _ = writeln!(t, "class K{i} : Base {{\n}}");
    }
    t.push_str("class Odd : Base {\n    method who Odd_who\n}\n");
    for (f, letter) in [("Base_who", 'B'), ("Base_far", 'F'), ("Odd_who", 'O')] {
        let _ = writeln!(t, "func {f}(self) {{\n    local s\n    ldk s, \"{letter}\"\n    ret s\n}}");
    }
    // One send site per selector, each in its own function.
    for sel in ["who", "far"] {
        let _ =
            writeln!(t, "func ask_{sel}(o) {{\n    local s\n    send s, o, \"{sel}\", ()\n    print s\n    ret s\n}}");
    }
    t.push_str("func main() {\n    local o, r\n");
    for (sel, class) in sends() {
        let _ = writeln!(t, "    new o, {}\n    call r, ask_{sel}, (o)", class.name());
    }
    t.push_str("    ret r\n}\n");
    t
}

#[test]
fn colliding_entries_of_the_global_method_cache_never_answer_for_another_class_or_selector() {
    let text = program_text();
    let program = load_program(text.as_bytes(), "send_caches.lsa").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(program.module.module().classes.len(), FILLER_CLASSES + 2);
    let expected: String = sends().iter().map(|&(sel, class)| answer(sel, class)).collect();
    let reference = Engine::Reference.run(&program, &[]);
    for &engine in Engine::ALL {
        let outcome = engine.run(&program, &[]);
        assert_eq!(String::from_utf8_lossy(&outcome.stdout), expected, "{engine:?}");
        assert!(
            matches!(&outcome.end, End::Finished { value } if *value == lockstep_spec::outcome::Value::Str(b"F".to_vec())),
            "{engine:?}: {:?}",
            outcome.end
        );
        assert_eq!(outcome, reference, "{engine:?} and the reference");
    }
}

/// `--stats` counts the program's send sites, the state each site ended in, and one hit or miss
/// per send: here two sites, both megamorphic, and one lookup per send of `sends()`; with
/// `--stm=off` and in a parallel run (which adds up its threads' figures).
#[test]
fn the_stats_count_every_send_site_its_state_and_every_lookup() {
    let text = program_text();
    let program = load_program(text.as_bytes(), "send_caches.lsa").unwrap_or_else(|e| panic!("{e}"));
    for stm in [false, true] {
        let config = lockstep_optimized::Config {
            stats: true,
            stm,
            jit: lockstep_optimized::JitMode::Off,
            ..lockstep_optimized::Config::default()
        };
        let report = lockstep_optimized::run_with_stats(&program.module, &config).expect("runs");
        let ic = report.stats.expect("stats were asked for").inline_caches;
        let states = (ic.sites, ic.megamorphic, ic.uninitialized + ic.monomorphic + ic.polymorphic);
        assert_eq!(states, (2, 2, 0), "stm {stm}: {ic:?}");
        assert_eq!(ic.hits + ic.misses, sends().len() as u64, "stm {stm}: {ic:?}");
    }
}

/// A send that a tier-2 region makes (`tier2/`, `Tr::send`: the class table's methods called
/// directly) counts a hit at its site as the interpreter's and tier 1's sends do, so every send
/// is one hit or one miss on each engine. The program is the conformance case
/// `x-calls-a-compiled-loop-sends-to-methods-of-four-classes` (500 sends: 400 of `area`, 100
/// of `base`).
#[test]
fn a_send_from_compiled_code_counts_one_hit_or_miss() {
    let path = lockstep_tests::repo_root().join("tests/conformance/exec-calls.lsc");
    let text = std::fs::read_to_string(&path).unwrap();
    let cases = lockstep_tests::script::parse(&text, "exec-calls.lsc").unwrap_or_else(|e| panic!("{e:?}"));
    let case =
        cases.iter().find(|c| c.name == "x-calls-a-compiled-loop-sends-to-methods-of-four-classes").expect("the case");
    let lockstep_tests::script::Input::Text(source) = &case.input else { panic!("a text program") };
    let program = load_program(source.as_bytes(), "sends.lsa").unwrap_or_else(|e| panic!("{e}"));
    use lockstep_optimized::JitMode;
    for jit in [JitMode::Off, JitMode::Always, JitMode::OptAlways] {
        let config =
            lockstep_optimized::Config { stats: true, stm: false, jit, ..lockstep_optimized::Config::default() };
        let report = lockstep_optimized::run_with_stats(&program.module, &config).expect("runs");
        let stats = report.stats.expect("stats were asked for");
        let ic = &stats.inline_caches;
        assert_eq!(ic.hits + ic.misses, 500, "{jit:?}: {ic:?}");
        if jit == JitMode::OptAlways {
            assert!(stats.jit.region_functions >= 4, "{:?}", stats.jit);
        }
    }
}
