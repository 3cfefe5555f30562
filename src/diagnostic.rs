//! Diagnostics for people: the one renderer of assembler errors, verifier errors, traps,
//! deadlocks and errors at a byte of a binary file (a hex dump with the byte marked), in the
//! form rustc made familiar (`error[...]: ...`, ` --> file:line:col`, the source line with the
//! whole token underlined, `help:` and `note:` lines), drawn by `annotate-snippets`, the
//! renderer rustc and cargo use.
//!
//! `lockstep-spec` hands out the facts (positions, widths, suggestions, the source map, the
//! trap report, a deadlock's blocked threads); this module only lays them out. Everything
//! quoted from the input or from the guest (source lines, names, trap messages) goes through
//! [`printable`] first, so a hostile file cannot drive the terminal. Colour is used when stderr is a terminal, or when
//! `CLICOLOR_FORCE` is set and not `0`, and never when `NO_COLOR` is set and not empty
//! (<https://no-color.org>, <https://bixense.com/clicolors/>).

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use lockstep_spec::asm::{printable, AsmError, SourceMap, Span};
use lockstep_spec::outcome::{BlockedThread, StackFrame, TrapInfo};
use lockstep_spec::verify::VerifyError;
use std::io::IsTerminal;

/// Frames of a call stack shown at each end of a long one (a stack overflow has 10,000).
const STACK_ENDS: usize = 8;
/// Joined threads' traps shown at each end of a long chain of `thread_trapped`.
const CHAIN_ENDS: usize = 2;
/// Blocked threads shown at each end of a long list of them in a deadlock.
const BLOCKED_ENDS: usize = 4;

/// The program a diagnostic is about: how to name it, and its text when it is `.lsa`.
pub struct Source<'a> {
    pub name: &'a str,
    pub text: Option<&'a str>,
}

impl Source<'_> {
    /// Line `n` (1-based) of the text, without its line ending.
    fn line(&self, n: u32) -> Option<&str> {
        let line = self.text?.split('\n').nth((n as usize).checked_sub(1)?)?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    /// `name:line:col` of a span, or the name alone.
    fn place(&self, span: Option<Span>) -> String {
        match span {
            Some(s) => format!("{}:{}:{}", self.name, s.line, s.column),
            None => self.name.to_string(),
        }
    }
}

/// Whether diagnostics on stderr are coloured.
pub fn colour() -> bool {
    let set = |name: &str, off: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != off);
    !set("NO_COLOR", "") && (set("CLICOLOR_FORCE", "0") || std::io::stderr().is_terminal())
}

fn renderer(colour: bool) -> Renderer {
    if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

/// A source line made safe to show, and the byte range of `span` in it.
struct Shown {
    line: String,
    range: std::ops::Range<usize>,
}

/// Escapes `line` piece by piece, so that the span still covers the same characters.
fn shown(line: &str, span: Span) -> Shown {
    let start = (span.column as usize).saturating_sub(1);
    let before: String = line.chars().take(start).collect();
    let token: String = line.chars().skip(start).take(span.width as usize).collect();
    let after: String = line.chars().skip(start + span.width as usize).collect();
    let (before, token, after) = (printable(&before), printable(&token), printable(&after));
    let range = before.len()..before.len() + token.len();
    Shown { line: format!("{before}{token}{after}"), range }
}

/// The snippet of `source` at `span`, labelled, or `None` without source text.
fn snippet<'a>(
    source: &Source<'a>,
    span: Span,
    label: String,
) -> Option<Snippet<'a, annotate_snippets::Annotation<'a>>> {
    let shown = shown(source.line(span.line)?, span);
    Some(
        Snippet::source(shown.line)
            .line_start(span.line as usize)
            .path(source.name.to_string())
            .annotation(AnnotationKind::Primary.span(shown.range).label(label)),
    )
}

/// An assembler error: where, the token underlined, and the suggestion as `help:`.
pub fn asm_error(e: &AsmError, colour: bool) -> String {
    let span = Span { line: e.line, column: e.column, width: e.width };
    let shown = shown(&e.source_line, span);
    let title = Level::ERROR.primary_title(printable(&e.message).into_owned()).element(
        Snippet::source(shown.line)
            .line_start(e.line as usize)
            .path(e.file.clone())
            .annotation(AnnotationKind::Primary.span(shown.range)),
    );
    let mut report = vec![title];
    if let Some(help) = &e.help {
        report.push(Group::with_title(Level::HELP.secondary_title(printable(help).into_owned())));
    }
    renderer(colour).render(&report)
}

/// A verifier error: the rule, and on text input the source line it is about.
pub fn verify_error(e: &VerifyError, source: &Source, colour: bool) -> String {
    let mut place = String::new();
    if let Some((_, name)) = &e.function {
        place.push_str(&format!("in function `{}`", printable(name)));
    }
    if let Some(pc) = e.pc {
        place.push_str(&format!(" at instruction {pc}"));
    }
    if e.class.is_some() {
        // The message names the class.
        place.push_str("in this class");
    }
    let title = Level::ERROR.primary_title(format!("invalid module: {}", printable(&e.message))).id(e.rule);
    let group = match e.span.and_then(|span| snippet(source, span, place.clone())) {
        Some(snippet) => title.element(snippet),
        None if place.is_empty() => title.element(Origin::path(source.name.to_string())),
        None => title.element(Origin::path(source.name.to_string())).element(Level::NOTE.message(place)),
    };
    renderer(colour).render(&[group])
}

/// A trap: what and where, the source line on text input, the guest call stack, and for
/// `thread_trapped` where the joined thread trapped (and so on down a chain of joins).
pub fn trap(trap: &TrapInfo, source: &Source, map: Option<&SourceMap>, colour: bool) -> String {
    let mut chain = vec![trap];
    while let Some(joined) = &chain[chain.len() - 1].joined {
        chain.push(joined);
    }
    let mut report = Vec::new();
    let last = chain.len() - 1;
    for (i, t) in chain.iter().enumerate() {
        if chain.len() > 2 * CHAIN_ENDS + 1 && i == CHAIN_ENDS {
            let elided = chain.len() - 2 * CHAIN_ENDS;
            report.push(Group::with_title(
                Level::NOTE.secondary_title(format!("{elided} more threads trapped in joins of trapped threads")),
            ));
        }
        if chain.len() > 2 * CHAIN_ENDS + 1 && (CHAIN_ENDS..=last - CHAIN_ENDS).contains(&i) {
            continue;
        }
        let level = if i == 0 { Level::ERROR } else { Level::NOTE };
        let title = if i == 0 {
            level.primary_title(printable(&t.detail).into_owned()).id(t.kind.name())
        } else {
            level.secondary_title(format!(
                "thread {} had trapped: {} [{}]",
                t.thread,
                printable(&t.detail),
                t.kind.name()
            ))
        };
        let here =
            format!("thread {} trapped here, in `{}` at instruction {}", t.thread, printable(&t.function_name), t.pc);
        let span = map.and_then(|m| m.instruction(t.function, t.pc));
        let group = match span.and_then(|span| snippet(source, span, here.clone())) {
            Some(snippet) => title.element(snippet),
            None => title.element(Origin::path(source.name.to_string())).element(Level::NOTE.message(here)),
        };
        let group = match &t.callers {
            Some(callers) if !callers.is_empty() => group.element(Level::NOTE.message(stack(t, callers, source, map))),
            _ => group,
        };
        report.push(group);
    }
    renderer(colour).render(&report)
}

/// A deadlock ([thread.deadlock]): for each blocked thread (a long list cut in the middle), the
/// `join` it waits at, as a source line on text input, and the thread it waits for.
pub fn deadlock(blocked: &[BlockedThread], source: &Source, map: Option<&SourceMap>, colour: bool) -> String {
    let title = match blocked.len() {
        1 => "no thread can run: 1 thread waits in a join".to_string(),
        n => format!("no thread can run: {n} threads wait in joins"),
    };
    let mut group = Group::with_title(Level::ERROR.primary_title(title).id("deadlock"));
    let n = blocked.len();
    for (i, b) in blocked.iter().enumerate() {
        if n > 2 * BLOCKED_ENDS + 1 && i == BLOCKED_ENDS {
            group = group.element(Level::NOTE.message(format!("{} more threads wait in joins", n - 2 * BLOCKED_ENDS)));
        }
        if n > 2 * BLOCKED_ENDS + 1 && (BLOCKED_ENDS..n - BLOCKED_ENDS).contains(&i) {
            continue;
        }
        let itself = if b.waits_for == b.thread { " (itself)" } else { "" };
        let here = format!(
            "thread {} waits here for thread {}{itself}, in `{}` at instruction {}",
            b.thread,
            b.waits_for,
            printable(&b.function_name),
            b.pc
        );
        let span = map.and_then(|m| m.instruction(b.function, b.pc));
        group = match span.and_then(|span| snippet(source, span, here.clone())) {
            Some(snippet) => group.element(snippet),
            None if i == 0 => group.element(Origin::path(source.name.to_string())).element(Level::NOTE.message(here)),
            None => group.element(Level::NOTE.message(here)),
        };
    }
    renderer(colour).render(&[group])
}

/// The call stack at a trap, innermost first, numbered from the trapping frame (0), one frame
/// per line, a long stack cut in the middle.
fn stack(t: &TrapInfo, callers: &[StackFrame], source: &Source, map: Option<&SourceMap>) -> String {
    let top = StackFrame { function: t.function, function_name: t.function_name.clone(), pc: t.pc };
    let frames: Vec<&StackFrame> = std::iter::once(&top).chain(callers).collect();
    let mut text = String::from("call stack, innermost first:");
    let n = frames.len();
    for (i, f) in frames.iter().enumerate() {
        if n > 2 * STACK_ENDS + 1 && i == STACK_ENDS {
            text.push_str(&format!("\n   ... {} more frames ...", n - 2 * STACK_ENDS));
        }
        if n > 2 * STACK_ENDS + 1 && (STACK_ENDS..n - STACK_ENDS).contains(&i) {
            continue;
        }
        let span = map.and_then(|m| m.instruction(f.function, f.pc));
        let at = if span.is_some() { format!(", {}", source.place(span)) } else { String::new() };
        text.push_str(&format!("\n{i:>4}: `{}` at instruction {}{at}", printable(&f.function_name), f.pc));
    }
    text
}

/// Bytes per row of a dump of a binary file.
const DUMP_ROW: usize = 16;

/// An error at a byte of a file that has no text to show (a malformed binary module, a file
/// that is neither a module nor UTF-8): the message, then the row of a hex dump that holds the
/// byte and the row before it, the byte marked (past the last byte when the file ended too soon).
pub fn byte_error(message: &str, name: &str, bytes: &[u8], offset: usize, colour: bool) -> String {
    let offset = offset.min(bytes.len());
    let end = if offset == bytes.len() { ", the end of the file" } else { "" };
    let mut dump = format!("byte {offset:#x} of {:#x}{end}:", bytes.len());
    let row = offset / DUMP_ROW;
    for r in row.saturating_sub(1)..=row {
        let start = r * DUMP_ROW;
        let chunk = &bytes[start.min(bytes.len())..bytes.len().min(start + DUMP_ROW)];
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let text: String =
            chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
        dump.push_str(&format!("\n{start:08x}  {:<w$}  |{text}|", hex.join(" "), w = 3 * DUMP_ROW - 1));
    }
    dump.push_str(&format!("\n{}^^", " ".repeat(10 + 3 * (offset % DUMP_ROW))));
    let title = Level::ERROR.primary_title(printable(message).into_owned());
    renderer(colour).render(&[title.element(Origin::path(name.to_string())).element(Level::NOTE.message(dump))])
}

/// A plain error that has no source to show (an unreadable file, a malformed binary module).
pub fn error(message: &str, colour: bool) -> String {
    renderer(colour).render(&[Group::with_title(Level::ERROR.primary_title(printable(message).into_owned()))])
}
