//! C constants and sizes that the safe crates (nix, socket2, dns-lookup) do
//! not name, kept here so that `libc` appears nowhere else.

/// getaddrinfo(3) hints: stream sockets (one answer per address), the
/// canonical name asked for, `family` one of dns-lookup's (0: any).
pub fn canonical_name_hints(family: i32) -> dns_lookup::AddrInfoHints {
    dns_lookup::AddrInfoHints {
        flags: libc::AI_CANONNAME,
        address: family,
        socktype: dns_lookup::SockType::Stream.into(),
        protocol: 0,
    }
}

/// Room for the control messages an ICMP socket's receive can carry: the
/// TTL or hop limit, an error-queue entry with the offender's address, and
/// the kernel's receive time stamp.
pub fn icmp_control_buffer() -> Vec<u8> {
    nix::cmsg_space!(
        libc::c_int,
        libc::sock_extended_err,
        libc::sockaddr_in6,
        nix::sys::time::TimeSpec
    )
}

/// Room for what a socket's error queue brings: the extended error, the
/// offender's address (IPv6 at most) and the kernel's time stamp.
pub fn error_queue_control_buffer() -> Vec<u8> {
    nix::cmsg_space!(
        libc::sock_extended_err,
        libc::sockaddr_in6,
        nix::sys::time::TimeSpec
    )
}
