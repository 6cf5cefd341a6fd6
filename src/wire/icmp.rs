//! ICMP (RFC 792) and ICMPv6 (RFC 4443) messages: the echo request and reply
//! that ping exchanges, and the errors a router or host sends back when a
//! packet cannot be delivered.
//!
//! Both versions share the layout that matters here: type, code, checksum,
//! then for echo messages an identifier and a sequence number, and for error
//! messages 4 unused bytes followed by the start of the packet that failed.

use std::net::IpAddr;

use super::checksum::internet_checksum;
use super::ipv4::Ipv4Packet;

/// Type, code, checksum, identifier and sequence number.
pub const ECHO_HEADER_LEN: usize = 8;
/// A fixed IPv6 header, which an ICMPv6 error quotes before the failed message.
const IPV6_HEADER_LEN: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V4,
    V6,
}

impl Version {
    pub fn of(address: IpAddr) -> Version {
        if address.is_ipv4() {
            Version::V4
        } else {
            Version::V6
        }
    }

    fn echo_request(self) -> u8 {
        match self {
            Version::V4 => 8,
            Version::V6 => 128,
        }
    }

    fn echo_reply(self) -> u8 {
        match self {
            Version::V4 => 0,
            Version::V6 => 129,
        }
    }
}

/// A received ICMP message, as far as ping cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    EchoReply(Echo<'a>),
    EchoRequest(Echo<'a>),
    /// Destination unreachable, time exceeded and the like, with the echo
    /// request it quotes when the failed packet was one.
    Error {
        /// iputils' wording, the MTU added when the error reports one.
        description: String,
        quoted: Option<Echo<'a>>,
    },
    Other {
        kind: u8,
        code: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo<'a> {
    pub identifier: u16,
    pub sequence: u16,
    pub payload: &'a [u8],
}

/// Reads an ICMP message (starting at its type byte); `None` when it is too
/// short to have a header.
pub fn parse(version: Version, bytes: &[u8]) -> Option<Message<'_>> {
    let echo = parse_echo(bytes)?;
    let (kind, code) = (bytes[0], bytes[1]);
    Some(if kind == version.echo_reply() {
        Message::EchoReply(echo)
    } else if kind == version.echo_request() {
        Message::EchoRequest(echo)
    } else if let Some(description) = describe_error_in_full(
        version,
        kind,
        code,
        u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
    ) {
        Message::Error {
            description,
            quoted: quoted_echo(version, &bytes[ECHO_HEADER_LEN..]),
        }
    } else {
        Message::Other { kind, code }
    })
}

fn parse_echo(bytes: &[u8]) -> Option<Echo<'_>> {
    let header = bytes.get(..ECHO_HEADER_LEN)?;
    Some(Echo {
        identifier: u16::from_be_bytes([header[4], header[5]]),
        sequence: u16::from_be_bytes([header[6], header[7]]),
        payload: &bytes[ECHO_HEADER_LEN..],
    })
}

/// The echo request inside an error's quote of the failed packet.
fn quoted_echo(version: Version, quote: &[u8]) -> Option<Echo<'_>> {
    let message = match version {
        Version::V4 => {
            let packet = Ipv4Packet::new(quote)?;
            if packet.protocol() != 1 {
                return None;
            }
            packet.payload()
        }
        Version::V6 => {
            // Next header 58 (ICMPv6) right after the fixed header; a quoted
            // packet with extension headers is not one of ours.
            if quote.len() < IPV6_HEADER_LEN || quote[0] >> 4 != 6 || quote[6] != 58 {
                return None;
            }
            &quote[IPV6_HEADER_LEN..]
        }
    };
    (message.first() == Some(&version.echo_request()))
        .then(|| parse_echo(message))
        .flatten()
}

/// A short name for any message type, for packet listings.
pub fn name(version: Version, kind: u8, code: u8) -> &'static str {
    match (version, kind) {
        (Version::V4, 0) | (Version::V6, 129) => "echo reply",
        (Version::V4, 8) | (Version::V6, 128) => "echo request",
        (Version::V4, 13) => "timestamp request",
        (Version::V4, 14) => "timestamp reply",
        (Version::V6, 130) => "multicast listener query",
        (Version::V6, 131 | 143) => "multicast listener report",
        (Version::V6, 133) => "router solicitation",
        (Version::V6, 134) => "router advertisement",
        (Version::V6, 135) => "neighbor solicitation",
        (Version::V6, 136) => "neighbor advertisement",
        _ => describe_error(version, kind, code).unwrap_or("other"),
    }
}

/// iputils' wording for the errors a ping can meet; `None` for a type that
/// is not an error.
pub fn describe_error(version: Version, kind: u8, code: u8) -> Option<&'static str> {
    Some(match (version, kind, code) {
        (Version::V4, 3, 0) => "Destination Net Unreachable",
        (Version::V4, 3, 1) => "Destination Host Unreachable",
        (Version::V4, 3, 2) => "Destination Protocol Unreachable",
        (Version::V4, 3, 3) => "Destination Port Unreachable",
        (Version::V4, 3, 4) => "Frag needed and DF set",
        (Version::V4, 3, 9 | 10 | 13) => "Packet filtered",
        (Version::V4, 3, _) => "Destination Unreachable",
        (Version::V4, 4, _) => "Source Quench",
        (Version::V4, 5, _) => "Redirect",
        (Version::V4, 11, 0) => "Time to live exceeded",
        (Version::V4, 11, _) => "Frag reassembly time exceeded",
        (Version::V4, 12, _) => "Parameter problem",
        (Version::V6, 1, 0) => "Destination unreachable: No route",
        (Version::V6, 1, 1) => "Destination unreachable: Administratively prohibited",
        (Version::V6, 1, 3) => "Destination unreachable: Address unreachable",
        (Version::V6, 1, 4) => "Destination unreachable: Port unreachable",
        (Version::V6, 1, _) => "Destination unreachable",
        (Version::V6, 2, _) => "Packet too big",
        (Version::V6, 3, _) => "Time exceeded: Hop limit",
        (Version::V6, 4, _) => "Parameter problem",
        _ => return None,
    })
}

/// The next-hop MTU an error reports, from its header's second word (or
/// the error queue's `ee_info`, which holds the same number): IPv4's
/// "fragmentation needed" keeps it in the low half (RFC 1191), ICMPv6's
/// "packet too big" in the whole word.
pub fn reported_mtu(version: Version, kind: u8, code: u8, info: u32) -> Option<u32> {
    match (version, kind, code) {
        (Version::V4, 3, 4) => Some(info & 0xffff),
        (Version::V6, 2, _) => Some(info),
        _ => None,
    }
}

/// iputils' whole line for an error: the wording, and the MTU for the
/// errors that report one (`Frag needed and DF set (mtu = 1400)`,
/// `Packet too big: mtu=1280`).
pub fn describe_error_in_full(version: Version, kind: u8, code: u8, info: u32) -> Option<String> {
    let description = describe_error(version, kind, code)?;
    Some(match (version, reported_mtu(version, kind, code, info)) {
        (Version::V4, Some(mtu)) => format!("{description} (mtu = {mtu})"),
        (Version::V6, Some(mtu)) => format!("{description}: mtu={mtu}"),
        (_, None) => description.to_string(),
    })
}

/// An echo request. The checksum is filled in for ICMPv4; for ICMPv6 it
/// covers a pseudo-header with addresses only the kernel knows, so the
/// kernel fills it in (it always does for ICMPv6 sockets).
pub fn echo_request(version: Version, identifier: u16, sequence: u16, payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(ECHO_HEADER_LEN + payload.len());
    message.extend_from_slice(&[version.echo_request(), 0, 0, 0]);
    message.extend_from_slice(&identifier.to_be_bytes());
    message.extend_from_slice(&sequence.to_be_bytes());
    message.extend_from_slice(payload);
    if version == Version::V4 {
        let sum = internet_checksum(&message);
        message[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_request_reads_back_as_sent() {
        let request = echo_request(Version::V4, 0x1234, 7, b"payload");
        assert_eq!(internet_checksum(&request), 0);
        let Some(Message::EchoRequest(echo)) = parse(Version::V4, &request) else {
            panic!("not an echo request");
        };
        assert_eq!(
            (echo.identifier, echo.sequence, echo.payload),
            (0x1234, 7, &b"payload"[..])
        );

        let mut reply = request.clone();
        reply[0] = 0;
        assert!(
            matches!(parse(Version::V4, &reply), Some(Message::EchoReply(e)) if e.sequence == 7)
        );
        let v6 = echo_request(Version::V6, 1, 2, b"");
        assert_eq!(v6[0], 128);
    }

    #[test]
    fn an_unreachable_quoting_our_request_names_its_sequence() {
        let request = echo_request(Version::V4, 99, 3, b"abcdefgh");
        let mut quoted_ip = vec![
            0x45, 0, 0, 36, 0, 0, 0, 0, 1, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 9,
        ];
        quoted_ip.extend_from_slice(&request[..16]);
        let mut error = vec![3, 1, 0, 0, 0, 0, 0, 0];
        error.extend_from_slice(&quoted_ip);
        let Some(Message::Error {
            description,
            quoted,
        }) = parse(Version::V4, &error)
        else {
            panic!("not an error");
        };
        assert_eq!(description, "Destination Host Unreachable");
        let quoted = quoted.unwrap();
        assert_eq!((quoted.identifier, quoted.sequence), (99, 3));
    }

    #[test]
    fn errors_that_report_an_mtu_name_it_as_iputils() {
        let mut needed = vec![3, 4, 0, 0, 0, 0, 0x05, 0x78];
        needed.extend_from_slice(&[
            0x45, 0, 0, 20, 0, 0, 0, 0, 1, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 9,
        ]);
        let Some(Message::Error { description, .. }) = parse(Version::V4, &needed) else {
            panic!("not an error");
        };
        assert_eq!(description, "Frag needed and DF set (mtu = 1400)");
        let too_big = [2, 0, 0, 0, 0, 0, 0x05, 0x00];
        let Some(Message::Error { description, .. }) = parse(Version::V6, &too_big) else {
            panic!("not an error");
        };
        assert_eq!(description, "Packet too big: mtu=1280");
    }

    #[test]
    fn short_messages_are_refused() {
        assert_eq!(parse(Version::V4, &[0, 0, 0]), None);
        assert_eq!(parse(Version::V6, &[]), None);
    }

    proptest! {
        #[test]
        fn no_bytes_make_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = parse(Version::V4, &bytes);
            let _ = parse(Version::V6, &bytes);
        }
    }
}
