//! A TLS session relayed by two threads, for the CLI's usual case: stdin and
//! stdout are descriptors, and the session runs over a TCP socket.
//!
//! The portable path (Tokio tasks over tokio-rustls) hands every chunk from
//! thread to thread: stdin's reader, the runtime's worker, stdout's writer,
//! each wake-up a context switch. Here each direction is one thread that
//! does all of its own work in turn: upstream reads stdin, encrypts and
//! sends; downstream receives, decrypts and writes stdout. The two share the
//! rustls connection (one state for both directions) under a mutex, held
//! only while rustls works and for non-blocking socket calls, never while a
//! thread waits: a thread that must wait for the socket lets go first, so
//! neither direction can stall the other (two peers both sending a lot each
//! keep reading). Measured in the README's TLS section.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;
use nix::poll::PollFlags;
use rustls::Connection;

use super::truncated;
use crate::transport::pump::PumpError;
use crate::transport::threaded::{wait_for, write_all};

/// A TLS session taken out of Tokio: its socket and its rustls state, which
/// may already hold bytes that came with the handshake. The socket may be a
/// Unix stream as well as TCP: only read, write, shutdown and poll are
/// called on it, which are the same calls for both.
pub struct TlsParts {
    socket: TcpStream,
    connection: Connection,
}

impl TlsParts {
    /// `socket` is a duplicate of the session's descriptor: the Tokio
    /// stream it came from is dropped, and deregistered, right after.
    pub(crate) fn new(socket: OwnedFd, connection: Connection) -> TlsParts {
        TlsParts {
            socket: TcpStream::from(socket),
            connection,
        }
    }
}

/// What the two threads share.
struct Shared {
    connection: Mutex<Connection>,
    socket: TcpStream,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends everything rustls has ready, waiting for room in the socket
    /// with the lock released.
    fn send_pending(&self) -> io::Result<()> {
        loop {
            let mut connection = self.lock();
            if !connection.wants_write() {
                return Ok(());
            }
            match connection.write_tls(&mut &self.socket) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    drop(connection);
                    wait_for(&self.socket, PollFlags::POLLOUT);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Bytes read from stdin at a time: 16 TLS records.
const CHUNK: usize = 256 * 1024;

/// One TLS session, ready to be driven by an upstream and a downstream
/// thread (cloning shares it).
#[derive(Clone)]
pub(crate) struct TlsPump(Arc<Shared>);

impl TlsPump {
    pub fn new(parts: TlsParts) -> io::Result<TlsPump> {
        parts.socket.set_nonblocking(true)?;
        Ok(TlsPump(Arc::new(Shared {
            connection: Mutex::new(parts.connection),
            socket: parts.socket,
        })))
    }

    /// A duplicate of the socket: shutting it down wakes both threads.
    pub fn socket(&self) -> io::Result<OwnedFd> {
        Ok(OwnedFd::from(self.0.socket.try_clone()?))
    }

    /// Reads `input` until it ends, encrypting and sending each chunk.
    pub fn upstream(&self, input: &OwnedFd, sent: &impl Fn(u64)) -> Result<u64, PumpError> {
        upstream(&self.0, input, sent)
    }

    /// Our half of the close: close_notify, then FIN. False if the socket
    /// refused (the peer already reset it).
    pub fn half_close(&self) -> bool {
        self.0.lock().send_close_notify();
        self.0.send_pending().is_ok() && self.0.socket.shutdown(Shutdown::Write).is_ok()
    }

    /// Receives and decrypts until the peer's close, writing to `output`.
    pub fn downstream(&self, output: &OwnedFd, received: &impl Fn(u64)) -> Result<u64, PumpError> {
        downstream(&self.0, output, received)
    }
}

fn upstream(shared: &Shared, input: &OwnedFd, sent: &impl Fn(u64)) -> Result<u64, PumpError> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0;
    loop {
        let n = match nix::unistd::read(input, &mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                wait_for(input, PollFlags::POLLIN);
                continue;
            }
            Err(e) => return Err(PumpError::Read(e.into())),
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            // rustls takes as much as its outgoing buffer has room for.
            let taken = shared
                .lock()
                .writer()
                .write(rest)
                .map_err(PumpError::Write)?;
            rest = &rest[taken..];
            shared.send_pending().map_err(PumpError::Write)?;
        }
        total += n as u64;
        sent(n as u64);
    }
}

fn downstream(
    shared: &Shared,
    output: &OwnedFd,
    received: &impl Fn(u64),
) -> Result<u64, PumpError> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let mut connection = shared.lock();
        // Records already received are decrypted first: rustls stops when
        // its plaintext buffer is full and leaves the rest in its own.
        let processed = connection.process_new_packets();
        match connection.reader().read(&mut buf) {
            Ok(0) => return Ok(total), // close_notify
            Ok(n) => {
                drop(connection);
                write_all(output, &buf[..n]).map_err(|e| PumpError::Write(e.into()))?;
                total += n as u64;
                received(n as u64);
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // FIN without close_notify: a half-close before any data, a
            // possible truncation after it.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return if total == 0 {
                    Ok(0)
                } else {
                    Err(PumpError::Read(truncated()))
                };
            }
            Err(e) => return Err(PumpError::Read(e)),
        }
        if let Err(e) = processed {
            // rustls queued an alert saying why; it goes out if it can.
            let _ = connection.write_tls(&mut &shared.socket);
            return Err(PumpError::Read(io::Error::new(
                io::ErrorKind::InvalidData,
                e,
            )));
        }
        match connection.read_tls(&mut &shared.socket) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Nothing to read. Bytes rustls wants to send (a key
                // update's answer) go out now if the socket takes them; this
                // thread never waits for room to write, only for the next
                // bytes to read (or for room, while something is pending):
                // a receiver that stopped reading to wait for its own send
                // could deadlock with a peer doing the same.
                let mut waiting = PollFlags::POLLIN;
                if connection.wants_write() {
                    match connection.write_tls(&mut &shared.socket) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            waiting |= PollFlags::POLLOUT
                        }
                        Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                            return Err(PumpError::Read(e));
                        }
                        _ => continue,
                    }
                }
                drop(connection);
                wait_for(&shared.socket, waiting);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(PumpError::Read(e)),
        }
    }
}
