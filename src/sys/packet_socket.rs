//! Linux packet sockets (AF_PACKET), the two calls no safe crate wraps:
//! binding to an interface for every protocol, and the kernel's counts.
//! The capture itself is `crate::capture`.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// Binds a packet socket to interface `ifindex` (0: every interface) for
/// frames of every protocol (ETH_P_ALL). Neither socket2 nor nix builds a
/// `sockaddr_ll` from its parts, hence this.
pub fn bind_every_protocol(socket: &impl AsRawFd, ifindex: u32) -> io::Result<()> {
    // SAFETY: an all-zero sockaddr_ll is valid; the fields that matter are set.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    address.sll_ifindex = ifindex as i32;
    // SAFETY: the pointer and length describe `address`, alive for the call.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const address).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if bound != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Frames the kernel passed the filter, and frames it dropped for lack of
/// buffer space, since the last call (PACKET_STATISTICS resets them).
pub fn statistics(socket: &OwnedFd) -> io::Result<(u32, u32)> {
    let mut stats = libc::tpacket_stats {
        tp_packets: 0,
        tp_drops: 0,
    };
    let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: the pointer and length describe `stats`, alive for the call.
    let got = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&raw mut stats).cast(),
            &mut len,
        )
    };
    if got != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((stats.tp_packets, stats.tp_drops))
}
