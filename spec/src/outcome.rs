//! The outcome of a run: what every engine must agree on (`spec/semantics.md`, rules
//! `exec.outcome` and `exec.outcome-json`).
//!
//! One type shared by all engines makes the differential comparison a single function,
//! [`Outcome::same_behaviour`], instead of a convention each test re-implements.

use crate::schedule::{Schedule, ThreadId};
use crate::trap::TrapKind;
use std::fmt::Write;

/// The `version` of the outcome's JSON form ([exec.outcome-json]). It changes when a key is
/// renamed, removed or changes meaning; a tool that reads the form checks it.
pub const OUTCOME_JSON_VERSION: u32 = 1;

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Every byte the guest printed, in order.
    pub stdout: Vec<u8>,
    /// How the run ended.
    pub end: End,
    /// The segments that actually ran; replaying it reproduces the run.
    pub schedule: Schedule,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum End {
    /// The main thread returned; `value` is the display form of its result (decoded as UTF-8,
    /// invalid sequences replaced by U+FFFD).
    Finished { value: String },
    /// The main thread trapped.
    Trapped(TrapInfo),
    /// The main thread had not ended and no thread could run; `blocked` lists every thread
    /// that had not ended, sorted by id.
    Deadlock { blocked: Vec<ThreadId> },
}

/// A trap: its kind and where it arose.
#[derive(Clone, Debug, PartialEq)]
pub struct TrapInfo {
    pub kind: TrapKind,
    pub thread: ThreadId,
    /// Index of the function in the module.
    pub function: u32,
    pub function_name: String,
    /// Index of the instruction in that function.
    pub pc: u32,
    /// Part of the behaviour: the program's message for `explicit_trap` and
    /// `assertion_failed`; the joined thread's trap name for `thread_trapped`; else `None`.
    pub message: Option<String>,
    /// The human explanation a user reads: the same text on every engine (`[exec.trap-detail]`).
    pub detail: String,
}

impl TrapInfo {
    /// Equal in everything a user sees: kind, thread, location, message and detail.
    pub fn same_trap(&self, other: &TrapInfo) -> bool {
        self.kind == other.kind
            && self.thread == other.thread
            && self.function == other.function
            && self.function_name == other.function_name
            && self.pc == other.pc
            && self.message == other.message
            && self.detail == other.detail
    }
}

impl End {
    /// Equal, a trap in everything including its detail ([`TrapInfo::same_trap`]).
    pub fn same_end(&self, other: &End) -> bool {
        match (self, other) {
            (End::Finished { value: a }, End::Finished { value: b }) => a == b,
            (End::Trapped(a), End::Trapped(b)) => a.same_trap(b),
            (End::Deadlock { blocked: a }, End::Deadlock { blocked: b }) => a == b,
            _ => false,
        }
    }
}

impl Outcome {
    /// Whether two runs behaved the same: same stdout and same end (a trap's detail included),
    /// ignoring the schedule (schedules are compared by the replay tests, since engines may pick
    /// different schedules for the same program).
    pub fn same_behaviour(&self, other: &Outcome) -> bool {
        self.stdout == other.stdout && self.end.same_end(&other.end)
    }

    /// The outcome as one line of JSON, in the stable form `[exec.outcome-json]` documents:
    ///
    /// `{"version":1,"stdout":S,"end":E,"schedule":[["0",3],["0.1",1]]}` where `version` is
    /// [`OUTCOME_JSON_VERSION`] and `E` is one of
    /// `{"kind":"finished","value":S}`,
    /// `{"kind":"trapped","trap":S,"thread":S,"function":N,"function_name":S,"pc":N,"message":S|null,"detail":S}`,
    /// `{"kind":"deadlock","blocked":[S,...]}`.
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\"version\":{OUTCOME_JSON_VERSION},\"stdout\":");
        json_bytes(&mut out, &self.stdout);
        out.push_str(",\"end\":");
        match &self.end {
            End::Finished { value } => {
                out.push_str("{\"kind\":\"finished\",\"value\":");
                json_bytes(&mut out, value.as_bytes());
                out.push('}');
            }
            End::Trapped(t) => {
                out.push_str("{\"kind\":\"trapped\",\"trap\":");
                json_bytes(&mut out, t.kind.name().as_bytes());
                out.push_str(",\"thread\":");
                json_bytes(&mut out, t.thread.to_string().as_bytes());
                let _ = write!(out, ",\"function\":{},\"function_name\":", t.function);
                json_bytes(&mut out, t.function_name.as_bytes());
                let _ = write!(out, ",\"pc\":{},\"message\":", t.pc);
                match &t.message {
                    Some(m) => json_bytes(&mut out, m.as_bytes()),
                    None => out.push_str("null"),
                }
                out.push_str(",\"detail\":");
                json_bytes(&mut out, t.detail.as_bytes());
                out.push('}');
            }
            End::Deadlock { blocked } => {
                out.push_str("{\"kind\":\"deadlock\",\"blocked\":[");
                for (i, id) in blocked.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_bytes(&mut out, id.to_string().as_bytes());
                }
                out.push_str("]}");
            }
        }
        out.push_str(",\"schedule\":[");
        for (i, e) in self.schedule.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            json_bytes(&mut out, e.thread.to_string().as_bytes());
            let _ = write!(out, ",{}]", e.segments);
        }
        out.push_str("]}");
        out
    }
}

/// Appends `bytes` as a JSON string literal. Valid UTF-8 is kept as text (with `"`, `\` and
/// control characters escaped); each byte that is not part of valid UTF-8 becomes the escape
/// `\udcXX` (the lone low surrogate U+DC00 + byte, as Python's `surrogateescape` does), which
/// no valid UTF-8 text produces, so the bytes can be recovered exactly.
pub fn json_bytes(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\udc{b:02x}");
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ScheduleEntry;

    fn trap(detail: &str) -> TrapInfo {
        TrapInfo {
            kind: TrapKind::AssertionFailed,
            thread: ThreadId(vec![0, 1]),
            function: 2,
            function_name: "check".to_string(),
            pc: 7,
            message: Some("x \"big\"".to_string()),
            detail: detail.to_string(),
        }
    }

    fn outcome(stdout: &[u8], end: End) -> Outcome {
        let schedule = Schedule {
            entries: vec![
                ScheduleEntry { thread: ThreadId(vec![0]), segments: 3 },
                ScheduleEntry { thread: ThreadId(vec![0, 1]), segments: 1 },
            ],
        };
        Outcome { stdout: stdout.to_vec(), end, schedule }
    }

    #[test]
    fn json_forms() {
        let cases = [
            (
                outcome(b"hi\n", End::Finished { value: "42".into() }),
                r#"{"version":1,"stdout":"hi\n","end":{"kind":"finished","value":"42"},"schedule":[["0",3],["0.1",1]]}"#,
            ),
            (
                outcome(b"", End::Trapped(trap("d"))),
                r#"{"version":1,"stdout":"","end":{"kind":"trapped","trap":"assertion_failed","thread":"0.1","function":2,"function_name":"check","pc":7,"message":"x \"big\"","detail":"d"},"schedule":[["0",3],["0.1",1]]}"#,
            ),
            (
                outcome(b"", End::Deadlock { blocked: vec![ThreadId(vec![0]), ThreadId(vec![0, 0])] }),
                r#"{"version":1,"stdout":"","end":{"kind":"deadlock","blocked":["0","0.0"]},"schedule":[["0",3],["0.1",1]]}"#,
            ),
        ];
        for (o, want) in cases {
            assert_eq!(o.to_json(), want);
        }
    }

    #[test]
    fn json_strings_escape_controls_and_keep_invalid_bytes_recoverable() {
        let cases: &[(&[u8], &str)] = &[
            (b"a\\b\"c", r#""a\\b\"c""#),
            (b"\t\r\x00\x1f\x7f", r#""\t\r\u0000\u001f\u007f""#),
            ("é€".as_bytes(), "\"é€\""),
            (b"\xff\xc3", r#""\udcff\udcc3""#),
            (b"a\xe2\x82z", r#""a\udce2\udc82z""#),
        ];
        for &(bytes, want) in cases {
            let mut out = String::new();
            json_bytes(&mut out, bytes);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn same_behaviour_ignores_the_schedule_only() {
        let a = outcome(b"x", End::Trapped(trap("one explanation")));
        let mut b = outcome(b"x", End::Trapped(trap("one explanation")));
        b.schedule = Schedule::default();
        assert!(a.same_behaviour(&b));
        assert!(!a.same_behaviour(&outcome(b"x", End::Trapped(trap("another")))));
        let mut c = b.clone();
        c.stdout = b"y".to_vec();
        assert!(!a.same_behaviour(&c));
        let mut t = trap("");
        t.pc = 8;
        assert!(!a.same_behaviour(&outcome(b"x", End::Trapped(t))));
        let mut t = trap("");
        t.message = None;
        assert!(!a.same_behaviour(&outcome(b"x", End::Trapped(t))));
        let fin = |v: &str| outcome(b"", End::Finished { value: v.into() });
        assert!(fin("1").same_behaviour(&fin("1")));
        assert!(!fin("1").same_behaviour(&fin("1.0")));
        assert!(!fin("1").same_behaviour(&outcome(b"", End::Deadlock { blocked: vec![] })));
    }
}
