//! Progress lines on stderr for long work inside the test suites (the differential
//! properties), in the form `tests/progress.bash` gives the long scripts' lines:
//! `NAME: DONE/TOTAL UNIT, RATE, ELAPSED elapsed, about LEFT left`. At most one line every
//! `PROGRESS_EVERY` seconds: 10 when stderr is a terminal, else 30, so that a CI log gets a line
//! per half minute, not one per case; `0` turns them off. Work that ends within the first
//! interval prints nothing. The lines go to the process's stderr itself, past the test harness's
//! capture (which only takes `print!` and `eprint!`), so `cargo test` shows them without
//! `--nocapture`.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Counts units of work done and prints a progress line when the interval has passed.
pub struct Progress {
    name: String,
    total: u64,
    unit: String,
    done: u64,
    started: Instant,
    last: Instant,
    every: Option<Duration>,
}

impl Progress {
    /// `TOTAL` units of `unit` (plural, `programs`) to do, lines every `PROGRESS_EVERY` seconds.
    pub fn new(name: &str, total: u64, unit: &str) -> Progress {
        Progress::every(name, total, unit, interval())
    }

    /// The same with a chosen interval (`None`: no lines).
    pub fn every(name: &str, total: u64, unit: &str, every: Option<Duration>) -> Progress {
        let now = Instant::now();
        Progress { name: name.to_string(), total, unit: unit.to_string(), done: 0, started: now, last: now, every }
    }

    /// One more unit done; prints (and returns) the line when one is due.
    pub fn step(&mut self) -> Option<String> {
        self.done += 1;
        let every = self.every?;
        let now = Instant::now();
        if now.duration_since(self.last) < every {
            return None;
        }
        self.last = now;
        let text = line(&self.name, self.done, self.total, &self.unit, now.duration_since(self.started));
        let _ = writeln!(std::io::stderr().lock(), "{text}");
        Some(text)
    }
}

/// The interval `PROGRESS_EVERY` asks for (seconds; unset: 10 on a terminal, else 30).
pub fn interval() -> Option<Duration> {
    let secs = match std::env::var("PROGRESS_EVERY") {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("PROGRESS_EVERY must be a whole number of seconds, found `{text}`")),
        Err(_) if std::io::stderr().is_terminal() => 10,
        Err(_) => 30,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// 75 -> `1m15s`, 3725 -> `1h02m` (as `progress_duration` in tests/progress.bash).
pub fn duration(secs: u64) -> String {
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// Units per second, minute or hour, whichever is at least 1 (`25/s`, `1.3/min`, `0.9/h`
/// below one an hour); one decimal below 10. `None` before a whole second has passed.
pub fn rate(done: u64, elapsed: Duration) -> Option<String> {
    let ms = elapsed.as_millis() as u64;
    if ms < 1000 || done == 0 {
        return None;
    }
    let (per, scale) = [("s", 1000), ("min", 60_000), ("h", 3_600_000)]
        .into_iter()
        .find(|&(_, scale)| done * scale >= ms)
        .unwrap_or(("h", 3_600_000));
    let tenths = done * scale * 10 / ms;
    Some(if tenths < 100 { format!("{}.{}/{per}", tenths / 10, tenths % 10) } else { format!("{}/{per}", tenths / 10) })
}

/// The line for `done` of `total` units after `elapsed`.
pub fn line(name: &str, done: u64, total: u64, unit: &str, elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let mut text = format!("{name}: {done}/{total} {unit}");
    if let Some(r) = rate(done, elapsed) {
        text += &format!(", {r}");
    }
    text += &format!(", {} elapsed, ", duration(secs));
    match (elapsed.as_millis() as u64 * total.saturating_sub(done)).checked_div(done) {
        Some(left_ms) => text += &format!("about {} left", duration(left_ms / 1000)),
        None => text += "time left unknown",
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_say_done_total_rate_elapsed_and_time_left() {
        let s = Duration::from_secs;
        assert_eq!(
            line("p", 300, 20_000, "programs", s(12)),
            "p: 300/20000 programs, 25/s, 12s elapsed, about 13m08s left"
        );
        assert_eq!(line("p", 2, 8, "steps", s(90)), "p: 2/8 steps, 1.3/min, 1m30s elapsed, about 4m30s left");
        assert_eq!(line("p", 1, 8, "steps", s(4000)), "p: 1/8 steps, 0.9/h, 1h06m elapsed, about 7h46m left");
        assert_eq!(line("p", 0, 8, "steps", s(0)), "p: 0/8 steps, 0s elapsed, time left unknown");
        assert_eq!(line("p", 3, 8, "steps", Duration::from_millis(500)), "p: 3/8 steps, 0s elapsed, about 0s left");
        assert_eq!(rate(15, s(10)).as_deref(), Some("1.5/s"));
        assert_eq!(rate(1000, s(10)).as_deref(), Some("100/s"));
    }

    #[test]
    fn a_line_comes_once_the_interval_has_passed() {
        let mut none = Progress::every("p", 3, "steps", None);
        assert_eq!(none.step(), None);
        let mut hourly = Progress::every("p", 3, "steps", Some(Duration::from_secs(3600)));
        assert_eq!(hourly.step(), None);
        let mut each = Progress::every("p", 3, "steps", Some(Duration::ZERO));
        assert!(each.step().is_some_and(|l| l.starts_with("p: 1/3 steps, 0s elapsed, about ")));
        assert!(each.step().is_some_and(|l| l.starts_with("p: 2/3 steps, ")));
    }
}
