//! The TCP header (RFC 9293): ports, sequence and acknowledgment numbers,
//! the flags that drive the handshake and the close, and the window.

use std::fmt;

pub const MIN_HEADER_LEN: usize = 20;

/// The control bits, in header order from the least significant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u16);

impl Flags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    const NAMES: [(u16, &'static str); 8] = [
        (Self::SYN, "SYN"),
        (Self::FIN, "FIN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
    ];

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }

    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, name)| *name)
            .collect()
    }
}

/// tcpdump's letters: S F R P . (ACK) U E W, so `[S.]` is a SYN-ACK.
impl Flags {
    /// tcpdump's letters (`S.` for SYN-ACK), appended to `out`.
    pub fn push_letters(self, out: &mut String) {
        for (bit, letter) in [
            (Self::SYN, 'S'),
            (Self::FIN, 'F'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
            (Self::ACK, '.'),
        ] {
            if self.has(bit) {
                out.push(letter);
            }
        }
        if self.0 & 0x0ff == 0 {
            out.push_str("none");
        }
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut letters = String::new();
        self.push_letters(&mut letters);
        f.write_str(&letters)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    bytes: &'a [u8],
    header_len: usize,
}

impl<'a> TcpSegment<'a> {
    /// The view, or `None` when the bytes cannot hold the header its data
    /// offset announces.
    pub fn new(bytes: &'a [u8]) -> Option<TcpSegment<'a>> {
        let header_len = usize::from(*bytes.get(12)? >> 4) * 4;
        (header_len >= MIN_HEADER_LEN && bytes.len() >= header_len)
            .then_some(TcpSegment { bytes, header_len })
    }

    pub fn source_port(&self) -> u16 {
        u16::from_be_bytes([self.bytes[0], self.bytes[1]])
    }

    pub fn destination_port(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    pub fn sequence(&self) -> u32 {
        u32::from_be_bytes([self.bytes[4], self.bytes[5], self.bytes[6], self.bytes[7]])
    }

    pub fn acknowledgment(&self) -> u32 {
        u32::from_be_bytes([self.bytes[8], self.bytes[9], self.bytes[10], self.bytes[11]])
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }

    pub fn flags(&self) -> Flags {
        Flags(u16::from_be_bytes([self.bytes[12], self.bytes[13]]) & 0x01ff)
    }

    pub fn window(&self) -> u16 {
        u16::from_be_bytes([self.bytes[14], self.bytes[15]])
    }

    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.bytes[16], self.bytes[17]])
    }

    pub fn urgent_pointer(&self) -> u16 {
        u16::from_be_bytes([self.bytes[18], self.bytes[19]])
    }

    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.header_len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_syn_ack() {
        let mut header = vec![
            0x1f, 0x90, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x12, 0xff, 0xff,
        ];
        header.extend([0, 0, 0, 0, b'x']);
        let segment = TcpSegment::new(&header).unwrap();
        assert_eq!(
            (segment.source_port(), segment.destination_port()),
            (8080, 50000)
        );
        assert_eq!((segment.sequence(), segment.acknowledgment()), (1, 2));
        assert_eq!(segment.flags().to_string(), "S.");
        assert_eq!(segment.flags().names(), ["SYN", "ACK"]);
        assert_eq!((segment.window(), segment.payload()), (65535, &b"x"[..]));
        header[12] = 0x40; // data offset 4: shorter than any header
        assert!(TcpSegment::new(&header).is_none());
    }

    proptest! {
        #[test]
        fn no_bytes_make_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Some(s) = TcpSegment::new(&bytes) {
                let _ = (s.flags().to_string(), s.payload(), s.urgent_pointer(), s.checksum());
            }
        }
    }
}
