//! The UDP header (RFC 768): ports, length and checksum, nothing else; each
//! datagram stands alone.

pub const HEADER_LEN: usize = 8;

#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    bytes: &'a [u8],
}

impl<'a> UdpDatagram<'a> {
    pub fn new(bytes: &'a [u8]) -> Option<UdpDatagram<'a>> {
        (bytes.len() >= HEADER_LEN).then_some(UdpDatagram { bytes })
    }

    pub fn source_port(&self) -> u16 {
        u16::from_be_bytes([self.bytes[0], self.bytes[1]])
    }

    pub fn destination_port(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    /// Header plus data, as the header states it.
    pub fn length(&self) -> u16 {
        u16::from_be_bytes([self.bytes[4], self.bytes[5]])
    }

    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.bytes[6], self.bytes[7]])
    }

    /// The data, bounded by the stated length and by what was captured.
    pub fn payload(&self) -> &'a [u8] {
        let end = usize::from(self.length()).clamp(HEADER_LEN, self.bytes.len());
        &self.bytes[HEADER_LEN..end]
    }
}
