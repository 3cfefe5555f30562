//! Planted bugs: `mutant!(NAME)` is true when the known bug NAME of `build.rs`'s table is planted.
//! Normal builds (no feature `mutant`) make it the constant `false`, so no trace of any mutant is
//! in their code. With the feature, `LOCKSTEP_MUTANT=NAME` at build time plants it for good
//! (`COMPILED`, a constant), and `LOCKSTEP_RUN_MUTANT=NAME` at run time plants it for one
//! process: `tests/run-mutants` builds once and runs its suites per mutant, which saves a
//! build of the engine per mutant (most of CI's time when each was a build of its own).

include!(concat!(env!("OUT_DIR"), "/mutants.rs"));

/// Whether the planted bug `id` is on (see the module's text).
#[inline(always)]
pub fn on(id: Id) -> bool {
    if COMPILED == Some(id) {
        return true;
    }
    #[cfg(all(feature = "mutant", not(loom)))]
    {
        *RUNTIME == Some(id)
    }
    #[cfg(not(all(feature = "mutant", not(loom))))]
    {
        false
    }
}

/// `LOCKSTEP_RUN_MUTANT`, read once. An unknown name aborts the process: a misspelt mutant
/// must not pass for one the suites caught, so `tests/run-mutants` checks names before it
/// runs anything, and this says why when something else sets one.
#[cfg(all(feature = "mutant", not(loom)))]
static RUNTIME: std::sync::LazyLock<Option<Id>> = std::sync::LazyLock::new(|| {
    let name = std::env::var("LOCKSTEP_RUN_MUTANT").ok().filter(|n| !n.is_empty())?;
    match NAMES.iter().find(|(n, _)| *n == name) {
        Some(&(_, id)) => Some(id),
        None => {
            eprintln!("LOCKSTEP_RUN_MUTANT={name}: no such mutant (optimized/build.rs lists them)");
            std::process::exit(2)
        }
    }
});

/// `mutant!(NAME)`: whether the planted bug NAME is on (a constant `false` in normal builds).
macro_rules! mutant {
    ($name:ident) => {
        $crate::mutant::on($crate::mutant::Id::$name)
    };
}
