//! The three kinds of trace probe and how their answers come back.
//!
//! Every kind learns what routers say through the socket's error queue
//! (IP_RECVERR / IPV6_RECVERR, as tracepath does): the kernel matches an
//! ICMP time-exceeded or unreachable message to the socket whose packet it
//! quotes and queues it with the router's address (the offender) and the
//! original destination. So UDP and TCP probes need no privilege at all,
//! and ICMP probes need only what ping needs (an ICMP datagram socket, or a
//! raw one as root).
//!
//! - UDP: one socket, a destination port per probe (33434 and up, as
//!   traceroute), the port telling which probe an answer is about; the
//!   destination answers "port unreachable".
//! - ICMP: echo requests whose sequence number is the probe's; the
//!   destination answers with an echo reply.
//! - TCP: a socket per probe, connecting with the probe's TTL; the
//!   destination answers SYN-ACK (connected) or RST (refused).

use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use socket2::{Domain, Protocol, Socket, Type};

use crate::wire::icmp::{self, Version};

/// traceroute's first destination port for UDP probes.
pub const UDP_BASE_PORT: u16 = 33434;
const SO_EE_ORIGIN_ICMP: u8 = 2;
const SO_EE_ORIGIN_ICMP6: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Udp { port: u16 },
    Icmp,
    Tcp { port: u16 },
}

/// What an answer says about the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A router on the way: the probe's TTL ran out there.
    TimeExceeded,
    /// The destination itself answered.
    Reached,
    /// Someone said the destination cannot be reached; traceroute's
    /// annotation (`!H`, `!N`, `!P`, `!X`, or `!<code>`).
    Unreachable(&'static str),
}

/// One answer to one probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    /// Index of the probe in send order.
    pub probe: usize,
    pub from: IpAddr,
    /// When it arrived (the kernel's time stamp where there is one).
    pub at: SystemTime,
    pub verdict: Verdict,
}

pub struct Prober {
    method: Method,
    version: Version,
    destination: IpAddr,
    /// UDP and ICMP: the one socket; TCP: none (each probe has its own).
    shared: Option<Socket>,
    /// TCP: each probe's socket, by descriptor.
    connecting: HashMap<RawFd, (usize, Socket)>,
    /// ICMP: whether the shared socket is raw (sees every ICMP message).
    raw: bool,
    identifier: u16,
    buffer: Vec<u8>,
}

fn now() -> SystemTime {
    SystemTime::now()
}

/// traceroute's annotation for an unreachable answer, and whether it means
/// the destination itself was reached (port unreachable from it).
fn unreachable(version: Version, kind: u8, code: u8) -> Option<Verdict> {
    let annotation = match (version, kind, code) {
        (Version::V4, 11, _) | (Version::V6, 3, _) => return Some(Verdict::TimeExceeded),
        (Version::V4, 3, 3) | (Version::V6, 1, 4) => return Some(Verdict::Reached),
        (Version::V4, 3, 0) | (Version::V6, 1, 0) => "!N",
        (Version::V4, 3, 1) | (Version::V6, 1, 3) => "!H",
        (Version::V4, 3, 2) => "!P",
        (Version::V4, 3, 13) | (Version::V6, 1, 1) => "!X",
        (Version::V4, 3, 4) => "!F",
        (Version::V4, 3, 5) => "!S",
        (Version::V4, 3, 9 | 10) => "!X",
        (Version::V4, 3, _) | (Version::V6, 1, _) => "!?",
        _ => return None,
    };
    Some(Verdict::Unreachable(annotation))
}

impl Prober {
    /// Opens what `method` needs to probe `destination`.
    pub fn open(method: Method, destination: IpAddr) -> io::Result<Prober> {
        let version = Version::of(destination);
        let domain = match version {
            Version::V4 => Domain::IPV4,
            Version::V6 => Domain::IPV6,
        };
        let (shared, raw) = match method {
            Method::Udp { .. } => (Some(Socket::new(domain, Type::DGRAM, None)?), false),
            Method::Icmp => {
                let protocol = match version {
                    Version::V4 => Protocol::ICMPV4,
                    Version::V6 => Protocol::ICMPV6,
                };
                match Socket::new(domain, Type::DGRAM, Some(protocol)) {
                    Ok(socket) => (Some(socket), false),
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                        (Some(Socket::new(domain, Type::RAW, Some(protocol))?), true)
                    }
                    Err(e) => return Err(e),
                }
            }
            Method::Tcp { .. } => (None, false),
        };
        if let Some(socket) = &shared {
            prepare(socket, version)?;
        }
        Ok(Prober {
            method,
            version,
            destination,
            shared,
            connecting: HashMap::new(),
            raw,
            identifier: std::process::id() as u16,
            buffer: vec![0; 65_536],
        })
    }

    /// How the probes go out and the answers come back, for `-v`.
    pub fn describe(&self) -> &'static str {
        match (self.method, self.raw) {
            (Method::Udp { .. }, _) => {
                "UDP probes from an unprivileged socket; routers' answers from its error queue (IP_RECVERR)"
            }
            (Method::Icmp, false) => {
                "ICMP echo probes from an ICMP datagram socket (ping_group_range); routers' answers from its error queue"
            }
            (Method::Icmp, true) => {
                "ICMP echo probes from a raw socket (CAP_NET_RAW); routers' answers from its error queue"
            }
            (Method::Tcp { .. }, _) => {
                "TCP SYN probes, one unprivileged socket each (a connect with the probe's TTL); routers' answers from the error queue"
            }
        }
    }

    /// Sends probe number `probe` with time to live `ttl`; returns when.
    pub fn send(&mut self, probe: usize, ttl: u8) -> io::Result<SystemTime> {
        match self.method {
            Method::Udp { port } => {
                let socket = self.shared.as_ref().expect("UDP probes share a socket");
                set_ttl(socket, self.version, ttl)?;
                let port = port.wrapping_add(probe as u16);
                let target = SocketAddr::new(self.destination, port);
                send_past_reported_errors(|| {
                    let sent = now();
                    socket.send_to(&[0u8; 32], &target.into()).map(|_| sent)
                })
            }
            Method::Icmp => {
                let socket = self.shared.as_ref().expect("ICMP probes share a socket");
                set_ttl(socket, self.version, ttl)?;
                let sequence = probe as u16 + 1;
                let request = icmp::echo_request(self.version, self.identifier, sequence, &[0; 32]);
                let target = SocketAddr::new(self.destination, 0).into();
                send_past_reported_errors(|| {
                    let sent = now();
                    socket.send_to(&request, &target).map(|_| sent)
                })
            }
            Method::Tcp { port } => {
                let domain = match self.version {
                    Version::V4 => Domain::IPV4,
                    Version::V6 => Domain::IPV6,
                };
                let socket = Socket::new(domain, Type::STREAM, None)?;
                prepare(&socket, self.version)?;
                set_ttl(&socket, self.version, ttl)?;
                socket.set_nonblocking(true)?;
                let sent = now();
                match socket.connect(&SocketAddr::new(self.destination, port).into()) {
                    Ok(()) => {}
                    Err(e) if errno(&e) == Errno::EINPROGRESS => {}
                    Err(e) => return Err(e),
                }
                self.connecting.insert(socket.as_raw_fd(), (probe, socket));
                Ok(sent)
            }
        }
    }

    /// The descriptors to wait on.
    pub fn descriptors(&self) -> Vec<BorrowedFd<'_>> {
        match &self.shared {
            Some(socket) => vec![socket.as_fd()],
            None => self.connecting.values().map(|(_, s)| s.as_fd()).collect(),
        }
    }

    /// Everything that has arrived, without waiting.
    pub fn receive(&mut self) -> io::Result<Vec<Answer>> {
        let mut answers = Vec::new();
        if let Some(socket) = &self.shared {
            let fd = socket.as_raw_fd();
            while let Some(answer) = read_error(fd, self.version, &mut self.buffer)? {
                if let Some(probe) = probe_of(self.method, &answer) {
                    answers.push(answer.into_answer(probe));
                }
            }
            if self.method == Method::Icmp {
                self.echo_replies(&mut answers)?;
            }
            return Ok(answers);
        }
        let mut finished = Vec::new();
        for (&fd, (probe, socket)) in &self.connecting {
            while let Some(error) = read_error(fd, self.version, &mut self.buffer)? {
                answers.push(error.into_answer(*probe));
            }
            // Writable: the handshake ended, with a SYN-ACK or a RST.
            let ready = nix::poll::poll(
                &mut [nix::poll::PollFd::new(
                    socket.as_fd(),
                    nix::poll::PollFlags::POLLOUT,
                )],
                nix::poll::PollTimeout::ZERO,
            )
            .map_err(io::Error::from)?;
            if ready > 0 {
                let outcome = socket.take_error()?;
                let reached = match outcome {
                    None => true,
                    Some(e) => e.kind() == io::ErrorKind::ConnectionRefused,
                };
                if reached {
                    answers.push(Answer {
                        probe: *probe,
                        from: self.destination,
                        at: now(),
                        verdict: Verdict::Reached,
                    });
                }
                finished.push(fd);
            }
        }
        for fd in finished {
            self.connecting.remove(&fd);
        }
        Ok(answers)
    }

    /// Echo replies on the ICMP socket's ordinary queue.
    fn echo_replies(&mut self, answers: &mut Vec<Answer>) -> io::Result<()> {
        let fd = self
            .shared
            .as_ref()
            .expect("ICMP probes share a socket")
            .as_raw_fd();
        loop {
            let (len, from) =
                match nix::sys::socket::recvfrom::<SockaddrStorage>(fd, &mut self.buffer) {
                    Ok(received) => received,
                    Err(nix::errno::Errno::EAGAIN) => return Ok(()),
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                };
            let Some(from) = from.as_ref().and_then(address_of).map(|a| a.ip()) else {
                continue;
            };
            // A raw IPv4 socket hands over the IP header too.
            let bytes = &self.buffer[..len];
            let message = if self.raw && self.version == Version::V4 {
                let header = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
                bytes.get(header..).unwrap_or_default()
            } else {
                bytes
            };
            if let Some(icmp::Message::EchoReply(echo)) = icmp::parse(self.version, message)
                && (!self.raw || echo.identifier == self.identifier)
                && from == self.destination
            {
                answers.push(Answer {
                    probe: usize::from(echo.sequence.wrapping_sub(1)),
                    from,
                    at: now(),
                    verdict: Verdict::Reached,
                });
            }
        }
    }
}

fn address_of(storage: &SockaddrStorage) -> Option<SocketAddr> {
    storage
        .as_sockaddr_in()
        .map(|v4| SocketAddr::from((v4.ip(), v4.port())))
        .or_else(|| {
            storage
                .as_sockaddr_in6()
                .map(|v6| SocketAddr::from((v6.ip(), v6.port())))
        })
}

/// Sends with `send`, again when it fails with the error an earlier probe's
/// answer left on the socket: the kernel reports a router's ICMP error on
/// the next send as well as in the error queue, and that report, not a
/// failure of this probe, is what such a send returns (reading it clears it).
fn send_past_reported_errors(
    mut send: impl FnMut() -> io::Result<SystemTime>,
) -> io::Result<SystemTime> {
    let mut attempts = 0;
    loop {
        match send() {
            Err(e)
                if attempts < 8
                    && matches!(
                        errno(&e),
                        // Every errno icmp_err_convert and icmpv6_err_convert map
                        // an ICMP error to.
                        Errno::EHOSTUNREACH
                            | Errno::ENETUNREACH
                            | Errno::ECONNREFUSED
                            | Errno::ENOPROTOOPT
                            | Errno::EHOSTDOWN
                            | Errno::ENONET
                            | Errno::EOPNOTSUPP
                            | Errno::EMSGSIZE
                            | Errno::EPROTO
                            | Errno::EACCES
                    ) =>
            {
                attempts += 1;
            }
            other => return other,
        }
    }
}

fn errno(e: &io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// IP_RECVERR, kernel time stamps, and no blocking.
fn prepare(socket: &Socket, version: Version) -> io::Result<()> {
    match version {
        Version::V4 => setsockopt(socket, sockopt::Ipv4RecvErr, &true)?,
        Version::V6 => setsockopt(socket, sockopt::Ipv6RecvErr, &true)?,
    }
    let _ = setsockopt(socket, sockopt::ReceiveTimestampns, &true);
    socket.set_nonblocking(true)
}

fn set_ttl(socket: &Socket, version: Version, ttl: u8) -> io::Result<()> {
    match version {
        Version::V4 => socket.set_ttl_v4(u32::from(ttl)),
        Version::V6 => socket.set_unicast_hops_v6(u32::from(ttl)),
    }
}

/// One message from a socket's error queue.
struct QueuedError {
    verdict: Verdict,
    from: IpAddr,
    at: SystemTime,
    /// Where the failed packet was going (its port names a UDP probe).
    destination: Option<SocketAddr>,
    /// The start of the failed packet's payload (an ICMP probe's header).
    payload: Vec<u8>,
}

impl QueuedError {
    fn into_answer(self, probe: usize) -> Answer {
        Answer {
            probe,
            from: self.from,
            at: self.at,
            verdict: self.verdict,
        }
    }
}

/// Reads one message from `fd`'s error queue; `None` when it is empty.
fn read_error(fd: RawFd, version: Version, buffer: &mut [u8]) -> io::Result<Option<QueuedError>> {
    loop {
        let mut control = crate::sys::c_names::error_queue_control_buffer();
        let mut iov = [IoSliceMut::new(buffer)];
        let message = match recvmsg::<SockaddrStorage>(
            fd,
            &mut iov,
            Some(&mut control),
            MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(message) => message,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let len = message.bytes;
        let destination = message.address.as_ref().and_then(address_of);
        let mut found = None;
        let mut at = now();
        for cmsg in message.cmsgs()? {
            match cmsg {
                ControlMessageOwned::Ipv4RecvErr(err, offender)
                    if err.ee_origin == SO_EE_ORIGIN_ICMP =>
                {
                    let from = offender.map(|o| {
                        IpAddr::from(std::net::Ipv4Addr::from(u32::from_be(o.sin_addr.s_addr)))
                    });
                    found = Some((err.ee_type, err.ee_code, from));
                }
                ControlMessageOwned::Ipv6RecvErr(err, offender)
                    if err.ee_origin == SO_EE_ORIGIN_ICMP6 =>
                {
                    let from = offender
                        .map(|o| IpAddr::from(std::net::Ipv6Addr::from(o.sin6_addr.s6_addr)));
                    found = Some((err.ee_type, err.ee_code, from));
                }
                ControlMessageOwned::ScmTimestampns(stamp) => {
                    at = UNIX_EPOCH + Duration::new(stamp.tv_sec() as u64, stamp.tv_nsec() as u32);
                }
                _ => {}
            }
        }
        // A local error (a full send buffer, EMSGSIZE) is not an answer.
        let Some((kind, code, Some(from))) = found else {
            continue;
        };
        let Some(verdict) = unreachable(version, kind, code) else {
            continue;
        };
        return Ok(Some(QueuedError {
            verdict,
            from,
            at,
            destination,
            payload: buffer[..len.min(buffer.len())].to_vec(),
        }));
    }
}

/// Which probe a queued error is about.
fn probe_of(method: Method, error: &QueuedError) -> Option<usize> {
    match method {
        Method::Udp { port } => error
            .destination
            .map(|d| usize::from(d.port().wrapping_sub(port))),
        Method::Icmp => {
            let sequence = u16::from_be_bytes([*error.payload.get(6)?, *error.payload.get(7)?]);
            Some(usize::from(sequence.wrapping_sub(1)))
        }
        Method::Tcp { .. } => None,
    }
}
