//! A captured frame peeled layer by layer, as the course draws it: link,
//! network, transport, then the application's bytes.
//!
//! [`decode`] reads the wire views of each protocol module and keeps what
//! each header says in plain values, so printers (one line, one block per
//! layer, JSON) and the TCP narrator share one reading. Decoding never fails
//! as a whole: it stops at the first layer that is short or malformed, keeps
//! the layers read so far, and says what was wrong in `problem`.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Serialize, Serializer};

use super::arp::ArpPacket;
use super::ethernet::{self, MacAddr};
use super::icmp::{self, Version};
use super::ipv4::Ipv4Packet;
use super::ipv6::Ipv6Packet;
use super::link;
use super::tcp::{Flags, TcpSegment};
use super::udp::UdpDatagram;

pub use super::link::{Link, LinkType};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Network {
    Ipv4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        header_len: usize,
        tos: u8,
        total_len: u16,
        id: u16,
        dont_fragment: bool,
        more_fragments: bool,
        fragment_offset: u16,
        ttl: u8,
        protocol: u8,
        checksum: u16,
    },
    Ipv6 {
        src: std::net::Ipv6Addr,
        dst: std::net::Ipv6Addr,
        traffic_class: u8,
        flow_label: u32,
        payload_len: u16,
        next_header: u8,
        hop_limit: u8,
        /// The upper-layer protocol after any extension headers.
        protocol: u8,
    },
    Arp {
        operation: u16,
        sender_mac: Option<MacAddr>,
        sender_ip: Option<Ipv4Addr>,
        target_mac: Option<MacAddr>,
        target_ip: Option<Ipv4Addr>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Transport {
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: Flags,
        window: u16,
        header_len: usize,
        checksum: u16,
        urgent: u16,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        length: u16,
        checksum: u16,
    },
    Icmp {
        version: u8,
        kind: u8,
        code: u8,
        name: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<u16>,
        /// For an error: the packet it is about, as far as it is quoted.
        #[serde(skip_serializing_if = "Option::is_none")]
        quoted: Option<Quoted>,
    },
}

/// The headers an ICMP error quotes from the packet that failed: its
/// addresses, protocol and (for TCP and UDP) ports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quoted {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
}

/// Reads the quote at the end of an ICMP error: an IP header and at least
/// the first 8 bytes of what it carried (RFC 792, RFC 4443).
fn quoted(quote: &[u8]) -> Option<Quoted> {
    let (src, dst, protocol, rest): (IpAddr, IpAddr, u8, &[u8]) = match quote.first()? >> 4 {
        4 => {
            let ip = Ipv4Packet::new(quote)?;
            (
                ip.source().into(),
                ip.destination().into(),
                ip.protocol(),
                ip.payload(),
            )
        }
        6 => {
            let ip = Ipv6Packet::new(quote)?;
            let (protocol, rest) = ip.upper_layer().unwrap_or((ip.next_header(), &[]));
            (ip.source().into(), ip.destination().into(), protocol, rest)
        }
        _ => return None,
    };
    let ports = matches!(protocol, PROTO_TCP | PROTO_UDP) && rest.len() >= 4;
    Some(Quoted {
        src,
        dst,
        protocol,
        src_port: ports.then(|| u16::from_be_bytes([rest[0], rest[1]])),
        dst_port: ports.then(|| u16::from_be_bytes([rest[2], rest[3]])),
    })
}

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

/// One frame, decoded as far as it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet<'a> {
    pub link: Option<Link>,
    pub network: Option<Network>,
    pub transport: Option<Transport>,
    /// The application's bytes (what the transport carries), or for a frame
    /// whose transport is not decoded, whatever the last decoded layer carries.
    pub payload: &'a [u8],
    /// The first layer that could not be read, and why.
    pub problem: Option<&'static str>,
    /// How many bytes of the frame the link header took (where the network
    /// layer begins, for dumps without the link header).
    pub link_len: usize,
}

impl Packet<'_> {
    /// Source and destination addresses of the network layer.
    pub fn addresses(&self) -> Option<(IpAddr, IpAddr)> {
        match self.network {
            Some(Network::Ipv4 { src, dst, .. }) => Some((src.into(), dst.into())),
            Some(Network::Ipv6 { src, dst, .. }) => Some((src.into(), dst.into())),
            _ => None,
        }
    }

    /// Source and destination ports, for TCP and UDP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Some(
                Transport::Tcp {
                    src_port, dst_port, ..
                }
                | Transport::Udp {
                    src_port, dst_port, ..
                },
            ) => Some((src_port, dst_port)),
            _ => None,
        }
    }
}

pub use super::numbers::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};

/// Decodes one frame that begins with a `link` header, layer by layer:
/// each step fills its layer and hands the next one its bytes, or names the
/// problem and ends the walk (the layers read so far are kept).
pub fn decode(link: LinkType, frame: &[u8]) -> Packet<'_> {
    let mut packet = Packet {
        link: None,
        network: None,
        transport: None,
        payload: frame,
        problem: None,
        link_len: 0,
    };
    let (ethertype, rest) = match link::peel(link, frame) {
        Ok(peeled) => {
            packet.link = peeled.link;
            packet.link_len = frame.len() - peeled.rest.len();
            (peeled.ethertype, peeled.rest)
        }
        Err(problem) => {
            packet.problem = Some(problem);
            return packet;
        }
    };
    packet.payload = rest;
    let upper = match ethertype {
        ethernet::ETHERTYPE_IPV4 => decode_ipv4(&mut packet, rest),
        ethernet::ETHERTYPE_IPV6 => decode_ipv6(&mut packet, rest),
        ethernet::ETHERTYPE_ARP => {
            decode_arp(&mut packet, rest);
            None
        }
        _ => None,
    };
    if let Some((protocol, version, bytes)) = upper {
        decode_transport(&mut packet, protocol, version, bytes);
    }
    packet
}

/// The transport protocol, IP version and bytes an IP layer carries.
type Upper<'a> = Option<(u8, Version, &'a [u8])>;

fn decode_ipv4<'a>(packet: &mut Packet<'a>, bytes: &'a [u8]) -> Upper<'a> {
    let Some(ip) = Ipv4Packet::new(bytes) else {
        packet.problem = Some("IPv4 header truncated or malformed");
        return None;
    };
    packet.network = Some(Network::Ipv4 {
        src: ip.source(),
        dst: ip.destination(),
        header_len: ip.header_len(),
        tos: ip.tos(),
        total_len: ip.total_len(),
        id: ip.identification(),
        dont_fragment: ip.dont_fragment(),
        more_fragments: ip.more_fragments(),
        fragment_offset: ip.fragment_offset(),
        ttl: ip.ttl(),
        protocol: ip.protocol(),
        checksum: ip.header_checksum(),
    });
    packet.payload = ip.payload_within_total_len();
    if ip.fragment_offset() != 0 {
        // A later fragment: its bytes continue a transport header that is
        // in the first fragment.
        return None;
    }
    Some((ip.protocol(), Version::V4, ip.payload_within_total_len()))
}

fn decode_ipv6<'a>(packet: &mut Packet<'a>, bytes: &'a [u8]) -> Upper<'a> {
    let Some(ip) = Ipv6Packet::new(bytes) else {
        packet.problem = Some("IPv6 header truncated or malformed");
        return None;
    };
    let upper = ip.upper_layer();
    packet.network = Some(Network::Ipv6 {
        src: ip.source(),
        dst: ip.destination(),
        traffic_class: ip.traffic_class(),
        flow_label: ip.flow_label(),
        payload_len: ip.payload_len(),
        next_header: ip.next_header(),
        hop_limit: ip.hop_limit(),
        protocol: upper.map_or(ip.next_header(), |(p, _)| p),
    });
    let Some((protocol, bytes)) = upper else {
        packet.problem = Some("IPv6 extension headers truncated");
        return None;
    };
    packet.payload = bytes;
    Some((protocol, Version::V6, bytes))
}

fn decode_arp(packet: &mut Packet<'_>, bytes: &[u8]) {
    let Some(arp) = ArpPacket::new(bytes) else {
        packet.problem = Some("ARP packet truncated");
        return;
    };
    let pairs = arp.addresses();
    packet.network = Some(Network::Arp {
        operation: arp.operation(),
        sender_mac: pairs.map(|p| p[0].0),
        sender_ip: pairs.map(|p| p[0].1),
        target_mac: pairs.map(|p| p[1].0),
        target_ip: pairs.map(|p| p[1].1),
    });
    packet.payload = &[];
}

fn decode_transport<'a>(packet: &mut Packet<'a>, protocol: u8, version: Version, bytes: &'a [u8]) {
    match (protocol, version) {
        (PROTO_TCP, _) => match TcpSegment::new(bytes) {
            Some(tcp) => {
                packet.transport = Some(Transport::Tcp {
                    src_port: tcp.source_port(),
                    dst_port: tcp.destination_port(),
                    seq: tcp.sequence(),
                    ack: tcp.acknowledgment(),
                    flags: tcp.flags(),
                    window: tcp.window(),
                    header_len: tcp.header_len(),
                    checksum: tcp.checksum(),
                    urgent: tcp.urgent_pointer(),
                });
                packet.payload = tcp.payload();
            }
            None => packet.problem = Some("TCP header truncated or malformed"),
        },
        (PROTO_UDP, _) => match UdpDatagram::new(bytes) {
            Some(udp) => {
                packet.transport = Some(Transport::Udp {
                    src_port: udp.source_port(),
                    dst_port: udp.destination_port(),
                    length: udp.length(),
                    checksum: udp.checksum(),
                });
                packet.payload = udp.payload();
            }
            None => packet.problem = Some("UDP header truncated"),
        },
        (PROTO_ICMP, Version::V4) | (PROTO_ICMPV6, Version::V6) => {
            if bytes.len() < 4 {
                packet.problem = Some("ICMP header truncated");
                return;
            }
            let (kind, code) = (bytes[0], bytes[1]);
            let echo = matches!(
                (version, kind),
                (Version::V4, 0 | 8) | (Version::V6, 128 | 129)
            ) && bytes.len() >= icmp::ECHO_HEADER_LEN;
            packet.transport = Some(Transport::Icmp {
                version: if version == Version::V4 { 4 } else { 6 },
                kind,
                code,
                name: icmp::name(version, kind, code),
                id: echo.then(|| u16::from_be_bytes([bytes[4], bytes[5]])),
                seq: echo.then(|| u16::from_be_bytes([bytes[6], bytes[7]])),
                quoted: icmp::describe_error(version, kind, code)
                    .and(bytes.get(icmp::ECHO_HEADER_LEN..))
                    .and_then(quoted),
            });
            packet.payload = if echo {
                &bytes[icmp::ECHO_HEADER_LEN..]
            } else {
                &bytes[4..]
            };
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_bytes_make_any_decoder_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            for link in [LinkType::Ethernet, LinkType::LinuxCooked, LinkType::LinuxCooked2, LinkType::RawIp, LinkType::Null, LinkType::Loop] {
                let _ = decode(link, &bytes);
            }
        }

        /// Frames that start right (Ethernet, IPv4 or IPv6, a known transport)
        /// and go wrong after: the deeper decoders get exercised too.
        #[test]
        fn plausible_headers_with_random_rest(
            ipv6 in any::<bool>(),
            protocol in prop::sample::select(vec![1u8, 6, 17, 58, 0, 44]),
            rest in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut frame = vec![0u8; 12];
            if ipv6 {
                frame.extend([0x86, 0xdd, 0x60, 0, 0, 0, 0, rest.len() as u8, protocol, 64]);
                frame.extend([0u8; 32]);
            } else {
                frame.extend([0x08, 0x00, 0x45, 0, 0, (20 + rest.len()) as u8, 0, 0, 0, 0, 64, protocol, 0, 0]);
                frame.extend([127, 0, 0, 1, 127, 0, 0, 1]);
            }
            frame.extend(&rest);
            let _ = decode(LinkType::Ethernet, &frame);
        }
    }
}
