//! Scan targets: which hosts a command line names.
//!
//! The course calls `192.168.1.0` a network segment; people scan segments,
//! not just hosts. A target list is what nmap users type: a host name, an
//! address, a CIDR block (`10.0.0.0/24`), a range (`10.0.0.1-20`, or
//! `10.0.0.1-10.0.0.20` in full, either family) or a comma list of those.
//! The result is a set: sorted numerically (IPv4 before IPv6) and without
//! repeats, so a report never depends on the order the user wrote.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::resolve::{Family, resolve};
use crate::error::{Error, Result};

/// The most addresses one target list may expand to: a /16. A larger block
/// is almost always a typo (a /8 for a /24), and its slot table would be huge.
pub const MAX_TARGETS: u128 = 1 << 16;

/// Expands `text` into the addresses it names, resolving host names through
/// the system resolver (first address of `family`).
pub fn expand_targets(text: &str, family: Family) -> Result<Vec<IpAddr>> {
    let usage = |detail: String| {
        Error::Usage(format!(
            "invalid target list {text:?}: {detail}; write targets as host, 10.0.0.7, \
             10.0.0.0/24, 10.0.0.1-20 or a comma list of those"
        ))
    };
    let mut addresses = Vec::new();
    let mut total: u128 = 0;
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(usage("an empty item".into()));
        }
        let (first, last) = if let Some((address, prefix)) = item.split_once('/') {
            cidr_bounds(address, prefix).map_err(usage)?
        } else if let Some(bounds) = range_bounds(item).map_err(usage)? {
            bounds
        } else if let Ok(address) = item.parse::<IpAddr>() {
            (address, address)
        } else {
            let address = resolve(item, 0, family)?[0].ip();
            (address, address)
        };
        total += span(first, last);
        if total > MAX_TARGETS {
            return Err(usage(format!(
                "more than {MAX_TARGETS} addresses (a /16); scan a larger network in parts"
            )));
        }
        let (first, last) = (to_bits(first), to_bits(last));
        addresses.extend((first..=last).map(|bits| from_bits(bits, item)));
    }
    if let Some(address) = addresses
        .iter()
        .find(|a| !family.admits(&std::net::SocketAddr::new(**a, 0)))
    {
        return Err(usage(format!("{address} is not of the family asked for")));
    }
    addresses.sort_unstable();
    addresses.dedup();
    Ok(addresses)
}

/// A CIDR block's first and last address; every address in it is a target,
/// network and broadcast addresses included, as nmap scans them.
fn cidr_bounds(address: &str, prefix: &str) -> std::result::Result<(IpAddr, IpAddr), String> {
    let base: IpAddr = address
        .parse()
        .map_err(|_| format!("{address:?} is not an IP address (a CIDR block needs one)"))?;
    let max = if base.is_ipv4() { 32 } else { 128 };
    let length: u8 = prefix
        .parse()
        .ok()
        .filter(|&length| length <= max)
        .ok_or_else(|| format!("/{prefix} is not a prefix length from 0 to {max}"))?;
    let net = IpNet::new(base, length).map_err(|e| e.to_string())?;
    Ok((net.network(), net.broadcast()))
}

/// `A-B` where B is a full address or, for IPv4, the last octet; `None`
/// when `item` is not a range at all (a host name may contain `-`).
fn range_bounds(item: &str) -> std::result::Result<Option<(IpAddr, IpAddr)>, String> {
    let Some((first, last)) = item.split_once('-') else {
        return Ok(None);
    };
    let Ok(first) = first.parse::<IpAddr>() else {
        return Ok(None);
    };
    let last = match (first, last.parse::<IpAddr>(), last.parse::<u8>()) {
        (_, Ok(last), _) if last.is_ipv4() == first.is_ipv4() => last,
        (IpAddr::V4(first), _, Ok(octet)) => {
            let [a, b, c, _] = first.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, octet))
        }
        _ => {
            return Err(format!(
                "{item:?}: a range ends with an address of the same family or, for IPv4, \
                 a last octet from 0 to 255"
            ));
        }
    };
    if last < first {
        return Err(format!(
            "the range {item} is reversed; write {last}-{first}"
        ));
    }
    Ok(Some((first, last)))
}

fn span(first: IpAddr, last: IpAddr) -> u128 {
    to_bits(last) - to_bits(first) + 1
}

/// An address as a number, so a block or range is walked by counting; each
/// item is walked within its own family (`from_bits` takes it back).
fn to_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(v4.to_bits()),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

fn from_bits(bits: u128, item: &str) -> IpAddr {
    // Only the item's own family is ever walked; an IPv4 item's bits fit in 32.
    match u32::try_from(bits) {
        Ok(v4) if !item.contains(':') => IpAddr::V4(Ipv4Addr::from_bits(v4)),
        _ => IpAddr::V6(std::net::Ipv6Addr::from_bits(bits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str) -> Result<Vec<IpAddr>> {
        expand_targets(text, Family::Any)
    }

    fn strings(text: &str) -> Vec<String> {
        expand(text)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn blocks_ranges_and_lists_become_a_sorted_set() {
        assert_eq!(expand("10.0.0.0/24").unwrap().len(), 256);
        assert_eq!(strings("10.0.0.1-3"), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        assert_eq!(
            strings("10.0.0.254-10.0.1.1"),
            ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]
        );
        assert_eq!(
            strings("10.0.0.9,::1,10.0.0.10,10.0.0.2,10.0.0.8/31"),
            ["10.0.0.2", "10.0.0.8", "10.0.0.9", "10.0.0.10", "::1"]
        );
        assert_eq!(strings("fd00::fe-fd00::101").len(), 4);
        assert_eq!(strings("fd00::/126").len(), 4);
        assert_eq!(strings("localhost"), ["127.0.0.1"].map(String::from));
    }

    #[test]
    fn malformed_lists_are_usage_errors() {
        for (text, named) in [
            ("10.0.0.0/33", "/33"),
            ("10.0.0.0/x", "/x"),
            ("10.0.0.20-1", "reversed"),
            ("10.0.0.9-10.0.0.1", "reversed"),
            ("10.0.0.1-300", "last octet"),
            ("10.0.0.1-::5", "same family"),
            ("", "empty"),
            ("10.0.0.1,,10.0.0.2", "empty"),
            ("10.0.0.0/8", "/16"),
            ("fd00::/64", "/16"),
            ("host/24", "not an IP address"),
        ] {
            match expand(text) {
                Err(Error::Usage(message)) => assert!(message.contains(named), "{message}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
