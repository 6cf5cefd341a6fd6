//! sniff's output: one line per packet (tcpdump's habit), or one block per
//! layer with `--layers`, the TCP narration under the packet that caused
//! each step, a table of connections at the end, or JSON objects.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use std::time::Duration;

use crate::output::color::{Painter, Role};
use crate::output::text::{
    push_endpoint, push_escaped, push_number, push_right_aligned, push_zero_padded,
};
use crate::sys::local_time::local_time;
use crate::tools::sniff::Seen;
use crate::wire::application::Application;
use crate::wire::conversation::{ConnectionSummary, Ending, Step, StepKind};
use crate::wire::ethernet;
use crate::wire::numbers::{ARP_REPLY, ARP_REQUEST, ethertype_name, protocol_name};
use crate::wire::packet::{Link, Network, Packet, Quoted, Transport};

/// How much of a payload the one-line preview shows.
const PREVIEW: usize = 48;

/// How each packet's time is shown (tcpdump's -t options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimeFormat {
    /// `14:03:07.123456`, in the local zone (tcpdump's default).
    #[default]
    TimeOfDay,
    /// No time stamp (-t).
    Hidden,
    /// Seconds since 1970 (-tt).
    Epoch,
    /// Since the previous packet shown (-ttt).
    SincePrevious,
    /// Date and time of day (-tttt).
    DateTime,
    /// Since the first packet shown (-ttttt).
    SinceFirst,
}

impl TimeFormat {
    /// From the number of -t flags, as tcpdump counts them.
    pub fn from_count(count: u8) -> TimeFormat {
        match count {
            0 => TimeFormat::TimeOfDay,
            1 => TimeFormat::Hidden,
            2 => TimeFormat::Epoch,
            3 => TimeFormat::SincePrevious,
            4 => TimeFormat::DateTime,
            _ => TimeFormat::SinceFirst,
        }
    }
}

/// Which bytes of each packet are dumped under its line (-x, -X, -A).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dump {
    #[default]
    None,
    /// Hex; with the link header when `link`.
    Hex { link: bool },
    /// Hex and ASCII side by side.
    HexAscii { link: bool },
    /// Printable ASCII only, without the link header.
    Ascii,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SniffStyle {
    pub layers: bool,
    pub json: bool,
    /// Addresses, protocol and length only (-q).
    pub quiet: bool,
    /// Link-layer addresses on the summary line (-e).
    pub link_header: bool,
    /// Show pcapng packet comments (-v).
    pub comments: bool,
    pub time: TimeFormat,
    pub dump: Dump,
    /// Each layer's name and the narration's arrow in colour (a terminal).
    pub color: bool,
}

/// Prints packets one after another: it remembers the previous packet's
/// time (for -ttt) and the last second it turned into a local time of day,
/// so that a capture's many packets per second cost one calendar
/// conversion, not one each (tcpdump's per-packet conversion is most of its
/// time when reading a file).
#[derive(Debug, Default)]
pub struct Printer {
    style: SniffStyle,
    previous: Option<Duration>,
    clock: Option<(u64, String)>,
}

impl Printer {
    pub fn new(style: SniffStyle) -> Printer {
        Printer {
            style,
            ..Printer::default()
        }
    }

    /// Everything printed for one packet, newline-terminated.
    pub fn render(&mut self, seen: &Seen<'_>, out: &mut String) {
        let style = self.style;
        if style.json {
            write_json(seen, style, out);
            return;
        }
        push_right_aligned(out, seen.number, 5);
        out.push(' ');
        self.time(seen, out);
        if let Some(interface) = seen.interface {
            out.push_str(interface);
            for _ in interface.chars().count()..6 {
                out.push(' ');
            }
            out.push(' ');
        }
        if style.link_header {
            link_summary(&seen.packet.link, out);
        }
        summary(&seen.packet, style.quiet, out);
        if let Some(application) = seen.application.as_ref().filter(|_| !style.quiet) {
            out.push_str(": ");
            match application {
                // Most of a capture's payload: named, nothing to build.
                Application::Named { name } => push_escaped(out, name),
                decoded => push_escaped(out, &decoded.summary()),
            }
        }
        if seen.header.captured_len < seen.header.original_len {
            let _ = write!(
                out,
                " [captured {} of {} bytes]",
                seen.header.captured_len, seen.header.original_len
            );
        }
        out.push('\n');
        if let Some(comment) = seen.comment.filter(|_| style.comments) {
            out.push_str("        comment    ");
            push_escaped(out, comment);
            out.push('\n');
        }
        if style.layers && style.color {
            let mut block = String::new();
            layers(seen, &mut block);
            paint_layer_names(&block, out);
        } else if style.layers {
            layers(seen, out);
        }
        let network = seen.frame.get(seen.packet.link_len..).unwrap_or_default();
        match style.dump {
            Dump::None => {}
            Dump::Hex { link } => hex_dump(if link { seen.frame } else { network }, false, out),
            Dump::HexAscii { link } => hex_dump(if link { seen.frame } else { network }, true, out),
            Dump::Ascii => ascii_dump(network, out),
        }
        for step in &seen.steps {
            if style.color {
                out.push_str("      ");
                out.push_str(&Painter::new(true).paint(Role::Note, "↳"));
                out.push(' ');
            } else {
                out.push_str("      ↳ ");
            }
            write_narration(step, out);
            out.push('\n');
        }
    }

    fn time(&mut self, seen: &Seen<'_>, out: &mut String) {
        let time = seen.header.time;
        let since_previous = time.saturating_sub(self.previous.unwrap_or(time));
        self.previous = Some(time);
        match self.style.time {
            TimeFormat::Hidden => {}
            TimeFormat::Epoch => {
                push_number(out, time.as_secs());
                out.push('.');
                push_zero_padded(out, time.subsec_micros(), 6);
                out.push(' ');
            }
            TimeFormat::SincePrevious => duration(since_previous, out),
            TimeFormat::SinceFirst => duration(seen.relative, out),
            TimeFormat::TimeOfDay | TimeFormat::DateTime => {
                let date = self.style.time == TimeFormat::DateTime;
                let second = time.as_secs();
                if self.clock.as_ref().is_none_or(|(s, _)| *s != second) {
                    self.clock = Some((second, calendar(second, date)));
                }
                if let Some((_, text)) = &self.clock {
                    out.push_str(text);
                    out.push('.');
                    push_zero_padded(out, time.subsec_micros(), 6);
                    out.push(' ');
                }
            }
        }
    }
}

/// `HH:MM:SS` (or `YYYY-MM-DD HH:MM:SS`) of a second, in the local zone.
fn calendar(second: u64, date: bool) -> String {
    let Some(t) = local_time(second as i64) else {
        return second.to_string();
    };
    if date {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    } else {
        format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second)
    }
}

/// A time difference as tcpdump's -ttt prints it: `00:00:00.000123`.
fn duration(d: Duration, out: &mut String) {
    let s = d.as_secs();
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:06} ",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_micros()
    );
}

/// -e: the link header's addresses before the rest of the line.
fn link_summary(link: &Option<Link>, out: &mut String) {
    match link {
        Some(Link::Ethernet {
            src,
            dst,
            ethertype,
            ..
        }) => {
            let _ = write!(
                out,
                "{src} → {dst} ethertype {} (0x{ethertype:04x}), ",
                ethertype_name(*ethertype)
            );
        }
        Some(Link::Cooked {
            packet_type, src, ..
        }) => {
            let direction = cooked_direction(*packet_type);
            match src {
                Some(src) => {
                    let _ = write!(out, "{direction} {src}, ");
                }
                None => {
                    let _ = write!(out, "{direction}, ");
                }
            }
        }
        Some(Link::Null { family }) => {
            let _ = write!(out, "AF {family}, ");
        }
        None => {}
    }
}

/// Control characters shown as escapes, so a file cannot drive the terminal.
fn escape(text: &str) -> String {
    let mut escaped = String::new();
    push_escaped(&mut escaped, text);
    escaped
}

fn endpoint(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// `from → to ` for a transport's two ends.
fn push_ends(out: &mut String, src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) {
    push_endpoint(out, src, src_port);
    out.push_str(" → ");
    push_endpoint(out, dst, dst_port);
    out.push(' ');
}

/// tcpdump-like: addresses, protocol, the fields that matter. The
/// highest layer decoded speaks for the packet.
fn summary(packet: &Packet<'_>, quiet: bool, out: &mut String) {
    let len = packet.payload.len();
    match (&packet.network, &packet.transport, packet.addresses()) {
        (_, Some(transport), Some((src, dst))) if quiet => {
            let (from, to) = match packet.ports() {
                Some((sp, dp)) => (endpoint(src, sp).to_string(), endpoint(dst, dp).to_string()),
                None => (src.to_string(), dst.to_string()),
            };
            let protocol = match transport {
                Transport::Tcp { .. } => "TCP",
                Transport::Udp { .. } => "UDP",
                Transport::Icmp { version: 4, .. } => "ICMP",
                Transport::Icmp { .. } => "ICMPv6",
            };
            let _ = write!(out, "{from} → {to} {protocol} len {len}");
        }
        (_, Some(transport), Some((src, dst))) => transport_summary(transport, src, dst, len, out),
        (Some(Network::Arp { .. }), _, _) => arp_summary(packet, out),
        (Some(network), _, Some((src, dst))) => {
            let protocol = match network {
                Network::Ipv4 { protocol, .. } | Network::Ipv6 { protocol, .. } => *protocol,
                Network::Arp { .. } => 0,
            };
            let _ = write!(out, "{src} → {dst} IP protocol {protocol} len {len}");
        }
        _ => match &packet.link {
            Some(Link::Ethernet { ethertype, .. } | Link::Cooked { ethertype, .. }) => {
                let _ = write!(out, "ethertype 0x{ethertype:04x} len {len}");
            }
            Some(Link::Null { family }) => {
                let _ = write!(out, "loopback, address family {family}, len {len}");
            }
            None => out.push_str("frame"),
        },
    }
    if let Some(problem) = packet.problem {
        let _ = write!(out, " [malformed: {problem}]");
    }
}

fn transport_summary(
    transport: &Transport,
    src: IpAddr,
    dst: IpAddr,
    len: usize,
    out: &mut String,
) {
    match transport {
        Transport::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
            ..
        } => {
            push_ends(out, src, *src_port, dst, *dst_port);
            out.push_str("TCP [");
            flags.push_letters(out);
            out.push_str("] seq ");
            push_number(out, *seq);
            if flags.has(crate::wire::tcp::Flags::ACK) {
                out.push_str(" ack ");
                push_number(out, *ack);
            }
            out.push_str(" win ");
            push_number(out, *window);
            out.push_str(" len ");
            push_number(out, len);
        }
        Transport::Udp {
            src_port, dst_port, ..
        } => {
            push_ends(out, src, *src_port, dst, *dst_port);
            out.push_str("UDP len ");
            push_number(out, len);
        }
        Transport::Icmp {
            version,
            name,
            id,
            seq,
            quoted,
            ..
        } => {
            let proto = if *version == 4 { "ICMP" } else { "ICMPv6" };
            let _ = write!(out, "{src} → {dst} {proto} {name}");
            if let (Some(id), Some(seq)) = (id, seq) {
                let _ = write!(out, " id {id} seq {seq}");
            }
            if let Some(q) = quoted {
                let _ = write!(out, ", about {}", describe_quoted(q));
            }
            let _ = write!(out, " len {len}");
        }
    }
}

fn arp_summary(packet: &Packet<'_>, out: &mut String) {
    let Some(Network::Arp {
        operation,
        sender_mac,
        sender_ip,
        target_ip,
        ..
    }) = &packet.network
    else {
        return;
    };
    match (*operation, sender_ip, target_ip) {
        (ARP_REQUEST, Some(sender), Some(target)) => {
            let _ = write!(out, "ARP who-has {target} tell {sender}");
        }
        (ARP_REPLY, Some(sender), _) => {
            let mac = sender_mac.map(|m| m.to_string()).unwrap_or_default();
            let _ = write!(out, "ARP reply {sender} is-at {mac}");
        }
        (op, _, _) => {
            let _ = write!(out, "ARP operation {op}");
        }
    }
}

/// The packet an ICMP error is about: "UDP [::1]:54823 → [::1]:7375".
fn describe_quoted(q: &Quoted) -> String {
    match (q.src_port, q.dst_port) {
        (Some(sp), Some(dp)) => format!(
            "{} {} → {}",
            protocol_name(q.protocol),
            endpoint(q.src, sp),
            endpoint(q.dst, dp)
        ),
        _ => format!("{} {} → {}", protocol_name(q.protocol), q.src, q.dst),
    }
}

/// The layers' names, outermost first, as `layers` writes them.
const LAYER_NAMES: [&str; 6] = [
    "frame",
    "link",
    "network",
    "transport",
    "application",
    "payload",
];

/// `layers`' block with each layer's name in its own colour.
fn paint_layer_names(block: &str, out: &mut String) {
    let painter = Painter::new(true);
    for line in block.split_inclusive('\n') {
        let named = line.strip_prefix("        ").and_then(|rest| {
            let word = rest.split(' ').next()?;
            let depth = LAYER_NAMES.iter().position(|name| *name == word)?;
            Some((word, depth, &rest[word.len()..]))
        });
        match named {
            Some((word, depth, rest)) => {
                out.push_str("        ");
                out.push_str(&painter.paint(Role::Layer(depth as u8), word));
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
    }
}

/// One block per layer, outermost first.
fn layers(seen: &Seen<'_>, out: &mut String) {
    let packet = &seen.packet;
    let _ = writeln!(
        out,
        "        frame      {} bytes on the wire",
        seen.header.original_len
    );
    link_layer(&packet.link, out);
    network_layer(&packet.network, out);
    transport_layer(&packet.transport, out);
    if let Some(application) = &seen.application {
        application_layer(application, out);
    }
    payload_layer(packet, out);
}

/// The application block: the message's summary, then DNS's records one by one.
fn application_layer(application: &Application<'_>, out: &mut String) {
    let _ = writeln!(
        out,
        "        application {}",
        escape(&application.summary())
    );
    if let Application::Dns(dns) = application {
        for answer in &dns.answers {
            let _ = writeln!(
                out,
                "                   answer {} {} ttl {} {}",
                escape(&answer.name),
                answer.kind,
                answer.ttl,
                escape(&answer.data)
            );
        }
    }
}

fn link_layer(link: &Option<Link>, out: &mut String) {
    match link {
        Some(Link::Ethernet {
            src,
            dst,
            ethertype,
            vlan,
        }) => {
            let _ = write!(
                out,
                "        link       Ethernet {src} → {dst}, type {} (0x{ethertype:04x})",
                ethertype_name(*ethertype)
            );
            if let Some(vlan) = vlan {
                let _ = write!(out, ", VLAN {vlan}");
            }
            out.push('\n');
        }
        Some(Link::Cooked {
            version,
            packet_type,
            src,
            ethertype,
            interface_index,
            ..
        }) => {
            let from = src.map(|m| format!(" from {m}")).unwrap_or_default();
            let on = interface_index
                .map(|i| format!(" on interface {i}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "        link       Linux cooked v{version}{from}{on}, {}, type {} (0x{ethertype:04x})",
                cooked_direction(*packet_type),
                ethertype_name(*ethertype)
            );
        }
        Some(Link::Null { family }) => {
            let _ = writeln!(out, "        link       loopback, address family {family}");
        }
        None => out.push_str("        link       none\n"),
    }
}

/// A cooked header's packet type, as tcpdump names it.
fn cooked_direction(packet_type: u16) -> &'static str {
    match packet_type {
        0 => "In",
        1 => "B (broadcast)",
        2 => "M (multicast)",
        3 => "P (to another host)",
        4 => "Out",
        _ => "unknown direction",
    }
}

fn network_layer(network: &Option<Network>, out: &mut String) {
    match network {
        Some(Network::Ipv4 {
            src,
            dst,
            header_len,
            tos,
            total_len,
            id,
            dont_fragment,
            more_fragments,
            fragment_offset,
            ttl,
            protocol,
            checksum,
        }) => {
            let _ = write!(
                out,
                "        network    IPv4 {src} → {dst}, header {header_len} bytes, total {total_len}, ttl {ttl}, id 0x{id:04x}, tos 0x{tos:02x}, protocol {} ({protocol}), checksum 0x{checksum:04x}",
                protocol_name(*protocol)
            );
            if *dont_fragment {
                out.push_str(", DF");
            }
            if *more_fragments || *fragment_offset > 0 {
                let _ = write!(
                    out,
                    ", fragment at {fragment_offset}{}",
                    if *more_fragments { ", MF" } else { "" }
                );
            }
            out.push('\n');
        }
        Some(Network::Ipv6 {
            src,
            dst,
            traffic_class,
            flow_label,
            payload_len,
            hop_limit,
            protocol,
            ..
        }) => {
            let _ = writeln!(
                out,
                "        network    IPv6 {src} → {dst}, payload {payload_len} bytes, hop limit {hop_limit}, traffic class 0x{traffic_class:02x}, flow 0x{flow_label:05x}, protocol {} ({protocol})",
                protocol_name(*protocol)
            );
        }
        Some(Network::Arp {
            operation,
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
        }) => {
            let show = |mac: &Option<ethernet::MacAddr>, ip: &Option<std::net::Ipv4Addr>| match (
                mac, ip,
            ) {
                (Some(m), Some(i)) => format!("{i} ({m})"),
                _ => "?".into(),
            };
            let _ = writeln!(
                out,
                "        network    ARP {}, sender {}, target {}",
                match *operation {
                    ARP_REQUEST => "request",
                    ARP_REPLY => "reply",
                    _ => "other",
                },
                show(sender_mac, sender_ip),
                show(target_mac, target_ip)
            );
        }
        None => {}
    }
}

fn transport_layer(transport: &Option<Transport>, out: &mut String) {
    match transport {
        Some(Transport::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
            header_len,
            checksum,
            urgent,
        }) => {
            let _ = writeln!(
                out,
                "        transport  TCP {src_port} → {dst_port}, flags [{}], seq {seq}, ack {ack}, window {window}, header {header_len} bytes, checksum 0x{checksum:04x}, urgent {urgent}",
                flags.names().join(", ")
            );
        }
        Some(Transport::Udp {
            src_port,
            dst_port,
            length,
            checksum,
        }) => {
            let _ = writeln!(
                out,
                "        transport  UDP {src_port} → {dst_port}, length {length}, checksum 0x{checksum:04x}"
            );
        }
        Some(Transport::Icmp {
            version,
            kind,
            code,
            name,
            id,
            seq,
            quoted,
        }) => {
            let _ = write!(
                out,
                "        transport  ICMP{} {name} (type {kind}, code {code})",
                if *version == 6 { "v6" } else { "" }
            );
            if let (Some(id), Some(seq)) = (id, seq) {
                let _ = write!(out, ", id {id}, seq {seq}");
            }
            if let Some(q) = quoted {
                let _ = write!(out, ", about {}", describe_quoted(q));
            }
            out.push('\n');
        }
        None => {}
    }
}

fn payload_layer(packet: &Packet<'_>, out: &mut String) {
    let _ = writeln!(
        out,
        "        payload    {} bytes{}",
        packet.payload.len(),
        if packet.payload.is_empty() {
            String::new()
        } else {
            format!(": {}", preview(packet.payload))
        }
    );
    if let Some(problem) = packet.problem {
        let _ = writeln!(out, "        problem    {problem}");
    }
}

/// Printable ASCII as is, everything else as '.', at most PREVIEW bytes.
fn preview(bytes: &[u8]) -> String {
    let mut text: String = bytes
        .iter()
        .take(PREVIEW)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    if bytes.len() > PREVIEW {
        text.push('…');
    }
    format!("\"{text}\"")
}

/// tcpdump's -x and -X layout: 16 bytes per line in groups of two, with
/// the ASCII beside them for -X.
fn hex_dump(bytes: &[u8], ascii: bool, out: &mut String) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "\t0x{:04x}:  ", row * 16);
        for pair in 0..8 {
            for i in [pair * 2, pair * 2 + 1] {
                match chunk.get(i) {
                    Some(b) => {
                        let _ = write!(out, "{b:02x}");
                    }
                    None if ascii => out.push_str("  "),
                    None => {}
                }
            }
            if pair < 7 && (ascii || pair * 2 + 2 < chunk.len()) {
                out.push(' ');
            }
        }
        if ascii {
            out.push_str("  ");
            // tcpdump shows only visible characters here: a space is a dot.
            out.extend(
                chunk
                    .iter()
                    .map(|&b| if b == b' ' { '.' } else { printable(b) }),
            );
        }
        out.push('\n');
    }
}

/// -A: the bytes as text, line breaks kept, anything else unprintable as '.'.
fn ascii_dump(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        match b {
            b'\n' => out.push('\n'),
            b'\r' => {}
            _ => out.push(printable(b)),
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn printable(b: u8) -> char {
    if (0x20..0x7f).contains(&b) {
        b as char
    } else {
        '.'
    }
}

/// A step in words, with both ends' states after it.
pub fn narrate(step: &Step) -> String {
    let mut text = String::new();
    write_narration(step, &mut text);
    text
}

/// [`narrate`], appended to `out`: a data step (the most common, one per
/// segment that carries bytes) without `core::fmt`.
fn write_narration(step: &Step, out: &mut String) {
    out.push_str("tcp#");
    push_number(out, step.connection);
    out.push(' ');
    match &step.kind {
        StepKind::Data { from, bytes } => {
            out.push_str("data: ");
            push_number(out, *bytes);
            out.push_str(" bytes ");
            out.push_str(from.name());
            out.push_str(" → ");
            out.push_str(other(*from));
        }
        StepKind::Application { exchange, .. } => push_escaped(out, exchange),
        kind => out.push_str(&describe_step(step, kind)),
    }
    out.push_str(" (client ");
    out.push_str(step.client_state.name());
    out.push_str(", server ");
    out.push_str(step.server_state.name());
    out.push(')');
}

/// The rarer steps, in words.
fn describe_step(step: &Step, kind: &StepKind) -> String {
    match kind {
        StepKind::Syn => format!(
            "SYN: {} asks {} to open a connection",
            step.client, step.server
        ),
        StepKind::SynAck => "SYN-ACK: the server accepts and sends its own SYN".into(),
        StepKind::HandshakeComplete { elapsed_ms } => {
            format!("ACK: handshake complete in {elapsed_ms:.3} ms")
        }
        StepKind::Data { .. } | StepKind::Application { .. } => String::new(),
        StepKind::Fin {
            from,
            acks_other_fin: false,
        } => {
            format!("FIN from the {from}: it has nothing more to send")
        }
        StepKind::Fin {
            from,
            acks_other_fin: true,
        } => {
            format!(
                "FIN from the {from}, acknowledging the {}'s FIN in the same segment",
                other(*from)
            )
        }
        StepKind::FinAcked { by } => format!("ACK: the {by} acknowledges the {}'s FIN", other(*by)),
        StepKind::Closed { ending, elapsed_ms } => format!(
            "ACK: closed {}, {elapsed_ms:.3} ms after the first FIN",
            match ending {
                Ending::FourWay => "in four steps",
                Ending::ThreeWay => "in three steps (the second FIN carried the first one's ACK)",
                Ending::Simultaneous => "by a simultaneous close",
                Ending::Reset | Ending::Refused => "",
            }
        ),
        StepKind::Reset {
            from,
            ending: Ending::Refused,
        } => {
            format!(
                "RST from the {from}: connection refused, nothing listens on port {}",
                step.server.port()
            )
        }
        StepKind::Reset { from, .. } => {
            format!("RST from the {from}: connection reset, aborted at once")
        }
    }
}

fn other(side: crate::wire::conversation::Side) -> &'static str {
    match side {
        crate::wire::conversation::Side::Client => "server",
        crate::wire::conversation::Side::Server => "client",
    }
}

/// `--json`: one packet, serialized straight from the decoded values (no
/// intermediate tree: that cost five times the decoding itself).
#[derive(Serialize)]
pub struct PacketRecord<'a> {
    pub number: u64,
    /// Seconds since the epoch, from the capture's time stamp.
    pub time: f64,
    pub length: u32,
    pub captured: u32,
    /// Live captures, and files that name their interfaces (pcapng).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<&'a str>,
    pub link: &'a Option<Link>,
    pub network: &'a Option<Network>,
    pub transport: &'a Option<Transport>,
    pub payload: PayloadRecord,
    /// The application layer: decoded (DNS, HTTP, TLS) or named by port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: &'a Option<Application<'a>>,
    pub problem: Option<&'static str>,
    /// The TCP narrator's steps for this packet, when it took any.
    #[serde(skip_serializing_if = "<[Step]>::is_empty")]
    pub tcp_steps: &'a [Step],
}

#[derive(Serialize)]
pub struct PayloadRecord {
    pub length: usize,
    /// Printable characters, others as dots, at most a line's worth.
    pub preview: String,
    /// With `-x` or `-X`: every payload byte in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

fn write_json(seen: &Seen<'_>, style: SniffStyle, out: &mut String) {
    let packet = &seen.packet;
    let mut preview = preview(packet.payload);
    preview.pop();
    preview.remove(0);
    let object = PacketRecord {
        number: seen.number,
        time: seen.header.time.as_secs_f64(),
        length: seen.header.original_len,
        captured: seen.header.captured_len,
        interface: seen.interface,
        link: &packet.link,
        network: &packet.network,
        transport: &packet.transport,
        payload: PayloadRecord {
            length: packet.payload.len(),
            preview,
            hex: matches!(style.dump, Dump::Hex { .. } | Dump::HexAscii { .. }).then(|| {
                packet.payload.iter().fold(String::new(), |mut hex, b| {
                    let _ = write!(hex, "{b:02x}");
                    hex
                })
            }),
        },
        application: &seen.application,
        problem: packet.problem,
        tcp_steps: &seen.steps,
    };
    if let Ok(line) = serde_json::to_string(&object) {
        out.push_str(&line);
    }
    out.push('\n');
}

/// The closing table: one line per TCP connection.
pub fn connection_table(connections: &[ConnectionSummary]) -> String {
    if connections.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nTCP connections:\n");
    let _ = writeln!(
        out,
        "  {:<4} {:<44} {:>10} {:>10} {:>10} {:>11}  end (client/server state)",
        "#", "client → server", "handshake", "c→s bytes", "s→c bytes", "duration",
    );
    for c in connections {
        let ending = match c.ending {
            Some(Ending::FourWay) => "four-way close".to_string(),
            Some(Ending::ThreeWay) => "three-way close".to_string(),
            Some(Ending::Simultaneous) => "simultaneous close".to_string(),
            Some(Ending::Reset) => "reset".to_string(),
            Some(Ending::Refused) => "refused".to_string(),
            None => "still open".to_string(),
        };
        let handshake = c
            .handshake_ms
            .map_or("-".to_string(), |ms| format!("{ms:.3} ms"));
        let _ = writeln!(
            out,
            "  {:<4} {:<44} {:>10} {:>10} {:>10} {:>8.3} ms  {ending} ({}/{}){}",
            c.connection,
            format!("{} → {}", c.client, c.server),
            handshake,
            c.bytes_client_to_server,
            c.bytes_server_to_client,
            c.duration_ms,
            c.client_state,
            c.server_state,
            if c.joined_late { ", joined late" } else { "" }
        );
    }
    out
}
