//! Standard input and output for servers with many clients at once.
//!
//! stdin and stdout are blocking descriptors that epoll cannot watch when
//! they are files, so each gets a thread of its own, connected to the async
//! tasks by a bounded channel. The bound is the backpressure: when stdout is
//! slow, clients' bytes wait in their sockets instead of in our memory.

use std::io::{BufRead, Read, Write};
use std::sync::Arc;

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

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

/// Starts a thread that cuts `input` into datagrams: one per line, newline
/// included (as netcat sends them), a run without newline cut every `max`
/// bytes, and whatever is left at end of file. The channel closes at EOF.
pub fn read_datagrams<R: Read + Send + 'static>(input: R, max: usize) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::spawn(move || {
        let mut lines = std::io::BufReader::with_capacity(CHUNK, input);
        loop {
            let mut datagram = Vec::new();
            match (&mut lines)
                .take(max as u64)
                .read_until(b'\n', &mut datagram)
            {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.blocking_send(datagram).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

enum Job {
    Write(Vec<u8>),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// A handle to the stdout-writing thread; cloning shares the thread.
#[derive(Clone)]
pub struct Output(mpsc::Sender<Job>);

/// The writer is gone: stdout's reader closed it.
#[derive(Debug)]
pub struct OutputClosed;

impl Output {
    /// Starts a thread that writes what it is sent to `output`, flushing each
    /// chunk. If the reader of `output` goes away, `trigger` fires
    /// [`Stop::OutputClosed`].
    pub fn start<W: Write + Send + 'static>(mut output: W, trigger: Trigger) -> Output {
        let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        std::thread::spawn(move || {
            while let Some(job) = rx.blocking_recv() {
                match job {
                    Job::Write(chunk) => {
                        if output
                            .write_all(&chunk)
                            .and_then(|_| output.flush())
                            .is_err()
                        {
                            trigger.fire(Stop::OutputClosed);
                            break;
                        }
                    }
                    Job::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Output(tx)
    }

    /// Queues `chunk`, waiting while the queue is full (backpressure).
    pub async fn write(&self, chunk: Vec<u8>) -> Result<(), OutputClosed> {
        self.0
            .send(Job::Write(chunk))
            .await
            .map_err(|_| OutputClosed)
    }

    /// Queues `chunk` unless the queue is full, for output that may be lost
    /// rather than slow anyone down.
    pub fn try_write(&self, chunk: Vec<u8>) {
        let _ = self.0.try_send(Job::Write(chunk));
    }

    /// Waits, at most `limit`, until everything queued so far is written:
    /// a server that stops must not lose what clients already sent.
    pub async fn flush(&self, limit: Duration) {
        let (done, written) = oneshot::channel();
        let flushed = async {
            if self.0.send(Job::Flush(done)).await.is_ok() {
                let _ = written.await;
            }
        };
        let _ = tokio::time::timeout(limit, flushed).await;
    }
}
