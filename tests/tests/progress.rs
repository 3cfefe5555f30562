//! `tests/progress.bash`, the progress lines of the long scripts (run-mutants, bench/run): what
//! a line says, that one comes every PROGRESS_EVERY seconds while work goes on, and that none
//! comes after the work has stopped or when it ends before the first tick; and `fuzz/run`'s.

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
fn lines_say_done_total_rate_elapsed_and_time_left() {
    // The line itself, at chosen times: 2 of 8 units in 90 s leave about 270 s.
    let line = with_progress(
        "progress_start demo 8 steps\nprogress_doing 'b on x'\nprogress_step\nprogress_step\n\
         progress_line 2 'b on x' $((_progress_started + 90)) >&2\nprogress_line 0 '' $_progress_started >&2\n\
         progress_line 1 '' $((_progress_started + 4000)) >&2\nprogress_stop",
    );
    assert_eq!(
        line,
        "demo: 2/8 steps, 1.3/min, 1m30s elapsed, about 4m30s left (now: b on x)\n\
         demo: 0/8 steps, 0s elapsed, time left unknown\n\
         demo: 1/8 steps, 0.9/h, 1h06m elapsed, about 7h46m left\n"
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

/// `fuzz/run`'s progress lines, with a stand-in for `cargo +nightly fuzz` that "builds" for 2 s
/// and then prints libFuzzer's status lines for 4 s: a line while it waits, then lines of the
/// seconds fuzzed, the rate and the time left, then the summary.
#[test]
fn fuzz_run_says_how_far_the_campaign_is() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = std::env::temp_dir().join(format!("lockstep-fuzz-progress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["fuzz/corpus/differential", "tests", "bin"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::copy(root.join("fuzz/run"), dir.join("fuzz/run")).unwrap();
    std::fs::copy(root.join("tests/progress.bash"), dir.join("tests/progress.bash")).unwrap();
    std::fs::write(dir.join("fuzz/corpus/differential/seed"), "x").unwrap();
    let cargo = "#!/bin/bash\n[ \"$3\" == --version ] && { echo cargo-fuzz; exit 0; }\nsleep 2\n\
                 echo '#2\tINITED cov: 100 ft: 1 corp: 1/1b exec/s: 0 rss: 30Mb'\n\
                 for i in 1 2 3 4; do sleep 1; echo \"#$((i * 1000))\tNEW cov: $((100 + i)) ft: 2 corp: 2/2b exec/s: $((i * 250)) rss: 31Mb\"; done\n\
                 echo 'stat::number_of_executed_units: 4000'\necho 'stat::average_exec_per_sec: 1000'\n";
    std::fs::write(dir.join("bin/cargo"), cargo).unwrap();
    Command::new("chmod").arg("+x").arg(dir.join("bin/cargo")).status().unwrap();
    let path = format!("{}:{}", dir.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let o = Command::new("bash")
        .arg(dir.join("fuzz/run"))
        .args(["differential", "4s"])
        .env("PATH", path)
        .env("PROGRESS_EVERY", "1")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("fuzz/run differential: not fuzzing yet (building the target or loading the corpus), "),
        "{err}"
    );
    let fuzzing: Vec<&&str> = lines.iter().filter(|l| l.contains(" s fuzzed, ")).collect();
    assert!(!fuzzing.is_empty() && fuzzing.len() <= 5, "{err}");
    for l in fuzzing {
        assert!(
            l.starts_with("fuzz/run differential: ") && l.contains("/4 s fuzzed, ") && l.contains(" execs/s, about "),
            "{l}"
        );
        assert!(l.ends_with(" edges)"), "{l}");
    }
    assert!(out.contains("fuzz/run differential: 4s, 4000 execs, 1000 execs/s, cov 104 edges"), "{out}");
}
