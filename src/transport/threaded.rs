//! Descriptors driven by threads of their own, seen from async code as a
//! reader ([`ThreadReader`]) and a writer ([`ThreadWriter`]).
//!
//! stdin and stdout may be anything: a file, a pipe, a terminal, /dev/null.
//! Tokio cannot wait for most of those in its reactor, so its async file
//! sends every read and write to the blocking pool, one at a time, and the
//! task waits for each trip. A thread per descriptor instead blocks in the
//! kernel, which every kind of file supports, and works ahead of the task
//! through a small bounded queue: the next chunk is read (or the last one
//! written) while the task encrypts or sends. Bounded, so a slow output
//! holds the peer back through TCP rather than filling memory.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

/// A descriptor read by a thread of its own into a small bounded queue of
/// chunks: reading the next chunk overlaps with encrypting and sending the
/// last one. Through Tokio's async file (one blocking-pool trip per read,
/// and nothing read while the chunk was being sent) a TLS upload ran at
/// 0.58 GB/s, with this reader 0.95 (`SIZE_MB=256 RUNS=1 bench/tls.sh`).
pub struct ThreadReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    /// Chunks handed back to the thread once sent: reusing them spares a
    /// fresh zeroed 256 KiB allocation (and its page faults) per read.
    spent: std::sync::mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    offset: usize,
}

/// How much a [`ThreadReader`] reads at a time, and how many chunks ahead.
const READ_CHUNK: usize = 256 * 1024;
const READ_AHEAD: usize = 4;

impl ThreadReader {
    pub fn start(fd: OwnedFd) -> ThreadReader {
        let (tx, chunks) = mpsc::channel(READ_AHEAD);
        let (spent, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            loop {
                let mut chunk = recycled.try_recv().unwrap_or_default();
                chunk.resize(READ_CHUNK, 0);
                let read = loop {
                    match nix::unistd::read(&fd, &mut chunk) {
                        Err(Errno::EINTR) => continue,
                        Err(Errno::EAGAIN) => wait_for(&fd, PollFlags::POLLIN),
                        other => break other,
                    }
                };
                let sent = match read {
                    Ok(0) => break,
                    Ok(n) => {
                        chunk.truncate(n);
                        tx.blocking_send(Ok(chunk))
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e.into()));
                        break;
                    }
                };
                if sent.is_err() {
                    break; // the reader is gone
                }
            }
        });
        ThreadReader {
            chunks,
            spent,
            current: Vec::new(),
            offset: 0,
        }
    }
}

impl AsyncRead for ThreadReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.offset == self.current.len() {
            match std::task::ready!(self.chunks.poll_recv(cx)) {
                Some(Ok(chunk)) => {
                    let spent = std::mem::replace(&mut self.current, chunk);
                    let _ = self.spent.send(spent);
                    self.offset = 0;
                }
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(())), // end of file
            }
        }
        let n = buf.remaining().min(self.current.len() - self.offset);
        let start = self.offset;
        buf.put_slice(&self.current[start..start + n]);
        self.offset += n;
        Poll::Ready(Ok(()))
    }
}

/// A descriptor written by a thread of its own. A write queues a copy and
/// returns at once unless 1 MiB (`WRITE_AHEAD`) is already waiting; a flush
/// returns when the thread has written everything. Against Tokio's async
/// file (one write in flight, each a trip to the blocking pool) a TLS upload
/// into /dev/null went from 0.94 to 1.06 GB/s.
pub struct ThreadWriter {
    shared: Arc<Shared>,
}

/// At most this many bytes wait for the thread before a write waits too.
const WRITE_AHEAD: usize = 1024 * 1024;

struct Shared {
    state: Mutex<WriterState>,
    /// Wakes the thread: something was queued, or the writer was dropped.
    queued: Condvar,
}

#[derive(Default)]
struct WriterState {
    chunks: VecDeque<Vec<u8>>,
    bytes: usize,
    /// The thread is writing a chunk it took off the queue.
    busy: bool,
    /// The first failure (errno), returned by every later write and flush.
    failed: Option<i32>,
    /// The async side is gone: write what is queued, then stop.
    dropped: bool,
    /// The task waiting for room or for the queue to empty.
    waiter: Option<Waker>,
    /// Written chunks kept for reuse, so a write seldom allocates.
    spare: Vec<Vec<u8>>,
}

impl WriterState {
    fn failure(&self) -> Option<io::Error> {
        self.failed.map(io::Error::from_raw_os_error)
    }

    fn wake(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            waiter.wake();
        }
    }
}

impl ThreadWriter {
    pub fn start(fd: OwnedFd) -> ThreadWriter {
        let shared = Arc::new(Shared {
            state: Mutex::new(WriterState::default()),
            queued: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        std::thread::spawn(move || write_queued(&fd, &thread_shared));
        ThreadWriter { shared }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The thread's loop: take a chunk, write all of it, repeat; sleep while
/// the queue is empty.
fn write_queued(fd: &OwnedFd, shared: &Shared) {
    let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let Some(chunk) = state.chunks.pop_front() else {
            state.busy = false;
            state.wake(); // a flush may be waiting for exactly this
            if state.dropped || state.failed.is_some() {
                return;
            }
            state = shared.queued.wait(state).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        state.busy = true;
        drop(state);
        let written = write_all(fd, &chunk);
        state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        state.bytes -= chunk.len();
        if let Err(errno) = written {
            state.failed = Some(errno as i32);
            state.chunks.clear();
            state.bytes = 0;
        } else if state.spare.len() < 4 {
            let mut chunk = chunk;
            chunk.clear();
            state.spare.push(chunk);
        }
        state.wake();
    }
}

/// Writes all of `bytes` to a descriptor that may be non-blocking.
pub(crate) fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait_for(fd, PollFlags::POLLOUT),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl AsyncWrite for ThreadWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.lock();
        if let Some(e) = state.failure() {
            return Poll::Ready(Err(e));
        }
        if state.bytes >= WRITE_AHEAD {
            state.waiter = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let mut chunk = state.spare.pop().unwrap_or_default();
        chunk.extend_from_slice(buf);
        state.bytes += chunk.len();
        state.chunks.push_back(chunk);
        if !state.busy {
            self.shared.queued.notify_one();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.lock();
        if let Some(e) = state.failure() {
            return Poll::Ready(Err(e));
        }
        if state.chunks.is_empty() && !state.busy {
            return Poll::Ready(Ok(()));
        }
        state.waiter = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl Drop for ThreadWriter {
    fn drop(&mut self) {
        self.lock().dropped = true;
        self.shared.queued.notify_one();
    }
}

/// Waits until `fd` is ready for `what` (or hung up, or failed: the next
/// call says which). A non-blocking descriptor returns EAGAIN, and spinning
/// on it would burn a core.
pub(crate) fn wait_for(fd: &impl AsFd, what: PollFlags) {
    let mut fds = [PollFd::new(fd.as_fd(), what)];
    let _ = nix::poll::poll(&mut fds, PollTimeout::NONE);
}
