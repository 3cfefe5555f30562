//! Tier 2: hot loops compiled by Cranelift, with guest registers held unboxed in machine
//! registers (floats as doubles, ints as their tagged words) instead of the register window.
//!
//! **Regions.** A region is a loop: the ops from a backward jump's target `H` (the header) to the
//! last backward jump to it. It is compiled when all its ops are ones this tier translates
//! (moves, constants, `add`/`sub`/`mul`/`div` on ints and floats, ordering and equality
//! comparisons of two ints or two floats, the bit ops on ints, the jumps) and is entered only at `H`, from tier-1
//! code: tier-1 code arriving at `H` (falling into it, jumping to it, or jumping back to it
//! after the backward jump's accounting) calls the region (an ordinary System V call,
//! `extern "sysv64" fn(*mut JitCtx) -> u64`) and continues at the op whose pc it returns,
//! through that op's entry check (`x64.rs`, `Emitter::start`). A loop is compiled once it is
//! hot ([`HOT_ARRIVALS`]); a hot loop inside another translatable loop first lets the outer one
//! be compiled, so that a nest is entered once rather than once per outer lap. A function with
//! a loop whose every op translates (`ret` too: the region leaves before it) is also a region
//! as a whole ([`Cell::whole`]), entered at op 0 by calls (`x64.rs`, `Emitter::function_entry`):
//! once a call, however few laps its loops run.
//!
//! **Calls.** A function every op of which translates and whose calls are all of such
//! functions ([`callable`]; fib, a tree walk) is a region as a whole, with or without a loop,
//! and a region's `call` of one calls its code directly ([`Tr::call`]): an ordinary System V
//! call of (context, cell, bound, window, frame index, budget) returning (word, budget), with
//! no frame record pushed and only the callee's arguments (and the registers it reads before
//! writing) written to its window. Frames are written lazily: a callee that leaves writes its
//! registers, its frame record and the frame stack's length, and returns [`LEFT`] with its pc;
//! its caller then writes the callee's destination register, its own registers as before the
//! call and its own record, whose pc is the call's return address ([`CALLED`]), and so on out
//! to the region tier 1 called, which returns the innermost pc with bit 32 set: tier 1 leaves
//! to the interpreter, which continues in the top frame, another function's. So the interpreter
//! finds every frame as its own calls would have left it. The call charges the boundary and
//! the fuel of a function entry as tier 1's does, the callee's `ret` the return's boundary; a
//! call leaves for tier 1's when the budget is spent (a safepoint due: no collection runs
//! while regions are active), at the depth limit, at [`MAX_REGION_DEPTH`] region calls on the
//! host stack, without room in the register stack, or while the callee has no code.
//!
//! **Representations.** Each guest register of a region gets one representation for the whole
//! region ([`Rep`]): a double (every value it takes there is a float), a tagged SmallInt word,
//! or any word. Entry loads and checks the registers live at `H` (a wrong kind: the region
//! returns `H` at once, having changed nothing); the ops then compute on machine values.
//!
//! **Exactness** (the tier-1 rule, `DESIGN.md`): the code never executes an op's exceptional
//! path. Before an op that would overflow, meet an operand of an unexpected kind, take a double
//! without a SmallFloat encoding as a word (a store, a call's argument, a move into a word), or
//! pass a boundary the counters do not allow, it *leaves*: it writes every register the region
//! changed back to the window, brings the counters up to date and returns that op's pc. So the
//! guest state at every exit is the one the interpreter would have before that op, and the op
//! runs in tier 1 or the interpreter. A double held in a register is never checked where it is
//! made: the write-back boxes one without an encoding ([`box_double`]), as the interpreter's
//! arithmetic would have boxed it, and boxes nothing else (the doubles made and used up in the
//! region, which the interpreter would have boxed too, are garbage, no part of an outcome:
//! [limit.memory]). An exit that boxed returns with bit 32 set, so that tier 1 leaves for the
//! interpreter, which sees the collection the allocation may have requested (and stops the run
//! when the heap is exhausted).
//! Registers not live at `H` are written back only when the region wrote them on the way to the
//! exit (a bit per register in a mask, `written`), so that a register the interpreter would not have
//! touched keeps its word. A register dead where the exit leaves (no op reads it before writing
//! it) that the region holds as a number is written as 0.0 or 0 ([exec.dead-registers]), so
//! that no number is kept alive for the exits past its last use.
//!
//! **Counters.** On entry, the budget is what tier 1's `reload` computes (the least of the
//! context's `back_jumps` and `boundaries` and the fuel, 0 when `safepoints` is 0); each
//! backward jump inside the region spends one, as in tier 1, and a backward jump not taken gives
//! the fuel and `back_jumps` theirs back when the region leaves.
//!
//! **Giving up, or compiling again.** Each exit for a failed guess (a guard, not an ordinary
//! leaving) counts in the region's cell; after [`GIVE_UP`] of them the region puts the cell's
//! `retry` in its entry: [`first_entry`] while the region may be compiled again, 0 (tier 1 stops
//! calling it) after [`RECOMPILES`] compilations or when most of the failures were not at its
//! entry. Compiled again, a region takes each register live at its header in the join of the
//! kinds it has seen there (an int then a float: a word, tested where it is used), so the
//! guess that failed is not made again.

mod flow;
mod loop_plan;

use super::code_memory::CodeMemory;
use super::webs::{self, Webs};
use super::{ctx, stress_exit, JitCtx, DEOPT_KINDS};
use crate::code::{Op, Program};
use crate::heap::{ARRAY_LEN, ARRAY_STORAGE, HEADER_WORDS};
use crate::interp::FILL_SLACK;
use crate::value::{decode_float, is_small_float, is_small_int, Value, FALSE, TRUE};
use cranelift_codegen::ir::condcodes::{CondCode, FloatCC, IntCC};
use cranelift_codegen::ir::{self, types, AbiParam, InstBuilder, MemFlagsData};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use lockstep_spec::limits::MAX_CALL_DEPTH;
use std::collections::HashMap;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

pub(super) use flow::liveness;
use flow::{constant_regs, dominators, jump, loops, successors, writes, written_before, Written};
use loop_plan::{counted_steps, lifts, seg_loops, Lift, Step};

/// Exits for failed guesses after which a region stops being entered.
pub(super) const GIVE_UP: usize = 64;

/// Entries after which a region whose loop runs few laps an entry stops being entered: fewer
/// than [`SHORT_LAPS`] on average, the entry's checks and the exit's write-back cost more than
/// the laps gain over tier 1 (richards' list walk: 0.04 laps an entry; nbody's loops, 10 laps
/// an entry, ran 5-10% slower than tier 1 alone).
const SHORT_TRIP_ENTRIES: u64 = 1024;
const SHORT_LAPS: u64 = 16;

/// How many times a region is compiled at most: the first time, then again without the entry
/// guesses that failed.
const RECOMPILES: u32 = 3;

/// The most guards one op has (`aget`'s: a pointer, not nil, an array, an int index inside the
/// length), each with a byte in the cell's `forced` under the stress mode.
const GUARDS_PER_OP: usize = 5;

/// Heap cell kinds in a header's low four bits (`heap::Kind`), and the most runs of class
/// indices a field access tests (the class and its subclasses; an instance of a class past
/// them leaves), as in tier 1.
const KIND_OBJECT: i64 = crate::heap::Kind::Object as i64;
const KIND_ARRAY: i64 = crate::heap::Kind::Array as i64;
const MAX_CLASS_RUNS: usize = 4;
/// The class of a fact ([`Tr::checked`]) that a web holds an object of some class (a `send`
/// dispatched on it); `u32::MAX` is an array's.
const ANY_OBJECT: u32 = u32::MAX - 1;
/// A header's class index (high half) and kind (low four bits).
const CLASS_AND_KIND: i64 = !0xffff_fff0_i64;

/// Why an exit leaves: [`LEAVE`], not for a failed guess, or a failed guess of the kind
/// `DEOPT_KINDS[why - 1]` names (counted in the cell, `Cell::deopts`).
type Why = u8;
const LEAVE: Why = 0;
const ENTRY: Why = 1;
const OPERAND: Why = 2;
const OVERFLOW: Why = 3;
const RANGE: Why = 4;
/// A `setf` through an object that is the one whose field the loop carries ([`Fwd`]).
const ALIAS: Why = 5;
/// Not a failed guess: a callee left ([`Tr::call`]); the exit is the call's, with its frame
/// record's pc the call's return address.
const CALLED: Why = 6;

/// What a region called by another returns when it left instead of returning (no value's
/// word: the tags are one-hot), with its status: the pc of the top frame.
const LEFT: i64 = 6;

/// The float encoding's exponent offset (`value.rs`).
const EXP_OFFSET: i64 = 896 << 53;

/// An operand's value before an overflowing op, from the result ([`Tr::undo`]): `p + q` or
/// `p - q`.
#[derive(Clone, Copy)]
enum UndoOp {
    Add(ir::Value, ir::Value),
    Sub(ir::Value, ir::Value),
}

/// 0.0 as a SmallFloat word (its bits rotated are 0: the tag alone).
const FLOAT_ZERO: u64 = crate::value::TAG_FLOAT;

/// How a region holds a guest register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Rep {
    /// A double: the register holds a SmallFloat wherever the region runs.
    F,
    /// A SmallInt `i` as `i << 3`: its tagged word without the tag (`word ^ 1`), so that `add`
    /// and `sub` are one machine add or subtract, whose overflow is exactly the 61-bit one, and
    /// comparisons are those of the words. The tag goes back on when the value leaves the region
    /// or goes into a word.
    I,
    /// Any word.
    W,
}

impl Rep {
    fn join(a: Option<Rep>, b: Rep) -> Rep {
        match a {
            None => b,
            Some(a) if a == b => a,
            Some(_) => Rep::W,
        }
    }
}

/// A loop's state at a fixed address (boxed): tier-1 code reads `entry` and calls it with the
/// context and the cell's address; the region's exits write `failures` and `entry`.
#[repr(C)]
pub(super) struct Cell {
    /// The region's code, or [`first_entry`] until it is compiled, or 0: tier 1 runs the loop.
    entry: usize,
    /// Exits for failed guesses since the last compilation.
    failures: usize,
    /// Always 0: the condition of the write-back's edge back to the header, which is never
    /// taken ([`Tr::exits`]).
    zero: usize,
    /// A whole function's code as other regions call it ([`Tr::call`]): the code, or 0 until
    /// it is compiled and once it has given up. Unlike `entry`, not cleared for running few
    /// laps an entry from tier 1: a function without loops (fib) runs none.
    callee: usize,
    /// 1 once the region will not be compiled (it did not translate, or was compiled
    /// [`RECOMPILES`] times): a region's call of it then counts as an entry that ran no laps
    /// ([`Tr::call_words`]), as a call of any function that is no region does.
    gone: u64,
    /// The region's code while it is published (its executable memory's address, kept when
    /// it gives up): what its calls of its own function call, since the code is there for as
    /// long as it runs.
    code: usize,
    /// What the code puts in `entry` after [`GIVE_UP`] failed guesses: [`first_entry`], which
    /// compiles the region again, or 0.
    retry: usize,
    /// Compilations so far, and per register live at the header the join of the kinds it held
    /// at each of them ([`observed`]; empty before the first).
    compiles: u32,
    seen: Vec<Option<Rep>>,
    /// Compilations that were another thread's, copied ([`Memo`]).
    copies: u32,
    /// `deopts` when the region was last compiled.
    deopts_then: [u64; DEOPT_KINDS.len()],
    /// The op of the last failed guess, + 1 (0: none), written by the exits.
    last_miss: u64,
    /// The arithmetic ops on two words (of no known number kind) that the region takes for
    /// ints rather than floats ([`arith_guess`]): each added when its float guess failed.
    int_ops: Vec<usize>,
    /// The counted loops' steps ([`Step`]) whose test at the entry failed: compiled again, the
    /// region checks them at each lap instead.
    kept: Vec<usize>,
    /// Calls of the region's code, and its failed guesses by kind ([`super::DEOPT_KINDS`]), for `--stats`.
    entries: u64,
    deopts: [u64; DEOPT_KINDS.len()],
    /// Backward jumps the region's code has run (taken or not), for `--stats` and
    /// [`SHORT_TRIP_ENTRIES`].
    laps: u64,
    /// How long compiling the region took, and the bytes of code made, every compilation
    /// counted (`--stats`' compile time and code bytes).
    compile_time: Duration,
    code_bytes: u64,
    /// Whether the code counts the instructions it completes in the context (`--stats`).
    count: bool,
    /// Whether heap words are read and written with plain loads and stores (the flavour's
    /// `plain_memory`); otherwise a field access needs an object private to the transaction.
    plain: bool,
    func: u32,
    h: usize,
    end: usize,
    /// Whether the region is the whole function ([`regions`]): entered by calls, at op 0.
    whole: bool,
    stress: Option<u64>,
    /// Under the stress mode, a byte per guard of the region, set when the guard has been made
    /// to fail ([`Tr::force`]); empty otherwise.
    forced: Box<[u8]>,
    mem: Option<CodeMemory>,
    /// Arrivals at the header still to come before the loop is compiled ([`first_entry`]).
    heat: u32,
    /// Arrivals for which a hot loop still leaves its compilation to `outer`, the nearest
    /// loop of the function around it that tier 2 translates (its cell's address, 0 if none;
    /// an address as tier 1's code holds the cells': the regions move with the `Jit` to the
    /// thread that runs them): a region entered at the outer header runs the whole nest, with
    /// one entry instead of one per outer lap.
    patience: u32,
    outer: usize,
    /// A loop inside this one waits for it ([`first_entry`]): it is compiled at its next
    /// arrival, without waiting in turn for its own outer loop. Mandelbrot's pixel loop
    /// waited for its row loop, which comes back once a row; its iteration loop, done
    /// waiting first, was compiled alone, and the compiler thread's queue put the pixel loop's
    /// region 3 ms later than it could have been.
    wanted: bool,
    /// The registers live at the header (computed at the first compilation), and the
    /// arrivals a compilation again has waited for values of a kind not seen before.
    live_h: Vec<bool>,
    waited: u32,
    /// The program, which a compilation's job holds (on the compiler thread,
    /// [`Policy::background`], or not), and the compilation under way there.
    prog: Arc<Program>,
    /// Whether [`Policy::background`] holds: compiled on the compiler thread.
    background: bool,
    job: Option<Arc<Done>>,
}

impl Cell {
    /// What a compilation reads of the cell, copied for the compiler thread.
    fn target(&self) -> Target {
        Target {
            func: self.func,
            h: self.h,
            end: self.end,
            whole: self.whole,
            stress: self.stress,
            count: self.count,
            plain: self.plain,
            forced: if self.forced.is_empty() {
                None
            } else {
                Some((self.forced.as_ptr() as usize, self.forced.len()))
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        prog: Arc<Program>,
        entry: usize,
        func: u32,
        h: usize,
        end: usize,
        stress: Option<u64>,
        count: bool,
        plain: bool,
    ) -> Cell {
        // At most [`GUARDS_PER_OP`] guards an op, and the entry's.
        let forced = vec![0; if stress.is_some() { GUARDS_PER_OP * (end + 1 - h) + 1 } else { 0 }].into_boxed_slice();
        let (entries, deopts, compile_time, code_bytes) = (0, [0; DEOPT_KINDS.len()], Default::default(), 0);
        Cell {
            entry,
            failures: 0,
            zero: 0,
            callee: 0,
            gone: 0,
            code: 0,
            retry: entry,
            compiles: 0,
            copies: 0,
            seen: Vec::new(),
            deopts_then: [0; DEOPT_KINDS.len()],
            last_miss: 0,
            int_ops: Vec::new(),
            kept: Vec::new(),
            entries,
            deopts,
            laps: 0,
            compile_time,
            code_bytes,
            count,
            plain,
            func,
            h,
            end,
            whole: false,
            stress,
            forced,
            mem: None,
            heat: 0,
            patience: 0,
            outer: 0,
            wanted: false,
            live_h: Vec::new(),
            waited: 0,
            prog,
            background: false,
            job: None,
        }
    }
}

/// One loop of a function that tier 2 may compile (`Code` owns it; its cell does not move).
pub(super) struct Region {
    cell: Box<Cell>,
}

impl Region {
    pub fn cell(&self) -> *const usize {
        &self.cell.entry
    }

    /// Whether the region is its whole function, entered at op 0 by calls rather than at a
    /// loop's header.
    pub fn whole(&self) -> bool {
        self.cell.whole
    }

    /// When the compiler thread has finished the region's compilation: publishes the code (or
    /// leaves the loop to tier 1 when it did not translate) and returns true. Called by the
    /// thread that owns the region while no compiled code runs (the interpreter, before it
    /// enters compiled code: `Jit::settle`).
    pub fn settle(&mut self, prog: &Program) -> bool {
        let c = &mut *self.cell;
        let Some(done) = &c.job else { return false };
        let Some(out) = done.take() else { return false };
        c.job = None;
        let Some((compiled, took, copied)) = out else { return true };
        c.compile_time += took;
        c.copies += u32::from(copied && compiled.is_some());
        publish(prog, c, compiled);
        true
    }

    /// Adds the region's figures to `s` (`--stats`): whether it was compiled and how long that
    /// took, the calls of its code, and its failed guesses by kind ([`super::DEOPT_KINDS`]).
    pub fn add_stats(&self, s: &mut super::JitStats) {
        let c = &self.cell;
        s.regions_compiled += u64::from(c.mem.is_some());
        s.region_functions += u64::from(c.mem.is_some() && c.whole);
        s.region_recompiles += u64::from(c.compiles.saturating_sub(1));
        s.region_copies += u64::from(c.copies);
        s.compile_time += c.compile_time;
        s.region_compile_time += c.compile_time;
        s.code_bytes += c.code_bytes;
        s.region_entries += c.entries;
        s.region_laps += c.laps;
        for (x, y) in s.region_deopts.iter_mut().zip(c.deopts) {
            *x += y;
        }
    }
}

/// How a function's loops get hot and where they are compiled ([`regions`]).
pub(super) struct Policy {
    /// The stress mode's seed: hotness drawn from it per loop.
    pub stress: Option<u64>,
    /// Every loop compiled at its first lap (`--jit=opt-always`).
    pub eager: bool,
    /// Compiled on the compiler thread ([`submit`]) while tier 1 goes on running the loop
    /// (`--jit=opt`, unless `LOCKSTEP_TIER2_BACKGROUND=0`); otherwise on the running thread,
    /// at the arrival that made it hot, as the suites' modes do, whose runs must not depend
    /// on how fast another thread is.
    pub background: bool,
}

/// What a compilation reads of a cell, copied so that it can run on the compiler thread: the
/// address of its `forced` bytes is a constant in the code, not read while compiling (the
/// cell's own address is the code's second argument).
#[derive(Clone, Copy)]
struct Target {
    func: u32,
    h: usize,
    end: usize,
    whole: bool,
    stress: Option<u64>,
    count: bool,
    plain: bool,
    forced: Option<(usize, usize)>,
}

/// A compilation's result (`None`: the region does not translate) and how long it took, once
/// the compiler thread has finished it (`stm::handoff`, whose flag says so without taking the
/// lock: the owner asks at every arrival at the header while the compilation runs, every lap of
/// the loop).
/// The flag says whether the compilation was another thread's, copied ([`Memo`]).
type Done = crate::stm::handoff::Handoff<(Option<Translated>, Duration, bool)>;

/// A region to compile on the compiler thread: everything it reads, owned.
struct Job {
    prog: Arc<Program>,
    code: Vec<Op>,
    live_h: Vec<bool>,
    seen: Vec<Option<Rep>>,
    int_ops: Vec<usize>,
    kept: Vec<usize>,
    target: Target,
    done: Arc<Done>,
}

/// Hands `job` to the compiler thread (one for the process, started with the first job), or
/// gives it back when there is none (it could not be started).
fn submit(job: Box<Job>) -> Result<(), Box<Job>> {
    static QUEUE: OnceLock<Option<mpsc::Sender<Box<Job>>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Box<Job>>();
        let compiler = move || {
            for job in rx {
                let started = Instant::now();
                let (out, copied) = memo_compile(&job);
                log_compile(&job, started, out.as_ref());
                job.done.put((out, started.elapsed(), copied));
            }
        };
        std::thread::Builder::new().name("lockstep-tier2".into()).spawn(compiler).ok()?;
        Some(tx)
    });
    match queue {
        Some(tx) => tx.send(job).map_err(|e| e.0),
        None => Err(job),
    }
}

/// With `LOCKSTEP_TIER2_LOG` set, a line on stderr per compilation on the compiler thread: the
/// region, when it started (after the first one) and how long it took, and its code's size.
/// A profiling aid, for what the warm-up of a run is made of.
fn log_compile(job: &Job, started: Instant, out: Option<&Translated>) {
    static FIRST: OnceLock<Instant> = OnceLock::new();
    if std::env::var_os("LOCKSTEP_TIER2_LOG").is_none() {
        return;
    }
    let first = *FIRST.get_or_init(|| started);
    let name = &job.prog.funcs[job.target.func as usize].name;
    let bytes = out.map_or(0, |t| t.bytes.len());
    eprintln!(
        "tier2: {name}:region:{} started at {:.1} ms, took {:.1} ms, {bytes} bytes",
        job.target.h,
        (started - first).as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
}

/// `job` compiled, or copied from a compilation of the same by any thread (then `true`):
/// [`Memo`]. A thread that finds the same compilation under way waits for it (the suites'
/// threads, compiling on their own threads, reach a loop's header at about the same time). The
/// memo's lock is not held while compiling.
fn memo_compile(job: &Job) -> (Option<Translated>, bool) {
    static MEMO: OnceLock<std::sync::Mutex<Memo>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    let t = &job.target;
    let fresh = || compile(&job.prog, &job.code, t, &job.live_h, &job.seen, &job.int_ops, &job.kept);
    let Some(key) = Memo::key(job) else { return (fresh(), false) };
    // A poisoned lock (a panic while it was held) only loses the copies.
    let Ok(mut m) = memo.lock() else { return (fresh(), false) };
    if let Some((_, slot)) = m.done.get(&key) {
        let slot = slot.clone();
        drop(m);
        return (slot.wait().clone(), true);
    }
    m.done.retain(|_, (prog, _)| prog.strong_count() > 0);
    let slot = Arc::new(OnceLock::new());
    m.done.insert(key, (Arc::downgrade(&job.prog), slot.clone()));
    drop(m);
    // Set even if the compilation panics, so that no thread waits for it forever.
    struct Fill(Arc<Slot>);
    impl Drop for Fill {
        fn drop(&mut self) {
            let _ = self.0.set(None);
        }
    }
    let fill = Fill(slot);
    let out = fresh();
    let _ = fill.0.set(out.clone());
    (out, false)
}

/// The compilations tier 2 has made, by everything they were made from. The threads of a
/// parallel run each have their own cells for the same loops (a region's code runs on the thread
/// that owns its cell), and mostly make the same guesses: a second thread's compilation of a
/// loop is then the first one's bytes, copied into its own executable memory (the code takes
/// its cell as an argument and holds nothing else of a thread's). mandelbrot at T=2 compiled
/// each of its three loops twice: 7 ms of the compiler thread's time in a run of 30 ms on two
/// busy cores.
#[derive(Default)]
struct Memo {
    /// The program is held weakly: its allocation, so its address in the key, cannot be
    /// another program's while the entry is here; entries of programs that ended are dropped.
    /// A compilation's slot is empty while it is under way.
    done: HashMap<MemoKey, (std::sync::Weak<Program>, Arc<Slot>)>,
}

/// A compilation in the memo: empty while it is under way.
type Slot = OnceLock<Option<Translated>>;

/// The program's address, the function, the header and the end, `--stats`' counting, plain
/// memory, the kinds guessed at the header, the ops taken for ints and the steps checked.
type MemoKey = (usize, u32, usize, usize, bool, bool, Vec<Option<Rep>>, Vec<usize>, Vec<usize>);

impl Memo {
    /// What `job`'s compilation is made from; `None` under the stress mode, whose code holds its
    /// cell's `forced` bytes' address: never copied.
    fn key(job: &Job) -> Option<MemoKey> {
        let t = &job.target;
        if t.stress.is_some() || t.forced.is_some() {
            return None;
        }
        Some((
            Arc::as_ptr(&job.prog) as usize,
            t.func,
            t.h,
            t.end,
            t.count,
            t.plain,
            job.seen.clone(),
            job.int_ops.clone(),
            job.kept.clone(),
        ))
    }
}

/// Whether `--jit=opt` compiles on the compiler thread: yes unless `LOCKSTEP_TIER2_BACKGROUND`
/// is `0` (for a test that counts what happens at each arrival).
pub(super) fn background() -> bool {
    std::env::var_os("LOCKSTEP_TIER2_BACKGROUND").is_none_or(|v| v != "0")
}

/// Arrivals of tier-1 code at a loop's header after which the loop is compiled
/// (`--jit=opt`): enough that a loop of a function called a few times (nbody's `energy`) stays
/// in tier 1, and few beside the laps of any loop worth compiling.
pub(super) const HOT_ARRIVALS: u32 = 64;

/// Arrivals for which a hot inner loop waits for the loop around it to be compiled instead
/// (`Cell::patience`): after them it is compiled alone (the outer loop may not come back to
/// its header for a long time).
const PATIENCE: u32 = 16 * HOT_ARRIVALS;

/// The loops of `func` whose ops tier 2 translates, by header pc, each to be compiled once tier
/// 1 has arrived at its header [`HOT_ARRIVALS`] times ([`first_entry`]): then the registers'
/// values are there to say what the loop computes on (the feedback the static kinds lack for
/// arguments and fields). A loop inside another one of them first leaves its compilation to
/// the outer loop ([`Cell::patience`]). Under the stress mode both counts are small and drawn
/// from the seed per loop (0 compiles at the first arrival), so that the suites' short loops
/// get compiled, inner loops alone as well as inside outer ones; `eager` (`--jit=opt-always`)
/// compiles every loop at its second arrival (the first lap's backward jump, with a lap's
/// values in the registers) and makes no inner loop wait.
/// With `count` (`--stats`' flavour), the regions' code counts the instructions it completes.
pub(super) fn regions(prog: &Arc<Program>, func: u32, how: Policy, count: bool, plain: bool) -> Vec<(usize, Region)> {
    let Policy { stress, eager, background } = how;
    let callable = callable_of(prog);
    let code = unfused(&prog.funcs[func as usize].code);
    let mut out: Vec<(usize, Region)> = Vec::new();
    let loops = loops(&code);
    // The whole function, when every op translates, its calls call such functions, and no
    // jump goes to op 0 ([`callable`]): entered by calls, so that a function whose loops run
    // few laps a call (nbody's `advance`) is entered once a call instead of once per loop, its
    // straight-line code between the loops runs unboxed too, and other regions call it
    // directly ([`Tr::call`]).
    let whole = callable.funcs[func as usize];
    let spans = whole.then_some((0, code.len() - 1)).into_iter().chain(loops);
    for (h, end) in spans {
        if !enterable(&code, h, end, &callable) {
            continue;
        }
        let entry = first_entry as extern "sysv64" fn(*mut JitCtx, *mut Cell) -> u64 as usize;
        let mut cell = Box::new(Cell::new(prog.clone(), entry, func, h, end, stress, count, plain));
        cell.background = background;
        cell.whole = whole && h == 0;
        (cell.heat, cell.patience) = match stress {
            Some(seed) => {
                let draw = |salt: u64| (super::stress_draw(seed ^ salt, func, h) % 3) as u32;
                (draw(0x4845_4154), draw(0x5041_5449))
            }
            None if eager => (1, 0),
            None => (HOT_ARRIVALS, PATIENCE),
        };
        out.push((h, Region { cell }));
    }
    // `loops` sorts by header: a loop's outer loops come before it, the nearest last (the whole
    // function, at op 0, first of all).
    for i in 0..out.len() {
        let (h, end) = (out[i].1.cell.h, out[i].1.cell.end);
        // Not the whole function's: it is compiled at a call, which may never come again (a
        // `main` called once), so a loop does not wait for it.
        let outer = out[..i].iter_mut().rev().find(|(_, r)| r.cell.h < h && end <= r.cell.end && !r.cell.whole);
        // The cells are boxed and live as long as the vector (`Jit::regions`): the pointer stays
        // valid for as long as the inner cell is used.
        let outer = outer.map_or(0, |(_, r)| &mut *r.cell as *mut Cell as usize);
        out[i].1.cell.outer = outer;
    }
    out
}

/// Per function: whether it is a region as a whole, which regions' `call`s and `send`s call
/// directly: every op of it translates, each `call` of it calls such a function and each `send`
/// such methods (the class table's answers for its selector, [`x64::class_table_targets`]), no
/// jump goes to op 0 (a loop with its header there is the loop's region), and its frame is
/// small enough to clear with a store per register ([`MAX_CALLEE_REGS`]). The greatest such
/// set: recursion (fib) is in it. And per send site, whether its methods are all such.
pub(super) struct Callable {
    pub funcs: Vec<bool>,
    sites: Vec<bool>,
}

/// [`callable`] of `prog`, computed once per program for the process (a scan of every
/// function, which [`regions`] and each compilation need): kept while the program lives.
fn callable_of(prog: &Arc<Program>) -> Arc<Callable> {
    type Known = Vec<(std::sync::Weak<Program>, Arc<Callable>)>;
    static KNOWN: std::sync::Mutex<Known> = std::sync::Mutex::new(Vec::new());
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    known.retain(|(p, _)| p.strong_count() > 0);
    if let Some((_, c)) = known.iter().find(|(p, _)| std::ptr::eq(p.as_ptr(), Arc::as_ptr(prog))) {
        return c.clone();
    }
    let c = Arc::new(callable(prog));
    known.push((Arc::downgrade(prog), c.clone()));
    c
}

pub(super) fn callable(prog: &Program) -> Callable {
    let codes: Vec<Vec<Op>> = prog.funcs.iter().map(|f| unfused(&f.code)).collect();
    let targets: Vec<Option<Vec<u32>>> = (0..prog.sites.len())
        .map(|site| {
            let argc = codes.iter().flatten().find_map(|op| match *op {
                Op::Send { site: s, argc, .. } if s as usize == site => Some(argc),
                _ => None,
            })?;
            let t = super::x64::class_table_targets(prog, prog.sites[site].selector, argc)?;
            Some(t.into_iter().map(|(f, _)| f).collect())
        })
        .collect();
    let mut funcs: Vec<bool> = codes
        .iter()
        .zip(&prog.funcs)
        .map(|(code, f)| {
            translatable(code)
                && f.regs as usize <= MAX_CALLEE_REGS
                && !code.iter().any(|op| matches!(jump(op), Some((0, _, _))))
        })
        .collect();
    let mut sites: Vec<bool> = targets.iter().map(Option::is_some).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for (site, t) in targets.iter().enumerate() {
            if sites[site] && t.as_ref().is_some_and(|t| t.iter().any(|&f| !funcs[f as usize])) {
                sites[site] = false;
                changed = true;
            }
        }
        for (g, code) in codes.iter().enumerate() {
            let bad = |op: &Op| match *op {
                Op::Call { f, .. } => !funcs[f as usize],
                Op::Send { site, .. } => !sites[site as usize],
                _ => false,
            };
            if funcs[g] && code.iter().any(bad) {
                funcs[g] = false;
                changed = true;
            }
        }
    }
    Callable { funcs, sites }
}

/// Registers of a function that regions call directly: the caller clears them in the callee's
/// window, a store each.
const MAX_CALLEE_REGS: usize = 64;

/// Nested calls of regions on the host stack before a `call` leaves for tier 1's.
const MAX_REGION_DEPTH: i64 = 200;

/// What an exit calls to write back a double without a SmallFloat encoding
/// ([`Tr::box_raw`]): the register's bits become a boxed float from the thread's heap, as the interpreter's
/// arithmetic would have made where the region made the double (fewer of them: the doubles a
/// region makes and uses up are never boxed, and the boxes the interpreter would have made of
/// them are garbage, which is no part of an outcome, [limit.memory]). The heap never collects
/// while it allocates, so the words written back before this one stay valid. It notes in
/// `JitCtx::boxed` that it allocated (1), or that the heap is exhausted (2, the word nil): the
/// region that tier 1 called then returns with bit 32 set, so tier 1 leaves for the
/// interpreter at once, which sees a collection the allocation requested at its next
/// safepoint, and stops the run when the heap is exhausted (`interp::Exec::run_compiled`).
extern "sysv64" fn box_double(ctx: *mut JitCtx, slot: *mut u64) {
    // SAFETY: called by a region's write-back with the context tier 1 called it with, whose
    // heap is the running thread's and used by no one else while compiled code runs, and the
    // address of a register of the region's window, which holds a double's bits.
    let (cx, slot) = unsafe { (&mut *ctx, &mut *slot) };
    let heap = unsafe { &mut *cx.heap };
    *slot = match heap.new_boxed_float(f64::from_bits(*slot)) {
        Ok(v) => {
            cx.boxed |= 1;
            v
        }
        Err(crate::heap::OutOfMemory) => {
            if !mutant!(tier2_box_oom_ignored) {
                cx.boxed |= 2;
            }
            crate::value::NIL
        }
    };
}

/// The cell's entry until the region is compiled: tier 1 arriving at the header calls it.
/// While the loop is not hot, or waits for its outer loop, it returns the header (tier 1 runs
/// the loop). Once hot, it compiles the region for the kinds of the values its live registers
/// hold now, publishes it in the cell and runs it; or, when it does not compile, clears the
/// cell's entry (tier 1 keeps the loop) and returns the header. With [`Policy::background`]
/// it hands the compilation to the compiler thread instead and clears the cell's entry: tier
/// 1 runs the loop at full speed meanwhile, and the interpreter publishes the code when it
/// next enters compiled code after the compiler thread has finished ([`Region::settle`]).
extern "sysv64" fn first_entry(ctx: *mut JitCtx, cell: *mut Cell) -> u64 {
    // SAFETY: tier 1 calls this with its own context and a cell of the running function's code
    // (`x64.rs`, `enter_region`), both live and used by no one else while it runs: compiled code
    // belongs to one OS thread. `ctx.regs` is the running frame's window of the function's
    // register count, and `ctx.prog` the program.
    let (cx, cell) = unsafe { (&*ctx, &mut *cell) };
    // SAFETY: as above.
    let prog = unsafe { &*cx.prog };
    if cell.job.is_some() {
        // (Not reached: the entry is 0 while the compiler thread works on the region.)
        return cell.h as u64;
    }
    if cell.compiles == 0 {
        if cell.heat > 0 {
            cell.heat -= 1;
            return cell.h as u64;
        }
        // SAFETY: `outer` is null or a cell of the same function's regions, which live as long
        // as this one ([`regions`]), on the same thread; tier 1 is not running its code (the
        // outer region runs no other code, and it is not running: this was called from tier 1).
        let outer = if cell.wanted { 0 } else { cell.outer };
        if let Some(outer) = unsafe { (outer as *mut Cell).as_mut() } {
            // The outer region runs this loop when it is compiled (tier 1 comes here after it
            // left inside this loop, at the end of a budget say), or once the compiler thread
            // has compiled it; while it is still to be compiled, it is at its next arrival,
            // unless this loop has waited long enough.
            if outer.job.is_some() {
                return cell.h as u64;
            }
            let pending = outer.entry == first_entry as extern "sysv64" fn(*mut JitCtx, *mut Cell) -> u64 as usize;
            if outer.entry != 0 && !(pending && cell.patience == 0) {
                if pending {
                    cell.patience -= 1;
                    outer.heat = 0;
                    outer.wanted = true;
                }
                return cell.h as u64;
            }
        }
    }
    let code = unfused(&prog.funcs[cell.func as usize].code);
    // Compiled before: again only when most of the failed guesses since were at the entry
    // (a register of another kind), or were operand guesses of which the last was at an
    // `add`, `sub` or `mul` (two words taken for floats that held ints, say two elements of an
    // int array): the guesses a new compilation does not make again.
    let mut flipped = false;
    if cell.compiles > 0 {
        let since: Vec<u64> = cell.deopts.iter().zip(cell.deopts_then).map(|(n, then)| n - then).collect();
        // Guesses made for the whole loop at its entry: a register's kind, a counted step's
        // room, and that no store writes a carried field through another object (`alias`).
        let at_entry = since[usize::from(ENTRY) - 1] + since[usize::from(ALIAS) - 1];
        let all = since.iter().sum::<u64>();
        let operand = since[usize::from(OPERAND) - 1];
        let miss = cell.last_miss.checked_sub(1).map(|p| p as usize);
        let flip = miss.filter(|&p| {
            2 * operand > all
                && (cell.h..=cell.end).contains(&p)
                && matches!(code[p], Op::Add { .. } | Op::Sub { .. } | Op::Mul { .. } | Op::Neg { .. } | Op::Div { .. })
                && !cell.int_ops.contains(&p)
        });
        if cell.compiles >= RECOMPILES || (flip.is_none() && 2 * at_entry <= all) {
            (cell.entry, cell.retry, cell.gone) = (0, 0, 1);
            return cell.h as u64;
        }
        if let Some(p) = flip {
            cell.int_ops.push(p);
            flipped = true;
        }
        // A counted loop's step whose test at the entry failed last (counted at the step's
        // op, not the header): compiled again with its check at each lap; or a `setf` whose
        // object was the carried field's: compiled again without carrying it ([`Fwd`]).
        if let Some(p) = miss.filter(|&p| p != cell.h && 2 * at_entry > all && (cell.h..=cell.end).contains(&p)) {
            if !cell.kept.contains(&p) {
                cell.kept.push(p);
                flipped = true;
            }
        }
    }
    let started = Instant::now();
    if cell.live_h.is_empty() {
        cell.live_h = liveness(prog, &code).swap_remove(cell.h);
    }
    let live_h = std::mem::take(&mut cell.live_h);
    let value = |r: usize| {
        // SAFETY: `r` is a register of the function (liveness has one entry per register the
        // code names, [verify.reg-range]), inside the window.
        unsafe { *cx.regs.add(r) }
    };
    let now = observed(&live_h, value);
    if cell.seen.is_empty() {
        cell.seen = now;
    } else if !flipped {
        // The kind that failed the entry is seen again only at some arrivals (a register still
        // nil when tier 1 comes from before the loop, a number on the laps after): compiled for
        // the kinds seen before, the region would fail as often again. Wait for an arrival
        // that shows something new, for a while.
        let joined = seen_join(&cell.seen, &now, &live_h);
        if joined == cell.seen && cell.waited < HOT_ARRIVALS {
            cell.waited += 1;
            cell.live_h = live_h;
            cell.compile_time += started.elapsed();
            return cell.h as u64;
        }
        cell.seen = joined;
    }
    cell.waited = 0;
    let target = cell.target();
    let done = Arc::new(Done::default());
    let job = Box::new(Job {
        prog: cell.prog.clone(),
        code,
        live_h: live_h.clone(),
        seen: cell.seen.clone(),
        int_ops: cell.int_ops.clone(),
        kept: cell.kept.clone(),
        target,
        done: done.clone(),
    });
    let compiled = match if cell.background { submit(job) } else { Err(job) } {
        Ok(()) => {
            // Tier 1 runs the loop meanwhile, without calling here; [`Region::settle`]
            // publishes the code.
            cell.job = Some(done);
            cell.entry = 0;
            cell.live_h = live_h;
            cell.compile_time += started.elapsed();
            // SAFETY: `ctx.jit` is the `Jit` that owns the cell (tier 1's code runs on its
            // thread); only its count of jobs is touched, not the regions.
            unsafe { *std::ptr::addr_of_mut!((*cx.jit).tier2_jobs) += 1 };
            return cell.h as u64;
        }
        Err(job) => memo_compile(&job),
    };
    let (compiled, copied) = compiled;
    cell.copies += u32::from(copied && compiled.is_some());
    cell.live_h = live_h;
    cell.compile_time += started.elapsed();
    install(ctx, prog, cell, compiled)
}

/// Puts the code compiled for `cell` in executable memory, makes it the cell's entry and runs
/// it; or, when there is none, clears the cell's entry (tier 1 keeps the loop) and returns the
/// header.
fn install(ctx: *mut JitCtx, prog: &Program, cell: &mut Cell, compiled: Option<Translated>) -> u64 {
    if !publish(prog, cell, compiled) {
        return cell.h as u64;
    }
    // SAFETY: the code just compiled for this signature ([`translate`]), in read-execute
    // memory the cell owns. Depth 0: called as tier 1 calls it, the rest of the arguments unread.
    let f: RegionFn = unsafe { std::mem::transmute(cell.entry) };
    f(ctx, cell, 0, 0, 0, 0).0
}

/// What a region's code returns: a pc for tier 1, or a word or [`LEFT`] and a status for the
/// region that called it ([`Tr::call`]); in `rax` and `rdx`.
#[repr(C)]
struct Pair(u64, u64);

/// A region's code: (context, cell, depth, window, frame index, budget); the last three are
/// read only at a depth over 0 ([`Tr::entry`]).
type RegionFn = extern "sysv64" fn(*mut JitCtx, *mut Cell, u64, u64, u64, u64) -> Pair;

/// Puts the code compiled for `cell` in executable memory and makes it the cell's entry; or,
/// when there is none, clears the entry (tier 1 keeps the loop). Returns whether there is code.
/// The code it replaces is not running: regions call nothing, and this runs on the thread that
/// owns the cell, called from tier 1 ([`first_entry`]) or the interpreter ([`Region::settle`]).
fn publish(prog: &Program, cell: &mut Cell, compiled: Option<Translated>) -> bool {
    let compiled = compiled.and_then(|Translated { bytes, clif }| {
        let mem = CodeMemory::new(&bytes).ok()?;
        perf_map(prog, cell, &mem, &bytes, clif.as_deref());
        Some((mem, bytes.len() as u64))
    });
    let Some((mem, len)) = compiled else {
        (cell.entry, cell.retry, cell.gone) = (0, 0, 1);
        return false;
    };
    cell.compiles += 1;
    cell.code_bytes += len;
    (cell.failures, cell.deopts_then) = (0, cell.deopts);
    cell.entry = mem.ptr() as usize;
    cell.callee = cell.entry;
    cell.code = cell.entry;
    cell.mem = Some(mem);
    true
}

/// The region of `cell` compiled for the values its registers live at the header hold now
/// (`value(r)`; `live_h`, the registers live there): its webs ([`webs`]), their
/// representations, and the machine code; `None` when it does not translate.
fn compile(
    prog: &Arc<Program>,
    code: &[Op],
    target: &Target,
    live_h: &[bool],
    seed_regs: &[Option<Rep>],
    int_ops: &[usize],
    kept: &[usize],
) -> Option<Translated> {
    let (h, end) = (target.h, target.end);
    let live = liveness(prog, code);
    let consts = constant_regs(code, live_h.len(), prog.funcs[target.func as usize].arity as usize);
    let code = &left_before(code, h, end, &callable_of(prog));
    let (webs, live_w, reps, int_ops) = shape(&prog.arg_pool, code, &live, h, end, live_h, seed_regs, int_ops)?;
    let steps = counted_steps(&webs.code, h, end, &reps, &live_w, kept);
    let lifts = lifts(&webs.code, h, end, target.plain, &reps, kept);
    translate(prog, code, live, &webs, &reps, live_h, &live_w, target, &int_ops, &steps, &consts, lifts).ok()
}

/// The region `h..=end`'s webs, which of them are live at the header, their
/// representations (`seed_regs`: the kinds of the registers live there), and the ops taken
/// for ints: `int_ops` and [`int_divs`].
#[allow(clippy::type_complexity)]
#[allow(clippy::too_many_arguments)]
fn shape(
    pool: &[u16],
    code: &[Op],
    live: &[Vec<bool>],
    h: usize,
    end: usize,
    live_h: &[bool],
    seed_regs: &[Option<Rep>],
    int_ops: &[usize],
) -> Option<(Webs, Vec<bool>, Vec<Option<Rep>>, Vec<usize>)> {
    let webs = webs::webs(code, h, end, live_h.len(), &|pc, r| !live[pc].get(r as usize).copied().unwrap_or(true))?;
    let nwebs = webs.reg.len();
    // A web is live at the header when it holds its register's entry value and the register is.
    let live_w: Vec<bool> = (0..nwebs).map(|w| webs.entry[w] && live_h[webs.reg[w] as usize]).collect();
    let seed: Vec<Option<Rep>> =
        (0..nwebs).map(|w| if live_w[w] { seed_regs[webs.reg[w] as usize] } else { None }).collect();
    let int_ops = int_divs(&webs.code, h, end, int_ops);
    let mut reps = representations(&webs.code, h, end, &live_w, &seed, &int_ops)?;
    // A call's arguments are read through `Webs::before` (the pool is not renamed): a web no
    // other op uses goes to the call as a word.
    for (pc, op) in code.iter().enumerate().take(end + 1).skip(h) {
        if let Op::Call { argc, args, .. } | Op::Send { argc, args, .. } = *op {
            for &a in &pool[args as usize..args as usize + argc as usize] {
                let web = webs.before[pc - h][a as usize] as usize;
                if reps[web].is_none() {
                    reps[web] = Some(Rep::W);
                }
            }
        }
    }
    // Every web of a register the region writes has a variable, for the exits that write the
    // register back: one the ops do not use (an entry value never read) is a word.
    for (k, &r) in reps.iter_mut().zip(&webs.reg) {
        if k.is_none() && code[h..=end].iter().any(|op| writes(op) == Some(r)) {
            *k = Some(Rep::W);
        }
    }
    if std::env::var_os("LOCKSTEP_TIER2_REPS").is_some() {
        for pc in h..=end {
            let op = &webs.code[pc];
            let w = writes(op);
            eprintln!("{pc:3} {:?} {:?}", op, w.map(|w| (webs.reg[w as usize], reps[w as usize])));
        }
    }
    Some((webs, live_w, reps, int_ops))
}

/// Removes the loads of `candidates` whose value nothing uses. A carried field's `getf` loads
/// the word it defines for the exits that may write it back, and often none does (nbody's
/// `getf v, bi, Body.vx` is followed by `sub v, v, t` before any exit); Cranelift 0.135 runs no
/// dead-code pass over loads (its egraph keeps every load in place, and lowering emits a load
/// whatever uses it). Only those loads: a scan for every load's uses cost more compile time
/// (about a million instructions for nbody's `advance`) than it saved.
fn drop_dead_loads(func: &mut ir::Function, candidates: &[ir::Inst]) {
    if candidates.is_empty() {
        return;
    }
    func.dfg.resolve_all_aliases();
    let results: Vec<ir::Value> = candidates.iter().map(|&i| func.dfg.first_result(i)).collect();
    let mut used = vec![false; candidates.len()];
    let mut mark = |v: ir::Value| {
        if let Some(k) = results.iter().position(|&r| r == v) {
            used[k] = true;
        }
    };
    // An instruction's arguments, and a block's last instruction's branch arguments (only a
    // terminator branches); aliases resolved once, up front.
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            for &v in func.dfg.inst_args(inst) {
                mark(v);
            }
        }
        if let Some(last) = func.layout.last_inst(block) {
            for call in func.dfg.insts[last].branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables) {
                for arg in call.args(&func.dfg.value_lists) {
                    if let Some(v) = arg.as_value() {
                        mark(v);
                    }
                }
            }
        }
    }
    for (k, &inst) in candidates.iter().enumerate() {
        if !used[k] {
            func.layout.remove_inst(inst);
        }
    }
}

/// With `LOCKSTEP_PERF_MAP` set (as for tier 1, `x64.rs`): a symbol for the region's code in
/// `/tmp/perf-PID.map`, `FUNC:region:H`; with `LOCKSTEP_TIER2_DUMP=DIR` also its bytes in
/// `DIR/FUNC-H.bin` (for `objdump -D -b binary -mi386:x86-64`) and the function as Cranelift
/// left it after its optimizations in `DIR/FUNC-H.clif`.
fn perf_map(prog: &Program, cell: &Cell, mem: &CodeMemory, bytes: &[u8], clif: Option<&str>) {
    use std::io::Write;
    let name = &prog.funcs[cell.func as usize].name;
    if std::env::var_os("LOCKSTEP_PERF_MAP").is_some() {
        let line = format!("{:x} {:x} {name}:region:{}\n", mem.ptr() as usize, bytes.len(), cell.h);
        let path = format!("/tmp/perf-{}.map", std::process::id());
        // A profiling aid: a map that cannot be written only costs the profile its names.
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = file.write_all(line.as_bytes());
        }
    }
    if let Some(dir) = std::env::var_os("LOCKSTEP_TIER2_DUMP") {
        let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}-{}.bin", cell.h)), bytes);
        if let Some(clif) = clif {
            let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}-{}.clif", cell.h)), clif);
        }
    }
}

/// [`arith_rep`] for op `pc`, unless it is one of `int_ops` and neither operand is a float:
/// then ints (two words whose float guess failed there).
fn arith_guess(a: Option<Rep>, b: Option<Rep>, pc: usize, int_ops: &[usize]) -> Rep {
    if a != Some(Rep::F) && b != Some(Rep::F) && int_ops.contains(&pc) {
        return Rep::I;
    }
    arith_rep(a, b)
}

/// Whether the `div` at `pc` divides as ints: two ints ([value.int-div]), or two values
/// neither of which is a float when `pc` is one of `int_ops` (a `div` of words, or of a word
/// by an int, is otherwise guessed a float division: nbody's and mandelbrot's).
fn div_int(a: Option<Rep>, b: Option<Rep>, pc: usize, int_ops: &[usize]) -> bool {
    a == Some(Rep::I) && b == Some(Rep::I) || a != Some(Rep::F) && b != Some(Rep::F) && int_ops.contains(&pc)
}

/// The `div`s of the region `h..=end` of `code` (its webs) taken for int divisions besides
/// `int_ops`: those an operand or the quotient of which an int op (`and`, `or`, `xor`, a shift,
/// `rem`) uses too. Richards' idle task halves a field it tests with `and` and then `xor`s the
/// quotient: guessed a float, the quotient would go to `xor`, which takes no float, and the
/// function would never compile. A wrong guess leaves by the operand's check.
fn int_divs(code: &[Op], h: usize, end: usize, int_ops: &[usize]) -> Vec<usize> {
    let mut int_web = std::collections::HashSet::new();
    for op in &code[h..=end] {
        match *op {
            Op::And { d, a, b }
            | Op::Or { d, a, b }
            | Op::Xor { d, a, b }
            | Op::Shl { d, a, b }
            | Op::Shr { d, a, b }
            | Op::UShr { d, a, b }
            | Op::Rem { d, a, b } => int_web.extend([d, a, b]),
            _ => {}
        }
    }
    let mut ops = int_ops.to_vec();
    for (pc, op) in code.iter().enumerate().take(end + 1).skip(h) {
        if let Op::Div { d, a, b } = *op {
            if [d, a, b].iter().any(|w| int_web.contains(w)) && !ops.contains(&pc) {
                ops.push(pc);
            }
        }
    }
    ops
}

/// What an `add`, `sub` or `mul` computes on: floats beside a float ([value.mixed-arith]),
/// ints beside an int, floats otherwise (a guess: nbody's and mandelbrot's values).
fn arith_rep(a: Option<Rep>, b: Option<Rep>) -> Rep {
    match (a, b) {
        (Some(Rep::F), _) | (_, Some(Rep::F)) => Rep::F,
        (Some(Rep::I), _) | (_, Some(Rep::I)) => Rep::I,
        _ => Rep::F,
    }
}

/// What a comparison compares: two floats beside a float, two ints otherwise; for `eq` and
/// `ne` (`equality`) of two values of no known number kind, two words, one of them `nil`
/// (richards' list walks: `eq t, next, nil_`).
fn compare_rep(a: Option<Rep>, b: Option<Rep>, equality: bool) -> Rep {
    match (a, b) {
        (Some(Rep::F), _) | (_, Some(Rep::F)) => Rep::F,
        (Some(Rep::I), _) | (_, Some(Rep::I)) => Rep::I,
        _ if equality => Rep::W,
        _ => Rep::I,
    }
}

/// What a region compiled again takes each register live at its header for: the join of what
/// it was taken for (`before`) and what it holds now (`now`); a number on one side and another
/// kind of value on the other (`None`) is a word.
fn seen_join(before: &[Option<Rep>], now: &[Option<Rep>], live_h: &[bool]) -> Vec<Option<Rep>> {
    (0..live_h.len())
        .map(|r| match (before.get(r).copied().flatten(), now[r]) {
            _ if !live_h[r] => None,
            (Some(a), Some(b)) => Some(Rep::join(Some(a), b)),
            (None, None) => None,
            _ => Some(Rep::W),
        })
        .collect()
}

/// The representation each register live at the header arrives in: the kind of the value it
/// holds (`value(r)`) when the region is compiled, a word when it is neither a SmallInt nor a
/// SmallFloat. (A register that is still nil when tier 1 first arrives from before the loop,
/// and a number on the laps after, is a word: a guess of a number would fail at every entry
/// from before the loop, and compiling again would see the nil again.)
fn observed(live_h: &[bool], value: impl Fn(usize) -> u64) -> Vec<Option<Rep>> {
    (0..live_h.len())
        .map(|r| {
            let w = if live_h[r] { value(r) } else { 0 };
            if !live_h[r] {
                None
            } else if is_small_int(w) {
                Some(Rep::I)
            } else if is_small_float(w) {
                Some(Rep::F)
            } else {
                Some(Rep::W)
            }
        })
        .collect()
}

/// The code with each superinstruction replaced by its first instruction (the second keeps its
/// own op at the next index, `code::fuse`).
pub(super) fn unfused(code: &[Op]) -> Vec<Op> {
    code.iter()
        .map(|op| match *op {
            Op::LtJmp { d, a, b, .. } | Op::LtJmpBack { d, a, b, .. } => Op::Lt { d, a, b },
            Op::LeJmp { d, a, b, .. } | Op::LeJmpBack { d, a, b, .. } => Op::Le { d, a, b },
            Op::GtJmp { d, a, b, .. } | Op::GtJmpBack { d, a, b, .. } => Op::Gt { d, a, b },
            Op::GeJmp { d, a, b, .. } | Op::GeJmpBack { d, a, b, .. } => Op::Ge { d, a, b },
            Op::EqJmp { d, a, b, .. } | Op::EqJmpBack { d, a, b, .. } => Op::Eq { d, a, b },
            Op::NeJmp { d, a, b, .. } | Op::NeJmpBack { d, a, b, .. } => Op::Ne { d, a, b },
            Op::LdAdd { t, k, .. } | Op::LdSub { t, k, .. } => Op::Ld { d: t, v: k },
            op => op,
        })
        .collect()
}

/// Whether constant `c` ([`constant_regs`]) is a value of representation `rep`.
fn const_fits(c: Value, rep: Rep) -> bool {
    match rep {
        Rep::W => true,
        Rep::I => is_small_int(c),
        Rep::F => is_small_float(c),
    }
}

/// The code a region `h..=end` is translated from: each op of it that tier 2 does not
/// translate (a call, a send, `new`, a print...) becomes a `trap`, which the region leaves
/// before, as it leaves before a `ret`: tier 1 runs the op and the rest of the lap, and enters
/// the region again at its header on the next lap. The analyses then see an op that ends the
/// region's path, reads nothing and writes nothing; the exit writes back the registers the
/// function's liveness, computed on the code as it is, says the op reads.
fn left_before(code: &[Op], h: usize, end: usize, callable: &Callable) -> Vec<Op> {
    let mut out = code.to_vec();
    for op in &mut out[h..=end] {
        if !translates(op, callable) {
            *op = Op::Trap { msg: u32::MAX };
        }
    }
    out
}

/// Whether the loop `h..=end` is worth a region: every op translates, or some lap runs
/// through ops that translate only, from the header back to it ([`left_before`]: a lap that
/// meets another op leaves the region there).
fn enterable(code: &[Op], h: usize, end: usize, callable: &Callable) -> bool {
    if code[h..=end].iter().all(|op| translates(op, callable)) {
        return true;
    }
    let (mut seen, mut todo) = (vec![false; end + 1 - h], vec![h]);
    while let Some(pc) = todo.pop() {
        if seen[pc - h] || !translates(&code[pc], callable) {
            continue;
        }
        seen[pc - h] = true;
        for s in successors(&code[pc], pc) {
            if s == h {
                return true;
            }
            if (h..=end).contains(&s) {
                todo.push(s);
            }
        }
    }
    false
}

/// Whether tier 2 translates `op` in a region: one of the ops [`translatable`] names, and a
/// `call` only of a function that is a region as a whole ([`callable`]); a region leaves
/// before a call of another, for tier 1's call ([`left_before`]).
fn translates(op: &Op, callable: &Callable) -> bool {
    match *op {
        Op::Call { f, .. } => callable.funcs[f as usize],
        Op::Send { site, .. } => callable.sites[site as usize],
        _ => translatable(std::slice::from_ref(op)),
    }
}

/// Whether every op of `region` is of a kind tier 2 translates (a `call` of any function).
fn translatable(region: &[Op]) -> bool {
    region.iter().all(|op| {
        matches!(
            op,
            Op::Nop
                | Op::Sqrt { .. }
                | Op::Rem { .. }
                | Op::Neg { .. }
                | Op::IToF { .. }
                | Op::FToI { .. }
                | Op::GetF { .. }
                | Op::SetF { .. }
                | Op::AGet { .. }
                | Op::ASet { .. }
                | Op::ALen { .. }
                | Op::Jmp { .. }
                | Op::JmpBack { .. }
                | Op::JmpIf { .. }
                | Op::JmpIfBack { .. }
                | Op::JmpIfNot { .. }
                | Op::JmpIfNotBack { .. }
                | Op::Mov { .. }
                | Op::Ld { .. }
                | Op::Add { .. }
                | Op::Sub { .. }
                | Op::Mul { .. }
                | Op::Div { .. }
                | Op::Lt { .. }
                | Op::Le { .. }
                | Op::Gt { .. }
                | Op::Ge { .. }
                | Op::Eq { .. }
                | Op::Ne { .. }
                | Op::And { .. }
                | Op::Or { .. }
                | Op::Xor { .. }
                | Op::Shl { .. }
                | Op::Shr { .. }
                | Op::UShr { .. }
                | Op::Ret { .. }
                | Op::Trap { .. }
                | Op::Call { .. }
                | Op::Send { .. }
                | Op::New { .. }
                | Op::Not { .. }
        )
    })
}

/// The representation of each register of the region `h..=end` (`None`: not used there), or
/// `None` when the region has an op this tier does not translate.
fn representations(
    code: &[Op],
    h: usize,
    end: usize,
    live_h: &[bool],
    seed: &[Option<Rep>],
    int_ops: &[usize],
) -> Option<Vec<Option<Rep>>> {
    let region = &code[h..=end];
    let nregs = live_h.len();
    if !translatable(region) {
        return None;
    }
    let mut written = vec![false; nregs];
    for op in region {
        if let Some(d) = writes(op) {
            written[d as usize] = true;
        }
    }
    // Registers the region writes: the join of what each write makes; registers it only reads:
    // what their uses want (an operand beside a float is taken as a float, beside an int as an
    // int; a compare's operands are alike; otherwise a float, nbody's and mandelbrot's common
    // case). Iterated to a fixed point; the rest are words.
    let mut rep: Vec<Option<Rep>> = seed.to_vec();
    for _ in 0..(2 * nregs + 4) {
        let before = rep.clone();
        // A written register live at the header also holds what it arrives with.
        let mut next: Vec<Option<Rep>> = (0..nregs)
            .map(|r| {
                if written[r] {
                    if live_h[r] {
                        seed[r]
                    } else {
                        None
                    }
                } else {
                    rep[r]
                }
            })
            .collect();
        for (k, op) in region.iter().enumerate() {
            // An operand's representation as this pass has made it so far, else as the last
            // pass left it: an op sees what the ops before it in the lap defined (with the
            // last pass's alone, `add s, s, x` then `add s, s, y` of words `x` and `y` took
            // the second `s` for a float and the first for an int, by turns, and never settled).
            let arith = |a: u16, b: u16, next: &[Option<Rep>]| {
                let cur = |r: u16| next[r as usize].or(rep[r as usize]);
                arith_guess(cur(a), cur(b), h + k, int_ops)
            };
            let want = |r: u16, w: Rep, next: &mut Vec<Option<Rep>>| {
                if !written[r as usize] && next[r as usize].is_none() {
                    next[r as usize] = Some(w);
                }
            };
            match *op {
                Op::Ld { d, v } => {
                    let r = if is_small_float(v) {
                        Rep::F
                    } else if is_small_int(v) {
                        Rep::I
                    } else {
                        Rep::W
                    };
                    next[d as usize] = Some(Rep::join(next[d as usize], r));
                }
                Op::Mov { d, s } => {
                    if let Some(r) = rep[s as usize] {
                        next[d as usize] = Some(Rep::join(next[d as usize], r));
                    }
                }
                Op::Add { d, a, b } | Op::Sub { d, a, b } | Op::Mul { d, a, b } => {
                    let k = arith(a, b, &next);
                    let operand = |r: u16| rep[r as usize].unwrap_or(k);
                    let (ka, kb) = (operand(a), operand(b));
                    want(a, if k == Rep::F && ka == Rep::I { Rep::I } else { k }, &mut next);
                    want(b, if k == Rep::F && kb == Rep::I { Rep::I } else { k }, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], k));
                }
                // Int remainders only (a float's, `fmod`, is not a Cranelift instruction).
                Op::Rem { d, a, b } => {
                    want(a, Rep::I, &mut next);
                    want(b, Rep::I, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::I));
                }
                // As `sub d, 0, a`: a float's negation, or an int's.
                Op::Neg { d, a } => {
                    let k = arith(a, a, &next);
                    want(a, k, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], k));
                }
                Op::IToF { d, a } => {
                    want(a, Rep::I, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::F));
                }
                Op::FToI { d, a } => {
                    want(a, Rep::F, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::I));
                }
                // Two ints divide as ints ([value.int-div]), and so do two words guessed ints
                // ([`div_int`]); anything else as floats.
                Op::Div { d, a, b } if div_int(rep[a as usize], rep[b as usize], h + k, int_ops) => {
                    want(a, Rep::I, &mut next);
                    want(b, Rep::I, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::I));
                }
                Op::Div { d, a, b } => {
                    want(a, rep[a as usize].unwrap_or(Rep::F), &mut next);
                    want(b, rep[b as usize].unwrap_or(Rep::F), &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::F));
                }
                // `and`, `or`, `xor` of two ints, or of two bools when an operand is a word (its
                // result a word: [`Tr::logic`]).
                Op::And { d, a, b } | Op::Or { d, a, b } | Op::Xor { d, a, b } => {
                    want(a, Rep::I, &mut next);
                    want(b, Rep::I, &mut next);
                    let cur = |r: u16| next[r as usize].or(rep[r as usize]);
                    let k = if cur(a) == Some(Rep::I) && cur(b) == Some(Rep::I) { Rep::I } else { Rep::W };
                    next[d as usize] = Some(Rep::join(next[d as usize], k));
                }
                // An int's complement, or a bool's negation.
                Op::Not { d, a } => {
                    want(a, Rep::W, &mut next);
                    let k = if next[a as usize].or(rep[a as usize]) == Some(Rep::I) { Rep::I } else { Rep::W };
                    next[d as usize] = Some(Rep::join(next[d as usize], k));
                }
                // Shifts of ints.
                Op::Shl { d, a, b } | Op::Shr { d, a, b } | Op::UShr { d, a, b } => {
                    want(a, Rep::I, &mut next);
                    want(b, Rep::I, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::I));
                }
                Op::Lt { d, a, b }
                | Op::Le { d, a, b }
                | Op::Gt { d, a, b }
                | Op::Ge { d, a, b }
                | Op::Eq { d, a, b }
                | Op::Ne { d, a, b } => {
                    let k = compare_rep(rep[a as usize], rep[b as usize], matches!(op, Op::Eq { .. } | Op::Ne { .. }));
                    want(a, k, &mut next);
                    want(b, k, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::W));
                }
                Op::JmpIf { c, .. } | Op::JmpIfBack { c, .. } | Op::JmpIfNot { c, .. } | Op::JmpIfNotBack { c, .. } => {
                    want(c, Rep::W, &mut next);
                }
                Op::Sqrt { d, a } => {
                    want(a, rep[a as usize].unwrap_or(Rep::F), &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::F));
                }
                // Heap references are words; so is what a field or an element holds (an op that
                // computes on it checks its kind where it uses it).
                Op::GetF { d, o, .. } => {
                    want(o, Rep::W, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::W));
                }
                Op::SetF { o, s, .. } => {
                    want(o, Rep::W, &mut next);
                    want(s, rep[s as usize].unwrap_or(Rep::W), &mut next);
                }
                Op::AGet { d, a, i } => {
                    want(a, Rep::W, &mut next);
                    want(i, rep[i as usize].unwrap_or(Rep::I), &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::W));
                }
                Op::ASet { a, i, s } => {
                    want(a, Rep::W, &mut next);
                    want(i, rep[i as usize].unwrap_or(Rep::I), &mut next);
                    want(s, rep[s as usize].unwrap_or(Rep::W), &mut next);
                }
                // A length is a SmallInt.
                Op::ALen { d, a } => {
                    want(a, Rep::W, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::I));
                }
                // What a call returns is any word (its arguments' webs, in the pool, are words
                // unless something else uses them: [`shape`]).
                Op::Call { d, .. } | Op::New { d, .. } => {
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::W));
                }
                Op::Send { d, recv, .. } => {
                    want(recv, Rep::W, &mut next);
                    next[d as usize] = Some(Rep::join(next[d as usize], Rep::W));
                }
                _ => {}
            }
        }
        rep = next;
        if rep == before {
            break;
        }
    }
    // A comparison of an int with a float is not translated (exact
    // mixed comparison, [value.compare-mixed]), nor a conditional jump on a number. An operand
    // held as a word is checked where it is used; a result goes into a word as its encoding.
    for (k, op) in region.iter().enumerate() {
        let pc = h + k;
        let r = |x: u16| rep[x as usize];
        let fits = |d: u16, k: Rep| r(d) == Some(k) || r(d) == Some(Rep::W);
        let ok = match *op {
            Op::Div { d, a, b } if div_int(r(a), r(b), pc, int_ops) => fits(d, Rep::I),
            Op::Div { d, .. } => fits(d, Rep::F),
            Op::Rem { d, a, b } => {
                let int = |x: u16| matches!(r(x), Some(Rep::I | Rep::W));
                int(a) && int(b) && fits(d, Rep::I)
            }
            Op::Neg { d, a } => {
                let k = arith_guess(r(a), r(a), pc, int_ops);
                fits(d, k) && (k == Rep::F || r(a) != Some(Rep::F))
            }
            Op::IToF { d, a } => matches!(r(a), Some(Rep::I | Rep::W)) && fits(d, Rep::F),
            Op::FToI { d, a } => matches!(r(a), Some(Rep::F | Rep::W)) && fits(d, Rep::I),
            Op::And { d, a, b } | Op::Or { d, a, b } | Op::Xor { d, a, b } => {
                let int = |x: u16| matches!(r(x), Some(Rep::I | Rep::W));
                let k = if r(a) == Some(Rep::I) && r(b) == Some(Rep::I) { Rep::I } else { Rep::W };
                int(a) && int(b) && fits(d, k)
            }
            Op::Not { d, a } => match r(a) {
                Some(Rep::I) => fits(d, Rep::I),
                Some(Rep::W) => r(d) == Some(Rep::W),
                _ => false,
            },
            Op::Shl { d, a, b } | Op::Shr { d, a, b } | Op::UShr { d, a, b } => {
                let int = |x: u16| matches!(r(x), Some(Rep::I | Rep::W));
                int(a) && int(b) && fits(d, Rep::I)
            }
            Op::Add { d, a, b } | Op::Sub { d, a, b } | Op::Mul { d, a, b } => {
                let k = arith_guess(r(a), r(b), pc, int_ops);
                fits(d, k) && (k == Rep::F || r(a) != Some(Rep::F) && r(b) != Some(Rep::F))
            }
            Op::Lt { d, a, b }
            | Op::Le { d, a, b }
            | Op::Gt { d, a, b }
            | Op::Ge { d, a, b }
            | Op::Eq { d, a, b }
            | Op::Ne { d, a, b } => {
                let k = compare_rep(r(a), r(b), matches!(op, Op::Eq { .. } | Op::Ne { .. }));
                let operand = |x: u16| r(x) == Some(k) || r(x) == Some(Rep::W);
                operand(a) && operand(b) && fits(d, Rep::W)
            }
            Op::JmpIf { c, .. } | Op::JmpIfBack { c, .. } | Op::JmpIfNot { c, .. } | Op::JmpIfNotBack { c, .. } => {
                r(c) == Some(Rep::W)
            }
            Op::Mov { d, s } => r(s).is_some() && (r(d) == r(s) || r(d) == Some(Rep::W)),
            Op::Sqrt { d, a } => r(a).is_some() && fits(d, Rep::F),
            Op::GetF { d, o, .. } => r(o) == Some(Rep::W) && r(d) == Some(Rep::W),
            Op::SetF { o, s, .. } => r(o) == Some(Rep::W) && r(s).is_some(),
            Op::AGet { d, a, i } => {
                r(a) == Some(Rep::W) && matches!(r(i), Some(Rep::I | Rep::W)) && r(d) == Some(Rep::W)
            }
            Op::ASet { a, i, s } => r(a) == Some(Rep::W) && matches!(r(i), Some(Rep::I | Rep::W)) && r(s).is_some(),
            Op::ALen { d, a } => r(a) == Some(Rep::W) && fits(d, Rep::I),
            Op::Ld { d, v } => match r(d) {
                Some(Rep::F) => is_small_float(v),
                Some(Rep::I) => is_small_int(v),
                _ => true,
            },
            _ => true,
        };
        if !ok {
            return None;
        }
    }
    Some(rep)
}

fn isa() -> Option<&'static OwnedTargetIsa> {
    static ISA: OnceLock<Option<OwnedTargetIsa>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").ok()?;
        // Cranelift's IR verifier checks every function this tier builds when
        // `LOCKSTEP_VERIFY_CLIF` is set, as `.cargo/config.toml` does for cargo's tests and runs
        // (a malformed function is a panic: [`translate`]). It costs about as
        // much as the compilation itself, so a release run without it does not pay.
        let verify = std::env::var_os("LOCKSTEP_VERIFY_CLIF").is_some_and(|v| v != "0");
        flags.set("enable_verifier", if verify { "true" } else { "false" }).ok()?;
        let builder = cranelift_native::builder().ok()?;
        builder.finish(settings::Flags::new(flags)).ok()
    })
    .as_ref()
}

/// An exit: the pc it leaves before, whether it is a failed guess, each window register's web
/// there, and the registers written on every path to it (`Written::fresh`: points that share
/// an exit agree on what the `written` mask need not say).
/// An exit's pc, why it leaves, the webs of the registers there, the registers surely written,
/// and the op a failed guess counts at.
type ExitKey = (usize, Why, Vec<u16>, u64, usize);

/// Cranelift values for the parts of the context and thread a region reads.
struct Frame {
    ctx: ir::Value,
    /// 0 when called by tier 1; called by a region ([`Tr::call`]), the bound a callee's frame
    /// index must be below (the frame stack's capacity, the depth limit, and
    /// [`MAX_REGION_DEPTH`] calls of regions on the host stack, taken where tier 1 called
    /// the outermost). And the index of the region's frame in the frame stack, whether or
    /// not its record is written there yet.
    kmax: ir::Value,
    /// Nonzero when called by a region (its `kmax`).
    called: ir::Value,
    k: ir::Value,
    regs: ir::Value,
    thread: ir::Value,
    budget0: ir::Value,
    seg0: ir::Value,
    cell: ir::Value,
    /// The running transaction's tag for private objects (`JitCtx::private_tag`), when heap
    /// words are not plain ([`Cell::plain`]): a region runs inside one transaction.
    private: Option<ir::Value>,
    /// The running transaction (`JitCtx::tx`), for the inline read barrier
    /// ([`Tr::inline_read`]); with `private`.
    tx: Option<ir::Value>,
}

struct Tr<'a, 'b> {
    b: FunctionBuilder<'b>,
    prog: &'a Program,
    plain: bool,
    /// [`Cell::int_ops`].
    int_ops: &'a [usize],
    /// The counted loops' steps whose overflow check the entry makes ([`counted_steps`]).
    steps: &'a [Step],
    func: u32,
    /// The code with the region's registers renamed to their webs ([`webs`]); `rep`, `live_w`
    /// and `vars` are per web.
    code: &'a [Op],
    /// The code as the function has it: which window registers the ops write.
    orig: &'a [Op],
    webs: &'a Webs,
    h: usize,
    end: usize,
    /// The region is the whole function (`Cell::whole`).
    whole: bool,
    rep: &'a [Option<Rep>],
    live_w: &'a [bool],
    /// Per window register: the constant every write of it in the function writes
    /// ([`constant_regs`]).
    consts: &'a [Option<Value>],
    vars: Vec<Option<Variable>>,
    /// Per window register, for those not live at the header: a bit number (`written_bit`),
    /// and per op whether it was written on every path / some path before it
    /// ([`written_before`]). The bits are also kept at run time, for exits that cannot tell
    /// statically whether a register was written: `written`, a mask variable (when there are
    /// such bits, `dynamic`) that each guest block ORs its registers' bits into where it ends,
    /// and `pending`, the bits of the current block's writes so far. The block's earlier writes
    /// are on every path to a point in it, so an exit knows them statically (they are in its
    /// `must`, which is part of the exit's key) and the mask need not have them yet: one `or`
    /// per block and lap instead of a flag per register, each a value the loop carries and sets
    /// at its back edge. `dynamic` is the bits some point may have written and not must, and
    /// that not every lap writes ([`Written::every_lap`], which exits take from the budget
    /// spent): loop_sum's `t` is written by every lap, so its loop keeps no mask.
    written: Option<Variable>,
    pending: u64,
    dynamic: u64,
    written_bit: Vec<Option<u32>>,
    /// Per window register the region writes and holds as a double somewhere, its bit in the
    /// write-back's mask of registers whose double has no SmallFloat encoding, boxed after the
    /// stores ([`Tr::word_of_double`], [`Tr::box_raw`]).
    float_bit: Vec<Option<u32>>,
    wr: Written,
    /// The op being translated.
    cur: usize,
    budget: Variable,
    untaken: Variable,
    /// Calls made (each gives the backward jumps back their budget), and the status a callee
    /// that left returned (its pc: the exit of [`CALLED`]); whether the region has a call, and
    /// the calls' signature, the regions' own ([`translate`]).
    calls: Variable,
    inner: Variable,
    has_calls: bool,
    sig: Option<ir::SigRef>,
    /// The segment start (`JitCtx::seg_start`): a variable set at each backward jump, or, when
    /// every backward jump of the region sets it to the same pc, that pc (an exit then takes it
    /// if the budget was spent, the entry's value otherwise).
    seg: Variable,
    seg_only: Option<i64>,
    blocks: HashMap<usize, ir::Block>,
    /// Each exit, by the pc it leaves before, whether it is a failed guess, and each window
    /// register's web there; and the `must`/`may` written sets of the points that jump to it.
    exits: HashMap<ExitKey, (ir::Block, u64, u64)>,
    f: Option<Frame>,
    /// The last comparison of the current block: its destination and its condition.
    last_cmp: Option<(u16, ir::Value)>,
    /// The webs the current guest block has tested as heap cells (an object of a class, or
    /// [`KIND_ARRAY`] as `u32::MAX`): a test dominates the rest of its block, and a web's value
    /// changes only where the block writes it (an object's class never changes, nor its
    /// transaction's tag inside a region). A block starts with the tests of the blocks that
    /// dominate it ([`dominators`]) of webs the region never writes (`invariant`): a method's
    /// receiver is tested once, not in each block that reads a field or sends to it.
    checked: Vec<(u16, u32)>,
    /// Per block (by its first op), the blocks that strictly dominate it; per web, whether no
    /// op of the region writes it; per block translated, the tests of invariant webs it knows at
    /// its end.
    doms: HashMap<usize, Vec<usize>>,
    invariant: Vec<bool>,
    end_facts: HashMap<usize, Vec<(u16, u32)>>,
    /// The SmallFloat words of doubles the current guest block made, range-checked and
    /// encoded in one go because a store of the block takes them ([`Tr::checked_word`]), by
    /// web; a web's entry goes where the block writes it again.
    words: Vec<(u16, ir::Value)>,
    /// Under the stress mode: the cell's `forced` bytes (address, length) and the next guard's
    /// index there.
    forced: Option<(usize, usize)>,
    next_guard: usize,
    /// Instructions completed since the entry (`--stats`' flavour only).
    icount: Option<Variable>,
    /// Per op of the function, the registers live before it ([`liveness`]): an exit writes a
    /// register dead at its pc that the region holds as a double or an int as a constant of
    /// that kind ([`Tr::exits`]).
    live: Vec<Vec<bool>>,
    /// The loops whose invariants their preheader tests and loads ([`lifts`]), and per such
    /// loop's header the block its backward jumps go to (every other edge into the loop goes
    /// to the header's block, the preheader).
    lifts: Vec<Lift>,
    /// The loops whose laps keep no segment start ([`seg_loops`], [`Tr::seg_of_loop`]): header
    /// and last op; and the stack slot each one's preheader stores the budget in (one for all:
    /// they do not nest, and a loop is left before another is entered; a slot, not a variable:
    /// a value live through the loop for its exits alone took a register its laps needed, and
    /// nbody's pair loop spilled more).
    seg_loops: Vec<(usize, usize)>,
    lap_slot: Option<ir::StackSlot>,
    bodies: HashMap<usize, ir::Block>,
    /// What preheaders made, each valid from its loop's header to its end: cells tested (loop
    /// header, loop end, web, class), and doubles decoded from fields (by web: a web whose one
    /// definition is a `getf` of the loop, [`Lift::loads`]), in stack slots, each with the
    /// constant that turns the preheader's test of its tag off ([`Tr::preheader`]).
    lifted_cells: Vec<(usize, usize, u16, u32)>,
    lifted_floats: HashMap<u16, (usize, usize, ir::StackSlot, ir::Inst)>,
    /// The fields preheaders carry through their loops ([`Fwd`]): (loop header, loop end, web
    /// of the object, slot, the variable with the field's double, the constant that turns the
    /// preheader's test of its tag off); per web defined by a `getf` of one, the double it
    /// read (and that constant); and the pairs of webs the current guest block has tested to
    /// hold different objects (a `setf` through the first, the second's field carried).
    fwd_vars: Vec<(usize, usize, u16, u16, Variable, ir::Inst)>,
    /// The words of the loops' `getf` ops whose field no op of the loop writes ([`Lift::loads`]),
    /// loaded by the preheader, by op.
    lifted_words: HashMap<usize, ir::Value>,
    /// The loads of the words of `getf`s whose double is a carried field's, which
    /// [`drop_dead_loads`] removes when no exit uses the word.
    carried_loads: Vec<ir::Inst>,
    fwd_floats: HashMap<u16, (ir::Value, ir::Inst)>,
    distinct: Vec<(u16, u16)>,
}

/// Accesses to the window, the context, the cell and heap cells the guards have checked:
/// aligned, and to memory that is there.
const TRUSTED: MemFlagsData = MemFlagsData::trusted();

/// Byte offset of word `i` of a heap cell.
fn slot_offset(i: usize) -> i32 {
    (i * 8) as i32
}

impl Tr<'_, '_> {
    /// Whether an exit at `pc` writes register `r`, held in `web`, as a constant: `r` is dead
    /// there (`live`) and `web` holds a double or an int, or every definition of `r` reaching
    /// there makes no reference (`Webs::free`: `web` need not hold its value there)
    /// ([exec.dead-registers], [`Tr::exits`]).
    fn constant_at(&self, pc: usize, r: usize, web: u16) -> bool {
        let free = (self.h..=self.end).contains(&pc) && self.webs.free[pc - self.h][r];
        free || self.live.get(pc).is_some_and(|l| !l.get(r).copied().unwrap_or(false))
            && matches!(self.rep[web as usize], Some(Rep::F | Rep::I))
    }

    fn fr(&self) -> &Frame {
        self.f.as_ref().expect("entry built first")
    }

    /// The loop of [`seg_loops`] op `pc` is in, if any.
    fn seg_loop_of(&self, pc: usize) -> Option<(usize, usize)> {
        self.seg_loops.iter().copied().find(|&(lh, le)| (lh..=le).contains(&pc))
    }

    /// The segment start at op `pc`, inside the loop [`seg_loop_of`] gives (else the segment
    /// variable's value). The loop's backward jumps do not set the variable, which would cost a
    /// store a lap where it lives on the stack (mandelbrot's iteration loop, nbody's pair loop):
    /// once the budget has gone down since the loop's preheader, a backward jump of the loop
    /// was taken (nothing else in it spends the budget), so the segment started at the header;
    /// until then it is what it was where the loop was entered. (No planted bug: the segment
    /// start is observed only by a `join`, whose boundary before it is skipped when the
    /// segment starts at it, and an exit inside such a loop after a lap is never before a
    /// `join` at its header, which a region leaves before at every lap. Taking the value from
    /// the loop's entry instead survived every suite, as it must.)
    fn seg_of_loop(&mut self, pc: usize) -> ir::Value {
        let seg = self.b.use_var(self.seg);
        let Some((lh, _)) = self.seg_loop_of(pc) else { return seg };
        let budget = self.b.use_var(self.budget);
        let header = self.b.ins().iconst(types::I64, lh as i64);
        self.seg_in_loop(seg, header, budget)
    }

    /// `seg_of_loop` from its parts: the segment start where the loop was entered, its header
    /// (-1: not in such a loop), and the budget now.
    fn seg_in_loop(&mut self, seg: ir::Value, header: ir::Value, budget: ir::Value) -> ir::Value {
        let slot = self.lap_slot.expect("a loop whose laps keep no segment start");
        let at_entry = self.b.ins().stack_load(types::I64, types::I64, slot, 0);
        let lapped = self.b.ins().icmp(IntCC::NotEqual, budget, at_entry);
        let inside = self.b.ins().icmp_imm_s(IntCC::NotEqual, header, -1);
        let lapped = self.b.ins().band(lapped, inside);
        self.b.ins().select(lapped, header, seg)
    }

    fn var(&self, w: u16) -> Variable {
        self.vars[w as usize].expect("a web of the region")
    }

    /// The double of the SmallFloat `w` (`value::decode_float`: the word's bits rotated back,
    /// times 2^896; four machine instructions, no select for ±0.0).
    fn decode(&mut self, w: ir::Value) -> ir::Value {
        let b = &mut self.b;
        let r = b.ins().ushr_imm_u(w, 3);
        let one = b.ins().iconst(types::I64, 1);
        let bits = b.ins().rotr(r, one);
        let scaled = b.ins().bitcast(types::F64, MemFlagsData::new(), bits);
        let k = b.ins().f64const(crate::value::SCALE_UP);
        b.ins().fmul(scaled, k)
    }

    /// The SmallFloat word of `f` and whether it has one (`value::encode_float`).
    fn encode(&mut self, f: ir::Value) -> (ir::Value, ir::Value) {
        let b = &mut self.b;
        let bits = b.ins().bitcast(types::I64, MemFlagsData::new(), f);
        // Rotated right by 63, not left by 1 as [`Tr::checked_word`]'s common case: not the same
        // value to Cranelift, which would otherwise keep that one alive from the common case into
        // the rare path (a copy of it in every store's hot path).
        let k = b.ins().iconst(types::I64, 63);
        let rot = b.ins().rotr(bits, k);
        let r = b.ins().iadd_imm_s(rot, -EXP_OFFSET);
        let r2 = b.ins().iadd_imm_s(r, -(1i64 << 53));
        let common = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, r2, (1i64 << 61) - (1i64 << 53));
        let zero = b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, rot, 1);
        let ok = b.ins().bor(common, zero);
        let src = b.ins().select(common, r, rot);
        let sh = b.ins().ishl_imm_u(src, 3);
        let word = b.ins().bor_imm_u(sh, 4);
        (word, ok)
    }

    /// What an exit writes back for the double `f`: its SmallFloat word, or, when it has none,
    /// its bits, to be boxed where they are stored ([`Tr::box_raw`]); and that flag (an i64, 1
    /// for the bits). No call here: the doubles the write-back still has to store would have
    /// to be spilled around it, and Cranelift spilled them in the loops instead.
    fn word_of_double(&mut self, f: ir::Value) -> (ir::Value, ir::Value) {
        let (word, ok) = self.encode(f);
        let b = &mut self.b;
        if mutant!(tier2_exit_boxes_nothing) {
            let zero = b.ins().iconst(types::I64, 0);
            return (word, zero);
        }
        let bits = b.ins().bitcast(types::I64, MemFlagsData::new(), f);
        let v = b.ins().select(ok, word, bits);
        let raw = b.ins().bxor_imm_u(ok, 1);
        let raw = b.ins().uextend(types::I64, raw);
        (v, raw)
    }

    /// After the write-back's stores: each register whose bit is set in `raw` holds the bits of
    /// a double without a SmallFloat encoding, which a call of [`box_double`] replaces by a
    /// boxed float. Cold, and nothing but the window and the context is live across the calls.
    fn box_raw(&mut self, raw: ir::Value, regs: ir::Value) {
        let ctxv = self.fr().ctx;
        let none = self.b.ins().icmp_imm_u(IntCC::Equal, raw, 0);
        let (boxing, done) = (self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(boxing);
        self.branch_main(none, done, &[], boxing, &[]);
        self.b.seal_block(boxing);
        self.b.switch_to_block(boxing);
        let mut sig = ir::Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.params.push(AbiParam::new(types::I64));
        let sig = self.b.import_signature(sig);
        for r in 0..self.float_bit.len() {
            let Some(bit) = self.float_bit[r] else { continue };
            let set = self.b.ins().band_imm_u(raw, 1i64 << bit);
            let (call, next) = (self.b.create_block(), self.b.create_block());
            self.b.set_cold_block(call);
            self.b.set_cold_block(next);
            self.b.ins().brif(set, call, &[], next, &[]);
            self.b.seal_block(call);
            self.b.switch_to_block(call);
            let helper = box_double as extern "sysv64" fn(*mut JitCtx, *mut u64) as usize as i64;
            let helper = self.b.ins().iconst(types::I64, helper);
            let slot = self.b.ins().iadd_imm_s(regs, r as i64 * 8);
            self.b.ins().call_indirect(sig, helper, &[ctxv, slot]);
            self.b.ins().jump(next, &[]);
            self.b.seal_block(next);
            self.b.switch_to_block(next);
        }
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// The exit block that leaves before op `pc` (`why`: [`LEAVE`], or a failed guess, counted).
    /// From the op being translated: before it when `pc` is that op, else after it (a jump or
    /// the fall through past the region).
    fn exit(&mut self, pc: usize, why: Why) -> ir::Block {
        self.exit_counted_at(pc, why, pc)
    }

    /// [`Tr::exit`], a failed guess counted at op `miss` (`Cell::last_miss`).
    fn exit_counted_at(&mut self, pc: usize, why: Why, miss: usize) -> ir::Block {
        let i = self.cur - self.h;
        let gen = writes(&self.orig[self.cur]).and_then(|d| self.written_bit[d as usize]).map_or(0, |b| 1u64 << b);
        let (fresh, may) = (self.wr.fresh[i], self.wr.may[i]);
        let (must, may) = if pc == self.cur { (fresh, may) } else { (fresh | gen, may | gen) };
        let at = if pc == self.cur { self.webs.before[i].clone() } else { self.webs.after(self.h, self.cur) };
        let b = &mut self.b;
        let e = self.exits.entry((pc, why, at, must, miss)).or_insert_with(|| {
            // Laid out after the hot code, so that the ops of a loop follow each other.
            let blk = b.create_block();
            b.set_cold_block(blk);
            (blk, u64::MAX, 0)
        });
        e.1 &= must;
        e.2 |= may;
        e.0
    }

    /// The exit of a guard before op `pc` that fails (`counted`: a failed guess).
    fn guard_exit(&mut self, pc: usize, why: Why) -> ir::Block {
        if mutant!(tier2_guard_exits_past_the_op) {
            return self.exit(pc + 1, why);
        }
        self.exit(pc, why)
    }

    /// Under the stress mode, the next guard fails the first time it is reached: it leaves as
    /// a failed guard would (not counted as a failed guess), so that every guard's exit runs
    /// and the suites compare the state it writes back. Then it tests its condition.
    fn force(&mut self, pc: usize) {
        let Some((base, len)) = self.forced else { return };
        let g = self.next_guard;
        self.next_guard += 1;
        if g >= len {
            return;
        }
        let cont = self.first_time(base + g);
        let e = self.guard_exit(pc, LEAVE);
        self.b.ins().jump(e, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Branches to a new cold block, left current, the first time the code reaches here (the
    /// byte at `at` is 0; it sets it); returns the block where the code goes on.
    fn first_time(&mut self, at: usize) -> ir::Block {
        let b = &mut self.b;
        let at = b.ins().iconst(types::I64, at as i64);
        let seen = b.ins().load(types::I8, TRUSTED, at, 0);
        let (first, cont) = (b.create_block(), b.create_block());
        b.set_cold_block(first);
        b.ins().brif(seen, cont, &[], first, &[]);
        b.seal_block(first);
        b.switch_to_block(first);
        let one = b.ins().iconst(types::I8, 1);
        b.ins().store(TRUSTED, one, at, 0);
        cont
    }

    /// Branches to the exit before `pc` unless `ok` (an i8 condition).
    fn guard(&mut self, ok: ir::Value, pc: usize, why: Why) {
        self.force(pc);
        let e = self.guard_exit(pc, why);
        let cont = self.b.create_block();
        self.branch_main(ok, cont, &[], e, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Goes to `main` when `cond` is nonzero, else to `side` (an exit, a cold path): a `brif`
    /// on the negated condition, `main` its second target, so that Cranelift elaborates the
    /// main path before the side one. Its elaborator walks the dominator tree (children in the
    /// CFG's reverse post-order, in which a `brif`'s second target comes first) keeping a stack
    /// of the loops it is in; it pops a loop on reaching a block outside it, such as an exit,
    /// and does not push it again for the loop's blocks it reaches after that, which are then
    /// treated as outside the loop: nothing used there is hoisted out of it (mandelbrot's
    /// `cr`, made once a pixel, was computed again on every lap of the iteration loop, a
    /// division among its instructions, once no range check held it where it is made).
    fn branch_main(
        &mut self,
        cond: ir::Value,
        main: ir::Block,
        main_args: &[ir::BlockArg],
        side: ir::Block,
        side_args: &[ir::BlockArg],
    ) {
        let not = self.negated(cond);
        self.b.ins().brif(not, side, side_args, main, main_args);
    }

    /// The negation of the truth value `v` (nonzero: true), as a comparison that a branch
    /// takes as its flags: the complement of the comparison that made `v`, or `v == 0`.
    fn negated(&mut self, v: ir::Value) -> ir::Value {
        let b = &mut self.b;
        if let ir::ValueDef::Result(inst, 0) = b.func.dfg.value_def(v) {
            match b.func.dfg.insts[inst] {
                ir::InstructionData::IntCompare { cond, args, .. } => {
                    return b.ins().icmp(cond.complement(), args[0], args[1]);
                }
                ir::InstructionData::FloatCompare { cond, args, .. } => {
                    return b.ins().fcmp(cond.complement(), args[0], args[1]);
                }
                _ => {}
            }
        }
        let ty = b.func.dfg.value_type(v);
        let zero = b.ins().iconst(ty, 0);
        b.ins().icmp(IntCC::Equal, v, zero)
    }

    /// What a guest block knows of its webs (cells tested, doubles encoded) ends where another
    /// block, which other paths reach, begins.
    fn forget_block_facts(&mut self) {
        self.checked.clear();
        self.words.clear();
        self.distinct.clear();
    }

    /// The tests of invariant webs that hold where the block at `pc` begins: those its
    /// dominators knew at their ends (a test's header value is not kept: the facts are the
    /// translator's, not values of the function).
    fn inherit_facts(&mut self, pc: usize) {
        if mutant!(tier2_facts_from_every_block) {
            // The planted bug: the facts of every block translated so far, dominating or not.
            let all: Vec<(u16, u32)> = self.end_facts.values().flatten().copied().collect();
            self.checked.extend(all);
            return;
        }
        for d in self.doms.get(&pc).into_iter().flatten() {
            if let Some(facts) = self.end_facts.get(d) {
                for &f in facts {
                    if !self.checked.contains(&f) {
                        self.checked.push(f);
                    }
                }
            }
        }
    }

    /// Keeps what the block beginning at `start` knows now of its invariant webs, for the
    /// blocks it dominates.
    fn keep_facts(&mut self, start: usize) {
        let invariant = &self.invariant;
        let facts: Vec<(u16, u32)> = self.checked.iter().copied().filter(|f| invariant[f.0 as usize]).collect();
        self.end_facts.insert(start, facts);
    }

    /// Marks the block being built cold: the rest of a cold path after a guard, which Cranelift
    /// would otherwise lay out inline, to be jumped over.
    fn cold_here(&mut self) {
        let blk = self.b.current_block().expect("a block is being built");
        self.b.set_cold_block(blk);
    }

    /// Branches to the exit before `pc` if `bad` (an i8 condition).
    fn guard_not(&mut self, bad: ir::Value, pc: usize, why: Why) {
        self.force(pc);
        let e = self.guard_exit(pc, why);
        let cont = self.b.create_block();
        self.b.ins().brif(bad, e, &[], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// For an int `add` or `sub` that writes one of its operands' registers (loop_sum's
    /// `add s, s, i`), both held as ints: that operand's web and how to get its value back from
    /// the wrapped result `r` (`r - y`, `r + y` or `x - r`: exact, the machine ops wrap), so that
    /// the overflow exit recomputes it and nothing keeps the old value alive past the op (it
    /// cost loop_sum two register copies a lap).
    fn undo(&self, op: Op, r: ir::Value, x: ir::Value, y: ir::Value) -> Option<(u16, UndoOp)> {
        let (d, a, b, add) = match op {
            Op::Add { d, a, b } => (d, a, b, true),
            Op::Sub { d, a, b } => (d, a, b, false),
            _ => return None,
        };
        let reg = |w: u16| self.webs.reg[w as usize];
        let int = |w: u16| self.rep[w as usize] == Some(Rep::I);
        if !int(d) || reg(a) == reg(b) {
            return None;
        }
        match (reg(d) == reg(a), reg(d) == reg(b)) {
            (true, _) if int(a) => Some((a, if add { UndoOp::Sub(r, y) } else { UndoOp::Add(r, y) })),
            (_, true) if int(b) => Some((b, if add { UndoOp::Sub(r, x) } else { UndoOp::Sub(x, r) })),
            _ => None,
        }
    }

    /// [`Tr::guard_not`] for an overflow whose exit first gives `web` its value before the op,
    /// computed from the result ([`Tr::undo`]), in a block of its own on the way to the exit.
    fn guard_not_undoing(&mut self, bad: ir::Value, pc: usize, web: u16, old: UndoOp) {
        self.force(pc);
        let e = self.guard_exit(pc, OVERFLOW);
        let (undo, cont) = (self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(undo);
        self.b.ins().brif(bad, undo, &[], cont, &[]);
        self.b.seal_block(undo);
        self.b.switch_to_block(undo);
        let v = match old {
            UndoOp::Add(p, q) => self.b.ins().iadd(p, q),
            UndoOp::Sub(p, q) if mutant!(tier2_undo_adds) => self.b.ins().iadd(p, q),
            UndoOp::Sub(p, q) => self.b.ins().isub(p, q),
        };
        self.b.def_var(self.var(web), v);
        self.b.ins().jump(e, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Register `r` as a double for the op at `pc` (converting a SmallInt, [value.mixed-arith];
    /// a word must hold a SmallFloat, or the op leaves).
    fn float_of(&mut self, pc: usize, r: u16) -> ir::Value {
        let v = self.b.use_var(self.var(r));
        match self.rep[r as usize] {
            Some(Rep::F) => v,
            Some(Rep::I) => {
                let i = self.b.ins().sshr_imm_u(v, 3);
                self.b.ins().fcvt_from_sint(types::F64, i)
            }
            _ => match self.lifted_floats.get(&r) {
                // The word is the one the preheader loaded: its tag tested there, not here.
                Some(&(lh, le, slot, off)) if (lh..=le).contains(&self.cur) => {
                    if !mutant!(tier2_lifted_tag_untested) {
                        self.b.func.replace(off).iconst(types::I64, 0);
                    }
                    self.b.ins().stack_load(types::I64, types::F64, slot, 0)
                }
                // A carried field's double, its tag tested where the loop was entered.
                _ if self.fwd_floats.contains_key(&r) => {
                    let (f, off) = self.fwd_floats[&r];
                    if !mutant!(tier2_lifted_tag_untested) {
                        self.b.func.replace(off).iconst(types::I64, 0);
                    }
                    f
                }
                _ => {
                    let t = self.b.ins().band_imm_u(v, 4);
                    self.guard(t, pc, OPERAND);
                    self.decode(v)
                }
            },
        }
    }

    /// Register `r` as a SmallInt `i << 3` ([`Rep::I`]) for the op at `pc` (a word must hold
    /// one, or the op leaves).
    fn int_of(&mut self, pc: usize, r: u16) -> ir::Value {
        let v = self.b.use_var(self.var(r));
        if self.rep[r as usize] == Some(Rep::W) {
            let t = self.b.ins().band_imm_u(v, 1);
            self.guard(t, pc, OPERAND);
            return self.b.ins().bxor_imm_u(v, 1);
        }
        v
    }

    /// An int result `i << 3` for `d`: as it is, or its word when `d` holds words.
    fn def_int(&mut self, d: u16, v: ir::Value) {
        let v = if self.rep[d as usize] == Some(Rep::I) { v } else { self.b.ins().bor_imm_u(v, 1) };
        self.def(d, v);
    }

    fn def(&mut self, d: u16, v: ir::Value) {
        self.b.def_var(self.var(d), v);
        self.checked.retain(|c| c.0 != d);
        self.words.retain(|c| c.0 != d);
        self.distinct.retain(|c| c.0 != d && c.1 != d);
        if let Some(bit) = self.written_bit[self.webs.reg[d as usize] as usize] {
            self.pending |= 1 << bit;
        }
    }

    /// At the end of a guest block: its writes into the `written` mask.
    fn flush_written(&mut self) {
        if mutant!(tier2_written_mask_not_kept) {
            return;
        }
        let bits = self.pending & self.dynamic;
        if let (Some(w), true) = (self.written, bits != 0) {
            let m = self.b.use_var(w);
            let m = self.b.ins().bor_imm_u(m, bits as i64);
            self.b.def_var(w, m);
        }
    }

    /// Register `r` as a word, for the op being translated. A double is encoded, and the op
    /// leaves when it has no SmallFloat encoding (a failed guess, [`Tr::checked_word`]): the
    /// exit boxes it and the interpreter runs the op. The word is kept for the rest of the
    /// guest block (`words`); a constant register's is a constant.
    fn word_of(&mut self, r: u16) -> ir::Value {
        let v = self.b.use_var(self.var(r));
        match self.rep[r as usize] {
            Some(Rep::F) => match self.words.iter().find(|c| c.0 == r) {
                Some(&(_, w)) => w,
                None => {
                    let w = match self.consts[self.webs.reg[r as usize] as usize] {
                        Some(c) if is_small_float(c) => self.b.ins().iconst(types::I64, c as i64),
                        _ => self.checked_word(self.cur, v),
                    };
                    self.words.push((r, w));
                    w
                }
            },
            Some(Rep::I) => self.b.ins().bor_imm_u(v, 1),
            _ => v,
        }
    }

    /// Register `r` (a word) as the address of an array; the op at `pc` leaves when it is not.
    /// Tested once a guest block, or once where a loop is entered ([`Tr::preheader`]).
    fn array_of(&mut self, pc: usize, r: u16) -> ir::Value {
        if self.checked.iter().any(|c| (c.0, c.1) == (r, u32::MAX)) || self.lifted(r, u32::MAX) {
            return self.b.use_var(self.var(r));
        }
        self.cell_of_kind(pc, r, KIND_ARRAY).0
    }

    /// Register `r` (a word) as the address of a heap cell of kind `kind`, and its header; the
    /// op at `pc` leaves when it is not (nil, an immediate, another kind).
    fn cell_of_kind(&mut self, pc: usize, r: u16, kind: i64) -> (ir::Value, ir::Value) {
        self.cell_with_header(pc, r, 0xf, kind)
    }

    /// Register `r` (a word) as the address of a heap cell whose header's bits `mask` are
    /// `want`, and its header; the op at `pc` leaves when it is not.
    fn cell_with_header(&mut self, pc: usize, r: u16, mask: i64, want: i64) -> (ir::Value, ir::Value) {
        let kind = want & 0xf;
        let w = self.b.use_var(self.var(r));
        let tag = self.b.ins().band_imm_u(w, 7);
        let is_ref = self.b.ins().icmp_imm_u(IntCC::Equal, tag, 0);
        self.guard(is_ref, pc, OPERAND);
        let not_nil = self.b.ins().icmp_imm_u(IntCC::NotEqual, w, 0);
        self.guard(not_nil, pc, OPERAND);
        let header = self.b.ins().load(types::I64, TRUSTED, w, 0);
        let k = self.b.ins().band_imm_u(header, mask);
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, k, want);
        self.guard(ok, pc, OPERAND);
        if kind == KIND_ARRAY {
            self.checked.push((r, u32::MAX));
        }
        (w, header)
    }

    /// Register `o` as an object of class `class` or one of its first subclasses (tier 1's
    /// test, `x64.rs`, `check_object_of_class`); else the op at `pc` leaves.
    fn object_of_class(&mut self, pc: usize, o: u16, class: u32) -> ir::Value {
        if self.checked.iter().any(|c| (c.0, c.1) == (o, class)) || self.lifted(o, class) {
            return self.b.use_var(self.var(o));
        }
        let runs = self.class_test_runs(class);
        // An object already (a `send` to it dispatched): its class alone.
        if self.checked.iter().any(|c| c.0 == o && c.1 != u32::MAX) && !mutant!(tier2_field_skips_class_check) {
            let obj = self.b.use_var(self.var(o));
            let header = self.b.ins().load(types::I64, TRUSTED, obj, 0);
            let c = self.b.ins().ushr_imm_u(header, 32);
            let ok = self.class_in_runs(c, &runs);
            self.guard(ok, pc, OPERAND);
            self.checked.push((o, class));
            return obj;
        }
        // A class without subclasses: its index and the kind in one test of the header (its
        // other bits, the collector's, masked off), three instructions fewer.
        if let ([run], false) = (&runs[..], mutant!(tier2_field_skips_class_check)) {
            if run.len == 1 {
                let want = (i64::from(run.first) << 32) | KIND_OBJECT;
                let (obj, _) = self.cell_with_header(pc, o, CLASS_AND_KIND, want);
                self.checked.push((o, class));
                return obj;
            }
        }
        let (obj, header) = self.cell_of_kind(pc, o, KIND_OBJECT);
        if !mutant!(tier2_field_skips_class_check) {
            let c = self.b.ins().ushr_imm_u(header, 32);
            let ok = self.class_in_runs(c, &runs);
            self.guard(ok, pc, OPERAND);
        }
        self.checked.push((o, class));
        obj
    }

    /// The runs of class indices [`Tr::object_of_class`] admits for `class`: it and its
    /// subclasses, the first [`MAX_CLASS_RUNS`] runs of them.
    fn class_test_runs(&self, class: u32) -> Vec<super::x64::ClassRun> {
        let n = self.prog.classes.len() as u32;
        // SAFETY: both are class indices of the program (`class` an operand the verifier
        // checked, [verify.class-range]).
        let under = (0..n).filter(|&c| c == class || unsafe { self.prog.is_subclass(c, class) });
        let mut runs = super::x64::class_runs(under);
        runs.truncate(MAX_CLASS_RUNS);
        runs
    }

    /// Whether the class index `c` is in one of `runs` (an i8 condition).
    fn class_in_runs(&mut self, c: ir::Value, runs: &[super::x64::ClassRun]) -> ir::Value {
        let mut ok = None;
        for &super::x64::ClassRun { first, len } in runs {
            let off = self.b.ins().iadd_imm_s(c, -i64::from(first));
            let inside = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, off, i64::from(len));
            ok = Some(match ok {
                None => inside,
                Some(x) => self.b.ins().bor(x, inside),
            });
        }
        ok.expect("a class is under itself")
    }

    /// Whether heap words need the barriers: not plain, and the object `obj` (whose class the
    /// guards checked) not private to the running transaction. Branches to `shared` when they
    /// do, else continues in a new block. Tier 1's test (`x64.rs`, `shared_unless_plain`).
    fn branch_if_shared(&mut self, obj: ir::Value, shared: ir::Block) {
        let private = self.fr().private.expect("the barrier flavour");
        let tag = self.b.ins().load(types::I64, TRUSTED, obj, 8);
        let mine = self.b.ins().icmp(IntCC::Equal, tag, private);
        let cont = self.b.create_block();
        self.b.ins().brif(mine, cont, &[], shared, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// A call of the barrier helper at `offset` of `JitCtx::barriers` (`barriers.rs`) with the
    /// mode, `args` and op `pc`'s location, returning `returns` words.
    fn call_barrier(&mut self, offset: i32, args: &[ir::Value], pc: usize, returns: usize) -> Vec<ir::Value> {
        let mut sig = ir::Signature::new(CallConv::SystemV);
        for _ in 0..args.len() + 2 {
            sig.params.push(AbiParam::new(types::I64));
        }
        for _ in 0..returns {
            sig.returns.push(AbiParam::new(types::I64));
        }
        let sig = self.b.import_signature(sig);
        let ctxv = self.fr().ctx;
        let table = self.b.ins().load(types::I64, TRUSTED, ctxv, ctx::BARRIERS);
        let f = self.b.ins().load(types::I64, TRUSTED, table, offset);
        let mode = self.b.ins().load(types::I64, TRUSTED, ctxv, ctx::MODE);
        let at = self.b.ins().iconst(types::I64, (i64::from(self.func) << 32) | pc as i64);
        let mut all = vec![mode];
        all.extend_from_slice(args);
        all.push(at);
        let call = self.b.ins().call_indirect(sig, f, &all);
        self.b.inst_results(call).to_vec()
    }

    /// Word `word` of object `obj` for the op at `pc`: a plain load when heap words are plain
    /// or the object is private to the transaction, else the STM's read barrier: its fast path
    /// inline ([`Tr::inline_read`]), or a helper call (the op leaves when it refuses: the
    /// transaction is doomed).
    fn load_field(&mut self, pc: usize, obj: ir::Value, word: usize) -> ir::Value {
        if self.fr().private.is_none() || mutant!(tier2_load_without_barrier) {
            return self.b.ins().load(types::I64, TRUSTED, obj, slot_offset(word));
        }
        let (shared, join) = (self.b.create_block(), self.b.create_block());
        let v = self.b.append_block_param(join, types::I64);
        self.branch_if_shared(obj, shared);
        let plain = self.b.ins().load(types::I64, TRUSTED, obj, slot_offset(word));
        self.b.ins().jump(join, &[plain.into()]);
        self.b.switch_to_block(shared);
        self.b.seal_block(shared);
        self.inline_read_else(obj, word, join);
        let w = self.b.ins().iconst(types::I64, word as i64);
        let r = self.call_barrier(super::barriers::at::LOAD, &[obj, w], pc, 2);
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, r[1], 0);
        self.guard(ok, pc, LEAVE);
        self.b.ins().jump(join, &[r[0].into()]);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        v
    }

    /// The read barrier's fast path (`stm::tx::InlineRead` says which, and why it returns what
    /// `Transaction::read` would): the word at address `a` of a shared cell, or a branch to
    /// `slow` (the helper) when the word's home slot in the redo index holds another word, the
    /// clock moved past the snapshot, or the word is not in the read filter. Reads only: the
    /// branch to `slow` leaves no trace.
    fn inline_read(&mut self, a: ir::Value, slow: ir::Block) -> ir::Value {
        let l = crate::stm::Transaction::INLINE_READ;
        let tx = self.fr().tx.expect("the barrier flavour");
        let k = self.b.ins().ushr_imm_u(a, 3);
        // Did this transaction write the word? Its home slot is empty: no.
        let at = self.home_slot(k);
        let written = self.b.ins().load(types::I64, TRUSTED, at, 0);
        let (taken, free) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(written, taken, &[], free, &[]);
        // Written (the slot holds the word: the redo log's value) or another word (the helper).
        self.b.switch_to_block(taken);
        self.b.seal_block(taken);
        let other = self.b.ins().bxor(written, a);
        self.continue_if_zero(other, slow);
        let entry = self.redo_entry(at);
        let buffered = self.b.ins().load(types::I64, TRUSTED, entry, l.write_value);
        let done = self.b.create_block();
        let out = self.b.append_block_param(done, types::I64);
        self.b.ins().jump(done, &[buffered.into()]);
        self.b.switch_to_block(free);
        self.b.seal_block(free);
        // The word, then the clock (atomic loads: kept, in this order, never merged with an
        // earlier load of the same word), which must still be the snapshot.
        let v = self.b.ins().atomic_load(types::I64, TRUSTED, a);
        let stm = self.b.ins().load(types::I64, TRUSTED, tx, l.stm);
        let clock_at = self.b.ins().iadd_imm_s(stm, i64::from(l.clock));
        let clock = self.b.ins().atomic_load(types::I64, TRUSTED, clock_at);
        let clock = self.b.ins().band_imm_s(clock, l.clock_mask as i64);
        let snapshot = self.b.ins().load(types::I64, TRUSTED, tx, l.snapshot);
        let moved = self.b.ins().bxor(clock, snapshot);
        self.continue_if_zero(moved, slow);
        // Logged already?
        let filter = self.b.ins().load(types::I64, TRUSTED, tx, l.filter_base);
        let i = self.b.ins().band_imm_s(k, l.filter_slots - 1);
        let i = self.b.ins().ishl_imm_u(i, 3);
        let i = self.b.ins().iadd(filter, i);
        let logged = self.b.ins().load(types::I64, TRUSTED, i, 0);
        let other = self.b.ins().bxor(logged, a);
        if !mutant!(tier2_inline_read_skips_filter) {
            self.continue_if_zero(other, slow);
        }
        self.b.ins().jump(done, &[v.into()]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        out
    }

    /// The address of the redo index's home slot of the word whose address is `k << 3`.
    fn home_slot(&mut self, k: ir::Value) -> ir::Value {
        let l = crate::stm::Transaction::INLINE_READ;
        let tx = self.fr().tx.expect("the barrier flavour");
        let base = self.b.ins().load(types::I64, TRUSTED, tx, l.index_base);
        let shift = self.b.ins().load(types::I32, TRUSTED, tx, l.index_shift);
        let hash = self.b.ins().imul_imm_s(k, l.hash_mul as i64);
        let home = self.b.ins().ushr(hash, shift);
        let at = self.b.ins().imul_imm_s(home, l.index_slot_bytes);
        self.b.ins().iadd(base, at)
    }

    /// The address of the redo log's entry the full index slot at `slot` points to.
    fn redo_entry(&mut self, slot: ir::Value) -> ir::Value {
        let l = crate::stm::Transaction::INLINE_READ;
        let tx = self.fr().tx.expect("the barrier flavour");
        let pos = self.b.ins().uload32(TRUSTED, slot, l.slot_pos);
        let entry = self.b.ins().imul_imm_s(pos, l.write_bytes);
        let writes = self.b.ins().load(types::I64, TRUSTED, tx, l.writes_base);
        self.b.ins().iadd(writes, entry)
    }

    /// The write barrier's fast path (`stm::tx::InlineRead`'s layout): when this transaction
    /// already wrote the word at address `a` of a shared cell (its home slot in the redo index
    /// holds it), the redo log's entry := `v`, as `Transaction::write` does it; else, or while
    /// the contention policy has hot words (whose test `TxMode::store` makes, and this skips),
    /// a branch to `slow` (the helper), having changed nothing.
    fn inline_write(&mut self, a: ir::Value, v: ir::Value, slow: ir::Block) {
        let l = crate::stm::Transaction::INLINE_READ;
        let ctxv = self.fr().ctx;
        let mode = self.b.ins().load(types::I64, TRUSTED, ctxv, ctx::MODE);
        let hot = self.b.ins().load(types::I64, TRUSTED, mode, crate::par::JIT_HOT_WORDS);
        self.continue_if_zero(hot, slow);
        let k = self.b.ins().ushr_imm_u(a, 3);
        let at = self.home_slot(k);
        let written = self.b.ins().load(types::I64, TRUSTED, at, 0);
        let other = self.b.ins().bxor(written, a);
        self.continue_if_zero(other, slow);
        let entry = self.redo_entry(at);
        self.b.ins().store(TRUSTED, v, entry, l.write_value);
    }

    /// Word `word` of the shared cell `cell` by the read barrier's fast path
    /// ([`Tr::inline_read`]), to `join`; then goes on in the (cold) block for the helper's call.
    fn inline_read_else(&mut self, cell: ir::Value, word: usize, join: ir::Block) {
        let slow = self.b.create_block();
        let a = self.b.ins().iadd_imm_s(cell, i64::from(slot_offset(word)));
        let v = self.inline_read(a, slow);
        self.b.ins().jump(join, &[v.into()]);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        self.b.set_cold_block(slow);
    }

    /// Goes on in a new block when `x` is zero, else to `to`.
    fn continue_if_zero(&mut self, x: ir::Value, to: ir::Block) {
        let cont = self.b.create_block();
        self.b.ins().brif(x, to, &[], cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Word `word` of object `obj` := `v`: plainly or through the STM's write barrier, as
    /// [`Tr::load_field`] reads it.
    fn store_field(&mut self, obj: ir::Value, word: usize, v: ir::Value, pc: usize) {
        let elided = mutant!(tier2_store_without_private_check);
        if self.fr().private.is_none() || elided {
            self.b.ins().store(TRUSTED, v, obj, slot_offset(word));
            return;
        }
        let (shared, join) = (self.b.create_block(), self.b.create_block());
        self.branch_if_shared(obj, shared);
        self.b.ins().store(TRUSTED, v, obj, slot_offset(word));
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(shared);
        self.b.seal_block(shared);
        let slow = self.b.create_block();
        let a = self.b.ins().iadd_imm_s(obj, i64::from(slot_offset(word)));
        self.inline_write(a, v, slow);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        self.b.set_cold_block(slow);
        let w = self.b.ins().iconst(types::I64, word as i64);
        self.call_barrier(super::barriers::at::STORE, &[obj, w, v], pc, 0);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
    }

    /// Element `scaled >> 3` (an int as `i << 3`, [`Rep::I`]) of the array `arr` at op `pc`: read, or written with
    /// `store` (then the result is `store`). With plain heap words, or when the array and its
    /// storage are private to the transaction, the length, the storage and the element are
    /// plain loads (an index out of bounds fails an operand guard, as in the plain flavour);
    /// otherwise the barriers' fast paths inline ([`Tr::inline_read`], [`Tr::inline_write`]),
    /// the length, the storage, then the element, as the helper does them, or else the helper
    /// (`barriers.rs`; bounds included: the op leaves when it refuses, out of bounds or the
    /// transaction doomed).
    fn element(&mut self, pc: usize, arr: ir::Value, scaled: ir::Value, store: Option<ir::Value>) -> ir::Value {
        // The index `i` for the bounds check and the helpers; the element's byte offset is
        // `scaled` itself (no `(i >> 3) << 3`, a copy and a mask).
        let i = self.b.ins().sshr_imm_u(scaled, 3);
        let barriers = self.fr().private.is_some() && !mutant!(tier2_element_without_barrier);
        let shared = barriers.then(|| self.b.create_block());
        if let Some(shared) = shared {
            self.branch_if_shared(arr, shared);
        }
        let len = self.b.ins().load(types::I64, TRUSTED, arr, slot_offset(ARRAY_LEN));
        // Unsigned: a negative index is huge.
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, i, len);
        self.guard(inside, pc, OPERAND);
        let storage = self.b.ins().load(types::I64, TRUSTED, arr, slot_offset(ARRAY_STORAGE));
        if let Some(shared) = shared {
            self.branch_if_shared(storage, shared);
        }
        let at = self.b.ins().iadd(storage, scaled);
        let v = match store {
            Some(v) => {
                self.b.ins().store(TRUSTED, v, at, slot_offset(HEADER_WORDS));
                v
            }
            None => self.b.ins().load(types::I64, TRUSTED, at, slot_offset(HEADER_WORDS)),
        };
        let Some(shared) = shared else { return v };
        let join = self.b.create_block();
        let out = self.b.append_block_param(join, types::I64);
        self.b.ins().jump(join, &[v.into()]);
        self.b.seal_block(shared);
        self.b.switch_to_block(shared);
        let slow = self.b.create_block();
        let len_at = self.b.ins().iadd_imm_s(arr, i64::from(slot_offset(ARRAY_LEN)));
        let len = self.inline_read(len_at, slow);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, i, len);
        let cont = self.b.create_block();
        self.b.ins().brif(inside, cont, &[], slow, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        let storage_at = self.b.ins().iadd_imm_s(arr, i64::from(slot_offset(ARRAY_STORAGE)));
        let storage = self.inline_read(storage_at, slow);
        let at = self.b.ins().iadd(storage, scaled);
        let at = self.b.ins().iadd_imm_s(at, i64::from(slot_offset(HEADER_WORDS)));
        let v = match store {
            Some(v) => {
                self.inline_write(at, v, slow);
                v
            }
            None => self.inline_read(at, slow),
        };
        self.b.ins().jump(join, &[v.into()]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let v = match store {
            Some(v) => {
                let r = self.call_barrier(super::barriers::at::ASET, &[arr, i, v], pc, 1);
                let ok = self.b.ins().icmp_imm_u(IntCC::Equal, r[0], 0);
                self.guard(ok, pc, LEAVE);
                v
            }
            None => {
                let r = self.call_barrier(super::barriers::at::AGET, &[arr, i], pc, 2);
                let ok = self.b.ins().icmp_imm_u(IntCC::Equal, r[1], 0);
                self.guard(ok, pc, LEAVE);
                r[0]
            }
        };
        self.b.ins().jump(join, &[v.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        out
    }

    /// The length of the array `arr` (a word) at op `pc`: a plain load, or, when heap words are
    /// not plain and the array is not private, the read barrier's fast path inline or else
    /// the helper.
    fn array_len(&mut self, pc: usize, arr: ir::Value) -> ir::Value {
        let plain = self.b.ins().load(types::I64, TRUSTED, arr, slot_offset(ARRAY_LEN));
        if self.fr().private.is_none() {
            return plain;
        }
        let (shared, join) = (self.b.create_block(), self.b.create_block());
        let out = self.b.append_block_param(join, types::I64);
        // (The plain load above is of a word of a live array: harmless when it is not used.)
        self.branch_if_shared(arr, shared);
        self.b.ins().jump(join, &[plain.into()]);
        self.b.seal_block(shared);
        self.b.switch_to_block(shared);
        self.inline_read_else(arr, ARRAY_LEN, join);
        let r = self.call_barrier(super::barriers::at::ALEN, &[arr], pc, 2);
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, r[1], 0);
        self.guard(ok, pc, LEAVE);
        self.b.ins().jump(join, &[r[0].into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        out
    }

    /// A double result for `d` at `pc`. Held as a double, it is kept whatever its value: the
    /// exits box one without a SmallFloat encoding ([`Tr::word_of_double`]), and a use of it as
    /// a word inside the region tests it there ([`Tr::word_of`]). Held as a word, the region
    /// leaves before the op when it has no encoding (the interpreter then boxes it).
    fn def_float(&mut self, pc: usize, d: u16, f: ir::Value) {
        if self.rep[d as usize] != Some(Rep::F) {
            let (word, ok) = self.encode(f);
            if !mutant!(tier2_float_skips_range_check) {
                self.guard(ok, pc, RANGE);
            }
            self.def(d, word);
            return;
        }
        self.def(d, f);
    }

    /// The SmallFloat word of the double `f` (`value::encode_float`), leaving before op `pc`
    /// when it has none (a failed guess, counted as `float_range`): the range check and
    /// [`Tr::encode`] in one. Hot, [`Tr::common_exponent`]'s 32-bit test, then the common case's word
    /// `(rot - EXP_OFFSET) << 3 | 4` (`rot` the bits rotated left by one), which is
    /// `rot << 3 | 4` with bit 63 flipped (`EXP_OFFSET << 3` is `1 << 63` modulo `2^64`): no
    /// select. Cold, the exact test and [`Tr::encode`]'s word.
    fn checked_word(&mut self, pc: usize, f: ir::Value) -> ir::Value {
        if mutant!(tier2_float_skips_range_check) {
            return self.encode(f).0;
        }
        let (bits, common) = self.common_exponent(f);
        let b = &mut self.b;
        let one = b.ins().iconst(types::I64, 1);
        let rot = b.ins().rotl(bits, one);
        let sh = b.ins().ishl_imm_u(rot, 3);
        let word = b.ins().bxor_imm_u(sh, i64::MIN | 4);
        let (join, rare) = (b.create_block(), b.create_block());
        let out = b.append_block_param(join, types::I64);
        self.branch_main(common, join, &[word.into()], rare, &[]);
        let b = &mut self.b;
        b.seal_block(rare);
        b.switch_to_block(rare);
        b.set_cold_block(rare);
        let (word, ok) = self.encode(f);
        self.guard(ok, pc, RANGE);
        self.cold_here();
        self.b.ins().jump(join, &[word.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        out
    }

    /// The bits of the double `f`, and whether its exponent is one of 2^-126..2^128 (then it has
    /// a SmallFloat, in `value::encode_float`'s common case): the low half of the bits rotated
    /// right by 31 (the exponent over the mantissa's top 21 bits, the sign rotated out of it),
    /// one 32-bit compare with immediates.
    fn common_exponent(&mut self, f: ir::Value) -> (ir::Value, ir::Value) {
        let b = &mut self.b;
        let bits = b.ins().bitcast(types::I64, MemFlagsData::new(), f);
        let r31 = b.ins().iconst(types::I64, 31);
        let hi = b.ins().rotr(bits, r31);
        let hi = b.ins().ireduce(types::I32, hi);
        let off = b.ins().iadd_imm_s(hi, -(897 << 21));
        let common = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, off, 255 << 21);
        (bits, common)
    }

    fn block(&mut self, pc: usize) -> ir::Block {
        *self.blocks.entry(pc).or_insert_with(|| self.b.create_block())
    }

    /// Goes to op `to` from the op at `pc` (a backward jump when `back`, taken when `taken`):
    /// the jump's accounting, then the op's block inside the region or the exit before it.
    fn edge(&mut self, pc: usize, to: usize, back: bool, taken: bool) {
        // Both edges of a conditional jump end the block: `pending` stays for the second.
        self.flush_written();
        // Out of a loop whose laps keep no segment start: the segment start it leaves with.
        let lp = self.seg_loop_of(pc);
        if let Some((lh, le)) = lp {
            if !(lh..=le).contains(&to) {
                let s = self.seg_of_loop(pc);
                self.b.def_var(self.seg, s);
            }
        }
        if back {
            let budget = self.b.use_var(self.budget);
            let e = self.exit(pc, LEAVE);
            let cont = self.b.create_block();
            self.branch_main(budget, cont, &[], e, &[]);
            self.b.seal_block(cont);
            self.b.switch_to_block(cont);
            let nb = self.b.ins().iadd_imm_s(budget, -1);
            self.b.def_var(self.budget, nb);
            if !taken && !mutant!(tier2_untaken_back_jump_charged) {
                let u = self.b.use_var(self.untaken);
                let u = self.b.ins().iadd_imm_s(u, 1);
                self.b.def_var(self.untaken, u);
            }
            let lap = taken && lp.is_some_and(|l| l.0 == to);
            if self.seg_only.is_none() && !lap {
                let s = self.b.ins().iconst(types::I64, to as i64);
                self.b.def_var(self.seg, s);
            }
        }
        self.completed();
        // A taken backward jump to a lifted loop's header goes to its body; every other edge
        // there (a fall through, a backward jump not taken just before it) to its preheader.
        let target = match self.bodies.get(&to) {
            Some(&body) if back && to <= pc => body,
            _ if (self.h..=self.end).contains(&to) => self.block(to),
            _ => self.exit(to, LEAVE),
        };
        self.b.ins().jump(target, &[]);
    }

    /// The preheader of loop `l`, in its header's block: tests the loop's invariant cells and
    /// decodes the doubles of its invariant fields ([`lifts`]), leaving before the header when
    /// a test fails (a failed guess, counted there), then goes to the loop's body, the block
    /// its backward jumps go to. What it makes stands for the ops of the loop, which its block
    /// dominates. A lifted `getf` still loads its word (a load, where Cranelift would keep a
    /// word loaded here in a register or spill it), without its object's test; an op using it
    /// as a double takes the double decoded here, its tag tested here too.
    fn preheader(&mut self, l: &Lift) {
        self.cur = l.h;
        // The loop's counted steps whose test is made here ([`Step::pre`]): a failure leaves
        // before the header, counted as a failed guess at the entry at the step's op, which a
        // compilation again then checks at each lap ([`Cell::kept`]).
        for s in self.steps.iter().filter(|s| s.pre == Some(l.h)) {
            let ok = self.step_fits(s);
            let e = self.exit_counted_at(l.h, ENTRY, s.pc);
            let cont = self.b.create_block();
            self.branch_main(ok, cont, &[], e, &[]);
            self.b.seal_block(cont);
            self.b.switch_to_block(cont);
        }
        if let (true, Some(slot)) = (self.seg_loops.iter().any(|s| s.0 == l.h), self.lap_slot) {
            let budget = self.b.use_var(self.budget);
            self.b.ins().stack_store(types::I64, budget, slot, 0);
        }
        for &(web, class) in &l.cells {
            if self.lifted(web, class) {
                continue;
            }
            if class == u32::MAX {
                self.array_of(l.h, web);
            } else {
                self.object_of_class(l.h, web, class);
            }
            self.lifted_cells.push((l.h, l.e, web, class));
        }
        for &pc in &l.loads {
            let Op::GetF { d, o, slot, .. } = self.code[pc] else { unreachable!("lifts() loads only getf") };
            let defs = (self.h..=self.end).filter(|&q| writes(&self.code[q]) == Some(d)).count();
            // The word every lap's `getf` reads (no op of the loop writes the field): loaded
            // here, once, and only kept for the exits that write it back.
            let obj = self.b.use_var(self.var(o));
            let w = self.b.ins().load(types::I64, TRUSTED, obj, slot_offset(HEADER_WORDS + slot as usize));
            self.lifted_words.insert(pc, w);
            if self.rep[d as usize] == Some(Rep::W) && !self.webs.entry[d as usize] && defs == 1 {
                // Whatever the word holds (its tag is tested below). In a stack slot, not a
                // variable: Cranelift's elaborator would put the decoding, a pure computation,
                // back at each use inside the loop (it hoists nothing out of a loop once it has
                // visited an exit, [`Tr::edge_never_taken`]).
                let f = self.decode(w);
                let slot =
                    self.b.create_sized_stack_slot(ir::StackSlotData::new(ir::StackSlotKind::ExplicitSlot, 8, 3));
                self.b.ins().stack_store(types::I64, f, slot, 0);
                // Its tag tested here, once, for the ops that take the double ([`Tr::float_of`]),
                // so the loop leaves before its header, a failed guess, when the word holds no
                // SmallFloat. Only when some op does: `off` is 1, which passes every word, until
                // the first such op makes it 0 (a field of ints the loop uses as ints must not
                // make it leave).
                let t = self.b.ins().band_imm_u(w, 4);
                let off = self.b.ins().iconst(types::I64, 1);
                let ok = self.b.ins().bor(t, off);
                self.guard(ok, l.h, OPERAND);
                let off = self.b.func.dfg.value_def(off).unwrap_inst();
                self.lifted_floats.insert(d, (l.h, l.e, slot, off));
            }
        }
        for f in &l.fwd {
            let obj = self.b.use_var(self.var(f.o));
            let w = self.b.ins().load(types::I64, TRUSTED, obj, slot_offset(HEADER_WORDS + f.slot as usize));
            // Whatever the word holds: tested as for a lifted load, once a `getf` takes the
            // double ([`Tr::float_of`]).
            let d = self.decode(w);
            let var = self.b.declare_var(types::F64);
            self.b.def_var(var, d);
            let t = self.b.ins().band_imm_u(w, 4);
            let off = self.b.ins().iconst(types::I64, 1);
            let ok = self.b.ins().bor(t, off);
            self.guard(ok, l.h, OPERAND);
            let off = self.b.func.dfg.value_def(off).unwrap_inst();
            self.fwd_vars.push((l.h, l.e, f.o, f.slot, var, off));
        }
        let body = self.b.create_block();
        self.b.ins().jump(body, &[]);
        self.b.switch_to_block(body);
        self.bodies.insert(l.h, body);
        self.forget_block_facts();
    }

    /// Whether the preheader of a loop the op being translated is in tested `web` as a cell of
    /// `class` (`u32::MAX`: an array).
    fn lifted(&self, web: u16, class: u32) -> bool {
        let cur = self.cur;
        self.lifted_cells.iter().any(|c| c.0 <= cur && cur <= c.1 && (c.2, c.3) == (web, class))
    }

    /// The field `slot` of web `o` that a loop the op being translated is in carries ([`Fwd`]).
    fn carried(&self, o: u16, slot: u16) -> Option<&(usize, usize, u16, u16, Variable, ir::Inst)> {
        let cur = self.cur;
        self.fwd_vars.iter().find(|c| c.0 <= cur && cur <= c.1 && (c.2, c.3) == (o, slot))
    }

    /// One more instruction completed (counted under `--stats`' flavour only).
    fn completed(&mut self) {
        if let Some(c) = self.icount {
            let n = self.b.use_var(c);
            let n = self.b.ins().iadd_imm_s(n, 1);
            self.b.def_var(c, n);
        }
    }

    /// The cell comes in the second argument, not as a constant, so that the same code serves
    /// every thread's cell of the region ([`Memo`]).
    fn entry(&mut self) {
        let b = &mut self.b;
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let (ctxv, cellv) = (params[0], params[1]);
        let thread = b.ins().load(types::I64, TRUSTED, ctxv, ctx::THREAD);
        // Called by tier 1 (depth 0): the window, the budget and the segment start from the
        // context, the frame the top one. Called by a region: all of it in the arguments, the
        // segment starting at op 0 ([`Tr::call`]). A loop is only ever called by tier 1.
        let (top, join) = (b.create_block(), b.create_block());
        for _ in 0..6 {
            b.append_block_param(join, types::I64);
        }
        if self.whole {
            let called = b.create_block();
            b.ins().brif(params[2], called, &[], top, &[]);
            b.seal_block(called);
            b.switch_to_block(called);
            let zero = b.ins().iconst(types::I64, 0);
            let args: Vec<ir::BlockArg> = [params[2], params[2], params[3], params[4], params[5], zero]
                .into_iter()
                .map(ir::BlockArg::Value)
                .collect();
            b.ins().jump(join, &args);
        } else {
            b.ins().jump(top, &[]);
        }
        b.seal_block(top);
        b.switch_to_block(top);
        let regs = b.ins().load(types::I64, TRUSTED, ctxv, ctx::REGS);
        let bj = b.ins().load(types::I64, TRUSTED, ctxv, ctx::BACK_JUMPS);
        let bd = b.ins().load(types::I64, TRUSTED, ctxv, ctx::BOUNDARIES);
        let fuel = b.ins().load(types::I64, TRUSTED, thread, 0);
        let sp = b.ins().load(types::I64, TRUSTED, ctxv, ctx::SAFEPOINTS);
        let m = b.ins().umin(bj, bd);
        let m = b.ins().umin(m, fuel);
        let zero = b.ins().iconst(types::I64, 0);
        let budget0 = b.ins().select(sp, m, zero);
        let seg = b.ins().load(types::I64, TRUSTED, ctxv, ctx::SEG_START);
        let (k, kmax) = if self.whole || self.has_calls {
            let len = b.ins().load(types::I64, TRUSTED, ctxv, ctx::FRAMES_LEN);
            let k = b.ins().iadd_imm_s(len, -1);
            let cap = b.ins().load(types::I64, TRUSTED, ctxv, ctx::FRAMES_CAP);
            let limit = b.ins().iconst(types::I64, i64::from(MAX_CALL_DEPTH));
            let kmax = b.ins().umin(cap, limit);
            let host = b.ins().iadd_imm_s(len, MAX_REGION_DEPTH);
            (k, b.ins().umin(kmax, host))
        } else {
            (zero, zero)
        };
        let off = std::mem::offset_of!(Cell, entries) as i32;
        let n = b.ins().load(types::I64, TRUSTED, cellv, off);
        let n = b.ins().iadd_imm_s(n, 1);
        b.ins().store(TRUSTED, n, cellv, off);
        let args: Vec<ir::BlockArg> =
            [zero, kmax, regs, k, budget0, seg].into_iter().map(ir::BlockArg::Value).collect();
        b.ins().jump(join, &args);
        b.seal_block(join);
        b.switch_to_block(join);
        let p = b.block_params(join).to_vec();
        let (called, kmax, regs, k, budget0, seg) = (p[0], p[1], p[2], p[3], p[4], p[5]);
        let zero = b.ins().iconst(types::I64, 0);
        b.def_var(self.budget, budget0);
        b.def_var(self.untaken, zero);
        b.def_var(self.calls, zero);
        b.def_var(self.inner, zero);
        b.def_var(self.seg, seg);
        if let Some(c) = self.icount {
            b.def_var(c, zero);
        }
        if let Some(w) = self.written {
            b.def_var(w, zero);
        }
        let private = if self.plain { None } else { Some(b.ins().load(types::I64, TRUSTED, ctxv, ctx::PRIVATE_TAG)) };
        let tx = if self.plain { None } else { Some(b.ins().load(types::I64, TRUSTED, ctxv, ctx::TX)) };
        self.f = Some(Frame { ctx: ctxv, kmax, called, k, regs, thread, budget0, seg0: seg, cell: cellv, private, tx });
        // Webs live at the header: their registers loaded and checked; the other webs of entry
        // values start as anything (their registers are written before they are read, and
        // written back only once written); the rest are defined before they are used.
        let fail = self.b.create_block();
        // Under the stress mode the entry's check fails once too (guard 0), uncounted.
        if let Some((base, _)) = self.forced {
            self.next_guard = 1;
            let cont = self.first_time(base);
            self.leave_at_entry();
            self.b.seal_block(cont);
            self.b.switch_to_block(cont);
        }
        for web in 0..self.vars.len() {
            let Some(var) = self.vars[web] else { continue };
            if !self.webs.entry[web] {
                continue;
            }
            let r = self.webs.reg[web] as usize;
            let rep = self.rep[web].expect("a used web has a representation");
            if !self.live_w[web] {
                let z = if rep == Rep::F { self.b.ins().f64const(0.0) } else { self.b.ins().iconst(types::I64, 0) };
                self.b.def_var(var, z);
                continue;
            }
            let w = self.b.ins().load(types::I64, TRUSTED, regs, r as i32 * 8);
            if let Some(c) = self.consts.get(r).copied().flatten().filter(|&c| const_fits(c, rep)) {
                // The function's one constant for the register, tested once here: in the
                // loop it is an immediate, and takes no machine register.
                if !mutant!(tier2_constant_register_unchecked) {
                    let ok = self.b.ins().icmp_imm_u(IntCC::Equal, w, c as i64);
                    let cont = self.b.create_block();
                    self.b.ins().brif(ok, cont, &[], fail, &[]);
                    self.b.seal_block(cont);
                    self.b.switch_to_block(cont);
                }
                let v = match rep {
                    Rep::F => self.b.ins().f64const(decode_float(c)),
                    Rep::I => self.b.ins().iconst(types::I64, (c ^ 1) as i64),
                    Rep::W => self.b.ins().iconst(types::I64, c as i64),
                };
                self.b.def_var(var, v);
                continue;
            }
            let v = match rep {
                Rep::W => w,
                Rep::I | Rep::F => {
                    let tag = if rep == Rep::I { 1 } else { 4 };
                    let t = self.b.ins().band_imm_u(w, tag);
                    let cont = self.b.create_block();
                    self.b.ins().brif(t, cont, &[], fail, &[]);
                    self.b.seal_block(cont);
                    self.b.switch_to_block(cont);
                    if rep == Rep::F && self.whole {
                        // Through a stack slot, as [`Tr::preheader`]'s doubles: a whole
                        // function has no [`Tr::edge_never_taken`], and Cranelift's elaborator
                        // put the decoding back at each use inside its loops (nbody's `dt`).
                        let f = self.decode(w);
                        let slot = self.b.create_sized_stack_slot(ir::StackSlotData::new(
                            ir::StackSlotKind::ExplicitSlot,
                            8,
                            3,
                        ));
                        self.b.ins().stack_store(types::I64, f, slot, 0);
                        self.b.ins().stack_load(types::I64, types::F64, slot, 0)
                    } else if rep == Rep::F {
                        self.decode(w)
                    } else {
                        // `w - (w & 1)`, not `w ^ 1`: Cranelift rematerializes an op with a
                        // constant operand in each block that uses it, which would put the
                        // untagging of a loop invariant (mandelbrot's `ione`) back in the loop.
                        self.b.ins().isub(w, t)
                    }
                }
            };
            self.b.def_var(var, v);
        }
        // Each counted loop's step ([`Step`]): `c > 0`, and `n + c` (`n - c` under a lower
        // bound) less one tag step when the test is strict, without overflow: then every step
        // taken past the header's test stays inside the ints. When that does not hold, the
        // region leaves at once, a failed guess at the entry counted at the step's op, which a
        // compilation again then checks as any other ([`Cell::kept`]).
        for s in self.steps.iter().filter(|s| s.pre.is_none()) {
            let ok = self.step_fits(s);
            let (cont, bad) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(ok, cont, &[], bad, &[]);
            self.b.seal_block(bad);
            self.b.switch_to_block(bad);
            self.b.set_cold_block(bad);
            self.fail_entry(s.pc);
            self.b.seal_block(cont);
            self.b.switch_to_block(cont);
        }
        let hb = self.block(self.h);
        self.b.ins().jump(hb, &[]);
        // A register of the wrong kind at entry: nothing changed, the header runs in tier 1.
        self.b.switch_to_block(fail);
        self.b.seal_block(fail);
        self.fail_entry(self.h);
    }

    /// Whether counted step `s` stays inside the ints on every lap its loop's header test lets
    /// through ([`Step`]): `c > 0`, and `n + c` (`n - c` under a lower bound), less one tag step
    /// when the test is strict, without overflow.
    fn step_fits(&mut self, s: &Step) -> ir::Value {
        let n = self.b.use_var(self.var(s.bound));
        let c = self.b.use_var(self.var(s.step));
        let positive = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, c, 0);
        let room = if s.strict { self.b.ins().iadd_imm_s(c, -8) } else { c };
        // A strict test's step of one: no room needed past the bound (`i < n` makes
        // `i + 1 <= n`), and Cranelift does not fold an overflow check of `n + 0`. The step is
        // one when its register is a constant one ([`constant_regs`]: every write of it in
        // the function loads 1, and the entry tests it if the region does not write it).
        let step_one =
            self.consts.get(self.webs.reg[s.step as usize] as usize).copied().flatten() == crate::value::small_int(1);
        if s.strict && step_one && !mutant!(tier2_counted_step_unchecked) {
            return self.b.ins().iconst(types::I8, 1);
        }
        let (_, of) = if s.up { self.b.ins().sadd_overflow(n, room) } else { self.b.ins().ssub_overflow(n, room) };
        let fits = self.b.ins().bxor_imm_u(of, 1);
        if mutant!(tier2_counted_step_unchecked) {
            positive
        } else {
            self.b.ins().band(positive, fits)
        }
    }

    /// A failed entry: counted as a failed guess at the entry, at op `at` (the header, or a
    /// counted step whose bound leaves no room), and the code returns the header having
    /// changed nothing.
    fn fail_entry(&mut self, at: usize) {
        let why = self.b.ins().iconst(types::I64, ENTRY as i64);
        let at = self.b.ins().iconst(types::I64, at as i64);
        self.count_failure(why, at);
        self.leave_at_entry();
    }

    /// Returns having changed nothing: the header's pc to tier 1; from a region's call (a
    /// whole function's, depth over 0) with its frame written as the call left it, at op 0
    /// ([`Tr::leave_called`]).
    fn leave_at_entry(&mut self) {
        let hv = self.b.ins().iconst(types::I64, self.h as i64);
        if !self.whole {
            let zero = self.b.ins().iconst(types::I64, 0);
            self.b.ins().return_(&[hv, zero]);
            return;
        }
        let called = self.fr().called;
        let (deep, top) = self.split(called);
        self.b.switch_to_block(top);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().return_(&[hv, zero]);
        self.b.switch_to_block(deep);
        let ctxv = self.fr().ctx;
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().store(TRUSTED, zero, ctxv, ctx::SEG_START);
        self.leave_called(hv, None);
    }

    /// A whole function called by a region leaving before op `pc` (`inner`: or inside a
    /// callee of its own, whose status that is) with its window written: writes its frame
    /// record (the function, its window's base, the pc; the caller writes the destination
    /// register, [`Tr::call`]), as the top frame unless a callee's is above it, and returns
    /// [`LEFT`] and the status to its caller.
    fn leave_called(&mut self, pc: ir::Value, inner: Option<ir::Value>) {
        let Frame { ctx: ctxv, regs, k, .. } = *self.fr();
        // The window's registers no op writes and the entry does not read are nil: the
        // caller wrote only the arguments and the registers read before written.
        let f = &self.prog.funcs[self.func as usize];
        let b = &mut self.b;
        let nil = b.ins().iconst(types::I64, 0);
        for r in f.arity as usize..f.regs as usize {
            let live = self
                .webs
                .entry
                .iter()
                .zip(&self.webs.reg)
                .zip(self.live_w)
                .any(|((&e, &reg), &l)| e && l && reg as usize == r);
            let written = self.orig[self.h..=self.end].iter().any(|op| writes(op) == Some(r as u16));
            if !live && !written {
                b.ins().store(TRUSTED, nil, regs, r as i32 * 8);
            }
        }
        let frames = b.ins().load(types::I64, TRUSTED, ctxv, ctx::FRAMES);
        let at = b.ins().ishl_imm_u(k, 4);
        let rec = b.ins().iadd(frames, at);
        let lo = b.ins().load(types::I64, TRUSTED, ctxv, ctx::REGS_LO);
        let base = b.ins().isub(regs, lo);
        let base = b.ins().ushr_imm_u(base, 3);
        let func = b.ins().iconst(types::I32, self.func as i64);
        b.ins().store(TRUSTED, func, rec, 0);
        b.ins().istore32(TRUSTED, base, rec, 4);
        b.ins().istore32(TRUSTED, pc, rec, 8);
        let status = match inner {
            Some(inner) => inner,
            None => {
                let len = b.ins().iadd_imm_s(k, 1);
                b.ins().store(TRUSTED, len, ctxv, ctx::FRAMES_LEN);
                pc
            }
        };
        let left = b.ins().iconst(types::I64, LEFT);
        b.ins().return_(&[left, status]);
    }

    /// Counts a failed guess of kind `why` (an i64 value, 1 to 4) at op `pc` in the cell; the
    /// region disables itself after [`GIVE_UP`].
    fn count_failure(&mut self, why: ir::Value, pc: ir::Value) {
        let cell = self.fr().cell;
        let b = &mut self.b;
        let miss = b.ins().iadd_imm_s(pc, 1);
        b.ins().store(TRUSTED, miss, cell, std::mem::offset_of!(Cell, last_miss) as i32);
        let at = b.ins().ishl_imm_u(why, 3);
        let at = b.ins().iadd(cell, at);
        let off = std::mem::offset_of!(Cell, deopts) as i32 - 8;
        let n = b.ins().load(types::I64, TRUSTED, at, off);
        let n = b.ins().iadd_imm_s(n, 1);
        b.ins().store(TRUSTED, n, at, off);
        let n = b.ins().load(types::I64, TRUSTED, cell, 8);
        let n = b.ins().iadd_imm_s(n, 1);
        b.ins().store(TRUSTED, n, cell, 8);
        let over = b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, n, GIVE_UP as i64);
        let entry = b.ins().load(types::I64, TRUSTED, cell, 0);
        let retry = b.ins().load(types::I64, TRUSTED, cell, std::mem::offset_of!(Cell, retry) as i32);
        let e = b.ins().select(over, retry, entry);
        b.ins().store(TRUSTED, e, cell, 0);
        let callee_at = std::mem::offset_of!(Cell, callee) as i32;
        let callee = b.ins().load(types::I64, TRUSTED, cell, callee_at);
        let zero = b.ins().iconst(types::I64, 0);
        let callee = b.ins().select(over, zero, callee);
        b.ins().store(TRUSTED, callee, cell, callee_at);
    }

    /// Every exit block: the registers the region changed back to the window, the counters,
    /// and the pc.
    /// Every exit block jumps to one shared block with the pc, whether it counts as a failed
    /// guess, the registers the region writes, and the counters as arguments: the write-back
    /// (registers to the window, counters to the context and thread) is built once, not at
    /// each of the region's exits, which keeps the function small and its compilation quick.
    fn exits(&mut self) {
        let nregs = self.written_bit.len();
        let written_regs: Vec<usize> = (0..nregs)
            .filter(|&r| self.orig[self.h..=self.end].iter().any(|op| writes(op) == Some(r as u16)))
            .collect();
        // Each such register goes to the write-back in the representation all its webs share,
        // or as a word (an exit from a web held otherwise encodes it).
        let mut wb_rep: Vec<Option<Rep>> = vec![None; nregs];
        for (web, &r) in self.webs.reg.iter().enumerate() {
            if let Some(k) = self.rep[web] {
                wb_rep[r as usize] = Some(Rep::join(wb_rep[r as usize], k));
            }
        }
        let wb = self.b.create_block();
        self.b.set_cold_block(wb);
        let i64p = |b: &mut FunctionBuilder, blk| b.append_block_param(blk, types::I64);
        let pcp = i64p(&mut self.b, wb);
        let guardp = i64p(&mut self.b, wb);
        let missp = i64p(&mut self.b, wb);
        let regp: Vec<ir::Value> = written_regs
            .iter()
            .map(|&r| {
                let ty = if wb_rep[r] == Some(Rep::F) { types::F64 } else { types::I64 };
                self.b.append_block_param(wb, ty)
            })
            .collect();
        let writtenp = i64p(&mut self.b, wb);
        let rawp = i64p(&mut self.b, wb);
        let budgetp = i64p(&mut self.b, wb);
        let untakenp = i64p(&mut self.b, wb);
        let callsp = i64p(&mut self.b, wb);
        let innerp = i64p(&mut self.b, wb);
        let segp = if self.seg_only.is_none() { Some(i64p(&mut self.b, wb)) } else { None };
        // The header of the loop of [`seg_loops`] the exit is in, or -1.
        let seg_loopp = if self.seg_loops.is_empty() { None } else { Some(i64p(&mut self.b, wb)) };
        let icountp = if self.icount.is_some() { Some(i64p(&mut self.b, wb)) } else { None };
        let mut exits: Vec<_> = self.exits.iter().map(|(k, &v)| (k.clone(), v)).collect();
        exits.sort_by(|a, b| a.0.cmp(&b.0));
        for ((pc, why, at, _, miss), (blk, must, may)) in exits {
            self.b.switch_to_block(blk);
            self.b.seal_block(blk);
            // A callee left: the registers as before the call, whose frame's pc is its return
            // address, and uncounted.
            let resume = if mutant!(tier2_called_frame_resumes_at_the_call) { pc } else { pc + 1 };
            let (pc_at, counted) = if why == CALLED { (resume, LEAVE) } else { (pc, why) };
            let mut args = vec![
                self.b.ins().iconst(types::I64, pc_at as i64),
                self.b.ins().iconst(types::I64, counted as i64),
                self.b.ins().iconst(types::I64, miss as i64),
            ];
            // Which registers not live at the header to write back ([`written_before`]): a
            // dead word only when it was written on every path here (else it keeps its word).
            let mut mask = self.b.ins().iconst(types::I64, must as i64);
            let lap = self.wr.every_lap & !must & may;
            if lap != 0 {
                let budget0 = self.fr().budget0;
                let budget = self.b.use_var(self.budget);
                let spent = self.b.ins().icmp(IntCC::NotEqual, budget, budget0);
                let bits = self.b.ins().iconst(types::I64, lap as i64);
                let zero = self.b.ins().iconst(types::I64, 0);
                let bits = self.b.ins().select(spent, bits, zero);
                mask = self.b.ins().bor(mask, bits);
            }
            let dynamic = may & !(must | lap);
            debug_assert_eq!(dynamic & !self.dynamic, 0, "a register the mask does not keep");
            if let (Some(w), true) = (self.written, dynamic != 0) {
                let m = self.b.use_var(w);
                let m = self.b.ins().band_imm_u(m, dynamic as i64);
                mask = self.b.ins().bor(mask, m);
            }
            // A register dead at the exit's pc (no op reads it before writing it, here or after
            // the region leaves) whose web holds a double or an int gets 0.0 or 0, not its
            // value ([exec.dead-registers]), where the region has written it (the mask still
            // says whether: a register not live at the header keeps the word it had, which may
            // be a reference). The interpreter's word is no reference either, so the collector
            // sees the same, and no value is kept alive to the exits past its last use (which
            // kept every number a region writes alive to the end of every lap).
            let dropped = written_regs.iter().copied().find(|&r| self.live[pc].get(r).copied().unwrap_or(false));
            // The registers holding a double's bits rather than a word ([`Tr::word_of_double`]).
            let mut raw = None;
            for &r in &written_regs {
                let web = at[r];
                let constant = self.constant_at(pc, r, web)
                    || mutant!(tier2_dead_ignores_liveness) && self.rep[web as usize] == Some(Rep::F)
                    || mutant!(tier2_called_exit_drops_a_register) && why == CALLED && dropped == Some(r);
                if constant {
                    let v = match (self.rep[web as usize], wb_rep[r]) {
                        (Some(Rep::F), Some(Rep::F)) => self.b.ins().f64const(0.0),
                        (Some(Rep::F), _) => self.b.ins().iconst(types::I64, FLOAT_ZERO as i64),
                        (_, Some(Rep::I)) => self.b.ins().iconst(types::I64, 0),
                        _ => self.b.ins().iconst(types::I64, 1),
                    };
                    args.push(v);
                    continue;
                }
                let v = self.b.use_var(self.var(web));
                let v = match (self.rep[web as usize], wb_rep[r]) {
                    (Some(Rep::F), Some(Rep::W)) => {
                        let (v, flag) = self.word_of_double(v);
                        let bit = self.float_bit[r].expect("a register written as a double");
                        let flag = self.b.ins().ishl_imm_u(flag, i64::from(bit));
                        raw = Some(match raw {
                            Some(acc) => self.b.ins().bor(acc, flag),
                            None => flag,
                        });
                        v
                    }
                    (Some(Rep::I), Some(Rep::W)) => self.b.ins().bor_imm_u(v, 1),
                    _ => v,
                };
                args.push(v);
            }
            args.push(mask);
            let raw = raw.unwrap_or_else(|| self.b.ins().iconst(types::I64, 0));
            args.push(raw);
            for v in [self.budget, self.untaken, self.calls] {
                args.push(self.b.use_var(v));
            }
            let inner = if why == CALLED { self.b.use_var(self.inner) } else { self.b.ins().iconst(types::I64, -1) };
            args.push(inner);
            if segp.is_some() {
                args.push(self.b.use_var(self.seg));
            }
            if seg_loopp.is_some() {
                let lh = self.seg_loop_of(pc).map_or(-1, |l| l.0 as i64);
                args.push(self.b.ins().iconst(types::I64, lh));
            }
            if let Some(c) = self.icount {
                args.push(self.b.use_var(c));
            }
            let args: Vec<ir::BlockArg> = args.into_iter().map(ir::BlockArg::Value).collect();
            self.b.ins().jump(wb, &args);
        }
        self.b.switch_to_block(wb);
        self.b.seal_block(wb);
        let counted = self.b.create_block();
        let store = self.b.create_block();
        self.b.set_cold_block(counted);
        self.b.set_cold_block(store);
        self.b.ins().brif(guardp, counted, &[], store, &[]);
        self.b.seal_block(counted);
        self.b.switch_to_block(counted);
        self.count_failure(guardp, missp);
        self.b.ins().jump(store, &[]);
        self.b.seal_block(store);
        self.b.switch_to_block(store);
        let Frame { ctx: ctxv, regs, thread, budget0, seg0, .. } = *self.fr();
        // The registers to box after the stores: those whose double has no SmallFloat
        // encoding, where the write-back stores it (a register it keeps keeps its word).
        let mut raw = rawp;
        for (&r, &v) in written_regs.iter().zip(&regp) {
            if mutant!(tier2_exit_skips_write_back) && wb_rep[r] == Some(Rep::I) {
                continue;
            }
            let word = match wb_rep[r] {
                Some(Rep::F) => {
                    let (v, flag) = self.word_of_double(v);
                    let bit = self.float_bit[r].expect("a register written as a double");
                    let flag = self.b.ins().ishl_imm_u(flag, i64::from(bit));
                    raw = self.b.ins().bor(raw, flag);
                    v
                }
                Some(Rep::I) => self.b.ins().bor_imm_u(v, 1),
                _ => v,
            };
            let word = match self.written_bit[r] {
                None => word,
                Some(wbit) => {
                    let t = self.b.ins().band_imm_u(writtenp, 1i64 << wbit);
                    if let Some(bit) = self.float_bit[r] {
                        // Kept: not boxed.
                        let keep = self.b.ins().icmp_imm_u(IntCC::Equal, t, 0);
                        let clear = self.b.ins().bor_imm_u(raw, 1i64 << bit);
                        let clear = self.b.ins().bxor_imm_u(clear, 1i64 << bit);
                        raw = self.b.ins().select(keep, clear, raw);
                    }
                    let old = self.b.ins().load(types::I64, TRUSTED, regs, r as i32 * 8);
                    // Called by a region, a register past the arguments that the region did
                    // not write is nil ([`Tr::call`] wrote only the arguments).
                    let old = if self.whole && r >= self.prog.funcs[self.func as usize].arity as usize {
                        let called = self.fr().called;
                        let nil = self.b.ins().iconst(types::I64, 0);
                        self.b.ins().select(called, nil, old)
                    } else {
                        old
                    };
                    self.b.ins().select(t, word, old)
                }
            };
            self.b.ins().store(TRUSTED, word, regs, r as i32 * 8);
        }
        self.box_raw(raw, regs);
        let b = &mut self.b;
        let spent = b.ins().isub(budget0, budgetp);
        // The laps, and a region that runs too few of them an entry given up
        // ([`SHORT_TRIP_ENTRIES`]): its entry cleared once, at the exit of that many entries.
        let cell = self.f.as_ref().expect("entry made the frame").cell;
        let laps_at = std::mem::offset_of!(Cell, laps) as i32;
        let laps = b.ins().load(types::I64, TRUSTED, cell, laps_at);
        let laps = b.ins().iadd(laps, spent);
        b.ins().store(TRUSTED, laps, cell, laps_at);
        // A whole function's too: richards' `Packet_append_to`, a list walk of 0.04 laps a call,
        // ran 4% more instructions as a region entered at every call.
        let entries_at = std::mem::offset_of!(Cell, entries) as i32;
        let entries = b.ins().load(types::I64, TRUSTED, cell, entries_at);
        // The outermost region does not count an entry in which a region it called left before
        // a call of a callee still to be compiled (`JitCtx::pending_left`, [`Tr::call_words`]).
        let entries = if self.has_calls {
            let flag = b.ins().load(types::I64, TRUSTED, ctxv, ctx::PENDING_LEFT);
            let (zero, pending) = match self.f.as_ref().expect("entry made the frame").called {
                called if self.whole => {
                    let zero = b.ins().iconst(types::I64, 0);
                    (b.ins().select(called, flag, zero), b.ins().select(called, zero, flag))
                }
                _ => (b.ins().iconst(types::I64, 0), flag),
            };
            b.ins().store(TRUSTED, zero, ctxv, ctx::PENDING_LEFT);
            let entries = b.ins().isub(entries, pending);
            b.ins().store(TRUSTED, entries, cell, entries_at);
            entries
        } else {
            entries
        };
        let at_count = b.ins().icmp_imm_u(IntCC::Equal, entries, SHORT_TRIP_ENTRIES as i64);
        let few = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, laps, (SHORT_TRIP_ENTRIES * SHORT_LAPS) as i64);
        let short = b.ins().band(at_count, few);
        let entry = b.ins().load(types::I64, TRUSTED, cell, 0);
        let zero = b.ins().iconst(types::I64, 0);
        let entry = b.ins().select(short, zero, entry);
        b.ins().store(TRUSTED, entry, cell, 0);
        // A backward jump not taken and a return charge neither fuel nor a backward jump, a
        // call no backward jump.
        let taken = b.ins().isub(spent, untakenp);
        let jumped = b.ins().isub(taken, callsp);
        let bj = b.ins().load(types::I64, TRUSTED, ctxv, ctx::BACK_JUMPS);
        let bj = b.ins().isub(bj, jumped);
        b.ins().store(TRUSTED, bj, ctxv, ctx::BACK_JUMPS);
        let bd = b.ins().load(types::I64, TRUSTED, ctxv, ctx::BOUNDARIES);
        let bd = b.ins().isub(bd, spent);
        b.ins().store(TRUSTED, bd, ctxv, ctx::BOUNDARIES);
        let fuel = b.ins().load(types::I64, TRUSTED, thread, 0);
        let fuel = b.ins().isub(fuel, taken);
        b.ins().store(TRUSTED, fuel, thread, 0);
        let seg = match (segp, self.seg_only) {
            (Some(v), _) => v,
            (None, Some(s)) => {
                let s = b.ins().iconst(types::I64, s);
                b.ins().select(spent, s, seg0)
            }
            (None, None) => unreachable!("a segment start variable or constant"),
        };
        let seg = match seg_loopp {
            Some(lh) => self.seg_in_loop(seg, lh, budgetp),
            None => seg,
        };
        let b = &mut self.b;
        // A callee that left wrote its segment's start, the current one.
        let seg = if self.has_calls {
            let called = b.ins().icmp_imm_s(IntCC::NotEqual, innerp, -1);
            let now = b.ins().load(types::I64, TRUSTED, ctxv, ctx::SEG_START);
            b.ins().select(called, now, seg)
        } else {
            seg
        };
        b.ins().store(TRUSTED, seg, ctxv, ctx::SEG_START);
        if let Some(n) = icountp {
            let c = b.ins().load(types::I64, TRUSTED, ctxv, ctx::ICOUNT);
            let c = b.ins().iadd(c, n);
            b.ins().store(TRUSTED, c, ctxv, ctx::ICOUNT);
        }
        // Not for a whole function: its op 0 heads no loop, and the edge made every value its
        // loops use (decoding constants, the object registers) computed before op 0 and live
        // across the whole function: nbody's pair loop spent 60 of its 414 instructions a lap on
        // the stack with it, 35 of 395 without.
        if !self.whole {
            self.edge_never_taken();
        }
        self.leave(pcp, innerp);
    }

    /// The end of the write-back: returns `pc` to tier 1, or, when a callee left (`inner` is
    /// its status, not -1), writes the return address `pc` in the region's frame record and
    /// returns the callee's pc with bit 32 set: the top frame is not this region's
    /// (`x64.rs`, `enter_region`). Called by a region, writes its frame record
    /// ([`Tr::leave_called`]).
    fn leave(&mut self, pc: ir::Value, inner: ir::Value) {
        let zero = self.b.ins().iconst(types::I64, 0);
        let top = self.top_pc(pc);
        if !self.whole && !self.has_calls {
            self.b.ins().return_(&[top, zero]);
            return;
        }
        if self.whole {
            let called = self.fr().called;
            let (deep, top) = self.split(called);
            self.b.switch_to_block(deep);
            if self.has_calls {
                let is_called = self.b.ins().icmp_imm_s(IntCC::NotEqual, inner, -1);
                let (called, own) = self.split(is_called);
                self.b.switch_to_block(called);
                self.leave_called(pc, Some(inner));
                self.b.switch_to_block(own);
            }
            self.leave_called(pc, None);
            self.b.switch_to_block(top);
        }
        if !self.has_calls {
            self.b.ins().return_(&[top, zero]);
            return;
        }
        let is_called = self.b.ins().icmp_imm_s(IntCC::NotEqual, inner, -1);
        let (called, own) = self.split(is_called);
        self.b.switch_to_block(own);
        self.b.ins().return_(&[top, zero]);
        self.b.switch_to_block(called);
        let Frame { ctx: ctxv, k, .. } = *self.fr();
        let frames = self.b.ins().load(types::I64, TRUSTED, ctxv, ctx::FRAMES);
        let at = self.b.ins().ishl_imm_u(k, 4);
        let rec = self.b.ins().iadd(frames, at);
        self.b.ins().istore32(TRUSTED, pc, rec, 8);
        let deep = self.b.ins().bor_imm_u(inner, 1 << 32);
        self.b.ins().return_(&[deep, zero]);
    }

    /// The pc a region returns to tier 1, with bit 32 set when an exit boxed a double
    /// (`JitCtx::boxed`, [`box_double`]): tier 1 then leaves for the interpreter at once.
    fn top_pc(&mut self, pc: ir::Value) -> ir::Value {
        let ctxv = self.fr().ctx;
        let boxed = self.b.ins().load(types::I64, TRUSTED, ctxv, ctx::BOXED);
        let boxed = self.b.ins().icmp_imm_u(IntCC::NotEqual, boxed, 0);
        let boxed = self.b.ins().uextend(types::I64, boxed);
        let bit = self.b.ins().ishl_imm_u(boxed, 32);
        self.b.ins().bor(pc, bit)
    }

    /// Two new cold blocks, sealed, which the current block branches to on `cond` (nonzero:
    /// the first).
    fn split(&mut self, cond: ir::Value) -> (ir::Block, ir::Block) {
        let (yes, no) = (self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(yes);
        self.b.set_cold_block(no);
        self.b.ins().brif(cond, yes, &[], no, &[]);
        self.b.seal_block(yes);
        self.b.seal_block(no);
        (yes, no)
    }

    /// A branch from the write-back to the header on the cell's `zero`, which is never taken.
    ///
    /// It is there for Cranelift 0.135's optimizer. Its elaborator walks the dominator tree
    /// keeping a stack of the loops it is in, and pops a loop on reaching a block outside it,
    /// such as an exit; the blocks of the loop it reaches after that are treated as outside any
    /// loop, so nothing is hoisted out of them, and the decoding of a loop-invariant float
    /// (mandelbrot's `cr`, `ci`, `two`, `four`) was redone on every lap. With this edge, every
    /// exit can reach the header, so every block of the region is in the loop. The registers
    /// arrive at the header as constants along it, which also makes each loop invariant a
    /// value the loop carries rather than one Cranelift recomputes where it is used.
    fn edge_never_taken(&mut self) {
        let cell = self.fr().cell;
        let zero = self.b.ins().load(types::I64, TRUSTED, cell, std::mem::offset_of!(Cell, zero) as i32);
        let back = self.b.create_block();
        let ret = self.b.create_block();
        self.b.set_cold_block(back);
        self.b.ins().brif(zero, back, &[], ret, &[]);
        self.b.seal_block(back);
        self.b.seal_block(ret);
        self.b.switch_to_block(back);
        for r in 0..self.vars.len() {
            let Some(var) = self.vars[r] else { continue };
            let z = if self.rep[r] == Some(Rep::F) {
                self.b.ins().f64const(0.0)
            } else {
                self.b.ins().iconst(types::I64, 0)
            };
            self.b.def_var(var, z);
        }
        let z64 = self.b.ins().iconst(types::I64, 0);
        for v in [self.budget, self.untaken, self.calls, self.inner, self.seg]
            .into_iter()
            .chain(self.icount)
            .chain(self.written)
        {
            self.b.def_var(v, z64);
        }

        let hb = self.block(self.h);
        self.b.ins().jump(hb, &[]);
        self.b.switch_to_block(ret);
    }

    /// `ret s` of a whole function: called by tier 1 (depth 0), the region leaves before it
    /// and tier 1 returns; called by a region, it returns the word to it with the budget, the
    /// return's boundary spent (leaving before it when the budget is spent). What its own
    /// backward jumps not taken and calls give back to the fuel and the backward jumps goes to
    /// the context here, as an exit would write it; the caller counts the return's.
    fn ret(&mut self, pc: usize, s: u16) {
        let e = self.exit(pc, LEAVE);
        let (called, go) = (self.b.create_block(), self.b.create_block());
        let depth = self.fr().called;
        self.b.ins().brif(depth, called, &[], e, &[]);
        self.b.seal_block(called);
        self.b.switch_to_block(called);
        let budget = self.b.use_var(self.budget);
        self.b.ins().brif(budget, go, &[], e, &[]);
        self.b.seal_block(go);
        self.b.switch_to_block(go);
        let word = self.word_of(s);
        let budget = self.b.ins().iadd_imm_s(budget, -1);
        let Frame { ctx: ctxv, thread, .. } = *self.fr();
        let gives_back =
            self.has_calls || self.code[self.h..=self.end].iter().any(|op| matches!(jump(op), Some((_, true, true))));
        if gives_back {
            let u = self.b.use_var(self.untaken);
            let c = self.b.use_var(self.calls);
            let b = &mut self.b;
            let fuel = b.ins().load(types::I64, TRUSTED, thread, 0);
            let fuel = b.ins().iadd(fuel, u);
            b.ins().store(TRUSTED, fuel, thread, 0);
            let bj = b.ins().load(types::I64, TRUSTED, ctxv, ctx::BACK_JUMPS);
            let bj = b.ins().iadd(bj, u);
            let bj = b.ins().iadd(bj, c);
            b.ins().store(TRUSTED, bj, ctxv, ctx::BACK_JUMPS);
        }
        if let Some(c) = self.icount {
            let n = self.b.use_var(c);
            let n = self.b.ins().iadd_imm_s(n, 1);
            let total = self.b.ins().load(types::I64, TRUSTED, ctxv, ctx::ICOUNT);
            let total = self.b.ins().iadd(total, n);
            self.b.ins().store(TRUSTED, total, ctxv, ctx::ICOUNT);
        }
        self.b.ins().return_(&[word, budget]);
    }

    /// `call d, f, args` of a whole-function region `f` ([`callable`]), called directly: the
    /// checks of tier 1's call (the budget, room in the frame stack and below the depth limit,
    /// room in the register stack) and of the host stack's depth ([`MAX_REGION_DEPTH`]), then
    /// the callee's code from its cell (`JitCtx::wholes`; 0 until compiled: the region leaves
    /// before the call, for tier 1's). Writes the callee's window (the arguments, then nil),
    /// not its frame record: the callee writes that only if it leaves ([`Tr::leave_called`]).
    /// The call's boundary is spent here (and its fuel, not a backward jump's), the return's
    /// by the callee ([`Tr::ret`], a boundary without fuel). A callee that left returns
    /// [`LEFT`]: this region writes the callee's destination register in its frame record,
    /// then leaves as before the call, its own frame record's pc the call's return address
    /// ([`CALLED`], [`Tr::leave`]), outermost last.
    fn call(&mut self, pc: usize, d: u16, argc: u16, f: u32, args: u32) {
        let words = self.argument_words(pc, argc, args);
        self.call_words(pc, d, f, &words, None);
    }

    /// The words of a call's arguments (from the pool, each register's web before the op).
    fn argument_words(&mut self, pc: usize, argc: u16, args: u32) -> Vec<ir::Value> {
        let pool = self.prog.arg_pool[args as usize..args as usize + argc as usize].to_vec();
        let at = self.webs.before[pc - self.h].clone();
        pool.iter().map(|&a| self.word_of(at[a as usize])).collect()
    }

    /// `send d, recv.site(args)` of methods that are regions as a whole (the class table's
    /// answers for the selector, [`callable`]): the receiver must be an object (else the region
    /// leaves before the send: the interpreter traps), its class picks the method, run by run
    /// of class indices (one of no run leaves: the interpreter looks it up, or traps), and the
    /// method is called as by [`Tr::call`], the receiver its register 0, the site counting a
    /// hit as tier 1's inline sends count theirs.
    fn send(&mut self, pc: usize, d: u16, recv: u16, argc: u16, site: u32, args: u32) {
        let targets = super::x64::class_table_targets(self.prog, self.prog.sites[site as usize].selector, argc)
            .expect("callable() found the send's methods");
        let receiver = self.word_of(recv);
        let mut words = vec![receiver];
        words.extend(self.argument_words(pc, argc, args));
        // A receiver tested as an object of a class (`getf` on it, [`Tr::object_of_class`])
        // whose every class the test admits has one method here: a direct call. Tested as an
        // object (an earlier `send`): its class is dispatched on without testing the rest.
        let facts: Vec<u32> = self.checked.iter().filter(|c| c.0 == recv && c.1 != u32::MAX).map(|c| c.1).collect();
        for &class in facts.iter().filter(|&&c| c != ANY_OBJECT) {
            let admitted = self.class_test_runs(class);
            let within = |runs: &[super::x64::ClassRun]| {
                admitted.iter().all(|a| {
                    (a.first..a.first + a.len).all(|c| runs.iter().any(|r| (r.first..r.first + r.len).contains(&c)))
                })
            };
            if let Some((f, _)) = targets.iter().find(|(_, runs)| within(runs)) {
                let f = if mutant!(tier2_send_fact_takes_the_first_method) { targets[0].0 } else { *f };
                self.call_words(pc, d, f, &words, Some(site));
                return;
            }
        }
        let e = self.exit(pc, LEAVE);
        let b = &mut self.b;
        let receiver_known = !facts.is_empty();
        let header = if receiver_known {
            b.ins().load(types::I64, TRUSTED, receiver, 0)
        } else {
            Self::object_header(b, receiver, e)
        };
        self.dispatch(pc, d, header, &targets, &words, site, e);
        if recv != d {
            self.checked.push((recv, ANY_OBJECT));
        }
    }

    /// The header of the heap object `receiver`; branches to `e` when it is not one (an
    /// immediate, nil, another kind of cell).
    fn object_header(b: &mut FunctionBuilder, receiver: ir::Value, e: ir::Block) -> ir::Value {
        let tag = b.ins().band_imm_u(receiver, crate::value::TAG_MASK as i64);
        let (tagged, cell) = (b.create_block(), b.create_block());
        b.ins().brif(tag, e, &[], tagged, &[]);
        b.seal_block(tagged);
        b.switch_to_block(tagged);
        b.ins().brif(receiver, cell, &[], e, &[]);
        b.seal_block(cell);
        b.switch_to_block(cell);
        let header = b.ins().load(types::I64, TRUSTED, receiver, 0);
        let kind = b.ins().band_imm_u(header, 0xf);
        let object = b.ins().icmp_imm_u(IntCC::Equal, kind, KIND_OBJECT);
        let known = b.create_block();
        b.ins().brif(object, known, &[], e, &[]);
        b.seal_block(known);
        b.switch_to_block(known);
        header
    }

    /// A send's call of the method of the receiver's class (its `header`'s) among `targets`;
    /// to `e` for a class none of them is for.
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        pc: usize,
        d: u16,
        header: ir::Value,
        targets: &super::x64::SendTargets,
        words: &[ir::Value],
        site: u32,
        e: ir::Block,
    ) {
        let class = self.b.ins().ushr_imm_u(header, 32);
        let join = self.b.create_block();
        for (f, runs) in targets {
            let callee = self.b.create_block();
            for run in runs {
                let b = &mut self.b;
                let off = b.ins().iadd_imm_s(class, -i64::from(run.first));
                let inside = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, off, i64::from(run.len));
                let inside =
                    if mutant!(tier2_send_takes_the_first_method) { b.ins().iconst(types::I8, 1) } else { inside };
                let next = b.create_block();
                b.ins().brif(inside, callee, &[], next, &[]);
                b.seal_block(next);
                b.switch_to_block(next);
            }
            let not_this = self.b.current_block().expect("a block");
            self.b.seal_block(callee);
            self.b.switch_to_block(callee);
            self.call_words(pc, d, *f, words, Some(site));
            self.b.ins().jump(join, &[]);
            self.b.switch_to_block(not_this);
        }
        self.b.ins().jump(e, &[]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
    }

    /// A call of `f` with `words` its first registers, made by the op at `pc` ([`Tr::call`]),
    /// its result to `d`; a `send`'s counts a hit at its site.
    fn call_words(&mut self, pc: usize, d: u16, f: u32, words: &[ir::Value], site: Option<u32>) {
        let caller_regs = self.prog.funcs[self.func as usize].regs as i64;
        let callee_regs = self.prog.funcs[f as usize].regs as i64;
        let argc = words.len() as i64;
        let (Op::Call { d: dst, .. } | Op::Send { d: dst, .. }) = self.orig[pc] else { unreachable!("a call") };
        let e = self.exit(pc, LEAVE);
        let Frame { ctx: ctxv, kmax, k, regs, cell, .. } = *self.fr();
        let budget = self.b.use_var(self.budget);
        let b = &mut self.b;
        let k1 = b.ins().iadd_imm_s(k, 1);
        // Each check its own branch: Cranelift lowers a compare and branch to two
        // instructions, but a conjunction of compares to a `set` and an `and` each.
        let check = |b: &mut FunctionBuilder, ok: ir::Value| {
            let next = b.create_block();
            b.ins().brif(ok, next, &[], e, &[]);
            b.seal_block(next);
            b.switch_to_block(next);
        };
        if !mutant!(tier2_call_skips_budget_check) {
            check(b, budget);
        }
        let frame_ok = b.ins().icmp(IntCC::UnsignedLessThan, k1, kmax);
        check(b, frame_ok);
        let end = b.ins().load(types::I64, TRUSTED, ctxv, ctx::REGS_END);
        let need = b.ins().iadd_imm_s(regs, (caller_regs + callee_regs + FILL_SLACK as i64) * 8);
        let room = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, need, end);
        check(b, room);
        // A whole function's call of itself calls its own code, there as long as it runs;
        // another function's code (or a loop's call of its own function) is the callee's
        // cell's `callee`, 0 until compiled and once given up.
        let (cellp, code) = if f == self.func && (self.whole || mutant!(tier2_loop_calls_itself_as_its_function)) {
            (cell, b.ins().load(types::I64, TRUSTED, cell, std::mem::offset_of!(Cell, code) as i32))
        } else {
            // A callee without code yet leaves before the call, and tier 1's calls make it hot;
            // meanwhile the entry does not count toward giving the region up for running few
            // laps an entry ([`SHORT_TRIP_ENTRIES`]): a loop whose every lap calls would be given
            // up before its callees are compiled (richards' scheduler). Nor does the outermost
            // region's entry when a region it called (at any depth) left so
            // (`JitCtx::pending_left`, taken at its exit): compiling on the running thread,
            // richards' methods were compiled before its scheduler loop, and the loop, whose
            // callees left for theirs still to compile, was given up. A callee that will never
            // have code (`Cell::gone`) is an op the region leaves before, and counts.
            let wholes = b.ins().load(types::I64, TRUSTED, ctxv, ctx::WHOLES);
            let cellp = b.ins().load(types::I64, TRUSTED, wholes, f as i32 * 8);
            let (found, pending, missing) = (b.create_block(), b.create_block(), b.create_block());
            b.set_cold_block(pending);
            b.set_cold_block(missing);
            b.ins().brif(cellp, found, &[], pending, &[]);
            b.seal_block(found);
            b.switch_to_block(found);
            let code = b.ins().load(types::I64, TRUSTED, cellp, std::mem::offset_of!(Cell, callee) as i32);
            let ready = b.create_block();
            b.ins().brif(code, ready, &[], missing, &[]);
            b.seal_block(missing);
            b.switch_to_block(missing);
            let gone = b.ins().load(types::I64, TRUSTED, cellp, std::mem::offset_of!(Cell, gone) as i32);
            b.ins().brif(gone, e, &[], pending, &[]);
            b.seal_block(pending);
            b.switch_to_block(pending);
            let off = std::mem::offset_of!(Cell, entries) as i32;
            let n = b.ins().load(types::I64, TRUSTED, cell, off);
            let n = b.ins().iadd_imm_s(n, -1);
            let called = self.fr().called;
            let b = &mut self.b;
            // (Entries are counted only when tier 1 calls.)
            let n0 = b.ins().iadd_imm_s(n, 1);
            let n = b.ins().select(called, n0, n);
            b.ins().store(TRUSTED, n, cell, off);
            let flag = b.ins().load(types::I64, TRUSTED, ctxv, ctx::PENDING_LEFT);
            let one = b.ins().iconst(types::I64, 1);
            let flag = b.ins().select(called, one, flag);
            b.ins().store(TRUSTED, flag, ctxv, ctx::PENDING_LEFT);
            b.ins().jump(e, &[]);
            b.seal_block(ready);
            b.switch_to_block(ready);
            (cellp, code)
        };
        for (i, &v) in words.iter().enumerate() {
            self.b.ins().store(TRUSTED, v, regs, ((caller_regs + i as i64) * 8) as i32);
        }
        if let Some(site) = site.filter(|_| !mutant!(tier2_send_counts_no_hit)) {
            let b = &mut self.b;
            let sites = b.ins().load(types::I64, TRUSTED, ctxv, ctx::IC_SITES);
            let at = super::x64::site_offset(site) + super::x64::SITE_HITS;
            let hits = b.ins().load(types::I64, TRUSTED, sites, at);
            let hits = b.ins().iadd_imm_s(hits, 1);
            b.ins().store(TRUSTED, hits, sites, at);
        }
        // The callee's other registers are nil; only those it reads before writing them are
        // cleared here, its exits write the rest ([`Tr::leave_called`]).
        let callee_live = liveness(self.prog, &unfused(&self.prog.funcs[f as usize].code)).swap_remove(0);
        let b = &mut self.b;
        let nil = b.ins().iconst(types::I64, 0);
        for j in argc..callee_regs {
            if callee_live.get(j as usize).copied().unwrap_or(false) {
                b.ins().store(TRUSTED, nil, regs, ((caller_regs + j) * 8) as i32);
            }
        }
        let spent = b.ins().iadd_imm_s(budget, -1);
        b.def_var(self.budget, spent);
        let c = b.use_var(self.calls);
        let c = b.ins().iadd_imm_s(c, 1);
        b.def_var(self.calls, c);
        let window = b.ins().iadd_imm_s(regs, caller_regs * 8);
        let sig = self.sig.expect("a region with a call has the calls' signature");
        let call = b.ins().call_indirect(sig, code, &[ctxv, cellp, kmax, window, k1, spent]);
        let (value, status) = (b.inst_results(call)[0], b.inst_results(call)[1]);
        let left = b.ins().icmp_imm_s(IntCC::Equal, value, LEFT);
        let (gone, back) = (b.create_block(), b.create_block());
        b.set_cold_block(gone);
        b.ins().brif(left, gone, &[], back, &[]);
        b.seal_block(gone);
        b.seal_block(back);
        b.switch_to_block(gone);
        let frames = b.ins().load(types::I64, TRUSTED, ctxv, ctx::FRAMES);
        let at = b.ins().ishl_imm_u(k1, 4);
        let rec = b.ins().iadd(frames, at);
        let dst = b.ins().iconst(types::I16, i64::from(dst));
        if !mutant!(tier2_callee_dst_unwritten) {
            b.ins().store(TRUSTED, dst, rec, 12);
        }
        b.def_var(self.inner, status);
        let e = self.exit(pc, CALLED);
        self.b.ins().jump(e, &[]);
        self.b.switch_to_block(back);
        let b = &mut self.b;
        b.def_var(self.budget, status);
        let u = b.use_var(self.untaken);
        let u = b.ins().iadd_imm_s(u, 1);
        b.def_var(self.untaken, u);
        let next = b.ins().iconst(types::I64, pc as i64 + 1);
        b.def_var(self.seg, next);
        self.def(d, value);
    }

    /// `new d, class` as tier 1's inline `new` does it (`x64.rs`, `new_object`; `Heap::alloc`'s
    /// fast path): leaves before the op when the allocation would reach the collection
    /// threshold (the interpreter allocates and requests the collection, which runs at a
    /// safepoint once the regions have left) or the size class has neither a free cell nor room
    /// in its chunk, and for an object too large for the size classes; else takes the free
    /// list's first cell or bumps the pointer, counts the bytes, and writes the header and the
    /// heap's tag (the running transaction's under the STM). The fields are nil already.
    fn new_object(&mut self, pc: usize, d: u16, class: u32) {
        use crate::heap::layout;
        let e = self.exit(pc, LEAVE);
        let words = HEADER_WORDS + self.prog.nfields[class as usize] as usize;
        let Some((c, size)) = crate::heap::small_class(words) else {
            self.b.ins().jump(e, &[]);
            let dead = self.b.create_block();
            self.b.switch_to_block(dead);
            self.b.seal_block(dead);
            let nil = self.b.ins().iconst(types::I64, 0);
            self.def(d, nil);
            return;
        };
        let ctxv = self.fr().ctx;
        let b = &mut self.b;
        let heap = b.ins().load(types::I64, TRUSTED, ctxv, ctx::HEAP);
        let since = b.ins().load(types::I64, TRUSTED, heap, layout::BYTES_SINCE_GC as i32);
        let since = b.ins().iadd_imm_s(since, (words * 8) as i64);
        let threshold = b.ins().load(types::I64, TRUSTED, heap, layout::THRESHOLD as i32);
        let below = b.ins().icmp(IntCC::UnsignedLessThan, since, threshold);
        let below = if mutant!(tier2_new_skips_gc_threshold) { b.ins().iconst(types::I8, 1) } else { below };
        let (fits, popped, bump, got) = (b.create_block(), b.create_block(), b.create_block(), b.create_block());
        let cellp = b.append_block_param(got, types::I64);
        b.ins().brif(below, fits, &[], e, &[]);
        b.seal_block(fits);
        b.switch_to_block(fits);
        let free_at = (layout::FREE + c * 8) as i32;
        let head = b.ins().load(types::I64, TRUSTED, heap, free_at);
        b.ins().brif(head, popped, &[], bump, &[]);
        b.seal_block(popped);
        b.seal_block(bump);
        b.switch_to_block(popped);
        let next = b.ins().load(types::I64, TRUSTED, head, 8);
        b.ins().store(TRUSTED, next, heap, free_at);
        b.ins().jump(got, &[head.into()]);
        b.switch_to_block(bump);
        // (No chunk yet: both pointers are null, and null + size is past the end.)
        let cur_at = (layout::BUMP + c * layout::BUMP_PAIR + layout::BUMP_CUR) as i32;
        let end_at = (layout::BUMP + c * layout::BUMP_PAIR + layout::BUMP_END) as i32;
        let cur = b.ins().load(types::I64, TRUSTED, heap, cur_at);
        let after = b.ins().iadd_imm_s(cur, (size * 8) as i64);
        let end = b.ins().load(types::I64, TRUSTED, heap, end_at);
        let room = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, after, end);
        let take = b.create_block();
        b.ins().brif(room, take, &[], e, &[]);
        b.seal_block(take);
        b.switch_to_block(take);
        b.ins().store(TRUSTED, after, heap, cur_at);
        b.ins().jump(got, &[cur.into()]);
        b.seal_block(got);
        b.switch_to_block(got);
        b.ins().store(TRUSTED, since, heap, layout::BYTES_SINCE_GC as i32);
        let tag = b.ins().load(types::I64, TRUSTED, heap, layout::TAG as i32);
        b.ins().store(TRUSTED, tag, cellp, 8);
        let header = b.ins().iconst(types::I64, (i64::from(class) << 32) | KIND_OBJECT);
        b.ins().store(TRUSTED, header, cellp, 0);
        self.def(d, cellp);
    }

    /// `and`, `or` or `xor` of two words (`interp::arith`): of two ints, the machine op on the
    /// words (an `xor` tagged again); of two bools, the bool; of anything else, the region
    /// leaves (a failed guess: the interpreter traps on an int beside a bool).
    fn logic(&mut self, pc: usize, op: Op, d: u16, a: u16, b: u16) {
        const _: () = assert!(TRUE == 0x12 && FALSE == 0x0a);
        let (x, y) = (self.word_of(a), self.word_of(b));
        let b = &mut self.b;
        // Two bools: `x ^ false` and `y ^ false` both within bit 4 (`true ^ false`), in one test.
        let (fx, fy) = (b.ins().bxor_imm_u(x, FALSE as i64), b.ins().bxor_imm_u(y, FALSE as i64));
        let f = b.ins().bor(fx, fy);
        let f = b.ins().band_imm_u(f, !0x18);
        let bools = b.ins().icmp_imm_u(IntCC::Equal, f, 0);
        let both = b.ins().band(x, y);
        let ints = b.ins().band_imm_u(both, 1);
        let ints = b.ins().icmp_imm_u(IntCC::NotEqual, ints, 0);
        // The op on the words themselves: two ints' result (`xor` tagged again); for two bools,
        // bit 4 (set in `true` alone) is the result's truth, which `false + 8` makes `true`.
        let (raw, int) = match op {
            Op::And { .. } => (both, both),
            Op::Or { .. } => {
                let r = b.ins().bor(x, y);
                (r, r)
            }
            _ => {
                let r = b.ins().bxor(x, y);
                let int = if mutant!(tier2_logic_xor_untagged) { r } else { b.ins().bor_imm_u(r, 1) };
                (r, int)
            }
        };
        let truth = b.ins().ushr_imm_u(raw, 1);
        let truth = b.ins().band_imm_u(truth, 8);
        // (Added, not or-ed: `false` has bit 3 set already.)
        let boolean = if mutant!(tier2_logic_truth_ored) {
            b.ins().bor_imm_u(truth, FALSE as i64)
        } else {
            b.ins().iadd_imm_s(truth, FALSE as i64)
        };
        let r = b.ins().select(ints, int, boolean);
        let ok = b.ins().bor(ints, bools);
        self.guard(ok, pc, OPERAND);
        self.def(d, r);
    }

    /// Whether word `w` is `true` or `false` (an i8).
    fn is_bool(&mut self, w: ir::Value) -> ir::Value {
        const _: () = assert!(FALSE ^ TRUE == 0x18);
        let b = &mut self.b;
        let v = b.ins().bxor_imm_u(w, FALSE as i64);
        let v = b.ins().band_imm_u(v, !0x18);
        b.ins().icmp_imm_u(IntCC::Equal, v, 0)
    }

    /// `not d, a`: an int's complement (on `i << 3`, `x ^ !7`), or a bool's negation; a word of
    /// another kind leaves (a failed guess).
    fn not(&mut self, pc: usize, d: u16, a: u16) {
        if self.rep[a as usize] == Some(Rep::I) {
            let x = self.b.use_var(self.var(a));
            let r = self.b.ins().bxor_imm_u(x, !7);
            self.def_int(d, r);
            return;
        }
        let w = self.word_of(a);
        let bool_ok = self.is_bool(w);
        let b = &mut self.b;
        let int = b.ins().bxor_imm_u(w, !7);
        let negated = b.ins().bxor_imm_u(w, (TRUE ^ FALSE) as i64);
        let tag = b.ins().band_imm_u(w, 1);
        let is_int = b.ins().icmp_imm_u(IntCC::NotEqual, tag, 0);
        let r = b.ins().select(is_int, int, negated);
        let ok = b.ins().bor(is_int, bool_ok);
        self.guard(ok, pc, OPERAND);
        self.def(d, r);
    }

    fn op(&mut self, pc: usize, stress: bool) {
        let op = self.code[pc];
        if stress {
            let e = self.exit(pc, LEAVE);
            self.b.ins().jump(e, &[]);
            return;
        }
        match op {
            Op::Nop => {}
            // A whole function called by a region returns to it ([`Tr::ret`]).
            Op::Ret { s } if self.whole => {
                self.ret(pc, s);
                return;
            }
            Op::Call { d, argc, f, args } => self.call(pc, d, argc, f, args),
            Op::Send { d, recv, argc, site, args } => self.send(pc, d, recv, argc, site, args),
            Op::New { d, class } => self.new_object(pc, d, class),
            // The region leaves before a return, which tier 1 does (the caller's code is not
            // the region's), and before an op it does not translate ([`left_before`]).
            Op::Ret { .. } | Op::Trap { .. } => {
                let skip = mutant!(tier2_left_op_skipped) && matches!(op, Op::Trap { .. });
                let e = self.exit(if skip { pc + 1 } else { pc }, LEAVE);
                self.b.ins().jump(e, &[]);
                return;
            }
            Op::Ld { d, v } => {
                let x = match self.rep[d as usize] {
                    Some(Rep::F) => self.b.ins().f64const(decode_float(v)),
                    Some(Rep::I) => self.b.ins().iconst(types::I64, (v ^ 1) as i64),
                    _ => self.b.ins().iconst(types::I64, v as i64),
                };
                self.def(d, x);
            }
            Op::Mov { d, s } => {
                let v = self.b.use_var(self.var(s));
                // `representations` admits a move only into its own representation or a word.
                let v = match (self.rep[s as usize], self.rep[d as usize]) {
                    (Some(Rep::F), Some(Rep::W)) => self.word_of(s),
                    (Some(Rep::I), Some(Rep::W)) => self.b.ins().bor_imm_u(v, 1),
                    _ => v,
                };
                self.def(d, v);
            }
            Op::Add { d, a, b } | Op::Sub { d, a, b } | Op::Mul { d, a, b } => {
                if arith_guess(self.rep[a as usize], self.rep[b as usize], pc, self.int_ops) == Rep::F {
                    let (x, y) = (self.float_of(pc, a), self.float_of(pc, b));
                    let r = match op {
                        Op::Add { .. } => self.b.ins().fadd(x, y),
                        Op::Sub { .. } => self.b.ins().fsub(x, y),
                        _ => self.b.ins().fmul(x, y),
                    };
                    self.def_float(pc, d, r);
                } else {
                    let x = self.int_of(pc, a);
                    let y = self.int_of(pc, b);
                    // On `i << 3` ([`Rep::I`]), the i64 operation overflows exactly when the
                    // 61-bit one does; a product takes one operand unshifted.
                    // A counted loop's step cannot overflow: the entry tested its bound.
                    let counted = self.steps.iter().any(|s| s.pc == pc);
                    let (r, of) = match op {
                        Op::Add { .. } if counted => (self.b.ins().iadd(x, y), None),
                        Op::Sub { .. } if counted => (self.b.ins().isub(x, y), None),
                        Op::Add { .. } => {
                            let (r, of) = self.b.ins().sadd_overflow(x, y);
                            (r, Some(of))
                        }
                        Op::Sub { .. } => {
                            let (r, of) = self.b.ins().ssub_overflow(x, y);
                            (r, Some(of))
                        }
                        _ => {
                            let y1 = self.b.ins().sshr_imm_u(y, 3);
                            let (r, of) = self.b.ins().smul_overflow(x, y1);
                            (r, Some(of))
                        }
                    };
                    if let Some(of) = of.filter(|_| !mutant!(tier2_int_skips_overflow_check)) {
                        match self.undo(op, r, x, y) {
                            Some((web, old)) => self.guard_not_undoing(of, pc, web, old),
                            None => self.guard_not(of, pc, OVERFLOW),
                        }
                    }
                    self.def_int(d, r);
                }
            }
            // Two ints ([value.int-div]): on `i << 3`, `sdiv(8a, 8b)` is `a / b` truncated, and
            // the divisor is never -1 (the machine's one overflow); the quotient leaves the
            // SmallInts only for the least one over -1 (an overflow exit: the interpreter boxes
            // 2^60). A divisor of 0 leaves for the interpreter's trap.
            Op::Div { d, a, b } if div_int(self.rep[a as usize], self.rep[b as usize], pc, self.int_ops) => {
                let (x, y) = if mutant!(tier2_int_div_guess_unchecked) && self.rep[a as usize] == Some(Rep::W) {
                    let v = self.b.use_var(self.var(a));
                    (self.b.ins().bxor_imm_u(v, 1), self.int_of(pc, b))
                } else {
                    (self.int_of(pc, a), self.int_of(pc, b))
                };
                let nonzero = self.b.ins().icmp_imm_u(IntCC::NotEqual, y, 0);
                self.guard(nonzero, pc, LEAVE);
                let q = self.b.ins().sdiv(x, y);
                let r = self.b.ins().ishl_imm_u(q, 3);
                if !mutant!(tier2_int_div_unchecked) {
                    let back = self.b.ins().sshr_imm_u(r, 3);
                    let bad = self.b.ins().icmp(IntCC::NotEqual, back, q);
                    self.guard_not(bad, pc, OVERFLOW);
                }
                self.def_int(d, r);
            }
            Op::Div { d, a, b } => {
                let (x, y) = (self.float_of(pc, a), self.float_of(pc, b));
                let r = self.b.ins().fdiv(x, y);
                self.def_float(pc, d, r);
            }
            // On `i << 3`: `srem(8a, 8b)` is `8 * srem(a, b)`, which fits (its magnitude is less
            // than `b`'s), and the divisor is never -1 (the machine's one overflow). A divisor
            // of 0 leaves for the interpreter's trap ([exec.arith]).
            Op::Rem { d, a, b } => {
                let (x, y) = (self.int_of(pc, a), self.int_of(pc, b));
                let nonzero = self.b.ins().icmp_imm_u(IntCC::NotEqual, y, 0);
                self.guard(nonzero, pc, LEAVE);
                let r = if mutant!(tier2_rem_unsigned) { self.b.ins().urem(x, y) } else { self.b.ins().srem(x, y) };
                self.def_int(d, r);
            }
            // [exec.neg]: a float's sign flipped (its encoding's range is symmetric), or an
            // int's negation, which overflows only for the least SmallInt.
            Op::Neg { d, a } => {
                if arith_guess(self.rep[a as usize], self.rep[a as usize], pc, self.int_ops) == Rep::F {
                    let x = self.float_of(pc, a);
                    let r = self.b.ins().fneg(x);
                    self.def_float(pc, d, r);
                } else {
                    let x = self.int_of(pc, a);
                    let zero = self.b.ins().iconst(types::I64, 0);
                    let (r, of) = self.b.ins().ssub_overflow(zero, x);
                    self.guard_not(of, pc, OVERFLOW);
                    self.def_int(d, r);
                }
            }
            // [value.itof]: exact for every SmallInt (61 bits round to a double, whose
            // exponent is at most 2^60).
            Op::IToF { d, a } => {
                let x = self.int_of(pc, a);
                let i = self.b.ins().sshr_imm_u(x, 3);
                let r = self.b.ins().fcvt_from_sint(types::F64, i);
                self.def_float(pc, d, r);
            }
            // [value.ftoi]: truncation toward zero. Only for -2^60 <= f < 2^60, whose
            // truncation is a SmallInt (and which Cranelift's trapping conversion takes); else,
            // NaN included, the op leaves for the interpreter, which boxes a larger int or
            // traps `invalid_conversion`.
            Op::FToI { d, a } => {
                let x = self.float_of(pc, a);
                let lo = self.b.ins().f64const(-((1u64 << 60) as f64));
                let hi = self.b.ins().f64const((1u64 << 60) as f64);
                let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, lo);
                let below = if mutant!(tier2_ftoi_range_inclusive) {
                    self.b.ins().fcmp(FloatCC::LessThanOrEqual, x, hi)
                } else {
                    self.b.ins().fcmp(FloatCC::LessThan, x, hi)
                };
                let inside = self.b.ins().band(above, below);
                self.guard(inside, pc, LEAVE);
                let i = self.b.ins().fcvt_to_sint(types::I64, x);
                let r = self.b.ins().ishl_imm_u(i, 3);
                self.def_int(d, r);
            }
            Op::And { d, a, b } | Op::Or { d, a, b } | Op::Xor { d, a, b } if self.rep[d as usize] == Some(Rep::W) => {
                self.logic(pc, op, d, a, b);
            }
            Op::Not { d, a } => self.not(pc, d, a),
            // On `i << 3`, `and`, `or` and `xor` are the machine ops (the low bits stay 0).
            Op::And { d, a, b } | Op::Or { d, a, b } | Op::Xor { d, a, b } => {
                let (x, y) = (self.int_of(pc, a), self.int_of(pc, b));
                let r = match op {
                    Op::And { .. } => self.b.ins().band(x, y),
                    Op::Or { .. } => self.b.ins().bor(x, y),
                    _ => self.b.ins().bxor(x, y),
                };
                self.def_int(d, r);
            }
            // Shifts on the ints themselves, by the amount mod 64 ([value.shift]: Cranelift's
            // shifts take the amount mod the width). `shl`, and `ushr` of a negative int, may
            // need more than 61 bits: then the op leaves, as an overflow, for the interpreter
            // to box the result.
            Op::Shl { d, a, b } | Op::Shr { d, a, b } | Op::UShr { d, a, b } => {
                let (x, y) = (self.int_of(pc, a), self.int_of(pc, b));
                let (x, k) = (self.b.ins().sshr_imm_u(x, 3), self.b.ins().sshr_imm_u(y, 3));
                let r = match op {
                    Op::Shl { .. } => self.b.ins().ishl(x, k),
                    Op::Shr { .. } => self.b.ins().sshr(x, k),
                    _ if mutant!(tier2_ushr_keeps_the_sign) => self.b.ins().sshr(x, k),
                    _ => self.b.ins().ushr(x, k),
                };
                let scaled = self.b.ins().ishl_imm_u(r, 3);
                if !matches!(op, Op::Shr { .. }) {
                    let back = self.b.ins().sshr_imm_u(scaled, 3);
                    let bad = self.b.ins().icmp(IntCC::NotEqual, back, r);
                    self.guard_not(bad, pc, OVERFLOW);
                }
                self.def_int(d, scaled);
            }
            Op::Lt { d, a, b }
            | Op::Le { d, a, b }
            | Op::Gt { d, a, b }
            | Op::Ge { d, a, b }
            | Op::Eq { d, a, b }
            | Op::Ne { d, a, b } => {
                let equality = matches!(op, Op::Eq { .. } | Op::Ne { .. });
                let k = compare_rep(self.rep[a as usize], self.rep[b as usize], equality);
                let float = k == Rep::F;
                let (x, y) = match k {
                    Rep::F => (self.float_of(pc, a), self.float_of(pc, b)),
                    Rep::I => (self.int_of(pc, a), self.int_of(pc, b)),
                    Rep::W => {
                        // Two words are equal exactly when they are the same word if one is
                        // `nil` (`ops::equal`: nil is neither a number nor a string); other
                        // words (numbers, strings) leave for the interpreter.
                        let (x, y) = (self.b.use_var(self.var(a)), self.b.use_var(self.var(b)));
                        let x0 = self.b.ins().icmp_imm_u(IntCC::Equal, x, 0);
                        let y0 = self.b.ins().icmp_imm_u(IntCC::Equal, y, 0);
                        let nil = self.b.ins().bor(x0, y0);
                        self.guard(nil, pc, OPERAND);
                        (x, y)
                    }
                };
                let c = if float {
                    let cc = match op {
                        Op::Lt { .. } => FloatCC::LessThan,
                        Op::Le { .. } => FloatCC::LessThanOrEqual,
                        Op::Gt { .. } => FloatCC::GreaterThan,
                        Op::Ge { .. } => FloatCC::GreaterThanOrEqual,
                        Op::Eq { .. } => FloatCC::Equal,
                        _ => FloatCC::NotEqual,
                    };
                    self.b.ins().fcmp(cc, x, y)
                } else {
                    let cc = match op {
                        Op::Lt { .. } => IntCC::SignedLessThan,
                        Op::Le { .. } => IntCC::SignedLessThanOrEqual,
                        Op::Gt { .. } => IntCC::SignedGreaterThan,
                        Op::Ge { .. } => IntCC::SignedGreaterThanOrEqual,
                        Op::Eq { .. } => IntCC::Equal,
                        _ => IntCC::NotEqual,
                    };
                    self.b.ins().icmp(cc, x, y)
                };
                let t = self.b.ins().iconst(types::I64, TRUE as i64);
                let f = self.b.ins().iconst(types::I64, FALSE as i64);
                let w = self.b.ins().select(c, t, f);
                self.def(d, w);
                self.completed();
                // Kept for a conditional jump on `d` next in this block (`translate` forgets it
                // at every block's start).
                self.last_cmp = Some((d, c));
                return;
            }
            Op::Jmp { t } | Op::JmpBack { t } => {
                self.edge(pc, t as usize, matches!(op, Op::JmpBack { .. }), true);
            }
            Op::JmpIf { c, t } | Op::JmpIfBack { c, t } | Op::JmpIfNot { c, t } | Op::JmpIfNotBack { c, t } => {
                let on = matches!(op, Op::JmpIf { .. } | Op::JmpIfBack { .. });
                let back = matches!(op, Op::JmpIfBack { .. } | Op::JmpIfNotBack { .. });
                let cond = match self.last_cmp.take() {
                    Some((r, cnd)) if r == c => cnd,
                    _ => {
                        // Any word: true, false, or the type error the interpreter raises.
                        let w = self.b.use_var(self.var(c));
                        let is_t = self.b.ins().icmp_imm_s(IntCC::Equal, w, TRUE as i64);
                        let is_f = self.b.ins().icmp_imm_s(IntCC::Equal, w, FALSE as i64);
                        let either = self.b.ins().bor(is_t, is_f);
                        self.guard(either, pc, LEAVE);
                        is_t
                    }
                };
                let taken_blk = self.b.create_block();
                let not_blk = self.b.create_block();
                // The way that stays in the loop second ([`Tr::branch_main`]): the fall
                // through of a forward jump (a loop's test at its header, an exit from its
                // body), the target of a backward one.
                let taken = if on { cond } else { self.negated(cond) };
                if back {
                    self.branch_main(taken, taken_blk, &[], not_blk, &[]);
                } else {
                    self.b.ins().brif(taken, taken_blk, &[], not_blk, &[]);
                }
                self.b.seal_block(taken_blk);
                self.b.seal_block(not_blk);
                self.b.switch_to_block(taken_blk);
                self.edge(pc, t as usize, back, true);
                self.b.switch_to_block(not_blk);
                self.edge(pc, pc + 1, back, false);
            }
            Op::Sqrt { d, a } => {
                let x = self.float_of(pc, a);
                let r = self.b.ins().sqrt(x);
                self.def_float(pc, d, r);
            }
            Op::GetF { d, o, slot, class } => {
                let obj = self.object_of_class(pc, o, class);
                let v = match self.lifted_words.get(&pc) {
                    Some(&w) => w,
                    None => self.load_field(pc, obj, HEADER_WORDS + slot as usize),
                };
                self.def(d, v);
                // The double of a carried field, for the ops that take `d` as one while it
                // holds this word (its one definition, so this op is on every path to them).
                let carried = self.carried(o, slot).map(|c| (c.4, c.5));
                let one_def = || (self.h..=self.end).filter(|&q| writes(&self.code[q]) == Some(d)).count() == 1;
                if let Some((var, off)) = carried.filter(|_| !self.webs.entry[d as usize] && one_def()) {
                    let f = self.b.use_var(var);
                    self.fwd_floats.insert(d, (f, off));
                    // Heap words are plain: the word is one load, which no exit may need.
                    self.carried_loads.push(self.b.func.dfg.value_def(v).unwrap_inst());
                }
            }
            Op::SetF { o, s, slot, class } => {
                let obj = self.object_of_class(pc, o, class);
                // A store that may write a carried field of another object: only when it is
                // not that object (a failed guess otherwise, counted at this op).
                let others: Vec<u16> = self
                    .fwd_vars
                    .iter()
                    .filter(|c| c.0 <= pc && pc <= c.1 && c.3 == slot && c.2 != o)
                    .map(|c| c.2)
                    .collect();
                for other in others {
                    if self.distinct.contains(&(o, other)) || mutant!(tier2_carried_field_aliased) {
                        continue;
                    }
                    let (p, q) = (self.b.use_var(self.var(o)), self.b.use_var(self.var(other)));
                    let ne = self.b.ins().icmp(IntCC::NotEqual, p, q);
                    self.guard(ne, pc, ALIAS);
                    self.distinct.push((o, other));
                }
                let v = self.word_of(s);
                self.store_field(obj, HEADER_WORDS + slot as usize, v, pc);
                if let Some(&(.., var, _)) = self.carried(o, slot) {
                    let f = self.b.use_var(self.var(s));
                    self.b.def_var(var, f);
                }
            }
            Op::AGet { d, a, i } => {
                let arr = self.array_of(pc, a);
                let i = self.int_of(pc, i);
                let v = self.element(pc, arr, i, None);
                self.def(d, v);
            }
            Op::ASet { a, i, s } => {
                let arr = self.array_of(pc, a);
                let i = self.int_of(pc, i);
                let v = self.word_of(s);
                self.element(pc, arr, i, Some(v));
            }
            Op::ALen { d, a } => {
                let arr = self.array_of(pc, a);
                let len = self.array_len(pc, arr);
                let v = self.b.ins().ishl_imm_u(len, 3);
                self.def_int(d, v);
            }
            _ => unreachable!("representations() admits only the ops above"),
        }
        if jump(&op).is_none() {
            self.completed();
        }
        self.last_cmp = None;
    }
}

/// `live`: [`liveness`] of `orig`, which `compile` computed for the webs.
#[allow(clippy::too_many_arguments)]
fn translate(
    prog: &Program,
    orig: &[Op],
    live: Vec<Vec<bool>>,
    webs: &Webs,
    rep: &[Option<Rep>],
    live_h: &[bool],
    live_w: &[bool],
    target: &Target,
    int_ops: &[usize],
    steps: &[Step],
    consts: &[Option<Value>],
    lifts: Vec<Lift>,
) -> Result<Translated, String> {
    let Target { func, h, end, stress, .. } = *target;
    let code = &webs.code[..];
    let isa = isa().ok_or("no Cranelift target for this machine")?;
    let mut cx = cranelift_codegen::Context::new();
    // (ctx, cell, depth, regs, k, budget) -> (pc or word, status): see [`Tr::call`].
    let mut sig = ir::Signature::new(CallConv::SystemV);
    for _ in 0..6 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.returns.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I64));
    cx.func.signature = sig.clone();
    let mut fcx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut cx.func, &mut fcx);
    let has_calls = code[h..=end].iter().any(|op| matches!(op, Op::Call { .. } | Op::Send { .. }));
    let sig = has_calls.then(|| b.import_signature(sig));
    let vars: Vec<Option<Variable>> =
        rep.iter().map(|k| k.map(|k| b.declare_var(if k == Rep::F { types::F64 } else { types::I64 }))).collect();
    let nregs = live_h.len();
    let mut written_bit = vec![None; nregs];
    let mut nbits = 0;
    for r in 0..nregs {
        if !live_h[r] && orig[h..=end].iter().any(|op| writes(op) == Some(r as u16)) {
            if nbits == 64 {
                return Err("more than 64 registers written and not live at the header".into());
            }
            written_bit[r] = Some(nbits);
            nbits += 1;
        }
    }
    let mut float_bit = vec![None; nregs];
    let mut nfloats = 0;
    for (web, &r) in webs.reg.iter().enumerate() {
        let r = r as usize;
        if rep[web] == Some(Rep::F)
            && float_bit[r].is_none()
            && orig[h..=end].iter().any(|op| writes(op) == Some(r as u16))
        {
            if nfloats == 64 {
                return Err("more than 64 registers written as doubles".into());
            }
            float_bit[r] = Some(nfloats);
            nfloats += 1;
        }
    }
    let wr = written_before(orig, h, end, &written_bit);
    // An exit after an op may add its write to `must` and `may` alike, so the points' own sets
    // bound what any exit asks the mask.
    let dynamic = wr.may.iter().zip(&wr.fresh).fold(0, |acc, (may, fresh)| acc | (may & !fresh)) & !wr.every_lap;
    let written = if dynamic != 0 { Some(b.declare_var(types::I64)) } else { None };
    let budget = b.declare_var(types::I64);
    let untaken = b.declare_var(types::I64);
    let calls = b.declare_var(types::I64);
    let inner = b.declare_var(types::I64);
    let icount = if target.count { Some(b.declare_var(types::I64)) } else { None };
    let seg = b.declare_var(types::I64);
    // What each backward jump sets the segment start to: its target when taken, the next op
    // when not.
    let mut segs: Vec<usize> = Vec::new();
    for (pc, op) in code.iter().enumerate().take(end + 1).skip(h) {
        if let Some((to, true, cond)) = jump(op) {
            segs.push(to);
            if cond {
                segs.push(pc + 1);
            }
        }
    }
    segs.sort_unstable();
    segs.dedup();
    // After a call, the segment starts after it (the callee's return).
    let seg_only = if segs.len() == 1 && !has_calls { Some(segs[0] as i64) } else { None };
    let mut t = Tr {
        b,
        prog,
        plain: target.plain,
        int_ops,
        steps,
        func,
        code,
        orig,
        webs,
        h,
        end,
        whole: target.whole,
        rep,
        live_w,
        consts,
        vars,
        written,
        pending: 0,
        dynamic,
        written_bit,
        float_bit,
        wr,
        cur: h,
        budget,
        untaken,
        calls,
        inner,
        has_calls,
        sig,
        seg,
        seg_only,
        blocks: HashMap::new(),
        exits: HashMap::new(),
        f: None,
        last_cmp: None,
        checked: Vec::new(),
        doms: HashMap::new(),
        invariant: Vec::new(),
        end_facts: HashMap::new(),
        words: Vec::new(),
        forced: target.forced,
        next_guard: 0,
        icount,
        live,
        lifts,
        seg_loops: Vec::new(),
        lap_slot: None,
        bodies: HashMap::new(),
        lifted_cells: Vec::new(),
        lifted_floats: HashMap::new(),
        lifted_words: HashMap::new(),
        carried_loads: Vec::new(),
        fwd_vars: Vec::new(),
        fwd_floats: HashMap::new(),
        distinct: Vec::new(),
    };
    // Blocks begin at the header, at every jump target inside the region and after every jump.
    t.block(h);
    for (pc, op) in code.iter().enumerate().take(end + 1).skip(h) {
        if let Some((to, _, _)) = jump(op) {
            if (h..=end).contains(&to) {
                t.block(to);
            }
            if pc < end {
                t.block(pc + 1);
            }
        }
    }
    // The loops whose laps keep no segment start, each with a preheader to note the budget in
    // (an empty [`Lift`] where it has nothing to lift).
    if t.seg_only.is_none() {
        for (lh, le) in seg_loops(code, h, end) {
            if t.lap_slot.is_none() {
                t.lap_slot =
                    Some(t.b.create_sized_stack_slot(ir::StackSlotData::new(ir::StackSlotKind::ExplicitSlot, 8, 3)));
            }
            t.seg_loops.push((lh, le));
            if !t.lifts.iter().any(|l| l.h == lh) {
                t.lifts.push(Lift { h: lh, e: le, cells: Vec::new(), loads: Vec::new(), fwd: Vec::new() });
            }
        }
    }
    // The loops whose preheader tests a counted step ([`Step::pre`]), an empty [`Lift`] where
    // nothing is lifted.
    for st in steps {
        if let Some(lh) = st.pre {
            if !t.lifts.iter().any(|l| l.h == lh) {
                let le = loops(code).into_iter().find(|l| l.0 == lh).map_or(lh, |l| l.1);
                t.lifts.push(Lift { h: lh, e: le, cells: Vec::new(), loads: Vec::new(), fwd: Vec::new() });
            }
        }
    }
    let stressed = |pc: usize| stress.is_some_and(|seed| stress_exit(seed ^ 0x0074_6965_7232, func, pc));
    let mut starts: Vec<usize> = t.blocks.keys().copied().collect();
    starts.sort_unstable();
    t.doms = dominators(code, h, end, &starts);
    t.invariant = vec![true; webs.reg.len()];
    for op in &code[h..=end] {
        if let Some(w) = writes(op) {
            t.invariant[w as usize] = false;
        }
    }
    t.entry();
    let mut open = false;
    // The block being translated, by its first op (`None`: ops after one that always leaves).
    let mut cur_block = None;
    for (pc, op) in code.iter().enumerate().take(end + 1).skip(h) {
        if let Some(&blk) = t.blocks.get(&pc) {
            if open {
                t.flush_written();
                t.b.ins().jump(blk, &[]);
            }
            t.b.switch_to_block(blk);
            t.last_cmp = None;
            t.pending = 0;
            t.forget_block_facts();
            t.inherit_facts(pc);
            cur_block = Some(pc);
        } else if !open {
            // After an op that always leaves (the stress mode's): the ops up to the next block
            // are unreachable, in a block of their own.
            let blk = t.b.create_block();
            t.b.switch_to_block(blk);
            t.last_cmp = None;
            t.pending = 0;
            t.forget_block_facts();
            cur_block = None;
        }
        if let Some(l) = t.lifts.iter().find(|l| l.h == pc).cloned() {
            t.preheader(&l);
            t.inherit_facts(pc);
        }
        let s = stressed(pc);
        t.cur = pc;
        t.op(pc, s);
        if let Some(start) = cur_block {
            t.keep_facts(start);
        }
        // Whether the block is still open: it falls through into the next op's code, or leaves
        // when that op is past the region.
        open = !(s || jump(op).is_some() || matches!(op, Op::Ret { .. } | Op::Trap { .. }));
        if open && pc == end {
            let e = t.exit(end + 1, LEAVE);
            t.b.ins().jump(e, &[]);
            open = false;
        }
    }
    t.exits();
    t.b.seal_all_blocks();
    let carried_loads = std::mem::take(&mut t.carried_loads);
    t.b.finalize(isa.frontend_config());
    drop_dead_loads(&mut cx.func, &carried_loads);
    let compiled = match cx.compile(&**isa, &mut Default::default()) {
        Ok(compiled) => compiled,
        // Only with `LOCKSTEP_VERIFY_CLIF` ([`isa`]): a function the verifier rejects is a bug
        // of this translator, which the suites must see rather than have the loop quietly stay
        // in tier 1 (a shard-2 mutant that mixed up the saved registers of an exit, since
        // removed, survived every suite that way). Other errors (a limit of Cranelift's) leave the loop to tier 1.
        Err(e) if matches!(e.inner, cranelift_codegen::CodegenError::Verifier(_)) => {
            // Written straight to the process's stderr: the panic, inside a call from compiled
            // code, aborts the process, and a test harness would swallow its message.
            let text =
                format!("tier 2 built a function Cranelift's verifier rejects: {:?}\n{}", e.inner, cx.func.display());
            let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
            panic!("{text}")
        }
        Err(e) => return Err(format!("{:?}", e.inner)),
    };
    if !compiled.buffer.relocs().is_empty() {
        return Err("relocations".into());
    }
    let bytes = compiled.code_buffer().to_vec();
    let clif = std::env::var_os("LOCKSTEP_TIER2_DUMP").map(|_| cx.func.display().to_string());
    Ok(Translated { bytes, clif })
}

/// A region's machine code, and its optimized CLIF when `LOCKSTEP_TIER2_DUMP` asks for it.
#[derive(Clone)]
struct Translated {
    bytes: Vec<u8>,
    clif: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::loop_plan::Fwd;
    use super::*;

    fn prog(src: &str) -> Program {
        let m = lockstep_spec::asm::assemble(src, "t.lsa").expect("assembles");
        let v = lockstep_spec::verify::verify(m.module).expect("verifies");
        let mut heap = crate::heap::Heap::new(1 << 20, 1 << 20);
        crate::code::predecode(&v, &mut heap).expect("predecodes")
    }

    #[test]
    fn a_float_loop_is_a_region_with_unboxed_floats() {
        let p = prog(
            "func main() {\n local i, n, x, y, t, one\n ldi one, 1\n ldi i, 0\n ldi n, 10\n ldk x, 1.5\n ldk y, 0.5\nloop:\n lt t, i, n\n jmpifnot t, done\n mul x, x, y\n add i, i, one\n jmp loop\ndone:\n ret x\n}\n",
        );
        let code = unfused(&p.funcs[0].code);
        let l = loops(&code);
        assert_eq!(l.len(), 1);
        let (h, end) = l[0];
        let live = liveness(&p, &code);
        // The values of i, n, x, y, t, one when the loop is entered.
        let values = [
            crate::value::small_int(0).unwrap(),
            crate::value::small_int(10).unwrap(),
            crate::value::encode_float(1.5).unwrap(),
            crate::value::encode_float(0.5).unwrap(),
            crate::value::FALSE,
            crate::value::small_int(1).unwrap(),
        ];
        let reps =
            representations(&code, h, end, &live[h], &observed(&live[h], |r| values[r]), &[]).expect("translatable");
        assert!(reps.contains(&Some(Rep::F)) && reps.contains(&Some(Rep::I)), "{reps:?}");
        let p = Arc::new(p);
        let cell = Cell::new(p.clone(), 0, 0, h, end, None, true, true);
        compile(&p, &code, &cell.target(), &live[h], &observed(&live[h], |r| values[r]), &[], &[]).expect("compiles");
        // The loop's region, and the whole function's (every op of it translates): first, at 0.
        let rs = regions(&p, 0, Policy { stress: None, eager: false, background: false }, false, true);
        assert_eq!(rs.iter().map(|(h, r)| (*h, r.whole())).collect::<Vec<_>>(), [(0, true), (h, false)]);
    }

    /// Which functions are a region as a whole: every op translated, and no jump back to op 0
    /// (a loop whose header is op 0 is only the loop's region).
    #[test]
    fn a_function_is_a_region_when_it_has_a_loop_and_every_op_translates() {
        let wholes = |body: &str| {
            let p = Arc::new(prog(&format!("func main() {{\n local i, n, t, one\n{body}\n}}\n")));
            let rs = regions(&p, 0, Policy { stress: None, eager: false, background: false }, false, true);
            (rs.iter().filter(|(_, r)| r.whole()).count(), rs.len())
        };
        let counted = " ldi i, 0\n ldi n, 10\n ldi one, 1\nloop:\n lt t, i, n\n jmpifnot t, done\n add i, i, one\n jmp loop\ndone:\n";
        assert_eq!(wholes(&format!("{counted} ret i")), (1, 2));
        // An op tier 2 does not translate, outside the loop: the loop alone.
        assert_eq!(wholes(&format!("{counted} typeof i, i\n ret i")), (0, 1));
        // No loop: a region as a whole all the same, which other regions call ([`callable`]).
        assert_eq!(wholes(" ldi i, 0\n ret i"), (1, 1));
        // The loop's header is op 0.
        assert_eq!(wholes("loop:\n ldi i, 0\n lt t, i, i\n jmpif t, loop\n ret i"), (0, 1));
    }

    /// A loop with an op tier 2 does not translate is a region when some lap runs without it
    /// ([`enterable`]); the region's code has a `trap` in the op's place, which it leaves
    /// before ([`left_before`]).
    #[test]
    fn a_loop_with_a_call_on_some_laps_is_a_region_that_leaves_before_the_call() {
        // `f` is not a region as a whole (`typeof` does not translate), so its calls are not.
        let loops = |body: &str| {
            let src = format!(
                "func f(x) {{\n local t\n typeof t, x\n ret x\n}}\nfunc g(x) {{\n ret x\n}}\nfunc main() {{\n local i, n, t, one, r\n ldi i, 0\n ldi n, 10\n ldi one, 1\n\
                 loop:\n lt t, i, n\n jmpifnot t, done\n{body}\n add i, i, one\n jmp loop\ndone:\n ret i\n}}\n"
            );
            let p = Arc::new(prog(&src));
            regions(&p, 2, Policy { stress: None, eager: false, background: false }, false, true).len()
        };
        // On the laps where `t` is false only.
        assert_eq!(loops(" jmpifnot t, skip\n call r, f, (i)\nskip:\n nop"), 1);
        // On every lap: no region.
        assert_eq!(loops(" call r, f, (i)"), 0);
        // `g` is: a call of it is translated, and `main`'s loop is a region, as is `main`.
        assert_eq!(loops(" call r, g, (i)"), 2);
        let code = [Op::Nop, Op::TypeOf { d: 0, a: 0 }, Op::Call { d: 0, argc: 0, f: 0, args: 0 }, Op::Nop];
        let callable = Callable { funcs: vec![false], sites: vec![] };
        assert_eq!(left_before(&code, 1, 3, &callable)[1], Op::Trap { msg: u32::MAX });
        assert_eq!(left_before(&code, 1, 3, &callable)[2], Op::Trap { msg: u32::MAX });
        let yes = Callable { funcs: vec![true], sites: vec![] };
        assert_eq!(left_before(&code, 1, 3, &yes)[2], code[2]);
        assert_eq!(left_before(&code, 3, 3, &callable)[1], code[1], "outside the region");
    }

    /// The webs and lifts ([`lifts`]) of the loop of `body` (between `loop:` and `jmp loop`,
    /// after `prelude`; `o` an object of class `P`), every argument nil at the entry (words).
    fn lifts_in(prelude: &str, body: &str, plain: bool, kept: &[usize]) -> (Webs, Vec<Lift>) {
        let src = format!("class P {{\n field x\n field v\n}}\nfunc f(o, n, u) {{\n local i, t, x, v, one\n ldi i, 0\n ldi one, 1\n{prelude}loop:\n lt t, i, n\n jmpifnot t, done\n{body}\n add i, i, one\n jmp loop\ndone:\n ret i\n}}\nfunc main() {{\n local r\n ret r\n}}\n");
        let p = prog(&src);
        let code = unfused(&p.funcs[0].code);
        let end = code.len() - 1;
        let live = liveness(&p, &code);
        let seen = observed(&live[0], |_| 0);
        let (webs, _, reps, _) = shape(&p.arg_pool, &code, &live, 0, end, &live[0], &seen, &[]).expect("translatable");
        let lifts = lifts(&webs.code, 0, end, plain, &reps, kept);
        (webs, lifts)
    }

    /// The lifts of the loop of `body` as (cells tested, `getf` ops whose double is decoded)
    /// where the loop is entered.
    fn lifts_of(body: &str, plain: bool) -> Vec<(usize, Vec<usize>)> {
        lifts_in("", body, plain, &[]).1.into_iter().map(|l| (l.cells.len(), l.loads)).collect()
    }

    /// What a loop tests and decodes once where it is entered ([`lifts`]): an object it reads
    /// and never writes, tested by an op of every lap; the fields of it no `setf` of the loop
    /// writes, read by `getf` at ops 4 and 5 here (the loop's first op is 2), when heap words
    /// are plain.
    #[test]
    fn a_loop_tests_an_invariant_object_once_and_decodes_the_fields_it_does_not_write() {
        let nbody = " getf x, o, P.x\n getf v, o, P.v\n add v, v, x\n setf o, P.v, v";
        assert_eq!(lifts_of(nbody, true), [(1, vec![4])]);
        // Under the barriers, reads of shared objects are the STM's: the test alone.
        assert_eq!(lifts_of(nbody, false), [(1, vec![])]);
        // A field the loop writes through another object of the class (it may be `o`) is read
        // at each lap; the other field is not written.
        let other = " getf x, o, P.x\n getf v, u, P.v\n setf u, P.x, v";
        assert_eq!(lifts_of(other, true), [(2, vec![5])]);
        // An object the loop writes (a list's walk) is tested at every lap.
        assert_eq!(lifts_of(" getf x, o, P.x\n getf o, o, P.v", true), []);
        // Tested on one path of the lap only: nil there would fail at every entry.
        assert_eq!(lifts_of(" jmpif u, skip\n getf x, o, P.x\nskip:\n nop", true), []);
    }

    /// The fields the loop of `body` carries ([`forwarded`]), each object a register (not a
    /// web), with `kept` as a cell's.
    fn carried_of(body: &str, kept: &[usize]) -> Vec<Fwd> {
        let (webs, lifts) = lifts_in(" ldk x, 0.5\n", body, true, kept);
        lifts.into_iter().flat_map(|l| l.fwd).map(|f| Fwd { o: webs.reg[f.o as usize], ..f }).collect()
    }

    /// Which fields a loop carries from store to read ([`Fwd`]): one it reads and writes
    /// through the same invariant object, storing doubles (ops 5 and 7 here); a store of the
    /// field through another object is guarded (op 9), unless that guard failed before
    /// (`kept`); not a field stored as a word.
    #[test]
    fn a_loop_carries_a_field_it_reads_and_writes_through_an_invariant_object() {
        let nbody = " getf v, o, P.v\n add v, v, x\n setf o, P.v, v";
        let v =
            |loads: Vec<usize>, stores: Vec<usize>, guards: Vec<usize>| Fwd { o: 0, slot: 1, loads, stores, guards };
        assert_eq!(carried_of(nbody, &[]), [v(vec![5], vec![7], vec![])]);
        let aliased = format!("{nbody}\n setf u, P.v, v");
        assert_eq!(carried_of(&aliased, &[]), [v(vec![5], vec![7], vec![8])]);
        assert_eq!(carried_of(&aliased, &[8]), []);
        // Stores a word (`t`, a bool): the next read would decode no double.
        assert_eq!(carried_of(" getf v, o, P.v\n add v, v, x\n setf o, P.v, t", &[]), []);
        // Read only: decoded once by the preheader ([`Lift::loads`]), nothing to carry.
        assert_eq!(carried_of(" getf v, o, P.v\n add v, v, x", &[]), []);
    }

    /// The pcs of the counted steps ([`counted_steps`]) of `body`'s loops, the outermost one the
    /// region, every register live at its header an int; `kept` as a cell's.
    fn steps_of(body: &str, kept: &[usize]) -> Vec<usize> {
        counted_of(body, kept).iter().map(|s| s.pc).collect()
    }

    /// The counted steps of `body` in `main` (as [`steps_of`]).
    fn counted_of(body: &str, kept: &[usize]) -> Vec<Step> {
        let src = format!("func main() {{\n local i, j, n, m, s, t, one\n ldi i, 0\n ldi j, 0\n ldi n, 10\n ldi m, 10\n ldi s, 0\n ldi one, 1\n{body}\n ret s\n}}\n");
        let p = prog(&src);
        let code = unfused(&p.funcs[0].code);
        let (h, end) = loops(&code)[0];
        let live = liveness(&p, &code);
        let seen = observed(&live[h], |_| crate::value::small_int(1).unwrap());
        let (webs, live_w, reps, _) =
            shape(&p.arg_pool, &code, &live, h, end, &live[h], &seen, &[]).expect("translatable");
        counted_steps(&webs.code, h, end, &reps, &live_w, kept)
    }

    /// The loops whose laps keep no segment start ([`seg_loops`]): an innermost loop, not the
    /// loop around it, nor one with a call, nor one with a backward jump that may fall through
    /// inside it.
    #[test]
    fn a_loop_keeps_no_segment_start_when_only_its_own_last_jumps_go_back() {
        let of = |body: &str| {
            let src = format!("func g() {{\n local r\n ret r\n}}\nfunc main() {{\n local i, j, n, m, s, t, one\n ldi i, 0\n ldi j, 0\n ldi n, 10\n ldi m, 10\n ldi s, 0\n ldi one, 1\n{body}\n ret s\n}}\n");
            let p = prog(&src);
            let code = unfused(&p.funcs[1].code);
            seg_loops(&code, 0, code.len() - 1)
        };
        let nest = "outer:\n lt t, i, n\n jmpifnot t, done\n ldi j, 0\ninner:\n lt t, j, m\n jmpifnot t, next\n add s, s, j\n add j, j, one\n jmp inner\nnext:\n add i, i, one\n jmp outer\ndone:";
        assert_eq!(of(nest), [(B + 3, B + 7)]);
        let call = "loop:\n lt t, i, n\n jmpifnot t, done\n call t, g, ()\n add i, i, one\n jmp loop\ndone:";
        assert_eq!(of(call), []);
        let early = "loop:\n add i, i, one\n lt t, i, m\n jmpif t, loop\n lt t, i, n\n jmpif t, loop\ndone:";
        assert_eq!(of(early), []);
        let last = "loop:\n add i, i, one\n lt t, i, n\n jmpif t, loop\ndone:";
        assert_eq!(of(last), [(B, B + 2)]);
    }

    /// The blocks that dominate each block ([`dominators`]): after a diamond, only the block
    /// before it (neither arm), and inside a loop after it, the join too; a block no path
    /// reaches has none.
    #[test]
    fn a_block_is_dominated_by_the_blocks_every_path_to_it_runs_through() {
        let src = "func f(a, b) {\n local t\n jmpifnot a, other\n ldi t, 1\n jmp join\nother:\n ldi t, 2\njoin:\n add t, t, t\nloop:\n add t, t, t\n jmpif b, loop\n ret t\n ret t\n}\nfunc main() {\n local r\n ret r\n}\n";
        let p = prog(src);
        let code = unfused(&p.funcs[0].code);
        let end = code.len() - 1;
        let doms = dominators(&code, 0, end, &[0, 1, 3, 4, 5, 7, 8]);
        let of = |b: usize| doms[&b].clone();
        assert_eq!(of(0), [] as [usize; 0]);
        assert_eq!(of(1), [0]);
        assert_eq!(of(3), [0]);
        assert_eq!(of(4), [0], "the join: neither arm");
        assert_eq!(of(5), [0, 4], "the loop's header");
        assert_eq!(of(7), [0, 4, 5]);
        assert_eq!(of(8), [] as [usize; 0], "after a `ret`: unreachable");
    }

    #[test]
    fn a_register_is_a_constant_when_every_write_of_it_loads_that_number() {
        // r0: a parameter; r1: two loads of 2; r2: 2.5 then 3.5; r3: 1 and an add; r4: a
        // string; r5: never written; r6: 0.5 once.
        let src = "func f(a) {\n local k, x, y, s, u, h\n ldi k, 2\n ldk x, 2.5\n ldi y, 1\n ldk s, \"s\"\n ldk h, 0.5\n ldi k, 2\n ldk x, 3.5\n add y, y, k\n ldi a, 2\n ret a\n}\nfunc main() {\n local r\n ret r\n}\n";
        let p = prog(src);
        let code = unfused(&p.funcs[0].code);
        let c = constant_regs(&code, 7, 1);
        let half = crate::value::encode_float(0.5).unwrap();
        assert_eq!(c[..6], [None, Some(2 << 3 | 1), None, None, None, None]);
        assert_eq!(c[6], Some(half));
    }

    /// The ops of `main`'s prologue in [`steps_of`]: the body's first op is at 6.
    const B: usize = 6;

    #[test]
    fn a_counted_loops_step_is_found_and_its_other_adds_are_not() {
        let sum = "loop:\n lt t, i, n\n jmpifnot t, done\n add s, s, i\n add i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(sum, &[]), [B + 3]);
        // The step, once its entry test failed, is checked at each lap instead.
        assert_eq!(steps_of(sum, &[B + 3]), [] as [usize; 0]);
        // Either operand order, the jump out on either outcome, a lower bound and `sub`.
        let forms = "loop:\n ge t, i, n\n jmpif t, done\n add i, one, i\n jmp loop\ndone:";
        assert_eq!(steps_of(forms, &[]), [B + 2]);
        let down = "loop:\n lt t, n, i\n jmpifnot t, done\n sub i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(down, &[]), [B + 2]);
        // A nest: each loop's own step.
        let nest = "outer:\n lt t, i, n\n jmpifnot t, done\n ldi j, 0\ninner:\n lt t, j, m\n jmpifnot t, next\n add s, s, j\n add j, j, one\n jmp inner\nnext:\n add i, i, one\n jmp outer\ndone:";
        assert_eq!(steps_of(nest, &[]), [B + 6, B + 8]);
    }

    /// A bound the region writes outside the loop it bounds: the step is tested in the loop's
    /// preheader ([`Step::pre`]), the outer loop's at the entry.
    #[test]
    fn a_step_whose_bound_changes_outside_its_loop_is_tested_in_the_loops_preheader() {
        let nest = "outer:\n lt t, i, n\n jmpifnot t, done\n add m, m, one\n ldi j, 0\ninner:\n lt t, j, m\n jmpifnot t, next\n add j, j, one\n jmp inner\nnext:\n add i, i, one\n jmp outer\ndone:";
        let steps: Vec<(usize, Option<usize>)> = counted_of(nest, &[]).iter().map(|s| (s.pc, s.pre)).collect();
        assert_eq!(steps, [(B + 6, Some(B + 4)), (B + 8, None)]);
    }

    #[test]
    fn a_step_is_not_counted_when_the_header_test_does_not_bound_it() {
        let none: [usize; 0] = [];
        // A second write of `i` in the loop.
        let twice = "loop:\n lt t, i, n\n jmpifnot t, done\n add i, i, one\n add i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(twice, &[]), none);
        // The bound, or the step, changes in the region.
        let moving = "loop:\n lt t, i, n\n jmpifnot t, done\n add n, n, one\n add i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(moving, &[]), none);
        let growing = "loop:\n lt t, i, n\n jmpifnot t, done\n add one, one, one\n add i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(growing, &[]), none);
        // An upper bound with `sub`, a lower one with `add`.
        let wrong_way = "loop:\n lt t, i, n\n jmpifnot t, done\n sub i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(wrong_way, &[]), none);
        let wrong_bound = "loop:\n gt t, i, n\n jmpifnot t, done\n add i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(wrong_bound, &[]), none);
        // The outer loop's step inside the inner loop: taken many times between two tests.
        let nested = "outer:\n lt t, i, n\n jmpifnot t, done\n ldi j, 0\ninner:\n lt t, j, m\n jmpifnot t, next\n add i, i, one\n add j, j, one\n jmp inner\nnext:\n jmp outer\ndone:";
        assert_eq!(steps_of(nested, &[]), [B + 6]);
        // The test's jump stays in the loop: past it, nothing is known.
        let inside = "loop:\n lt t, i, n\n jmpifnot t, skip\n add s, s, one\nskip:\n add i, i, one\n jmp loop\ndone:";
        assert_eq!(steps_of(inside, &[]), none);
    }
}
