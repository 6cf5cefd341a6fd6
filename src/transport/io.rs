//! The local side of a session: where the bytes for the peer come from
//! ([`Input`]) and where the peer's bytes go ([`Output`]).
//!
//! The CLI passes the process's stdin and stdout; a program embedding the
//! library passes its own readers and writers (an in-memory buffer, a file, a
//! channel). Descriptors stay descriptors so that the relay can splice them;
//! everything else is Tokio's `AsyncRead`/`AsyncWrite`.
//!
//! Servers with many clients share one input and one output between tasks:
//! [`read_chunks`] and [`read_datagrams`] cut the input up for them, and an
//! [`OutputQueue`] serialises what they print. Both are bounded queues: when
//! the output is slow, clients' bytes wait in their sockets, not in memory.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::threaded::{ThreadReader, ThreadWriter};
use crate::shutdown::{StopReason, StopTrigger};

/// Boxed so that one session type serves every kind of local end.
pub type Reader = Box<dyn AsyncRead + Send + Unpin>;
pub type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// Where the bytes sent to the peer come from.
pub enum Input {
    /// A descriptor (stdin, a file, a pipe): the relay may splice from it.
    Fd(OwnedFd),
    Reader(Reader),
}

/// Where the bytes from the peer go.
pub enum Output {
    /// A descriptor (stdout, a file, a pipe): the relay may splice into it.
    Fd(OwnedFd),
    Writer(Writer),
}

impl Input {
    /// The process's standard input (a duplicate of descriptor 0, so closing
    /// the session's copy leaves the process's own alone).
    pub fn stdin() -> io::Result<Input> {
        Ok(Input::Fd(io::stdin().as_fd().try_clone_to_owned()?))
    }

    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static) -> Input {
        Input::Reader(Box::new(reader))
    }

    /// Nothing to send: the peer gets FIN at once.
    pub fn empty() -> Input {
        Input::reader(tokio::io::empty())
    }

    /// As an async reader. A descriptor is read by a thread of its own,
    /// which works for every kind of file, terminals included, and reads
    /// the next chunk while the last one is being sent (see [`ThreadReader`]).
    pub fn into_reader(self) -> Reader {
        match self {
            Input::Fd(fd) => Box::new(ThreadReader::start(fd)),
            Input::Reader(reader) => reader,
        }
    }
}

impl Output {
    /// The process's standard output (a duplicate of descriptor 1).
    pub fn stdout() -> io::Result<Output> {
        Ok(Output::Fd(io::stdout().as_fd().try_clone_to_owned()?))
    }

    pub fn writer(writer: impl AsyncWrite + Send + Unpin + 'static) -> Output {
        Output::Writer(Box::new(writer))
    }

    /// Everything written is dropped.
    pub fn discard() -> Output {
        Output::writer(tokio::io::sink())
    }

    /// As an async writer. A descriptor is written by a thread of its own
    /// (see [`ThreadWriter`]): each write starts at once (nothing waits for
    /// more), and a flush waits until everything is out.
    pub fn into_writer(self) -> Writer {
        match self {
            Output::Fd(fd) => Box::new(ThreadWriter::start(fd)),
            Output::Writer(writer) => writer,
        }
    }
}

/// Chunks in flight between the local side and the tasks.
const QUEUE: usize = 16;
const CHUNK: usize = 64 * 1024;

/// Reads `input` in chunks on a task of its own; the channel closes at end
/// of file or on a read error.
pub fn read_chunks(input: Input) -> mpsc::Receiver<Arc<[u8]>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut input = input.into_reader();
    tokio::spawn(async move {
        let mut buf = vec![0u8; CHUNK];
        while let Ok(n @ 1..) = input.read(&mut buf).await {
            if tx.send(Arc::from(&buf[..n])).await.is_err() {
                break;
            }
        }
    });
    rx
}

/// Cuts `input` into datagrams on a task of its own: one per line, newline
/// included (as netcat sends them), a run without newline cut every `max`
/// bytes, and whatever is left at end of file. The channel closes at EOF.
pub fn read_datagrams(input: Input, max: usize) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut lines = BufReader::with_capacity(CHUNK, input.into_reader());
    tokio::spawn(async move {
        loop {
            let mut datagram = Vec::new();
            match (&mut lines)
                .take(max as u64)
                .read_until(b'\n', &mut datagram)
                .await
            {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(datagram).await.is_err() {
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

/// A handle to the task that writes to the output; cloning shares the task.
#[derive(Clone)]
pub struct OutputQueue(mpsc::Sender<Job>);

/// The writer is gone: the output's reader closed it.
#[derive(Debug)]
pub struct OutputClosed;

impl OutputQueue {
    /// Starts a task that writes what it is sent to `output`, flushing each
    /// chunk so nothing waits for later bytes. If the output's reader goes
    /// away, `trigger` fires [`StopReason::OutputClosed`].
    pub fn start(output: Output, trigger: StopTrigger) -> OutputQueue {
        let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        let mut output = output.into_writer();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                match job {
                    Job::Write(chunk) => {
                        let written = async {
                            output.write_all(&chunk).await?;
                            output.flush().await
                        };
                        if written.await.is_err() {
                            trigger.fire(StopReason::OutputClosed);
                            break;
                        }
                    }
                    Job::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        OutputQueue(tx)
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
