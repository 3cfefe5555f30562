//! The outcome of a run: what every engine must agree on (`spec/semantics.md`, rules
//! `exec.outcome` and `exec.outcome-json`).
//!
//! One type shared by all engines makes the differential comparison a single function,
//! [`Outcome::same_behaviour`], instead of a convention each test re-implements.

use crate::schedule::{Schedule, ThreadId};
use crate::trap::TrapKind;
use std::fmt::Write;
use std::sync::Arc;

/// The `version` of the outcome's JSON form ([exec.outcome-json]). It changes when a key is
/// added, renamed, removed or changes meaning; a tool that reads the form checks it.
/// 2: a trap's `callers` and `joined`. 3: a deadlock's `waiting`.
pub const OUTCOME_JSON_VERSION: u32 = 3;

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
    /// The main thread returned `value` ([`Value`]; its `Display` is the display form the JSON
    /// outcome and `lockstep run --invoke` print).
    Finished {
        /// main's return value.
        value: Value,
    },
    /// The main thread trapped.
    Trapped(TrapInfo),
    /// The main thread had not ended and no thread could run; `blocked` lists every thread
    /// that had not ended, sorted by id, each with where it waits ([thread.deadlock]).
    Deadlock {
        /// The threads that had not ended, sorted by id.
        blocked: Vec<BlockedThread>,
    },
}

/// A thread left blocked by a deadlock: the `join` it is stopped at and the thread that `join`
/// waits for ([thread.deadlock]). Part of the outcome: every engine reports it, exactly, and
/// the suites compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedThread {
    /// The blocked thread.
    pub thread: ThreadId,
    /// The thread its `join` waits for (which has not ended either; maybe itself).
    pub waits_for: ThreadId,
    /// Index of the function of its executing frame, in the module.
    pub function: u32,
    /// That function's name, so a report needs no module to be read.
    pub function_name: String,
    /// Index of the `join` in that function.
    pub pc: u32,
}

/// A trap: its kind and where it arose, and how it came about ([exec.trap-report]).
///
/// `==` is [`TrapInfo::same_trap`]: it compares the outcome's part of the report and ignores
/// the presentation (`callers`, `joined`), which not every engine reports.
#[derive(Clone, Debug)]
pub struct TrapInfo {
    /// Which trap it is.
    pub kind: TrapKind,
    /// The thread that trapped: the main thread in a run's end, the joined thread in `joined`.
    pub thread: ThreadId,
    /// Index of the function in the module.
    pub function: u32,
    /// That function's name, so a report needs no module to be read.
    pub function_name: String,
    /// Index of the instruction in that function.
    pub pc: u32,
    /// Part of the behaviour: the program's message for `explicit_trap` and
    /// `assertion_failed`; the joined thread's trap name for `thread_trapped`; else `None`.
    pub message: Option<String>,
    /// The human explanation a user reads: the same text on every engine (`[exec.trap-detail]`).
    pub detail: String,
    /// Presentation: the frames below the trapping one, innermost first, each at the call it
    /// is running; `None` when the engine does not report them.
    pub callers: Option<Vec<StackFrame>>,
    /// Presentation: for `thread_trapped`, the joined thread's own trap (where in that thread
    /// it happened); `None` for other kinds, or when the engine does not report it. Shared, so
    /// that a chain of threads each joining a trapped one costs one report per thread.
    pub joined: Option<Arc<TrapInfo>>,
}

/// One frame of a guest call stack: a function and an instruction in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackFrame {
    /// Index of the function in the module.
    pub function: u32,
    /// That function's name.
    pub function_name: String,
    /// Index of the instruction in that function: for a caller, its call.
    pub pc: u32,
}

/// The value the main thread returned, as the outcome holds it ([exec.outcome]): one variant
/// per type of `spec/values.md` ([value.types]).
///
/// Plain values are held whole. Arrays, objects, functions and threads are *described*, by
/// exactly what their display form ([value.display]) shows: an array's length, an object's class
/// name, a function's name, a thread's id. The guest heap does not outlive the run, so a
/// reference into it cannot be handed out; and copying the contents instead would make the end
/// of a run cost as much as the (possibly huge, shared or cyclic) graph behind the value, with
/// every engine having to agree on how to flatten it. A program that wants its caller to see
/// more returns it as plain values (a string it built, an int).
///
/// `Display` writes the display form, the text that the JSON outcome's `value` and
/// `lockstep run --invoke` print (a string's bytes decoded as UTF-8, each invalid sequence
/// replaced by U+FFFD; [`Value::display_bytes`] has the exact bytes). Two values are equal
/// when they have the same type and the same display form: floats by their bits, except that
/// every NaN equals every NaN ([value.nan]: NaN payloads are unobservable) and `0.0` is not
/// `-0.0`; so the int `1`, the float `1.0` and the string `"1"` are three different values.
///
/// ```
/// use lockstep_spec::outcome::Value;
/// assert_eq!(Value::Float(-0.0).to_string(), "-0.0");
/// assert_ne!(Value::Float(-0.0), Value::Float(0.0));
/// assert_eq!(Value::Float(f64::NAN), Value::Float(-f64::NAN));
/// assert_ne!(Value::Int(1), Value::Str(b"1".to_vec()));
/// assert_eq!(Value::Array { len: 3 }.to_string(), "<array 3>");
/// assert_eq!(Value::Str(b"a\xffb".to_vec()).to_string(), "a\u{fffd}b");
/// assert_eq!(Value::Str(b"a\xffb".to_vec()).display_bytes(), b"a\xffb");
/// ```
#[derive(Clone, Debug)]
pub enum Value {
    /// `nil`.
    Nil,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string: its bytes (not necessarily UTF-8).
    Str(Vec<u8>),
    /// An array, described by its length when the run ended.
    Array {
        /// Its number of elements.
        len: usize,
    },
    /// An object, described by the name of the class it was created with.
    Object {
        /// The class's name.
        class: String,
    },
    /// A function of the module, by name.
    Function {
        /// The function's name.
        name: String,
    },
    /// A guest thread's handle, by the thread's id.
    Thread(ThreadId),
}

impl Value {
    /// The display form's exact bytes ([value.display]): a string's bytes unchanged.
    pub fn display_bytes(&self) -> Vec<u8> {
        match self {
            Value::Str(bytes) => bytes.clone(),
            other => other.to_string().into_bytes(),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Array { len: a }, Value::Array { len: b }) => a == b,
            (Value::Object { class: a }, Value::Object { class: b }) => a == b,
            (Value::Function { name: a }, Value::Function { name: b }) => a == b,
            (Value::Thread(a), Value::Thread(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&crate::num::format_float(*x)),
            Value::Str(bytes) => f.write_str(&String::from_utf8_lossy(bytes)),
            Value::Array { len } => write!(f, "<array {len}>"),
            Value::Object { class } => write!(f, "<{class}>"),
            Value::Function { name } => write!(f, "<function {name}>"),
            Value::Thread(id) => write!(f, "<thread {id}>"),
        }
    }
}

impl PartialEq for TrapInfo {
    fn eq(&self, other: &TrapInfo) -> bool {
        self.same_trap(other)
    }
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
            // Every blocked thread, with its `join` and the thread it waits for.
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
    /// `{"version":3,"stdout":S,"end":E,"schedule":[["0",3],["0.1",1]]}` where `version` is
    /// [`OUTCOME_JSON_VERSION`] and `E` is one of
    /// `{"kind":"finished","value":S}`,
    /// `{"kind":"trapped","trap":S,"thread":S,"function":N,"function_name":S,"pc":N,"message":S|null,"detail":S,"callers":[F,...]|null,"joined":T|null}`
    /// (`F` is `{"function":N,"function_name":S,"pc":N}`, `T` the same keys as the trapped
    /// end from `"trap"` on),
    /// `{"kind":"deadlock","blocked":[S,...],"waiting":[W,...]}` (`W` is
    /// `{"thread":S,"waits_for":S,"function":N,"function_name":S,"pc":N}`, one per blocked
    /// thread, in the order of `blocked`).
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\"version\":{OUTCOME_JSON_VERSION},\"stdout\":");
        json_bytes(&mut out, &self.stdout);
        out.push_str(",\"end\":");
        match &self.end {
            End::Finished { value } => {
                out.push_str("{\"kind\":\"finished\",\"value\":");
                json_bytes(&mut out, value.to_string().as_bytes());
                out.push('}');
            }
            End::Trapped(t) => {
                out.push_str("{\"kind\":\"trapped\",");
                trap_json(&mut out, t);
                out.push('}');
            }
            End::Deadlock { blocked } => {
                out.push_str("{\"kind\":\"deadlock\",\"blocked\":[");
                for (i, b) in blocked.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_bytes(&mut out, b.thread.to_string().as_bytes());
                }
                out.push_str("],\"waiting\":[");
                for (i, b) in blocked.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"thread\":");
                    json_bytes(&mut out, b.thread.to_string().as_bytes());
                    out.push_str(",\"waits_for\":");
                    json_bytes(&mut out, b.waits_for.to_string().as_bytes());
                    let _ = write!(out, ",\"function\":{},\"function_name\":", b.function);
                    json_bytes(&mut out, b.function_name.as_bytes());
                    let _ = write!(out, ",\"pc\":{}}}", b.pc);
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

/// Appends the keys of a trap, from `"trap"` to `"joined"`, without braces. The chain of
/// joined threads' traps is written in a loop, not by recursion: it may be thousands long.
fn trap_json(out: &mut String, trap: &TrapInfo) {
    let mut depth = 0;
    let mut t = trap;
    loop {
        out.push_str("\"trap\":");
        json_bytes(out, t.kind.name().as_bytes());
        out.push_str(",\"thread\":");
        json_bytes(out, t.thread.to_string().as_bytes());
        let _ = write!(out, ",\"function\":{},\"function_name\":", t.function);
        json_bytes(out, t.function_name.as_bytes());
        let _ = write!(out, ",\"pc\":{},\"message\":", t.pc);
        match &t.message {
            Some(m) => json_bytes(out, m.as_bytes()),
            None => out.push_str("null"),
        }
        out.push_str(",\"detail\":");
        json_bytes(out, t.detail.as_bytes());
        out.push_str(",\"callers\":");
        match &t.callers {
            Some(frames) => {
                out.push('[');
                for (i, f) in frames.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{{\"function\":{},\"function_name\":", f.function);
                    json_bytes(out, f.function_name.as_bytes());
                    let _ = write!(out, ",\"pc\":{}}}", f.pc);
                }
                out.push(']');
            }
            None => out.push_str("null"),
        }
        out.push_str(",\"joined\":");
        match &t.joined {
            Some(joined) => {
                out.push('{');
                depth += 1;
                t = joined;
            }
            None => break,
        }
    }
    out.push_str("null");
    out.extend(std::iter::repeat_n('}', depth));
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
            callers: None,
            joined: None,
        }
    }

    /// Thread `thread` blocked in `main` at `pc`, joining `waits_for`.
    fn blocked(thread: &[u32], waits_for: &[u32], pc: u32) -> BlockedThread {
        BlockedThread {
            thread: ThreadId(thread.to_vec()),
            waits_for: ThreadId(waits_for.to_vec()),
            function: 1,
            function_name: "main".to_string(),
            pc,
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
                outcome(b"hi\n", End::Finished { value: Value::Int(42) }),
                r#"{"version":3,"stdout":"hi\n","end":{"kind":"finished","value":"42"},"schedule":[["0",3],["0.1",1]]}"#,
            ),
            (
                outcome(b"", End::Trapped(trap("d"))),
                r#"{"version":3,"stdout":"","end":{"kind":"trapped","trap":"assertion_failed","thread":"0.1","function":2,"function_name":"check","pc":7,"message":"x \"big\"","detail":"d","callers":null,"joined":null},"schedule":[["0",3],["0.1",1]]}"#,
            ),
            (
                outcome(b"", End::Deadlock { blocked: vec![blocked(&[0], &[0, 0], 7), blocked(&[0, 0], &[0, 0], 3)] }),
                r#"{"version":3,"stdout":"","end":{"kind":"deadlock","blocked":["0","0.0"],"waiting":[{"thread":"0","waits_for":"0.0","function":1,"function_name":"main","pc":7},{"thread":"0.0","waits_for":"0.0","function":1,"function_name":"main","pc":3}]},"schedule":[["0",3],["0.1",1]]}"#,
            ),
        ];
        for (o, want) in cases {
            assert_eq!(o.to_json(), want);
        }
    }

    /// [exec.trap-report] The call stack and the joined thread's trap are written when the
    /// engine reported them, nested as deep as the chain of joins goes, and `==` ignores them.
    #[test]
    fn json_carries_the_presentation_and_equality_ignores_it() {
        let mut child = trap("c");
        child.thread = ThreadId(vec![0, 0]);
        child.callers = Some(vec![]);
        let mut parent = trap("p");
        parent.kind = TrapKind::ThreadTrapped;
        parent.callers = Some(vec![
            StackFrame { function: 1, function_name: "f".into(), pc: 4 },
            StackFrame { function: 0, function_name: "main".into(), pc: 9 },
        ]);
        parent.joined = Some(Arc::new(child));
        let json = outcome(b"", End::Trapped(parent.clone())).to_json();
        let end = r#""end":{"kind":"trapped","trap":"thread_trapped","thread":"0.1","function":2,"function_name":"check","pc":7,"message":"x \"big\"","detail":"p","callers":[{"function":1,"function_name":"f","pc":4},{"function":0,"function_name":"main","pc":9}],"joined":{"trap":"assertion_failed","thread":"0.0","function":2,"function_name":"check","pc":7,"message":"x \"big\"","detail":"c","callers":[],"joined":null}},"schedule""#;
        assert!(json.contains(end), "{json}");
        let mut bare = parent.clone();
        (bare.callers, bare.joined) = (None, None);
        assert_eq!(bare, parent);
        // A chain of thousands of joins is written without deep recursion.
        let mut t = trap("");
        for _ in 0..10_000 {
            let mut next = trap("");
            next.joined = Some(Arc::new(t));
            t = next;
        }
        let json = outcome(b"", End::Trapped(t)).to_json();
        assert_eq!(json.matches("\"joined\":{").count(), 10_000);
        // The innermost `joined` is null; then each joined object and the end itself close.
        assert!(json.contains(&format!("null{},\"schedule\"", "}".repeat(10_001))));
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
        let fin = |v: Value| outcome(b"", End::Finished { value: v });
        assert!(fin(Value::Int(1)).same_behaviour(&fin(Value::Int(1))));
        assert!(!fin(Value::Int(1)).same_behaviour(&fin(Value::Float(1.0))));
        // The same display form, another type: a different end.
        assert!(!fin(Value::Int(1)).same_behaviour(&fin(Value::Str(b"1".to_vec()))));
        assert!(!fin(Value::Int(1)).same_behaviour(&outcome(b"", End::Deadlock { blocked: vec![] })));
    }

    /// [thread.deadlock] Where each blocked thread waits is part of the end: the same threads
    /// blocked at another `join`, or waiting for another thread, are another end.
    #[test]
    fn deadlocks_differ_by_where_each_thread_waits() {
        let dead = |blocked: Vec<BlockedThread>| outcome(b"", End::Deadlock { blocked });
        let a = dead(vec![blocked(&[0], &[0, 0], 7), blocked(&[0, 0], &[0], 3)]);
        assert!(a.same_behaviour(&dead(vec![blocked(&[0], &[0, 0], 7), blocked(&[0, 0], &[0], 3)])));
        assert!(!a.same_behaviour(&dead(vec![blocked(&[0], &[0, 0], 8), blocked(&[0, 0], &[0], 3)])));
        assert!(!a.same_behaviour(&dead(vec![blocked(&[0], &[0, 0], 7), blocked(&[0, 0], &[0, 0], 3)])));
        let mut other_function = blocked(&[0], &[0, 0], 7);
        (other_function.function, other_function.function_name) = (2, "wait".to_string());
        assert!(!a.same_behaviour(&dead(vec![other_function, blocked(&[0, 0], &[0], 3)])));
        assert!(!a.same_behaviour(&dead(vec![blocked(&[0], &[0, 0], 7)])));
    }
}
