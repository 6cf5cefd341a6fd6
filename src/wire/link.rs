//! The link layer as capture files record it: which header a frame begins
//! with (pcap's LINKTYPE numbers) and what that header says.
//!
//! Ethernet is what an Ethernet-like interface (Linux loopback included)
//! hands a packet socket. `tcpdump -i any` cannot use Ethernet for every
//! interface, so it writes Linux "cooked" headers instead: v1 (16 bytes)
//! in older versions, v2 (20 bytes, with the interface index) since
//! libpcap 1.10. Tunnels and some tools write raw IP; BSD and macOS
//! loopback captures begin with a 4-byte address family (null/loop).

use serde::Serialize;

use super::ethernet::{EthernetFrame, MacAddr};
use super::numbers::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};

/// How a capture's frames begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_NULL (0): a 4-byte address family in the capturing host's byte order.
    Null,
    /// LINKTYPE_ETHERNET (1): Ethernet-like interfaces and Linux loopback.
    Ethernet,
    /// LINKTYPE_RAW (101; 12 and 14 on some systems): the frame is the IP packet.
    RawIp,
    /// LINKTYPE_LOOP (108): like null, in network byte order (OpenBSD).
    Loop,
    /// LINKTYPE_LINUX_SLL (113): `tcpdump -i any`'s cooked header, v1.
    LinuxCooked,
    /// LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229): raw IP of one version.
    RawIpv4,
    RawIpv6,
    /// LINKTYPE_LINUX_SLL2 (276): the cooked header of libpcap 1.10 and later.
    LinuxCooked2,
    /// A link type sockit does not decode; its frames are shown as such.
    Other(u32),
}

impl LinkType {
    pub fn from_pcap(value: u32) -> LinkType {
        // The upper bits carry FCS and class flags, not the type.
        match value & 0x03ff_ffff {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            101 | 12 | 14 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxCooked,
            228 => LinkType::RawIpv4,
            229 => LinkType::RawIpv6,
            276 => LinkType::LinuxCooked2,
            other => LinkType::Other(other),
        }
    }

    pub fn pcap_value(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Loop => 108,
            LinkType::LinuxCooked => 113,
            LinkType::RawIpv4 => 228,
            LinkType::RawIpv6 => 229,
            LinkType::LinuxCooked2 => 276,
            LinkType::Other(value) => value,
        }
    }

    pub fn name(self) -> String {
        match self {
            LinkType::Null => "null/loopback".into(),
            LinkType::Ethernet => "Ethernet".into(),
            LinkType::RawIp => "raw IP".into(),
            LinkType::Loop => "OpenBSD loopback".into(),
            LinkType::LinuxCooked => "Linux cooked v1".into(),
            LinkType::RawIpv4 => "raw IPv4".into(),
            LinkType::RawIpv6 => "raw IPv6".into(),
            LinkType::LinuxCooked2 => "Linux cooked v2".into(),
            LinkType::Other(value) => format!("link type {value}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Link {
    Ethernet {
        src: MacAddr,
        dst: MacAddr,
        ethertype: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        vlan: Option<u16>,
    },
    /// Linux "cooked" header: the sender's link address and the protocol.
    Cooked {
        version: u8,
        /// 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
        packet_type: u16,
        /// The interface's hardware type (ARPHRD_*).
        hardware_type: u16,
        src: Option<MacAddr>,
        ethertype: u16,
        /// v2 only: the interface the packet crossed.
        #[serde(skip_serializing_if = "Option::is_none")]
        interface_index: Option<u32>,
    },
    /// BSD loopback: an address family, no addresses.
    Null { family: u32 },
}

impl Link {
    /// The sender's link address, where the header has one.
    pub fn source(&self) -> Option<MacAddr> {
        match self {
            Link::Ethernet { src, .. } => Some(*src),
            Link::Cooked { src, .. } => *src,
            Link::Null { .. } => None,
        }
    }
}

/// A link header read: what it says (raw IP has no header to say
/// anything), the EtherType of what follows, and those bytes.
pub struct Peeled<'a> {
    pub link: Option<Link>,
    pub ethertype: u16,
    pub rest: &'a [u8],
}

/// Reads the `link` header at the front of `frame`, or names what is wrong.
pub fn peel(link: LinkType, frame: &[u8]) -> Result<Peeled<'_>, &'static str> {
    let be16 = |at: usize| u16::from_be_bytes([frame[at], frame[at + 1]]);
    match link {
        LinkType::Ethernet => {
            let view = EthernetFrame::new(frame).ok_or("Ethernet header truncated")?;
            Ok(Peeled {
                link: Some(Link::Ethernet {
                    src: view.source(),
                    dst: view.destination(),
                    ethertype: view.ethertype(),
                    vlan: view.vlan(),
                }),
                ethertype: view.ethertype(),
                rest: view.payload(),
            })
        }
        LinkType::LinuxCooked => {
            if frame.len() < 16 {
                return Err("Linux cooked header truncated");
            }
            let ethertype = be16(14);
            Ok(Peeled {
                link: Some(Link::Cooked {
                    version: 1,
                    packet_type: be16(0),
                    hardware_type: be16(2),
                    src: cooked_address(be16(4), &frame[6..14]),
                    ethertype,
                    interface_index: None,
                }),
                ethertype,
                rest: &frame[16..],
            })
        }
        LinkType::LinuxCooked2 => {
            if frame.len() < 20 {
                return Err("Linux cooked v2 header truncated");
            }
            let ethertype = be16(0);
            Ok(Peeled {
                link: Some(Link::Cooked {
                    version: 2,
                    packet_type: u16::from(frame[10]),
                    hardware_type: be16(8),
                    src: cooked_address(u16::from(frame[11]), &frame[12..20]),
                    ethertype,
                    interface_index: Some(u32::from_be_bytes([
                        frame[4], frame[5], frame[6], frame[7],
                    ])),
                }),
                ethertype,
                rest: &frame[20..],
            })
        }
        LinkType::RawIp => raw_ip(frame, None),
        LinkType::RawIpv4 => raw_ip(frame, Some(4)),
        LinkType::RawIpv6 => raw_ip(frame, Some(6)),
        LinkType::Null | LinkType::Loop => {
            let bytes: [u8; 4] = frame
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or("loopback header truncated")?;
            // Written in the capturing host's order: whichever reading is small.
            let family = match (link, u32::from_le_bytes(bytes)) {
                (LinkType::Null, little) if little <= 0xffff => little,
                _ => u32::from_be_bytes(bytes),
            };
            // AF_INET everywhere; AF_INET6 is 10 on Linux, 24, 28 or 30 on the BSDs.
            let ethertype = match family {
                2 => ETHERTYPE_IPV4,
                10 | 24 | 28 | 30 => ETHERTYPE_IPV6,
                _ => 0,
            };
            Ok(Peeled {
                link: Some(Link::Null { family }),
                ethertype,
                rest: &frame[4..],
            })
        }
        LinkType::Other(_) => Err("a link type sockit does not decode"),
    }
}

/// A cooked header's sender address, when it is a MAC address.
fn cooked_address(len: u16, bytes: &[u8]) -> Option<MacAddr> {
    (len == 6).then(|| MacAddr::from_slice(bytes)).flatten()
}

fn raw_ip(frame: &[u8], expected: Option<u8>) -> Result<Peeled<'_>, &'static str> {
    let version = frame.first().map(|b| b >> 4);
    let ethertype = match version {
        Some(4) if expected.is_none_or(|v| v == 4) => ETHERTYPE_IPV4,
        Some(6) if expected.is_none_or(|v| v == 6) => ETHERTYPE_IPV6,
        _ => return Err("not an IP packet"),
    };
    Ok(Peeled {
        link: None,
        ethertype,
        rest: frame,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooked_v2_names_the_interface_and_the_sender() {
        let mut frame = vec![0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6];
        frame.extend([2, 0, 0, 0, 0, 1, 0, 0]);
        frame.extend([0x45, 0]);
        let peeled = peel(LinkType::LinuxCooked2, &frame).unwrap();
        assert_eq!(peeled.ethertype, ETHERTYPE_IPV4);
        assert_eq!(peeled.rest, [0x45, 0]);
        assert_eq!(
            peeled.link,
            Some(Link::Cooked {
                version: 2,
                packet_type: 4,
                hardware_type: 1,
                src: Some(MacAddr([2, 0, 0, 0, 0, 1])),
                ethertype: ETHERTYPE_IPV4,
                interface_index: Some(7),
            })
        );
    }

    #[test]
    fn null_headers_in_either_byte_order() {
        for (link, header) in [
            (LinkType::Null, 2u32.to_le_bytes()),
            (LinkType::Null, 2u32.to_be_bytes()),
            (LinkType::Loop, 2u32.to_be_bytes()),
        ] {
            let mut frame = header.to_vec();
            frame.push(0x45);
            assert_eq!(peel(link, &frame).unwrap().ethertype, ETHERTYPE_IPV4);
        }
        let frame = [30, 0, 0, 0, 0x60];
        assert_eq!(
            peel(LinkType::Null, &frame).unwrap().ethertype,
            ETHERTYPE_IPV6
        );
        assert!(peel(LinkType::RawIpv6, &[0x45]).is_err());
        assert!(peel(LinkType::Other(147), &[0x45]).is_err());
    }
}
