//! Ethernet II frames (IEEE 802.3), with one 802.1Q VLAN tag skipped: the
//! link layer of every Ethernet-like interface, loopback included (whose
//! frames carry all-zero addresses).

use std::fmt;

use serde::{Serialize, Serializer};

pub const HEADER_LEN: usize = 14;
use super::numbers::ETHERTYPE_VLAN as VLAN_TAG;

pub use super::numbers::{ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6};

/// A MAC address, printed as six colon-separated hex bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl MacAddr {
    pub fn from_slice(bytes: &[u8]) -> Option<MacAddr> {
        Some(MacAddr(bytes.get(..6)?.try_into().ok()?))
    }
}

/// A checked view of an Ethernet frame.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<'a> {
    bytes: &'a [u8],
    /// Where the ethertype that names the payload sits (12, or 16 after a VLAN tag).
    type_at: usize,
}

impl<'a> EthernetFrame<'a> {
    pub fn new(bytes: &'a [u8]) -> Option<EthernetFrame<'a>> {
        if bytes.len() < HEADER_LEN {
            return None;
        }
        let tagged = u16::from_be_bytes([bytes[12], bytes[13]]) == VLAN_TAG;
        let type_at = if tagged { 16 } else { 12 };
        if bytes.len() < type_at + 2 {
            return None;
        }
        Some(EthernetFrame { bytes, type_at })
    }

    pub fn destination(&self) -> MacAddr {
        MacAddr::from_slice(&self.bytes[0..6]).unwrap_or_default()
    }

    pub fn source(&self) -> MacAddr {
        MacAddr::from_slice(&self.bytes[6..12]).unwrap_or_default()
    }

    /// The VLAN identifier of an 802.1Q tag, when there is one.
    pub fn vlan(&self) -> Option<u16> {
        (self.type_at == 16).then(|| u16::from_be_bytes([self.bytes[14], self.bytes[15]]) & 0x0fff)
    }

    pub fn ethertype(&self) -> u16 {
        u16::from_be_bytes([self.bytes[self.type_at], self.bytes[self.type_at + 1]])
    }

    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.type_at + 2..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_tagged_frames() {
        let mut frame = vec![0xff; 6];
        frame.extend([2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45]);
        let view = EthernetFrame::new(&frame).unwrap();
        assert_eq!(view.source().to_string(), "02:00:00:00:00:01");
        assert_eq!(view.ethertype(), ETHERTYPE_IPV4);
        assert_eq!((view.vlan(), view.payload()), (None, &[0x45][..]));

        let mut tagged = frame[..12].to_vec();
        tagged.extend([0x81, 0x00, 0x00, 0x2a, 0x86, 0xdd]);
        let view = EthernetFrame::new(&tagged).unwrap();
        assert_eq!((view.vlan(), view.ethertype()), (Some(42), ETHERTYPE_IPV6));
        assert!(EthernetFrame::new(&tagged[..15]).is_none());
    }
}
