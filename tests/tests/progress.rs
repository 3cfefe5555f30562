//! `tests/progress.bash`, the progress lines of the long scripts (run-mutants, bench/run): what
//! a line says, that one comes every PROGRESS_EVERY seconds while work goes on, and that none
//! comes after the work has stopped or when it ends before the first tick.

use std::process::Command;

/// Runs `body` in bash with the helper sourced; returns its stderr.
fn with_progress(body: &str) -> String {
    let helper = concat!(env!("CARGO_MANIFEST_DIR"), "/progress.bash");
    let script = format!("set -euo pipefail\nsource {helper}\n{body}");
    let o = Command::new("bash").arg("-c").arg(script).output().expect("bash runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn lines_say_done_total_elapsed_and_time_left() {
    // The line itself, at chosen times: 2 of 8 units in 90 s leave about 270 s.
    let line = with_progress(
        "progress_start demo 8 steps\nprogress_doing 'b on x'\nprogress_step\nprogress_step\n\
         progress_line 2 'b on x' $((_progress_started + 90)) >&2\nprogress_line 0 '' $_progress_started >&2\n\
         progress_line 1 '' $((_progress_started + 4000)) >&2\nprogress_stop",
    );
    assert_eq!(
        line,
        "demo: 2/8 steps, 1m30s elapsed, about 4m30s left (now: b on x)\n\
         demo: 0/8 steps, 0s elapsed, time left unknown\n\
         demo: 1/8 steps, 1h06m elapsed, about 7h46m left\n"
    );
}

#[test]
fn a_line_comes_every_interval_while_work_goes_on_and_none_after() {
    let err = with_progress(
        "PROGRESS_EVERY=1 progress_start demo 3 steps\nprogress_doing first\nsleep 2.5\nprogress_step\n\
         progress_doing second\nsleep 1.5\nprogress_stop\nsleep 2",
    );
    let lines: Vec<&str> = err.lines().collect();
    assert!((3..=4).contains(&lines.len()), "{err}");
    assert!(lines[0].starts_with("demo: 0/3 steps, ") && lines[0].ends_with("time left unknown (now: first)"), "{err}");
    let last = lines[lines.len() - 1];
    assert!(last.starts_with("demo: 1/3 steps, ") && last.ends_with("left (now: second)"), "{err}");
    // Work that ends before the first tick prints nothing; PROGRESS_EVERY=0 starts no ticker.
    assert_eq!(with_progress("progress_start demo 1 steps\nprogress_step\nprogress_stop"), "");
    let ticker = "progress_start demo 1 steps\necho \"ticker=${_progress_ticker:-none}\" >&2\nprogress_stop";
    assert_eq!(with_progress(&format!("PROGRESS_EVERY=0 {ticker}")), "ticker=none\n");
    assert_ne!(with_progress(&format!("PROGRESS_EVERY=5 {ticker}")), "ticker=none\n");
}
