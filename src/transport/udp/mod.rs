//! UDP: datagrams instead of a stream.
//!
//! The course contrasts TCP's connection with UDP's lack of one: no
//! handshake, no delivery guarantee, but message boundaries kept. Here each
//! datagram stays a unit from end to end: one `recv` is one datagram is one
//! write to stdout, and stdin is cut into datagrams line by line. The
//! [`server`] serves every peer from one bound socket; the [`client`] sends to
//! one peer and makes UDP's silent failure (ICMP port unreachable) visible.
//! Unix datagram sockets keep the same boundaries and run the same loops
//! ([`socket`]).

mod batch;
pub mod client;
pub mod server;
pub mod socket;

use std::io::ErrorKind;

use crate::error::Error;
use crate::transport::endpoint::Endpoint;

/// Room for the largest datagram there is (65,507 payload bytes over IPv4,
/// 65,527 over IPv6), so no datagram is ever cut.
pub const MAX_DATAGRAM: usize = 65536;

/// Largest datagram cut from stdin when a line is longer (as netcat's read).
pub const STDIN_DATAGRAM: usize = 16 * 1024;

/// Errors a peer causes (it went away, its host said "port unreachable")
/// concern that peer only; a server must keep serving the others.
fn caused_by_a_peer(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
    )
}

/// What a failed send or receive to `peer` means for the user.
fn explain(err: std::io::Error, peer: &Endpoint) -> Error {
    let peer = match peer {
        Endpoint::Ip(addr) => *addr,
        Endpoint::Unix(unix) => return crate::transport::unix::connect_error(&unix.name, err),
    };
    match err.kind() {
        ErrorKind::ConnectionRefused => Error::Unreachable { addr: peer },
        ErrorKind::PermissionDenied => Error::Usage(format!(
            "{} is a broadcast address: add --broadcast to send to it",
            peer.ip()
        )),
        _ if err.raw_os_error() == Some(nix::errno::Errno::EMSGSIZE as i32) => Error::io(
            format!("sending to {peer}: the datagram is larger than the OS allows"),
            err,
        ),
        _ => Error::io(format!("exchanging datagrams with {peer}"), err),
    }
}
