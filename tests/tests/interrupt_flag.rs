//! An interrupt flag that is never set changes nothing. `lockstep run` and the library's `Vm`
//! always pass one (to stop a run from another host thread), and an engine given one takes
//! other paths: compiled code looks at the flag every few thousand boundaries, so with
//! `--stm=off` it is given fewer boundaries to pass on its own (`Mode::jit_boundaries`). The
//! suites run the engines without a flag; here two threads that can both run count in loops,
//! so round-robin gives each one segment a turn and compiled code must stop at the first
//! backward jump. With a flag, `--stm=off` must still follow the reference's round-robin
//! schedule exactly.

use lockstep_optimized as opt;
use lockstep_spec::host::Interrupt;
use lockstep_tests::{Engine, RunSettings};

const PROGRAM: &str = "func count(n) {\n local i, one, c\n ldi i, 0\n ldi one, 1\nloop:\n add i, i, one\n \
                       lt c, i, n\n jmpif c, loop\n ret i\n}\nfunc main() {\n local a, b, n, r, s\n ldi n, 4\n \
                       spawn a, count, (n)\n spawn b, count, (n)\n join r, a\n join s, b\n add r, r, s\n ret r\n}\n";

#[test]
fn an_unset_interrupt_flag_leaves_the_round_robin_schedule_as_it_is() {
    let program = lockstep_spec::program::load_program(PROGRAM.as_bytes(), "interrupt_flag.lsa").unwrap();
    let expected = Engine::Reference.run_with(&program, &RunSettings::default()).unwrap();
    for jit in [opt::JitMode::Off, opt::JitMode::Always, opt::JitMode::Stress(1)] {
        let config = opt::Config { stm: false, jit, interrupt: Some(Interrupt::new()), ..opt::Config::default() };
        let outcome = opt::run(&program.module, &config).unwrap_or_else(|e| panic!("{jit:?}: {e}"));
        assert_eq!(outcome.to_json(), expected.to_json(), "--stm=off, {jit:?}, with an interrupt flag");
    }
}
