//! Which packets the user asked to see: `--proto`, `--host`, `--port`, all
//! of them together. The same filter runs twice: compiled to BPF for the
//! kernel ([`super::bpf`]), so a busy interface is not copied to user space
//! whole, and here on each decoded packet, for files read with `-r` and as
//! the final word on what the kernel let through.

use std::net::IpAddr;

use super::numbers;
use super::packet::{Packet, Transport};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(name: &str) -> Result<Protocol, String> {
        match name {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "icmp" => Ok(Protocol::Icmp),
            _ => Err(format!("{name:?} is not one of tcp, udp, icmp")),
        }
    }
}

impl Protocol {
    pub fn number(self) -> u32 {
        match self {
            Protocol::Tcp => u32::from(numbers::PROTO_TCP),
            Protocol::Udp => u32::from(numbers::PROTO_UDP),
            Protocol::Icmp => u32::from(numbers::PROTO_ICMP),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub protocol: Option<Protocol>,
    /// The packet's source or destination is one of these.
    pub hosts: Vec<IpAddr>,
    /// The packet's TCP or UDP source or destination port.
    pub port: Option<u16>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.protocol.is_none() && self.hosts.is_empty() && self.port.is_none()
    }

    pub fn matches(&self, packet: &Packet<'_>) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some((src, dst)) = packet.addresses() else {
            return false;
        };
        if !self.hosts.is_empty() && !self.hosts.iter().any(|h| *h == src || *h == dst) {
            return false;
        }
        if let Some(protocol) = self.protocol {
            let matches = matches!(
                (protocol, &packet.transport),
                (Protocol::Tcp, Some(Transport::Tcp { .. }))
                    | (Protocol::Udp, Some(Transport::Udp { .. }))
                    | (Protocol::Icmp, Some(Transport::Icmp { .. }))
            );
            if !matches {
                return false;
            }
        }
        match self.port {
            Some(port) => packet.ports().is_some_and(|(s, d)| s == port || d == port),
            None => true,
        }
    }
}
