//! This host's network interfaces, as `ip addr` (or `ifconfig`) shows them:
//! name, index, administrative state, MTU, MAC and every address with its
//! prefix length (and broadcast for IPv4).
//!
//! `getifaddrs(3)` lists one entry per address plus one link-layer entry per
//! interface (which carries the MAC), so entries are grouped by name. The
//! MTU is not in that list; it comes from sysfs.

use std::collections::BTreeMap;
use std::net::IpAddr;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::{InterfaceFlags, if_nametoindex};
use nix::sys::socket::SockaddrStorage;
use serde::Serialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    /// The administrative flag (IFF_UP): `ip link set NAME up`.
    pub up: bool,
    /// The link is operational (IFF_RUNNING): carrier present.
    #[serde(skip)]
    pub running: bool,
    /// The loopback interface (IFF_LOOPBACK).
    #[serde(skip)]
    pub loopback: bool,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub addresses: Vec<InterfaceAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceAddress {
    pub address: String,
    pub prefix_len: u8,
    pub broadcast: Option<String>,
}

/// Every interface, in index order.
pub fn interfaces() -> Result<Vec<Interface>> {
    let entries = getifaddrs().map_err(|e| Error::io("listing interfaces", e.into()))?;
    let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
    for entry in entries {
        let name = entry.interface_name.clone();
        let interface = by_name.entry(name.clone()).or_insert_with(|| Interface {
            index: if_nametoindex(name.as_str()).unwrap_or(0),
            up: entry.flags.contains(InterfaceFlags::IFF_UP),
            running: entry.flags.contains(InterfaceFlags::IFF_RUNNING),
            loopback: entry.flags.contains(InterfaceFlags::IFF_LOOPBACK),
            mtu: std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
                .ok()
                .and_then(|m| m.trim().parse().ok()),
            name,
            mac: None,
            addresses: Vec::new(),
        });
        let Some(address) = entry.address.as_ref() else {
            continue;
        };
        if let Some(link) = address.as_link_addr() {
            // Loopback's all-zero hardware address is shown, as `ip` does.
            interface.mac = link.addr().map(|m| {
                m.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            });
        } else if let Some(ip) = ip_of(address) {
            interface.addresses.push(InterfaceAddress {
                address: ip.to_string(),
                prefix_len: entry.netmask.as_ref().and_then(ip_of).map_or(0, prefix_of),
                broadcast: entry
                    .broadcast
                    .as_ref()
                    .and_then(ip_of)
                    .filter(|_| ip.is_ipv4())
                    .map(|b| b.to_string()),
            });
        }
    }
    let mut list: Vec<Interface> = by_name.into_values().collect();
    list.sort_by_key(|i| i.index);
    Ok(list)
}

fn ip_of(address: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

fn prefix_of(netmask: IpAddr) -> u8 {
    match netmask {
        IpAddr::V4(m) => u32::from(m).count_ones() as u8,
        IpAddr::V6(m) => u128::from(m).count_ones() as u8,
    }
}

/// 255.255.255.255, or the broadcast address of one of this host's subnets:
/// what ping refuses without -b.
pub fn is_broadcast(address: std::net::IpAddr) -> bool {
    let std::net::IpAddr::V4(v4) = address else {
        return false;
    };
    let text = v4.to_string();
    v4.is_broadcast()
        || interfaces().is_ok_and(|interfaces| {
            interfaces.iter().any(|i| {
                i.addresses
                    .iter()
                    .any(|a| a.broadcast.as_deref() == Some(text.as_str()))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_its_addresses() {
        let list = interfaces().unwrap();
        let lo = list.iter().find(|i| i.name == "lo").expect("lo");
        assert_eq!(lo.index, 1);
        assert!(
            lo.addresses
                .iter()
                .any(|a| a.address == "127.0.0.1" && a.prefix_len == 8)
        );
    }
}
