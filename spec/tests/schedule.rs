//! Thread ids and the schedule file format of `spec/concurrency.md`.

use lockstep_spec::schedule::{Schedule, ScheduleEntry, ThreadId};

fn id(parts: &[u32]) -> ThreadId {
    ThreadId(parts.to_vec())
}

fn entries(list: &[(&[u32], u64)]) -> Schedule {
    Schedule { entries: list.iter().map(|&(t, n)| ScheduleEntry { thread: id(t), segments: n }).collect() }
}

#[test]
fn thread_ids_display_and_parse() {
    for (parts, text) in
        [(&[0][..], "0"), (&[0, 1], "0.1"), (&[0, 1, 0], "0.1.0"), (&[0, 12, 4294967295], "0.12.4294967295")]
    {
        assert_eq!(id(parts).to_string(), text);
        assert_eq!(text.parse::<ThreadId>(), Ok(id(parts)), "{text}");
    }
    for bad in ["", "1", "0.", ".0", "0..1", "00", "0.01", "0.-1", "0.+1", "0.a", " 0", "0.4294967296", "0 1"] {
        assert!(bad.parse::<ThreadId>().is_err(), "{bad:?} should not parse");
    }
    // A letter after digits, a non-ASCII digit, a part past u32::MAX.
    for bad in ["0.1a", "0.\u{663}", "0.99999999999"] {
        assert!(bad.parse::<ThreadId>().is_err(), "{bad:?} should not parse");
    }
    assert_eq!(ThreadId::main().child(3).child(0).to_string(), "0.3.0");
    let mut sorted = vec![id(&[0, 1]), id(&[0, 0, 5]), id(&[0]), id(&[0, 0])];
    sorted.sort();
    assert_eq!(sorted, vec![id(&[0]), id(&[0, 0]), id(&[0, 0, 5]), id(&[0, 1])]);
}

#[test]
fn parse_accepts_entries_comments_and_blank_lines() {
    let text =
        "lockstep-schedule 1\n# a comment\n\n0 3\n0.1 1   # trailing comment\n  0.1\t2\n0 18446744073709551615\n";
    let want = entries(&[(&[0], 3), (&[0, 1], 1), (&[0, 1], 2), (&[0], u64::MAX)]);
    assert_eq!(Schedule::parse(text), Ok(want));
    assert_eq!(Schedule::parse("lockstep-schedule 1"), Ok(Schedule::default()));
    assert_eq!(Schedule::parse("lockstep-schedule 1\r\n0 2\r\n"), Ok(entries(&[(&[0], 2)])));
}

#[test]
fn parse_rejects_malformed_files_naming_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "header"),
        ("lockstep-schedule 2\n0 1\n", 1, "header"),
        ("# comment\nlockstep-schedule 1\n", 1, "header"),
        (" lockstep-schedule 1\n", 1, "header"),
        ("lockstep-schedule 1\n0\n", 2, "no segment count"),
        ("lockstep-schedule 1\n0 1\n0 0\n", 3, "segment count"),
        ("lockstep-schedule 1\n0 -1\n", 2, "segment count"),
        ("lockstep-schedule 1\n0 +1\n", 2, "segment count"),
        ("lockstep-schedule 1\n0 18446744073709551616\n", 2, "segment count"),
        ("lockstep-schedule 1\n0 1 2\n", 2, "unexpected"),
        ("lockstep-schedule 1\n1 1\n", 2, "not a thread id"),
        ("lockstep-schedule 1\n\n0.x 1\n", 3, "not a thread id"),
    ];
    for &(text, line, needle) in cases {
        let err = Schedule::parse(text).expect_err(text);
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(err.message.contains(needle), "{text:?}: {err}");
        assert!(err.to_string().starts_with(&format!("line {line}: ")));
    }
}

#[test]
fn push_segment_coalesces_and_to_text_round_trips() {
    let mut s = Schedule::default();
    for t in [&[0][..], &[0], &[0, 1], &[0], &[0], &[0], &[0, 1, 0]] {
        s.push_segment(&id(t));
    }
    assert_eq!(s, entries(&[(&[0], 2), (&[0, 1], 1), (&[0], 3), (&[0, 1, 0], 1)]));
    assert_eq!(s.segment_count(), 7);
    let text = s.to_text();
    assert_eq!(text, "lockstep-schedule 1\n0 2\n0.1 1\n0 3\n0.1.0 1\n");
    assert_eq!(Schedule::parse(&text), Ok(s));
}
