//! Conformance scripts: engine-independent test cases as data, in the spirit of the
//! WebAssembly spec tests (`assert_return`, `assert_trap`, `assert_invalid`, `assert_malformed`).
//!
//! A script file (`tests/conformance/*.lsc`) is a sequence of cases:
//!
//! ```text
//! # a comment (between cases and in header lines; comment and blank lines right before a
//! # `###` line belong to no case)
//! ### int-add-wraps                         <- case name, unique in the suite
//! rules: exec.add value.int-wrap            <- the spec rules this case covers (required)
//! args: 10 abc                              <- optional: main's arguments (split on spaces)
//! invoke: NAME                              <- optional: run the invocation of function NAME
//!                                              (exec.invoke), `args` its arguments as text
//! fuel: 1000                                <- optional: fuel per thread (default 2^30 in
//!                                              `tests/tests/conformance.rs`)
//! schedule: seed:3                          <- optional: round-robin (default), seed:N
//! runs: 24                                  <- optional: run it this many times on each engine
//!                                              (every run must pass): for what an engine's
//!                                              stress mode meets only in some runs
//! --- program                               <- assembly text, up to the next `---`/`###`
//! func main() { ... }
//! --- bytes                                 <- or: a binary module as hex (whitespace ignored,
//! 00 6c 73 62 ...                               `#` to end of line a comment, `*N HH` is the
//!                                               byte HH repeated N times)
//! --- stdout                                <- optional: exact output, every line ends in \n
//! 5
//! --- expect                                <- required: one line, the expected outcome
//! finished 5
//! ```
//!
//! Expectations:
//! - `finished VALUE`: main returned a value whose display form is VALUE (rest of the line);
//! - `trapped KIND at FUNCTION PC [thread ID] [message TEXT]`: the run trapped;
//! - `deadlock [THREAD at FUNCTION PC joins THREAD, ...]`: the run deadlocked; with the list,
//!   exactly these threads were blocked, each at that `join` waiting for that thread, in the
//!   order of their ids;
//! - `invalid RULE`: the program loads but the verifier rejects it under RULE;
//! - `malformed LINE:COLUMN TEXT`: the assembler rejects it at that position, message containing TEXT;
//! - `malformed byte OFFSET TEXT`: the decoder rejects the bytes at OFFSET (decimal), message containing TEXT;
//! - `diverged ENTRY TEXT`: the replayed schedule (`schedule: replay:FILE`) does not fit the run:
//!   "schedule diverged at entry ENTRY", the message containing TEXT (not a guest outcome; the
//!   case's output is what the run streamed before the divergence, which only `lockstep run`
//!   shows: `tests/cli.rs` checks it);
//! - `out-of-memory-or EXPECTATION`: the engine may stop with its clean out-of-memory error
//!   (`limit.memory`: the one outcome allowed to differ), or else meet EXPECTATION. The header
//!   `max-heap: BYTES` sets the heap limit of engines that have one.
//!
//! When `--- stdout` is absent the program must print nothing. `stdout: "..."` in the header
//! gives output with escapes (`\n`, `\t`, `\\`, `\"`, `\xHH`) instead, for output without a
//! final newline. In a trap expectation, `message -` says the trap carries no message.
//!
//! `--- json` (optional, one line) states the whole outcome in its JSON form
//! (`spec/semantics.md`, `exec.outcome-json`), the trap's `detail` (`exec.trap-detail`) and the
//! schedule included: it checks the JSON encoding itself, byte for byte.

use std::fmt;

/// One case of a conformance script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    /// Where the case starts: `file:line`.
    pub location: String,
    pub rules: Vec<String>,
    pub args: Vec<String>,
    /// `invoke: NAME`: the function to invoke instead of main.
    pub invoke: Option<String>,
    pub fuel: Option<u64>,
    pub schedule: Option<String>,
    pub max_heap: Option<usize>,
    /// `runs: N`: how many times each engine runs the case (1 by default).
    pub runs: u32,
    pub input: Input,
    pub stdout: Vec<u8>,
    pub expect: Expect,
    /// The outcome's exact JSON form, when the case states it.
    pub json: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Finished {
        value: String,
    },
    /// `message`: `None` when the case does not check it, `Some(None)` for "no message".
    Trapped {
        kind: String,
        function: String,
        pc: u32,
        thread: Option<String>,
        message: Option<Option<String>>,
    },
    /// `waiting`: `None` when the case does not check where the threads wait; else one
    /// `THREAD at FUNCTION PC joins THREAD` per blocked thread, single spaces.
    Deadlock {
        waiting: Option<Vec<String>>,
    },
    Invalid {
        rule: String,
    },
    MalformedText {
        line: u32,
        column: u32,
        fragment: String,
    },
    MalformedBytes {
        offset: usize,
        fragment: String,
    },
    Diverged {
        entry: usize,
        fragment: String,
    },
    OutOfMemoryOr(Box<Expect>),
}

/// A script that cannot be parsed: a bug in the suite, reported with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub location: String,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Parses a whole script file.
pub fn parse(text: &str, file: &str) -> Result<Vec<Case>, ScriptError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if line.is_empty() || line.starts_with('#') && !line.starts_with("###") {
            i += 1;
            continue;
        }
        let Some(name) = line.strip_prefix("### ") else {
            return Err(err(file, i, format!("expected `### case-name`, found `{line}`")));
        };
        let start = i;
        i += 1;
        // The case runs to the next `###` line, less the comments and blank lines before it.
        let next = (i..lines.len()).find(|&j| lines[j].starts_with("###")).unwrap_or(lines.len());
        let mut end = next;
        while end > i && (lines[end - 1].trim().is_empty() || lines[end - 1].starts_with('#')) {
            end -= 1;
        }
        cases.push(parse_case(name.trim(), &lines[start + 1..end], file, start + 1)?);
        i = next;
    }
    Ok(cases)
}

fn err(file: &str, index: usize, message: String) -> ScriptError {
    ScriptError { location: format!("{file}:{}", index + 1), message }
}

fn parse_case(name: &str, body: &[&str], file: &str, first: usize) -> Result<Case, ScriptError> {
    let location = format!("{file}:{first}");
    let mut case = Case {
        name: name.to_string(),
        location: location.clone(),
        rules: Vec::new(),
        args: Vec::new(),
        invoke: None,
        fuel: None,
        schedule: None,
        max_heap: None,
        runs: 1,
        input: Input::Text(String::new()),
        stdout: Vec::new(),
        expect: Expect::Deadlock { waiting: None },
        json: None,
    };
    let mut have_input = false;
    let mut have_expect = false;
    let mut i = 0;
    // Header lines, up to the first section.
    while i < body.len() && !body[i].starts_with("---") {
        let line = body[i].trim();
        let at = first + i;
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(err(file, at, format!("expected `key: value`, found `{line}`")));
        };
        let value = value.trim();
        match key.trim() {
            "rules" => case.rules = value.split_whitespace().map(str::to_string).collect(),
            "args" => case.args = value.split_whitespace().map(str::to_string).collect(),
            "invoke" => case.invoke = Some(value.to_string()),
            "fuel" => case.fuel = Some(value.parse().map_err(|_| err(file, at, format!("bad fuel `{value}`")))?),
            "schedule" => case.schedule = Some(value.to_string()),
            "runs" => case.runs = value.parse().map_err(|_| err(file, at, format!("bad runs `{value}`")))?,
            "max-heap" => {
                case.max_heap = Some(value.parse().map_err(|_| err(file, at, format!("bad max-heap `{value}`")))?)
            }
            "stdout" => case.stdout = unescape(value).map_err(|m| err(file, at, m))?,
            other => return Err(err(file, at, format!("unknown header `{other}`"))),
        }
    }
    // Sections.
    while i < body.len() {
        let header = body[i].trim_end();
        let at = first + i;
        let section = header.strip_prefix("---").map(str::trim).unwrap_or("");
        i += 1;
        let start = i;
        while i < body.len() && !body[i].starts_with("---") {
            i += 1;
        }
        let content = &body[start..i];
        match section {
            "program" => {
                case.input = Input::Text(content.iter().map(|l| format!("{l}\n")).collect());
                have_input = true;
            }
            "bytes" => {
                case.input = Input::Bytes(parse_hex(content).map_err(|m| err(file, at, m))?);
                have_input = true;
            }
            "stdout" => case.stdout = content.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect(),
            "json" => {
                let lines: Vec<&str> = content.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
                let [line] = lines[..] else {
                    return Err(err(file, at, "`--- json` takes exactly one line".into()));
                };
                case.json = Some(line.to_string());
            }
            "expect" => {
                let lines: Vec<&str> = content.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
                let [line] = lines[..] else {
                    return Err(err(file, at, "`--- expect` takes exactly one line".into()));
                };
                case.expect = parse_expect(line).map_err(|m| err(file, at, m))?;
                have_expect = true;
            }
            other => return Err(err(file, at, format!("unknown section `--- {other}`"))),
        }
    }
    if !have_input {
        return Err(ScriptError { location, message: format!("case `{name}` has no program or bytes") });
    }
    if !have_expect {
        return Err(ScriptError { location, message: format!("case `{name}` has no `--- expect`") });
    }
    if case.rules.is_empty() {
        return Err(ScriptError { location, message: format!("case `{name}` lists no rules") });
    }
    Ok(case)
}

fn parse_expect(line: &str) -> Result<Expect, String> {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    match word {
        "finished" => Ok(Expect::Finished { value: rest.to_string() }),
        "deadlock" if rest.is_empty() => Ok(Expect::Deadlock { waiting: None }),
        "deadlock" => {
            let waiting = rest
                .split(',')
                .map(|item| {
                    let words: Vec<&str> = item.split_whitespace().collect();
                    match words[..] {
                        [_, "at", _, pc, "joins", _] if pc.parse::<u32>().is_ok() => Ok(words.join(" ")),
                        _ => Err(format!("expected `THREAD at FUNCTION PC joins THREAD`, found `{}`", item.trim())),
                    }
                })
                .collect::<Result<_, _>>()?;
            Ok(Expect::Deadlock { waiting: Some(waiting) })
        }
        "out-of-memory-or" => Ok(Expect::OutOfMemoryOr(Box::new(parse_expect(rest)?))),
        "diverged" => {
            let (entry, fragment) = rest.split_once(' ').unwrap_or((rest, ""));
            let entry = entry.parse().map_err(|_| format!("bad schedule entry `{entry}`"))?;
            Ok(Expect::Diverged { entry, fragment: fragment.to_string() })
        }
        "invalid" if !rest.is_empty() => Ok(Expect::Invalid { rule: rest.to_string() }),
        "malformed" => {
            let (place, fragment) = rest.split_once(' ').unwrap_or((rest, ""));
            if place == "byte" {
                let (offset, fragment) = fragment.split_once(' ').unwrap_or((fragment, ""));
                let offset = offset.parse().map_err(|_| format!("bad byte offset `{offset}`"))?;
                return Ok(Expect::MalformedBytes { offset, fragment: fragment.to_string() });
            }
            let (line, column) =
                place.split_once(':').ok_or_else(|| format!("expected LINE:COLUMN, found `{place}`"))?;
            Ok(Expect::MalformedText {
                line: line.parse().map_err(|_| format!("bad line `{line}`"))?,
                column: column.parse().map_err(|_| format!("bad column `{column}`"))?,
                fragment: fragment.to_string(),
            })
        }
        "trapped" => {
            // trapped KIND at FUNCTION PC [thread ID] [message TEXT]
            let words: Vec<&str> = rest.splitn(4, ' ').collect();
            let [kind, "at", function, tail] = words[..] else {
                return Err(format!("expected `trapped KIND at FUNCTION PC ...`, found `{line}`"));
            };
            let (pc, mut tail) = tail.split_once(' ').unwrap_or((tail, ""));
            let pc = pc.parse().map_err(|_| format!("bad pc `{pc}`"))?;
            let mut thread = None;
            if let Some(t) = tail.strip_prefix("thread ") {
                let (id, more) = t.split_once(' ').unwrap_or((t, ""));
                thread = Some(id.to_string());
                tail = more;
            }
            let message = match tail.strip_prefix("message ") {
                Some("-") => Some(None),
                Some(m) => Some(Some(m.to_string())),
                None if tail.is_empty() => None,
                None => return Err(format!("unexpected `{tail}` after the trap location")),
            };
            Ok(Expect::Trapped { kind: kind.to_string(), function: function.to_string(), pc, thread, message })
        }
        _ => Err(format!("unknown expectation `{line}`")),
    }
}

fn parse_hex(lines: &[&str]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut digits = String::new();
    for line in lines {
        let mut tokens = line.split('#').next().unwrap_or("").split_whitespace();
        while let Some(token) = tokens.next() {
            let Some(count) = token.strip_prefix('*') else {
                digits.push_str(token);
                continue;
            };
            let count: usize = count.parse().map_err(|_| format!("bad repeat count `{token}`"))?;
            let byte = tokens.next().ok_or_else(|| format!("`{token}` needs a byte to repeat"))?;
            let byte = u8::from_str_radix(byte, 16).map_err(|_| format!("bad hex byte `{byte}`"))?;
            flush_hex(&mut digits, &mut out)?;
            out.resize(out.len() + count, byte);
        }
    }
    flush_hex(&mut digits, &mut out)?;
    Ok(out)
}

/// Appends the bytes spelled by `digits` (pairs of hex digits) to `out`, and empties `digits`.
fn flush_hex(digits: &mut String, out: &mut Vec<u8>) -> Result<(), String> {
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    for pair in digits.as_bytes().chunks(2) {
        let s = String::from_utf8_lossy(pair);
        out.push(u8::from_str_radix(&s, 16).map_err(|_| format!("bad hex byte `{s}`"))?);
    }
    digits.clear();
    Ok(())
}

/// Decodes a double-quoted string with escapes `\n \t \r \0 \\ \" \xHH`.
fn unescape(quoted: &str) -> Result<Vec<u8>, String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("expected a double-quoted string, found `{quoted}`"))?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape `\\x{hex}`"))?);
            }
            other => return Err(format!("bad escape `\\{}`", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}

/// Every rule name defined in the spec documents under `spec_dir`, with its file: a rule is
/// defined by `**[name]**` at the start of a paragraph or list item (indented less than four
/// spaces, so examples in code blocks do not count).
pub fn spec_rules(spec_dir: &std::path::Path) -> Vec<(String, String)> {
    let mut rules = Vec::new();
    for path in crate::files_with_extension(spec_dir, "md") {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        for line in text.lines() {
            let indent = line.len() - line.trim_start_matches(' ').len();
            let line = line.trim_start_matches(' ');
            let line = line.strip_prefix("- ").unwrap_or(line);
            let Some(rest) = line.strip_prefix("**[") else { continue };
            let Some(end) = rest.find("]**") else { continue };
            if indent < 4 {
                rules.push((rest[..end].to_string(), file.clone()));
            }
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_expectation_form() {
        let script = "\
# comment
### a
rules: exec.add value.int-wrap
args: 1 two
fuel: 7
schedule: seed:3
--- program
func main() {
}
--- stdout
x
--- expect
trapped type_error at main 4 thread 0.1 message hello there
### b
rules: binary.magic
stdout: \"no newline\\x21\"
--- bytes
00 6c 73 62  # magic
*3 07 01
--- expect
malformed byte 4 version
# a comment between cases
";
        let cases = parse(script, "t.lsc").unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].args, vec!["1", "two"]);
        assert_eq!(cases[0].fuel, Some(7));
        assert_eq!(cases[0].input, Input::Text("func main() {\n}\n".into()));
        assert_eq!(cases[0].stdout, b"x\n");
        assert_eq!(
            cases[0].expect,
            Expect::Trapped {
                kind: "type_error".into(),
                function: "main".into(),
                pc: 4,
                thread: Some("0.1".into()),
                message: Some(Some("hello there".into()))
            }
        );
        assert_eq!(cases[1].input, Input::Bytes(vec![0, b'l', b's', b'b', 7, 7, 7, 1]));
        assert_eq!(cases[1].stdout, b"no newline!");
        assert_eq!(cases[1].expect, Expect::MalformedBytes { offset: 4, fragment: "version".into() });
        assert_eq!(
            parse_expect("malformed 3:9 expected a register").unwrap(),
            Expect::MalformedText { line: 3, column: 9, fragment: "expected a register".into() }
        );
        assert_eq!(parse_expect("finished -0.0").unwrap(), Expect::Finished { value: "-0.0".into() });
        assert!(matches!(
            parse_expect("trapped type_error at main 0 message -").unwrap(),
            Expect::Trapped { message: Some(None), .. }
        ));
        let with_json =
            parse("### j\nrules: a.b\n--- program\nf\n--- expect\ndeadlock\n--- json\n{\"x\":1}\n", "t.lsc").unwrap();
        assert_eq!(with_json[0].json.as_deref(), Some("{\"x\":1}"));
        assert_eq!(
            parse_expect("invalid verify.reg-range").unwrap(),
            Expect::Invalid { rule: "verify.reg-range".into() }
        );
        assert_eq!(
            parse_expect("diverged 3 not runnable").unwrap(),
            Expect::Diverged { entry: 3, fragment: "not runnable".into() }
        );
        assert_eq!(parse_expect("deadlock").unwrap(), Expect::Deadlock { waiting: None });
        assert_eq!(
            parse_expect("deadlock 0 at main 9 joins 0.0,  0.0 at child  1 joins 0.0").unwrap(),
            Expect::Deadlock { waiting: Some(vec!["0 at main 9 joins 0.0".into(), "0.0 at child 1 joins 0.0".into()]) }
        );
        assert!(parse_expect("deadlock 0 at main x joins 0.0").unwrap_err().contains("THREAD at FUNCTION PC"));
        assert!(parse_expect("deadlock 0 at main 9").is_err());
        assert_eq!(
            parse_expect("out-of-memory-or finished 1").unwrap(),
            Expect::OutOfMemoryOr(Box::new(Expect::Finished { value: "1".into() }))
        );
    }

    #[test]
    fn rejects_broken_scripts_with_their_location() {
        for (script, fragment) in [
            ("junk\n", "expected `### case-name`"),
            ("### a\nrules: x.y\n--- expect\ndeadlock\n", "no program"),
            ("### a\nrules: x.y\n--- program\nfunc main() {}\n", "no `--- expect`"),
            ("### a\n--- program\nf\n--- expect\ndeadlock\n", "lists no rules"),
            ("### a\nrules: x.y\n--- program\nf\n--- expect\nexploded\n", "unknown expectation"),
            ("### a\nrules: x.y\nwhat: 1\n", "unknown header"),
            ("### a\nrules: x.y\n--- bytes\n0\n--- expect\ndeadlock\n", "odd number"),
        ] {
            let e = parse(script, "t.lsc").unwrap_err();
            assert!(e.message.contains(fragment), "{script:?}: {e}");
            assert!(e.location.starts_with("t.lsc:"), "{e}");
        }
    }
}
