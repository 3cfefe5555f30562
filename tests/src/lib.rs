//! `lockstep-tests`: the engine-independent test suites (see tests/README.md). This library
//! holds what the suites share: finding files, loading programs, running them on an engine.

#![forbid(unsafe_code)]

pub mod progress;
pub mod script;
pub mod smith;

use lockstep_spec::outcome::Outcome;
use lockstep_spec::program::{load_program, Program};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The example programs, sorted by name.
pub fn example_programs() -> Vec<PathBuf> {
    files_with_extension(&repo_root().join("examples"), "lsa")
}

/// The files in `dir` with extension `ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Loads a program file, panicking with the loader's message (for tests of valid programs).
pub fn load(path: &Path) -> Program {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    load_program(&bytes, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()))
}

/// How to run a program: the arguments of `main`, fuel per thread, and the schedule
/// (`round-robin`, `seed:N` or `replay:FILE` with FILE relative to the repository root; `None`
/// is the engine's default).
#[derive(Clone, Debug, Default)]
pub struct RunSettings {
    pub args: Vec<String>,
    pub fuel: Option<u64>,
    pub schedule: Option<String>,
    /// The heap limit (`limit.memory`), for every engine.
    pub max_heap: Option<usize>,
    /// `--stm-stress=SEED` for the engines that run transactions (`Optimized`,
    /// `OptimizedBarriers` and their JIT flavours): short transactions and random pauses, so
    /// that threads overlap. Only their schedules change; the others ignore it.
    pub stm_stress: Option<u64>,
}

/// The engines a suite runs on. Every suite runs on each of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Reference,
    /// The optimized engine as users run it: guest threads in parallel on OS threads under the
    /// STM, functions compiled once hot (`--jit=on`). Its schedule is whatever the hardware did.
    Optimized,
    /// The optimized engine with `--stm=off --jit=off`: the interpreter alone, one OS thread,
    /// round-robin, no barriers.
    OptimizedSerial,
    /// The parallel engine with `--stm=barriers --jit=off`: a thread that is alone still goes
    /// through the barriers ([stm.solo] off), so single-threaded programs test the barrier path
    /// too, which `Optimized` runs only while two threads are live.
    OptimizedBarriers,
    /// `Optimized` with every function compiled before it runs (`--jit=always`).
    OptimizedJit,
    /// `--stm=off --jit=always`: compiled code on the round-robin schedule, which must equal
    /// the reference's exactly.
    OptimizedSerialJit,
    /// `--stm=barriers --jit=always`: the compiled code of the barrier flavour.
    OptimizedBarriersJit,
    /// `--stm=off --jit=stress:1`: compiled code that leaves for the interpreter before a
    /// pseudo-random quarter of the ops and resumes after them.
    OptimizedSerialJitStress,
    /// `--stm=off --jit=opt-always`: loops in tier 2 (Cranelift, unboxed values), entered from
    /// tier 1, each compiled at its first lap (under `--jit=opt` a loop must get hot first).
    OptimizedSerialOpt,
    /// `--stm=barriers --jit=opt-stress:1`: tier 2 leaves before a pseudo-random quarter of its
    /// ops and tier 1 before another, so that every exit's write-back runs; with the barriers
    /// on for a thread alone too, so that single-threaded programs run the barrier flavour of
    /// both tiers (a field access in a region tests that its object is private to the
    /// transaction), which `OptimizedSerialOpt` does not.
    OptimizedOptStress,
    /// `--stm=barriers --jit=opt-always`: loops in tier 2 from their first lap in the barrier
    /// flavour, also for a thread alone: a region's field and element accesses of shared
    /// objects go through the STM's barriers (helper calls) for whole laps, which the stress
    /// engine's regions, leaving early and often, rarely reach.
    OptimizedBarriersOpt,
}

/// How an optimized engine is configured: (`stm`, `stm_solo`, `jit`).
fn optimized_setup(e: Engine) -> Option<(bool, bool, lockstep_optimized::JitMode)> {
    use lockstep_optimized::JitMode::*;
    Some(match e {
        Engine::Reference => return None,
        Engine::Optimized => (true, true, On),
        Engine::OptimizedSerial => (false, true, Off),
        Engine::OptimizedBarriers => (true, false, Off),
        Engine::OptimizedJit => (true, true, Always),
        Engine::OptimizedSerialJit => (false, true, Always),
        Engine::OptimizedBarriersJit => (true, false, Always),
        Engine::OptimizedSerialJitStress => (false, true, Stress(1)),
        Engine::OptimizedSerialOpt => (false, true, OptAlways),
        Engine::OptimizedOptStress => (true, false, OptStress(1)),
        Engine::OptimizedBarriersOpt => (true, false, OptAlways),
    })
}

impl Engine {
    pub const ALL: &'static [Engine] = &[
        Engine::Reference,
        Engine::Optimized,
        Engine::OptimizedSerial,
        Engine::OptimizedBarriers,
        Engine::OptimizedJit,
        Engine::OptimizedSerialJit,
        Engine::OptimizedBarriersJit,
        Engine::OptimizedSerialJitStress,
        Engine::OptimizedSerialOpt,
        Engine::OptimizedOptStress,
        Engine::OptimizedBarriersOpt,
    ];

    /// Whether the engine can be told which schedule to follow (`seed:N`, `replay:FILE`). An
    /// engine that cannot is checked by the schedule-replay oracle instead (see
    /// [`replay_on_reference`]).
    pub fn follows_schedules(self) -> bool {
        matches!(self, Engine::Reference)
    }

    /// Whether the engine's own schedule is the round-robin one, so that expectations written
    /// for round-robin hold for multithreaded programs too. The parallel engine's do not: a
    /// multithreaded run of it is checked by the schedule-replay oracle.
    pub fn follows_round_robin(self) -> bool {
        optimized_setup(self).is_none_or(|(stm, _, _)| !stm)
    }

    /// Runs `program` with the given arguments and default settings otherwise.
    pub fn run(self, program: &Program, args: &[&str]) -> Outcome {
        let settings = RunSettings { args: args.iter().map(|a| a.to_string()).collect(), ..RunSettings::default() };
        self.run_with(program, &settings).unwrap_or_else(|e| panic!("{self:?} run failed: {e}"))
    }

    /// Runs `program` with `settings`; an error is a run that could not happen as asked (for
    /// instance a schedule that does not fit the program), not a guest trap.
    pub fn run_with(self, program: &Program, settings: &RunSettings) -> Result<Outcome, String> {
        let fuel = settings.fuel.unwrap_or(lockstep_spec::limits::DEFAULT_FUEL);
        let args: Vec<Vec<u8>> = settings.args.iter().map(|a| a.as_bytes().to_vec()).collect();
        match self {
            Engine::Reference => {
                let mut config = lockstep_reference::Config {
                    fuel,
                    scheduler: reference_scheduler(settings.schedule.as_deref())?,
                    args,
                    ..lockstep_reference::Config::default()
                };
                if let Some(limit) = settings.max_heap {
                    config.max_heap_bytes = limit;
                }
                lockstep_reference::run(&program.module, &config).map_err(|e| e.to_string())
            }
            _ => {
                if let Some(s) = settings.schedule.as_deref().filter(|s| *s != "round-robin") {
                    return Err(format!("the optimized engine cannot follow schedule `{s}`"));
                }
                let (stm, stm_solo, jit) = optimized_setup(self).expect("an optimized engine");
                let mut config = lockstep_optimized::Config {
                    fuel,
                    args,
                    stm,
                    stm_solo,
                    jit,
                    stm_stress: settings.stm_stress,
                    ..lockstep_optimized::Config::default()
                };
                if let Some(limit) = settings.max_heap {
                    config.max_heap_bytes = limit;
                }
                lockstep_optimized::run(&program.module, &config).map_err(|e| e.to_string())
            }
        }
    }
}

fn reference_scheduler(schedule: Option<&str>) -> Result<lockstep_reference::Scheduler, String> {
    Ok(match schedule {
        None | Some("round-robin") => lockstep_reference::Scheduler::RoundRobin,
        Some(s) if s.starts_with("replay:") => {
            let path = repo_root().join(&s["replay:".len()..]);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let schedule = lockstep_spec::schedule::Schedule::parse(&text).map_err(|e| e.to_string())?;
            lockstep_reference::Scheduler::Replay(schedule)
        }
        Some(s) => match s.strip_prefix("seed:").and_then(|n| n.parse().ok()) {
            Some(seed) => lockstep_reference::Scheduler::Seed(seed),
            None => return Err(format!("unsupported schedule `{s}`")),
        },
    })
}

/// The schedule-replay oracle: the reference, replaying the schedule `outcome` recorded, must
/// reach the same outcome (stdout, how the run ended, and the schedule itself).
pub fn replay_on_reference(program: &Program, settings: &RunSettings, outcome: &Outcome) -> Result<(), String> {
    let config = lockstep_reference::Config {
        fuel: settings.fuel.unwrap_or(lockstep_spec::limits::DEFAULT_FUEL),
        scheduler: lockstep_reference::Scheduler::Replay(outcome.schedule.clone()),
        args: settings.args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        max_heap_bytes: settings.max_heap.unwrap_or(lockstep_reference::Config::default().max_heap_bytes),
        ..lockstep_reference::Config::default()
    };
    let replayed =
        lockstep_reference::run(&program.module, &config).map_err(|e| format!("replay on the reference: {e}"))?;
    if replayed.same_behaviour(outcome) && replayed.schedule == outcome.schedule {
        Ok(())
    } else {
        Err(format!(
            "the reference replaying the recorded schedule gave {}\nthe engine gave {}",
            replayed.to_json(),
            outcome.to_json()
        ))
    }
}
