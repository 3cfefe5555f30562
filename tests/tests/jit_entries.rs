//! Compiled code calls compiled code (inline calls, sends dispatched from the class table or
//! the inline cache, and calls through `jit/calls.rs`'s helper, which continues at the callee's
//! compiled code): the interpreter enters compiled code a few dozen times in a run of 22,000
//! calls and sends, not once per call. (`--stats`' "entries into compiled code"; when a change
//! makes compiled code leave at every call the outcome stays, only the time grows, so this is
//! the test that sees it.)

use lockstep_optimized as opt;

/// `fib(20)` by calls, and the same by sends to an object's method: 21,890 calls and sends.
const PROGRAM: &str = "class C {\n field f\n method fib fibm\n}\n\
func fib(n) {\n local two, one, a, b\n ldi two, 2\n lt a, n, two\n jmpif a, small\n ldi one, 1\n sub n, n, one\n \
call a, fib, (n)\n sub n, n, one\n call b, fib, (n)\n add a, a, b\n ret a\nsmall:\n ret n\n}\n\
func fibm(self, n) {\n local two, one, a, b\n ldi two, 2\n lt a, n, two\n jmpif a, small\n ldi one, 1\n sub n, n, one\n \
send a, self, \"fib\", (n)\n sub n, n, one\n send b, self, \"fib\", (n)\n add a, a, b\n ret a\nsmall:\n ret n\n}\n\
func main() {\n local n, a, b, o\n ldi n, 20\n call a, fib, (n)\n new o, C\n send b, o, \"fib\", (n)\n add a, a, b\n ret a\n}\n";

#[test]
fn compiled_code_calls_compiled_code() {
    let program = lockstep_spec::program::load_program(PROGRAM.as_bytes(), "jit_entries.lsa").unwrap();
    for stm in [false, true] {
        let config = opt::Config { stm, jit: opt::JitMode::Always, stats: true, ..opt::Config::default() };
        let report = opt::run_with_stats(&program.module, &config).expect("runs");
        let s = report.stats.expect("stats were asked for");
        assert!(
            matches!(&report.outcome.end, lockstep_spec::outcome::End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(13530)),
            "stm {stm}: {:?}",
            report.outcome.end
        );
        // 39 with --stm=off, 70 with the STM; 21,921 when every call enters from the interpreter.
        assert!(s.jit.entries < 1000, "stm {stm}: compiled code left at calls: {:?}", s.jit);
    }
}
