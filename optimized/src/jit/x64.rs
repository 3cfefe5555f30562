//! The x86-64 templates: one per op, written by hand with `dynasm`, a whole function at once.
//!
//! Pinned registers while compiled code runs: `r12` the [`JitCtx`], `rbx` the register window
//! (register `r` at `[rbx + 8r]`), `r13` the thread (`fuel` at `[r13]`), `rbp` the budget
//! register, and `r14` the float encoding's exponent offset (`r15` is saved and unused).
//!
//! **The budget register.** `rbp` holds how many more segment boundaries compiled code may pass
//! without looking at the counters: the least of the context's `back_jumps` and `boundaries` and
//! the thread's fuel (0 when a function entry must see a safepoint), taken by `reload` on entry
//! and after the helper. Each boundary (a backward jump, a call, a return) tests `rbp`, leaves
//! before the op when it is 0, and otherwise decrements it alone; a boundary that spends fewer
//! than all three (a return spends no fuel and is no backward jump) gives the others theirs back
//! in memory. The counters thus lag behind by `JitCtx::budget - rbp`, which `sync` subtracts
//! before the code leaves or calls the helper, so that the interpreter and the helper see them
//! exact. One register test per boundary replaces three memory compares and three
//! read-modify-writes. The float homes `xmm2`-`xmm15` hold copies of registers known to be
//! SmallFloats (`kinds.rs`); everything else is scratch within one op. Every template stores its
//! result in the register window, so a machine register never holds the only copy of a value,
//! and the code can leave before any op with nothing to write back but the pc. Each op's code checks
//! every condition of its fast path (tags, overflow, the float encoding's range, class, bounds,
//! fuel, the counters in the context) before it changes anything, and jumps to its exit stub
//! (`mov eax, pc` and the shared epilogue) when one fails; the interpreter then executes the op.
//!
//! The fast paths are `src/interp/`'s, bit for bit (`DESIGN.md`, "Values"): SmallInt `add`/`sub`
//! as one overflow-checked add of the tagged words, `mul` as an overflow-checked multiply of
//! `x ^ 1` (which is `i << 3`) by `j`, SmallFloat ops decoded, computed and re-encoded with the
//! encoding's range check, comparisons of tagged SmallInt words as signed integers.

// dynasm's expansion of dynamic registers (`Rq(r)`) converts the number with `.into()`.
#![allow(clippy::useless_conversion)]

use super::barriers;
use super::kinds::{arith_kind, Kind, Kinds};
use super::{ctx, Flavour, Guess, JitCtx};
use crate::code::{Op, Program};
use crate::heap::{ARRAY_LEN, ARRAY_STORAGE, HEADER_WORDS};
use crate::interp::FILL_SLACK;
use crate::value::{decode_float, Value, FALSE, TRUE};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use lockstep_spec::limits::MAX_CALL_DEPTH;
use std::collections::HashMap;

/// The float encoding's exponent offset (`value.rs`).
const EXP_OFFSET: i64 = 896 << 53;
const KIND_OBJECT: i32 = 1;
/// Register numbers for dynasm's dynamic registers (`Rq(n)`, `Rd(n)`).
const RCX: u8 = 1;
const RDX: u8 = 2;
const RSI: u8 = 6;
/// An inline-cache site's size and where its hit count lies in it (`inline_cache::Site`).
const SITE: i32 = std::mem::size_of::<crate::inline_cache::Site>() as i32;
const _: () = assert!(SITE == 56);
pub(super) const SITE_HITS: i32 = std::mem::offset_of!(crate::inline_cache::Site, hits) as i32;
const _: () = assert!(SITE_HITS == 40);

/// Where send site `site` lies in the table of sites.
pub(super) fn site_offset(site: u32) -> i32 {
    site as i32 * SITE
}
const KIND_ARRAY: i32 = 2;
/// The most registers an inline call clears (one store each).
const MAX_INLINE_CLEAR: u32 = 32;
/// How many runs of consecutive class indices a field access tests inline (the class and its
/// subclasses; an instance of a class past them leaves).
const MAX_CLASS_TESTS: usize = 6;
/// How many runs of consecutive class indices a `send` dispatches on from the class table
/// ([`Emitter::send_targets`]); a selector that more classes understand goes through the site's
/// inline cache.
const MAX_SEND_RUNS: usize = 8;
/// Programs with more classes than this dispatch every `send` through its inline cache (the
/// class table is scanned per selector at compile time).
const MAX_SEND_SCAN: usize = 4096;

/// A function's machine code and its resume table.
pub(super) struct Code {
    mem: super::code_memory::CodeMemory,
    /// Byte offset of each op's code: the entry point for resuming before that op.
    resume: Vec<u32>,
    /// The same as addresses (for returns from compiled code, `JitCtx::resumes`).
    absolute: Box<[usize]>,
    /// Byte offset of op 0's code itself (past its entry check: `JitCtx::bodies`), and of the
    /// way in of a call (`JitCtx::entries`): op 0's entry check, or, when the function is a
    /// tier-2 region ([`Emitter::function_entry`]), the stubs that call it first.
    body: u32,
    entry: u32,
    len: usize,
}

impl Code {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn body(&self) -> *const u8 {
        // SAFETY: a function has at least one op [verify.code-nonempty], and `body` is the
        // offset of op 0's code, inside the code.
        unsafe { self.mem.ptr().add(self.body as usize) }
    }

    pub fn entry(&self) -> *const u8 {
        // SAFETY: `entry` is the offset of op 0's entry check or of the function's region stub,
        // inside the code.
        unsafe { self.mem.ptr().add(self.entry as usize) }
    }

    pub fn addresses(&self) -> *const usize {
        self.absolute.as_ptr()
    }

    pub fn address(&self, pc: u32) -> *const u8 {
        // SAFETY: `resume[pc]` is an offset inside the code (an op index of the function: the
        // helpers' contract).
        unsafe { self.mem.ptr().add(self.resume[pc as usize] as usize) }
    }

    /// # Safety
    /// As for [`super::Compiled::run`].
    pub unsafe fn run(&self, ctx: &mut JitCtx, pc: u32) -> u32 {
        // SAFETY: offset 0 is the entry stub, which has this signature (System V: `rdi` the
        // context, `rsi` where to start; it saves the callee-saved registers it pins and returns
        // the exit pc in `eax`); `resume[pc]` lies inside the code (pc is an op index, the
        // caller's contract); the code only touches the registers of the window, the thread's
        // fuel and the context, and, in the plain-memory flavour, heap cells it has checked the
        // kind and bounds of (live: register values), which the caller's contract allows.
        unsafe {
            let entry: extern "sysv64" fn(*mut JitCtx, *const u8) -> u32 = std::mem::transmute(self.mem.ptr());
            entry(ctx, self.mem.ptr().add(self.resume[pc as usize] as usize))
        }
    }
}

/// Compiles function `func` of `prog` for `flavour`; `None` if the code memory cannot be had.
pub(super) fn compile(
    prog: &Program,
    func: u32,
    flavour: Flavour,
    stress: Option<u64>,
    guesses: &[Guess],
    self_classes: &[Option<u32>],
    cells: super::Cells,
) -> Option<Code> {
    let Assembled { bytes, resume, ops, stubs, function_entry } =
        assemble(prog, func, flavour, stress, guesses, self_classes, cells)?;
    let mem = super::code_memory::CodeMemory::new(&bytes).ok()?;
    perf_map(prog, func, mem.ptr() as usize, &ops, stubs, bytes.len());
    let absolute = resume.iter().map(|&o| mem.ptr() as usize + o as usize).collect();
    let (entry, body) = function_entry.unwrap_or((resume[0], ops[0]));
    Some(Code { mem, resume, absolute, body, entry, len: bytes.len() })
}

/// With `LOCKSTEP_PERF_MAP` set, appends a symbol per op of the new code to
/// `/tmp/perf-PID.map` (the format `perf report` reads for JIT code: `START SIZE NAME`, hex),
/// named `FUNC:PC:OP`, so that profiles of compiled code say which ops the time went to.
fn perf_map(prog: &Program, func: u32, at: usize, ops: &[u32], stubs: usize, len: usize) {
    use std::io::Write;
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("LOCKSTEP_PERF_MAP").is_some()) {
        return;
    }
    let f = &prog.funcs[func as usize];
    let mut text = format!("{:x} {:x} {}:entry\n", at, ops.first().map_or(stubs, |&o| o as usize), f.name);
    for (pc, &o) in ops.iter().enumerate() {
        let end = ops.get(pc + 1).map_or(stubs, |&e| e as usize);
        let op = format!("{:?}", f.code[pc]);
        let kind = op.split([' ', '{']).next().unwrap_or("?");
        text += &format!("{:x} {:x} {}:{pc}:{kind}\n", at + o as usize, end.saturating_sub(o as usize), f.name);
    }
    text += &format!("{:x} {:x} {}:stubs\n", at + stubs, len - stubs, f.name);
    let path = format!("/tmp/perf-{}.map", std::process::id());
    // A profiling aid: a map that cannot be written only costs the profile its names.
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(text.as_bytes());
    }
}

/// A function's machine code, the byte offset of each op's code and of its way in from outside
/// (its entry check, or its code when it has no facts to check), and where the stubs begin.
struct Assembled {
    bytes: Vec<u8>,
    ops: Vec<u32>,
    resume: Vec<u32>,
    stubs: usize,
    /// The offsets of a tier-2 function region's stubs (a call's way in, and a send's past
    /// op 0's entry check: [`Emitter::function_entry`]).
    function_entry: Option<(u32, u32)>,
}

/// The machine code of function `func` (position-independent but for the helper's address),
/// whose arithmetic ops guess as `guesses` says; `None` if it does not assemble.
fn assemble(
    prog: &Program,
    func: u32,
    flavour: Flavour,
    stress: Option<u64>,
    guesses: &[Guess],
    self_classes: &[Option<u32>],
    cells: super::Cells,
) -> Option<Assembled> {
    let code = &prog.funcs[func as usize].code;
    let kinds = super::kinds::analyse(prog, func, guesses, self_classes[func as usize]);
    let mut e = Emitter::new(prog, func, code.len(), flavour, kinds, self_classes);
    e.regions = cells.loops.into_iter().map(|(h, cell)| (h, (cell, e.a.new_dynamic_label()))).collect();
    e.poison = stress.is_some();
    e.prologue();
    for (pc, op) in code.iter().enumerate() {
        e.start(pc);
        if stress.is_some_and(|seed| super::stress_exit(seed, func, pc)) {
            e.exit(pc);
        } else {
            e.op(pc, op);
        }
    }
    let stubs = e.a.offset().0;
    e.entry_checks(code.len());
    let function_entry = cells.function.map(|cell| e.function_entry(cell));
    e.region_stubs();
    e.miss_stubs(code.len());
    e.exit_stubs(code.len());
    let (ops, resume) = (e.ops, e.resume);
    let bytes = e.a.finalize().ok()?;
    Some(Assembled { bytes, ops, resume, stubs, function_entry })
}

/// Byte offset of register `r` in the window.
fn reg(r: u16) -> i32 {
    i32::from(r) * 8
}

fn slot_offset(i: usize) -> i32 {
    (i * 8) as i32
}

/// Class indices `first .. first + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ClassRun {
    pub first: u32,
    pub len: u32,
}

/// The methods a `send` calls from the class table, each with the classes that call it.
pub(super) type SendTargets = Vec<(u32, Vec<ClassRun>)>;

/// Increasing class indices as maximal runs of consecutive ones.
pub(super) fn class_runs(classes: impl IntoIterator<Item = u32>) -> Vec<ClassRun> {
    let mut runs: Vec<ClassRun> = Vec::new();
    for c in classes {
        match runs.last_mut() {
            Some(r) if r.first + r.len == c => r.len += 1,
            _ => runs.push(ClassRun { first: c, len: 1 }),
        }
    }
    runs
}

/// The methods a `send` of `selector` with `argc` arguments calls, from the class table alone
/// ([exec.method-lookup]), each with the runs of class indices that call it; a class whose
/// method has another arity is left out (its receivers trap). `None` when no class has such a
/// method, the classes that do make more than [`MAX_SEND_RUNS`] runs, or the program has more
/// than [`MAX_SEND_SCAN`] classes. Tier 1's inline sends and tier 2's (`tier2/`, `Tr::send`).
pub(super) fn class_table_targets(prog: &Program, selector: u32, argc: u16) -> Option<SendTargets> {
    let classes = prog.classes.len();
    if classes > MAX_SEND_SCAN {
        return None;
    }
    let mut targets: Vec<(u32, Vec<u32>)> = Vec::new();
    let mut runs = 0;
    for c in 0..classes as u32 {
        let Some(f) = prog.lookup(c, selector) else { continue };
        if prog.funcs[f as usize].arity != u32::from(argc) + 1 {
            continue;
        }
        match targets.iter_mut().find(|t| t.0 == f) {
            Some(t) => {
                runs += usize::from(t.1.last() != Some(&(c - 1)));
                t.1.push(c);
            }
            None => {
                runs += 1;
                targets.push((f, vec![c]));
            }
        }
    }
    (runs <= MAX_SEND_RUNS && !targets.is_empty())
        .then(|| targets.into_iter().map(|(f, cs)| (f, class_runs(cs))).collect())
}

/// The four orderings (`interp::arith`'s constants).
#[derive(Clone, Copy)]
enum Ord4 {
    Lt,
    Le,
    Gt,
    Ge,
}

struct Emitter<'p> {
    prog: &'p Program,
    /// The function being compiled.
    func: u32,
    a: VecAssembler<X64Relocation>,
    /// The start of each op's code.
    labels: Vec<DynamicLabel>,
    /// Each op's exit stub: leave before that op.
    exits: Vec<DynamicLabel>,
    /// The exit of each op that guesses its operands' kind when the guess is wrong.
    misses: Vec<Option<DynamicLabel>>,
    /// The byte offset of each op's code, and of the way in before it from outside (its entry
    /// check, or its code when it has no facts to check).
    ops: Vec<u32>,
    resume: Vec<u32>,
    flavour: Flavour,
    /// The registers' kinds at each op, and the float homes.
    kinds: Kinds,
    /// [`Emitter::send_targets`]'s answers by selector and argument count.
    send_targets: HashMap<(u32, u16), Option<SendTargets>>,
    /// Per function: its self class (`jit::self_classes`).
    self_classes: &'p [Option<u32>],
    /// The function's tier-2 loops: header pc to its cell (`tier2::Region`) and the label where
    /// compiled code's own paths arrive at the header ([`Emitter::start`]).
    regions: HashMap<usize, (usize, DynamicLabel)>,
    /// The calls of tier-2 loops, out of line after the ops ([`Emitter::region_stubs`]): their
    /// labels and cells.
    region_calls: Vec<(DynamicLabel, usize)>,
    /// Op 0's entry check, when it has one ([`Emitter::entry_checks`]).
    check0: Option<DynamicLabel>,
    /// Per op, the registers live before it (`tier2::liveness`): the entry checks test the
    /// facts of those only.
    live: Vec<Vec<bool>>,
    /// The stress modes: every way into compiled code from outside fills the float homes with
    /// [`POISON`] first ([`Emitter::poison_homes`]).
    poison: bool,
}

/// What the float homes hold when compiled code is entered under a stress mode: a SmallFloat
/// (so that a use of it computes on rather than leaving) that no program of the suites makes.
/// Code that reads a home its own paths never loaded then computes with it, the same on every
/// machine, instead of with whatever the interpreter, the helper or tier 2 left in `xmm2`-`xmm15`
/// (which differs between machines and libc versions: the planted bug `jit_enters_unreached_op`
/// went unseen on CI's machine that way).
const POISON: f64 = -1234.5;

impl<'p> Emitter<'p> {
    fn new(
        prog: &'p Program,
        func: u32,
        n: usize,
        flavour: Flavour,
        kinds: Kinds,
        self_classes: &'p [Option<u32>],
    ) -> Emitter<'p> {
        let mut a = VecAssembler::new(0);
        let labels = (0..n).map(|_| a.new_dynamic_label()).collect();
        let exits = (0..n).map(|_| a.new_dynamic_label()).collect();
        let misses = kinds.guess.iter().map(|&g| (g != Kind::Any).then(|| a.new_dynamic_label())).collect();
        Emitter {
            prog,
            func,
            a,
            labels,
            exits,
            misses,
            ops: Vec::with_capacity(n),
            resume: Vec::new(),
            flavour,
            kinds,
            send_targets: HashMap::new(),
            self_classes,
            regions: HashMap::new(),
            region_calls: Vec::new(),
            check0: None,
            live: super::tier2::liveness(prog, &super::tier2::unfused(&prog.funcs[func as usize].code)),
            poison: false,
        }
    }

    /// Under a stress mode, the float homes `xmm2`-`xmm15` get [`POISON`] (clobbers rcx only).
    fn poison_homes(&mut self) {
        if !self.poison {
            return;
        }
        dynasm!(self.a ; .arch x64 ; mov rcx, QWORD POISON.to_bits() as i64 ; movq xmm2, rcx);
        for x in 3..16u8 {
            dynasm!(self.a ; .arch x64 ; movapd Rx(x), xmm2);
        }
    }

    /// The entry stub (offset 0) and the shared epilogue `->leave`.
    fn prologue(&mut self) {
        dynasm!(self.a
            ; .arch x64
            ; push rbp
            ; push rbx
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; sub rsp, 8
            ; mov r12, rdi
            ; mov rbx, QWORD [r12 + ctx::REGS]
            ; mov r13, QWORD [r12 + ctx::THREAD]
            ; mov r14, QWORD EXP_OFFSET
            ; call ->reload
        );
        self.poison_homes();
        dynasm!(self.a
            ; .arch x64
            ; jmp rsi
            // A call helper returned null: leave at the pc it stored.
            ; ->leave_at_ctx_pc:
            ; mov eax, DWORD [r12 + ctx::PC]
            ; ->leave:
            ; call ->sync
            ; add rsp, 8
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbx
            ; pop rbp
            ; ret
            // The counters catch up with the budget register: each lags behind by the
            // boundaries passed since the last sync (clobbers rcx only).
            ; ->sync:
            ; mov rcx, QWORD [r12 + ctx::BUDGET]
            ; sub rcx, rbp
            ; sub QWORD [r12 + ctx::BACK_JUMPS], rcx
            ; sub QWORD [r12 + ctx::BOUNDARIES], rcx
            ; sub QWORD [r13], rcx // fuel
            ; mov QWORD [r12 + ctx::BUDGET], rbp
            ; ret
            // The budget register from the counters (in sync): the least of them, or 0 when a
            // function entry must see a safepoint (clobbers rcx only).
            ; ->reload:
            ; mov rbp, QWORD [r12 + ctx::BACK_JUMPS]
            ; mov rcx, QWORD [r12 + ctx::BOUNDARIES]
            ; cmp rcx, rbp
            ; cmovb rbp, rcx
            ; mov rcx, QWORD [r13]
            ; cmp rcx, rbp
            ; cmovb rbp, rcx
            ; xor ecx, ecx
            ; cmp QWORD [r12 + ctx::SAFEPOINTS], 0
            ; cmove rbp, rcx
            ; mov QWORD [r12 + ctx::BUDGET], rbp
            ; ret
        );
    }

    /// The start of op `pc`'s code. At a tier-2 loop's header, compiled code's own ways in
    /// (falling through from the op before, a jump to it, the loop's back edge) arrive first at
    /// the region's entry ([`Emitter::enter_region`]); the ways in from outside (the resume
    /// table, the entry checks, a region leaving there) go straight to the op, so that a region
    /// that leaves at its own header does not enter itself again.
    fn start(&mut self, pc: usize) {
        if let Some(&(cell, arrive)) = self.regions.get(&pc) {
            // While the cell has no entry (the loop not compiled, given up, or on the compiler
            // thread), arriving costs a load and an untaken branch: the call is out of line.
            let call = self.a.new_dynamic_label();
            self.region_calls.push((call, cell));
            dynasm!(self.a
                ; .arch x64
                ; =>arrive
                ; mov rax, QWORD cell as i64
                ; mov rax, QWORD [rax]
                ; test rax, rax
                ; jnz =>call
            );
        }
        let l = self.labels[pc];
        self.ops.push(self.a.offset().0 as u32);
        dynasm!(self.a ; .arch x64 ; =>l);
    }

    /// The way into each op from outside compiled code's own paths (the interpreter resuming,
    /// a return, the helper continuing): where the op's code relies on facts (`kinds.rs`), a
    /// check of each on the registers in memory that leaves before the op when one fails, and
    /// the float homes loaded; then the op's code.
    fn entry_checks(&mut self, n: usize) {
        for pc in 0..n {
            if !self.kinds.reached[pc] && !mutant!(jit_enters_unreached_op) {
                // The ops after it rely on facts of compiled code's own paths, which do not
                // pass here (`Kinds::reached`): the interpreter executes it.
                self.resume.push(self.a.offset().0 as u32);
                let e = self.exits[pc];
                dynasm!(self.a ; .arch x64 ; jmp =>e);
                continue;
            }
            // Only the facts of registers live there: a dead one (no op reads it before
            // writing it) may hold anything, as a tier-2 region leaves it ([exec.dead-registers]).
            let live = &self.live[pc];
            let facts: Vec<(u16, Kind)> = (0..self.kinds.at[pc].len() as u16)
                .filter(|&r| live.get(r as usize).copied().unwrap_or(false))
                .map(|r| (r, self.kinds.of(pc, r)))
                .filter(|&(_, k)| k != Kind::Any)
                .collect();
            if facts.is_empty() {
                self.resume.push(self.ops[pc]);
                continue;
            }
            if pc == 0 {
                self.check0 = Some(self.a.new_dynamic_label());
                dynasm!(self.a ; .arch x64 ; =>self.check0.expect("just made"));
            }
            self.resume.push(self.a.offset().0 as u32);
            let (e, l) = (self.exits[pc], self.labels[pc]);
            for (r, k) in facts {
                match k {
                    Kind::Object(class) => {
                        self.check_object_of_class(pc, r, class);
                        continue;
                    }
                    Kind::Array => {
                        self.check_array(pc, r);
                        continue;
                    }
                    _ => {}
                }
                dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rbx + reg(r)]);
                if mutant!(jit_entry_skips_kind_check) {
                    // (trusts the fact)
                } else if k == Kind::Int {
                    dynasm!(self.a ; .arch x64 ; test al, 1 ; jz =>e);
                } else {
                    dynasm!(self.a ; .arch x64 ; test al, 4 ; jz =>e);
                }
                if k == Kind::Float {
                    if let Some(h) = self.kinds.home[r as usize] {
                        self.decode(0, h);
                    }
                }
            }
            dynasm!(self.a ; .arch x64 ; jmp =>l);
        }
    }

    fn kind(&self, pc: usize, r: u16) -> Kind {
        self.kinds.of(pc, r)
    }

    /// The xmm register that holds register `r`'s float at op `pc`: its home when it is a known
    /// SmallFloat that has one, else xmm `scratch`, decoded from memory (leaving unless it is a
    /// SmallFloat). Clobbers `rax` and `rsi`.
    fn float_in(&mut self, pc: usize, r: u16, scratch: u8) -> u8 {
        let e = self.test_exit(pc);
        let k = self.kind(pc, r);
        if let (Kind::Float, Some(h)) = (k, self.kinds.home[r as usize]) {
            return h;
        }
        dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rbx + reg(r)]);
        if k != Kind::Float {
            dynasm!(self.a ; .arch x64 ; test al, 4 ; jz =>e);
        }
        self.decode(0, scratch);
        scratch
    }

    /// Register `r` as a double in xmm register `scratch`: a SmallFloat decoded, or a SmallInt
    /// converted as [value.itof] does (`cvtsi2sd` rounds to nearest, ties to even, as `as f64`
    /// does); anything else leaves before op `pc`. For the operand beside a known SmallFloat.
    fn float_or_int_in(&mut self, pc: usize, r: u16, scratch: u8) -> u8 {
        let e = self.test_exit(pc);
        dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rbx + reg(r)]);
        // (The planted bug converts the SmallInt's word, tag and all.)
        let shift = if mutant!(jit_mixed_int_unscaled) { 0 } else { 3 };
        if self.kind(pc, r) == Kind::Int {
            dynasm!(self.a ; .arch x64 ; sar rax, shift ; cvtsi2sd Rx(scratch), rax);
            return scratch;
        }
        dynasm!(self.a
            ; .arch x64
            ; test al, 4
            ; jz >not_float
        );
        self.decode(0, scratch);
        dynasm!(self.a
            ; .arch x64
            ; jmp >done
            ; not_float:
            ; test al, 1
            ; jz =>e
            ; sar rax, shift
            ; cvtsi2sd Rx(scratch), rax
            ; done:
        );
        scratch
    }

    /// Register `r` into general register `g` (0 `rax`, 1 `rcx`), leaving unless it is a
    /// SmallInt (known at op `pc`, or tested).
    fn int_in(&mut self, pc: usize, r: u16, g: u8) {
        let e = self.test_exit(pc);
        dynasm!(self.a ; .arch x64 ; mov Rq(g), QWORD [rbx + reg(r)]);
        if self.kind(pc, r) != Kind::Int {
            dynasm!(self.a ; .arch x64 ; test Rb(g), 1 ; jz =>e);
        }
    }

    /// `rax` ± `rcx`, two SmallInts: (x<<3|1) ± (y<<3), one overflow-checked add
    /// (`value::small_add`), leaving before op `pc` on overflow.
    fn small_add_sub(&mut self, pc: usize, sub: bool) {
        let e = self.exits[pc];
        dynasm!(self.a ; .arch x64 ; xor rcx, 1);
        if sub {
            dynasm!(self.a ; .arch x64 ; sub rax, rcx);
        } else {
            dynasm!(self.a ; .arch x64 ; add rax, rcx);
        }
        if !mutant!(jit_add_skips_overflow_check) {
            dynasm!(self.a ; .arch x64 ; jo =>e);
        }
    }

    /// A SmallFloat `d` now holds is in `xmm0`: its home gets it too.
    fn set_home(&mut self, d: u16) {
        if let Some(h) = self.kinds.home[d as usize] {
            dynasm!(self.a ; .arch x64 ; movapd Rx(h), xmm0);
        }
    }

    /// The float template of an arithmetic op whose operand is a known SmallFloat
    /// ([`arith_kind`]): both operands as floats (the other checked), `f` on `xmm0` and the
    /// second operand's xmm register, the result encoded (leaving when it has no SmallFloat),
    /// stored, and kept in `d`'s home.
    fn float_arith(&mut self, pc: usize, d: u16, a: u16, b: u16, f: impl FnOnce(&mut VecAssembler<X64Relocation>, u8)) {
        // An operand beside a known SmallFloat may be a SmallInt, converted ([value.mixed-arith]);
        // beside a guessed one it may not (two ints are integer arithmetic).
        let (ka, kb) = (self.kind(pc, a), self.kind(pc, b));
        let xa = if ka != Kind::Float && kb == Kind::Float {
            self.float_or_int_in(pc, a, 0)
        } else {
            self.float_in(pc, a, 0)
        };
        let xb = if kb != Kind::Float && ka == Kind::Float {
            self.float_or_int_in(pc, b, 1)
        } else {
            self.float_in(pc, b, 1)
        };
        if xa != 0 {
            dynasm!(self.a ; .arch x64 ; movapd xmm0, Rx(xa));
        }
        f(&mut self.a, xb);
        self.encode(pc);
        self.store(d);
        self.set_home(d);
        self.count(1);
    }

    /// Leave before op `pc`.
    fn exit(&mut self, pc: usize) {
        let e = self.exits[pc];
        dynasm!(self.a ; .arch x64 ; jmp =>e);
    }

    /// The exits of the ops that guess: they say which op's guess failed
    /// (`JitCtx::spec_miss`, which the driver gives to `Jit::missed`), then leave before it.
    fn miss_stubs(&mut self, n: usize) {
        for pc in 0..n {
            if let Some(m) = self.misses[pc] {
                let e = self.exits[pc];
                dynasm!(self.a
                    ; .arch x64
                    ; =>m
                    ; mov QWORD [r12 + ctx::SPEC_MISS], (pc + 1) as i32
                    ; jmp =>e
                );
            }
        }
    }

    /// Where a test of an operand's kind at op `pc` leaves: the guess's exit when the op guesses.
    fn test_exit(&self, pc: usize) -> DynamicLabel {
        self.misses[pc].unwrap_or(self.exits[pc])
    }

    fn exit_stubs(&mut self, n: usize) {
        for pc in 0..n {
            let e = self.exits[pc];
            dynasm!(self.a
                ; .arch x64
                ; =>e
                ; mov eax, (pc + usize::from(mutant!(jit_exit_skips_the_op) && pc + 1 < n)) as i32
                ; jmp ->leave
            );
        }
    }

    /// `n` instructions completed (with `--stats`).
    fn count(&mut self, n: i32) {
        if self.flavour.stats {
            dynasm!(self.a ; .arch x64 ; add QWORD [r12 + ctx::ICOUNT], n);
        }
    }

    /// Continue at op `pc` (the code of the next op is not always next in memory: a fused op
    /// continues after the op it absorbed).
    fn goto(&mut self, pc: usize) {
        let l = self.regions.get(&pc).map_or(self.labels[pc], |&(_, arrive)| arrive);
        dynasm!(self.a ; .arch x64 ; jmp =>l);
    }

    /// Loads registers `a` and `b` into `rax` and `rcx`, and `a & b`'s low byte into `dl` (the
    /// one-hot tags: bit 0 set when both are SmallInts, bit 2 when both are SmallFloats).
    fn load_pair(&mut self, a: u16, b: u16) {
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD [rbx + reg(a)]
            ; mov rcx, QWORD [rbx + reg(b)]
            ; mov edx, eax
            ; and edx, ecx
        );
    }

    /// `decode_float` of the SmallFloat in general register `r` into xmm register `x`
    /// (clobbers `r` and `rsi`; `r14` holds the exponent offset).
    fn decode(&mut self, r: u8, x: u8) {
        dynasm!(self.a
            ; .arch x64
            ; shr Rq(r), 3
            ; lea rsi, [Rq(r) + r14]
            ; cmp Rq(r), 1
            ; cmova Rq(r), rsi
            ; ror Rq(r), 1
            ; movq Rx(x), Rq(r)
        );
    }

    /// `encode_float` of `xmm0` into `rax`, or leave before op `pc` when it has no SmallFloat
    /// (the interpreter boxes it). Clobbers `rcx`.
    fn encode(&mut self, pc: usize) {
        let e = self.exits[pc];
        // The exponent over the mantissa's top 21 bits (the bits rotated right by 31, low half)
        // must be one of 897..1151 (`value::encode_float`'s common case, 2^-126 .. 2^128); then
        // the word is `(rot - EXP_OFFSET) << 3 | 4` (`rot` the bits rotated left by one), which
        // is `rot << 3 | 4` with bit 63 flipped (`EXP_OFFSET << 3` is 2^63 modulo 2^64).
        dynasm!(self.a
            ; .arch x64
            ; movq rax, xmm0
            ; mov rcx, rax
            ; ror rcx, 31
            ; rol rax, 1
            ; lea ecx, [rcx - (897 << 21)]
            ; cmp ecx, 255 << 21
        );
        if mutant!(jit_float_skips_range_check) {
            dynasm!(self.a ; .arch x64 ; stc); // ("below": never the zero-or-leave path)
        }
        dynasm!(self.a
            ; .arch x64
            ; jae >zero
            ; lea rax, [rax * 8 + 4]
            ; btc rax, 63
            ; jmp >done
            ; zero:
            // ±0.0 (rotated bits 0 or 1) encode without the offset; anything else leaves.
            ; cmp rax, 1
            ; ja =>e
            ; lea rax, [rax * 8 + 4]
            ; done:
        );
    }

    /// Stores `rax` in register `d`.
    fn store(&mut self, d: u16) {
        dynasm!(self.a ; .arch x64 ; mov QWORD [rbx + reg(d)], rax);
    }

    /// `rax` = the bool for `al` (0 or 1): `FALSE` is 0x0a and `TRUE` 0x12.
    fn bool_of_al(&mut self) {
        const _: () = assert!(FALSE == 0x0a && TRUE == 0x12);
        dynasm!(self.a
            ; .arch x64
            ; movzx eax, al
            ; lea rax, [rax * 8 + 0x0a]
        );
    }

    /// A SmallFloat binary op on `rax`, `rcx` (both SmallFloats): decode, `f`, encode.
    fn float_binop(&mut self, pc: usize, f: impl FnOnce(&mut VecAssembler<X64Relocation>)) {
        self.decode(0, 0);
        self.decode(1, 1);
        f(&mut self.a);
        self.encode(pc);
    }

    fn op(&mut self, pc: usize, op: &Op) {
        let e = self.exits[pc];
        match *op {
            Op::Nop => self.count(1),
            Op::Mov { d, s } => {
                dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rbx + reg(s)]);
                self.store(d);
                if let (Kind::Float, Some(hd), false) =
                    (self.kind(pc, s), self.kinds.home[d as usize], mutant!(jit_mov_skips_float_home))
                {
                    match self.kinds.home[s as usize] {
                        Some(hs) => dynasm!(self.a ; .arch x64 ; movapd Rx(hd), Rx(hs)),
                        None => self.decode(0, hd),
                    }
                }
                self.count(1);
            }
            Op::Ld { d, v } => {
                dynasm!(self.a ; .arch x64 ; mov rax, QWORD v as i64);
                self.store(d);
                if let (Kind::Float, Some(hd)) = (Kind::of_constant(v), self.kinds.home[d as usize]) {
                    dynasm!(self.a
                        ; .arch x64
                        ; mov rax, QWORD decode_float(v).to_bits() as i64
                        ; movq Rx(hd), rax
                    );
                }
                self.count(1);
            }
            Op::Add { d, a, b } | Op::Sub { d, a, b }
                if self.kinds.arith(pc, a, b) != Kind::Any
                    && !(mutant!(jit_guess_takes_both_paths)
                        && arith_kind(self.kind(pc, a), self.kind(pc, b)) == Kind::Any) =>
            {
                let sub = matches!(op, Op::Sub { .. });
                if self.kinds.arith(pc, a, b) == Kind::Float {
                    self.float_arith(pc, d, a, b, |asm, x| {
                        if sub {
                            dynasm!(asm ; .arch x64 ; subsd xmm0, Rx(x));
                        } else {
                            dynasm!(asm ; .arch x64 ; addsd xmm0, Rx(x));
                        }
                    });
                    return;
                }
                self.int_in(pc, a, 0);
                self.int_in(pc, b, 1);
                self.small_add_sub(pc, sub);
                self.store(d);
                self.count(1);
            }
            Op::Mul { d, a, b } if self.kinds.arith(pc, a, b) == Kind::Float => {
                self.float_arith(pc, d, a, b, |asm, x| dynasm!(asm ; .arch x64 ; mulsd xmm0, Rx(x)));
            }
            Op::Div { d, a, b } if self.kinds.arith(pc, a, b) == Kind::Float => {
                self.float_arith(pc, d, a, b, |asm, x| dynasm!(asm ; .arch x64 ; divsd xmm0, Rx(x)));
            }
            Op::Mul { d, a, b } if self.kinds.arith(pc, a, b) == Kind::Int => {
                self.int_in(pc, a, 0);
                self.int_in(pc, b, 1);
                dynasm!(self.a
                    ; .arch x64
                    ; xor rax, 1
                    ; sar rcx, 3
                    ; imul rax, rcx
                );
                if !mutant!(jit_mul_skips_overflow_check) {
                    dynasm!(self.a ; .arch x64 ; jo =>e);
                }
                dynasm!(self.a ; .arch x64 ; or rax, 1);
                self.store(d);
                self.count(1);
            }
            Op::Neg { d, a } if self.kind(pc, a) == Kind::Float => {
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, QWORD [rbx + reg(a)]
                    ; xor rax, 8 // a SmallFloat's sign is bit 3 of its word
                );
                self.store(d);
                if let Some(h) = self.kinds.home[d as usize] {
                    self.decode(0, h);
                }
                self.count(1);
            }
            Op::Sqrt { d, a } => {
                let x = self.float_in(pc, a, 0);
                dynasm!(self.a ; .arch x64 ; sqrtsd xmm0, Rx(x));
                self.encode(pc);
                self.store(d);
                self.set_home(d);
                self.count(1);
            }
            Op::Add { d, a, b } | Op::Sub { d, a, b } => {
                let sub = matches!(op, Op::Sub { .. });
                self.load_pair(a, b);
                dynasm!(self.a
                    ; .arch x64
                    ; test dl, 1
                    ; jz >not_ints
                );
                self.small_add_sub(pc, sub);
                dynasm!(self.a
                    ; .arch x64
                    ; jmp >store
                    ; not_ints:
                    ; test dl, 4
                    ; jz =>e
                );
                self.float_binop(pc, |a| {
                    if sub {
                        dynasm!(a ; .arch x64 ; subsd xmm0, xmm1);
                    } else {
                        dynasm!(a ; .arch x64 ; addsd xmm0, xmm1);
                    }
                });
                dynasm!(self.a ; .arch x64 ; store:);
                self.store(d);
                self.count(1);
            }
            Op::Mul { d, a, b } => {
                self.load_pair(a, b);
                dynasm!(self.a
                    ; .arch x64
                    ; test dl, 4
                    ; jnz >floats
                    ; test dl, 1
                    ; jz =>e
                    // (i << 3) * j overflows i64 exactly when i * j leaves the 61-bit range.
                    ; xor rax, 1
                    ; sar rcx, 3
                    ; imul rax, rcx
                );
                if !mutant!(jit_mul_skips_overflow_check) {
                    dynasm!(self.a ; .arch x64 ; jo =>e);
                }
                dynasm!(self.a
                    ; .arch x64
                    ; or rax, 1
                    ; jmp >store
                    ; floats:
                );
                self.float_binop(pc, |a| dynasm!(a ; .arch x64 ; mulsd xmm0, xmm1));
                dynasm!(self.a ; .arch x64 ; store:);
                self.store(d);
                self.count(1);
            }
            Op::Div { d, a, b } => {
                self.load_pair(a, b);
                dynasm!(self.a
                    ; .arch x64
                    ; test dl, 1
                    ; jz >not_ints
                );
                if !mutant!(jit_div_skips_zero_check) {
                    dynasm!(self.a ; .arch x64 ; cmp rcx, 1 ; je =>e); // a zero divisor: the interpreter traps
                }
                dynasm!(self.a
                    ; .arch x64
                    ; sar rax, 3
                    ; sar rcx, 3
                    ; cqo
                    ; idiv rcx
                    // The quotient leaves the range only for MIN / -1.
                    ; lea rcx, [rax * 8]
                    ; sar rcx, 3
                    ; cmp rcx, rax
                    ; jne =>e
                    ; lea rax, [rax * 8 + 1]
                    ; jmp >store
                    ; not_ints:
                    ; test dl, 4
                    ; jz =>e
                );
                self.float_binop(pc, |a| dynasm!(a ; .arch x64 ; divsd xmm0, xmm1));
                dynasm!(self.a ; .arch x64 ; store:);
                self.store(d);
                self.count(1);
            }
            Op::Rem { d, a, b } => {
                self.load_pair(a, b);
                dynasm!(self.a
                    ; .arch x64
                    ; test dl, 1
                    ; jz =>e
                    ; cmp rcx, 1
                    ; je =>e
                    ; sar rax, 3
                    ; sar rcx, 3
                    ; cqo
                    ; idiv rcx
                    ; lea rax, [rdx * 8 + 1]
                );
                self.store(d);
                self.count(1);
            }
            Op::Neg { d, a } => {
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, QWORD [rbx + reg(a)]
                    ; test al, 4
                    ; jz >not_float
                    // A SmallFloat's sign is bit 3 of its word.
                    ; xor rax, 8
                    ; jmp >store
                    ; not_float:
                    ; test al, 1
                    ; jz =>e
                    ; xor rax, 1
                    ; neg rax
                    ; jo =>e
                    ; or rax, 1
                    ; store:
                );
                self.store(d);
                self.count(1);
            }
            Op::Xor { d, a, b } => {
                self.load_pair(a, b);
                dynasm!(self.a ; .arch x64 ; test dl, 1 ; jz =>e ; xor rax, rcx ; or rax, 1);
                self.store(d);
                self.count(1);
            }
            Op::And { d, a, b } | Op::Or { d, a, b } => {
                let and = matches!(op, Op::And { .. });
                self.load_pair(a, b);
                dynasm!(self.a ; .arch x64 ; test dl, 1 ; jz >not_ints);
                if and {
                    dynasm!(self.a ; .arch x64 ; and rax, rcx);
                } else {
                    dynasm!(self.a ; .arch x64 ; or rax, rcx);
                }
                // Two bools: `a and b` is b when a is true, else false; `a or b` is true when a
                // is true, else b.
                dynasm!(self.a
                    ; .arch x64
                    ; jmp >store
                    ; not_ints:
                    ; cmp rcx, TRUE as i32
                    ; je >b_bool
                    ; cmp rcx, FALSE as i32
                    ; jne =>e
                    ; b_bool:
                    ; cmp rax, TRUE as i32
                    ; je >a_true
                    ; cmp rax, FALSE as i32
                    ; jne =>e
                );
                if and {
                    dynasm!(self.a ; .arch x64 ; jmp >store ; a_true: ; mov rax, rcx);
                } else {
                    dynasm!(self.a ; .arch x64 ; mov rax, rcx ; a_true:);
                }
                dynasm!(self.a ; .arch x64 ; store:);
                self.store(d);
                self.count(1);
            }
            Op::Not { d, a } => {
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, QWORD [rbx + reg(a)]
                    ; test al, 1
                    ; jz >not_int
                    ; not rax
                    ; and rax, -8
                    ; or rax, 1
                    ; jmp >store
                    ; not_int:
                    ; cmp rax, TRUE as i32
                    ; je >flip
                    ; cmp rax, FALSE as i32
                    ; jne =>e
                    ; flip:
                    ; xor rax, (TRUE ^ FALSE) as i32
                    ; store:
                );
                self.store(d);
                self.count(1);
            }
            Op::Shl { d, a, b } | Op::Shr { d, a, b } | Op::UShr { d, a, b } => {
                self.load_pair(a, b);
                dynasm!(self.a
                    ; .arch x64
                    ; test dl, 1
                    ; jz =>e
                    ; sar rcx, 3 // the amount: the hardware takes it mod 64, as `num::shift_amount`
                    ; sar rax, 3
                );
                match op {
                    Op::Shr { .. } => dynasm!(self.a ; .arch x64 ; sar rax, cl),
                    // The result of `shl`, and of `ushr` of a negative int, may need more than
                    // 61 bits: then the op leaves (the interpreter boxes it).
                    _ => {
                        if matches!(op, Op::Shl { .. }) {
                            dynasm!(self.a ; .arch x64 ; shl rax, cl);
                        } else if mutant!(jit_ushr_keeps_the_sign) {
                            dynasm!(self.a ; .arch x64 ; sar rax, cl);
                        } else {
                            dynasm!(self.a ; .arch x64 ; shr rax, cl);
                        }
                        dynasm!(self.a
                            ; .arch x64
                            ; lea rcx, [rax * 8]
                            ; sar rcx, 3
                            ; cmp rcx, rax
                            ; jne =>e
                        );
                    }
                }
                dynasm!(self.a ; .arch x64 ; lea rax, [rax * 8 + 1]);
                self.store(d);
                self.count(1);
            }
            Op::Eq { d, a, b } | Op::Ne { d, a, b } => {
                self.equal(pc, a, b, matches!(op, Op::Ne { .. }));
                self.bool_of_al();
                self.store(d);
                self.count(1);
            }
            Op::Lt { d, a, b } => self.cmp_op(pc, d, a, b, Ord4::Lt),
            Op::Le { d, a, b } => self.cmp_op(pc, d, a, b, Ord4::Le),
            Op::Gt { d, a, b } => self.cmp_op(pc, d, a, b, Ord4::Gt),
            Op::Ge { d, a, b } => self.cmp_op(pc, d, a, b, Ord4::Ge),
            Op::IToF { d, a } => {
                self.int_in(pc, a, 0);
                dynasm!(self.a
                    ; .arch x64
                    ; sar rax, 3
                    ; cvtsi2sd xmm0, rax
                );
                self.encode(pc);
                self.store(d);
                self.set_home(d);
                self.count(1);
            }
            Op::Jmp { t } => {
                self.count(1);
                self.goto(t as usize);
            }
            Op::JmpBack { t } => self.edge(pc, true, true, t as usize, pc + 1),
            Op::JmpIf { c, t } => self.jmp_if(pc, c, t as usize, true, false),
            Op::JmpIfNot { c, t } => self.jmp_if(pc, c, t as usize, false, false),
            Op::JmpIfBack { c, t } => self.jmp_if(pc, c, t as usize, true, true),
            Op::JmpIfNotBack { c, t } => self.jmp_if(pc, c, t as usize, false, true),
            Op::LtJmp { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Lt, t, on, false),
            Op::LeJmp { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Le, t, on, false),
            Op::GtJmp { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Gt, t, on, false),
            Op::GeJmp { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Ge, t, on, false),
            Op::LtJmpBack { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Lt, t, on, true),
            Op::LeJmpBack { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Le, t, on, true),
            Op::GtJmpBack { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Gt, t, on, true),
            Op::GeJmpBack { d, a, b, t, on } => self.cmp_jmp(pc, d, a, b, Ord4::Ge, t, on, true),
            Op::EqJmp { d, a, b, t, on } => self.eq_jmp(pc, d, a, b, false, t, on, false),
            Op::NeJmp { d, a, b, t, on } => self.eq_jmp(pc, d, a, b, true, t, on, false),
            Op::EqJmpBack { d, a, b, t, on } => self.eq_jmp(pc, d, a, b, false, t, on, true),
            Op::NeJmpBack { d, a, b, t, on } => self.eq_jmp(pc, d, a, b, true, t, on, true),
            Op::LdAdd { t, d, a, k } => self.ld_arith(pc, t, d, a, k, false),
            Op::LdSub { t, d, a, k } => self.ld_arith(pc, t, d, a, k, true),
            Op::GetF { d, o, slot, class } => {
                let word = HEADER_WORDS + slot as usize;
                self.object_of_class(pc, o, class);
                let shared = self.shared_unless_plain(false);
                dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rax + slot_offset(word)]);
                if let Some((shared, done)) = shared {
                    dynasm!(self.a ; .arch x64 ; jmp =>done ; =>shared ; mov rsi, rax ; mov edx, word as i32);
                    self.location_in(RCX, pc);
                    self.call_barrier(barriers::at::LOAD);
                    let e = self.exits[pc];
                    dynasm!(self.a ; .arch x64 ; test rdx, rdx ; jnz =>e ; =>done);
                }
                self.store(d);
                self.count(1);
            }
            Op::SetF { o, s, slot, class } => {
                let word = HEADER_WORDS + slot as usize;
                self.object_of_class(pc, o, class);
                let shared = self.shared_unless_plain(true);
                dynasm!(self.a
                    ; .arch x64
                    ; mov rcx, QWORD [rbx + reg(s)]
                    ; mov QWORD [rax + slot_offset(word)], rcx
                );
                if let Some((shared, done)) = shared {
                    dynasm!(self.a
                        ; .arch x64
                        ; jmp =>done
                        ; =>shared
                        ; mov rsi, rax
                        ; mov edx, word as i32
                        ; mov rcx, QWORD [rbx + reg(s)]
                    );
                    self.location_in(8, pc);
                    self.call_barrier(barriers::at::STORE);
                    dynasm!(self.a ; .arch x64 ; =>done);
                }
                self.count(1);
            }
            // The barrier flavour: the array's words through the helpers unless the array and
            // its storage are private to the transaction.
            Op::ALen { d, a } if !self.flavour.plain_memory => {
                let (shared, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
                self.array(pc, a);
                dynasm!(self.a
                    ; .arch x64
                    ; mov rdx, QWORD [rax + 8]
                    ; cmp rdx, QWORD [r12 + ctx::PRIVATE_TAG]
                    ; jne =>shared
                    ; mov rax, QWORD [rax + slot_offset(ARRAY_LEN)]
                    ; jmp =>done
                    ; =>shared
                    ; mov rsi, rax
                );
                self.location_in(RDX, pc);
                self.call_barrier(barriers::at::ALEN);
                let e = self.exits[pc];
                dynasm!(self.a
                    ; .arch x64
                    ; test rdx, rdx
                    ; jnz =>e
                    ; =>done
                    ; lea rax, [rax * 8 + 1] // a length (at most MAX_ARRAY_LEN) is a SmallInt
                );
                self.store(d);
                self.count(1);
            }
            Op::AGet { d, a, i } if !self.flavour.plain_memory => {
                let (shared, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
                self.private_element(pc, a, i, shared);
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, QWORD [rax + rcx * 8 + slot_offset(HEADER_WORDS)]
                    ; jmp =>done
                    ; =>shared
                    ; mov rdx, rcx
                );
                self.location_in(RCX, pc);
                self.call_barrier(barriers::at::AGET);
                let e = self.exits[pc];
                dynasm!(self.a ; .arch x64 ; test rdx, rdx ; jnz =>e ; =>done);
                self.store(d);
                self.count(1);
            }
            Op::ASet { a, i, s } if !self.flavour.plain_memory => {
                let (shared, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
                self.private_element(pc, a, i, shared);
                dynasm!(self.a
                    ; .arch x64
                    ; mov rdx, QWORD [rbx + reg(s)]
                    ; mov QWORD [rax + rcx * 8 + slot_offset(HEADER_WORDS)], rdx
                    ; jmp =>done
                    ; =>shared
                    ; mov rdx, rcx
                    ; mov rcx, QWORD [rbx + reg(s)]
                );
                self.location_in(8, pc);
                self.call_barrier(barriers::at::ASET);
                let e = self.exits[pc];
                dynasm!(self.a ; .arch x64 ; test rax, rax ; jnz =>e ; =>done);
                self.count(1);
            }
            Op::ALen { d, a } if self.flavour.plain_memory => {
                self.array(pc, a);
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, QWORD [rax + slot_offset(ARRAY_LEN)]
                    ; lea rax, [rax * 8 + 1] // a length (at most MAX_ARRAY_LEN) is a SmallInt
                );
                self.store(d);
                self.count(1);
            }
            Op::AGet { d, a, i } if self.flavour.plain_memory => {
                self.element(pc, a, i);
                dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rax + rcx * 8 + slot_offset(HEADER_WORDS)]);
                self.store(d);
                self.count(1);
            }
            Op::ASet { a, i, s } if self.flavour.plain_memory => {
                self.element(pc, a, i);
                dynasm!(self.a
                    ; .arch x64
                    ; mov rdx, QWORD [rbx + reg(s)]
                    ; mov QWORD [rax + rcx * 8 + slot_offset(HEADER_WORDS)], rdx
                );
                self.count(1);
            }
            // Other calls (dynamic, or of a function with a large frame): the helper does them on
            // the frame stack and says where to continue (`calls.rs`; `new` too, which allocates); compiled code jumps there, so guest calls never nest host
            // frames. The stack is 16-byte aligned here (the entry stub's pushes).
            Op::Call { d, argc, f, args } if self.inline_call(f, argc) => self.call(pc, d, argc, f, args),
            Op::Ret { s } => self.ret(pc, s),
            Op::Send { d, recv, argc, site, args } => self.send(pc, d, recv, argc, site, args),
            Op::New { d, class } if self.small_object(class).is_some() => self.new_object(pc, d, class),
            Op::Call { .. } | Op::CallV { .. } | Op::New { .. } => {
                let helper = super::calls::helper(self.flavour) as i64;
                // The window may have moved since entry (inline calls and returns): the helper
                // continues with the window it stores, the same one unless it calls or returns.
                dynasm!(self.a
                    ; .arch x64
                    ; mov QWORD [r12 + ctx::REGS], rbx
                    ; call ->sync
                    ; mov rdi, r12
                    ; mov esi, pc as i32
                    ; mov rax, QWORD helper
                    ; call rax
                    ; test rax, rax
                    ; jz ->leave_at_ctx_pc
                    ; call ->reload
                );
                // The callee's (or caller's) window, which the helper stored.
                if !mutant!(jit_stale_window_after_call) {
                    dynasm!(self.a ; .arch x64 ; mov rbx, QWORD [r12 + ctx::REGS]);
                }
                dynasm!(self.a ; .arch x64 ; jmp rax);
            }
            // Everything else: the interpreter (allocation, strings, threads, atomic blocks,
            // output, traps; heap access in the barrier flavour).
            _ => self.exit(pc),
        }
    }

    /// The size class and cell size of an instance of `class`, if it is a small cell (which
    /// `new` allocates inline).
    fn small_object(&self, class: u32) -> Option<(usize, usize)> {
        crate::heap::small_class(HEADER_WORDS + self.prog.nfields[class as usize] as usize)
    }

    /// `new d, class` inline, as `Heap::alloc`'s fast path (`heap::layout`): leaves before the
    /// op when the allocation would reach the collection threshold (the interpreter allocates
    /// and requests the collection) or when the size class has neither a free cell nor room in
    /// its chunk; else takes the free list's first cell or bumps the pointer, counts the bytes,
    /// and writes the header and the heap's tag. The fields are nil already: a free cell is zero
    /// but for its link in word 1, which the tag overwrites.
    fn new_object(&mut self, pc: usize, d: u16, class: u32) {
        use crate::heap::layout;
        let e = self.exits[pc];
        let (c, size) = self.small_object(class).expect("a small cell");
        let words = HEADER_WORDS + self.prog.nfields[class as usize] as usize;
        let free = (layout::FREE + c * 8) as i32;
        let cur = (layout::BUMP + c * layout::BUMP_PAIR + layout::BUMP_CUR) as i32;
        let end = (layout::BUMP + c * layout::BUMP_PAIR + layout::BUMP_END) as i32;
        let header = (i64::from(class) << 32) | KIND_OBJECT as i64;
        dynasm!(self.a
            ; .arch x64
            ; mov r8, QWORD [r12 + ctx::HEAP]
            ; mov rax, QWORD [r8 + layout::BYTES_SINCE_GC as i32]
            ; add rax, (words * 8) as i32
        );
        if !mutant!(jit_new_skips_gc_threshold) {
            dynasm!(self.a ; .arch x64 ; cmp rax, QWORD [r8 + layout::THRESHOLD as i32] ; jae =>e);
        }
        dynasm!(self.a
            ; .arch x64
            ; mov rdx, QWORD [r8 + free]
            ; test rdx, rdx
            ; jz >bump
            ; mov rsi, QWORD [rdx + 8] // the next free cell
            ; mov QWORD [r8 + free], rsi
            ; jmp >got
            ; bump:
            // (No chunk yet: both pointers are null, and null + size is past the end.)
            ; mov rdx, QWORD [r8 + cur]
            ; lea rsi, [rdx + (size * 8) as i32]
            ; cmp rsi, QWORD [r8 + end]
            ; ja =>e
            ; mov QWORD [r8 + cur], rsi
            ; got:
            ; mov QWORD [r8 + layout::BYTES_SINCE_GC as i32], rax
            ; mov rsi, QWORD [r8 + layout::TAG as i32]
            ; mov QWORD [rdx + 8], rsi
            ; mov rsi, QWORD header
            ; mov QWORD [rdx], rsi
            ; mov QWORD [rbx + reg(d)], rdx
        );
        self.count(1);
    }

    /// Whether a `call` of `f` is done inline: its frame is cleared with one store a register,
    /// so a frame of many registers goes through the helper.
    fn inline_call(&self, f: u32, argc: u16) -> bool {
        let callee = &self.prog.funcs[f as usize];
        callee.regs.saturating_sub(u32::from(argc)) <= MAX_INLINE_CLEAR
    }

    /// `call d, f, args` inline (`interp::control`'s `enter`, `[exec.call]`): leaves before the
    /// call for the interpreter's paths (a trap at the depth limit or without fuel, a register
    /// stack or frame stack that must grow, a requested collection at the entry, the end of the
    /// allowed boundaries, a callee not compiled yet); else copies the arguments, clears the
    /// callee's other registers, pushes its frame (the caller's pc becoming the return
    /// address), charges the entry's fuel, passes the call's boundary and jumps to the callee's
    /// code with the window moved to its frame.
    fn call(&mut self, pc: usize, d: u16, argc: u16, f: u32, args: u32) {
        self.call_checks(pc);
        self.enter(pc, d, f, None, argc, args);
    }

    /// The rest of a call of function `f`, known at compile time (a `call`, or a `send` whose
    /// receiver's class the code tested): leaves before the op if the register stack has no room
    /// for the callee's frame or the callee has no compiled code; else (a `send`: counts the
    /// site's hit and stores the receiver, in `r10`, as register 0) copies the arguments, clears
    /// the callee's other registers and pushes its frame. Expects `rcx` = the frame stack's
    /// length ([`Emitter::call_checks`]).
    fn enter(&mut self, pc: usize, d: u16, f: u32, send_site: Option<u32>, argc: u16, args: u32) {
        let e = self.exits[pc];
        let caller_regs = self.prog.funcs[self.func as usize].regs as i32;
        let callee_regs = self.prog.funcs[f as usize].regs as i32;
        let room = (caller_regs + callee_regs + FILL_SLACK as i32) * 8;
        dynasm!(self.a
            ; .arch x64
            ; lea rdx, [rbx + room]
        );
        if !mutant!(jit_call_skips_room_check) {
            dynasm!(self.a ; .arch x64 ; cmp rdx, QWORD [r12 + ctx::REGS_END] ; ja =>e);
        }
        // A send's receiver is of the callee's self class, if it has one (`jit::self_classes`):
        // its entry from here is op 0's code itself, past the check of that fact.
        let past_check = (send_site.is_some() || mutant!(jit_call_enters_past_self_check))
            && self.self_classes[f as usize].is_some();
        let table = if past_check { ctx::BODIES } else { ctx::ENTRIES };
        dynasm!(self.a
            ; .arch x64
            ; mov r9, QWORD [r12 + table]
            ; mov r9, QWORD [r9 + (f as i32) * 8]
            ; test r9, r9
            ; jz =>e
        );
        // The callee's registers follow the caller's: the receiver of a send, the arguments,
        // then nil.
        let first = i32::from(send_site.is_some());
        if let Some(site) = send_site {
            dynasm!(self.a
                ; .arch x64
                ; mov r11, QWORD [r12 + ctx::IC_SITES]
                ; add QWORD [r11 + site_offset(site) + SITE_HITS], 1
                ; mov QWORD [rbx + caller_regs * 8], r10
            );
        }
        let pool = &self.prog.arg_pool[args as usize..args as usize + argc as usize];
        for (i, &a) in pool.iter().enumerate() {
            dynasm!(self.a
                ; .arch x64
                ; mov rsi, QWORD [rbx + reg(a)]
                ; mov QWORD [rbx + (caller_regs + first + i as i32) * 8], rsi
            );
        }
        dynasm!(self.a ; .arch x64 ; xor esi, esi);
        for j in first + i32::from(argc)..callee_regs {
            dynasm!(self.a ; .arch x64 ; mov QWORD [rbx + (caller_regs + j) * 8], rsi);
        }
        dynasm!(self.a ; .arch x64 ; mov eax, f as i32);
        self.push_frame_and_jump(pc, d);
    }

    /// The checks of a call that do not depend on the callee (`call`, `send`), leaving rcx =
    /// the frame stack's length.
    fn call_checks(&mut self, pc: usize) {
        let e = self.exits[pc];
        dynasm!(self.a
            ; .arch x64
            ; test rbp, rbp // a boundary, fuel, no safepoint due
            ; jz =>e
            ; mov rcx, QWORD [r12 + ctx::FRAMES_LEN]
            ; cmp rcx, MAX_CALL_DEPTH as i32
            ; jae =>e
            ; cmp rcx, QWORD [r12 + ctx::FRAMES_CAP]
            ; jae =>e
        );
    }

    /// Pushes the callee's frame (function in `eax`, frame stack length in `rcx`), charges the
    /// entry's fuel, passes the boundary, moves the window and jumps to `r9`, the callee's code.
    fn push_frame_and_jump(&mut self, pc: usize, d: u16) {
        let caller_regs = self.prog.funcs[self.func as usize].regs as i32;
        // The frames (16 bytes: func, base, pc, dst): the caller's is the last one.
        const _: () = assert!(std::mem::size_of::<crate::thread::Frame>() == 16);
        dynasm!(self.a
            ; .arch x64
            ; mov rdi, QWORD [r12 + ctx::FRAMES]
            ; shl rcx, 4
            ; add rdi, rcx
            ; mov DWORD [rdi - 8], (pc + 1) as i32
            ; mov esi, DWORD [rdi - 12]
            ; add esi, caller_regs
            ; mov DWORD [rdi], eax
            ; mov DWORD [rdi + 4], esi
            ; mov DWORD [rdi + 8], 0
            ; mov WORD [rdi + 12], d as i16
            ; add QWORD [r12 + ctx::FRAMES_LEN], 1
            // The call's boundary and [exec.fuel] on entry; not a backward jump.
            ; sub rbp, 1
            ; add QWORD [r12 + ctx::BACK_JUMPS], 1
            ; mov QWORD [r12 + ctx::SEG_START], 0
        );
        if mutant!(jit_call_skips_fuel) {
            dynasm!(self.a ; .arch x64 ; add QWORD [r13], 1);
        }
        self.count(1);
        if !mutant!(jit_stale_window_after_call) {
            dynasm!(self.a ; .arch x64 ; add rbx, caller_regs * 8);
        }
        dynasm!(self.a ; .arch x64 ; jmp r9);
    }

    /// `send d, recv.site(args)` inline: the receiver's class from its header, then either
    /// tests of that class against the class table's answers for the selector (when few runs of
    /// classes understand it: [`Emitter::send_targets`]), each leading to a call of its method
    /// known at compile time ([`Emitter::enter`]); or, for other selectors, a hit in the site's
    /// monomorphic or polymorphic inline cache (counted as the interpreter counts it; a miss
    /// leaves, and the interpreter looks the method up and fills the cache), the arity, then the
    /// call's checks and work as in [`Emitter::call`], with the callee's register count read at
    /// run time. A receiver of no class the tests name leaves: the interpreter looks it up, or
    /// traps.
    #[allow(clippy::too_many_arguments)]
    fn send(&mut self, pc: usize, d: u16, recv: u16, argc: u16, site: u32, args: u32) {
        let e = self.exits[pc];
        let caller_regs = self.prog.funcs[self.func as usize].regs as i32;
        self.call_checks(pc);
        let known = match self.kind(pc, recv) {
            Kind::Object(c) => Some(c),
            _ => None,
        };
        let targets = self.send_targets(site, argc);
        dynasm!(self.a ; .arch x64 ; mov r10, QWORD [rbx + reg(recv)]);
        // A receiver known to be of a class every class below which calls one method needs no
        // test at all.
        if let (Some(k), Some(targets)) = (known, &targets) {
            let under = self.classes_under(k);
            let within = |runs: &[ClassRun]| {
                under.iter().all(|u| runs.iter().any(|r| r.first <= u.first && u.first + u.len <= r.first + r.len))
            };
            let mutant = mutant!(jit_send_known_receiver_skips_test);
            if let Some(&(f, _)) = targets.iter().find(|t| within(&t.1) || mutant) {
                self.enter(pc, d, f, Some(site), argc, args);
                return;
            }
        }
        if known.is_none() {
            dynasm!(self.a
                ; .arch x64
                ; test r10b, 7
                ; jnz =>e
                ; test r10, r10
                ; jz =>e
            );
        }
        dynasm!(self.a ; .arch x64 ; mov rdx, QWORD [r10]);
        if known.is_none() {
            dynasm!(self.a
                ; .arch x64
                ; mov esi, edx
                ; and esi, 0xf
                ; cmp esi, KIND_OBJECT
                ; jne =>e
            );
        }
        dynasm!(self.a ; .arch x64 ; shr rdx, 32); // the class
        if let Some(targets) = targets {
            let labels: Vec<DynamicLabel> = targets.iter().map(|_| self.a.new_dynamic_label()).collect();
            if mutant!(jit_send_skips_class_test) {
                dynasm!(self.a ; .arch x64 ; jmp =>labels[0]);
            }
            for (t, &l) in targets.iter().zip(&labels) {
                self.jump_if_class_in(&t.1, l, RDX, RSI);
            }
            dynasm!(self.a ; .arch x64 ; jmp =>e);
            for (t, &l) in targets.iter().zip(&labels) {
                dynasm!(self.a ; .arch x64 ; =>l);
                self.enter(pc, d, t.0, Some(site), argc, args);
            }
            return;
        }
        let site_offset = site_offset(site);
        dynasm!(self.a
            ; .arch x64
            ; mov r11, QWORD [r12 + ctx::IC_SITES]
            ; add r11, site_offset
            ; mov esi, DWORD [r11]
            ; cmp esi, 1 // monomorphic
            ; jne >poly
        );
        if !mutant!(jit_ic_hit_skips_class_check) {
            dynasm!(self.a ; .arch x64 ; cmp DWORD [r11 + 4], edx ; jne =>e);
        }
        dynasm!(self.a
            ; .arch x64
            ; mov eax, DWORD [r11 + 8]
            ; jmp >hit
            ; poly:
            ; cmp esi, 2
            ; jne =>e
            ; movzx esi, BYTE [r11 + 4]
        );
        for k in 0..crate::inline_cache::POLY_MAX as i32 {
            dynasm!(self.a
                ; .arch x64
                ; cmp esi, k
                ; jbe =>e
                ; cmp DWORD [r11 + 8 + 8 * k], edx
                ; jne >next
                ; mov eax, DWORD [r11 + 12 + 8 * k]
                ; jmp >hit
                ; next:
            );
        }
        dynasm!(self.a
            ; .arch x64
            ; jmp =>e
            ; hit:
            // The method: its arity (with the receiver), its registers, its code.
            ; mov rsi, QWORD [r12 + ctx::FUNCS]
            ; cmp DWORD [rsi + rax * 8], (i32::from(argc) + 1)
            ; jne =>e
            ; mov r8d, DWORD [rsi + rax * 8 + 4]
            ; lea rdx, [rbx + r8 * 8 + (caller_regs + FILL_SLACK as i32) * 8]
            ; cmp rdx, QWORD [r12 + ctx::REGS_END]
            ; ja =>e
            ; mov r9, QWORD [r12 + ctx::ENTRIES]
            ; mov r9, QWORD [r9 + rax * 8]
            ; test r9, r9
            ; jz =>e
            // Committed: count the hit; the receiver, the arguments, then nil up to the
            // callee's register count.
            ; add QWORD [r11 + SITE_HITS], 1
            ; mov QWORD [rbx + caller_regs * 8], r10
        );
        let pool = &self.prog.arg_pool[args as usize..args as usize + argc as usize];
        for (i, &a) in pool.iter().enumerate() {
            dynasm!(self.a
                ; .arch x64
                ; mov rsi, QWORD [rbx + reg(a)]
                ; mov QWORD [rbx + (caller_regs + 1 + i as i32) * 8], rsi
            );
        }
        dynasm!(self.a
            ; .arch x64
            ; lea rdi, [rbx + (caller_regs + 1 + i32::from(argc)) * 8]
            ; lea rdx, [rbx + r8 * 8 + caller_regs * 8]
            ; xor esi, esi
            ; clear:
            ; cmp rdi, rdx
            ; jae >cleared
            ; mov QWORD [rdi], rsi
            ; add rdi, 8
            ; jmp <clear
            ; cleared:
        );
        self.push_frame_and_jump(pc, d);
    }

    /// `ret s` inline: leaves before it at the thread's last frame (its end), at the end of the
    /// allowed boundaries, or when the caller has no compiled code; else pops the frame, stores
    /// the result in the caller's destination register, passes the boundary and jumps to the
    /// caller's code at its return address.
    fn ret(&mut self, pc: usize, s: u16) {
        let e = self.exits[pc];
        dynasm!(self.a
            ; .arch x64
            ; test rbp, rbp
            ; jz =>e
            ; mov rcx, QWORD [r12 + ctx::FRAMES_LEN]
            ; cmp rcx, 2
            ; jb =>e
            ; mov rdi, QWORD [r12 + ctx::FRAMES]
            ; shl rcx, 4
            ; add rdi, rcx // the returning frame at rdi - 16, the caller's at rdi - 32
            ; mov eax, DWORD [rdi - 32]
            ; mov rdx, QWORD [r12 + ctx::RESUMES]
            ; mov rdx, QWORD [rdx + rax * 8]
            ; test rdx, rdx
            ; jz =>e
            ; mov eax, DWORD [rdi - 24]
            ; mov rdx, QWORD [rdx + rax * 8]
            ; mov rsi, QWORD [rbx + reg(s)]
            ; movzx ecx, WORD [rdi - 4]
            ; mov r8d, DWORD [rdi - 28]
            ; mov r9, QWORD [r12 + ctx::REGS_LO]
            ; lea rbx, [r9 + r8 * 8]
            ; mov QWORD [rbx + rcx * 8], rsi
            ; sub QWORD [r12 + ctx::FRAMES_LEN], 1
            // The return's boundary: neither fuel nor a backward jump.
            ; sub rbp, 1
            ; add QWORD [r13], 1
            ; add QWORD [r12 + ctx::BACK_JUMPS], 1
            ; mov QWORD [r12 + ctx::SEG_START], rax
        );
        self.count(1);
        dynasm!(self.a ; .arch x64 ; jmp rdx);
    }

    /// `al` = whether registers `a` and `b` are equal (`negate`: unequal), for the cases the
    /// words decide (`interp::arith::equal`): two SmallInts, or an operand that is nil, a bool,
    /// a function or a thread. Others (strings, boxed numbers, floats, where -0.0 == 0.0) leave.
    fn equal(&mut self, pc: usize, a: u16, b: u16, negate: bool) {
        self.equal_flags(pc, a, b);
        if negate {
            dynasm!(self.a ; .arch x64 ; setne al);
        } else {
            dynasm!(self.a ; .arch x64 ; sete al);
        }
    }

    /// ZF = whether registers `a` and `b` are equal, as [`Emitter::equal`] decides it.
    fn equal_flags(&mut self, pc: usize, a: u16, b: u16) {
        let e = self.exits[pc];
        self.load_pair(a, b);
        dynasm!(self.a
            ; .arch x64
            ; test dl, 1
            ; jnz >decided
            ; test rax, rax
            ; jz >decided
            ; test rcx, rcx
            ; jz >decided
            ; mov edx, eax
            ; or edx, ecx
            ; test dl, 2
            ; jnz >decided
            // An object or array operand: equal only to itself (`ops::equal` compares numbers
            // and strings by value, anything else by identity).
            ; test al, 7
            ; jnz >other
            ; mov edx, DWORD [rax]
            ; and edx, 0xf
            ; cmp edx, KIND_ARRAY
            ; jbe >decided
            ; other:
            ; test cl, 7
            ; jnz =>e
            ; mov edx, DWORD [rcx]
            ; and edx, 0xf
            ; cmp edx, KIND_ARRAY
            ; ja =>e
            ; decided:
            ; cmp rax, rcx
        );
    }

    /// `al` = the ordering `c` on registers `a` and `b`: SmallInt words compare as signed
    /// integers, SmallFloats by `ucomisd` (false when unordered, as `partial_cmp`); others leave.
    fn compare(&mut self, pc: usize, a: u16, b: u16, c: Ord4) {
        let e = self.exits[pc];
        self.load_pair(a, b);
        dynasm!(self.a
            ; .arch x64
            ; test dl, 1
            ; jz >not_ints
            ; cmp rax, rcx
        );
        match c {
            Ord4::Lt => dynasm!(self.a ; .arch x64 ; setl al),
            Ord4::Le => dynasm!(self.a ; .arch x64 ; setle al),
            Ord4::Gt => dynasm!(self.a ; .arch x64 ; setg al),
            Ord4::Ge => dynasm!(self.a ; .arch x64 ; setge al),
        }
        dynasm!(self.a
            ; .arch x64
            ; jmp >done
            ; not_ints:
            ; test dl, 4
            ; jz =>e
        );
        self.decode(0, 0);
        self.decode(1, 1);
        // `seta`/`setae` are false when unordered (CF set): x < y is y > x.
        match c {
            Ord4::Lt => dynasm!(self.a ; .arch x64 ; ucomisd xmm1, xmm0 ; seta al),
            Ord4::Le => dynasm!(self.a ; .arch x64 ; ucomisd xmm1, xmm0 ; setae al),
            Ord4::Gt => dynasm!(self.a ; .arch x64 ; ucomisd xmm0, xmm1 ; seta al),
            Ord4::Ge => dynasm!(self.a ; .arch x64 ; ucomisd xmm0, xmm1 ; setae al),
        }
        dynasm!(self.a ; .arch x64 ; done:);
    }

    fn cmp_op(&mut self, pc: usize, d: u16, a: u16, b: u16, c: Ord4) {
        self.compare(pc, a, b, c);
        self.bool_of_al();
        self.store(d);
        self.count(1);
    }

    /// One way out of a conditional or unconditional jump at `pc` (to `t` when `taken`, else to
    /// `next`), with the jump's accounting (`interp::control`): a taken backward jump charges
    /// fuel, is a safepoint and ends a segment; a backward jump not taken ends a segment. Leaves
    /// before the jump when the fuel is gone or the context's counters say the mode must be
    /// consulted (a collection, a validation, the end of the budget).
    fn edge(&mut self, pc: usize, taken: bool, back: bool, t: usize, next: usize) {
        let e = self.exits[pc];
        let to = if taken { t } else { next };
        if back {
            // A taken backward jump spends one of each counter; one not taken only a boundary,
            // so the other two get theirs back.
            dynasm!(self.a
                ; .arch x64
                ; test rbp, rbp
                ; jz =>e
                ; sub rbp, 1
            );
            if !taken {
                dynasm!(self.a
                    ; .arch x64
                    ; add QWORD [r13], 1
                    ; add QWORD [r12 + ctx::BACK_JUMPS], 1
                );
            }
            dynasm!(self.a ; .arch x64 ; mov QWORD [r12 + ctx::SEG_START], to as i32);
        }
        self.count(1);
        self.goto(to);
    }

    /// The calls of tier-2 loops ([`Emitter::start`] jumps to one with the cell's entry address
    /// in `rax` when compiled code arrives at a loop's header and the cell has one).
    fn region_stubs(&mut self) {
        for (call, cell) in std::mem::take(&mut self.region_calls) {
            dynasm!(self.a ; .arch x64 ; =>call);
            self.enter_region(cell);
        }
    }

    /// The ways into a function that is a tier-2 region (`tier2::regions`, a whole function):
    /// a call's (`JitCtx::entries`, and the helpers' calls) and a send's past op 0's entry
    /// check (`JitCtx::bodies`). Each calls the region when its cell has an entry address, as
    /// a loop's header does ([`Emitter::start`]), and otherwise goes on to op 0 as it would
    /// without the region. Returns their offsets. Only calls come here: a region leaving at
    /// op 0 (its entry failed) continues through the resume table, which does not.
    fn function_entry(&mut self, cell: usize) -> (u32, u32) {
        let call = self.a.new_dynamic_label();
        self.region_calls.push((call, cell));
        let check0 = self.check0.unwrap_or(self.labels[0]);
        let way_in = |a: &mut VecAssembler<X64Relocation>, to: DynamicLabel| {
            let at = a.offset().0 as u32;
            dynasm!(a
                ; .arch x64
                ; mov rax, QWORD cell as i64
                ; mov rax, QWORD [rax]
                ; test rax, rax
                ; jnz =>call
                ; jmp =>to
            );
            at
        };
        let entry = way_in(&mut self.a, check0);
        let body = way_in(&mut self.a, self.labels[0]);
        (entry, body)
    }

    /// Compiled code arriving at `h`, a tier-2 loop's header, whose cell has an entry address
    /// (in `rax`): calls the loop's code (an ordinary System V call: the stack is 16-byte
    /// aligned between templates, and the pinned registers are callee-saved), with the
    /// counters in sync before and the budget register reloaded after, then continues at the
    /// op whose pc it returns, through that op's entry check (its resume table entry). The
    /// context's `regs` is set to the window first (planted bug: `tier2_stale_window`).
    fn enter_region(&mut self, cell: usize) {
        let resumes = ctx::RESUMES;
        let func = self.func as i32 * 8;
        dynasm!(self.a
            ; .arch x64
            ; call ->sync
        );
        if !mutant!(tier2_stale_window) {
            // The window is rbx: the context's copy lags behind after inline calls and
            // returns, and the region reads the registers through it.
            dynasm!(self.a ; .arch x64 ; mov QWORD [r12 + ctx::REGS], rbx);
        }
        // The third argument, the depth of region calls, is 0: a region called from here is
        // the outermost. A return of 2^32 or more says the region called another that left,
        // and the top frame is another function's (`tier2/`, "Calls"): the driver continues
        // there, at the pc in the low half.
        dynasm!(self.a
            ; .arch x64
            ; mov rdi, r12
            ; mov rsi, QWORD cell as i64
            ; xor edx, edx
            ; call rax
            ; call ->reload
            ; mov rcx, rax
            ; shr rcx, 32
            ; jz >same
            ; mov eax, eax
            ; jmp ->leave
            ; same:
        );
        self.poison_homes();
        dynasm!(self.a
            ; .arch x64
            ; mov rcx, QWORD [r12 + resumes]
            ; mov rcx, QWORD [rcx + func]
            ; jmp QWORD [rcx + rax * 8]
        );
    }

    /// `jmpif`/`jmpifnot` (`on`) at `pc` on register `c`: a bool, or leave (the type error).
    fn jmp_if(&mut self, pc: usize, c: u16, t: usize, on: bool, back: bool) {
        let e = self.exits[pc];
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD [rbx + reg(c)]
            ; cmp rax, TRUE as i32
            ; je >is_true
            ; cmp rax, FALSE as i32
            ; jne =>e
        );
        self.edge(pc, !on, back, t, pc + 1);
        dynasm!(self.a ; .arch x64 ; is_true:);
        self.edge(pc, on, back, t, pc + 1);
    }

    /// The second half of a fused comparison and jump (`code::fuse`) at `pc`, the jump at
    /// `pc + 1` (its accounting and exits are its own): the code for the comparison's result
    /// `value`, which is stored in `d` as a constant (the flags chose the way), then the jump's
    /// way out for that result.
    #[allow(clippy::too_many_arguments)]
    fn fused_way(&mut self, pc: usize, d: u16, value: bool, t: u32, on: bool, back: bool) {
        const _: () = assert!(FALSE == 0x0a && TRUE == 0x12);
        let word = if value { TRUE } else { FALSE };
        dynasm!(self.a ; .arch x64 ; mov QWORD [rbx + reg(d)], word as i32);
        self.count(1);
        let j = pc + 1;
        self.edge(j, value == on, back, t as usize, j + 1);
    }

    /// Both ways out of a fused comparison and jump: `is_true` and `is_false` are bound here.
    #[allow(clippy::too_many_arguments)]
    fn fused_ways(
        &mut self,
        pc: usize,
        d: u16,
        t: u32,
        on: bool,
        back: bool,
        is_true: DynamicLabel,
        is_false: DynamicLabel,
    ) {
        dynasm!(self.a ; .arch x64 ; =>is_false);
        self.fused_way(pc, d, false, t, on, back);
        dynasm!(self.a ; .arch x64 ; =>is_true);
        self.fused_way(pc, d, true, t, on, back);
    }

    /// A fused ordering and jump: SmallInts compared and branched on in one `cmp`/`jcc`,
    /// SmallFloats (out of line) by `ucomisd`, where the `a` conditions are false when
    /// unordered (as `partial_cmp`); others leave.
    #[allow(clippy::too_many_arguments)]
    fn cmp_jmp(&mut self, pc: usize, d: u16, a: u16, b: u16, c: Ord4, t: u32, on: bool, back: bool) {
        let e = self.exits[pc];
        let is_true = self.a.new_dynamic_label();
        let is_false = self.a.new_dynamic_label();
        match arith_kind(self.kind(pc, a), self.kind(pc, b)) {
            Kind::Float => {
                let xa = self.float_in(pc, a, 0);
                let xb = self.float_in(pc, b, 1);
                self.jump_if_float_order(c, xa, xb, is_true);
                self.fused_ways(pc, d, t, on, back, is_true, is_false);
                return;
            }
            Kind::Int => {
                self.int_in(pc, a, 0);
                self.int_in(pc, b, 1);
                dynasm!(self.a ; .arch x64 ; cmp rax, rcx);
                self.jump_if_int_order(c, is_true);
                self.fused_ways(pc, d, t, on, back, is_true, is_false);
                return;
            }
            _ => {}
        }
        let floats = self.a.new_dynamic_label();
        self.load_pair(a, b);
        dynasm!(self.a
            ; .arch x64
            ; test dl, 1
            ; jz =>floats
            ; cmp rax, rcx
        );
        self.jump_if_int_order(c, is_true);
        self.fused_ways(pc, d, t, on, back, is_true, is_false);
        dynasm!(self.a
            ; .arch x64
            ; =>floats
            ; test dl, 4
            ; jz =>e
        );
        self.decode(0, 0);
        self.decode(1, 1);
        // x < y is y > x; `ja`/`jae` are not taken when unordered (CF set).
        self.jump_if_float_order(c, 0, 1, is_true);
        dynasm!(self.a ; .arch x64 ; jmp =>is_false);
    }

    /// Jumps to `to` if the flags of `cmp rax, rcx` (two SmallInt words) say ordering `c`.
    fn jump_if_int_order(&mut self, c: Ord4, to: DynamicLabel) {
        match c {
            Ord4::Lt => dynasm!(self.a ; .arch x64 ; jl =>to),
            Ord4::Le => dynasm!(self.a ; .arch x64 ; jle =>to),
            Ord4::Gt => dynasm!(self.a ; .arch x64 ; jg =>to),
            Ord4::Ge => dynasm!(self.a ; .arch x64 ; jge =>to),
        }
    }

    /// Jumps to `to` if the doubles in xmm registers `xa` and `xb` are in ordering `c`: x < y
    /// is y > x, and `ja`/`jae` are not taken when unordered (CF set), as `partial_cmp`.
    fn jump_if_float_order(&mut self, c: Ord4, xa: u8, xb: u8, to: DynamicLabel) {
        match c {
            Ord4::Lt => dynasm!(self.a ; .arch x64 ; ucomisd Rx(xb), Rx(xa) ; ja =>to),
            Ord4::Le => dynasm!(self.a ; .arch x64 ; ucomisd Rx(xb), Rx(xa) ; jae =>to),
            Ord4::Gt => dynasm!(self.a ; .arch x64 ; ucomisd Rx(xa), Rx(xb) ; ja =>to),
            Ord4::Ge => dynasm!(self.a ; .arch x64 ; ucomisd Rx(xa), Rx(xb) ; jae =>to),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eq_jmp(&mut self, pc: usize, d: u16, a: u16, b: u16, negate: bool, t: u32, on: bool, back: bool) {
        let is_true = self.a.new_dynamic_label();
        let is_false = self.a.new_dynamic_label();
        self.equal_flags(pc, a, b);
        if negate {
            dynasm!(self.a ; .arch x64 ; jne =>is_true);
        } else {
            dynasm!(self.a ; .arch x64 ; je =>is_true);
        }
        self.fused_ways(pc, d, t, on, back, is_true, is_false);
    }

    /// `ldi t, K` at `pc` fused with `add`/`sub d, a, t` at `pc + 1` (`code::fuse`; `K` a
    /// SmallInt): the constant is stored, then the arithmetic leaves before its own op if `a`
    /// is no SmallInt or the result leaves the range.
    fn ld_arith(&mut self, pc: usize, t: u16, d: u16, a: u16, k: Value, sub: bool) {
        let e = self.exits[pc + 1];
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD k as i64
            ; mov QWORD [rbx + reg(t)], rax
        );
        self.count(1);
        // A fact about `a` at `pc` still holds after the constant's store unless `a` is `t`,
        // which then holds the SmallInt `k`.
        dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rbx + reg(a)]);
        if a != t && self.kind(pc, a) != Kind::Int {
            dynasm!(self.a ; .arch x64 ; test al, 1 ; jz =>e);
        }
        dynasm!(self.a ; .arch x64 ; mov rcx, QWORD (k ^ 1) as i64);
        if sub {
            dynasm!(self.a ; .arch x64 ; sub rax, rcx);
        } else {
            dynasm!(self.a ; .arch x64 ; add rax, rcx);
        }
        dynasm!(self.a ; .arch x64 ; jo =>e);
        self.store(d);
        self.count(1);
        self.goto(pc + 2);
    }

    /// `rax` = register `o` if it is an object that passes the test for class `class` (known at
    /// op `pc`, or tested); else leave.
    fn object_of_class(&mut self, pc: usize, o: u16, class: u32) {
        let known = match self.kind(pc, o) {
            // An instance of `c` or below is one of `class` or below when `c` is.
            // SAFETY: both are class indices of the program ([verify.class-range]).
            Kind::Object(c) => {
                c == class || unsafe { self.prog.is_subclass(c, class) } || mutant!(jit_object_fact_any_class)
            }
            _ => false,
        };
        if known {
            dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rbx + reg(o)]);
        } else {
            self.check_object_of_class(pc, o, class);
        }
    }

    /// `rax` = register `o` if it is an object of class `class` or one of its first subclasses;
    /// else leave (an instance of another subclass too: the interpreter's display lookup decides,
    /// and the type error is its).
    fn check_object_of_class(&mut self, pc: usize, o: u16, class: u32) {
        let e = self.exits[pc];
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD [rbx + reg(o)]
            ; test al, 7
            ; jnz =>e
            ; test rax, rax
            ; jz =>e
            ; mov rcx, QWORD [rax] // the header: kind in bits 0-3, class in bits 32-63
            ; mov edx, ecx
            ; and edx, 0xf
            ; cmp edx, KIND_OBJECT
            ; jne =>e
        );
        if !mutant!(jit_field_skips_class_check) {
            let ok = self.a.new_dynamic_label();
            dynasm!(self.a ; .arch x64 ; shr rcx, 32);
            let mut runs = self.classes_under(class);
            runs.truncate(MAX_CLASS_TESTS);
            self.jump_if_class_in(&runs, ok, RCX, RDX);
            dynasm!(self.a ; .arch x64 ; jmp =>e ; =>ok);
        }
    }

    /// The methods a `send` at `site` with `argc` arguments calls, each with the classes whose
    /// receivers call it (runs of consecutive class indices), from the program's class table
    /// ([exec.method-lookup]); a class whose method has another arity is left out (its
    /// receivers leave, and the interpreter traps). `None` sends through the site's inline
    /// cache: the classes that understand the selector make more than [`MAX_SEND_RUNS`] runs,
    /// the program has more than [`MAX_SEND_SCAN`] classes, or a method has more registers than
    /// an inline call clears.
    fn send_targets(&mut self, site: u32, argc: u16) -> Option<SendTargets> {
        let selector = self.prog.sites[site as usize].selector;
        if let Some(t) = self.send_targets.get(&(selector, argc)) {
            return t.clone();
        }
        let answer = class_table_targets(self.prog, selector, argc).filter(|targets| {
            targets
                .iter()
                .all(|t| self.prog.funcs[t.0 as usize].regs.saturating_sub(u32::from(argc)) <= MAX_INLINE_CLEAR)
        });
        self.send_targets.insert((selector, argc), answer.clone());
        answer
    }

    /// `class` and its subclasses, as runs of consecutive class indices (an instance of a
    /// subclass past the runs a template tests leaves: the interpreter's display lookup decides).
    fn classes_under(&self, class: u32) -> Vec<ClassRun> {
        let n = self.prog.classes.len() as u32;
        // SAFETY: both are class indices of the program (`class` an operand the verifier
        // checked [verify.class-range]).
        let under = (0..n).filter(|&c| c == class || unsafe { self.prog.is_subclass(c, class) });
        class_runs(under)
    }

    /// Jumps to `to` when register `class` (a class index) lies in one of `runs` (clobbers
    /// `scratch`): one compare for a single class, an unsigned range test for a longer run.
    fn jump_if_class_in(&mut self, runs: &[ClassRun], to: DynamicLabel, class: u8, scratch: u8) {
        for &ClassRun { first, len } in runs {
            if len == 1 {
                dynasm!(self.a ; .arch x64 ; cmp Rd(class), first as i32 ; je =>to);
            } else if first == 0 {
                dynasm!(self.a ; .arch x64 ; cmp Rd(class), len as i32 ; jb =>to);
            } else {
                dynasm!(self.a
                    ; .arch x64
                    ; lea Rd(scratch), [Rq(class) - first as i32]
                    ; cmp Rd(scratch), len as i32
                    ; jb =>to
                );
            }
        }
    }

    /// In the barrier flavour, a jump to the first label returned unless the object in `rax`
    /// is private to the running transaction (its STM word, word 1, is the transaction's tag):
    /// its fields are then read and written plainly, as the barriers do. The caller's code at
    /// that label has a shared object's field go through the STM's read or write path (a
    /// helper of `barriers.rs`) and continues at the second. `None` in the plain flavour.
    /// (`store`: the op writes.)
    fn shared_unless_plain(&mut self, store: bool) -> Option<(DynamicLabel, DynamicLabel)> {
        if self.flavour.plain_memory || (store && mutant!(jit_store_without_barrier)) {
            return None;
        }
        let (shared, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
        dynasm!(self.a
            ; .arch x64
            ; mov rdx, QWORD [rax + 8]
            ; cmp rdx, QWORD [r12 + ctx::PRIVATE_TAG]
            ; jne =>shared
        );
        Some((shared, done))
    }

    /// Register `r` (a number for dynasm) = op `pc`'s location for the barrier helpers
    /// (`func << 32 | pc`: conflict reports name it).
    fn location_in(&mut self, r: u8, pc: usize) {
        let at = (i64::from(self.func) << 32) | pc as i64;
        dynasm!(self.a ; .arch x64 ; mov Rq(r), QWORD at);
    }

    /// Calls the barrier helper at `offset` in `JitCtx::barriers` with the mode as its first
    /// argument (its others already in `rsi`, `rdx`, `rcx`, `r8`), keeping the float homes
    /// (`xmm2`-`xmm15`, which the System V convention lets it clobber) on the stack across it.
    /// The stack is 16-byte aligned at every op (the entry stub's pushes), and stays so.
    fn call_barrier(&mut self, offset: i32) {
        let mut homes: Vec<u8> = self.kinds.home.iter().flatten().copied().collect();
        homes.sort_unstable();
        homes.dedup();
        let frame = (homes.len() as i32 * 8 + 15) & !15;
        if frame > 0 {
            dynasm!(self.a ; .arch x64 ; sub rsp, frame);
        }
        for (j, &h) in homes.iter().enumerate() {
            dynasm!(self.a ; .arch x64 ; movsd QWORD [rsp + 8 * j as i32], Rx(h));
        }
        dynasm!(self.a
            ; .arch x64
            ; mov rdi, QWORD [r12 + ctx::MODE]
            ; mov rax, QWORD [r12 + ctx::BARRIERS]
            ; call QWORD [rax + offset]
        );
        for (j, &h) in homes.iter().enumerate() {
            dynasm!(self.a ; .arch x64 ; movsd Rx(h), QWORD [rsp + 8 * j as i32]);
        }
        if frame > 0 {
            dynasm!(self.a ; .arch x64 ; add rsp, frame);
        }
    }

    /// For the barrier flavour's `aget` and `aset`: `rsi` = register `a` if it is an array and
    /// `rcx` = register `i`'s SmallInt (else leave); then, when the array and its storage are
    /// private to the transaction and the index inside the length, `rax` = the storage; else a
    /// jump to `shared` (the helper checks the bounds through the barriers).
    fn private_element(&mut self, pc: usize, a: u16, i: u16, shared: DynamicLabel) {
        let e = self.exits[pc];
        self.array(pc, a);
        dynasm!(self.a
            ; .arch x64
            ; mov rsi, rax
            ; mov rcx, QWORD [rbx + reg(i)]
            ; test cl, 1
            ; jz =>e
            ; sar rcx, 3
            ; mov rdx, QWORD [r12 + ctx::PRIVATE_TAG]
            ; cmp rdx, QWORD [rax + 8]
            ; jne =>shared
            ; cmp rcx, QWORD [rax + slot_offset(ARRAY_LEN)] // unsigned: a negative index is huge
            ; jae =>e
            ; mov rax, QWORD [rax + slot_offset(ARRAY_STORAGE)]
            ; cmp rdx, QWORD [rax + 8]
            ; jne =>shared
        );
    }

    /// `rax` = register `a` if it is an array (known at op `pc`, or tested); else leave.
    fn array(&mut self, pc: usize, a: u16) {
        if self.kind(pc, a) == Kind::Array {
            dynasm!(self.a ; .arch x64 ; mov rax, QWORD [rbx + reg(a)]);
        } else {
            self.check_array(pc, a);
        }
    }

    /// `rax` = register `a` if it is an array; else leave.
    fn check_array(&mut self, pc: usize, a: u16) {
        let e = self.exits[pc];
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD [rbx + reg(a)]
            ; test al, 7
            ; jnz =>e
            ; test rax, rax
            ; jz =>e
            ; mov ecx, DWORD [rax]
            ; and ecx, 0xf
            ; cmp ecx, KIND_ARRAY
            ; jne =>e
        );
    }

    /// `rax` = the storage cell of array register `a`, `rcx` = the SmallInt index in register
    /// `i`, inside the length; else leave (type errors, boxed indices, out of bounds).
    fn element(&mut self, pc: usize, a: u16, i: u16) {
        let e = self.exits[pc];
        self.array(pc, a);
        dynasm!(self.a
            ; .arch x64
            ; mov rcx, QWORD [rbx + reg(i)]
            ; test cl, 1
            ; jz =>e
            ; sar rcx, 3
        );
        if !mutant!(jit_element_skips_bounds_check) {
            dynasm!(self.a
                ; .arch x64
                ; cmp rcx, QWORD [rax + slot_offset(ARRAY_LEN)] // unsigned: a negative index is huge
                ; jae =>e
            );
        }
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD [rax + slot_offset(ARRAY_STORAGE)]
        );
    }
}

#[cfg(test)]
mod tests {
    //! Disassembly snapshots: the code of a program that uses every template, per flavour, in
    //! `src/jit/snapshots/`, so that a change in emitted code is seen in review. After an
    //! intended change: `LOCKSTEP_BLESS=1 cargo test -p lockstep-optimized --release jit::x64`.

    use super::*;
    use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};

    const PROGRAM: &str = r#"
class Point {
    field x
    field y
    method norm1 Point_norm1
}
class Point3 : Point {
    field z
}
; Nine runs of classes that understand `size`: more than sends test inline (the cache's path).
class S0 {
    method size Even_size
}
class S1 {
    method size Other_size
}
class S2 {
    method size Even_size
}
class S3 {
    method size Other_size
}
class S4 {
    method size Even_size
}
class S5 {
    method size Other_size
}
class S6 {
    method size Even_size
}
class S7 {
    method size Other_size
}
class S8 {
    method size Even_size
}
func Other_size(self) {
    ret self
}
func Even_size(self) {
    ret self
}
func Point_norm1(self) {
    local a, b
    getf a, self, Point.x
    getf b, self, Point.y
    add a, a, b
    ret a
}
func ops(n, f, p, arr) {
    local a, b, c, t, g
    mov a, n
    ldi b, 7
    add c, a, b
    sub c, c, b
    mul c, c, b
    div c, c, b
    rem c, c, b
    neg c, c
    and c, c, b
    or c, c, b
    xor c, c, b
    not c, c
    shl c, c, b
    shr c, c, b
    ushr c, c, b
    mul g, f, f
    add g, g, f
    div g, g, f
    sqrt g, g
    itof g, c
    eq t, a, b
    ne t, p, p
    le t, f, g
    setf p, Point.x, c
    getf c, p, Point.y
    alen c, arr
    ldi b, 0
    aget c, arr, b
    aset arr, b, c
    send c, p, "norm1", ()
    new p, Point3
    print c
loop:
    ldi t, 1
    sub a, a, t
    gt t, a, b
    jmpif t, loop
    ret a
}
func main(args) {
    local n, f, p, arr, r
    ldi n, 3
    ldk f, 1.5
    new p, Point
    ldi r, 0
    anew arr, r
    call r, ops, (n, f, p, arr)
    send r, p, "size", ()
    ret r
}
"#;

    fn program() -> Program {
        let asm = lockstep_spec::asm::assemble(PROGRAM, "snapshot.lsa").expect("assembles");
        let module = lockstep_spec::verify::verify(asm.module).expect("verifies");
        let mut heap = crate::heap::Heap::new(1 << 20, 1 << 20);
        crate::code::predecode(&module, &mut heap).expect("fits")
    }

    /// The code of every function of [`PROGRAM`], one op after another, with offsets relative
    /// to the op and branch targets named (`op N`, `op N + d`, `exit N`, `leave`), so that a
    /// change shows as the lines it changes.
    fn listing(flavour: Flavour) -> String {
        let prog = program();
        let helper = format!("{:X}h", super::super::calls::helper(flavour));
        let mut out = String::new();
        let self_classes = super::super::self_classes(&prog);
        for (f, func) in prog.funcs.iter().enumerate() {
            let guesses = vec![Guess::Float; func.code.len()];
            let Assembled { bytes, ops: resume, stubs: stubs_start, .. } =
                assemble(&prog, f as u32, flavour, None, &guesses, &self_classes, Default::default())
                    .expect("assembles");
            let insns: Vec<Instruction> = Decoder::with_ip(64, &bytes, 0, DecoderOptions::NONE).into_iter().collect();
            // The exit stubs follow the last op: each is `mov eax, pc` and a jump to `leave`,
            // which the entry stub ends with (`ret`, then the first op).
            let first_op = resume.first().map_or(bytes.len(), |&o| o as usize);
            let stubs: Vec<(u64, u32)> = insns
                .iter()
                .filter(|i| i.ip() as usize >= stubs_start && i.mnemonic() == iced_x86::Mnemonic::Mov)
                .map(|i| (i.ip(), i.immediate32()))
                .collect();
            // `leave` is the call of `sync` before the epilogue's `add rsp, 8`.
            let leave = insns
                .iter()
                .position(|i| {
                    (i.ip() as usize) < first_op
                        && i.mnemonic() == iced_x86::Mnemonic::Add
                        && i.op0_register() == iced_x86::Register::RSP
                })
                .map(|k| &insns[k - 1]);
            let name = |target: u64| -> String {
                if let Some(&(_, pc)) = stubs.iter().find(|s| s.0 == target) {
                    return format!("exit {pc}");
                }
                if leave.is_some_and(|l| l.ip() == target) {
                    return "leave".into();
                }
                match resume.iter().rposition(|&o| u64::from(o) <= target) {
                    Some(pc) if target == u64::from(resume[pc]) => format!("op {pc}"),
                    Some(pc) => format!("op {pc} + {}", target - u64::from(resume[pc])),
                    None => format!("entry + {target}"),
                }
            };
            out +=
                &format!("== {} ({} bytes, exit stubs {} bytes)\n", func.name, bytes.len(), bytes.len() - stubs_start);
            out += "; entry and epilogue\n";
            let mut formatter = IntelFormatter::new();
            let mut text = String::new();
            let mut next_op = 0;
            let mut op_start = 0;
            for insn in insns.iter().take_while(|i| (i.ip() as usize) < stubs_start) {
                let at = insn.ip();
                while next_op < resume.len() && u64::from(resume[next_op]) <= at {
                    out += &format!("; {next_op}: {:?}\n", func.code[next_op]);
                    op_start = u64::from(resume[next_op]);
                    next_op += 1;
                }
                text.clear();
                if insn.op0_kind() == iced_x86::OpKind::NearBranch64 {
                    formatter.format_mnemonic(insn, &mut text);
                    text += " ";
                    text += &name(insn.near_branch_target());
                } else {
                    formatter.format(insn, &mut text);
                }
                out += &format!("  {:4} {}\n", at - op_start, text.replace(&helper, "<helper>"));
            }
        }
        out
    }

    fn check(name: &str, flavour: Flavour) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/jit/snapshots").join(name);
        let got = listing(flavour);
        if std::env::var_os("LOCKSTEP_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(&path, &got).expect("write");
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            let line = got.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(0);
            panic!(
                "{} differs from the emitted code from line {} on (got `{}`); after an intended change, bless it \
                 (LOCKSTEP_BLESS=1 cargo test -p lockstep-optimized --release jit::x64)",
                path.display(),
                line + 1,
                got.lines().nth(line).unwrap_or("")
            );
        }
    }

    #[test]
    fn plain_memory_code_matches_its_snapshot() {
        check("plain.txt", Flavour { plain_memory: true, stats: false });
    }

    #[test]
    fn barrier_flavour_code_matches_its_snapshot() {
        check("barriers.txt", Flavour { plain_memory: false, stats: false });
    }
}
