//! What `--stats` and `--stm-report` show, in two forms: lines for people on stderr (sizes in
//! KiB/MiB, times in us/ms/s, `units`), and JSON objects for tools, which the outcome document
//! carries under `"stats"` and `"stm_report"` (`outcome_json`; the shapes are in README.md).
//!
//! The figures are the optimized engine's public `Stats` and `StmReport`; this module only
//! presents them, so the engine keeps no presentation of its own to keep in step.

use crate::units;
use lockstep_optimized::{AbortKind, Stats, StmReport, ThreadFigures};
use lockstep_spec::outcome::json_bytes;
use std::fmt::Write as _;
use std::time::Duration;

/// A place in the program: function index and name, instruction, and .lsa line when known.
pub struct Place {
    pub function: u32,
    pub function_name: String,
    pub pc: u32,
    pub line: Option<u32>,
}

/// Tier 2's failed guesses by kind: `KIND<between>N`, joined by `sep` (JSON: kinds quoted).
fn deopts(jit: &lockstep_optimized::JitStats, between: &str, sep: &str) -> String {
    let quote = if between == ":" { "\"" } else { "" };
    let kinds = lockstep_optimized::DEOPT_KINDS.iter().zip(jit.region_deopts);
    kinds.map(|(k, n)| format!("{quote}{k}{quote}{between}{n}")).collect::<Vec<_>>().join(sep)
}

/// `--stats` for people, one fact per line, no trailing newline.
pub fn stats_text(s: &Stats) -> String {
    let (ic, jit) = (&s.inline_caches, &s.jit);
    format!(
        "instructions executed: {}\nthreads: {}\n\
         jit: {} functions compiled, {} of code, {} compiling, {} entries into compiled code\n\
         tier 2: {} regions compiled ({} whole functions; {} compiled again, {} copied from another thread's), {} compiling, {} entries, {} laps, failed guesses: {}\n\
         send sites: {} (uninitialized {}, monomorphic {}, polymorphic {}, megamorphic {}); hits {}, misses {}\n\
         gc: {} collections, {} total pause, live after last {}\npeak heap: {}",
        s.instructions,
        s.threads,
        jit.functions_compiled,
        units::bytes(jit.code_bytes),
        units::duration(jit.compile_time),
        jit.entries,
        jit.regions_compiled,
        jit.region_functions,
        jit.region_recompiles,
        jit.region_copies,
        units::duration(jit.region_compile_time),
        jit.region_entries,
        jit.region_laps,
        deopts(jit, " ", ", "),
        ic.sites,
        ic.uninitialized,
        ic.monomorphic,
        ic.polymorphic,
        ic.megamorphic,
        ic.hits,
        ic.misses,
        s.gc.collections,
        units::duration(s.gc.pause_total),
        units::bytes(s.gc.live_bytes_after_last_gc as u64),
        units::bytes(s.gc.peak_heap_bytes as u64),
    )
}

/// `--stats` as a JSON object (bytes and nanoseconds).
pub fn stats_json(s: &Stats) -> String {
    let (ic, jit) = (&s.inline_caches, &s.jit);
    format!(
        "{{\"instructions\":{},\"threads\":{},\"jit\":{{\"functions_compiled\":{},\"code_bytes\":{},\
         \"compile_ns\":{},\"entries\":{},\"regions_compiled\":{},\"region_functions\":{},\"region_recompiles\":{},\"region_copies\":{},\"region_compile_ns\":{},\"region_entries\":{},\"region_laps\":{},\"region_deopts\":{{{}}}}},\"send_sites\":{{\"sites\":{},\"uninitialized\":{},\"monomorphic\":{},\
         \"polymorphic\":{},\"megamorphic\":{},\"hits\":{},\"misses\":{}}},\"gc\":{{\"collections\":{},\
         \"pause_ns\":{},\"live_bytes_after_last\":{},\"peak_heap_bytes\":{}}}}}",
        s.instructions,
        s.threads,
        jit.functions_compiled,
        jit.code_bytes,
        jit.compile_time.as_nanos(),
        jit.entries,
        jit.regions_compiled,
        jit.region_functions,
        jit.region_recompiles,
        jit.region_copies,
        jit.region_compile_time.as_nanos(),
        jit.region_entries,
        jit.region_laps,
        deopts(jit, ":", ","),
        ic.sites,
        ic.uninitialized,
        ic.monomorphic,
        ic.polymorphic,
        ic.megamorphic,
        ic.hits,
        ic.misses,
        s.gc.collections,
        s.gc.pause_total.as_nanos(),
        s.gc.live_bytes_after_last_gc,
        s.gc.peak_heap_bytes,
    )
}

fn kind_name(kind: AbortKind) -> &'static str {
    match kind {
        AbortKind::WriteRead => "write-read",
        AbortKind::WriteWrite => "write-write",
        AbortKind::Inevitable => "inevitable",
    }
}

/// The conflicts sorted by time lost (then count, then place): the order of both forms.
fn conflicts(r: &StmReport) -> Vec<(AbortKind, u32, u32, u64, Duration)> {
    let mut rows: Vec<_> = r.conflicts.iter().map(|(&(k, f, pc), &(n, t))| (k, f, pc, n, t)).collect();
    rows.sort_by(|a, b| b.4.cmp(&a.4).then(b.3.cmp(&a.3)).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
    rows
}

/// `--stm-report` for people, in the manner of PyPy's `print_stm_log`: totals, conflicts by time
/// lost, per-thread figures. The first line keeps the form `stm: threads T, committed C, aborted
/// A (P% of attempts), ...`, which `bench/run-threads` reads.
/// `file` names the program in `(file:line)` after a place whose line is known.
pub fn stm_text(r: &StmReport, file: &str, place: &dyn Fn(u32, u32) -> Place) -> String {
    let mut s = String::new();
    let sum = |f: fn(&ThreadFigures) -> u64| r.threads.iter().map(f).sum::<u64>();
    let (committed, aborted, inevitable) = (sum(|t| t.committed), sum(|t| t.aborted), sum(|t| t.inevitable));
    let lost: Duration = r.threads.iter().map(|t| t.lost).sum();
    let attempts = (committed + aborted).max(1);
    let _ = writeln!(
        s,
        "stm: threads {}, committed {committed}, aborted {aborted} ({:.1}% of attempts), inevitable {inevitable}, \
         lost in aborts {}, waiting {}",
        r.threads.len(),
        aborted as f64 * 100.0 / attempts as f64,
        units::duration(lost),
        units::duration(r.waiting)
    );
    for (kind, func, pc, n, t) in conflicts(r) {
        let p = place(func, pc);
        let line = p.line.map(|l| format!(" ({file}:{l})")).unwrap_or_default();
        let _ = writeln!(
            s,
            "  {} lost in aborts ({n}x {}) at function `{}` instruction {}{line}",
            units::duration(t),
            kind_name(kind),
            p.function_name,
            p.pc
        );
    }
    let _ = writeln!(s, "per thread:");
    for t in &r.threads {
        let _ = writeln!(
            s,
            "  {:<8} committed {}, aborted {}, inevitable {}, average length {:.1} segments, lost {}",
            t.id,
            t.committed,
            t.aborted,
            t.inevitable,
            t.segments as f64 / t.committed.max(1) as f64,
            units::duration(t.lost)
        );
    }
    s
}

/// `--stm-report` as a JSON object (nanoseconds; conflicts in the order of the text form).
pub fn stm_json(r: &StmReport, place: &dyn Fn(u32, u32) -> Place) -> String {
    let mut s = String::from("{\"threads\":[");
    for (i, t) in r.threads.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"id\":");
        json_bytes(&mut s, t.id.as_bytes());
        let _ = write!(
            s,
            ",\"committed\":{},\"aborted\":{},\"inevitable\":{},\"segments\":{},\"lost_ns\":{}}}",
            t.committed,
            t.aborted,
            t.inevitable,
            t.segments,
            t.lost.as_nanos()
        );
    }
    let _ = write!(s, "],\"waiting_ns\":{},\"conflicts\":[", r.waiting.as_nanos());
    for (i, (kind, func, pc, n, t)) in conflicts(r).into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let p = place(func, pc);
        let _ = write!(s, "{{\"kind\":\"{}\",\"function\":{},\"function_name\":", kind_name(kind), p.function);
        json_bytes(&mut s, p.function_name.as_bytes());
        let line = p.line.map_or("null".to_string(), |l| l.to_string());
        let _ = write!(s, ",\"pc\":{},\"line\":{line},\"count\":{n},\"lost_ns\":{}}}", p.pc, t.as_nanos());
    }
    s.push_str("]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> StmReport {
        let mut r = StmReport {
            threads: vec![
                ThreadFigures {
                    id: "0".into(),
                    committed: 3,
                    aborted: 1,
                    inevitable: 0,
                    segments: 5,
                    lost: Duration::from_micros(40),
                },
                ThreadFigures {
                    id: "0.0".into(),
                    committed: 10,
                    aborted: 0,
                    inevitable: 2,
                    segments: 100,
                    lost: Duration::ZERO,
                },
            ],
            waiting: Duration::from_millis(2),
            ..StmReport::default()
        };
        r.conflicts.insert((AbortKind::WriteRead, 1, 4), (1, Duration::from_micros(40)));
        r.conflicts.insert((AbortKind::WriteWrite, 0, 2), (3, Duration::from_micros(900)));
        r
    }

    fn place(func: u32, pc: u32) -> Place {
        Place { function: func, function_name: format!("f{func}"), pc, line: (func == 1).then_some(7) }
    }

    #[test]
    fn stm_report_text_uses_human_units_and_sorts_by_time_lost() {
        let text = stm_text(&report(), "p.lsa", &place);
        let want = "stm: threads 2, committed 13, aborted 1 (7.1% of attempts), inevitable 2, lost in aborts 40.0 us, \
                    waiting 2.00 ms\n  \
                    900 us lost in aborts (3x write-write) at function `f0` instruction 2\n  \
                    40.0 us lost in aborts (1x write-read) at function `f1` instruction 4 (p.lsa:7)\n\
                    per thread:\n  \
                    0        committed 3, aborted 1, inevitable 0, average length 1.7 segments, lost 40.0 us\n  \
                    0.0      committed 10, aborted 0, inevitable 2, average length 10.0 segments, lost 0 s\n";
        assert_eq!(text, want);
    }

    #[test]
    fn stm_report_json() {
        let want = r#"{"threads":[{"id":"0","committed":3,"aborted":1,"inevitable":0,"segments":5,"lost_ns":40000},{"id":"0.0","committed":10,"aborted":0,"inevitable":2,"segments":100,"lost_ns":0}],"waiting_ns":2000000,"conflicts":[{"kind":"write-write","function":0,"function_name":"f0","pc":2,"line":null,"count":3,"lost_ns":900000},{"kind":"write-read","function":1,"function_name":"f1","pc":4,"line":7,"count":1,"lost_ns":40000}]}"#;
        assert_eq!(stm_json(&report(), &place), want);
    }

    #[test]
    fn stats_text_and_json() {
        let mut s = Stats { instructions: 1234, threads: 2, ..Stats::default() };
        s.gc.collections = 3;
        s.gc.pause_total = Duration::from_micros(1500);
        s.gc.peak_heap_bytes = 3 << 20;
        s.gc.live_bytes_after_last_gc = 2048;
        s.inline_caches.sites = 4;
        s.inline_caches.monomorphic = 4;
        s.inline_caches.hits = 99;
        s.jit.functions_compiled = 2;
        s.jit.code_bytes = 5000;
        s.jit.compile_time = Duration::from_micros(250);
        s.jit.entries = 7;
        s.jit.regions_compiled = 1;
        s.jit.region_compile_time = Duration::from_micros(200);
        s.jit.region_entries = 9;
        s.jit.region_laps = 90;
        s.jit.region_deopts = [0, 1, 2, 3, 4];
        let text = stats_text(&s);
        assert!(
            text.contains(
                "\ntier 2: 1 regions compiled (0 whole functions; 0 compiled again, 0 copied from another thread's), 200 us compiling, 9 entries, 90 laps, failed guesses: entry 0, operand 1, overflow 2, float_range 3, alias 4\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "\njit: 2 functions compiled, 4.88 KiB of code, 250 us compiling, 7 entries into compiled code\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("gc: 3 collections, 1.50 ms total pause, live after last 2.00 KiB\npeak heap: 3.00 MiB"),
            "{text}"
        );
        assert!(text.starts_with("instructions executed: 1234\nthreads: 2\njit: "), "{text}");
        assert!(text.contains("\nsend sites: 4 (uninitialized 0, monomorphic 4, polymorphic 0,"), "{text}");
        assert_eq!(
            stats_json(&s),
            r#"{"instructions":1234,"threads":2,"jit":{"functions_compiled":2,"code_bytes":5000,"compile_ns":250000,"entries":7,"regions_compiled":1,"region_functions":0,"region_recompiles":0,"region_copies":0,"region_compile_ns":200000,"region_entries":9,"region_laps":90,"region_deopts":{"entry":0,"operand":1,"overflow":2,"float_range":3,"alias":4}},"send_sites":{"sites":4,"uninitialized":0,"monomorphic":4,"polymorphic":0,"megamorphic":0,"hits":99,"misses":0},"gc":{"collections":3,"pause_ns":1500000,"live_bytes_after_last":2048,"peak_heap_bytes":3145728}}"#
        );
    }
}
