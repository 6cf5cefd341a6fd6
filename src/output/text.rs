//! Appending numbers and addresses to a line without `core::fmt`.
//!
//! `sniff -r` prints a line or more per packet, hundreds of thousands a
//! second; through `write!` the padding machinery of `core::fmt` was the
//! largest part of its time (perf: `fmt::write`, `pad_integral` and
//! `format_inner` together about 30%). These write the same text directly.

use std::net::{IpAddr, Ipv4Addr};

/// `n` in decimal.
pub fn push_number(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// `n` in decimal, right-aligned in `width` columns (`{:>width$}`).
pub fn push_right_aligned(out: &mut String, n: u64, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(n);
    for _ in digits.len()..width {
        out.push(' ');
    }
    out.push_str(digits);
}

/// `n` as exactly `width` digits, zero-padded (`{:0width$}`), `n` < 10^width.
pub fn push_zero_padded(out: &mut String, n: u32, width: u32) {
    let mut divisor = 10u32.pow(width.saturating_sub(1));
    while divisor > 0 {
        out.push(char::from(b'0' + (n / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// An octet's one to three digits, pushed one by one: cheaper than a
/// copy call for so few bytes.
fn push_octet(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

pub fn push_ipv4(out: &mut String, ip: Ipv4Addr) {
    let [a, b, c, d] = ip.octets();
    push_octet(out, a);
    out.push('.');
    push_octet(out, b);
    out.push('.');
    push_octet(out, c);
    out.push('.');
    push_octet(out, d);
}

/// An address as `Display` writes it (IPv6's compression is left to std).
pub fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// `ip:port`, or `[ip]:port` for IPv6: as `SocketAddr`'s `Display`.
pub fn push_endpoint(out: &mut String, ip: IpAddr, port: u16) {
    match ip {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(_) => {
            out.push('[');
            push_ip(out, ip);
            out.push(']');
        }
    }
    out.push(':');
    push_number(out, port);
}

/// Control characters escaped (`\n`, `\u{1b}`), so that text from the wire
/// cannot drive the terminal; the common case, nothing to escape, is a copy.
pub fn push_escaped(out: &mut String, text: &str) {
    if text.chars().any(char::is_control) || text.contains(['\\', '"', '\'']) {
        out.extend(text.chars().flat_map(char::escape_debug));
    } else {
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv6Addr, SocketAddr};

    #[test]
    fn the_same_text_as_display() {
        let mut out = String::new();
        for ip in [
            IpAddr::V4(Ipv4Addr::new(10, 0, 255, 7)),
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
        ] {
            out.clear();
            push_endpoint(&mut out, ip, 443);
            assert_eq!(out, SocketAddr::new(ip, 443).to_string());
        }
        for octet in [0u8, 7, 10, 99, 100, 255] {
            out.clear();
            push_octet(&mut out, octet);
            assert_eq!(out, octet.to_string());
        }
        out.clear();
        push_right_aligned(&mut out, 42, 5);
        push_zero_padded(&mut out, 4_213, 6);
        assert_eq!(out, "   42004213");
        out.clear();
        push_escaped(&mut out, "a\u{1b}[2Jb");
        assert_eq!(out, "a\\u{1b}[2Jb");
    }
}
