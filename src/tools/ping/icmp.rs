//! ICMP echo probes: the classic ping.
//!
//! Linux offers two sockets for it. An ICMP *datagram* socket needs no
//! privilege when the user's group is inside `net.ipv4.ping_group_range`
//! (the same setting governs ICMPv6); the kernel then fills in the
//! identifier, filters the replies for us and strips the IP header. A *raw*
//! socket needs CAP_NET_RAW and sees every ICMP message reaching the host, so
//! replies are matched by identifier, and it also brings the errors routers
//! send about our probes (host unreachable, TTL exceeded). The datagram
//! socket is tried first, as iputils does, so root and ordinary users see the
//! same behaviour wherever the kernel allows it.
//!
//! Each request carries its send time in the first 8 bytes of its payload
//! (iputils does the same), so a reply's round trip is known without a table
//! of pending probes, late and duplicate replies included. The time is
//! written into the request just before the send call; the reply's time is
//! the kernel's receive time stamp (SO_TIMESTAMPNS, as iputils uses
//! SO_TIMESTAMP), not the moment the runtime got round to reading it: the
//! round trip measures the network, not this program's wake-up.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::{Outcome, PingOptions, Prober};
use crate::error::{Error, Result};
use crate::sys::path_mtu::{self, PathMtuDiscovery};
use crate::wire::icmp::{self, ECHO_HEADER_LEN, Message, Version};
use crate::wire::ipv4::Ipv4Packet;

/// Bytes of payload used for the send time.
const STAMP_LEN: usize = 8;
/// Room for the largest ICMP message plus an IPv4 header.
const RECEIVE_BUFFER: usize = 65_536 + 60;

/// The largest payload an echo request can carry in one IP packet.
pub fn max_payload(version: Version) -> usize {
    match version {
        Version::V4 => 65_535 - 20 - ECHO_HEADER_LEN,
        Version::V6 => 65_535 - ECHO_HEADER_LEN,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// SOCK_DGRAM + IPPROTO_ICMP: unprivileged, kernel-filtered.
    Datagram,
    /// SOCK_RAW: needs CAP_NET_RAW, sees all ICMP traffic.
    Raw,
}

/// What `ping`'s flags ask of the socket and the requests.
#[derive(Debug, Clone, Default)]
pub struct IcmpSetup {
    /// `-t`: time to live, or hop limit.
    pub ttl: Option<u8>,
    /// `-p`: the bytes the data is filled with.
    pub pattern: Option<Vec<u8>>,
    /// `-b`: SO_BROADCAST.
    pub broadcast: bool,
    /// `-I` with an address: the requests' source.
    pub source: Option<IpAddr>,
    /// `-I` with a name: the interface they leave by (SO_BINDTODEVICE).
    pub interface: Option<String>,
    /// `-M`: path MTU discovery (the kernel's default when absent; "do"
    /// for broadcasts, which must not fragment).
    pub path_mtu: Option<PathMtuDiscovery>,
}

pub struct IcmpProber {
    /// Tokio's UDP type only as a readiness wrapper around the datagram or
    /// raw socket: its `recvmsg` and `sendto` are the same calls.
    socket: UdpSocket,
    kind: SocketKind,
    version: Version,
    target: SocketAddr,
    identifier: u16,
    payload_len: usize,
    pattern: Option<Vec<u8>>,
    buffer: Vec<u8>,
    /// The sequence number sent last: a local error (a request too large
    /// for the path) quotes no request, and is about the send just made.
    last_sent: u16,
}

/// Now, as the kernel's time stamps count: since 1970, realtime clock.
fn wall_clock() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

impl IcmpProber {
    /// Opens the socket for pinging `target` with `payload_len` bytes of data
    /// per request. Must run inside a Tokio runtime.
    pub fn open(target: IpAddr, payload_len: usize, setup: &IcmpSetup) -> Result<IcmpProber> {
        let version = Version::of(target);
        let (domain, protocol) = match version {
            Version::V4 => (Domain::IPV4, Protocol::ICMPV4),
            Version::V6 => (Domain::IPV6, Protocol::ICMPV6),
        };
        let (socket, kind) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
            Ok(socket) => (socket, SocketKind::Datagram),
            Err(e) if is_permission(&e) => match Socket::new(domain, Type::RAW, Some(protocol)) {
                Ok(socket) => (socket, SocketKind::Raw),
                Err(e) if is_permission(&e) => {
                    return Err(Error::IcmpPermission {
                        group_range: std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
                            .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
                            .unwrap_or_else(|_| "unknown".into()),
                    });
                }
                Err(e) => return Err(Error::io("opening a raw ICMP socket", e)),
            },
            Err(e) => return Err(Error::io("opening an ICMP socket", e)),
        };
        let context = |e: nix::Error| Error::io("setting up the ICMP socket", e.into());
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true).map_err(context)?;
        let failed = |e: io::Error| Error::io("setting up the ICMP socket", e);
        if let Some(ttl) = setup.ttl {
            match version {
                Version::V4 => socket.set_ttl_v4(u32::from(ttl)).map_err(failed)?,
                Version::V6 => socket.set_unicast_hops_v6(u32::from(ttl)).map_err(failed)?,
            }
        }
        if setup.broadcast {
            socket.set_broadcast(true).map_err(failed)?;
        }
        if let Some(interface) = &setup.interface {
            socket
                .bind_device(Some(interface.as_bytes()))
                .map_err(|e| Error::io(format!("sending by interface {interface}"), e))?;
        }
        if let Some(source) = setup.source {
            socket
                .bind(&SocketAddr::new(source, 0).into())
                .map_err(|e| Error::io(format!("sending from {source}"), e))?;
        }
        // Errors come on the error queue (IP_RECVERR), as in iputils: a
        // datagram socket's ICMP errors and, for both kinds, the local ones
        // (a request too large for the path, with its MTU). A raw socket
        // also receives routers' errors as messages, and takes them there.
        match version {
            Version::V4 => {
                setsockopt(&socket, sockopt::Ipv4RecvErr, &true).map_err(context)?;
                // A raw IPv4 socket hands over the IP header, TTL included.
                if kind == SocketKind::Datagram {
                    setsockopt(&socket, sockopt::Ipv4RecvTtl, &true).map_err(context)?;
                }
            }
            Version::V6 => {
                setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true).map_err(context)?;
                setsockopt(&socket, sockopt::Ipv6RecvErr, &true).map_err(context)?;
            }
        }
        let path_mtu = setup
            .path_mtu
            .or(setup.broadcast.then_some(PathMtuDiscovery::Do));
        if let Some(mode) = path_mtu {
            path_mtu::set(&socket, version == Version::V6, mode)
                .map_err(|e| Error::io("setting path MTU discovery (-M)", e))?;
        }
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::io("setting up the ICMP socket", e))?;
        let socket = UdpSocket::from_std(socket.into())
            .map_err(|e| Error::io("setting up the ICMP socket", e))?;
        Ok(IcmpProber {
            socket,
            kind,
            version,
            target: SocketAddr::new(target, 0),
            identifier: std::process::id() as u16,
            payload_len,
            pattern: setup.pattern.clone(),
            buffer: vec![0; RECEIVE_BUFFER],
            last_sent: 0,
        })
    }

    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// The request's payload: room for the send time, then iputils'
    /// pattern (each byte its own offset, or `-p`'s bytes repeated) up to
    /// the requested size.
    fn payload(&self) -> Vec<u8> {
        match &self.pattern {
            Some(pattern) => (0..self.payload_len)
                .map(|i| pattern[i % pattern.len()])
                .collect(),
            None => (0..self.payload_len).map(|i| i as u8).collect(),
        }
    }

    /// Turns a received message into an answer to one of our probes, or
    /// `None` for traffic that is not ours (other pings, our own requests
    /// seen on loopback, neighbour discovery).
    fn judge(
        &self,
        message: &[u8],
        from: IpAddr,
        ttl: Option<u8>,
        at: Duration,
    ) -> Option<Outcome> {
        let ours =
            |identifier: u16| self.kind == SocketKind::Datagram || identifier == self.identifier;
        match icmp::parse(self.version, message)? {
            Message::EchoReply(echo) if ours(echo.identifier) => {
                let rtt = (echo.payload.len() >= STAMP_LEN && self.payload_len >= STAMP_LEN)
                    .then(|| {
                        let stamp = u64::from_be_bytes(echo.payload[..STAMP_LEN].try_into().ok()?);
                        at.checked_sub(Duration::from_nanos(stamp))
                    })
                    .flatten();
                let expected = self.payload();
                let corrupted = echo.payload.len() != expected.len()
                    || echo.payload[STAMP_LEN.min(expected.len())..]
                        != expected[STAMP_LEN.min(expected.len())..];
                Some(Outcome::Reply {
                    sequence: echo.sequence,
                    from,
                    bytes: message.len(),
                    ttl,
                    rtt,
                    corrupted,
                })
            }
            Message::Error {
                description,
                quoted: Some(echo),
            } if ours(echo.identifier) => Some(Outcome::Error {
                sequence: echo.sequence,
                from,
                description,
            }),
            _ => None,
        }
    }

    /// The next arrival on the socket. A datagram socket's error queue is
    /// read first: that is where the kernel puts the ICMP errors about our
    /// requests (IP_RECVERR), which a raw socket receives as messages.
    async fn receive(&mut self) -> io::Result<Arrival> {
        let buffer = &mut self.buffer;
        let fd = self.socket.as_raw_fd();
        let arrival = self
            .socket
            .async_io(Interest::READABLE | Interest::ERROR, || {
                match receive_message(fd, buffer, MsgFlags::MSG_ERRQUEUE) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    other => return other,
                }
                receive_message(fd, buffer, MsgFlags::empty())
            })
            .await?;
        // A raw IPv4 socket delivers the IP header first.
        if let Arrival::Message { end, from, at, .. } = arrival
            && self.kind == SocketKind::Raw
            && self.version == Version::V4
        {
            let packet = Ipv4Packet::new(&self.buffer[..end])
                .ok_or_else(|| io::Error::other("a raw ICMP packet without an IPv4 header"))?;
            return Ok(Arrival::Message {
                start: packet.header_len(),
                end,
                from,
                ttl: Some(packet.ttl()),
                at,
            });
        }
        Ok(arrival)
    }

    /// An error from the queue: a local one (about the send just made), or
    /// an ICMP one about the request at the start of the buffer.
    fn judge_queued_error(&self, end: usize, error: QueuedError) -> Option<Outcome> {
        if error.local {
            // iputils' wording differs by family.
            let message = if error.errno == Errno::EMSGSIZE as u32 {
                match self.version {
                    Version::V4 => format!("message too long, mtu={}", error.info),
                    Version::V6 => format!("message too long, mtu: {}", error.info),
                }
            } else {
                io::Error::from_raw_os_error(error.errno as i32).to_string()
            };
            return Some(Outcome::LocalError {
                sequence: self.last_sent,
                message,
            });
        }
        // A raw socket has the router's message itself, read as a message.
        if self.kind == SocketKind::Raw {
            return None;
        }
        let Message::EchoRequest(echo) = icmp::parse(self.version, &self.buffer[..end])? else {
            return None;
        };
        Some(Outcome::Error {
            sequence: echo.sequence,
            from: error.offender.unwrap_or(self.target.ip()),
            description: icmp::describe_error_in_full(
                self.version,
                error.kind,
                error.code,
                error.info,
            )
            .unwrap_or_else(|| "ICMP error".into()),
        })
    }
}

/// What one read from the socket brought, its bytes in the receive buffer.
enum Arrival {
    /// An ICMP message, at `start..end` (after any IP header), received
    /// `at` (the kernel's time stamp, since 1970).
    Message {
        start: usize,
        end: usize,
        from: IpAddr,
        ttl: Option<u8>,
        at: Duration,
    },
    /// From the socket's error queue: an ICMP error about our request
    /// (which is at `..end`), or a local error about the last send.
    QueuedError { end: usize, error: QueuedError },
}

/// What the kernel's `sock_extended_err` says, as far as ping cares.
struct QueuedError {
    /// Raised by this host (SO_EE_ORIGIN_LOCAL), not by an ICMP message.
    local: bool,
    errno: u32,
    /// The ICMP error's sender.
    offender: Option<IpAddr>,
    kind: u8,
    code: u8,
    /// The MTU, for "too long" errors of either origin.
    info: u32,
}

impl QueuedError {
    fn new(error: &libc::sock_extended_err, offender: Option<IpAddr>) -> QueuedError {
        QueuedError {
            local: error.ee_origin == libc::SO_EE_ORIGIN_LOCAL,
            errno: error.ee_errno,
            offender,
            kind: error.ee_type,
            code: error.ee_code,
            info: error.ee_info,
        }
    }
}

impl IcmpProber {
    /// One echo request, sent by the system call itself.
    fn send_request(&self, sequence: u16) -> io::Result<()> {
        let mut request =
            icmp::echo_request(self.version, self.identifier, sequence, &self.payload());
        let target = SockaddrStorage::from(self.target);
        if self.payload_len < STAMP_LEN {
            return self.socket.try_send_to(&request, self.target).map(drop);
        }
        // The send time goes in last, the IPv4 checksum updated for it (the
        // kernel makes ICMPv6's), and the send is the system call itself,
        // not the runtime's wrapper: the round trip starts at the send.
        let at = ECHO_HEADER_LEN..ECHO_HEADER_LEN + STAMP_LEN;
        request[at.clone()].fill(0);
        if self.version == Version::V4 {
            request[2..4].fill(0);
            let sum = crate::wire::checksum::internet_checksum(&request);
            request[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        let zeroed = u16::from_be_bytes([request[2], request[3]]);
        let stamp = (wall_clock().as_nanos() as u64).to_be_bytes();
        request[at].copy_from_slice(&stamp);
        if self.version == Version::V4 {
            let sum = crate::wire::checksum::with_added(zeroed, &stamp);
            request[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        nix::sys::socket::sendto(
            self.socket.as_raw_fd(),
            &request,
            &target,
            MsgFlags::empty(),
        )
        .map(drop)
        .map_err(io::Error::from)
    }
}

impl Prober for IcmpProber {
    fn send(&mut self, sequence: u16) -> io::Result<()> {
        self.last_sent = sequence;
        match self.send_request(sequence) {
            // Too large for the path (-M do): the error queue reports it,
            // with the MTU, as a local error.
            Err(e) if e.raw_os_error() == Some(Errno::EMSGSIZE as i32) => Ok(()),
            other => other,
        }
    }

    async fn next(&mut self) -> Outcome {
        loop {
            let outcome = match self.receive().await {
                Ok(Arrival::Message {
                    start,
                    end,
                    from,
                    ttl,
                    at,
                }) => self.judge(&self.buffer[start..end], from, ttl, at),
                Ok(Arrival::QueuedError { end, error }) => self.judge_queued_error(end, error),
                // The socket's pending error, which the error queue explains
                // in detail: nothing to report twice, but no reason to spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    None
                }
            };
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    fn linger(&self, options: &PingOptions, longest_rtt: Option<Duration>) -> Duration {
        match longest_rtt {
            Some(rtt) => (rtt * 2).max(Duration::from_millis(1)),
            None => options.timeout,
        }
    }
}

fn receive_message(fd: RawFd, buffer: &mut [u8], flags: MsgFlags) -> io::Result<Arrival> {
    let mut control = crate::sys::c_names::icmp_control_buffer();
    let mut iov = [IoSliceMut::new(buffer)];
    let message = recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut control), flags)?;
    let end = message.bytes;
    let from = message.address.as_ref().and_then(ip_of);
    let mut ttl = None;
    let mut at = None;
    for cmsg in message.cmsgs()? {
        match cmsg {
            ControlMessageOwned::ScmTimestampns(stamp) => {
                at = Some(Duration::new(stamp.tv_sec() as u64, stamp.tv_nsec() as u32));
            }
            ControlMessageOwned::Ipv4Ttl(t) | ControlMessageOwned::Ipv6HopLimit(t) => {
                ttl = u8::try_from(t).ok();
            }
            ControlMessageOwned::Ipv4RecvErr(error, offender) => {
                let offender = offender.map(|a| IpAddr::V4(u32::from_be(a.sin_addr.s_addr).into()));
                let error = QueuedError::new(&error, offender);
                return Ok(Arrival::QueuedError { end, error });
            }
            ControlMessageOwned::Ipv6RecvErr(error, offender) => {
                let offender = offender.map(|a| IpAddr::V6(a.sin6_addr.s6_addr.into()));
                let error = QueuedError::new(&error, offender);
                return Ok(Arrival::QueuedError { end, error });
            }
            _ => {}
        }
    }
    let from = from.ok_or_else(|| io::Error::other("an ICMP message without a sender address"))?;
    Ok(Arrival::Message {
        start: 0,
        end,
        from,
        ttl,
        at: at.unwrap_or_else(wall_clock),
    })
}

fn ip_of(address: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

fn is_permission(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
}
