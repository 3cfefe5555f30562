//! Counting outcomes, so that a generator that wastes its inputs shows (Cranelift's fuzzgen
//! spent 60% of its inputs on trivial traps until it counted): the share of finished runs,
//! the trap mix, out of fuel, deadlocks, and how many threads the programs used.

use lockstep_spec::outcome::{End, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub runs: u64,
    pub finished: u64,
    pub deadlocks: u64,
    /// Trap name -> runs whose main thread ended in it.
    pub traps: BTreeMap<&'static str, u64>,
    /// Runs in which more than one thread ran.
    pub multithreaded: u64,
    /// Threads that ran, summed over runs.
    pub threads: u64,
    /// Runs that ended in a host error (for instance heap exhaustion): not comparable.
    pub host_errors: u64,
}

impl Stats {
    pub fn record(&mut self, outcome: &Outcome) {
        self.runs += 1;
        match &outcome.end {
            End::Finished { .. } => self.finished += 1,
            End::Trapped(t) => *self.traps.entry(t.kind.name()).or_default() += 1,
            End::Deadlock { .. } => self.deadlocks += 1,
        }
        let threads: BTreeSet<_> = outcome.schedule.entries.iter().map(|e| &e.thread).collect();
        self.threads += threads.len().max(1) as u64;
        if threads.len() > 1 {
            self.multithreaded += 1;
        }
    }

    pub fn record_host_error(&mut self) {
        self.runs += 1;
        self.host_errors += 1;
    }

    fn pct(&self, n: u64) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.runs as f64
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let trapped: u64 = self.traps.values().sum();
        write!(
            f,
            "{} runs: finished {:.1}%, trapped {:.1}%, deadlock {:.1}%, host error {:.1}%, multithreaded {:.1}%, {:.2} threads/run; traps:",
            self.runs,
            self.pct(self.finished),
            self.pct(trapped),
            self.pct(self.deadlocks),
            self.pct(self.host_errors),
            self.pct(self.multithreaded),
            if self.runs == 0 { 0.0 } else { self.threads as f64 / self.runs as f64 },
        )?;
        let mut traps: Vec<_> = self.traps.iter().collect();
        traps.sort_by(|a, b| b.1.cmp(a.1));
        for (name, n) in traps {
            write!(f, " {name} {:.1}%", self.pct(*n))?;
        }
        Ok(())
    }
}
