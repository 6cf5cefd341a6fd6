//! ARP (RFC 826): how a host on Ethernet learns the MAC address behind an
//! IPv4 address before it can send the first frame.

use std::net::Ipv4Addr;

use super::ethernet::MacAddr;

const HEADER_LEN: usize = 8;

/// A checked view of an ARP packet for Ethernet and IPv4 (the only pairing
/// in use); others still give their operation.
#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<'a> {
    bytes: &'a [u8],
}

impl<'a> ArpPacket<'a> {
    pub fn new(bytes: &'a [u8]) -> Option<ArpPacket<'a>> {
        (bytes.len() >= HEADER_LEN).then_some(ArpPacket { bytes })
    }

    /// 1 request, 2 reply.
    pub fn operation(&self) -> u16 {
        u16::from_be_bytes([self.bytes[6], self.bytes[7]])
    }

    /// Sender and target (MAC, IPv4) pairs, when the packet is Ethernet/IPv4
    /// and long enough to hold them.
    pub fn addresses(&self) -> Option<[(MacAddr, Ipv4Addr); 2]> {
        let (hlen, plen) = (self.bytes[4], self.bytes[5]);
        if hlen != 6 || plen != 4 || self.bytes.len() < HEADER_LEN + 20 {
            return None;
        }
        let b = &self.bytes[HEADER_LEN..];
        let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        Some([
            (MacAddr::from_slice(&b[0..6])?, ip(6)),
            (MacAddr::from_slice(&b[10..16])?, ip(16)),
        ])
    }
}
