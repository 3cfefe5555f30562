//! `smith`: a generator of valid lockstep modules for differential testing, in the spirit of
//! wasm-smith (see `../shared/notes` and tests/README.md).
//!
//! Why it exists: the differential properties (`tests/tests/differential.rs`) and the fuzz
//! targets (`fuzz/`) need programs that every engine accepts, so that no input is wasted on a
//! verifier rejection, and that reach every instruction with interesting values. A byte-level
//! mutator of `.lsb` files was the rejected alternative: almost all its outputs fail the
//! verifier, and those that pass are mostly type errors at the first instruction.
//!
//! How it stays valid: the generator only ever emits what the verifier accepts (registers in
//! range, labels in range, call arities, string constants for `Str` operands, terminated
//! functions) by construction; [`generate`] checks the result with the verifier anyway and a
//! test asserts it over many seeds.
//!
//! How it stays meaningful: every register of a function has a *static type* that never
//! changes (`Int`, `Float`, `Bool`, `Str`, `Arr`, `Obj(class)`, `Fn(signature)`, `Any`); a
//! function's prologue gives each a value of its type, and later instructions only write values
//! of that type into it. So most instructions see operands they accept, and type errors come
//! from deliberate "chaos" instructions whose rate each program draws. Divisions, array indices,
//! `ftoi` and array lengths are guarded most of the time (Cranelift's fuzzgen lesson), at a rate
//! each program draws as well.
//!
//! How it ends: calls, `callv`, `send` and `spawn` only name functions with a higher index than
//! the caller (except one deliberately recursive function), so the call graph is acyclic apart
//! from that recursion; loops are counted; and every run gets a fuel budget
//! ([`Generated::fuel`]), which ends any stray backward jump or deep recursion with
//! `out_of_fuel`, an outcome every engine must agree on.
//!
//! Swarm testing: each program draws which instruction [`Family`]s its random instructions may
//! use, how many functions and classes it has, whether it uses threads, and its chaos and guard
//! rates. The scaffolding (prologues, the final `ret`, the loop and call patterns) is emitted
//! regardless of the families.
//!
//! Modules: `plan` decides the module's shape (classes, method names, function signatures),
//! `body` writes each function's code, `oracle` holds the differential checks, `shrink` reduces
//! a failing program, `stats` counts outcomes for the fuzz targets and the properties.

mod body;
pub mod oracle;
mod plan;
mod rng;
pub mod shrink;
pub mod stats;

use arbitrary::Unstructured;
use lockstep_spec::{Module, Opcode};

pub use stats::Stats;

/// A group of opcodes that a program may or may not use (swarm testing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Moves,
    Arith,
    Logic,
    Compare,
    Convert,
    Control,
    Calls,
    Objects,
    Arrays,
    Strings,
    Output,
    Threads,
    Atomic,
    Traps,
}

impl Family {
    pub const ALL: &'static [Family] = &[
        Family::Moves,
        Family::Arith,
        Family::Logic,
        Family::Compare,
        Family::Convert,
        Family::Control,
        Family::Calls,
        Family::Objects,
        Family::Arrays,
        Family::Strings,
        Family::Output,
        Family::Threads,
        Family::Atomic,
        Family::Traps,
    ];
}

/// The family of every opcode. Exhaustive on purpose: a new row in the instruction table does
/// not compile until it has a family here and a generator in `body.rs`.
pub fn family(op: Opcode) -> Family {
    use Opcode::*;
    match op {
        Nop | Mov | LdNil | LdTrue | LdFalse | LdI | LdK => Family::Moves,
        Add | Sub | Mul | Div | Rem | Neg | Sqrt => Family::Arith,
        And | Or | Xor | Not | Shl | Shr | UShr => Family::Logic,
        Eq | Ne | Lt | Le | Gt | Ge => Family::Compare,
        IToF | FToI | TypeOf => Family::Convert,
        Jmp | JmpIf | JmpIfNot | Ret => Family::Control,
        LdFn | Call | CallV => Family::Calls,
        New | GetF | SetF | Send | InstanceOf => Family::Objects,
        ANew | AGet | ASet | ALen | APush => Family::Arrays,
        Concat | SLen | ToStr | SToI | SToF => Family::Strings,
        Print | PrintLn => Family::Output,
        Spawn | Join => Family::Threads,
        AtomicBegin | AtomicEnd | Yield => Family::Atomic,
        Trap | Assert => Family::Traps,
    }
}

/// Opcodes the generator never emits. Reviewed: empty. Every opcode of the table is generated,
/// and `tests/tests/differential.rs` checks that each one occurs.
pub const DENY: &[Opcode] = &[];

/// Whether programs may spawn threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// Never: the program runs one thread, so every engine must give the identical outcome.
    Forbid,
    /// The program draws whether it uses threads.
    Allow,
    /// Always: `main` forks workers that share objects and arrays, and joins them.
    Require,
}

/// What kind of programs to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub threads: Threads,
}

impl Options {
    pub const SINGLE: Options = Options { threads: Threads::Forbid };
    pub const ANY: Options = Options { threads: Threads::Allow };
    pub const THREADED: Options = Options { threads: Threads::Require };

    /// The flag of `lockstep smith` that selects these options (for reproduction commands).
    pub fn cli_flag(self) -> &'static str {
        match self.threads {
            Threads::Forbid => " --single-threaded",
            Threads::Allow => "",
            Threads::Require => " --threaded",
        }
    }
}

/// A generated program and how to run it.
#[derive(Clone, Debug)]
pub struct Generated {
    /// Verified by [`generate`].
    pub module: Module,
    /// Fuel per thread for the run (`RunSettings::fuel`, `lockstep run --fuel`).
    pub fuel: u64,
    /// The families the program's random instructions were drawn from.
    pub families: Vec<Family>,
    /// Whether `main` spawns threads.
    pub threads: bool,
}

/// Generates a valid module from `u`. Never fails: when `u` runs out, the remaining choices take
/// their smallest values, which still make a valid (smaller) program.
pub fn generate(u: &mut Unstructured<'_>, options: Options) -> Generated {
    let mut rng = rng::Rng::new(u);
    let plan = plan::Plan::draw(&mut rng, options);
    let module = body::build(&plan, &mut rng);
    // The generator is correct by construction; this is the cheap proof, and it turns a
    // generator bug into an immediate, clear failure instead of a confusing engine report.
    if let Err(e) = lockstep_spec::verify::verify(module.clone()) {
        panic!("smith generated an invalid module: {e}\n{}", lockstep_spec::disasm::disassemble(&module));
    }
    Generated { module, fuel: plan.fuel, families: plan.families.clone(), threads: plan.threads }
}

/// The bytes a seed stands for: SplitMix64, so `lockstep smith --seed N`, the properties and
/// the regression files all mean the same program by the same number.
pub fn seed_bytes(seed: u64) -> Vec<u8> {
    const LEN: usize = 8192;
    let mut state = seed;
    let mut out = Vec::with_capacity(LEN);
    while out.len() < LEN {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out
}

/// The program of a seed.
pub fn from_seed(seed: u64, options: Options) -> Generated {
    let bytes = seed_bytes(seed);
    generate(&mut Unstructured::new(&bytes), options)
}

/// The program as `.lsa` text, headed by comments that say how it was made and how to run it.
pub fn to_lsa(seed: u64, options: Options, generated: &Generated) -> String {
    let families: Vec<String> = generated.families.iter().map(|f| format!("{f:?}")).collect();
    format!(
        "; generated by `lockstep smith --seed {seed}{}`\n; families: {}\n; run with: lockstep run --fuel {} FILE\n{}",
        options.cli_flag(),
        families.join(" "),
        generated.fuel,
        lockstep_spec::disasm::disassemble(&generated.module)
    )
}
