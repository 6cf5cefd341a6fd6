//! The IPv6 header (RFC 8200) and its extension-header chain, walked to the
//! upper-layer protocol.

use std::net::Ipv6Addr;

pub const HEADER_LEN: usize = 40;

/// Next-header values that are extension headers, with the generic
/// "next header, length in 8-octet units beyond the first" layout (the
/// fragment header's length field is reserved, and it is always 8 bytes).
use super::numbers::{
    PROTO_DESTINATION_OPTIONS as DESTINATION_OPTIONS, PROTO_FRAGMENT as FRAGMENT,
    PROTO_HOP_BY_HOP as HOP_BY_HOP, PROTO_ROUTING as ROUTING,
};

#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<'a> {
    bytes: &'a [u8],
}

impl<'a> Ipv6Packet<'a> {
    pub fn new(bytes: &'a [u8]) -> Option<Ipv6Packet<'a>> {
        (bytes.len() >= HEADER_LEN && bytes[0] >> 4 == 6).then_some(Ipv6Packet { bytes })
    }

    pub fn traffic_class(&self) -> u8 {
        (self.bytes[0] << 4) | (self.bytes[1] >> 4)
    }

    pub fn flow_label(&self) -> u32 {
        u32::from_be_bytes([0, self.bytes[1] & 0x0f, self.bytes[2], self.bytes[3]])
    }

    pub fn payload_len(&self) -> u16 {
        u16::from_be_bytes([self.bytes[4], self.bytes[5]])
    }

    pub fn next_header(&self) -> u8 {
        self.bytes[6]
    }

    pub fn hop_limit(&self) -> u8 {
        self.bytes[7]
    }

    pub fn source(&self) -> Ipv6Addr {
        Ipv6Addr::from(<[u8; 16]>::try_from(&self.bytes[8..24]).unwrap_or_default())
    }

    pub fn destination(&self) -> Ipv6Addr {
        Ipv6Addr::from(<[u8; 16]>::try_from(&self.bytes[24..40]).unwrap_or_default())
    }

    /// The upper-layer protocol and its bytes, after any extension headers
    /// (as far as the capture goes); `None` when the chain runs past the end.
    /// A non-first fragment has no upper-layer header: its protocol is
    /// reported as the fragment header's (44).
    pub fn upper_layer(&self) -> Option<(u8, &'a [u8])> {
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(self.bytes.len());
        let mut next = self.next_header();
        let mut at = HEADER_LEN;
        loop {
            match next {
                HOP_BY_HOP | ROUTING | DESTINATION_OPTIONS => {
                    let header = self.bytes.get(at..at + 2)?;
                    next = header[0];
                    at += (usize::from(header[1]) + 1) * 8;
                }
                FRAGMENT => {
                    let header = self.bytes.get(at..at + 8)?;
                    let offset = u16::from_be_bytes([header[2], header[3]]) >> 3;
                    if offset != 0 {
                        return Some((FRAGMENT, self.bytes.get(at + 8..end)?));
                    }
                    next = header[0];
                    at += 8;
                }
                protocol => return Some((protocol, self.bytes.get(at..end.max(at))?)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend((payload.len() as u16).to_be_bytes());
        p.extend([next, 64]);
        p.extend(Ipv6Addr::LOCALHOST.octets());
        p.extend(Ipv6Addr::LOCALHOST.octets());
        p.extend(payload);
        p
    }

    #[test]
    fn walks_extension_headers_to_the_transport() {
        let plain = header(6, &[1, 2, 3]);
        let view = Ipv6Packet::new(&plain).unwrap();
        assert_eq!(view.upper_layer(), Some((6, &[1, 2, 3][..])));
        assert_eq!(view.source(), Ipv6Addr::LOCALHOST);
        // Hop-by-hop options (8 bytes), then UDP.
        let mut ext = vec![17, 0, 0, 0, 0, 0, 0, 0];
        ext.extend([9, 9]);
        let with_ext = header(0, &ext);
        let view = Ipv6Packet::new(&with_ext).unwrap();
        assert_eq!(view.upper_layer(), Some((17, &[9, 9][..])));
    }

    proptest! {
        #[test]
        fn no_bytes_make_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let mut bytes = bytes;
            if let Some(b) = bytes.first_mut() { *b = 0x60 | (*b & 0x0f); }
            if let Some(p) = Ipv6Packet::new(&bytes) {
                let _ = (p.upper_layer(), p.flow_label(), p.traffic_class(), p.source());
            }
        }
    }
}
