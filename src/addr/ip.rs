//! IP address and subnet analysis: what kind of address it is, and for a
//! prefix, the network, netmask, broadcast, usable hosts and the
//! conventional gateway, with the address in network byte order.
//!
//! The kinds follow the IANA IPv4 and IPv6 Special-Purpose Address
//! Registries. The subnet rules follow RFC 3021 (an IPv4 /31 is a
//! point-to-point link with two usable addresses and no broadcast), RFC 6164
//! (the same for an IPv6 /127), and RFC 4291 (IPv6 has no broadcast; its
//! first address is the subnet-router anycast address, not a host).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::error::{Error, Result};

/// One analysed address or prefix, ready for the human and JSON printers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpReport {
    pub address: String,
    pub version: u8,
    pub prefix_len: u8,
    pub network: String,
    pub netmask: String,
    /// IPv4 prefixes up to /30 only.
    pub broadcast: Option<String>,
    pub first_host: Option<String>,
    pub last_host: Option<String>,
    /// The first host, by convention, where a subnet has room for one.
    pub gateway: Option<String>,
    /// Usable host addresses (u128: an IPv6 /0 has 2^128 - 1).
    pub host_count: u128,
    /// The address's bytes in network byte order (big-endian), as hex.
    pub bytes_hex: String,
    /// The address as one unsigned integer.
    pub integer: u128,
    /// The same bytes read as a native integer on this machine, as hex: what
    /// a program sees if it forgets `ntohl`.
    pub host_order_hex: String,
    /// This machine's byte order: "little-endian" or "big-endian".
    pub host_byte_order: &'static str,
    /// IANA special-purpose kinds; "global" when none applies.
    pub flags: Vec<&'static str>,
}

/// Parses `ADDR` or `ADDR/PREFIX` and analyses it.
pub fn analyse(text: &str) -> Result<IpReport> {
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let address: IpAddr = addr_text.trim().parse().map_err(|_| {
        Error::Usage(format!(
            "{text:?} is not an IP address: write it as 192.168.1.10, 2001:db8::1, or with a prefix, 192.168.1.0/24"
        ))
    })?;
    let bits: u8 = if address.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix_text {
        None => bits,
        Some(p) => match p.trim().parse::<u8>() {
            Ok(n) if n <= bits && !p.trim().starts_with('+') => n,
            _ => {
                return Err(Error::Usage(format!(
                    "{text:?} has an invalid prefix length: use /0 to /{bits} for IPv{}",
                    if bits == 32 { 4 } else { 6 }
                )));
            }
        },
    };
    Ok(report(address, prefix_len))
}

fn report(address: IpAddr, prefix_len: u8) -> IpReport {
    let bits = if address.is_ipv4() { 32u32 } else { 128 };
    let value = to_u128(address);
    let host_bits = bits - u32::from(prefix_len);
    let mask: u128 = if host_bits == 128 {
        0
    } else {
        (u128::MAX << host_bits) & width_mask(bits)
    };
    let network = value & mask;
    let last = network | (!mask & width_mask(bits));
    let v4 = address.is_ipv4();
    // Which addresses of the block are usable hosts.
    let (first_host, last_host, host_count) = match (v4, host_bits) {
        (_, 0) => (network, network, 1),
        (true, 1) | (false, 1) => (network, last, 2),
        (true, _) => (network + 1, last - 1, (1u128 << host_bits) - 2),
        (false, 128) => (network + 1, last, u128::MAX),
        (false, _) => (network + 1, last, (1u128 << host_bits) - 1),
    };
    let has_room_for_gateway = host_bits >= 2;
    let show = |v: u128| from_u128(v, v4).to_string();
    let bytes = match address {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    IpReport {
        address: address.to_string(),
        version: if v4 { 4 } else { 6 },
        prefix_len,
        network: show(network),
        netmask: show(mask),
        broadcast: (v4 && host_bits >= 2).then(|| show(last)),
        first_host: Some(show(first_host)),
        last_host: Some(show(last_host)),
        gateway: has_room_for_gateway.then(|| show(first_host)),
        host_count,
        bytes_hex: hex(&bytes),
        integer: value,
        host_order_hex: host_order_hex(&bytes),
        host_byte_order: if cfg!(target_endian = "little") {
            "little-endian"
        } else {
            "big-endian"
        },
        flags: kinds(address),
    }
}

fn width_mask(bits: u32) -> u128 {
    if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn to_u128(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(value as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(value))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes as a native integer would hold them, shown most significant
/// first: on a little-endian machine, 192.168.1.10 reads as 0x0a01a8c0.
fn host_order_hex(bytes: &[u8]) -> String {
    let native: Vec<u8> = if cfg!(target_endian = "little") {
        bytes.iter().rev().copied().collect()
    } else {
        bytes.to_vec()
    };
    hex(&native)
}

/// IANA special-purpose blocks: (network, prefix, kind).
const V4_BLOCKS: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "reserved"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "shared"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "reserved"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "reserved"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "reserved"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
    ([255, 255, 255, 255], 32, "broadcast"),
];

const V6_BLOCKS: &[(u128, u8, &str)] = &[
    (0x0000_0000_0000_0000_0000_ffff_0000_0000, 96, "reserved"), // IPv4-mapped
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48, "reserved"), // local-use NAT64
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64, "reserved"), // discard-only
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23, "reserved"), // IETF protocol assignments
    (
        0x2001_0db8_0000_0000_0000_0000_0000_0000,
        32,
        "documentation",
    ),
    (
        0x3fff_0000_0000_0000_0000_0000_0000_0000,
        20,
        "documentation",
    ),
    (0x5f00_0000_0000_0000_0000_0000_0000_0000, 16, "reserved"), // SRv6 SIDs
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, "private"),   // unique local
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, "link-local"),
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, "multicast"),
];

/// The kinds of one address, most specific registry entries included.
pub fn kinds(address: IpAddr) -> Vec<&'static str> {
    let mut flags: Vec<&'static str> = Vec::new();
    let mut add = |kind: &'static str| {
        if !flags.contains(&kind) {
            flags.push(kind);
        }
    };
    match address {
        IpAddr::V4(a) => {
            let value = u32::from(a);
            if value == 0 {
                add("unspecified");
            }
            for (net, prefix, kind) in V4_BLOCKS {
                let mask = if *prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                };
                if value & mask == u32::from_be_bytes(*net) {
                    add(kind);
                }
            }
        }
        IpAddr::V6(a) => {
            let value = u128::from(a);
            match value {
                0 => add("unspecified"),
                1 => add("loopback"),
                _ => {}
            }
            for (net, prefix, kind) in V6_BLOCKS {
                let mask = u128::MAX << (128 - u32::from(*prefix));
                if value & mask == *net {
                    add(kind);
                }
            }
        }
    }
    if flags.is_empty() {
        flags.push("global");
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_home_network() {
        let r = analyse("192.168.1.10/24").unwrap();
        assert_eq!(r.network, "192.168.1.0");
        assert_eq!(r.netmask, "255.255.255.0");
        assert_eq!(r.broadcast.as_deref(), Some("192.168.1.255"));
        assert_eq!(r.first_host.as_deref(), Some("192.168.1.1"));
        assert_eq!(r.last_host.as_deref(), Some("192.168.1.254"));
        assert_eq!(r.gateway.as_deref(), Some("192.168.1.1"));
        assert_eq!(r.host_count, 254);
        assert_eq!(r.bytes_hex, "c0a8010a");
        assert_eq!(r.integer, 3_232_235_786);
        assert_eq!(r.flags, vec!["private"]);
        if cfg!(target_endian = "little") {
            assert_eq!(r.host_order_hex, "0a01a8c0");
        }
    }

    #[test]
    fn point_to_point_and_single_addresses() {
        let r = analyse("10.0.0.1/31").unwrap();
        assert_eq!((r.host_count, r.broadcast, r.gateway), (2, None, None));
        assert_eq!(r.first_host.as_deref(), Some("10.0.0.0"));
        assert_eq!(r.last_host.as_deref(), Some("10.0.0.1"));
        let r = analyse("10.0.0.1").unwrap();
        assert_eq!((r.prefix_len, r.host_count), (32, 1));
        let r = analyse("2001:db8::1/127").unwrap();
        assert_eq!(r.first_host.as_deref(), Some("2001:db8::"));
        assert_eq!((r.host_count, r.broadcast), (2, None));
        let r = analyse("2001:db8::/64").unwrap();
        assert_eq!(r.first_host.as_deref(), Some("2001:db8::1"));
        assert_eq!(
            r.last_host.as_deref(),
            Some("2001:db8::ffff:ffff:ffff:ffff")
        );
        assert_eq!(r.host_count, (1u128 << 64) - 1);
        assert_eq!(analyse("::/0").unwrap().host_count, u128::MAX);
        assert_eq!(analyse("0.0.0.0/0").unwrap().host_count, (1u128 << 32) - 2);
    }

    #[test]
    fn kinds_follow_the_registries() {
        for (addr, want) in [
            ("127.0.0.1", vec!["loopback"]),
            ("0.0.0.0", vec!["unspecified", "reserved"]),
            ("100.64.1.1", vec!["shared"]),
            ("169.254.0.5", vec!["link-local"]),
            ("203.0.113.7", vec!["documentation"]),
            ("239.1.2.3", vec!["multicast"]),
            ("255.255.255.255", vec!["reserved", "broadcast"]),
            ("8.8.8.8", vec!["global"]),
            ("::", vec!["unspecified"]),
            ("::1", vec!["loopback"]),
            ("fd12::1", vec!["private"]),
            ("fe80::1", vec!["link-local"]),
            ("ff02::1", vec!["multicast"]),
            ("2001:db8::1", vec!["documentation"]),
            ("2001:2::1", vec!["reserved"]),
            ("::ffff:10.0.0.1", vec!["reserved"]),
            ("2606:4700::1111", vec!["global"]),
        ] {
            assert_eq!(kinds(addr.parse().unwrap()), want, "{addr}");
        }
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4/33",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/x",
            "1.2.3.4/+8",
            "x/24",
        ] {
            assert_eq!(analyse(bad).unwrap_err().exit_code(), 2, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = analyse(&s);
        }

        #[test]
        fn every_prefix_of_every_address_is_consistent(a in any::<u32>(), p in 0u8..=32) {
            let r = analyse(&format!("{}/{p}", Ipv4Addr::from(a))).unwrap();
            let first: Ipv4Addr = r.first_host.unwrap().parse().unwrap();
            let last: Ipv4Addr = r.last_host.unwrap().parse().unwrap();
            prop_assert!(first <= last);
            prop_assert_eq!(u128::from(u32::from(last) - u32::from(first)) + 1, r.host_count);
        }
    }
}
