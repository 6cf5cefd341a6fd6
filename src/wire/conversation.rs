//! Following TCP connections on the wire and naming each step of their
//! lives, as the course tells them: the three-way handshake, the data each
//! way, and the four-way close (or its three-segment and simultaneous
//! variants, or a reset), with both ends' TCP states after every step.
//!
//! An observer sees segments, not the ends' memories, so the states are
//! what RFC 9293's state diagram says each end must be in after sending or
//! receiving what was seen. On loopback every segment is seen once, sent
//! and received at the same moment.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::application::Application;
use super::packet::{Packet, Transport};
use super::tcp::Flags;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TcpState {
    /// RFC 9293's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }
}

/// Which end a step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    /// FIN, ACK, FIN, ACK: four segments.
    FourWay,
    /// The ACK of the first FIN rode on the second FIN: three segments.
    ThreeWay,
    /// Both ends sent FIN before seeing the other's.
    Simultaneous,
    /// A RST aborted it.
    Reset,
    /// A RST answered the SYN: nothing listened on the port.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum StepKind {
    Syn,
    SynAck,
    HandshakeComplete {
        elapsed_ms: f64,
    },
    Data {
        from: Side,
        bytes: usize,
    },
    /// The application's first exchange on the connection, as far as it
    /// went: the client's request, then the request with the server's answer.
    Application {
        from: Side,
        exchange: String,
    },
    Fin {
        from: Side,
        acks_other_fin: bool,
    },
    FinAcked {
        by: Side,
    },
    Closed {
        ending: Ending,
        elapsed_ms: f64,
    },
    Reset {
        from: Side,
        ending: Ending,
    },
}

/// One named step of one connection, with both ends' states after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub connection: usize,
    pub client: SocketAddr,
    pub server: SocketAddr,
    #[serde(flatten)]
    pub kind: StepKind,
    pub client_state: TcpState,
    pub server_state: TcpState,
}

/// Where one TCP segment sits in its connection: which connection, which
/// end sent it, and both ends' states once it was sent and received (what a
/// sequence diagram writes beside each arrow).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub connection: usize,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub from: Side,
    pub client_state: TcpState,
    pub server_state: TcpState,
    /// The connection is over with this segment (closed, reset or refused).
    pub ends_connection: bool,
}

/// What one packet did: its place in a connection (TCP only) and the steps
/// worth naming.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub segment: Option<Segment>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
struct End {
    state: TcpState,
    /// The sequence number just past this end's FIN, once it sent one.
    fin_end: Option<u32>,
    fin_acked: bool,
    bytes_sent: u64,
}

impl End {
    fn new(state: TcpState) -> End {
        End {
            state,
            fin_end: None,
            fin_acked: false,
            bytes_sent: 0,
        }
    }
}

/// What is known of one connection, for the closing table.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionSummary {
    pub connection: usize,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub handshake_ms: Option<f64>,
    pub bytes_client_to_server: u64,
    pub bytes_server_to_client: u64,
    pub duration_ms: f64,
    /// `None` while the connection is still open.
    pub ending: Option<Ending>,
    pub client_state: TcpState,
    pub server_state: TcpState,
    /// Seen only from the middle: the handshake was not captured.
    pub joined_late: bool,
}

#[derive(Debug, Clone)]
struct Connection {
    id: usize,
    client: SocketAddr,
    server: SocketAddr,
    ends: [End; 2],
    started: Duration,
    last_seen: Duration,
    handshake: Option<Duration>,
    first_fin: Option<(Side, Duration)>,
    close_segments: u32,
    simultaneous: bool,
    ending: Option<Ending>,
    joined_late: bool,
    /// The client's first application message, once decoded.
    request: Option<String>,
    /// The first exchange has been told whole (answered, or begun by the server).
    exchange_told: bool,
}

impl Connection {
    fn end(&mut self, side: Side) -> &mut End {
        &mut self.ends[side as usize]
    }

    fn state(&self, side: Side) -> TcpState {
        self.ends[side as usize].state
    }

    fn summary(&self) -> ConnectionSummary {
        ConnectionSummary {
            connection: self.id,
            client: self.client,
            server: self.server,
            handshake_ms: self.handshake.map(ms),
            bytes_client_to_server: self.ends[0].bytes_sent,
            bytes_server_to_client: self.ends[1].bytes_sent,
            duration_ms: ms(self.last_seen.saturating_sub(self.started)),
            ending: self.ending,
            client_state: self.state(Side::Client),
            server_state: self.state(Side::Server),
            joined_late: self.joined_late,
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// `a` is at or after `b` in sequence space (RFC 1982 arithmetic).
fn seq_at_or_after(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) < 1 << 31
}

/// Every TCP connection seen so far, keyed by its two endpoints.
#[derive(Debug, Default)]
pub struct Conversations {
    /// foldhash: several times faster than SipHash on these small keys,
    /// still seeded per process, so crafted traffic cannot aim at collisions.
    by_endpoints: HashMap<(SocketAddr, SocketAddr), usize, RandomState>,
    connections: Vec<Connection>,
}

impl Conversations {
    pub fn new() -> Conversations {
        Conversations::default()
    }

    /// Follows one packet; returns its place in its connection and the
    /// steps it made (none for packets that are not TCP or change nothing
    /// worth naming).
    pub fn observe(
        &mut self,
        packet: &Packet<'_>,
        application: Option<&Application<'_>>,
        time: Duration,
    ) -> Observed {
        let (
            Some((src_ip, dst_ip)),
            Some(Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                ..
            }),
        ) = (packet.addresses(), &packet.transport)
        else {
            return Observed::default();
        };
        let (src, dst) = (
            SocketAddr::new(src_ip, *src_port),
            SocketAddr::new(dst_ip, *dst_port),
        );
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let syn_only = flags.has(Flags::SYN) && !flags.has(Flags::ACK);
        let known = self.by_endpoints.get(&key).copied();
        let reuse = known.is_some_and(|i| syn_only && self.connections[i].ending.is_some());
        let index = match known {
            Some(i) if !reuse => i,
            _ => {
                // A new connection: from its SYN, or joined in the middle.
                let (client, server, joined_late) = if syn_only {
                    (src, dst, false)
                } else if flags.has(Flags::SYN) {
                    (dst, src, true) // a SYN-ACK: its sender is the server
                } else {
                    (src, dst, true)
                };
                let (client_state, server_state) = if syn_only {
                    (TcpState::Closed, TcpState::Listen)
                } else if flags.has(Flags::SYN) {
                    (TcpState::SynSent, TcpState::Listen)
                } else {
                    (TcpState::Established, TcpState::Established)
                };
                let id = self.connections.len() + 1;
                self.connections.push(Connection {
                    id,
                    client,
                    server,
                    ends: [End::new(client_state), End::new(server_state)],
                    started: time,
                    last_seen: time,
                    handshake: None,
                    first_fin: None,
                    close_segments: 0,
                    simultaneous: false,
                    ending: None,
                    joined_late,
                    request: None,
                    exchange_told: false,
                });
                self.by_endpoints.insert(key, id - 1);
                id - 1
            }
        };
        let connection = &mut self.connections[index];
        connection.last_seen = time;
        let from = if src == connection.client {
            Side::Client
        } else {
            Side::Server
        };
        let ended_before = connection.ending.is_some();
        let mut kinds = advance(
            connection,
            from,
            *flags,
            *seq,
            *ack,
            packet.payload.len(),
            time,
        );
        kinds.extend(first_exchange(connection, from, application));
        let (client_state, server_state) = (
            connection.state(Side::Client),
            connection.state(Side::Server),
        );
        Observed {
            segment: Some(Segment {
                connection: connection.id,
                client: connection.client,
                server: connection.server,
                from,
                client_state,
                server_state,
                ends_connection: !ended_before && connection.ending.is_some(),
            }),
            steps: kinds
                .into_iter()
                .map(|kind| Step {
                    connection: connection.id,
                    client: connection.client,
                    server: connection.server,
                    kind,
                    client_state,
                    server_state,
                })
                .collect(),
        }
    }

    /// One line of the closing table per connection, in order of appearance.
    pub fn summaries(&self) -> Vec<ConnectionSummary> {
        self.connections.iter().map(Connection::summary).collect()
    }
}

/// Names the application's first request and its answer, once each.
fn first_exchange(
    c: &mut Connection,
    from: Side,
    application: Option<&Application<'_>>,
) -> Option<StepKind> {
    let message = application.filter(|a| a.is_decoded())?;
    if c.exchange_told {
        return None;
    }
    let exchange = match (from, &c.request) {
        (Side::Client, None) => {
            let request = message.summary();
            c.request = Some(request.clone());
            request
        }
        (Side::Client, Some(_)) => return None,
        (Side::Server, request) => {
            c.exchange_told = true;
            match request {
                Some(request) => format!("{request} -> {}", message.brief()),
                None => message.summary(),
            }
        }
    };
    Some(StepKind::Application { from, exchange })
}

/// The state machine: what one segment from `from` does to both ends, one
/// named step per TCP event (RFC 9293, section 3.3.2's diagram).
fn advance(
    c: &mut Connection,
    from: Side,
    flags: Flags,
    seq: u32,
    ack: u32,
    payload_len: usize,
    time: Duration,
) -> Vec<StepKind> {
    if c.ending.is_some() && !flags.has(Flags::SYN) {
        return Vec::new(); // stray segments after the end (retransmissions, the RST of a late one)
    }
    if flags.has(Flags::RST) {
        return vec![reset(c, from)];
    }
    if flags.has(Flags::SYN) {
        return opening(c, from, flags, time).into_iter().collect();
    }
    let mut steps = Vec::new();
    if flags.has(Flags::ACK) {
        steps.extend(handshake_completed(c, from, time));
    }
    if payload_len > 0 {
        c.end(from).bytes_sent += payload_len as u64;
        steps.push(StepKind::Data {
            from,
            bytes: payload_len,
        });
    }
    let acked_fin = flags.has(Flags::ACK) && acknowledges_fin(c, from, ack);
    if flags.has(Flags::FIN) && c.end(from).fin_end.is_none() {
        steps.push(fin(c, from, seq, payload_len, acked_fin, time));
    } else if acked_fin {
        c.close_segments += 1;
        steps.push(StepKind::FinAcked { by: from });
    }
    if let Some(closed) = closing_completed(c, time) {
        // The last ACK is named by the close it completes.
        if matches!(steps.last(), Some(StepKind::FinAcked { .. })) {
            steps.pop();
        }
        steps.push(closed);
    }
    steps
}

/// RST: both ends closed at once; before a handshake, that is a refusal.
fn reset(c: &mut Connection, from: Side) -> StepKind {
    let ending = if c.handshake.is_none() && !c.joined_late {
        Ending::Refused
    } else {
        Ending::Reset
    };
    c.end(Side::Client).state = TcpState::Closed;
    c.end(Side::Server).state = TcpState::Closed;
    c.ending = Some(ending);
    StepKind::Reset { from, ending }
}

/// The first two segments of the handshake: the client's SYN, the server's SYN-ACK.
fn opening(c: &mut Connection, from: Side, flags: Flags, time: Duration) -> Option<StepKind> {
    if !flags.has(Flags::ACK) && from == Side::Client && c.state(Side::Client) == TcpState::Closed {
        c.end(Side::Client).state = TcpState::SynSent;
        c.started = time;
        return Some(StepKind::Syn);
    }
    if flags.has(Flags::ACK) && from == Side::Server && c.state(Side::Server) == TcpState::Listen {
        c.end(Side::Server).state = TcpState::SynReceived;
        return Some(StepKind::SynAck);
    }
    None
}

/// The third segment: the client's ACK of the SYN-ACK.
fn handshake_completed(c: &mut Connection, from: Side, time: Duration) -> Option<StepKind> {
    let third = from == Side::Client
        && c.state(Side::Client) == TcpState::SynSent
        && c.state(Side::Server) == TcpState::SynReceived;
    if !third {
        return None;
    }
    c.end(Side::Client).state = TcpState::Established;
    c.end(Side::Server).state = TcpState::Established;
    let elapsed = time.saturating_sub(c.started);
    c.handshake = Some(elapsed);
    Some(StepKind::HandshakeComplete {
        elapsed_ms: ms(elapsed),
    })
}

/// Does this ACK from `from` cover the other end's FIN? If so, that end
/// moves on (FIN-WAIT-1 to FIN-WAIT-2, CLOSING to TIME-WAIT, LAST-ACK to CLOSED).
fn acknowledges_fin(c: &mut Connection, from: Side, ack: u32) -> bool {
    let other = c.end(from.other());
    let Some(fin_end) = other.fin_end else {
        return false;
    };
    if other.fin_acked || !seq_at_or_after(ack, fin_end) {
        return false;
    }
    other.fin_acked = true;
    other.state = match other.state {
        TcpState::FinWait1 => TcpState::FinWait2,
        TcpState::Closing => TcpState::TimeWait,
        TcpState::LastAck => TcpState::Closed,
        state => state,
    };
    true
}

/// A FIN from `from`: the first of the close, the answer to the other's, or
/// one crossing it (a simultaneous close).
fn fin(
    c: &mut Connection,
    from: Side,
    seq: u32,
    payload_len: usize,
    acked_fin: bool,
    time: Duration,
) -> StepKind {
    let to = from.other();
    c.end(from).fin_end = Some(seq.wrapping_add(payload_len as u32).wrapping_add(1));
    if c.end(to).fin_end.is_some() {
        if c.end(to).fin_acked {
            c.end(from).state = TcpState::LastAck;
            if c.state(to) == TcpState::FinWait2 {
                c.end(to).state = TcpState::TimeWait;
            }
        } else {
            // Both FINs in flight at once.
            c.simultaneous = true;
            c.end(from).state = TcpState::Closing;
            c.end(to).state = TcpState::Closing;
        }
    } else {
        c.end(from).state = TcpState::FinWait1;
        if c.state(to) == TcpState::Established {
            c.end(to).state = TcpState::CloseWait;
        }
        c.first_fin = Some((from, time));
    }
    c.close_segments += 1;
    StepKind::Fin {
        from,
        acks_other_fin: acked_fin,
    }
}

/// Once both FINs are acknowledged: the close is complete, named by how it went.
fn closing_completed(c: &mut Connection, time: Duration) -> Option<StepKind> {
    if c.ending.is_some() || !c.ends.iter().all(|e| e.fin_acked) {
        return None;
    }
    let ending = if c.simultaneous {
        Ending::Simultaneous
    } else if c.close_segments <= 3 {
        Ending::ThreeWay
    } else {
        Ending::FourWay
    };
    c.ending = Some(ending);
    let since = c.first_fin.map_or(time, |(_, t)| t);
    Some(StepKind::Closed {
        ending,
        elapsed_ms: ms(time.saturating_sub(since)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::packet::Network;
    use std::net::Ipv4Addr;

    const C: u16 = 50000;
    const S: u16 = 9000;

    /// A segment from the client (port C) or the server (port S).
    fn segment(
        from_client: bool,
        flags: u16,
        seq: u32,
        ack: u32,
        data: &'static [u8],
    ) -> Packet<'static> {
        let (src_port, dst_port) = if from_client { (C, S) } else { (S, C) };
        Packet {
            link: None,
            network: Some(Network::Ipv4 {
                src: Ipv4Addr::LOCALHOST,
                dst: Ipv4Addr::LOCALHOST,
                header_len: 20,
                tos: 0,
                total_len: 0,
                id: 0,
                dont_fragment: true,
                more_fragments: false,
                fragment_offset: 0,
                ttl: 64,
                protocol: 6,
                checksum: 0,
            }),
            transport: Some(Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags: Flags(flags),
                window: 65535,
                header_len: 20,
                checksum: 0,
                urgent: 0,
            }),
            payload: data,
            problem: None,
            link_len: 0,
        }
    }

    const SYN: u16 = Flags::SYN;
    const ACK: u16 = Flags::ACK;
    const FIN: u16 = Flags::FIN | Flags::ACK;
    const RST: u16 = Flags::RST | Flags::ACK;

    fn run(segments: &[Packet<'static>]) -> (Vec<String>, Conversations) {
        let mut conversations = Conversations::new();
        let mut names = Vec::new();
        for (i, p) in segments.iter().enumerate() {
            for step in conversations
                .observe(p, None, Duration::from_millis(i as u64))
                .steps
            {
                names.push(format!(
                    "{} {} {}",
                    serde_json::to_value(&step.kind).unwrap()["step"]
                        .as_str()
                        .unwrap(),
                    step.client_state,
                    step.server_state
                ));
            }
        }
        (names, conversations)
    }

    fn handshake() -> Vec<Packet<'static>> {
        vec![
            segment(true, SYN, 100, 0, b""),
            segment(false, SYN | ACK, 500, 101, b""),
            segment(true, ACK, 101, 501, b""),
            segment(true, ACK, 101, 501, b"hello"),
            segment(false, ACK, 501, 106, b""),
        ]
    }

    #[test]
    fn handshake_data_and_four_way_close() {
        let mut segments = handshake();
        segments.extend([
            segment(true, FIN, 106, 501, b""),
            segment(false, ACK, 501, 107, b""),
            segment(false, FIN, 501, 107, b""),
            segment(true, ACK, 107, 502, b""),
        ]);
        let (steps, conversations) = run(&segments);
        assert_eq!(
            steps,
            [
                "syn SYN-SENT LISTEN",
                "syn-ack SYN-SENT SYN-RECEIVED",
                "handshake-complete ESTABLISHED ESTABLISHED",
                "data ESTABLISHED ESTABLISHED",
                "fin FIN-WAIT-1 CLOSE-WAIT",
                "fin-acked FIN-WAIT-2 CLOSE-WAIT",
                "fin TIME-WAIT LAST-ACK",
                "closed TIME-WAIT CLOSED",
            ]
        );
        let summary = &conversations.summaries()[0];
        assert_eq!(summary.ending, Some(Ending::FourWay));
        assert_eq!(
            (
                summary.bytes_client_to_server,
                summary.bytes_server_to_client
            ),
            (5, 0)
        );
        assert_eq!(summary.handshake_ms, Some(2.0));
    }

    #[test]
    fn three_segment_and_simultaneous_closes() {
        let mut segments = handshake();
        segments.extend([
            segment(true, FIN, 106, 501, b""),
            segment(false, FIN, 501, 107, b""),
            segment(true, ACK, 107, 502, b""),
        ]);
        let (steps, conversations) = run(&segments);
        assert_eq!(
            steps[5..],
            ["fin TIME-WAIT LAST-ACK", "closed TIME-WAIT CLOSED"]
        );
        assert_eq!(conversations.summaries()[0].ending, Some(Ending::ThreeWay));

        let mut segments = handshake();
        segments.extend([
            segment(true, FIN, 106, 501, b""),
            segment(false, FIN, 501, 106, b""),
            segment(true, ACK, 107, 502, b""),
            segment(false, ACK, 502, 107, b""),
        ]);
        let (steps, conversations) = run(&segments);
        assert_eq!(steps[5], "fin CLOSING CLOSING");
        assert_eq!(steps.last().unwrap(), "closed TIME-WAIT TIME-WAIT");
        assert_eq!(
            conversations.summaries()[0].ending,
            Some(Ending::Simultaneous)
        );
    }

    #[test]
    fn resets_and_refusals() {
        let mut segments = handshake();
        segments.push(segment(false, RST, 501, 106, b""));
        let (steps, conversations) = run(&segments);
        assert_eq!(steps.last().unwrap(), "reset CLOSED CLOSED");
        assert_eq!(conversations.summaries()[0].ending, Some(Ending::Reset));

        let (steps, conversations) = run(&[
            segment(true, SYN, 1, 0, b""),
            segment(false, RST, 0, 2, b""),
        ]);
        assert_eq!(steps, ["syn SYN-SENT LISTEN", "reset CLOSED CLOSED"]);
        assert_eq!(conversations.summaries()[0].ending, Some(Ending::Refused));
    }
}
