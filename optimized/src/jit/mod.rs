//! The baseline JIT (tier 1): each hot function's pre-decoded code becomes x86-64 machine code,
//! one template per op, the whole function at once (`x64.rs`), in memory lockstep maps and
//! protects itself (`code_memory.rs`: writable, then executable, never both).
//!
//! The exactness rule (`DESIGN.md`, "The JIT"): compiled code never executes an instruction's
//! exceptional path. When an op would trap, run out of fuel, end the segment budget, meet a
//! requested collection, need the mode (a validation every 64th backward jump), take
//! a slow path (boxing, strings, allocation), or when the template does not handle it at all
//! (`print`, `call`, `spawn`, ...), the code leaves *before* that op with its pc, and the
//! interpreter executes it. Every op index is an entry point (a resume table per function), so
//! the interpreter re-enters compiled code after any op. Traps, their locations, fuel and the
//! schedule therefore come from the interpreter, which the suites already hold to the
//! reference; compiled code only ever does what the interpreter's fast path would have done.
//!
//! Compiled code is per OS thread (each [`crate::context::Context`] has its own [`Jit`]), so it
//! is never shared, published or freed while another thread runs it (its own thread drops a
//! function's code between runs, when a guess failed too often: `Jit::missed`). It holds no guest value
//! across an exit: every value is in the thread's registers, so collections and rollbacks see
//! everything.

#[cfg(all(target_arch = "x86_64", not(loom)))]
mod barriers;
#[cfg(all(target_arch = "x86_64", not(loom)))]
mod calls;
#[cfg(all(target_arch = "x86_64", not(loom)))]
mod code_memory;
#[cfg(all(target_arch = "x86_64", not(loom)))]
mod kinds;
#[cfg(all(target_arch = "x86_64", not(loom)))]
mod tier2;
#[cfg(all(target_arch = "x86_64", not(loom)))]
mod webs;
#[cfg(all(target_arch = "x86_64", not(loom)))]
mod x64;

use crate::code::Program;
use crate::heap::Heap;
use crate::thread::{Frame, Thread};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// When compiled code runs (`--jit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JitMode {
    /// Interpret only.
    Off,
    /// Compile a function once it is hot: `HOT` entries and taken backward jumps.
    #[default]
    On,
    /// Compile every function before its first instruction runs.
    Always,
    /// `Always`, and each function's code leaves before a pseudo-random quarter of its ops
    /// (chosen by the seed, the function and the op) and is re-entered after the interpreter ran
    /// them: every resume path gets exercised. For the test suites.
    Stress(u64),
    /// `Always`, and tier 2 too: each loop that tier 2 translates is compiled by Cranelift once
    /// it is hot (`tier2/`) and entered from tier 1 at its header.
    Opt,
    /// `Opt` with every loop compiled at its first lap (the second arrival at its header),
    /// inner loops of a nest alone as well as inside their outer loop: the suites' tier-2
    /// engine with `--stm=off`, whose short loops would not get hot.
    OptAlways,
    /// `Opt` with `Stress`'s exits in tier 1, and tier 2 leaving before a pseudo-random quarter
    /// of its ops (other ones than tier 1's), so that every exit writes its state back, and
    /// failing each of its guards the first time it is reached.
    OptStress(u64),
}

impl JitMode {
    /// Parses `off`, `on`, `always` or `stress:SEED` (the `--jit` option's values).
    pub fn parse(s: &str) -> Result<JitMode, String> {
        match s {
            "off" => Ok(JitMode::Off),
            "on" => Ok(JitMode::On),
            "always" => Ok(JitMode::Always),
            "opt" => Ok(JitMode::Opt),
            "opt-always" => Ok(JitMode::OptAlways),
            _ => match (s.strip_prefix("stress:"), s.strip_prefix("opt-stress:")) {
                (Some(seed), _) if seed.parse::<u64>().is_ok() => Ok(JitMode::Stress(seed.parse().unwrap_or(0))),
                (_, Some(seed)) if seed.parse::<u64>().is_ok() => Ok(JitMode::OptStress(seed.parse().unwrap_or(0))),
                _ => Err(format!(
                    "`{s}` is not a JIT mode: expected off, on, always, stress:SEED, opt, opt-always or opt-stress:SEED"
                )),
            },
        }
    }
}

/// Function entries plus taken backward jumps after which `JitMode::On` compiles a function.
pub const HOT: u32 = 64;

/// Whether this build has a code generator (x86-64 only).
pub const AVAILABLE: bool = cfg!(all(target_arch = "x86_64", not(loom)));

/// What compiled code reads and writes while it runs, besides the registers and the thread
/// (`#[repr(C)]`: the templates address its fields by the offsets below, checked by the tests).
/// The counters count down: compiled code may take `back_jumps` more backward jumps and pass
/// `boundaries` more segment boundaries before it must leave and let the interpreter consult
/// the mode; the driver computes both from the mode before each entry.
#[repr(C)]
pub(crate) struct JitCtx {
    /// The running frame's first register.
    pub regs: *mut u64,
    /// The running thread (`fuel` at offset 0).
    pub thread: *mut Thread,
    pub back_jumps: u64,
    pub boundaries: u64,
    /// The pc after the last boundary passed (where the current segment began).
    pub seg_start: u64,
    /// Instructions completed (counted only by code compiled for `--stats`).
    pub icount: u64,
    /// Whether a function entry (a safepoint) may skip [`crate::mode::Mode::safepoint`]: 1 when
    /// it would do nothing, else 0.
    pub safepoints: u64,
    /// Where to leave when a call helper returns null (`calls.rs`).
    pub pc: u64,
    /// What the call helper reads: the program, this thread's compiled code and heap.
    pub prog: *const Program,
    pub jit: *mut Jit,
    /// The budget register's value (`rbp`) when the counters were last brought up to date:
    /// compiled code decrements `rbp` alone at each boundary, and the counters (`back_jumps`,
    /// `boundaries` and the thread's fuel) lag behind it by `budget - rbp` until it leaves or
    /// calls the helper (`x64.rs`, "The budget register").
    pub budget: u64,
    pub heap: *mut Heap,
    /// The thread's frame stack as compiled code pushes and pops it inline: the `Vec`'s buffer,
    /// length and capacity, written back (`Vec::set_len`) when compiled code leaves or calls a
    /// helper, and re-read after a helper (which may reallocate it).
    pub frames: *mut Frame,
    pub frames_len: u64,
    pub frames_cap: u64,
    /// The thread's register stack: its first word and one past its last.
    pub regs_lo: *mut u64,
    pub regs_end: *mut u64,
    /// Per function: the address of op 0 of its code of this flavour, or 0 (not compiled).
    pub entries: *const usize,
    /// Per function: its code's table of op addresses, or null (not compiled).
    pub resumes: *const *const usize,
    /// This thread's inline-cache sites (`inline_cache::Site`, read by inline sends, which
    /// count their hits).
    pub ic_sites: *mut crate::inline_cache::Site,
    /// Per function: its arity and register count.
    pub funcs: *const [u32; 2],
    /// Set by compiled code that left because a guess failed (`Guess`): the op's index + 1.
    pub spec_miss: u64,
    /// The STM word of the running transaction's private objects (`Mode::jit_private_tag`).
    pub private_tag: u64,
    /// Per function: the address of op 0's code itself, past its entry check, or 0 (not
    /// compiled); for sends that know the receiver is of the function's self class
    /// ([`self_classes`]).
    pub bodies: *const usize,
    /// The interpreter's mode (a `*mut M`) and its STM barriers for compiled code of the barrier
    /// flavour ([`barriers_of`]), which calls them for the fields and elements of objects not
    /// private to the transaction.
    pub mode: *mut (),
    pub barriers: *const (),
    /// The running transaction (`Mode::jit_transaction`), whose read barrier's fast path tier 2
    /// takes inline (`stm::tx::InlineRead`); null in the plain flavour.
    pub tx: *const (),
    /// Per function: the address of its whole-function tier-2 cell of this flavour, or 0 (none
    /// yet): a region's `call` calls the callee's region through it (`tier2/`, "Calls").
    pub wholes: *const usize,
    /// Set by a region called by another that leaves before a call of a callee still to be
    /// compiled; the outermost region's exit then does not count its entry toward giving it
    /// up for running few laps an entry (`tier2/`, `Tr::call_words`).
    pub pending_left: u64,
    /// Set by a tier-2 exit that boxed a double (1), or found the heap exhausted doing so (2)
    /// (`tier2/`, `box_double`): the region then returns to tier 1 with bit 32 set, tier 1
    /// leaves, and the interpreter stops the run on 2.
    pub boxed: u64,
}

/// The table of `barriers::Barriers` helpers for mode `M` (null where there is no code
/// generator).
pub(crate) fn barriers_of<M: crate::mode::Mode>() -> *const () {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    return barriers::Barriers::of::<M>() as *const barriers::Barriers as *const ();
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    return std::ptr::null();
}

/// Field offsets of [`JitCtx`] for the templates.
#[allow(dead_code)] // (not read where there is no code generator)
pub(crate) mod ctx {
    pub const REGS: i32 = 0;
    pub const THREAD: i32 = 8;
    pub const BACK_JUMPS: i32 = 16;
    pub const BOUNDARIES: i32 = 24;
    pub const SEG_START: i32 = 32;
    pub const ICOUNT: i32 = 40;
    pub const SAFEPOINTS: i32 = 48;
    pub const PC: i32 = 56;
    pub const BUDGET: i32 = 80;
    pub const HEAP: i32 = 88;
    pub const FRAMES: i32 = 96;
    pub const FRAMES_LEN: i32 = 104;
    pub const FRAMES_CAP: i32 = 112;
    pub const REGS_LO: i32 = 120;
    pub const REGS_END: i32 = 128;
    pub const ENTRIES: i32 = 136;
    pub const RESUMES: i32 = 144;
    pub const IC_SITES: i32 = 152;
    pub const FUNCS: i32 = 160;
    pub const SPEC_MISS: i32 = 168;
    pub const PRIVATE_TAG: i32 = 176;
    pub const BODIES: i32 = 184;
    pub const MODE: i32 = 192;
    pub const BARRIERS: i32 = 200;
    pub const TX: i32 = 208;
    pub const WHOLES: i32 = 216;
    pub const PENDING_LEFT: i32 = 224;
    pub const BOXED: i32 = 232;
}

/// What `--stats` reports about the JIT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Functions compiled (a function compiled for two flavours counts twice).
    pub functions_compiled: u64,
    /// Bytes of machine code, tier 1's and tier 2's (every compilation counted).
    pub code_bytes: u64,
    /// Time spent compiling, tier 1's and tier 2's.
    pub compile_time: Duration,
    /// Entries into compiled code.
    pub entries: u64,
    /// Tier-2 regions compiled (`--jit=opt`): loops, and whole functions.
    pub regions_compiled: u64,
    /// Of them, whole functions (entered by calls).
    pub region_functions: u64,
    /// Of `compile_time`, tier 2's (on the compiler thread, or on the running thread when it
    /// compiles synchronously).
    pub region_compile_time: Duration,
    /// Compilations of tier-2 loops after the first, each without the entry guesses that
    /// failed before.
    pub region_recompiles: u64,
    /// Of the compilations, those that were another thread's compilation of the same loop
    /// with the same guesses, copied (`--jit=opt`'s compiler thread).
    pub region_copies: u64,
    /// Calls of tier-2 loops' code.
    pub region_entries: u64,
    /// Backward jumps (taken or not) run by tier-2 loops' code: laps, besides the entries.
    pub region_laps: u64,
    /// Tier-2 exits for failed guesses, by kind ([`DEOPT_KINDS`]); each leaves for tier 1
    /// before the op whose guess failed.
    pub region_deopts: [u64; DEOPT_KINDS.len()],
}

/// The kinds of tier-2 failed guesses, as `--stats` names them: a register of another kind at
/// a loop's entry, an operand held as a word of another kind, an int result past 61 bits, a
/// float result without a SmallFloat encoding, a store through an object that is the one whose
/// field a loop carries (`tier2::Fwd`).
pub const DEOPT_KINDS: [&str; 5] = ["entry", "operand", "overflow", "float_range", "alias"];

impl JitStats {
    #[cfg_attr(loom, allow(dead_code))] // (parallel runs are not built under loom)
    pub(crate) fn add(&mut self, o: &JitStats) {
        self.functions_compiled += o.functions_compiled;
        self.code_bytes += o.code_bytes;
        self.compile_time += o.compile_time;
        self.region_compile_time += o.region_compile_time;
        self.entries += o.entries;
        self.regions_compiled += o.regions_compiled;
        self.region_functions += o.region_functions;
        self.region_recompiles += o.region_recompiles;
        self.region_copies += o.region_copies;
        self.region_entries += o.region_entries;
        self.region_laps += o.region_laps;
        for (x, y) in self.region_deopts.iter_mut().zip(o.region_deopts) {
            *x += y;
        }
    }
}

/// One function's machine code for one flavour.
pub(crate) struct Compiled {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    code: x64::Code,
}

impl Compiled {
    /// The address of op `pc`'s code (where a call helper continues).
    #[cfg_attr(loom, allow(dead_code))]
    fn address(&self, pc: u32) -> *const u8 {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        return self.code.address(pc);
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        {
            let _ = pc;
            std::ptr::null()
        }
    }

    /// The address where a call of the function goes in: op 0's entry check, or the call of
    /// the function's tier-2 region.
    fn entry(&self) -> *const u8 {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        return self.code.entry();
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        std::ptr::null()
    }

    /// The address of op 0's code past its entry check (through the tier-2 region of the
    /// function, if it has one).
    fn body(&self) -> *const u8 {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        return self.code.body();
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        std::ptr::null()
    }

    /// The address of every op's code, by op index.
    fn addresses(&self) -> *const usize {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        return self.code.addresses();
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        std::ptr::null()
    }

    /// Runs the compiled code from op `pc` until it leaves; returns the pc of the op the
    /// interpreter must execute next.
    ///
    /// # Safety
    /// `ctx.regs` is the window of a frame of the function this code was compiled from (at
    /// least its register count of valid words, not otherwise accessed meanwhile),
    /// `ctx.thread` the running thread, `pc` an op index of the function, and the code was
    /// compiled for the running mode's flavour (plain memory access only where the mode's
    /// loads and stores are plain).
    #[inline]
    pub(crate) unsafe fn run(&self, ctx: &mut JitCtx, pc: u32) -> u32 {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        {
            // SAFETY: the caller's contract.
            unsafe { self.code.run(ctx, pc) }
        }
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        {
            let _ = ctx;
            pc
        }
    }
}

/// How code is compiled for a mode: which variant of a function's code the interpreter needs.
#[derive(Clone, Copy)]
pub(crate) struct Flavour {
    /// Heap words may be read and written with plain loads and stores (`--stm=off`, a thread
    /// alone); otherwise every heap access leaves for the interpreter (the STM's barriers).
    pub plain_memory: bool,
    /// Count instructions (`--stats`).
    pub stats: bool,
}

impl Flavour {
    fn index(self) -> usize {
        self.plain_memory as usize * 2 + self.stats as usize
    }
}

/// What compiled code guesses about an arithmetic op whose operands' kinds nothing tells (a
/// field's value, an argument): that both are SmallFloats, or both SmallInts, so that the result's
/// kind is known to the ops after it (`kinds.rs`). A wrong guess leaves before the op; after
/// [`MISSES`] of them at one op the function is recompiled with the next guess, down to
/// `Neither` (the template with both paths, whose result is of either kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Guess {
    Float,
    Int,
    Neither,
}

/// Wrong guesses at one op before its function is recompiled with the next guess.
const MISSES: u8 = 4;

enum Slot {
    /// Not compiled yet: entries and backward jumps seen.
    Cold(u32),
    Ready(Box<Compiled>),
    /// The code generator refused it (too large for its offsets, or no code memory): run it
    /// interpreted.
    Refused,
}

/// An OS thread's compiled code and hotness counters.
/// A function's tier-2 loops, by header.
#[cfg(all(target_arch = "x86_64", not(loom)))]
type Regions = Vec<(usize, tier2::Region)>;

pub(crate) struct Jit {
    mode: JitMode,
    /// Per function, per flavour ([`Flavour::index`]).
    slots: Vec<[Slot; 4]>,
    /// Per flavour, per function: for [`JitCtx::entries`] and [`JitCtx::resumes`] (allocated
    /// once: compiled code holds their addresses while it runs).
    entries: [Vec<usize>; 4],
    resumes: [Vec<usize>; 4],
    /// Per flavour, per function: for [`JitCtx::bodies`].
    bodies: [Vec<usize>; 4],
    /// Per flavour, per function: for [`JitCtx::wholes`] (set when the function's regions are
    /// made, kept as long as they are).
    wholes: [Vec<usize>; 4],
    /// Per function: its self class ([`self_classes`]).
    self_classes: Vec<Option<u32>>,
    /// Per function: arity and register count (for [`JitCtx::funcs`]).
    funcs: Vec<[u32; 2]>,
    /// Per function, per op: the current guess and the wrong guesses since it was made (empty
    /// until the function is first compiled: every guess `Float`).
    guesses: Vec<Vec<(Guess, u8)>>,
    /// Per function, per flavour: its tier-2 loops (`tier2/`), made with its first code and
    /// kept when that code is dropped for a failed guess, so that a loop Cranelift compiled is
    /// not compiled again with the function's next tier-1 code (a region does not depend on
    /// tier 1's guesses: it checks what it relies on at its entry, and tier 1 continues at the
    /// pc it returns through that op's entry check).
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    regions: Vec<[Option<Regions>; 4]>,
    /// The program, for tier 2's compilations on another thread (`tier2::Job`), and how many
    /// of them are under way ([`Jit::settle`]).
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    prog: std::sync::Arc<Program>,
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    tier2_jobs: usize,
    pub stats: JitStats,
}

impl Jit {
    /// What `--stats` reports: the figures so far, with the tier-2 regions'.
    pub fn stats(&self) -> JitStats {
        #[cfg_attr(not(all(target_arch = "x86_64", not(loom))), allow(unused_mut))]
        let mut s = self.stats.clone();
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        for (_, r) in self.regions.iter().flatten().flatten().flatten() {
            r.add_stats(&mut s);
        }
        s
    }

    /// Publishes the tier-2 code the compiler thread has finished since the last call (`--jit=opt`
    /// compiles there while tier 1 runs the loop): called by the interpreter before it enters
    /// compiled code, when none runs. One branch when no compilation is under way.
    #[inline(always)]
    pub fn settle(&mut self) {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        if self.tier2_jobs != 0 {
            self.settle_slow();
        }
    }

    #[cfg(all(target_arch = "x86_64", not(loom)))]
    #[inline(never)]
    fn settle_slow(&mut self) {
        for (_, r) in self.regions.iter_mut().flatten().flatten().flatten() {
            if r.settle(&self.prog) {
                self.tier2_jobs -= 1;
            }
        }
    }

    pub fn new(mode: JitMode, prog: &std::sync::Arc<Program>) -> Jit {
        let mode = if AVAILABLE { mode } else { JitMode::Off };
        let slots = if mode == JitMode::Off {
            Vec::new()
        } else {
            prog.funcs.iter().map(|_| std::array::from_fn(|_| Slot::Cold(0))).collect()
        };
        let n = slots.len();
        Jit {
            mode,
            slots,
            entries: std::array::from_fn(|_| vec![0; n]),
            resumes: std::array::from_fn(|_| vec![0; n]),
            bodies: std::array::from_fn(|_| vec![0; n]),
            wholes: std::array::from_fn(|_| vec![0; n]),
            self_classes: self_classes(prog),
            funcs: prog.funcs.iter().map(|f| [f.arity, f.regs]).collect(),
            guesses: vec![Vec::new(); n],
            #[cfg(all(target_arch = "x86_64", not(loom)))]
            regions: (0..n).map(|_| Default::default()).collect(),
            #[cfg(all(target_arch = "x86_64", not(loom)))]
            prog: prog.clone(),
            #[cfg(all(target_arch = "x86_64", not(loom)))]
            tier2_jobs: 0,
            stats: JitStats::default(),
        }
    }

    /// The tables of `flavour` for [`JitCtx::entries`], [`JitCtx::resumes`], [`JitCtx::funcs`]
    /// and [`JitCtx::bodies`].
    pub fn tables(&self, flavour: Flavour) -> Tables {
        let f = flavour.index();
        Tables {
            entries: self.entries[f].as_ptr(),
            resumes: self.resumes[f].as_ptr().cast(),
            funcs: self.funcs.as_ptr(),
            bodies: self.bodies[f].as_ptr(),
            wholes: self.wholes[f].as_ptr(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.mode != JitMode::Off
    }

    /// Function `func` is entered, resumed, or takes a backward jump (`weight` counts toward
    /// its hotness): its code for `flavour` if there is some (compiling it now if it just became
    /// hot), else null.
    #[inline(always)]
    pub fn code(&mut self, prog: &Program, func: u32, flavour: Flavour, weight: u32) -> *const Compiled {
        if let Some(Slot::Ready(c)) = self.slots.get(func as usize).map(|s| &s[flavour.index()]) {
            return &**c;
        }
        self.code_slow(prog, func, flavour, weight)
    }

    /// Compiled code of `func` left at op `pc` because its guess failed: after [`MISSES`] of
    /// them the op gets the next guess and the function's code is dropped (it is compiled again
    /// when next needed). Returns whether it was dropped: the caller must look its code up
    /// again. Safe because no compiled code runs now (this OS thread's is the only one that
    /// uses it, and it has left), and the tables compiled code reads forget it.
    #[inline(never)]
    pub fn missed(&mut self, func: u32, pc: u32) -> bool {
        let Some(g) = self.guesses.get_mut(func as usize).and_then(|g| g.get_mut(pc as usize)) else {
            return false;
        };
        g.1 += 1;
        if g.1 < MISSES {
            return false;
        }
        *g = (if g.0 == Guess::Float { Guess::Int } else { Guess::Neither }, 0);
        for (flavour, slot) in self.slots[func as usize].iter_mut().enumerate() {
            if matches!(slot, Slot::Ready(_)) {
                *slot = Slot::Cold(HOT);
                self.entries[flavour][func as usize] = 0;
                self.resumes[flavour][func as usize] = 0;
                self.bodies[flavour][func as usize] = 0;
            }
        }
        true
    }

    #[inline(never)]
    fn code_slow(&mut self, prog: &Program, func: u32, flavour: Flavour, weight: u32) -> *const Compiled {
        let threshold = if self.mode == JitMode::On { HOT } else { 0 };
        let slot = &mut self.slots[func as usize][flavour.index()];
        match slot {
            Slot::Ready(c) => return &**c,
            Slot::Refused => return std::ptr::null(),
            Slot::Cold(heat) => {
                *heat = heat.saturating_add(weight);
                if *heat < threshold {
                    return std::ptr::null();
                }
            }
        }
        let t = Instant::now();
        let stress = match self.mode {
            JitMode::Stress(seed) | JitMode::OptStress(seed) => Some(seed),
            _ => None,
        };
        let guesses = &mut self.guesses[func as usize];
        if guesses.is_empty() {
            *guesses = vec![(Guess::Float, 0); prog.funcs[func as usize].code.len()];
        }
        let guesses: Vec<Guess> = guesses.iter().map(|g| g.0).collect();
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        let cells: Cells = {
            let tier2 = matches!(self.mode, JitMode::Opt | JitMode::OptAlways | JitMode::OptStress(_));
            let (eager, background) =
                (self.mode == JitMode::OptAlways, self.mode == JitMode::Opt && tier2::background());
            let set = self.regions[func as usize][flavour.index()].get_or_insert_with(|| {
                if tier2 {
                    let how = tier2::Policy { stress, eager, background };
                    tier2::regions(&self.prog, func, how, flavour.stats, flavour.plain_memory)
                } else {
                    Vec::new()
                }
            });
            if let Some((_, r)) = set.iter().find(|(_, r)| r.whole()) {
                self.wholes[flavour.index()][func as usize] = r.cell() as usize;
            }
            Cells {
                loops: set.iter().filter(|(_, r)| !r.whole()).map(|(h, r)| (*h, r.cell() as usize)).collect(),
                function: set.iter().find(|(_, r)| r.whole()).map(|(_, r)| r.cell() as usize),
            }
        };
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        let cells = Cells::default();
        let slot = &mut self.slots[func as usize][flavour.index()];
        let compiled = compile(prog, func, flavour, stress, &guesses, &self.self_classes, cells);
        self.stats.compile_time += t.elapsed();
        match compiled {
            Some((c, bytes)) => {
                self.stats.functions_compiled += 1;
                self.stats.code_bytes += bytes as u64;
                self.entries[flavour.index()][func as usize] = c.entry() as usize;
                self.resumes[flavour.index()][func as usize] = c.addresses() as usize;
                self.bodies[flavour.index()][func as usize] = c.body() as usize;
                *slot = Slot::Ready(Box::new(c));
                match slot {
                    Slot::Ready(c) => &**c,
                    _ => unreachable!(),
                }
            }
            None => {
                *slot = Slot::Refused;
                std::ptr::null()
            }
        }
    }
}

/// `cells`: the cells of the function's tier-2 loops, by header.
fn compile(
    prog: &Program,
    func: u32,
    flavour: Flavour,
    stress: Option<u64>,
    guesses: &[Guess],
    self_classes: &[Option<u32>],
    cells: Cells,
) -> Option<(Compiled, usize)> {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        let code = x64::compile(prog, func, flavour, stress, guesses, self_classes, cells)?;
        let bytes = code.len();
        Some((Compiled { code }, bytes))
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    {
        let _ = (prog, func, flavour, stress, guesses, self_classes, cells);
        None
    }
}

/// A function's tier-2 cells, for its tier-1 code to call the regions through: each loop's by
/// its header's pc, and the whole function's, if it is a region (`tier2::regions`).
#[derive(Default)]
#[cfg_attr(loom, allow(dead_code))]
pub(super) struct Cells {
    pub loops: HashMap<usize, usize>,
    pub function: Option<usize>,
}

/// The tables compiled code of one flavour reads (`JitCtx`'s fields of the same names).
pub(crate) struct Tables {
    pub entries: *const usize,
    pub resumes: *const *const usize,
    pub funcs: *const [u32; 2],
    pub bodies: *const usize,
    pub wholes: *const usize,
}

/// Per function: the class every receiver of a `send` that calls it is an instance of (the
/// class itself or a subclass), when it has one: the function is the method of exactly one
/// class's table (a receiver whose lookup finds it there is of that class or below,
/// [exec.method-lookup]) and has a register 0 to receive it. Compiled code knows register 0 is
/// an object of that class at the function's entry from such a send (`kinds.rs`); other entries
/// check it.
pub(crate) fn self_classes(prog: &Program) -> Vec<Option<u32>> {
    // Per function: no table names it yet, one class's does, or several do.
    #[derive(Clone, Copy, PartialEq)]
    enum Seen {
        None,
        One(u32),
        Many,
    }
    let mut seen = vec![Seen::None; prog.funcs.len()];
    for (c, class) in prog.classes.iter().enumerate() {
        for &(_, f) in &class.methods {
            let s = &mut seen[f as usize];
            *s = match *s {
                Seen::None => Seen::One(c as u32),
                Seen::One(k) if k == c as u32 => Seen::One(k),
                _ => Seen::Many,
            };
        }
    }
    seen.iter()
        .zip(&prog.funcs)
        .map(|(&s, f)| match s {
            Seen::One(k) if f.arity >= 1 => Some(k),
            _ => None,
        })
        .collect()
}

/// Whether the stress mode with `seed` makes op `pc` of `func` leave unconditionally (a quarter
/// of the ops, spread by a SplitMix64 hash).
#[allow(dead_code)] // (not read where there is no code generator)
pub(crate) fn stress_exit(seed: u64, func: u32, pc: usize) -> bool {
    stress_draw(seed, func, pc) & 3 == 0
}

/// A pseudo-random number for op `pc` of function `func` under the stress seed `seed`
/// (splitmix64's finaliser).
pub(crate) fn stress_draw(seed: u64, func: u32, pc: usize) -> u64 {
    let mut z = seed ^ (u64::from(func) << 32 | pc as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn the_context_layout_is_the_templates_contract() {
        assert_eq!(offset_of!(JitCtx, regs) as i32, ctx::REGS);
        assert_eq!(offset_of!(JitCtx, thread) as i32, ctx::THREAD);
        assert_eq!(offset_of!(JitCtx, back_jumps) as i32, ctx::BACK_JUMPS);
        assert_eq!(offset_of!(JitCtx, boundaries) as i32, ctx::BOUNDARIES);
        assert_eq!(offset_of!(JitCtx, seg_start) as i32, ctx::SEG_START);
        assert_eq!(offset_of!(JitCtx, icount) as i32, ctx::ICOUNT);
        assert_eq!(offset_of!(JitCtx, pc) as i32, ctx::PC);
        assert_eq!(offset_of!(JitCtx, budget) as i32, ctx::BUDGET);
        assert_eq!(offset_of!(JitCtx, heap) as i32, ctx::HEAP);
        assert_eq!(offset_of!(JitCtx, safepoints) as i32, ctx::SAFEPOINTS);
        assert_eq!(offset_of!(JitCtx, frames) as i32, ctx::FRAMES);
        assert_eq!(offset_of!(JitCtx, frames_len) as i32, ctx::FRAMES_LEN);
        assert_eq!(offset_of!(JitCtx, frames_cap) as i32, ctx::FRAMES_CAP);
        assert_eq!(offset_of!(JitCtx, regs_lo) as i32, ctx::REGS_LO);
        assert_eq!(offset_of!(JitCtx, regs_end) as i32, ctx::REGS_END);
        assert_eq!(offset_of!(JitCtx, entries) as i32, ctx::ENTRIES);
        assert_eq!(offset_of!(JitCtx, resumes) as i32, ctx::RESUMES);
        assert_eq!(offset_of!(JitCtx, ic_sites) as i32, ctx::IC_SITES);
        assert_eq!(offset_of!(JitCtx, funcs) as i32, ctx::FUNCS);
        assert_eq!(offset_of!(JitCtx, spec_miss) as i32, ctx::SPEC_MISS);
        assert_eq!(offset_of!(JitCtx, private_tag) as i32, ctx::PRIVATE_TAG);
        assert_eq!(offset_of!(JitCtx, mode) as i32, ctx::MODE);
        assert_eq!(offset_of!(JitCtx, barriers) as i32, ctx::BARRIERS);
        assert_eq!(offset_of!(JitCtx, tx) as i32, ctx::TX);
        assert_eq!(offset_of!(JitCtx, bodies) as i32, ctx::BODIES);
        assert_eq!(offset_of!(JitCtx, wholes) as i32, ctx::WHOLES);
        assert_eq!(offset_of!(JitCtx, pending_left) as i32, ctx::PENDING_LEFT);
        assert_eq!(offset_of!(JitCtx, boxed) as i32, ctx::BOXED);
    }

    #[test]
    fn modes_parse_and_bad_ones_are_named() {
        assert_eq!(JitMode::parse("off"), Ok(JitMode::Off));
        assert_eq!(JitMode::parse("on"), Ok(JitMode::On));
        assert_eq!(JitMode::parse("always"), Ok(JitMode::Always));
        assert_eq!(JitMode::parse("stress:42"), Ok(JitMode::Stress(42)));
        assert_eq!(JitMode::parse("opt"), Ok(JitMode::Opt));
        assert_eq!(JitMode::parse("opt-always"), Ok(JitMode::OptAlways));
        assert_eq!(JitMode::parse("opt-stress:7"), Ok(JitMode::OptStress(7)));
        assert!(JitMode::parse("opt-stress:").is_err());
        assert!(JitMode::parse("stress:x").unwrap_err().contains("stress:x"));
        assert!(JitMode::parse("fast").is_err());
    }

    #[test]
    fn the_stress_mode_leaves_at_about_a_quarter_of_the_ops() {
        let n = (0..4000).filter(|&pc| stress_exit(7, 3, pc)).count();
        assert!((800..1200).contains(&n), "{n} of 4000");
        let other = (0..4000).filter(|&pc| stress_exit(8, 3, pc) != stress_exit(7, 3, pc)).count();
        assert!(other > 1000, "another seed picks other ops ({other} differ)");
    }
}
