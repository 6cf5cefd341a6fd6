//! The Internet checksum (RFC 1071): the ones' complement of the ones'
//! complement sum of the data as 16-bit words in network byte order.

/// The checksum of `data`. A message whose checksum field is filled in sums
/// to zero, so `internet_checksum(whole) == 0` checks a received one.
pub fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The checksum of a message whose checksum was `checksum` while the bytes
/// `added` (an even number, at an even offset) were zero: RFC 1624's
/// incremental update, so that a time stamp written at the last moment
/// costs a few additions rather than a pass over the whole message.
pub fn with_added(checksum: u16, added: &[u8]) -> u16 {
    let mut sum = u32::from(!checksum);
    for word in added.chunks_exact(2) {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_1071_example() {
        // RFC 1071 section 3: the sum of these words is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn an_update_equals_a_recomputation() {
        let mut message = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, 0, 0, 0, 0, b'x', b'y'];
        let before = internet_checksum(&message);
        message[8..12].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(
            with_added(before, &[0xde, 0xad, 0xbe, 0xef]),
            internet_checksum(&message)
        );
    }

    #[test]
    fn filled_in_checksum_verifies_to_zero() {
        let mut message = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, b'a', b'b', b'c'];
        let sum = internet_checksum(&message);
        message[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(internet_checksum(&message), 0);
    }
}
