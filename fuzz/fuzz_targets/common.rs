//! What every target shares: periodic statistics on stderr, so that a target wasting its
//! inputs (all rejected, all trapping at once) shows during a campaign.

#![allow(dead_code)]

use lockstep_tests::smith::Stats;
use std::sync::Mutex;

/// Inputs between two statistics lines.
pub const EVERY: u64 = 4096;

/// For the format targets: how many inputs were valid.
/// "Valid" means the input loads and verifies; `fuzz/run` reports the last line's share.
pub struct Counter {
    inputs: u64,
    valid: u64,
    /// For `loader_structured`: inputs whose mutations changed the module, and how many of
    /// those were still valid (an unchanged module is valid by construction, so this is the
    /// honest share).
    changed: u64,
    changed_valid: u64,
}

pub static COUNTER: Mutex<Counter> = Mutex::new(Counter { inputs: 0, valid: 0, changed: 0, changed_valid: 0 });

pub fn count(target: &str, valid: bool) {
    let mut c = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    c.inputs += 1;
    c.valid += u64::from(valid);
    if c.inputs.is_multiple_of(EVERY) {
        eprintln!("#stats {target}: {} inputs, valid {:.1}%", c.inputs, percent(c.valid, c.inputs));
    }
}

/// `count` for a target that mutates a valid module: also counts the inputs it changed.
pub fn count_mutated(target: &str, valid: bool, changed: bool) {
    let mut c = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    c.inputs += 1;
    c.valid += u64::from(valid);
    c.changed += u64::from(changed);
    c.changed_valid += u64::from(changed && valid);
    // A slower target (it generates a program per input): a line every few seconds.
    if c.inputs.is_multiple_of(512) {
        eprintln!(
            "#stats {target}: {} inputs, valid {:.1}%; changed by the mutations {:.1}%, of which valid {:.1}%",
            c.inputs,
            percent(c.valid, c.inputs),
            percent(c.changed, c.inputs),
            percent(c.changed_valid, c.changed)
        );
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// For the differential targets: the outcome mix.
pub static STATS: Mutex<Option<Stats>> = Mutex::new(None);

/// `every`: runs between two lines (the threads target is slow: every few hundred).
pub fn record(target: &str, every: u64, f: impl FnOnce(&mut Stats)) {
    let mut guard = STATS.lock().unwrap_or_else(|e| e.into_inner());
    let stats = guard.get_or_insert_with(Stats::default);
    f(stats);
    if stats.runs.is_multiple_of(every) {
        eprintln!("#stats {target}: valid 100% (generated); {stats}");
    }
}
