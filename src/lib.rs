//! `lockstep`: run lockstep programs from Rust, on either engine, the way the `lockstep` command
//! does (it is built on this crate).
//!
//! Load a program ([`load`]: binary or assembly text, verified), choose how to run it
//! ([`Config`]: engine, fuel, heap limit, arguments), make a [`Vm`], and [`Vm::run`] `main` or
//! [`Vm::invoke`] any function with arguments. Guest output streams to any [`std::io::Write`]
//! as the program prints; the result is a [`Report`] holding the typed [`Outcome`] (how the run
//! ended: [`End::Finished`] with main's value, [`End::Trapped`] with the [`TrapInfo`], or
//! [`End::Deadlock`] with each [`BlockedThread`]), or an [`Error`] when the run could not
//! complete (a limit, the output, an interrupt). Another thread stops a run with an
//! [`InterruptHandle`]. [`compare`] runs a program on two configurations and says what differs
//! ([`Comparison::difference`]);
//! [`compare_replaying`] is the schedule-replay oracle of `lockstep diff`.
//!
//! ```
//! let program = lockstep::load(b"
//!     func main() {
//!         local s
//!         ldk s, \"Hello, lockstep!\"
//!         println s
//!         ldi s, 42
//!         ret s
//!     }", "hello.lsa")?;
//! let vm = lockstep::Vm::new(lockstep::Config::new());
//! let mut out = Vec::new();
//! let report = vm.run(&program.module, &mut out)?;
//! assert_eq!(out, b"Hello, lockstep!\n");
//! assert_eq!(report.outcome.end, lockstep::End::Finished { value: lockstep::Value::Int(42) });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! main's value is a typed [`Value`]: nil, bools, ints, floats and strings whole; arrays,
//! objects, functions and threads described by what their display form shows (an array's
//! length, an object's class name), since they live in the run's heap, which does not outlive
//! the run. Its `Display` is the display form (`spec/values.md`), what `lockstep run --invoke`
//! prints:
//!
//! ```
//! let program = lockstep::load(b"
//!     func main() {
//!         local a, x
//!         ldi x, 0
//!         anew a, x
//!         ldi x, 7
//!         apush a, x
//!         ret a
//!     }", "array.lsa")?;
//! let report = lockstep::Vm::new(lockstep::Config::new()).run(&program.module, std::io::sink())?;
//! let lockstep::End::Finished { value } = report.outcome.end else { panic!("it finishes") };
//! assert_eq!(value, lockstep::Value::Array { len: 1 });
//! assert_eq!(value.to_string(), "<array 1>");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod compare;
mod config;
mod output;

pub use compare::{compare, compare_replaying, CompareError, Comparison, Difference};
pub use config::{Config, Engine, JitMode, Scheduler, Stm};
pub use lockstep_optimized::{Stats, StmReport};
pub use lockstep_spec::invoke::{invocation, Arg, ArgError, InvokeError, INVOKE_FUNCTION};
pub use lockstep_spec::outcome::{BlockedThread, End, Outcome, StackFrame, TrapInfo, Value};
pub use lockstep_spec::program::{LoadError, Program};
pub use lockstep_spec::schedule::{Schedule, ThreadId};
pub use lockstep_spec::trap::TrapKind;
pub use lockstep_spec::VerifiedModule;

use lockstep_spec::host::{Interrupt, Sink};
use std::fmt;
use std::io::Write;

/// Loads and verifies a program from the bytes of a file named `name` (used in messages): a
/// binary module (`.lsb`, recognised by its magic) or assembly text.
pub fn load(bytes: &[u8], name: &str) -> Result<Program, LoadError> {
    lockstep_spec::program::load_program(bytes, name)
}

/// Runs programs with one [`Config`]. Runs may follow each other or overlap (from several
/// threads); an [`InterruptHandle`] stops all of them.
#[derive(Debug)]
pub struct Vm {
    config: Config,
    interrupt: Interrupt,
}

/// What a run that completed produced.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// How the run ended and the schedule that ran. Its `stdout` is empty: the output went to
    /// the writer given to the run.
    pub outcome: Outcome,
    /// With [`Config::stats`] on the optimized engine: the figures of the run.
    pub stats: Option<Stats>,
    /// With [`Config::stm_report`] on the optimized engine with the STM: the conflict report.
    pub stm_report: Option<StmReport>,
}

/// Why a run has no outcome. Each variant says whether the input was invalid or a limit was
/// reached; none is a guest trap (those are outcomes, [`End::Trapped`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Input was invalid: the function to invoke is unknown, or the arguments do not fit it.
    Invoke(InvokeError),
    /// Input was invalid: the replayed schedule does not fit the program's run
    /// ([schedule.diverged]); `entry` is the 1-based number of the schedule entry at fault.
    ScheduleDiverged {
        /// The entry at fault.
        entry: usize,
        /// What did not fit.
        message: String,
    },
    /// A limit was reached: the heap outgrew [`Config::max_heap_bytes`].
    OutOfMemory {
        /// The limit.
        limit_bytes: usize,
    },
    /// A limit was reached: the operating system refused an OS thread (for the run, or for a
    /// guest thread of the optimized engine).
    ThreadStart {
        /// The operating system's reason.
        message: String,
    },
    /// The writer refused the program's output; the run stopped at (or within 64 KiB after)
    /// the print that could not be delivered.
    Output(std::io::Error),
    /// [`InterruptHandle::interrupt`] stopped the run. Its output so far was delivered.
    Interrupted,
    /// An engine failed for a reason this crate does not know yet (the engines' errors are
    /// non-exhaustive); the message says which.
    Other {
        /// The engine's message.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invoke(e) => write!(f, "{e}"),
            Error::ScheduleDiverged { entry, message } => write!(f, "schedule diverged at entry {entry}: {message}"),
            Error::OutOfMemory { limit_bytes } => {
                write!(f, "out of memory: the heap would exceed its limit of {limit_bytes} bytes")
            }
            Error::ThreadStart { message } => write!(f, "the operating system refused to start a thread: {message}"),
            Error::Output(e) => write!(f, "cannot write the program's output: {e}"),
            Error::Interrupted => f.write_str("the run was interrupted"),
            Error::Other { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Invoke(e) => Some(e),
            Error::Output(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InvokeError> for Error {
    fn from(e: InvokeError) -> Error {
        Error::Invoke(e)
    }
}

/// Stops the runs of one [`Vm`] from any thread: each stops at its next segment boundary or
/// backward jump (on the optimized engine's compiled code, within a few thousand of them) and
/// fails with [`Error::Interrupted`]. A host-side stop: the guest cannot observe it, and the run
/// has no outcome.
///
/// The request stays until a run notices it, so an interrupt while no run is in progress stops
/// the next one.
///
/// ```
/// let program = lockstep::load(b"func main() {\nspin:\n    jmp spin\n}", "spin.lsa")?;
/// let vm = lockstep::Vm::new(lockstep::Config::new());
/// let stop = vm.interrupt_handle();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_millis(50));
///     stop.interrupt();
/// });
/// let ran = vm.run(&program.module, std::io::sink());
/// assert!(matches!(ran, Err(lockstep::Error::Interrupted)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct InterruptHandle(Interrupt);

impl InterruptHandle {
    /// Stops the run in progress (or the next one).
    pub fn interrupt(&self) {
        self.0.set();
    }
}

impl Vm {
    /// A machine that runs programs as `config` says.
    pub fn new(config: Config) -> Vm {
        Vm { config, interrupt: Interrupt::new() }
    }

    /// A handle another thread can use to stop this machine's runs.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.interrupt.clone())
    }

    /// Runs `module`'s entry function with [`Config::args`], its output streamed to `stdout`.
    pub fn run(&self, module: &VerifiedModule, mut stdout: impl Write) -> Result<Report, Error> {
        self.run_module(module, &self.config.args, &mut stdout)
    }

    /// Runs `function` of `module` with `args` instead of the entry function: the run of the
    /// module extended with an entry function `__invoke` that calls it with them and returns
    /// its result ([exec.invoke] in `spec/semantics.md`), so main's value in the outcome is the
    /// function's.
    ///
    /// ```
    /// let program = lockstep::load(b"
    ///     func main() {
    ///         local r
    ///         ldnil r
    ///         ret r
    ///     }
    ///     func add(a, b) {
    ///         add a, a, b
    ///         ret a
    ///     }", "add.lsa")?;
    /// let vm = lockstep::Vm::new(lockstep::Config::new().engine(lockstep::Engine::reference()));
    /// let args = [lockstep::Arg::Int(2), "40".parse()?];
    /// let report = vm.invoke(&program.module, "add", &args, std::io::sink())?;
    /// assert_eq!(report.outcome.end, lockstep::End::Finished { value: lockstep::Value::Int(42) });
    ///
    /// let wrong = vm.invoke(&program.module, "ad", &args, std::io::sink());
    /// assert_eq!(wrong.unwrap_err().to_string(), "no function named `ad` in the program; did you mean `add`?");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn invoke(
        &self,
        module: &VerifiedModule,
        function: &str,
        args: &[Arg],
        mut stdout: impl Write,
    ) -> Result<Report, Error> {
        let module = invocation(module, function, args)?;
        self.run_module(&module, &[], &mut stdout)
    }

    fn run_module(&self, module: &VerifiedModule, args: &[Vec<u8>], stdout: &mut dyn Write) -> Result<Report, Error> {
        let streamed = output::stream(stdout, |sink| self.run_on_engine(module, args, sink))
            .map_err(|e| Error::ThreadStart { message: e.to_string() })?;
        let ran = streamed.result;
        if let Some(e) = streamed.write_error {
            // Output that was not delivered fails the run, even when it was the last chunk and
            // the engine finished; the engine saw only a closed channel, the writer's error
            // says why.
            return Err(Error::Output(e));
        }
        if matches!(ran, Err(Error::Interrupted)) {
            // Noticed: the request is spent.
            self.interrupt.clear();
        }
        ran
    }

    fn run_on_engine(&self, module: &VerifiedModule, args: &[Vec<u8>], sink: Sink) -> Result<Report, Error> {
        let c = &self.config;
        match &c.engine {
            Engine::Reference { scheduler } => {
                let mut config = lockstep_reference::Config {
                    fuel: c.fuel,
                    scheduler: scheduler.clone(),
                    args: args.to_vec(),
                    record_schedule: c.record_schedule,
                    stdout: lockstep_reference::Stdout::Writer(sink),
                    interrupt: Some(self.interrupt.clone()),
                    ..lockstep_reference::Config::default()
                };
                if let Some(limit) = c.max_heap_bytes {
                    config.max_heap_bytes = limit;
                }
                lockstep_reference::run(module, &config)
                    .map(|outcome| Report { outcome, stats: None, stm_report: None })
                    .map_err(|e| match e {
                        lockstep_reference::RunError::ScheduleDiverged { entry, message } => {
                            Error::ScheduleDiverged { entry, message }
                        }
                        lockstep_reference::RunError::OutOfMemory { limit_bytes } => Error::OutOfMemory { limit_bytes },
                        lockstep_reference::RunError::OutputFailed { kind, message } => {
                            Error::Output(std::io::Error::new(kind, message))
                        }
                        lockstep_reference::RunError::Interrupted => Error::Interrupted,
                    })
            }
            Engine::Optimized { stm, jit } => {
                let mut config = lockstep_optimized::Config {
                    fuel: c.fuel,
                    args: args.to_vec(),
                    stats: c.stats,
                    record_schedule: c.record_schedule,
                    stream_stdout: true,
                    stdout_to: Some(sink),
                    interrupt: Some(self.interrupt.clone()),
                    stm: *stm != Stm::Off,
                    stm_solo: *stm != Stm::Barriers,
                    stm_report: c.stm_report && *stm != Stm::Off,
                    jit: *jit,
                    stm_stress: c.stm_stress,
                    ..lockstep_optimized::Config::default()
                };
                if let Some(limit) = c.max_heap_bytes {
                    config.max_heap_bytes = limit;
                }
                lockstep_optimized::run_with_stats(module, &config)
                    .map(|r| Report { outcome: r.outcome, stats: r.stats, stm_report: r.stm })
                    .map_err(|e| match e {
                        lockstep_optimized::RunError::OutOfMemory { limit_bytes } => Error::OutOfMemory { limit_bytes },
                        lockstep_optimized::RunError::OutputFailed { kind, message } => {
                            Error::Output(std::io::Error::new(kind, message))
                        }
                        lockstep_optimized::RunError::ThreadStartFailed { message } => Error::ThreadStart { message },
                        lockstep_optimized::RunError::Interrupted => Error::Interrupted,
                        other => Error::Other { message: other.to_string() },
                    })
            }
        }
    }
}
