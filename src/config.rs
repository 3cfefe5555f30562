//! The one configuration of a run, built with chained methods: which engine (with its own
//! settings, so that a setting of one engine cannot be given to the other), fuel, heap limit,
//! `main`'s arguments, and which figures to collect.

/// How a run is set up; [`Config::new`] gives the defaults `lockstep run` uses.
///
/// ```
/// use lockstep::{Config, Engine, Stm, JitMode};
/// let config = Config::new()
///     .engine(Engine::Optimized { stm: Stm::Off, jit: JitMode::Off })
///     .fuel(1_000_000)
///     .max_heap_bytes(64 << 20)
///     .args(["first", "second"]);
/// let vm = lockstep::Vm::new(config);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) engine: Engine,
    pub(crate) fuel: u64,
    pub(crate) max_heap_bytes: Option<usize>,
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) record_schedule: bool,
    pub(crate) stats: bool,
    pub(crate) stm_report: bool,
    pub(crate) stm_stress: Option<u64>,
}

/// Which engine runs the program. Both give the same outcome for the same schedule
/// (`spec/semantics.md`, [exec.outcome]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The reference interpreter, the executable semantics: sequential, any schedule.
    Reference {
        /// How its logical threads interleave.
        scheduler: Scheduler,
    },
    /// The optimized engine (the default): compact values, tracing GC, inline caches, a JIT,
    /// and guest threads in parallel under software transactional memory.
    Optimized {
        /// Whether guest threads run in parallel under the STM.
        stm: Stm,
        /// When functions run as machine code.
        jit: JitMode,
    },
}

impl Engine {
    /// The reference interpreter with the round-robin schedule.
    pub fn reference() -> Engine {
        Engine::Reference { scheduler: Scheduler::RoundRobin }
    }

    /// The optimized engine with its defaults: STM on, JIT on.
    pub fn optimized() -> Engine {
        Engine::Optimized { stm: Stm::On, jit: JitMode::On }
    }
}

pub use lockstep_optimized::JitMode;
pub use lockstep_reference::Scheduler;

/// The optimized engine's threading (`lockstep run --stm=...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stm {
    /// Guest threads in parallel on OS threads under the STM; a thread alone skips the barriers.
    On,
    /// Every guest thread on one OS thread, round-robin, without barriers (deterministic: the
    /// reference's round-robin schedule).
    Off,
    /// As `On`, with the barriers kept even for a thread alone (to measure their cost).
    Barriers,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// The optimized engine, the default fuel (`spec/limits.md`), a 4 GiB heap, no arguments,
    /// the schedule recorded, no figures.
    pub fn new() -> Config {
        Config {
            engine: Engine::optimized(),
            fuel: lockstep_spec::limits::DEFAULT_FUEL,
            max_heap_bytes: None,
            args: Vec::new(),
            record_schedule: true,
            stats: false,
            stm_report: false,
            stm_stress: None,
        }
    }

    /// The engine that runs the program.
    pub fn engine(mut self, engine: Engine) -> Config {
        self.engine = engine;
        self
    }

    /// The fuel each thread starts with ([exec.fuel]).
    pub fn fuel(mut self, fuel: u64) -> Config {
        self.fuel = fuel;
        self
    }

    /// The heap limit in bytes ([limit.memory]); a run that outgrows it fails with
    /// [`crate::Error::OutOfMemory`].
    pub fn max_heap_bytes(mut self, bytes: usize) -> Config {
        self.max_heap_bytes = Some(bytes);
        self
    }

    /// The arguments `main` receives as an array of strings ([exec.main-args]) when the program
    /// is run with [`crate::Vm::run`].
    pub fn args<A: Into<Vec<u8>>>(mut self, args: impl IntoIterator<Item = A>) -> Config {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the outcome carries the schedule that ran (the default). A long multithreaded run
    /// has one entry per segment; `false` saves that memory and leaves the schedule empty.
    pub fn record_schedule(mut self, record: bool) -> Config {
        self.record_schedule = record;
        self
    }

    /// Collect [`crate::Stats`] (optimized engine only; costs a counter per instruction).
    pub fn stats(mut self, stats: bool) -> Config {
        self.stats = stats;
        self
    }

    /// Collect the STM's conflict report, [`crate::StmReport`] (optimized engine, STM on).
    pub fn stm_report(mut self, report: bool) -> Config {
        self.stm_report = report;
        self
    }

    /// A test setting of the optimized engine with the STM (`lockstep run --stm-stress=SEED`):
    /// threads made to overlap (short transactions, pauses), from this seed; it changes only the
    /// schedule. `None` (the default) runs normally.
    pub fn stm_stress(mut self, seed: Option<u64>) -> Config {
        self.stm_stress = seed;
        self
    }
}
