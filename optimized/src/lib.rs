//! `lockstep-optimized`: the engine people run. It must produce exactly the reference's
//! [`Outcome`] (stdout, end, and, for the round-robin schedule, the schedule itself), only
//! faster and in bounded memory. `optimized/DESIGN.md` documents the layouts, which are the
//! contract of the STM (`optimized/STM.md`) and of the JIT to come.
//!
//! **The public API** is what an embedder needs: a [`Config`], [`run`] or [`run_with_stats`] on
//! a [`VerifiedModule`] (only the verifier makes one), and what comes back: the [`Outcome`] in
//! a [`Report`] with [`Stats`] ([`GcStats`], [`IcStats`]) and the [`StmReport`], or a
//! [`RunError`]. None of it is `unsafe`, and none of it hands out or accepts a raw value word,
//! so safe code cannot make the engine read memory it does not own: the `unsafe` inside relies
//! only on the verifier's rules and on invariants the engine itself keeps. The modules that
//! touch raw words are private (error E0603), so that, for instance, `Heap::kind(0x10)` on a
//! forged address, which once crashed a safe test with SIGSEGV, cannot be written outside:
//!
//! ```compile_fail,E0603
//! let heap = lockstep_optimized::heap::Heap::new(1 << 20, 1 << 20);
//! ```
//! ```compile_fail,E0603
//! let nil = lockstep_optimized::value::NIL;
//! ```
//! ```compile_fail,E0603
//! fn is_subclass(p: &lockstep_optimized::code::Program) -> bool { true }
//! ```
//! ```compile_fail,E0603
//! let caches = lockstep_optimized::inline_cache::InlineCaches::new(1);
//! ```
//! ```compile_fail,E0603
//! let ops = lockstep_optimized::ops::TYPE_NAMES;
//! ```
//!
//! `optimized/tests/public_api.rs` uses everything that is public, with `unsafe` forbidden.
//!
//! Map (private modules but `stm`):
//! - `value`: one 64-bit word per value (low-bit tags, SmallInt and SmallFloat immediates).
//! - `heap`: cell layout, size-class allocation, non-moving mark-sweep collection.
//! - `code`: pre-decoding of a verified module into 16-byte ops.
//! - `inline_cache`: the per-site send caches and the global method cache.
//! - `interp/`: the interpreter core (state struct, one method per instruction, dispatch loop);
//!   `ops`: its slow paths; `regs`: the unchecked register window; `stop`: why it returns.
//! - `mode`: how the interpreter reaches what threads share (the `Mode` trait).
//! - `context`: one OS thread's heap, caches and output; `thread`: guest threads and frames.
//! - `serial`: `--stm=off`, the round-robin scheduler on one OS thread and its `Serial` mode.
//! - `par`: parallel runs, one OS thread per guest thread, and the STM's `TxMode`.
//! - `end`: how a run ends (main's end, deadlock, where joins wait), for both drivers.
//! - [`stm`]: the transactional core, model-checked by `lockstep-model-checks`.
//! - `report`: `--stm-report`'s figures.
//!
//! The unsafe operations are in `heap` (cell access: `cell_word` and the cell accessors, `unsafe
//! fn`s whose precondition is that the word is a live cell), `code` (`Program::is_subclass`),
//! `regs` (the unchecked register window) and `interp` (instruction pointer, frame setup on
//! calls and returns). Functions that pass a word they are given on to them (`ops`, `Mode::load`,
//! `store` and `safepoint`) are `unsafe fn`s too; each `unsafe fn` states its precondition in a
//! `# Safety` section, and each `unsafe` block names the verifier rule or engine invariant that
//! meets it (for values: a register of a running thread, or a finished thread's result, holds an
//! immediate or a live cell).

// Inside an `unsafe fn`, each unsafe operation still needs its own block and `SAFETY` comment.
#![deny(unsafe_op_in_unsafe_fn)]
// Every public item says what it is and why (ARCHITECTURE.md, API boundary).
#![warn(missing_docs)]

// First: the `mutant!` macro is used by the modules below.
#[macro_use]
mod mutant;
mod code;
mod context;
mod end;
mod heap;
mod inline_cache;
mod interp;
mod jit;
mod mode;
mod ops;
#[cfg(not(loom))]
mod par;
mod regs;
mod report;
mod serial;
// Public, but not part of the embedding API (hence hidden from the docs): the STM core, for
// `lockstep-model-checks` (loom models of this very code) and `tests/stm_stress.rs`. Exposing it
// is sound: it has no `unsafe` at all, and its API takes words as `&AtomicU64` references (a
// transaction borrows them for its lifetime `'w`), never as raw addresses, so safe code cannot
// make it touch memory it does not borrow; misuse (an unbalanced safepoint registration, two
// inevitable transactions on one OS thread) can at worst block or panic. The engine's own `Stm`
// and heap words are never handed out.
#[doc(hidden)]
pub mod stm;
mod stop;
mod thread;
mod value;

use lockstep_spec::host::{Interrupt, Sink};
use lockstep_spec::outcome::Outcome;
use lockstep_spec::VerifiedModule;
use std::fmt;

pub use heap::GcStats;
pub use inline_cache::IcStats;
pub use jit::{JitMode, JitStats, DEOPT_KINDS};
pub use report::{StmReport, ThreadFigures};
/// The conflict kinds of [`StmReport::conflicts`].
pub use stm::AbortKind;

/// How to run a program.
#[derive(Clone, Debug)]
pub struct Config {
    /// Fuel each thread starts with (`spec/limits.md`).
    pub fuel: u64,
    /// The program's arguments, passed to the entry function as an array of strings.
    pub args: Vec<Vec<u8>>,
    /// Count instructions and report [`Stats`] (costs a counter increment per instruction).
    pub stats: bool,
    /// The heap may not hold more than this many bytes; above it the run stops with
    /// [`RunError::OutOfMemory`].
    pub max_heap_bytes: usize,
    /// Collect after at least this many bytes of allocation (tests set it tiny, so that the
    /// collector runs at nearly every safepoint).
    pub gc_threshold_bytes: usize,
    /// Record the schedule in the outcome (the default). Round-robin switches threads at every
    /// segment, so a long multithreaded run has a schedule entry per segment; a caller that
    /// does not need it (a benchmark, a CLI run that records nothing) saves that memory.
    /// With `false`, the outcome's schedule is empty.
    pub record_schedule: bool,
    /// Write guest output straight to the process's stdout as the program prints (in chunks),
    /// instead of capturing it in `Outcome::stdout` (then empty). A long-running program's
    /// output then appears as it runs and does not accumulate in memory.
    pub stream_stdout: bool,
    /// With `stream_stdout`: the writer the output streams to instead of the process's stdout.
    pub stdout_to: Option<Sink>,
    /// A flag another host thread may set to stop the run ([`RunError::Interrupted`]). Looked
    /// at every few segment boundaries and backward jumps, and by compiled code every few
    /// thousand of them at most, so that a loop (even inside an atomic block) notices it.
    pub interrupt: Option<Interrupt>,
    /// Run guest threads in parallel on OS threads under the STM (the default). `false` runs
    /// them one at a time on the calling OS thread with the round-robin schedule and no
    /// barriers (`--stm=off`): the way to measure the STM's single-thread overhead, and a
    /// deterministic mode whose schedule equals the reference's round-robin one.
    pub stm: bool,
    /// Collect conflict statistics for `--stm-report` (returned in [`Report::stm`]).
    pub stm_report: bool,
    /// Under the STM, a thread that is the only thread of the run (no other has been spawned,
    /// or all others ended) runs its transactions without barriers: no other thread exists to
    /// see its writes or to conflict with it (`STM.md`, [stm.solo]). `false` keeps the
    /// barriers on, to measure their cost on single-threaded programs.
    pub stm_solo: bool,
    /// When to run functions as compiled machine code (the baseline JIT, x86-64 only; elsewhere
    /// always interpreted). Never changes an outcome: compiled code leaves for the interpreter
    /// before any op it does not complete exactly as the interpreter would (`DESIGN.md`).
    pub jit: JitMode,
    /// Under the STM, `Some(seed)` makes threads overlap on purpose, for testing: each
    /// transaction covers a pseudo-random number of segments (mostly 1 to 4) instead of the
    /// contention policy's coalesced length, and a thread pauses (a yield, or a short spin) at
    /// random between its transactions and between the end of a transaction's body and its
    /// commit, so that other threads commit inside its window. Changes only the schedule (which
    /// transactions conflict and the order they commit in), never what a program may print or
    /// how it ends (every schedule the STM commits is serializable, `STM.md`); the seed makes the
    /// choices, not the OS threads' timing, repeatable. `--stm-stress=SEED`.
    pub stm_stress: Option<u64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            fuel: lockstep_spec::limits::DEFAULT_FUEL,
            args: Vec::new(),
            stats: false,
            max_heap_bytes: 4 << 30,
            gc_threshold_bytes: heap::DEFAULT_GC_THRESHOLD,
            record_schedule: true,
            stream_stdout: false,
            stdout_to: None,
            interrupt: None,
            stm: true,
            stm_report: false,
            stm_solo: true,
            jit: JitMode::On,
            stm_stress: None,
        }
    }
}

/// A run that could not complete for a reason outside the program's semantics. Non-exhaustive:
/// an embedder matches the reasons it handles and treats the rest as failures.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunError {
    /// A limit was reached: the heap outgrew `Config::max_heap_bytes` (the one outcome allowed
    /// to differ between engines; the CLI exits with status 3).
    OutOfMemory {
        /// The limit that was reached, `Config::max_heap_bytes`, for the message.
        limit_bytes: usize,
    },
    /// The program's output could not be written to stdout (`Config::stream_stdout`): a closed
    /// pipe or a full device. The run stops at the print whose output could not be written
    /// (output is written in chunks, so up to one chunk later); the CLI exits with status 4.
    OutputFailed {
        /// The writer's error kind (`BrokenPipe` for a closed pipe). Kept apart from the
        /// message, not as an `io::Error`, so that `RunError` stays `Clone` and `Eq`; a caller
        /// rebuilds the error with `io::Error::new(kind, message)`.
        kind: std::io::ErrorKind,
        /// The writer's error in words.
        message: String,
    },
    /// A limit was reached: the operating system refused to start an OS thread for a guest
    /// thread (a process or address-space limit). The run stops; the CLI exits with status 3.
    ThreadStartFailed {
        /// The operating system's error in words.
        message: String,
    },
    /// The host set `Config::interrupt`: the run stopped where it was (its output so far was
    /// delivered) and has no outcome.
    Interrupted,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::OutOfMemory { limit_bytes } => {
                write!(f, "out of memory: the heap would exceed its limit of {limit_bytes} bytes")
            }
            RunError::OutputFailed { message, .. } => write!(f, "cannot write the program's output: {message}"),
            RunError::ThreadStartFailed { message } => {
                write!(f, "the operating system refused to start a thread for a guest thread: {message}")
            }
            RunError::Interrupted => f.write_str("the run was interrupted"),
        }
    }
}

impl std::error::Error for RunError {}

/// What `--stats` reports: the figures that explain where a run's time went (how much it
/// executed, how well its sends were cached, what the JIT did, what the collector did). Collected
/// only with [`Config::stats`], because counting instructions costs an increment per instruction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Guest instructions executed, by every thread, interpreted or compiled (compiled code
    /// counts what it completes, so the figure does not depend on `Config::jit`). Under the STM
    /// the instructions of aborted attempts count too: they were executed, then again.
    pub instructions: u64,
    /// The send sites' inline caches at the end of the run.
    pub inline_caches: IcStats,
    /// What the JIT compiled and how often compiled code ran (zero with `JitMode::Off`).
    pub jit: JitStats,
    /// What the collector did.
    pub gc: GcStats,
    /// Guest threads the run started, main included (finished ones count).
    pub threads: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ic = &self.inline_caches;
        writeln!(f, "instructions executed: {}", self.instructions)?;
        writeln!(f, "threads: {}", self.threads)?;
        let jit = &self.jit;
        writeln!(
            f,
            "jit: {} functions compiled, {} bytes of code, {:.3} ms compiling, {} entries into compiled code",
            jit.functions_compiled,
            jit.code_bytes,
            jit.compile_time.as_secs_f64() * 1e3,
            jit.entries
        )?;
        writeln!(
            f,
            "send sites: {} (uninitialized {}, monomorphic {}, polymorphic {}, megamorphic {}); hits {}, misses {}",
            ic.sites, ic.uninitialized, ic.monomorphic, ic.polymorphic, ic.megamorphic, ic.hits, ic.misses
        )?;
        writeln!(
            f,
            "gc: {} collections, {:.3} ms total pause, live after last {} bytes",
            self.gc.collections,
            self.gc.pause_total.as_secs_f64() * 1e3,
            self.gc.live_bytes_after_last_gc
        )?;
        write!(f, "peak heap: {} bytes", self.gc.peak_heap_bytes)
    }
}

/// An outcome and, when `Config::stats` was set, the statistics.
#[derive(Clone, Debug)]
pub struct Report {
    /// How the run ended: what the suites compare with the reference's.
    pub outcome: Outcome,
    /// With `Config::stats`: the run's figures (`None` without it, which costs nothing).
    pub stats: Option<Stats>,
    /// With `Config::stm_report` on a parallel run: the conflict report.
    pub stm: Option<StmReport>,
}

/// Runs `module` with the round-robin schedule.
pub fn run(module: &VerifiedModule, config: &Config) -> Result<Outcome, RunError> {
    run_with_stats(module, config).map(|r| r.outcome)
}

/// Runs `module` and also returns [`Stats`] when `config.stats` is set.
pub fn run_with_stats(module: &VerifiedModule, config: &Config) -> Result<Report, RunError> {
    #[cfg(not(loom))]
    if config.stm {
        return par::run(module, config);
    }
    let oom = |_| RunError::OutOfMemory { limit_bytes: config.max_heap_bytes };
    let heap = heap::Heap::new(config.max_heap_bytes, config.gc_threshold_bytes);
    let (prog, cx, main) = context::Context::new(module, config, heap).map_err(oom)?;
    let mut rr = serial::RoundRobin::new(prog, cx, main, config);
    let ran = if config.stats { rr.run::<true>() } else { rr.run::<false>() };
    // What the program printed before running out of memory is still its output.
    let flushed = rr.cx.flush_stdout(config.stdout_to.as_ref());
    ran.map_err(|e| e.into_run_error(config))?;
    flushed.map_err(|e| stop::Failure::Output(e).into_run_error(config))?;
    let stats = config.stats.then(|| Stats {
        instructions: rr.cx.instructions,
        inline_caches: rr.cx.ic.stats(),
        jit: rr.cx.jit.stats(),
        gc: rr.cx.heap.stats,
        threads: rr.threads.len(),
    });
    Ok(Report { outcome: rr.outcome(), stats, stm: None })
}
