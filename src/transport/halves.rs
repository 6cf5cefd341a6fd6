//! A connection split into borrowed halves, one for each direction of a
//! tunnel.
//!
//! A tunnel reads from each socket in one direction and writes to it in
//! the other, both inside one task. Reading through Tokio's `AsyncRead`
//! (rather than a system call of our own) matters for small messages: a
//! read that returns less than asked tells Tokio the socket is drained, so
//! the next wait needs no read that fails with EAGAIN first. The halves
//! also lend the socket itself ([`SocketRef`]) for calls Tokio does not
//! wrap, such as splice(2), under the same readiness.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpStream, UnixStream, tcp, unix};

use super::stream::Connection;

/// The receiving half of a [`Connection`].
pub enum ReadHalf<'a> {
    Tcp(tcp::ReadHalf<'a>),
    Unix(unix::ReadHalf<'a>),
}

/// The sending half of a [`Connection`]; shutting it down half-closes.
pub enum WriteHalf<'a> {
    Tcp(tcp::WriteHalf<'a>),
    Unix(unix::WriteHalf<'a>),
}

/// The socket under a half.
#[derive(Clone, Copy)]
pub enum SocketRef<'a> {
    Tcp(&'a TcpStream),
    Unix(&'a UnixStream),
}

impl Connection {
    /// Borrowed halves, usable at the same time.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        match self {
            Connection::Tcp(tcp) => {
                let (read, write) = tcp.split();
                (ReadHalf::Tcp(read), WriteHalf::Tcp(write))
            }
            Connection::Unix(unix) => {
                let (read, write) = unix.split();
                (ReadHalf::Unix(read), WriteHalf::Unix(write))
            }
        }
    }
}

impl ReadHalf<'_> {
    pub fn socket(&self) -> SocketRef<'_> {
        match self {
            ReadHalf::Tcp(half) => SocketRef::Tcp(half.as_ref()),
            ReadHalf::Unix(half) => SocketRef::Unix(half.as_ref()),
        }
    }
}

impl WriteHalf<'_> {
    pub fn socket(&self) -> SocketRef<'_> {
        match self {
            WriteHalf::Tcp(half) => SocketRef::Tcp(half.as_ref()),
            WriteHalf::Unix(half) => SocketRef::Unix(half.as_ref()),
        }
    }
}

impl SocketRef<'_> {
    /// Waits until the socket may be ready for `interest` (Tokio's
    /// readiness; the next [`SocketRef::try_io`] says whether it was).
    pub async fn ready(self, interest: Interest) -> io::Result<()> {
        match self {
            SocketRef::Tcp(tcp) => tcp.ready(interest).await.map(drop),
            SocketRef::Unix(unix) => unix.ready(interest).await.map(drop),
        }
    }

    /// Runs a non-blocking system call on the socket; its WouldBlock
    /// clears the readiness [`SocketRef::ready`] waits for.
    pub fn try_io<R>(
        self,
        interest: Interest,
        call: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            SocketRef::Tcp(tcp) => tcp.try_io(interest, call),
            SocketRef::Unix(unix) => unix.try_io(interest, call),
        }
    }
}

impl AsFd for SocketRef<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            SocketRef::Tcp(tcp) => tcp.as_fd(),
            SocketRef::Unix(unix) => unix.as_fd(),
        }
    }
}

impl AsyncRead for ReadHalf<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadHalf::Tcp(half) => Pin::new(half).poll_read(cx, buf),
            ReadHalf::Unix(half) => Pin::new(half).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WriteHalf<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteHalf::Tcp(half) => Pin::new(half).poll_write(cx, data),
            WriteHalf::Unix(half) => Pin::new(half).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Tcp(half) => Pin::new(half).poll_flush(cx),
            WriteHalf::Unix(half) => Pin::new(half).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Tcp(half) => Pin::new(half).poll_shutdown(cx),
            WriteHalf::Unix(half) => Pin::new(half).poll_shutdown(cx),
        }
    }
}
