//! [exec.output-stream]: an engine holds back at most 64 KiB of output before writing it, so a
//! program may print without bound in bounded memory. The hard case is a parallel run's atomic
//! block, which has no boundary before its end: there the transaction becomes inevitable and
//! delivers its output at once ([stm.output], `optimized/STM.md`). A thread here prints about
//! 300 KB inside one atomic block; every write to the sink must carry at most a chunk (64 KiB)
//! and the print that reached it.

use lockstep_optimized as opt;
use lockstep_spec::host::Sink;
use lockstep_spec::outcome::End;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The bytes one `println` of the program writes.
const LINE: usize = 100;
const LINES: usize = 3000;
const CHUNK: usize = 64 << 10;

fn program() -> lockstep_spec::VerifiedModule {
    let text = format!(
        "func printer() {{\n local s, i, n, one, c\n ldk s, \"{}\"\n ldi i, 0\n ldi n, {LINES}\n ldi one, 1\n \
         atomic_begin\nloop:\n println s\n add i, i, one\n lt c, i, n\n jmpif c, loop\n atomic_end\n ret i\n}}\n\
         func main() {{\n local t, r\n spawn t, printer, ()\n join r, t\n ret r\n}}\n",
        "x".repeat(LINE - 1)
    );
    let asm = lockstep_spec::asm::assemble(&text, "output_stream.lsa").expect("assembles");
    lockstep_spec::verify::verify(asm.module).expect("verifies")
}

/// A writer that keeps the size of every write it is given.
#[derive(Clone, Default)]
struct Writes(Arc<Mutex<Vec<usize>>>);

impl Write for Writes {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().push(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_inside_an_atomic_block_is_written_a_chunk_at_a_time() {
    let module = program();
    for stm in [true, false] {
        for jit in [opt::JitMode::Off, opt::JitMode::Always] {
            let writes = Writes::default();
            let config = opt::Config {
                stm,
                jit,
                stream_stdout: true,
                stdout_to: Some(Sink::new(writes.clone())),
                ..opt::Config::default()
            };
            let what = format!("stm {stm}, {jit:?}");
            let outcome = opt::run(&module, &config).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(
                matches!(&outcome.end, End::Finished { value } if *value == lockstep_spec::outcome::Value::Int(LINES as i64)),
                "{what}: {:?}",
                outcome.end
            );
            let writes = writes.0.lock().unwrap().clone();
            assert_eq!(writes.iter().sum::<usize>(), LINE * LINES, "{what}: every byte written once: {writes:?}");
            assert!(writes.iter().all(|&w| w < CHUNK + LINE), "{what}: a write of more than a chunk: {writes:?}");
        }
    }
}
