//! The baseline JIT's own checks (its outcomes are checked with every other engine's, in
//! `differential.rs` and the suites of `lockstep-tests`): code memory is never writable and
//! executable at once, `--stats` reports what was compiled, and the modes do what they say.

use lockstep_optimized::{run_with_stats, Config, JitMode};
use lockstep_spec::VerifiedModule;
use std::sync::atomic::{AtomicBool, Ordering};

fn module(text: &str) -> VerifiedModule {
    let asm = lockstep_spec::asm::assemble(text, "test.lsa").expect("assembles");
    lockstep_spec::verify::verify(asm.module).expect("verifies")
}

/// A loop of `n` iterations that runs compiled (`ldi` and `add` fused, a fused compare and
/// backward jump).
fn counting_loop(n: u64) -> VerifiedModule {
    module(&format!(
        "func main() {{
            local s, n, one, t
            ldi s, 0
            ldi n, {n}
        loop:
            ldi one, 1
            add s, s, one
            lt t, s, n
            jmpif t, loop
            println s
            ret s
        }}"
    ))
}

/// Anonymous mappings of this process that are executable: (writable and executable ones, all).
fn exec_mappings() -> (Vec<String>, usize) {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    let mut wx = Vec::new();
    let mut exec = 0;
    for line in maps.lines() {
        let perms = line.split_whitespace().nth(1).unwrap_or("");
        if perms.contains('x') {
            exec += 1;
            if perms.contains('w') {
                wx.push(line.to_string());
            }
        }
    }
    (wx, exec)
}

#[test]
fn code_memory_is_never_writable_and_executable() {
    if !cfg!(target_arch = "x86_64") {
        return; // (no code generator: nothing is mapped)
    }
    let (wx, before) = exec_mappings();
    assert!(wx.is_empty(), "writable and executable before any run: {wx:?}");
    let m = counting_loop(30_000_000);
    let done = AtomicBool::new(false);
    let (samples, most, report) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let (mut samples, mut most) = (0, 0);
            while !done.load(Ordering::Relaxed) {
                let (wx, exec) = exec_mappings();
                assert!(wx.is_empty(), "writable and executable while compiled code runs: {wx:?}");
                most = most.max(exec);
                samples += 1;
            }
            (samples, most)
        });
        let config = Config { jit: JitMode::Always, stm: false, stats: true, ..Config::default() };
        let report = run_with_stats(&m, &config).expect("runs");
        done.store(true, Ordering::Relaxed);
        let (samples, most) = watcher.join().expect("the watcher");
        (samples, most, report)
    });
    assert_eq!(report.outcome.stdout, b"30000000\n");
    assert!(samples > 0);
    assert!(most > before, "the watcher never saw the code mapping ({samples} samples)");
    let jit = report.stats.expect("stats").jit;
    assert!(jit.functions_compiled >= 1 && jit.code_bytes > 0, "{jit:?}");
}

#[test]
fn stats_count_the_same_instructions_with_and_without_compiled_code() {
    let m = counting_loop(1000);
    let run = |jit, stm| {
        let config = Config { jit, stm, stats: true, ..Config::default() };
        run_with_stats(&m, &config).expect("runs").stats.expect("stats")
    };
    for stm in [false, true] {
        let interpreted = run(JitMode::Off, stm);
        assert_eq!(interpreted.jit.functions_compiled, 0);
        for jit in [JitMode::Always, JitMode::Stress(3), JitMode::On] {
            let s = run(jit, stm);
            assert_eq!(s.instructions, interpreted.instructions, "{jit:?} stm {stm}");
            if cfg!(target_arch = "x86_64") {
                assert!(s.jit.functions_compiled >= 1 && s.jit.entries >= 1, "{jit:?} stm {stm}: {:?}", s.jit);
            }
        }
    }
}

#[test]
fn on_compiles_only_what_gets_hot() {
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    let stats = |n, jit| {
        let config = Config { jit, stm: false, stats: true, ..Config::default() };
        run_with_stats(&counting_loop(n), &config).expect("runs").stats.expect("stats").jit
    };
    assert_eq!(stats(3, JitMode::On).functions_compiled, 0, "three iterations are not hot");
    assert_eq!(stats(3, JitMode::Always).functions_compiled, 1);
    let hot = stats(10_000, JitMode::On);
    assert_eq!(hot.functions_compiled, 1);
    assert!(hot.entries >= 1);
}
