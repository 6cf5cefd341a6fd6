//! The TCP connect scan: for each port the three-way handshake and then an
//! immediate close, many ports at once.
//!
//! This is the scan any user may run (no raw sockets): `connect(2)` answers
//! with the handshake's outcome. A SYN-ACK means a program is listening
//! (open), a RST means none is (closed), and silence until the timeout means
//! something dropped the packets (filtered).
//!
//! Concurrency is the scan's worker pool ([`super::pool`]), so at most
//! `budget` sockets are open at any time whatever the number of hosts and
//! ports.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nix::errno::Errno;
use socket2::{Domain, SockRef, Socket, Type};
use tokio::net::TcpStream;

use super::pace::Pacer;
use super::{Plan, PortState, ScanOptions, Slots, banner, is_local_failure, pool};

/// How many times a probe is retried when the host is out of local ports
/// (EADDRNOTAVAIL), and how long it waits before each retry.
const LOCAL_PORT_RETRIES: u32 = 50;
const LOCAL_PORT_PAUSE: Duration = Duration::from_millis(20);

/// Probes every (host, port) of `plan` with at most `budget` in flight.
/// A worker that finds a port open reads its banner before taking the next
/// probe, so banners count against the same budget.
pub(super) async fn scan(
    plan: Arc<Plan>,
    options: ScanOptions,
    pacer: Arc<Pacer>,
    budget: usize,
    slots: Arc<Slots>,
) {
    pool::run(plan.len(), budget, move |index| {
        let (plan, pacer, slots) = (Arc::clone(&plan), Arc::clone(&pacer), Arc::clone(&slots));
        async move {
            let (host, port) = plan.probe(index);
            pacer.turn().await;
            let outcome =
                match connect_with_retries(SocketAddr::new(host, port), options.timeout).await {
                    Ok(Handshake::Open(socket)) => {
                        if options.banners
                            && let Some(text) = banner::read(socket, port, options.timeout).await
                        {
                            slots.record_banner(index, text);
                        }
                        Ok(PortState::Open)
                    }
                    Ok(Handshake::Answered(state)) => Ok(state),
                    Err(e) => Err(e),
                };
            slots.record(index, outcome);
        }
    })
    .await;
}

/// A handshake's outcome: the open socket (for its banner), or the state.
enum Handshake {
    Open(Socket),
    Answered(PortState),
}

async fn connect_with_retries(addr: SocketAddr, timeout: Duration) -> io::Result<Handshake> {
    let mut attempt = 0;
    loop {
        match connect(addr, timeout).await {
            Err(e)
                if e.kind() == io::ErrorKind::AddrNotAvailable && attempt < LOCAL_PORT_RETRIES =>
            {
                attempt += 1;
                tokio::time::sleep(LOCAL_PORT_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// One handshake's state. Errors are local failures (no descriptor, no
/// local port); every answer from the network is a state.
pub async fn probe(addr: SocketAddr, timeout: Duration) -> io::Result<PortState> {
    Ok(match connect(addr, timeout).await? {
        Handshake::Open(_) => PortState::Open,
        Handshake::Answered(state) => state,
    })
}

/// One handshake, keeping the socket when it completes.
///
/// The connect is non-blocking, and its outcome is checked once before the
/// socket is handed to the reactor: on loopback and on a fast LAN the SYN-ACK
/// or RST has usually been processed before `connect` returns, and skipping
/// the epoll registration, wait and removal for those ports halved the time
/// of a full loopback scan.
async fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Handshake> {
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = Socket::new(domain, Type::STREAM.nonblocking(), None)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(Errno::EINPROGRESS as i32) => {}
        Err(e) => return classify(e).map(Handshake::Answered),
    }
    let socket = match settled(SockRef::from(&socket), addr)? {
        Some(PortState::Open) => return Ok(Handshake::Open(socket)),
        Some(state) => return Ok(Handshake::Answered(state)),
        None => TcpStream::from_std(std::net::TcpStream::from(socket))?,
    };
    if tokio::time::timeout(timeout, socket.writable())
        .await
        .is_err()
    {
        return Ok(Handshake::Answered(PortState::Filtered));
    }
    Ok(match settled(SockRef::from(&socket), addr)? {
        Some(PortState::Open) => Handshake::Open(Socket::from(socket.into_std()?)),
        state => Handshake::Answered(state.unwrap_or(PortState::Filtered)),
    })
}

/// The state once the handshake is over, or `None` while it is not.
fn settled(socket: SockRef<'_>, addr: SocketAddr) -> io::Result<Option<PortState>> {
    if let Some(error) = socket.take_error()? {
        return classify(error).map(Some);
    }
    match socket.peer_addr() {
        // Scanning the ephemeral range on loopback can connect a socket to
        // itself (a simultaneous open with one end): nobody listens there.
        Ok(_) if socket.local_addr()?.as_socket() == Some(addr) => Ok(Some(PortState::Closed)),
        Ok(_) => Ok(Some(PortState::Open)),
        Err(e) if e.raw_os_error() == Some(Errno::ENOTCONN as i32) => Ok(None),
        Err(e) => classify(e).map(Some),
    }
}

/// A failed handshake's state, or the error when the failure was ours.
fn classify(error: io::Error) -> io::Result<PortState> {
    if is_local_failure(&error) {
        return Err(error);
    }
    match error.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => Ok(PortState::Closed),
        // Timed out, host or network unreachable, administratively
        // prohibited: something between us and the port.
        _ => Ok(PortState::Filtered),
    }
}
