//! The conflict report of `--stm-report`, in the manner of PyPy's `print_stm_log`: what the
//! threads of a parallel run committed and aborted, and where time was lost, by conflict kind
//! and location. `par.rs` fills it; the CLI renders it with source lines.

use crate::stm::AbortKind;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Conflict figures for `--stm-report`, per thread and per (kind, location).
#[derive(Clone, Debug, Default)]
pub struct StmReport {
    /// One entry per guest thread of the run, sorted by thread id.
    pub threads: Vec<ThreadFigures>,
    /// (kind, function, pc) -> (count, time lost in the aborted attempts).
    pub conflicts: HashMap<(AbortKind, u32, u32), (u64, Duration)>,
    /// Time spent waiting for the inevitable token.
    pub waiting: Duration,
}

/// One guest thread's transactions in a [`StmReport`]: how much it committed, how much work
/// conflicts threw away, and how long its transactions were (coalescing makes them longer
/// when they do not conflict).
#[derive(Clone, Debug, Default)]
pub struct ThreadFigures {
    /// The thread's id as the schedule writes it (`0` for main, `0.1` for its second child).
    pub id: String,
    /// Transactions committed.
    pub committed: u64,
    /// Attempts rolled back by a conflict, each retry counted.
    pub aborted: u64,
    /// Transactions started inevitable (holding the token, so they cannot abort): retries
    /// after too many aborts in a row, or after the token was busy when output needed it.
    pub inevitable: u64,
    /// Segments the committed transactions covered: divided by `committed`, the average
    /// transaction length.
    pub segments: u64,
    /// Time spent in the attempts that aborted.
    pub lost: Duration,
}

impl StmReport {
    /// The report in the manner of PyPy's `print_stm_log`: totals, then conflicts sorted by
    /// time lost, then per-thread figures. `where_` names a location (function, pc), for
    /// instance with its .lsa line.
    pub fn render(&self, where_: &dyn Fn(u32, u32) -> String) -> String {
        let mut s = String::new();
        let sum = |f: fn(&ThreadFigures) -> u64| self.threads.iter().map(f).sum::<u64>();
        let (committed, aborted, inevitable) = (sum(|t| t.committed), sum(|t| t.aborted), sum(|t| t.inevitable));
        let lost: Duration = self.threads.iter().map(|t| t.lost).sum();
        let attempts = (committed + aborted).max(1);
        let _ = writeln!(
            s,
            "stm: threads {}, committed {committed}, aborted {aborted} ({:.1}% of attempts), inevitable {inevitable}, lost in aborts {:.3}s, waiting {:.3}s",
            self.threads.len(),
            aborted as f64 * 100.0 / attempts as f64,
            lost.as_secs_f64(),
            self.waiting.as_secs_f64()
        );
        let mut rows: Vec<_> = self.conflicts.iter().collect();
        rows.sort_by(|a, b| {
            b.1 .1.cmp(&a.1 .1).then(b.1 .0.cmp(&a.1 .0)).then(a.0 .1.cmp(&b.0 .1)).then(a.0 .2.cmp(&b.0 .2))
        });
        for (&(kind, func, pc), &(n, t)) in rows {
            let kind = match kind {
                AbortKind::WriteRead => "write-read",
                AbortKind::WriteWrite => "write-write",
                AbortKind::Inevitable => "inevitable",
            };
            let _ = writeln!(s, "  {:.3}s lost in aborts ({n}x {kind}) at {}", t.as_secs_f64(), where_(func, pc));
        }
        let _ = writeln!(s, "per thread:");
        for t in &self.threads {
            let _ = writeln!(
                s,
                "  {:<8} committed {}, aborted {}, inevitable {}, average length {:.1} segments, lost {:.3}s",
                t.id,
                t.committed,
                t.aborted,
                t.inevitable,
                t.segments as f64 / t.committed.max(1) as f64,
                t.lost.as_secs_f64()
            );
        }
        s
    }
}
