//! The UDP scan, and why it is paced by the target's ICMP rate limit.
//!
//! A UDP port says little. A datagram back means a program answered: open.
//! An ICMP port unreachable means nothing listens: closed. Silence means
//! either a program that ignored the probe or a firewall that dropped it:
//! open|filtered, nmap's word for it. Programs that ignore an empty datagram
//! usually answer a real request, so the probe is a valid request for the
//! well-known services that need one (DNS, NTP, SNMP), empty elsewhere.
//!
//! The difficulty is that Linux rate-limits the port-unreachable answers: a
//! token bucket per source host holding 6, refilled by one every
//! `net.ipv4.icmp_ratelimit` (1 s by default; ICMPv6 the same). A burst to
//! 50 closed ports gets 6 answers and 44 silences that look exactly like
//! open|filtered. A suppressed answer costs the target no token, so probing
//! faster than the refill is harmless: every unresolved port is retried in
//! turn, a few dozen times a second, and each token the target earns goes to
//! the next closed port probed. The scan ends when every unresolved port has
//! been probed at least once a full refill period after the last ICMP answer
//! (so a token was certainly there to answer it) and its wait is over. A scan
//! of many closed ports therefore takes about one second per closed port
//! beyond the first six, which is the floor the target sets; hosts are
//! scanned side by side, since each has its own bucket.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use nix::errno::Errno;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::pace::Pacer;
use super::{Plan, PortState, ScanOptions, Slots, is_local_failure, pool};

/// How long the target needs to earn one ICMP answer: Linux's default
/// `icmp_ratelimit` (and ICMPv6's `ratelimit`).
const REFILL: Duration = Duration::from_secs(1);

/// The time between two retries to the same host.
const RETRY_GAP: Duration = Duration::from_millis(20);

/// Room for any answer; only its arrival matters.
const RECEIVE_BUFFER: usize = 2048;

/// A DNS query for the root's name servers.
const DNS_QUERY: &[u8] = &[
    0x5c, 0xa7, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, // header: RD, 1 question
    0x00, 0x00, 0x02, 0x00, 0x01, // ".", NS, IN
];

/// An NTP version 4 client request (mode 3), as ntpdate sends.
const NTP_REQUEST: &[u8] = &{
    let mut request = [0u8; 48];
    request[0] = 0xe3;
    request
};

/// An SNMPv1 get-request for sysDescr.0 with the community "public".
const SNMP_GET: &[u8] = &[
    0x30, 0x29, 0x02, 0x01, 0x00, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x1c, 0x02,
    0x04, 0x00, 0x00, 0x5c, 0xa7, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06,
    0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
];

/// The probe datagram for a port: a request its usual service answers.
pub fn request_for(port: u16) -> &'static [u8] {
    match port {
        53 => DNS_QUERY,
        123 => NTP_REQUEST,
        161 => SNMP_GET,
        _ => &[],
    }
}

/// Probes every (host, port) of `plan`. Each host's ports are scanned as
/// one paced exchange, in chunks that fit the descriptor budget (a socket
/// per port), as many hosts at once as the budget allows.
pub(super) async fn scan(
    plan: Arc<Plan>,
    options: ScanOptions,
    pacer: Arc<Pacer>,
    budget: usize,
    slots: Arc<Slots>,
) {
    let chunk = plan.ports.len().clamp(1, budget);
    let chunks_per_host = plan.ports.len().div_ceil(chunk);
    let hosts = plan.hosts.len();
    pool::run(hosts * chunks_per_host, budget / chunk, move |item| {
        let (plan, pacer, slots) = (Arc::clone(&plan), Arc::clone(&pacer), Arc::clone(&slots));
        async move {
            let (host, first) = (item % hosts, item / hosts * chunk);
            let last = (first + chunk).min(plan.ports.len());
            let outcomes = scan_host(
                plan.hosts[host],
                &plan.ports[first..last],
                options.timeout,
                &pacer,
            )
            .await;
            for (offset, outcome) in outcomes.into_iter().enumerate() {
                slots.record((first + offset) * hosts + host, outcome);
            }
        }
    })
    .await;
}

/// One host's ports, each port's outcome in the same order.
async fn scan_host(
    target: IpAddr,
    ports: &[u16],
    wait: Duration,
    pacer: &Pacer,
) -> Vec<io::Result<PortState>> {
    let mut outcomes: Vec<Option<io::Result<PortState>>> = ports.iter().map(|_| None).collect();
    let (answers, mut answered) = mpsc::unbounded_channel();
    let mut listeners = tokio::task::JoinSet::new();
    let mut sockets: Vec<Option<Arc<UdpSocket>>> = Vec::with_capacity(ports.len());
    for (i, &port) in ports.iter().enumerate() {
        match open(SocketAddr::new(target, port)) {
            Ok(socket) => {
                let socket = Arc::new(socket);
                let answers = answers.clone();
                let listening = Arc::clone(&socket);
                listeners.spawn(async move {
                    let _ = answers.send((i, listen(&listening).await));
                });
                sockets.push(Some(socket));
            }
            Err(e) => {
                outcomes[i] = Some(Err(e));
                sockets.push(None);
            }
        }
    }
    let mut unresolved: Vec<usize> = (0..ports.len()).filter(|&i| sockets[i].is_some()).collect();
    // The first probe sent to each port once a token is certainly there.
    let mut qualified: Vec<Option<Instant>> = vec![None; ports.len()];
    let mut threshold = Instant::now() + REFILL;
    // Sends one probe; an ICMP answer to an earlier one may come back as
    // the send's error.
    let send = |i: usize| {
        let socket = sockets[i].as_ref()?;
        let error = socket.try_send(request_for(ports[i])).err()?;
        state_of(&error)
    };
    for &i in &unresolved {
        pacer.turn().await;
        if let Some(state) = send(i) {
            outcomes[i] = Some(Ok(state));
        }
    }
    unresolved.retain(|&i| outcomes[i].is_none());
    let mut cursor = 0;
    let mut next_retry = Instant::now() + RETRY_GAP;
    while !unresolved.is_empty() {
        let now = Instant::now();
        if unresolved
            .iter()
            .all(|&i| qualified[i].is_some_and(|at| at + wait <= now))
        {
            break;
        }
        let answer = tokio::select! {
            Some(answer) = answered.recv() => Some(answer),
            _ = tokio::time::sleep_until(next_retry) => {
                cursor %= unresolved.len();
                let i = unresolved[cursor];
                cursor += 1;
                pacer.turn().await;
                let sent_at = Instant::now();
                next_retry = sent_at + RETRY_GAP;
                match send(i) {
                    Some(state) => Some((i, state)),
                    None => {
                        if sent_at >= threshold && qualified[i].is_none() {
                            qualified[i] = Some(sent_at);
                        }
                        None
                    }
                }
            }
        };
        if let Some((i, state)) = answer
            && outcomes[i].is_none()
        {
            outcomes[i] = Some(Ok(state));
            unresolved.retain(|&u| u != i);
            if state != PortState::Open {
                // An ICMP answer spent a token: the next one comes a refill
                // later, and only probes sent after that prove silence.
                threshold = Instant::now() + REFILL;
                qualified.fill(None);
            }
        }
    }
    listeners.abort_all();
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Ok(PortState::OpenFiltered)))
        .collect()
}

/// A UDP socket connected to the port, so the kernel hands its ICMP errors
/// to this socket alone (as ECONNREFUSED and friends on the next call).
fn open(target: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = match target {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = std::net::UdpSocket::bind(local)?;
    socket.connect(target)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

/// Waits for the port's first answer: a datagram, or an ICMP error.
async fn listen(socket: &UdpSocket) -> PortState {
    let mut buffer = [0u8; RECEIVE_BUFFER];
    loop {
        match socket.recv(&mut buffer).await {
            Ok(_) => return PortState::Open,
            Err(e) => {
                if let Some(state) = state_of(&e) {
                    return state;
                }
            }
        }
    }
}

/// The state an error from a connected UDP socket reports, if it is an
/// ICMP answer at all (a full send buffer is not).
fn state_of(error: &io::Error) -> Option<PortState> {
    if error.kind() == io::ErrorKind::WouldBlock || is_local_failure(error) {
        return None;
    }
    Some(match Errno::from_raw(error.raw_os_error().unwrap_or(0)) {
        Errno::ECONNREFUSED => PortState::Closed,
        // Host, network or protocol unreachable, administratively
        // prohibited: a router or firewall said no.
        _ => PortState::Filtered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_ports_get_valid_requests() {
        let query = simple_dns::Packet::parse(request_for(53)).unwrap();
        assert_eq!(query.questions.len(), 1);
        assert_eq!(query.questions[0].qname.to_string(), "");
        assert_eq!(request_for(123).len(), 48);
        assert_eq!(request_for(123)[0] & 0x07, 3, "NTP client mode");
        // The BER lengths add up: the message, then the PDU inside it.
        let snmp = request_for(161);
        assert_eq!(usize::from(snmp[1]) + 2, snmp.len());
        assert_eq!(usize::from(snmp[14]) + 15, snmp.len());
        assert!(request_for(9).is_empty());
    }
}
