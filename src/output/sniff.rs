//! sniff's output: one line per packet (tcpdump's habit), or one block per
//! layer with `--layers`, the TCP narration under the packet that caused
//! each step, a table of connections at the end, or JSON objects.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::tools::sniff::Seen;
use crate::wire::conversation::{ConnectionSummary, Ending, Step, StepKind};
use crate::wire::ethernet;
use crate::wire::numbers::{ARP_REPLY, ARP_REQUEST, ethertype_name, protocol_name};
use crate::wire::packet::{Link, Network, Packet, Quoted, Transport};

/// How much of a payload the one-line preview shows.
const PREVIEW: usize = 48;

#[derive(Debug, Clone, Copy, Default)]
pub struct SniffStyle {
    pub layers: bool,
    pub hex: bool,
    pub json: bool,
}

/// Everything printed for one packet, newline-terminated.
pub fn render(seen: &Seen<'_>, style: SniffStyle, out: &mut String) {
    if style.json {
        write_json(seen, style, out);
        return;
    }
    let _ = write!(
        out,
        "{:>5} {:>11.6} ",
        seen.number,
        seen.relative.as_secs_f64()
    );
    if let Some(interface) = seen.interface {
        let _ = write!(out, "{interface:<6} ");
    }
    summary(&seen.packet, out);
    if seen.header.captured_len < seen.header.original_len {
        let _ = write!(
            out,
            " [captured {} of {} bytes]",
            seen.header.captured_len, seen.header.original_len
        );
    }
    out.push('\n');
    if style.layers {
        layers(&seen.packet, seen.header.original_len, out);
    }
    if style.hex && !seen.packet.payload.is_empty() {
        hex_dump(seen.packet.payload, out);
    }
    for step in &seen.steps {
        let _ = writeln!(out, "      ↳ {}", narrate(step));
    }
}

fn endpoint(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// tcpdump-like: addresses, protocol, the fields that matter. The
/// highest layer decoded speaks for the packet.
fn summary(packet: &Packet<'_>, out: &mut String) {
    let len = packet.payload.len();
    match (&packet.network, &packet.transport, packet.addresses()) {
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
            let (from, to) = (endpoint(src, *src_port), endpoint(dst, *dst_port));
            let _ = write!(out, "{from} → {to} TCP [{flags}] seq {seq}");
            if flags.has(crate::wire::tcp::Flags::ACK) {
                let _ = write!(out, " ack {ack}");
            }
            let _ = write!(out, " win {window} len {len}");
        }
        Transport::Udp {
            src_port, dst_port, ..
        } => {
            let (from, to) = (endpoint(src, *src_port), endpoint(dst, *dst_port));
            let _ = write!(out, "{from} → {to} UDP len {len}");
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

/// One block per layer, outermost first.
fn layers(packet: &Packet<'_>, wire_len: u32, out: &mut String) {
    let _ = writeln!(out, "        frame      {wire_len} bytes on the wire");
    link_layer(&packet.link, out);
    network_layer(&packet.network, out);
    transport_layer(&packet.transport, out);
    payload_layer(packet, out);
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

/// 16 bytes per line: offset, hex, ASCII.
fn hex_dump(bytes: &[u8], out: &mut String) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "        {:04x}  ", row * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        out.extend(chunk.iter().map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
}

/// A step in words, with both ends' states after it.
pub fn narrate(step: &Step) -> String {
    let id = step.connection;
    let what = match &step.kind {
        StepKind::Syn => format!(
            "SYN: {} asks {} to open a connection",
            step.client, step.server
        ),
        StepKind::SynAck => "SYN-ACK: the server accepts and sends its own SYN".into(),
        StepKind::HandshakeComplete { elapsed_ms } => {
            format!("ACK: handshake complete in {elapsed_ms:.3} ms")
        }
        StepKind::Data { from, bytes } => {
            format!("data: {bytes} bytes {from} → {}", other(*from))
        }
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
    };
    format!(
        "tcp#{id} {what} (client {}, server {})",
        step.client_state, step.server_state
    )
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
    /// Live captures only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<&'a str>,
    pub link: &'a Option<Link>,
    pub network: &'a Option<Network>,
    pub transport: &'a Option<Transport>,
    pub payload: PayloadRecord,
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
    /// With `-x`: every payload byte in hex.
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
            hex: style.hex.then(|| {
                packet.payload.iter().fold(String::new(), |mut hex, b| {
                    let _ = write!(hex, "{b:02x}");
                    hex
                })
            }),
        },
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
