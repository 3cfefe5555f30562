//! The `lockstep` command-line tool: assemble, disassemble, check and run programs.
//!
//! Exit status (README.md, "Exit status"): 0 the program finished; 1 the guest trapped or
//! deadlocked; 2 bad usage, an invalid program file or a schedule that does not fit the
//! program; 3 a host limit was reached (memory); 4 the output could not be written (a closed
//! pipe, a full disk). Every message goes to stderr; only the program's own output (and what
//! `disasm`/`check` print) goes to stdout, or, with `run --outcome json`, only the JSON document
//! (`outcome_json`).

#![forbid(unsafe_code)]

mod diagnostic;
mod outcome_json;
mod stats;
mod units;

use clap::{Parser, Subcommand, ValueEnum};
use lockstep_spec::outcome::{End, Outcome};
use lockstep_spec::program::{load_program, Format, LoadError, Program};
use lockstep_spec::schedule::Schedule;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "lockstep", version, about = "The lockstep virtual machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Assemble a text program (.lsa) into a verified binary module (.lsb).
    Asm {
        /// The assembly file (`-`: standard input, then -o is needed).
        input: PathBuf,
        /// Where to write the module (default: the input path with extension .lsb).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print a program (binary or text) as assembly text that re-assembles to the same bytes.
    Disasm {
        /// The program (binary or text; `-`: standard input).
        file: PathBuf,
    },
    /// Load and verify a program, and print a summary.
    Check {
        /// The program (binary or text; `-`: standard input).
        file: PathBuf,
    },
    /// Run a program; ARGS are passed to `main` as an array of strings.
    Run(RunArgs),
    /// Generate a random valid program (the differential tests' generator) from a seed.
    /// Prints it as assembly text, or writes it to FILE: binary (.lsb) when FILE ends in
    /// `.lsb`, assembly text otherwise. The text's header says which fuel to run it with.
    Smith(SmithArgs),
    /// Run a program on the optimized engine, replay the schedule it recorded on the reference,
    /// and report whether they agree (exit 0) or the first difference (exit 1).
    Diff(DiffArgs),
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell) to stdout; for
    /// bash: `lockstep completions bash > ~/.local/share/bash-completion/completions/lockstep`.
    Completions {
        /// The shell the script is for.
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args)]
struct DiffArgs {
    /// Fuel of each thread, as for `run`.
    #[arg(long)]
    fuel: Option<u64>,
    /// As for `run`: make the optimized engine's threads overlap (short transactions, random
    /// pauses) with this seed, so that the replay meets more interleavings.
    #[arg(long, value_name = "SEED", require_equals = true)]
    stm_stress: Option<u64>,
    /// The program (binary or text; `-`: standard input).
    file: PathBuf,
    /// Arguments for the program's `main`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

#[derive(clap::Args)]
struct SmithArgs {
    /// The seed: the same seed always gives the same program.
    #[arg(long)]
    seed: u64,
    /// Write the program to this file instead of stdout (`.lsb`: binary; else text).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Generate a program that never spawns threads (the single-threaded property's programs).
    #[arg(long, conflicts_with = "threaded")]
    single_threaded: bool,
    /// Generate a program whose main thread forks workers (the threads property's programs).
    #[arg(long)]
    threaded: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The engine that runs the program: optimized by default, reference when the schedule is
    /// `seed:N` or `replay:FILE` (the optimized engine interleaves threads round-robin only).
    #[arg(long, value_enum)]
    engine: Option<Engine>,
    /// Fuel of each thread: one unit per function entry and per taken backward jump.
    #[arg(long)]
    fuel: Option<u64>,
    /// How logical threads are interleaved: `round-robin`, `seed:N` or `replay:FILE`.
    #[arg(long, default_value = "round-robin")]
    schedule: String,
    /// Write the schedule that ran (its serialization order) to this file.
    #[arg(long)]
    record_schedule: Option<PathBuf>,
    /// `json`: standard output carries only the outcome as one line of JSON (the program's
    /// output is inside it; spec/semantics.md [exec.outcome-json]), with the --stats and
    /// --stm-report figures as its keys `stats` and `stm_report`.
    #[arg(long, value_enum)]
    outcome: Option<OutcomeFormat>,
    /// Write that JSON document to FILE instead (implies --outcome json); the program's output
    /// goes to standard output, written when the run ends.
    #[arg(long, value_name = "FILE")]
    outcome_file: Option<PathBuf>,
    /// Print statistics to stderr after the run (optimized engine): instructions executed, what
    /// the JIT compiled, inline-cache states, collections and their total pause, peak heap.
    #[arg(long)]
    stats: bool,
    /// The heap limit ([limit.memory]; default 4GiB), in bytes or with a unit: 64MiB, 4GiB,
    /// 100MB. A run whose live data outgrows it stops with an out-of-memory error and exit
    /// status 3.
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size)]
    max_heap: Option<usize>,
    /// Optimized engine: `on` (default) runs guest threads in parallel on OS threads under
    /// software transactional memory; `off` runs them one at a time on one OS thread,
    /// round-robin, without barriers (to measure the STM's overhead, or for a deterministic run);
    /// `barriers` is `on` with the barriers kept even while a thread runs alone (by default a
    /// thread that is the only one of the run skips them): it measures their cost.
    #[arg(long, value_enum, default_value = "on", require_equals = true)]
    stm: OnOff,
    /// Print a conflict report to stderr after the run (optimized engine, --stm=on): time lost
    /// in aborts by conflict kind and location, sorted by time lost, and per-thread totals.
    #[arg(long)]
    stm_report: bool,
    /// Optimized engine, --stm=on or barriers, for testing: make guest threads overlap. Each
    /// transaction covers a pseudo-random number of segments (mostly 1 to 4) and threads pause
    /// at random before their transactions and before their commits, with choices drawn from
    /// SEED. Changes only the schedule (more conflicts and aborts), never the output or how the
    /// run ends.
    #[arg(long, value_name = "SEED", require_equals = true)]
    stm_stress: Option<u64>,
    /// Optimized engine: when functions run as x86-64 machine code (the baseline JIT): `on`
    /// (default) once a function is hot, `always` before any function first runs, `off` never,
    /// `stress:SEED` as `always` but leaving compiled code before a pseudo-random quarter of the
    /// ops (to test every way back into it); `opt` adds tier 2, experimental (loops, and functions
    /// of loops, compiled by Cranelift once hot), `opt-always` compiles every loop at its first
    /// lap, `opt-stress:SEED`
    /// is `opt` leaving both tiers at pseudo-random ops. Never changes a program's outcome.
    #[arg(long, value_name = "MODE", default_value = "on", value_parser = lockstep_optimized::JitMode::parse)]
    jit: lockstep_optimized::JitMode,
    /// Kept for old command lines: a trap always shows the guest call stack and where a joined
    /// thread trapped, on every engine.
    #[arg(long)]
    backtrace: bool,
    /// Call the function NAME instead of the entry function, with ARGS as its arguments: ints
    /// (`-12`), floats (`1.5`, `2e3`, `inf`, `nan`), `true`, `false`, `nil`, strings in double
    /// quotes (`'"text"'` in a shell). The run ends with the function's result as main's value
    /// (spec/semantics.md [exec.invoke]).
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// The program (binary or text, recognised by content; `-`: standard input).
    file: PathBuf,
    /// Arguments for the program's `main` (with --invoke: for the function NAME).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnOff {
    On,
    Off,
    Barriers,
}

#[derive(Clone, Copy, ValueEnum)]
enum Engine {
    /// The sequential reference interpreter (the executable semantics).
    Reference,
    /// The optimized engine (compact values, tracing GC, inline-cached send, guest threads in
    /// parallel under software transactional memory).
    Optimized,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutcomeFormat {
    Json,
}

/// Exit statuses.
const EXIT_TRAP: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_HOST_LIMIT: u8 = 3;
const EXIT_OUTPUT: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Asm { input, output } => asm(&input, output),
        Command::Disasm { file } => disasm(&file),
        Command::Check { file } => check(&file),
        Command::Run(args) => run(args),
        Command::Smith(args) => smith(args),
        Command::Diff(args) => diff(args),
        Command::Completions { shell } => completions(shell),
    }
}

/// The completion script for `shell`, generated from the same clap definition as the parser,
/// so it offers exactly the subcommands, options and fixed values the CLI accepts.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "lockstep", &mut script);
    write_stdout(&script).err().unwrap_or(ExitCode::SUCCESS)
}

/// Exit status 4: stdout refused output. A closed pipe (`| head`) means the reader has seen
/// enough, as a SIGPIPE would tell a C program, so it ends the run without a message; any other
/// failure (a full disk) is reported.
fn output_failed(kind: std::io::ErrorKind, message: &str) -> ExitCode {
    if kind != std::io::ErrorKind::BrokenPipe {
        eprintln!("{}", diagnostic::error(&format!("cannot write the output: {message}"), diagnostic::colour()));
    }
    ExitCode::from(EXIT_OUTPUT)
}

/// Writes `bytes` to stdout and flushes them: output that cannot be written is exit status 4,
/// never ignored (a run whose output is lost must not look successful) nor a panic.
fn write_stdout(bytes: &[u8]) -> Result<(), ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| output_failed(e.kind(), &e.to_string()))
}

/// Prints `error: ...` to stderr and returns exit status 2.
fn invalid(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{}", diagnostic::error(&message.to_string(), diagnostic::colour()));
    ExitCode::from(EXIT_INVALID)
}

/// `-` as a program path: standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How messages name a program file.
fn file_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// Loads a program; its text too when it is `.lsa`, for the diagnostics of a run.
fn load_with_text(path: &Path) -> Result<(Program, Option<String>), ExitCode> {
    let bytes = match read_bounded(path) {
        Ok(bytes) => bytes,
        Err(e) => return Err(invalid(format!("cannot read {}: {e}", file_name(path)))),
    };
    let name = file_name(path);
    load_program(&bytes, &name)
        .map_err(|e| {
            // A bad file is shown, never obeyed: the renderer escapes its control characters.
            let colour = diagnostic::colour();
            let text = std::str::from_utf8(&bytes).ok().filter(|_| !bytes.starts_with(&lockstep_spec::MAGIC));
            let shown = match &e {
                LoadError::Asm(e) => diagnostic::asm_error(e, colour),
                LoadError::Verify(e) => diagnostic::verify_error(e, &diagnostic::Source { name: &name, text }, colour),
                LoadError::Decode(d) => diagnostic::byte_error(&e.to_string(), &name, &bytes, d.offset, colour),
                LoadError::NotText { offset } => diagnostic::byte_error(&e.to_string(), &name, &bytes, *offset, colour),
            };
            eprintln!("{shown}");
            ExitCode::from(EXIT_INVALID)
        })
        .map(|program| {
            let text = if program.format == Format::Text { String::from_utf8(bytes).ok() } else { None };
            (program, text)
        })
}

fn load(path: &Path) -> Result<Program, ExitCode> {
    load_with_text(path).map(|(program, _)| program)
}

/// Reads a file (`-`: standard input), refusing anything larger than the largest module (so
/// `/dev/zero` or a huge file is an error, not an unbounded allocation).
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let limit = lockstep_spec::limits::MAX_MODULE_BYTES as u64;
    let mut bytes = Vec::new();
    if is_stdin(path) {
        std::io::stdin().lock().take(limit + 1).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!("larger than the {limit}-byte module limit")));
    }
    Ok(bytes)
}

fn asm(input: &Path, output: Option<PathBuf>) -> ExitCode {
    if is_stdin(input) && output.is_none() {
        return invalid("asm -: the program comes from standard input, so say where to write it with -o FILE");
    }
    let program = match load(input) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let output = output.unwrap_or_else(|| input.with_extension("lsb"));
    let bytes = lockstep_spec::encode::encode(program.module.module());
    if let Err(e) = std::fs::write(&output, bytes) {
        return invalid(format!("cannot write {}: {e}", output.display()));
    }
    ExitCode::SUCCESS
}

fn disasm(file: &Path) -> ExitCode {
    match load(file) {
        Ok(program) => {
            let text = lockstep_spec::disasm::disassemble(program.module.module());
            write_stdout(text.as_bytes()).err().unwrap_or(ExitCode::SUCCESS)
        }
        Err(code) => code,
    }
}

fn check(file: &Path) -> ExitCode {
    let program = match load(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let m = program.module.module();
    let instructions: usize = m.functions.iter().map(|f| f.code.len()).sum();
    let entry = m.functions.get(m.entry.0 as usize).map_or("?", |f| f.name.as_str());
    let summary = format!(
        "{}: ok ({:?}): {} functions, {} classes, {} constants, {} instructions, entry `{}`\n",
        file_name(file),
        program.format,
        m.functions.len(),
        m.classes.len(),
        m.constants.len(),
        instructions,
        entry
    );
    write_stdout(summary.as_bytes()).err().unwrap_or(ExitCode::SUCCESS)
}

fn run(args: RunArgs) -> ExitCode {
    let (program, text) = match load_with_text(&args.file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let scheduler = match parse_scheduler(&args.schedule) {
        Ok(s) => s,
        Err(message) => return invalid(message),
    };
    let fuel = args.fuel.unwrap_or(lockstep_spec::limits::DEFAULT_FUEL);
    let guest_args: Vec<Vec<u8>> = args.args.into_iter().map(OsString::into_encoded_bytes).collect();
    // With --invoke, the program run is the invocation, and ARGS are the function's arguments.
    let (module, guest_args) = match &args.invoke {
        None => (program.module.clone(), guest_args),
        Some(name) => match invocation(&program.module, name, &guest_args) {
            Ok(module) => (module, Vec::new()),
            Err(message) => return invalid(message),
        },
    };
    // The JSON document (on stdout or in a file) carries the output, the schedule and the figures.
    let json = args.outcome.is_some() || args.outcome_file.is_some();
    // A long multithreaded run has one schedule entry per segment: keep it only if asked for.
    let record_schedule = args.record_schedule.is_some() || json;
    let use_reference =
        args.engine.map_or(scheduler != lockstep::Scheduler::RoundRobin, |e| matches!(e, Engine::Reference));
    let engine = if use_reference {
        if args.stats {
            return invalid("--stats needs --engine optimized (the reference keeps no statistics)");
        }
        if args.stm_report || args.stm == OnOff::Off || args.stm_stress.is_some() {
            return invalid("--stm, --stm-report and --stm-stress need --engine optimized");
        }
        lockstep::Engine::Reference { scheduler }
    } else {
        if scheduler != lockstep::Scheduler::RoundRobin {
            return invalid(
                "the optimized engine chooses its own schedule (the order in which its transactions \
                 commit; round-robin with --stm=off); use --engine reference for seed:N and replay:FILE",
            );
        }
        if args.stm_report && args.stm == OnOff::Off {
            return invalid("--stm-report needs --stm=on");
        }
        if args.stm_stress.is_some() && args.stm == OnOff::Off {
            return invalid("--stm-stress needs --stm=on or --stm=barriers (--stm=off runs no transactions)");
        }
        let stm = match args.stm {
            OnOff::On => lockstep::Stm::On,
            OnOff::Off => lockstep::Stm::Off,
            OnOff::Barriers => lockstep::Stm::Barriers,
        };
        lockstep::Engine::Optimized { stm, jit: args.jit }
    };
    let mut config = lockstep::Config::new()
        .engine(engine)
        .fuel(fuel)
        .args(guest_args)
        .record_schedule(record_schedule)
        .stats(args.stats)
        .stm_report(args.stm_report)
        .stm_stress(args.stm_stress);
    if let Some(limit) = args.max_heap {
        config = config.max_heap_bytes(limit);
    }
    let vm = lockstep::Vm::new(config);
    // The JSON outcome carries stdout, so then the output is captured; else it streams.
    let mut captured = Vec::new();
    let ran = if json { vm.run(&module, &mut captured) } else { vm.run(&module, std::io::stdout()) };
    let (mut outcome, stats, stm_report) = match ran {
        Ok(report) => (report.outcome, report.stats, report.stm_report),
        Err(lockstep::Error::Output(e)) => return output_failed(e.kind(), &e.to_string()),
        Err(e) => {
            let code = match e {
                lockstep::Error::Invoke(_) | lockstep::Error::ScheduleDiverged { .. } => EXIT_INVALID,
                _ => EXIT_HOST_LIMIT,
            };
            eprintln!("{}", diagnostic::error(&e.to_string(), diagnostic::colour()));
            return ExitCode::from(code);
        }
    };
    outcome.stdout = captured;
    let mut stdout_tail = Vec::new();
    if let (Some(_), false, End::Finished { value }) = (&args.invoke, json, &outcome.end) {
        // The result is what --invoke is for: shown after the program's own output (in the JSON
        // document it is the end's value).
        stdout_tail = format!("{value}\n").into_bytes();
    }
    let place = |func: u32, pc: u32| stats::Place {
        function: func,
        function_name: module.functions.get(func as usize).map_or("?", |f| f.name.as_str()).to_string(),
        pc,
        line: program.source_map.as_ref().and_then(|map| map.line(func, pc)),
    };
    let destination = match (&args.outcome_file, json) {
        (Some(path), _) => Some(OutcomeTo::File(path)),
        (None, true) => Some(OutcomeTo::Stdout),
        (None, false) => None,
    };
    let document = destination.map(|to| {
        let stats = stats.as_ref().map(stats::stats_json);
        let stm = stm_report.as_ref().map(|r| stats::stm_json(r, &place));
        (to, outcome_json::document(&outcome, stats.as_deref(), stm.as_deref()))
    });
    let source = diagnostic::Source { name: &file_name(&args.file), text: text.as_deref() };
    if !stdout_tail.is_empty() {
        if let Err(code) = write_stdout(&stdout_tail) {
            return code;
        }
    }
    let status = report(&source, &program, &outcome, document, args.record_schedule.as_deref());
    if json {
        return status;
    }
    if let Some(stats) = stats {
        eprintln!("{}", stats::stats_text(&stats));
    }
    if let Some(r) = stm_report {
        eprint!("{}", stats::stm_text(&r, &file_name(&args.file), &place));
    }
    status
}

/// Where the JSON document goes.
enum OutcomeTo<'a> {
    Stdout,
    File(&'a Path),
}

/// The schedule-replay oracle on one program ([`lockstep::compare_replaying`]): the optimized
/// engine's run, replayed on the reference, must give the identical outcome (stdout, how it
/// ended, and the schedule).
fn diff(args: DiffArgs) -> ExitCode {
    let program = match load(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let fuel = args.fuel.unwrap_or(lockstep_spec::limits::DEFAULT_FUEL);
    let guest_args: Vec<Vec<u8>> = args.args.into_iter().map(OsString::into_encoded_bytes).collect();
    let config = lockstep::Config::new().fuel(fuel).args(guest_args).stm_stress(args.stm_stress);
    let comparison = match lockstep::compare_replaying(&program.module, &config) {
        Ok(c) => c,
        Err(lockstep::CompareError::Replay(e)) => {
            let text = format!("differ: the reference cannot replay the optimized engine's schedule: {e}\n");
            return write_stdout(text.as_bytes()).err().unwrap_or(ExitCode::from(EXIT_TRAP));
        }
        Err(e) => {
            // The optimized engine's run has no outcome (a limit was reached): its own error.
            let reason = std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
            eprintln!("{}", diagnostic::error(&reason, diagnostic::colour()));
            return ExitCode::from(EXIT_HOST_LIMIT);
        }
    };
    if let Some(difference) = comparison.describe("optimized", "reference") {
        return write_stdout(format!("differ: {difference}\n").as_bytes()).err().unwrap_or(ExitCode::from(EXIT_TRAP));
    }
    let optimized = &comparison.first;
    let segments: u64 = optimized.schedule.entries.iter().map(|e| e.segments).sum();
    let end = match &optimized.end {
        End::Finished { value } => format!("finished with {value}"),
        End::Trapped(t) => format!("trapped {} in `{}` at instruction {}", t.kind, t.function_name, t.pc),
        End::Deadlock { .. } => "deadlocked".to_string(),
    };
    let text = format!(
        "agree: {} bytes of output, {segments} segments in {} schedule entries, {end}\n",
        optimized.stdout.len(),
        optimized.schedule.entries.len()
    );
    write_stdout(text.as_bytes()).err().unwrap_or(ExitCode::SUCCESS)
}

fn smith(args: SmithArgs) -> ExitCode {
    use lockstep_tests::smith;
    let options = match (args.single_threaded, args.threaded) {
        (true, _) => smith::Options::SINGLE,
        (_, true) => smith::Options::THREADED,
        _ => smith::Options::ANY,
    };
    let generated = smith::from_seed(args.seed, options);
    let text = smith::to_lsa(args.seed, options, &generated);
    let Some(path) = args.output else {
        return write_stdout(text.as_bytes()).err().unwrap_or(ExitCode::SUCCESS);
    };
    let bytes = if path.extension().is_some_and(|e| e == "lsb") {
        lockstep_spec::encode::encode(&generated.module)
    } else {
        text.into_bytes()
    };
    match std::fs::write(&path, bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => invalid(format!("cannot write {}: {e}", path.display())),
    }
}

/// The module of `--invoke NAME ARGS`: each argument parsed from its text ([`lockstep::Arg`]).
fn invocation(
    module: &lockstep::VerifiedModule,
    name: &str,
    args: &[Vec<u8>],
) -> Result<lockstep::VerifiedModule, String> {
    let args = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).parse::<lockstep::Arg>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--invoke {name}: {e}"))?;
    lockstep::invocation(module, name, &args).map_err(|e| format!("--invoke {name}: {e}"))
}

fn parse_scheduler(text: &str) -> Result<lockstep::Scheduler, String> {
    use lockstep::Scheduler;
    if text == "round-robin" {
        return Ok(Scheduler::RoundRobin);
    }
    if let Some(seed) = text.strip_prefix("seed:") {
        return seed
            .parse()
            .map(Scheduler::Seed)
            .map_err(|_| format!("--schedule seed:N needs an unsigned integer N, found `{seed}`"));
    }
    if let Some(file) = text.strip_prefix("replay:") {
        let bytes = read_bounded(Path::new(file)).map_err(|e| format!("cannot read schedule {file}: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("schedule {file} is not UTF-8 text"))?;
        return Schedule::parse(&text).map(Scheduler::Replay).map_err(|e| format!("schedule {file}: {e}"));
    }
    Err(format!("unknown --schedule `{text}`: expected round-robin, seed:N or replay:FILE"))
}

/// Writes the guest's output (unless it streamed, or is inside the JSON document on stdout), the
/// JSON document and the recorded schedule; returns the exit status.
fn report(
    source: &diagnostic::Source,
    program: &Program,
    outcome: &Outcome,
    document: Option<(OutcomeTo, String)>,
    record: Option<&Path>,
) -> ExitCode {
    let written = match &document {
        // Only the document: the guest's output is inside it.
        Some((OutcomeTo::Stdout, json)) => write_stdout(json.as_bytes()),
        Some((OutcomeTo::File(path), json)) => write_stdout(&outcome.stdout).and_then(|()| {
            std::fs::write(path, json).map_err(|e| {
                let message = format!("cannot write the outcome to {}: {e}", path.display());
                eprintln!("{}", diagnostic::error(&message, diagnostic::colour()));
                ExitCode::from(EXIT_OUTPUT)
            })
        }),
        // Captured only by an engine that did not stream (empty otherwise).
        None => write_stdout(&outcome.stdout),
    };
    if let Err(code) = written {
        return code;
    }
    if let Some(path) = record {
        if let Err(e) = std::fs::write(path, outcome.schedule.to_text()) {
            return invalid(format!("cannot write schedule {}: {e}", path.display()));
        }
    }
    match &outcome.end {
        End::Finished { .. } => ExitCode::SUCCESS,
        End::Trapped(trap) => {
            let map = program.source_map.as_ref();
            eprintln!("{}", diagnostic::trap(trap, source, map, diagnostic::colour()));
            ExitCode::from(EXIT_TRAP)
        }
        End::Deadlock { blocked } => {
            let map = program.source_map.as_ref();
            eprintln!("{}", diagnostic::deadlock(blocked, source, map, diagnostic::colour()));
            ExitCode::from(EXIT_TRAP)
        }
    }
}
