//! Linux packet sockets (AF_PACKET): every frame an interface sends or
//! receives, link header included, with a BPF program deciding in the kernel
//! which ones are copied to us.
//!
//! The socket is opened for no protocol, given its filter, and only then
//! bound to ETH_P_ALL (libpcap's order): frames arriving between `socket`
//! and the filter would otherwise be queued unfiltered.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use crate::wire::bpf::Instruction;

/// How much the kernel may queue for us before it drops frames.
const RECEIVE_BUFFER: usize = 8 << 20;

/// Opens a packet socket on interface `ifindex` (0: every interface) with
/// `program` as its filter and `timeout` on each receive, so the caller can
/// check for a stop.
pub fn open(ifindex: u32, program: &[Instruction], timeout: Duration) -> io::Result<OwnedFd> {
    let socket = Socket::new(Domain::PACKET, Type::RAW, None)?;
    attach_filter(&socket, program)?;
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    socket.set_read_timeout(Some(timeout))?;
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
    Ok(socket.into())
}

fn attach_filter(socket: &Socket, program: &[Instruction]) -> io::Result<()> {
    let mut filters: Vec<libc::sock_filter> = program
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let fprog = libc::sock_fprog {
        len: filters.len() as u16,
        filter: filters.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `filters`, both alive for the call; the
    // kernel copies and validates the program.
    let set = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&raw const fprog).cast(),
            size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if set != 0 {
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
