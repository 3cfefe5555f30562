//! What every target shares: periodic statistics on stderr, so that a target wasting its
//! inputs (all rejected, all trapping at once) shows during a campaign.

#![allow(dead_code)]

use lockstep_tests::smith::Stats;
use std::sync::Mutex;

/// Inputs between two statistics lines.
pub const EVERY: u64 = 4096;

/// For the format targets: how many inputs were valid.
pub struct Counter {
    inputs: u64,
    valid: u64,
}

pub static COUNTER: Mutex<Counter> = Mutex::new(Counter { inputs: 0, valid: 0 });

pub fn count(target: &str, valid: bool) {
    let mut c = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    c.inputs += 1;
    c.valid += u64::from(valid);
    if c.inputs % EVERY == 0 {
        eprintln!("#stats {target}: {} inputs, valid {:.1}%", c.inputs, 100.0 * c.valid as f64 / c.inputs as f64);
    }
}

/// For the differential targets: the outcome mix.
pub static STATS: Mutex<Option<Stats>> = Mutex::new(None);

/// `every`: runs between two lines (the threads target is slow: every few hundred).
pub fn record(target: &str, every: u64, f: impl FnOnce(&mut Stats)) {
    let mut guard = STATS.lock().unwrap_or_else(|e| e.into_inner());
    let stats = guard.get_or_insert_with(Stats::default);
    f(stats);
    if stats.runs % every == 0 {
        eprintln!("#stats {target}: valid 100% (generated); {stats}");
    }
}
