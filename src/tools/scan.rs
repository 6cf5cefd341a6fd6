//! A TCP connect scan: for each port, the three-way handshake and then an
//! immediate close, many ports at once.
//!
//! This is the scan any user may run (no raw sockets): `connect(2)` answers
//! with the handshake's outcome. A SYN-ACK means a program is listening
//! (open), a RST means none is (closed), and silence until the timeout means
//! something dropped the packets (filtered).
//!
//! Concurrency is a fixed pool of workers pulling the next port from a shared
//! counter, so at most `concurrency` sockets are open at any time whatever
//! the number of ports (the descriptor limit is raised first, and the pool is
//! shrunk to fit under it). Results go into one slot per port and are read in
//! port order at the end, so the report does not depend on which probe
//! finished first.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde::Serialize;
use socket2::{Domain, SockRef, Socket, Type};
use tokio::net::TcpStream;

use crate::shutdown::StopSignal;

/// Descriptors kept free for stdio, the runtime and the signal pipe.
const SPARE_DESCRIPTORS: u64 = 64;

/// Probes a worker runs between two returns to the scheduler.
const YIELD_EVERY: u64 = 32;

/// How many times a probe is retried when the host is out of local ports
/// (EADDRNOTAVAIL), and how long it waits before each retry.
const LOCAL_PORT_RETRIES: u32 = 50;
const LOCAL_PORT_PAUSE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Probes in flight at once.
    pub concurrency: usize,
    /// How long one handshake may take before the port counts as filtered.
    pub timeout: Duration,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            concurrency: 1000,
            timeout: Duration::from_secs(1),
        }
    }
}

/// What the handshake said about one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortState {
    /// The handshake completed: a program accepts connections there.
    Open,
    /// The host answered with a reset: nothing listens there.
    Closed,
    /// No answer before the timeout, or an ICMP error: something in the way
    /// dropped or refused the packets.
    Filtered,
}

/// The outcome of a scan, ports in ascending order.
#[derive(Debug, Clone)]
pub struct ScanReport {
    pub target: IpAddr,
    /// Every scanned port and its state; ports not reached before a stop are
    /// left out.
    pub ports: Vec<(u16, PortState)>,
    /// How many ports were asked for.
    pub requested: usize,
    pub elapsed: Duration,
    /// Probes that failed for a local reason (out of descriptors or local
    /// ports after every retry), with the last such error.
    pub local_failures: usize,
    pub last_local_error: Option<String>,
}

impl ScanReport {
    pub fn count(&self, state: PortState) -> usize {
        self.ports.iter().filter(|(_, s)| *s == state).count()
    }

    pub fn open_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.ports
            .iter()
            .filter(|(_, s)| *s == PortState::Open)
            .map(|(p, _)| *p)
    }

    /// True when a stop cut the scan short.
    pub fn interrupted(&self) -> bool {
        self.ports.len() + self.local_failures < self.requested
    }
}

/// Slot values: not probed yet, one per state, or a local failure.
const PENDING: u8 = 0;
const LOCAL_FAILURE: u8 = 4;

fn encode(state: PortState) -> u8 {
    match state {
        PortState::Open => 1,
        PortState::Closed => 2,
        PortState::Filtered => 3,
    }
}

fn decode(slot: u8) -> Option<PortState> {
    match slot {
        1 => Some(PortState::Open),
        2 => Some(PortState::Closed),
        3 => Some(PortState::Filtered),
        _ => None,
    }
}

/// Scans `ports` of `target`, returning when all are probed or `shutdown`
/// fires. Must run inside a Tokio runtime.
pub async fn scan(
    target: IpAddr,
    ports: &[u16],
    options: ScanOptions,
    mut shutdown: StopSignal,
) -> ScanReport {
    let started = Instant::now();
    let concurrency = usable_concurrency(options.concurrency).min(ports.len().max(1));
    let shared = Arc::new(Shared {
        ports: ports.to_vec(),
        next: AtomicUsize::new(0),
        slots: ports.iter().map(|_| AtomicU8::new(PENDING)).collect(),
        last_local_error: std::sync::Mutex::new(None),
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let shared = Arc::clone(&shared);
        workers.spawn(async move { shared.work(target, options.timeout).await });
    }
    tokio::select! {
        _ = async { while workers.join_next().await.is_some() {} } => {}
        _ = shutdown.wait() => workers.abort_all(),
    }
    let mut report = ScanReport {
        target,
        ports: Vec::with_capacity(ports.len()),
        requested: ports.len(),
        elapsed: started.elapsed(),
        local_failures: 0,
        last_local_error: shared.last_local_error.lock().ok().and_then(|e| e.clone()),
    };
    let mut probed: Vec<(u16, u8)> = shared
        .ports
        .iter()
        .zip(&shared.slots)
        .map(|(port, slot)| (*port, slot.load(Ordering::Relaxed)))
        .collect();
    probed.sort_unstable_by_key(|(port, _)| *port);
    for (port, slot) in probed {
        match decode(slot) {
            Some(state) => report.ports.push((port, state)),
            None if slot == LOCAL_FAILURE => report.local_failures += 1,
            None => {}
        }
    }
    report
}

/// The pool size that fits under the descriptor limit (raised first).
fn usable_concurrency(wanted: usize) -> usize {
    let limit = crate::sys::raise_open_file_limit().unwrap_or(1024);
    let room = limit.saturating_sub(SPARE_DESCRIPTORS).max(1);
    wanted.clamp(1, usize::try_from(room).unwrap_or(usize::MAX))
}

struct Shared {
    ports: Vec<u16>,
    next: AtomicUsize,
    slots: Vec<AtomicU8>,
    last_local_error: std::sync::Mutex<Option<String>>,
}

impl Shared {
    async fn work(&self, target: IpAddr, timeout: Duration) {
        for probed in 0u64.. {
            // A probe answered at once never waits, so the task would never
            // give the scheduler a chance to stop it on Ctrl-C.
            if probed % YIELD_EVERY == YIELD_EVERY - 1 {
                tokio::task::yield_now().await;
            }
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&port) = self.ports.get(index) else {
                return;
            };
            let slot = match probe_with_retries(SocketAddr::new(target, port), timeout).await {
                Ok(state) => encode(state),
                Err(e) => {
                    if let Ok(mut last) = self.last_local_error.lock() {
                        *last = Some(e.to_string());
                    }
                    LOCAL_FAILURE
                }
            };
            self.slots[index].store(slot, Ordering::Relaxed);
        }
    }
}

async fn probe_with_retries(addr: SocketAddr, timeout: Duration) -> io::Result<PortState> {
    let mut attempt = 0;
    loop {
        match probe(addr, timeout).await {
            Err(e) if is_out_of_local_ports(&e) && attempt < LOCAL_PORT_RETRIES => {
                attempt += 1;
                tokio::time::sleep(LOCAL_PORT_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// One handshake. Errors are local failures (no descriptor, no local port);
/// every answer from the network is a state.
///
/// The connect is non-blocking, and its outcome is checked once before the
/// socket is handed to the reactor: on loopback and on a fast LAN the SYN-ACK
/// or RST has usually been processed before `connect` returns, and skipping
/// the epoll registration, wait and removal for those ports halved the time
/// of a full loopback scan.
pub async fn probe(addr: SocketAddr, timeout: Duration) -> io::Result<PortState> {
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = Socket::new(domain, Type::STREAM.nonblocking(), None)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(Errno::EINPROGRESS as i32) => {}
        Err(e) => return classify(e),
    }
    if let Some(state) = settled(SockRef::from(&socket), addr)? {
        return Ok(state);
    }
    let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
    if tokio::time::timeout(timeout, stream.writable())
        .await
        .is_err()
    {
        return Ok(PortState::Filtered);
    }
    Ok(settled(SockRef::from(&stream), addr)?.unwrap_or(PortState::Filtered))
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
    match error.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => Ok(PortState::Closed),
        _ if is_out_of_local_ports(&error) || is_out_of_descriptors(&error) => Err(error),
        // Timed out, host or network unreachable, administratively
        // prohibited: something between us and the port.
        _ => Ok(PortState::Filtered),
    }
}

fn is_out_of_local_ports(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::AddrNotAvailable
}

fn is_out_of_descriptors(e: &io::Error) -> bool {
    let errno = Errno::from_raw(e.raw_os_error().unwrap_or(0));
    matches!(errno, Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS)
}
