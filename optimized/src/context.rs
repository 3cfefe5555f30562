//! What one OS thread needs to run guest code beside the shared program: its own heap
//! (allocation buffer) and inline caches, its output buffer. (The program is not in here: the
//! interpreter holds it and this context through two separate references.) The `--stm=off` scheduler has one; a parallel
//! run has one per guest thread's OS thread (`par.rs`). Which guest thread runs, and how it
//! reaches the other threads, is the driver's business (`serial.rs`, `par.rs`), not this one's.

use crate::code::{predecode, Program};
use crate::heap::{Heap, OutOfMemory};
use crate::inline_cache::InlineCaches;
use crate::jit::{Jit, JitMode};
use crate::ops;
use crate::thread::Thread;
use crate::value::Value;
use lockstep_spec::host::Sink;
use lockstep_spec::VerifiedModule;
use std::sync::Arc;

/// When guest output streams to stdout, it is written in chunks of about this many bytes.
pub(crate) const STREAM_CHUNK: usize = 1 << 16;

pub(crate) struct Context {
    pub heap: Heap,
    pub ic: InlineCaches,
    /// Guest output: all of it, or when `stream_stdout`, what is not yet written. In a parallel
    /// run, what the running transaction printed (appended to the run's output at commit).
    pub out: Vec<u8>,
    pub stream_stdout: bool,
    /// The fuel a spawned thread starts with.
    pub initial_fuel: u64,
    /// The strings `typeof` returns, allocated once (GC roots).
    pub type_names: [Value; 9],
    /// A reusable buffer for `tostr`.
    pub scratch: Vec<u8>,
    /// Instructions executed (counted only by the `STATS` interpreter).
    pub instructions: u64,
    /// This OS thread's compiled code.
    pub jit: Jit,
}

impl Context {
    /// Pre-decodes `module` into `heap` and builds the main thread (with its arguments).
    pub fn new(
        module: &VerifiedModule,
        config: &crate::Config,
        mut heap: Heap,
    ) -> Result<(Arc<Program>, Context, Thread), OutOfMemory> {
        let prog = Arc::new(predecode(module, &mut heap)?);
        let mut type_names = [0; 9];
        for (slot, name) in type_names.iter_mut().zip(ops::TYPE_NAMES) {
            *slot = heap.new_string(name.as_bytes())?;
        }
        // [exec.entry]: an entry function with one parameter receives the arguments as an array
        // of strings.
        let mut main_args = Vec::new();
        if prog.funcs[prog.entry as usize].arity >= 1 {
            let arr = heap.new_array(0)?;
            for a in &config.args {
                let s = heap.new_string(a)?;
                // SAFETY: `arr` is the fresh array above, on this OS thread only.
                unsafe { heap.array_push(arr, s)? };
            }
            main_args.push(arr);
        }
        let main = Thread::new(&prog, prog.entry, &main_args, config.fuel);
        let cx = Context::worker(&prog, heap, type_names, config.fuel, config.jit);
        Ok((prog, Context { stream_stdout: config.stream_stdout, ..cx }, main))
    }

    /// The context of one more OS thread of a parallel run of `prog`: its own heap and inline
    /// caches.
    pub fn worker(prog: &Arc<Program>, heap: Heap, type_names: [Value; 9], fuel: u64, jit: JitMode) -> Context {
        Context {
            ic: InlineCaches::new(prog.sites.len()),
            heap,
            out: Vec::new(),
            stream_stdout: false,
            initial_fuel: fuel,
            type_names,
            scratch: Vec::new(),
            instructions: 0,
            jit: Jit::new(jit, prog),
        }
    }

    /// When streaming, writes the pending guest output to `to` (`Config::stdout_to`).
    pub fn flush_stdout(&mut self, to: Option<&Sink>) -> std::io::Result<()> {
        if self.stream_stdout {
            write_stdout(to, &mut self.out)?;
        }
        Ok(())
    }
}

/// Writes `out` to `to` (`Config::stdout_to`), or else to the process's stdout, and empties it.
/// An error (a closed pipe, a full disk) ends the run (`RunError::OutputFailed`): the caller
/// passes it on.
pub(crate) fn write_stdout(to: Option<&Sink>, out: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Write;
    let written = match to {
        Some(sink) => sink.write_all(out),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(out).and_then(|()| stdout.flush())
        }
    };
    out.clear();
    written
}
