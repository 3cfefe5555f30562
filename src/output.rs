//! Guest output to any `io::Write` of the caller's, borrowed for the run: the engine runs on a
//! scoped OS thread and streams its output, chunk by chunk, through a bounded channel to the
//! calling thread, which writes it. So the writer needs to be neither `Send` nor `'static`
//! (a `&mut Vec<u8>`, a locked stdout), while the engines keep one kind of output sink
//! ([`Sink`]), shared by the OS threads of a parallel run. The rejected alternative, a sink
//! borrowed by the engines, would put a lifetime on every engine's shared state.

use lockstep_spec::host::Sink;
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, SyncSender};

/// Chunks in flight: enough that the engine rarely waits for the writer, few enough that a slow
/// writer holds the engine back instead of letting output pile up in memory.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The engine's end of the channel.
struct Channel(SyncSender<Vec<u8>>);

impl Write for Channel {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // The receiver is gone only when the caller's writer failed; `stream` reports that error.
        self.0
            .send(bytes.to_vec())
            .map(|()| bytes.len())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the output's writer failed"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What `stream` ran: the run's result, and the writer's error if writing failed.
pub(crate) struct Streamed<T> {
    pub result: T,
    pub write_error: Option<io::Error>,
}

/// Runs `run` on a new OS thread with a sink whose bytes are written to `out` on this one, in
/// order, each chunk flushed. Fails only when the OS refuses the thread.
pub(crate) fn stream<T: Send>(out: &mut dyn Write, run: impl FnOnce(Sink) -> T + Send) -> io::Result<Streamed<T>> {
    let (tx, rx) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
    std::thread::scope(|s| {
        let engine = std::thread::Builder::new()
            .name("lockstep run".to_string())
            .spawn_scoped(s, move || run(Sink::new(Channel(tx))))?;
        let mut write_error = None;
        // Ends when the run is over and has dropped every copy of the sink; on a write error,
        // dropping the receiver makes the engine's next write fail, which ends the run.
        for chunk in rx {
            if let Err(e) = out.write_all(&chunk).and_then(|()| out.flush()) {
                write_error = Some(e);
                break;
            }
        }
        let result = engine.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok(Streamed { result, write_error })
    })
}
