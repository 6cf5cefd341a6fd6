//! A datagram socket of either kind: UDP, or a Unix datagram socket.
//!
//! Both keep message boundaries and have no connection, so the server and
//! the client run the same loops over either. They differ in who can be
//! answered: every UDP sender has an address and port, but a Unix sender
//! that never bound a name (socat's `UNIX-SENDTO` without `bind=`) has no
//! address to reply to; its datagrams are printed and not answered. That is
//! also why `connect -u -U` binds a name of its own before sending.

use std::io;
use std::os::fd::AsRawFd;

use nix::sys::socket as sys;
use tokio::io::Interest;
use tokio::net::{UdpSocket, UnixDatagram};

use crate::transport::endpoint::{Endpoint, UnixName};
use crate::transport::unix::{name_of_tokio, socket_address};

pub enum DatagramSocket {
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

impl DatagramSocket {
    /// The next datagram and its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Endpoint)> {
        match self {
            DatagramSocket::Udp(socket) => {
                let (len, from) = socket.recv_from(buf).await?;
                Ok((len, Endpoint::Ip(from)))
            }
            DatagramSocket::Unix(socket) => {
                let (len, from) = socket.recv_from(buf).await?;
                Ok((len, Endpoint::unix(name_of_tokio(&from))))
            }
        }
    }

    /// Sends one datagram to `to`. An endpoint of the other kind, or an
    /// unnamed Unix socket, cannot be sent to.
    pub async fn send_to(&self, datagram: &[u8], to: &Endpoint) -> io::Result<usize> {
        match (self, to) {
            (DatagramSocket::Udp(socket), Endpoint::Ip(addr)) => {
                socket.send_to(datagram, addr).await
            }
            (DatagramSocket::Unix(socket), Endpoint::Unix(unix)) => match &unix.name {
                UnixName::Path(path) => socket.send_to(datagram, path).await,
                UnixName::Unnamed => Err(unanswerable()),
                // Abstract names are not paths, so Tokio's send_to cannot
                // take them; the system call can.
                name => {
                    let addr = socket_address(name).map_err(io::Error::other)?;
                    socket
                        .async_io(Interest::WRITABLE, || {
                            sys::sendto(socket.as_raw_fd(), datagram, &addr, sys::MsgFlags::empty())
                                .map_err(io::Error::from)
                        })
                        .await
                }
            },
            _ => Err(unanswerable()),
        }
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, datagram: &[u8]) -> io::Result<usize> {
        match self {
            DatagramSocket::Udp(socket) => socket.send(datagram).await,
            DatagramSocket::Unix(socket) => socket.send(datagram).await,
        }
    }

    /// Whether a reply can reach `peer`.
    pub fn can_answer(peer: &Endpoint) -> bool {
        !matches!(peer, Endpoint::Unix(unix) if unix.name == UnixName::Unnamed)
    }
}

fn unanswerable() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the sender has no address to reply to",
    )
}
