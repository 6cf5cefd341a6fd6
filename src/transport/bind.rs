//! The server's first steps: socket, bind, and for TCP, listen.
//!
//! TCP and UDP servers start the same way (a socket of the address's family,
//! dual-stack for `::`, bind with errors that say what to do),
//! so both go through `bound_socket`; only TCP then calls `listen`.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

use super::events::{Event, Events};
use crate::error::{Error, Result};

/// Pending connections the kernel may queue before `accept`. Bursts of
/// thousands of clients (the load generator, a scan) need more than the
/// traditional 128; the kernel caps it at net.core.somaxconn anyway.
pub const BACKLOG: i32 = 4096;

/// Creates a listening TCP socket on `addr`, narrating each step.
///
/// The socket is returned in non-blocking mode, ready for
/// `tokio::net::TcpListener::from_std`.
pub fn bind_listener(addr: SocketAddr, events: &Events) -> Result<std::net::TcpListener> {
    let socket = bound_socket(addr, Type::STREAM, events)?;
    socket
        .listen(BACKLOG)
        .map_err(|e| Error::io(format!("listening on {addr}"), e))?;
    listening(&socket, addr, Some(BACKLOG), events);
    Ok(socket.into())
}

/// Creates a UDP socket bound to `addr`, narrating each step. There is no
/// `listen` for datagrams: once bound, the socket receives from anyone.
pub fn bind_datagram(addr: SocketAddr, events: &Events) -> Result<std::net::UdpSocket> {
    let socket = bound_socket(addr, Type::DGRAM, events)?;
    listening(&socket, addr, None, events);
    Ok(socket.into())
}

fn bound_socket(addr: SocketAddr, kind: Type, events: &Events) -> Result<Socket> {
    let protocol = if kind == Type::DGRAM {
        Protocol::UDP
    } else {
        Protocol::TCP
    };
    let socket = Socket::new(Domain::for_address(addr), kind, Some(protocol))
        .map_err(|e| Error::io(format!("creating a socket for {addr}"), e))?;
    events.emit(Event::SocketCreated {
        family: if addr.is_ipv6() { "IPv6" } else { "IPv4" },
        datagram: kind == Type::DGRAM,
    });
    if kind == Type::STREAM {
        // A restarted server must be able to bind again while its previous
        // connections linger in TIME_WAIT; for TCP this never lets two
        // listeners share a port. For UDP it would (two sockets splitting the
        // datagrams), and UDP has no TIME_WAIT to wait out, so it is not set.
        socket
            .set_reuse_address(true)
            .map_err(|e| Error::io("setting SO_REUSEADDR", e))?;
    }
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        // "::" means every interface of both families, as 0.0.0.0 does for IPv4.
        let _ = socket.set_only_v6(false);
    }
    socket.bind(&addr.into()).map_err(|e| bind_error(addr, e))?;
    events.emit(Event::Bound {
        requested: addr.into(),
    });
    socket
        .set_nonblocking(true)
        .map_err(|e| Error::io("configuring the socket", e))?;
    Ok(socket)
}

/// Reports the address actually bound (the real port when 0 was asked).
fn listening(socket: &Socket, requested: SocketAddr, backlog: Option<i32>, events: &Events) {
    let local = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .unwrap_or(requested);
    events.emit(Event::Listening {
        local: local.into(),
        backlog,
    });
}

fn bind_error(addr: SocketAddr, err: std::io::Error) -> Error {
    match err.kind() {
        std::io::ErrorKind::AddrInUse => Error::AddressInUse { addr },
        std::io::ErrorKind::AddrNotAvailable => Error::AddressNotAvailable { addr },
        std::io::ErrorKind::PermissionDenied => Error::BindPermission { addr },
        _ => Error::io(format!("binding {addr}"), err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_zero_reports_the_real_port() {
        let listener = bind_listener("127.0.0.1:0".parse().unwrap(), &Events::none()).unwrap();
        assert_ne!(listener.local_addr().unwrap().port(), 0);
    }

    #[test]
    fn a_taken_port_says_so() {
        let first = bind_listener("127.0.0.1:0".parse().unwrap(), &Events::none()).unwrap();
        let taken = first.local_addr().unwrap();
        let err = bind_listener(taken, &Events::none()).unwrap_err();
        assert!(matches!(err, Error::AddressInUse { .. }), "{err}");
        assert!(err.to_string().contains("already in use"));
    }

    #[test]
    fn datagram_sockets_share_the_checks() {
        let first = bind_datagram("127.0.0.1:0".parse().unwrap(), &Events::none()).unwrap();
        let taken = first.local_addr().unwrap();
        assert_ne!(taken.port(), 0);
        let err = bind_datagram(taken, &Events::none()).unwrap_err();
        assert!(matches!(err, Error::AddressInUse { .. }), "{err}");
    }

    #[test]
    fn a_foreign_address_says_so() {
        // 192.0.2.0/24 is TEST-NET-1: never assigned to a real host.
        let err = bind_listener("192.0.2.1:0".parse().unwrap(), &Events::none()).unwrap_err();
        assert!(matches!(err, Error::AddressNotAvailable { .. }), "{err}");
    }
}
