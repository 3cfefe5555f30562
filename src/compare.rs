//! Differential runs from Rust: one program on two engine configurations, and what differs
//! between their outcomes. `lockstep diff` is one call of [`compare_replaying`].
//!
//! The comparison is on the typed [`Outcome`]s (stdout, then the end by [`End::same_end`], then,
//! for a replay, the schedule), not on their JSON text, so a caller learns *what* differs and
//! can show it as it likes; [`Comparison::describe`] gives the words `lockstep diff` prints.

use crate::{Config, Engine, Error, Outcome, Scheduler, Vm};
use lockstep_spec::VerifiedModule;
use std::fmt;

/// How much of each stdout [`Comparison::describe`] shows from the first differing byte.
const EXCERPT_BYTES: usize = 40;

/// Runs `module`'s entry function on configuration `first`, then on `second`, each to its
/// outcome with the output captured in it ([`Outcome::stdout`]), and returns both.
///
/// The runs are one after the other, never at the same time. Two engines given the same
/// schedule must agree ([exec.outcome]), and so must any two single-threaded runs; two runs of a
/// multithreaded program under different schedules may rightly differ (then use
/// [`compare_replaying`]). Configurations that differ on purpose, for instance in fuel, show
/// what that changes.
///
/// ```
/// use lockstep::{compare, Config, Difference, End, Engine, TrapKind, Value};
/// let program = lockstep::load(b"
///     func main() {
///         local i, n, one, more
///         ldi i, 0
///         ldi n, 100
///         ldi one, 1
///     again:
///         add i, i, one
///         lt more, i, n
///         jmpif more, again
///         ret i
///     }", "count.lsa")?;
///
/// // The reference and the optimized engine agree.
/// let reference = Config::new().engine(Engine::reference());
/// let same = compare(&program.module, &reference, &Config::new())?;
/// assert_eq!(same.difference(), None);
/// assert_eq!(same.second.end, End::Finished { value: Value::Int(100) });
///
/// // With fuel for 10 backward jumps, the second run traps where the first finished.
/// let starved = compare(&program.module, &reference, &reference.clone().fuel(10))?;
/// assert_eq!(starved.difference(), Some(Difference::End));
/// let End::Trapped(trap) = &starved.second.end else { panic!("it runs out of fuel") };
/// assert_eq!(trap.kind, TrapKind::OutOfFuel);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare(module: &VerifiedModule, first: &Config, second: &Config) -> Result<Comparison, CompareError> {
    let a = run_captured(module, first).map_err(CompareError::First)?;
    let b = run_captured(module, second).map_err(CompareError::Second)?;
    Ok(Comparison { first: a, second: b, replayed: false })
}

/// The schedule-replay oracle (what `lockstep diff` runs): runs `module` on `config`, recording
/// the schedule that ran, then has the reference interpreter replay that schedule
/// ([schedule.replay]) with the same fuel, arguments and heap limit. Every run must be
/// reproduced exactly by its replay ([schedule.record]), so [`Comparison::difference`] also
/// compares the schedules.
///
/// This is how a run of the optimized engine with the STM, whose threads interleave as the
/// machine lets them, is checked: [`compare`] against the reference's own round-robin schedule
/// would find differences that are not bugs.
///
/// ```
/// let program = lockstep::load(b"
///     func main() {
///         local s
///         ldk s, \"agreed\"
///         println s
///         ret s
///     }", "agree.lsa")?;
/// let replayed = lockstep::compare_replaying(&program.module, &lockstep::Config::new())?;
/// assert_eq!(replayed.difference(), None);
/// assert_eq!(replayed.first.schedule, replayed.second.schedule);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare_replaying(module: &VerifiedModule, config: &Config) -> Result<Comparison, CompareError> {
    let first = run_captured(module, &config.clone().record_schedule(true)).map_err(CompareError::First)?;
    let scheduler = Scheduler::Replay(first.schedule.clone());
    let replay = config.clone().engine(Engine::Reference { scheduler }).record_schedule(true);
    let second = run_captured(module, &replay).map_err(CompareError::Replay)?;
    Ok(Comparison { first, second, replayed: true })
}

/// One run of `module` on `config` to its outcome, the output captured in it.
fn run_captured(module: &VerifiedModule, config: &Config) -> Result<Outcome, Error> {
    let mut stdout = Vec::new();
    let mut outcome = Vm::new(config.clone()).run(module, &mut stdout)?.outcome;
    outcome.stdout = stdout;
    Ok(outcome)
}

/// The outcomes of the two runs of [`compare`] or [`compare_replaying`], each with the output
/// its run printed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Comparison {
    /// The outcome of the first configuration's run.
    pub first: Outcome,
    /// The outcome of the second configuration's run, or of the reference's replay.
    pub second: Outcome,
    /// From [`compare_replaying`]: the schedules must be equal too.
    replayed: bool,
}

/// What differs between the two outcomes of a [`Comparison`], the first thing found in this
/// order: stdout, how the runs ended, the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// The runs printed different bytes; `at` is the offset of the first byte that differs (the
    /// shorter output's length when one is a prefix of the other).
    Stdout {
        /// The first differing byte's offset.
        at: usize,
    },
    /// The same output, but the runs ended differently
    /// ([`End::same_end`](crate::End::same_end)): main's value, the trap (kind, thread,
    /// location, message, detail; running out of fuel is a trap), or the threads left in a
    /// deadlock, or one finished and the other did not.
    End,
    /// [`compare_replaying`] only: the same output and end, but the reference's replay did not
    /// run the schedule it was given ([schedule.record] says it must).
    Schedule,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Stdout { at } => write!(f, "stdout differs at byte {at}"),
            Difference::End => f.write_str("the runs end differently"),
            Difference::Schedule => f.write_str("the replay ran a different schedule than the one it replayed"),
        }
    }
}

impl Comparison {
    /// What differs, or `None` when the two runs agree: the same stdout and end and, for
    /// [`compare_replaying`], the same schedule.
    pub fn difference(&self) -> Option<Difference> {
        let (a, b) = (&self.first.stdout, &self.second.stdout);
        if a != b {
            let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
            return Some(Difference::Stdout { at });
        }
        if !self.first.end.same_end(&self.second.end) {
            return Some(Difference::End);
        }
        if self.replayed && self.first.schedule != self.second.schedule {
            return Some(Difference::Schedule);
        }
        None
    }

    /// The difference in words, the two runs called `first` and `second` (`lockstep diff` says
    /// "optimized" and "reference"), or `None` when they agree: for stdout, up to 40 bytes of
    /// each from the first that differs; for the end, both outcomes' JSON forms
    /// ([exec.outcome-json]), one a line.
    ///
    /// ```
    /// let program = lockstep::load(b"
    ///     func main() {
    ///         local s
    ///         ldk s, \"one\"
    ///         println s
    ///         call s, main, ()
    ///         ret s
    ///     }", "again.lsa")?;
    /// let config = lockstep::Config::new().engine(lockstep::Engine::reference());
    /// // One unit of fuel per call: the first run prints twice, the second three times.
    /// let c = lockstep::compare(&program.module, &config.clone().fuel(2), &config.fuel(3))?;
    /// assert_eq!(c.difference(), Some(lockstep::Difference::Stdout { at: 8 }));
    /// assert_eq!(c.describe("short", "long").unwrap(), r#"stdout differs at byte 8: short "", long "one\n""#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn describe(&self, first: &str, second: &str) -> Option<String> {
        Some(match self.difference()? {
            Difference::Stdout { at } => {
                let show = |s: &[u8]| String::from_utf8_lossy(&s[at..s.len().min(at + EXCERPT_BYTES)]).into_owned();
                format!(
                    "stdout differs at byte {at}: {first} {:?}, {second} {:?}",
                    show(&self.first.stdout),
                    show(&self.second.stdout)
                )
            }
            Difference::End => format!(
                "the runs end differently:\n  {first} {}\n  {second} {}",
                self.first.to_json(),
                self.second.to_json()
            ),
            Difference::Schedule => format!("the {second} ran a different schedule than the one it replayed"),
        })
    }
}

/// Why a comparison has no result: one of its runs has no outcome.
#[derive(Debug)]
#[non_exhaustive]
pub enum CompareError {
    /// The first configuration's run failed: a limit was reached or the input was invalid, as
    /// its [`Error`] says.
    First(Error),
    /// [`compare`]: the second configuration's run failed, as its [`Error`] says.
    Second(Error),
    /// [`compare_replaying`]: the reference could not replay the schedule the first run
    /// recorded. [`Error::ScheduleDiverged`] here is a bug in one of the engines (every
    /// recorded schedule replays, [schedule.record]); any other error is a limit, as for a run.
    Replay(Error),
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompareError::First(e) => write!(f, "the first run failed: {e}"),
            CompareError::Second(e) => write!(f, "the second run failed: {e}"),
            CompareError::Replay(e) => write!(f, "the reference cannot replay the first run's schedule: {e}"),
        }
    }
}

impl std::error::Error for CompareError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CompareError::First(e) | CompareError::Second(e) | CompareError::Replay(e) => Some(e),
        }
    }
}
