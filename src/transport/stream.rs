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

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

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

    /// The stream as a plain socket, when it is one (a proxy's tunnel then
    /// moves bytes with the socket's own system calls); any other stream is
    /// given back.
    fn into_connection(self) -> Result<Connection, Self>
    where
        Self: Sized,
    {
        Err(self)
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

/// A connected stream socket of either kind the course meets: TCP, or a
/// Unix stream socket. Servers and clients hand sessions this, so every mode
/// (relay, echo, chat, TLS, a program) works over both without being
/// written twice.
#[derive(Debug)]
pub enum Connection {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl Connection {
    /// The TCP socket, for TCP-only options (Nagle, keepalive).
    pub fn tcp(&self) -> Option<&tokio::net::TcpStream> {
        match self {
            Connection::Tcp(tcp) => Some(tcp),
            Connection::Unix(_) => None,
        }
    }
}

impl From<tokio::net::TcpStream> for Connection {
    fn from(tcp: tokio::net::TcpStream) -> Self {
        Connection::Tcp(tcp)
    }
}

impl AsFd for Connection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Connection::Tcp(tcp) => tcp.as_fd(),
            Connection::Unix(unix) => unix.as_fd(),
        }
    }
}

/// Both kinds are `Unpin`, so each call goes straight to the one inside.
macro_rules! each_kind {
    ($self:ident, $inner:ident => $call:expr) => {
        match $self.get_mut() {
            Connection::Tcp($inner) => $call,
            Connection::Unix($inner) => $call,
        }
    };
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each_kind!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_kind!(self, s => Pin::new(s).poll_write(cx, data))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_kind!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_kind!(self, s => Pin::new(s).poll_shutdown(cx))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_kind!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

impl Stream for Connection {
    fn plain_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.as_fd())
    }

    fn into_connection(self) -> Result<Connection, Self> {
        Ok(self)
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
