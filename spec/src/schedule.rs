//! Thread ids and schedules: the names of guest threads and the text file that records which
//! thread ran each segment of a run (`spec/concurrency.md`).
//!
//! They are in the spec crate because a schedule recorded by one engine must replay on any
//! other: the format and the thread naming are part of the machine, not of an engine.

use std::fmt::{self, Write};
use std::str::FromStr;

/// The first line of every schedule file.
pub const HEADER: &str = "lockstep-schedule 1";

/// A thread's name: its spawn path. The main thread is `0`; the k-th thread (from 0) spawned by
/// thread `P` is `P.k`. Ordered component by component, so `0` < `0.0` < `0.0.5` < `0.1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThreadId(pub Vec<u32>);

impl ThreadId {
    /// The main thread, `0`.
    pub fn main() -> ThreadId {
        ThreadId(vec![0])
    }

    /// The id of the `k`-th thread this one spawns.
    pub fn child(&self, k: u32) -> ThreadId {
        let mut path = self.0.clone();
        path.push(k);
        ThreadId(path)
    }
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

/// A string that is not a thread id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadIdParseError(pub String);

impl fmt::Display for ThreadIdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a thread id (expected `0` followed by `.N` parts, N a decimal number without leading zeros)",
            self.0
        )
    }
}

impl std::error::Error for ThreadIdParseError {}

impl FromStr for ThreadId {
    type Err = ThreadIdParseError;

    /// Accepts exactly the canonical form [`Display`](fmt::Display) writes, so every thread has
    /// one spelling: `0(\.(0|[1-9][0-9]*))*`, each part at most `u32::MAX`.
    fn from_str(s: &str) -> Result<ThreadId, ThreadIdParseError> {
        let err = || ThreadIdParseError(s.to_string());
        let mut parts = Vec::with_capacity(s.bytes().filter(|&b| b == b'.').count() + 1);
        for part in s.as_bytes().split(|&b| b == b'.') {
            // `0`, or digits that do not start with `0` (no sign, no empty part).
            let canonical = matches!(part, [b'0'] | [b'1'..=b'9', ..]) && part.iter().all(u8::is_ascii_digit);
            if !canonical {
                return Err(err());
            }
            let value = part.iter().try_fold(0u32, |n, &digit| n.checked_mul(10)?.checked_add(u32::from(digit - b'0')));
            parts.push(value.ok_or_else(err)?);
        }
        if parts.first() != Some(&0) {
            return Err(err());
        }
        Ok(ThreadId(parts))
    }
}

/// Which thread ran each segment, in order: what a run records and what replay follows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// The entries in order; consecutive segments of one thread form one entry.
    pub entries: Vec<ScheduleEntry>,
}

/// Run `thread` for `segments` segments (at least 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleEntry {
    /// The thread that runs.
    pub thread: ThreadId,
    /// How many segments in a row it runs.
    pub segments: u64,
}

/// A schedule file that does not follow the format; `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleParseError {
    /// The 1-based line at fault.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ScheduleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScheduleParseError {}

impl Schedule {
    /// Parses a schedule file. See `[schedule.file]` in `spec/concurrency.md`.
    ///
    /// Entries are kept as written (two consecutive lines naming the same thread stay two
    /// entries), so that a divergence error's entry number is the file's.
    pub fn parse(text: &str) -> Result<Schedule, ScheduleParseError> {
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let first = lines.next().unwrap_or("");
        if first != HEADER {
            return Err(ScheduleParseError {
                line: 1,
                message: format!("expected the header `{HEADER}`, found `{}`", truncate(first)),
            });
        }
        let mut entries = Vec::new();
        for (i, line) in lines.enumerate() {
            let number = i + 2;
            let err = |message: String| ScheduleParseError { line: number, message };
            // Everything from a `#` on is a comment.
            let content = match line.bytes().position(|b| b == b'#') {
                Some(comment) => &line[..comment],
                None => line,
            };
            let mut words = content.split_ascii_whitespace();
            let Some(thread) = words.next() else { continue };
            let thread: ThreadId = thread.parse().map_err(|e: ThreadIdParseError| err(e.to_string()))?;
            let Some(count) = words.next() else {
                return Err(err(format!("entry for thread {thread} has no segment count")));
            };
            let segments = match count.parse::<u64>() {
                Ok(n) if n >= 1 && count.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(err(format!(
                        "segment count `{}` is not a decimal number from 1 to {}",
                        truncate(count),
                        u64::MAX
                    )))
                }
            };
            if let Some(extra) = words.next() {
                return Err(err(format!("unexpected `{}` after the segment count", truncate(extra))));
            }
            entries.push(ScheduleEntry { thread, segments });
        }
        Ok(Schedule { entries })
    }

    /// The schedule file text: the header, then one `THREAD SEGMENTS` line per entry.
    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        for e in &self.entries {
            // Writing to a `String` cannot fail.
            let _ = writeln!(out, "{} {}", e.thread, e.segments);
        }
        out
    }

    /// Records that `thread` ran one more segment, extending the last entry when it names the
    /// same thread (consecutive segments of one thread are one entry).
    pub fn push_segment(&mut self, thread: &ThreadId) {
        self.push_segments(thread, 1);
    }

    /// Records that `thread` ran `segments` more segments in a row (none: nothing changes).
    pub fn push_segments(&mut self, thread: &ThreadId, segments: u64) {
        if segments == 0 {
            return;
        }
        match self.entries.last_mut() {
            Some(last) if last.thread == *thread => last.segments = last.segments.saturating_add(segments),
            _ => self.entries.push(ScheduleEntry { thread: thread.clone(), segments }),
        }
    }

    /// The total number of segments.
    pub fn segment_count(&self) -> u64 {
        self.entries.iter().fold(0u64, |n, e| n.saturating_add(e.segments))
    }
}

/// Keeps error messages short when a file holds a very long line.
fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}
