//! Standard input and output for servers with many clients at once.
//!
//! stdin and stdout are blocking descriptors that epoll cannot watch when
//! they are files, so each gets a thread of its own, connected to the async
//! tasks by a bounded channel. The bound is the backpressure: when stdout is
//! slow, clients' bytes wait in their sockets instead of in our memory.

use std::io::{Read, Write};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::shutdown::{Stop, Trigger};

/// Chunks in flight between a thread and the tasks.
const QUEUE: usize = 16;
const CHUNK: usize = 64 * 1024;

/// Starts a thread that reads `input` in chunks; the channel closes at end of file.
pub fn read_chunks<R: Read + Send + 'static>(mut input: R) -> mpsc::Receiver<Arc<[u8]>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(Arc::from(&buf[..n])).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    });
    rx
}

/// Starts a thread that writes what it is sent to `output`, flushing each
/// chunk. If the reader of `output` goes away, `trigger` fires
/// [`Stop::OutputClosed`].
pub fn write_chunks<W: Write + Send + 'static>(
    mut output: W,
    trigger: Trigger,
) -> mpsc::Sender<Vec<u8>> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
    std::thread::spawn(move || {
        while let Some(chunk) = rx.blocking_recv() {
            if output
                .write_all(&chunk)
                .and_then(|_| output.flush())
                .is_err()
            {
                trigger.fire(Stop::OutputClosed);
                break;
            }
        }
    });
    tx
}
