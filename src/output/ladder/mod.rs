//! The handshake as the textbook draws it: each TCP connection as a ladder,
//! the client on the left, the server on the right, time running down, one
//! arrow per segment labelled with its flags, sequence and acknowledgement
//! numbers (relative to each end's first, as Wireshark shows them, unless
//! `absolute`) and payload length, and each end's state written beside it
//! whenever it changes.
//!
//! A connection's rungs are kept only while it is open: its diagram is
//! drawn the moment it ends (closed, reset or refused) and forgotten, and a
//! long one is drawn in parts of [`RUNGS_PER_PART`] segments, so memory
//! follows the exchanges open at once, not the packets seen. Whatever is
//! still open when the capture stops (UDP and ICMP exchanges never end) is
//! drawn by `finish`.
//!
//! This module collects the ladders; [`text`] draws them for a terminal and
//! [`svg`] as a picture.

pub mod svg;
pub mod text;

pub use text::{TextStyle, draw};

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::output::text::push_number;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use foldhash::fast::RandomState;

use crate::tools::sniff::Seen;
use crate::wire::conversation::{Ending, Side, StepKind, TcpState};
use crate::wire::packet::Transport;
use crate::wire::tcp::Flags;

/// What goes on the ladders.
#[derive(Debug, Clone, Copy, Default)]
pub struct LadderOptions {
    /// Raw sequence numbers instead of relative ones.
    pub absolute: bool,
    /// Only this TCP connection (`tcp#N`); UDP and ICMP left out.
    pub only: Option<usize>,
}

/// One segment on the ladder.
#[derive(Debug, Clone)]
pub struct Rung {
    pub(super) at: Duration,
    pub(super) from: Side,
    pub(super) label: Label,
    /// Each end's state after the segment, when it changed.
    pub(super) client_state: Option<TcpState>,
    pub(super) server_state: Option<TcpState>,
    /// The sender's state on the way, drawn on a line of its own just
    /// before the arrow: FIN-WAIT-1 before a FIN that crossed the other's
    /// (a simultaneous close), which the sender sent before it had the
    /// other's FIN.
    pub(super) sender_passed: Option<TcpState>,
}

impl Rung {
    fn state_of(&self, side: Side) -> Option<TcpState> {
        match side {
            Side::Client => self.client_state,
            Side::Server => self.server_state,
        }
    }

    fn state_of_mut(&mut self, side: Side) -> &mut Option<TcpState> {
        match side {
            Side::Client => &mut self.client_state,
            Side::Server => &mut self.server_state,
        }
    }
}

/// The most rungs a ladder holds before its first part is drawn.
pub const RUNGS_PER_PART: usize = 1000;

/// What an arrow says. A TCP segment's label is kept as its numbers and
/// written only when drawn: most segments are drawn once, and building a
/// string per segment as it arrived was most of `--ladder`'s cost.
#[derive(Debug, Clone)]
pub enum Label {
    Tcp {
        flags: Flags,
        seq: u32,
        /// With the ACK flag only.
        ack: Option<u32>,
        len: usize,
    },
    Text(String),
}

impl Label {
    /// `SYN, ACK seq=0 ack=1 len=6`, or the text.
    pub fn write(&self, out: &mut String) {
        match self {
            Label::Text(text) => out.push_str(text),
            Label::Tcp {
                flags,
                seq,
                ack,
                len,
            } => {
                push_flag_names(out, *flags);
                out.push_str(" seq=");
                push_number(out, *seq);
                if let Some(ack) = ack {
                    out.push_str(" ack=");
                    push_number(out, *ack);
                }
                if *len > 0 {
                    out.push_str(" len=");
                    push_number(out, *len);
                }
            }
        }
    }
}

/// Which exchange a packet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// A TCP connection, by the conversation tracker's number.
    Tcp(usize),
    /// UDP datagrams between two endpoints (in sorted order).
    Udp(SocketAddr, SocketAddr),
    /// ICMP echoes between two hosts (requester first) with one identifier.
    Echo(IpAddr, IpAddr, u16),
}

/// One exchange's diagram: its rungs, top to bottom, and how it ended.
#[derive(Debug, Clone)]
pub struct Ladder {
    /// `tcp#1`, `udp#1`, `icmp#1`.
    pub(super) name: String,
    /// The left end (who spoke first) and the right one.
    pub(super) client: String,
    pub(super) server: String,
    /// UDP: the client's endpoint, to tell the directions apart.
    client_end: Option<SocketAddr>,
    started: Duration,
    /// Each end's first sequence number seen: the zero of its relative ones.
    first_seq: [Option<u32>; 2],
    /// TCP only: both ends' states now, and before the first segment.
    states: Option<(TcpState, TcpState)>,
    pub(super) initial: Option<(TcpState, TcpState)>,
    pub(super) rungs: Vec<Rung>,
    pub(super) ending: Option<Ending>,
    /// When it began, among all ladders: the order `finish` draws them in.
    order: usize,
    /// Which part of a long exchange this is (0 for the only or first one),
    /// and whether more parts follow.
    pub(super) part: u32,
    pub(super) continues: bool,
}

impl Ladder {
    fn new(
        name: String,
        client: String,
        server: String,
        started: Duration,
        order: usize,
    ) -> Ladder {
        Ladder {
            name,
            client,
            server,
            client_end: None,
            started,
            first_seq: [None, None],
            states: None,
            initial: None,
            rungs: Vec::new(),
            ending: None,
            order,
            part: 0,
            continues: false,
        }
    }

    /// `tcp#1 A → B (closed in four steps)`: the name, the ends, and how it
    /// ended (or that it goes on); a long exchange's parts are numbered.
    pub(super) fn title(&self, arrow: &str) -> String {
        let ending = match (self.ending, self.initial) {
            _ if self.continues => " (continues below)",
            (Some(Ending::FourWay), _) => " (closed in four steps)",
            (Some(Ending::ThreeWay), _) => " (closed in three steps)",
            (Some(Ending::Simultaneous), _) => " (closed simultaneously)",
            (Some(Ending::Reset), _) => " (reset)",
            (Some(Ending::Refused), _) => " (refused)",
            (None, Some(_)) => " (still open)",
            // UDP and ICMP have no ending to name.
            (None, None) => "",
        };
        let part = if self.part > 0 || self.continues {
            format!(" part {}", self.part + 1)
        } else {
            String::new()
        };
        format!(
            "{}{part} {} {arrow} {}{ending}",
            self.name, self.client, self.server
        )
    }

    /// The rungs so far as a part of their own, when there are enough of
    /// them: what keeps a long transfer (or an endless UDP stream) from
    /// holding every packet until it ends. The ladder goes on from the
    /// states the part ended with.
    fn full_part(&mut self) -> Option<Ladder> {
        if self.rungs.len() < RUNGS_PER_PART {
            return None;
        }
        let part = Ladder {
            rungs: std::mem::take(&mut self.rungs),
            continues: true,
            ending: None,
            ..self.clone()
        };
        self.initial = self.states;
        self.part += 1;
        Some(part)
    }
}

/// Every open exchange's ladder, drawn as each ends.
pub struct Ladders {
    options: LadderOptions,
    open: HashMap<Key, Ladder, RandomState>,
    /// Ladders begun so far, and UDP and ICMP exchanges numbered apart.
    begun: usize,
    udp: usize,
    echo: usize,
}

impl Ladders {
    pub fn new(options: LadderOptions) -> Ladders {
        Ladders {
            options,
            open: HashMap::default(),
            begun: 0,
            udp: 0,
            echo: 0,
        }
    }

    /// Puts one packet on its exchange's ladder; returns that ladder when
    /// this packet ended the exchange (TCP: closed, reset or refused).
    pub fn record(&mut self, seen: &Seen<'_>) -> Option<Ladder> {
        match &seen.packet.transport {
            Some(Transport::Tcp { .. }) => self.record_tcp(seen),
            Some(Transport::Udp { .. }) | Some(Transport::Icmp { .. })
                if self.options.only.is_none() =>
            {
                self.record_datagram(seen)
            }
            _ => None,
        }
    }

    fn record_tcp(&mut self, seen: &Seen<'_>) -> Option<Ladder> {
        let segment = seen.segment?;
        if self
            .options
            .only
            .is_some_and(|only| only != segment.connection)
        {
            return None;
        }
        let Some(Transport::Tcp {
            seq, ack, flags, ..
        }) = seen.packet.transport
        else {
            return None;
        };
        let time = seen.header.time;
        let order = self.begun;
        let ladder = self
            .open
            .entry(Key::Tcp(segment.connection))
            .or_insert_with(|| {
                // The states before the first segment: what it moved them from.
                let initial = match (flags.has(Flags::SYN), flags.has(Flags::ACK)) {
                    (true, false) => (TcpState::Closed, TcpState::Listen),
                    (true, true) => (TcpState::SynSent, TcpState::Listen),
                    _ => (segment.client_state, segment.server_state),
                };
                let mut ladder = Ladder::new(
                    format!("tcp#{}", segment.connection),
                    segment.client.to_string(),
                    segment.server.to_string(),
                    time,
                    order,
                );
                ladder.states = Some(initial);
                ladder.initial = Some(initial);
                ladder
            });
        if ladder.order == order {
            self.begun += 1;
        }
        let sender = segment.from as usize;
        let first = *ladder.first_seq[sender].get_or_insert(seq);
        let receiver_first = ladder.first_seq[1 - sender];
        let (seq, ack) = if self.options.absolute {
            (seq, ack)
        } else {
            (
                seq.wrapping_sub(first),
                receiver_first.map_or(ack, |f| ack.wrapping_sub(f)),
            )
        };
        let label = Label::Tcp {
            flags,
            seq,
            ack: flags.has(Flags::ACK).then_some(ack),
            len: seen.packet.payload.len(),
        };
        let before = ladder
            .states
            .unwrap_or((segment.client_state, segment.server_state));
        let changed = |old: TcpState, new: TcpState| (old != new).then_some(new);
        let mut rung = Rung {
            at: time.saturating_sub(ladder.started),
            from: segment.from,
            label,
            client_state: changed(before.0, segment.client_state),
            server_state: changed(before.1, segment.server_state),
            sender_passed: None,
        };
        let sender_before = [before.0, before.1][sender];
        if flags.has(Flags::FIN)
            && sender_before == TcpState::CloseWait
            && rung.state_of(segment.from) == Some(TcpState::Closing)
        {
            // A FIN that does not acknowledge the other's: this end closed
            // before that FIN reached it, so it never was in CLOSE-WAIT, as
            // the other's FIN had it drawn (when it is still on this part).
            if let Some(earlier) = ladder
                .rungs
                .iter_mut()
                .rev()
                .find(|r| r.state_of(segment.from) == Some(TcpState::CloseWait))
            {
                *earlier.state_of_mut(segment.from) = None;
            }
            rung.sender_passed = Some(TcpState::FinWait1);
        }
        ladder.rungs.push(rung);
        ladder.states = Some((segment.client_state, segment.server_state));
        for step in &seen.steps {
            match step.kind {
                StepKind::Closed { ending, .. } | StepKind::Reset { ending, .. } => {
                    ladder.ending = Some(ending);
                }
                _ => {}
            }
        }
        if !segment.ends_connection {
            return ladder.full_part();
        }
        self.open.remove(&Key::Tcp(segment.connection))
    }

    /// A UDP datagram, an ICMP echo, or an ICMP error about a UDP datagram
    /// (drawn on that datagram's ladder, from the right).
    fn record_datagram(&mut self, seen: &Seen<'_>) -> Option<Ladder> {
        let (src, dst) = seen.packet.addresses()?;
        let time = seen.header.time;
        // The exchange, who sent this packet, and its label.
        let (key, sender, label) = match &seen.packet.transport {
            Some(Transport::Udp {
                src_port, dst_port, ..
            }) => {
                let (from, to) = (
                    SocketAddr::new(src, *src_port),
                    SocketAddr::new(dst, *dst_port),
                );
                let mut label = format!("UDP len={}", seen.packet.payload.len());
                if let Some(application) = seen.application.as_ref().filter(|a| a.is_decoded()) {
                    let _ = write!(label, " {}", application.summary());
                }
                (
                    Key::Udp(from.min(to), from.max(to)),
                    Sender::Endpoint(from),
                    label,
                )
            }
            Some(Transport::Icmp {
                name,
                id: Some(id),
                seq,
                kind,
                version,
                ..
            }) if is_echo(*version, *kind) => {
                let request = matches!((version, kind), (4, 8) | (6, 128));
                let (client, server, sender) = if request {
                    (src, dst, Sender::Client)
                } else {
                    (dst, src, Sender::Server)
                };
                let seq = seq.map(|s| format!(" seq={s}")).unwrap_or_default();
                (
                    Key::Echo(client, server, *id),
                    sender,
                    format!("{name} id={id}{seq}"),
                )
            }
            Some(Transport::Icmp {
                name,
                quoted: Some(quoted),
                ..
            }) if quoted.protocol == 17 => {
                let (Some(sport), Some(dport)) = (quoted.src_port, quoted.dst_port) else {
                    return None;
                };
                let (a, b) = (
                    SocketAddr::new(quoted.src, sport),
                    SocketAddr::new(quoted.dst, dport),
                );
                (
                    Key::Udp(a.min(b), a.max(b)),
                    Sender::Server,
                    format!("ICMP {name}"),
                )
            }
            _ => return None,
        };
        if !self.open.contains_key(&key) {
            let (name, client, server, client_end) = match (key, sender) {
                (Key::Udp(a, b), Sender::Endpoint(first)) => {
                    self.udp += 1;
                    // Whoever spoke first is the client.
                    let server = if first == a { b } else { a };
                    (
                        format!("udp#{}", self.udp),
                        first.to_string(),
                        server.to_string(),
                        Some(first),
                    )
                }
                (Key::Echo(client, server, _), _) => {
                    self.echo += 1;
                    (
                        format!("icmp#{}", self.echo),
                        client.to_string(),
                        server.to_string(),
                        None,
                    )
                }
                // An error about a datagram never seen, or TCP: no ladder.
                _ => return None,
            };
            let mut ladder = Ladder::new(name, client, server, time, self.begun);
            ladder.client_end = client_end;
            self.begun += 1;
            self.open.insert(key, ladder);
        }
        let ladder = self.open.get_mut(&key)?;
        let from = match sender {
            Sender::Endpoint(end) if Some(end) == ladder.client_end => Side::Client,
            Sender::Client => Side::Client,
            _ => Side::Server,
        };
        ladder.rungs.push(Rung {
            at: time.saturating_sub(ladder.started),
            from,
            label: Label::Text(label),
            client_state: None,
            server_state: None,
            sender_passed: None,
        });
        ladder.full_part()
    }

    /// The ladders of the exchanges still open, in the order they began.
    pub fn finish(&mut self) -> Vec<Ladder> {
        let mut open: Vec<Ladder> = self.open.drain().map(|(_, l)| l).collect();
        open.sort_by_key(|l| l.order);
        open
    }
}

/// Who sent a datagram: a UDP endpoint, or the asking or answering side of
/// an ICMP exchange.
#[derive(Debug, Clone, Copy)]
enum Sender {
    Endpoint(SocketAddr),
    Client,
    Server,
}

/// An echo request or reply (ICMPv4 8/0, ICMPv6 128/129).
fn is_echo(version: u8, kind: u8) -> bool {
    matches!((version, kind), (4, 0 | 8) | (6, 128 | 129))
}

/// `SYN`, `SYN, ACK`, `PSH, ACK`...: Wireshark's order and words.
fn push_flag_names(out: &mut String, flags: Flags) {
    let mut first = true;
    for (flag, name) in [
        (Flags::SYN, "SYN"),
        (Flags::FIN, "FIN"),
        (Flags::RST, "RST"),
        (Flags::PSH, "PSH"),
        (Flags::ACK, "ACK"),
    ] {
        if flags.has(flag) {
            if !first {
                out.push_str(", ");
            }
            out.push_str(name);
            first = false;
        }
    }
    if first {
        out.push_str("(no flags)");
    }
}
