//! The IPv4 header (RFC 791): what a raw socket hands over in front of the
//! ICMP message, and what an ICMP error quotes from the packet that failed.

use std::net::Ipv4Addr;

/// A checked view of an IPv4 header and what follows it.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<'a> {
    bytes: &'a [u8],
    header_len: usize,
}

impl<'a> Ipv4Packet<'a> {
    /// The view, or `None` when the bytes are not an IPv4 header (wrong
    /// version, header length under 20 bytes or past the end).
    pub fn new(bytes: &'a [u8]) -> Option<Ipv4Packet<'a>> {
        let first = *bytes.first()?;
        let header_len = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || header_len < 20 || bytes.len() < header_len {
            return None;
        }
        Some(Ipv4Packet { bytes, header_len })
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Type of service: DSCP (6 bits) and ECN (2 bits).
    pub fn tos(&self) -> u8 {
        self.bytes[1]
    }

    pub fn total_len(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    pub fn identification(&self) -> u16 {
        u16::from_be_bytes([self.bytes[4], self.bytes[5]])
    }

    pub fn dont_fragment(&self) -> bool {
        self.bytes[6] & 0x40 != 0
    }

    pub fn more_fragments(&self) -> bool {
        self.bytes[6] & 0x20 != 0
    }

    /// Where this fragment's data sits in the original, in bytes.
    pub fn fragment_offset(&self) -> u16 {
        (u16::from_be_bytes([self.bytes[6], self.bytes[7]]) & 0x1fff) * 8
    }

    pub fn header_checksum(&self) -> u16 {
        u16::from_be_bytes([self.bytes[10], self.bytes[11]])
    }

    pub fn ttl(&self) -> u8 {
        self.bytes[8]
    }

    pub fn protocol(&self) -> u8 {
        self.bytes[9]
    }

    pub fn source(&self) -> Ipv4Addr {
        Ipv4Addr::new(
            self.bytes[12],
            self.bytes[13],
            self.bytes[14],
            self.bytes[15],
        )
    }

    pub fn destination(&self) -> Ipv4Addr {
        Ipv4Addr::new(
            self.bytes[16],
            self.bytes[17],
            self.bytes[18],
            self.bytes[19],
        )
    }

    /// What the header carries (as far as the bytes go: an ICMP error
    /// quotes only the first 8 bytes of it).
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.header_len..]
    }

    /// The payload up to the total length the header states, without the
    /// padding a short frame carries after it (Ethernet's 60-byte minimum).
    pub fn payload_within_total_len(&self) -> &'a [u8] {
        let end = usize::from(self.total_len()).clamp(self.header_len, self.bytes.len());
        &self.bytes[self.header_len..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_fields_of_a_header() {
        let header = [
            0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0xaa,
        ];
        let packet = Ipv4Packet::new(&header).unwrap();
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.ttl(), 64);
        assert_eq!(packet.protocol(), 1);
        assert_eq!(packet.source(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(packet.destination(), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(packet.payload(), &[0xaa]);
    }

    #[test]
    fn refuses_what_is_not_an_ipv4_header() {
        assert!(Ipv4Packet::new(&[]).is_none());
        assert!(Ipv4Packet::new(&[0x60; 40]).is_none()); // IPv6
        assert!(Ipv4Packet::new(&[0x44; 40]).is_none()); // IHL 4: 16 bytes
        assert!(Ipv4Packet::new(&[0x46; 20]).is_none()); // IHL 6 needs 24
    }

    proptest! {
        #[test]
        fn no_bytes_make_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Some(p) = Ipv4Packet::new(&bytes) {
                let _ = (p.ttl(), p.protocol(), p.source(), p.destination(), p.payload());
            }
        }
    }
}
