//! What a session runs over: any duplex byte stream.
//!
//! The course's sessions (relay, echo, chat, keep-open fan-out) do not care
//! whether the bytes travel over plain TCP, a Unix socket, TLS or a proxy's
//! tunnel; they need a stream they can read, write and half-close. That is
//! [`Stream`]: Tokio's `AsyncRead + AsyncWrite` plus one question, whether a
//! plain kernel descriptor carries the bytes as they are. When it does, and
//! the local side is descriptors too, the relay moves bytes with splice(2)
//! and sendfile(2) instead of through user space (see `pump`). A stream that
//! transforms the bytes (TLS) answers no; a TLS session over TCP can instead
//! be taken apart ([`Stream::into_tls_parts`]) for the relay's TLS threads.

use std::os::fd::{AsFd, BorrowedFd};

use tokio::io::{AsyncRead, AsyncWrite};

use super::tls::TlsParts;

/// A duplex byte stream a session can run over.
///
/// `AsyncWrite::poll_shutdown` is the half-close (TCP's FIN): the relay calls
/// it when its input ends and keeps reading.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The descriptor whose bytes are exactly this stream's, if there is one.
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    /// A TLS session over a TCP socket, taken apart for the relay's TLS
    /// threads (see `tls::threads`); any other stream is given back.
    fn into_tls_parts(self) -> Result<TlsParts, Self>
    where
        Self: Sized,
    {
        Err(self)
    }
}

impl Stream for tokio::net::TcpStream {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }
}

impl Stream for tokio::net::UnixStream {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }
}

/// In-memory pipes, for embedding and for tests of the portable path.
impl Stream for tokio::io::DuplexStream {}

/// Turns on TCP keepalive: the first probe after `after` without traffic,
/// then one every `after / 3` (at least a second), three unanswered probes
/// and the connection is declared dead. A peer whose host vanished (power
/// cut, cable pulled) sends no FIN or RST; without this, a silent session
/// with it lasts forever.
pub fn set_keepalive(
    stream: &tokio::net::TcpStream,
    after: std::time::Duration,
) -> std::io::Result<()> {
    let interval = (after / 3).max(std::time::Duration::from_secs(1));
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(after)
        .with_interval(interval)
        .with_retries(3);
    socket2::SockRef::from(stream).set_tcp_keepalive(&keepalive)
}
