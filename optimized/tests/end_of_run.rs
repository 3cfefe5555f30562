//! [thread.end-of-run] in a parallel run: when main ends, every other thread stops where it is.
//! A thread caught in the middle of a transaction (here, looping inside an atomic block, where no
//! boundary ends it) is abandoned: `par.rs` leaves its transaction without committing it, so
//! nothing it did after main's end is published or counted. `--stm-report` shows it: the
//! abandoned attempt is not among the thread's commits.

use lockstep_optimized as opt;
use lockstep_spec::outcome::End;
use lockstep_spec::VerifiedModule;

/// `spin` commits one transaction (its first segment, which sets the flag), then loops forever
/// inside an atomic block. Main waits for the flag, so `spin` is in its loop by then, works a
/// while and returns: `spin` is abandoned mid-transaction.
const PROGRAM: &str = r#"
func spin(box) {
    local one, zero
    ldi one, 1
    ldi zero, 0
    aset box, zero, one
    yield
    atomic_begin
forever:
    jmp forever
}
func main() {
    local box, zero, one, t, v, c, i, n
    ldi zero, 0
    ldi one, 1
    anew box, one
    spawn t, spin, (box)
wait:
    aget v, box, zero
    ldnil c
    eq c, v, c
    jmpif c, wait
    ldi i, 0
    ldi n, 2000000
busy:
    add i, i, one
    lt c, i, n
    jmpif c, busy
    ret i
}
"#;

fn module() -> VerifiedModule {
    let asm = lockstep_spec::asm::assemble(PROGRAM, "end_of_run.lsa").expect("assembles");
    lockstep_spec::verify::verify(asm.module).expect("verifies")
}

#[test]
fn a_thread_abandoned_at_the_end_of_the_run_commits_nothing_more() {
    let module = module();
    for jit in [opt::JitMode::Off, opt::JitMode::On] {
        for run in 0..3 {
            let config = opt::Config { stm_report: true, jit, ..opt::Config::default() };
            let report = opt::run_with_stats(&module, &config).expect("runs");
            let what = format!("{jit:?}, run {run}");
            assert!(
                matches!(&report.outcome.end, End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(2_000_000)),
                "{what}: {:?}",
                report.outcome.end
            );
            let stm = report.stm.expect("the report was asked for");
            let spin = stm.threads.iter().find(|t| t.id == "0.0").expect("figures of thread 0.0");
            // Its first segment, committed before main could see the flag; the transaction of
            // the atomic block was abandoned, not committed.
            assert_eq!((spin.committed, spin.segments), (1, 1), "{what}: thread 0.0 {spin:?}");
            // The schedule has that one segment of 0.0 and nothing after main's end.
            let of_spin: u64 = report
                .outcome
                .schedule
                .entries
                .iter()
                .filter(|e| e.thread.to_string() == "0.0")
                .map(|e| e.segments)
                .sum();
            assert_eq!(of_spin, 1, "{what}: {}", report.outcome.schedule.to_text());
        }
    }
}
