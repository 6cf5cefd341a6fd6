//! The kernel's own round-trip measurement of a TCP connection (TCP_INFO),
//! for `ping --tcp`: after the handshake, `tcpi_rtt` is the time from our
//! SYN leaving to the SYN-ACK arriving, taken by the kernel, without this
//! program's wake-up in it.

#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// The smoothed round trip the kernel keeps for the connection on `fd`;
/// right after the handshake, the handshake's own.
pub fn round_trip(socket: &impl AsRawFd) -> Option<Duration> {
    let fd: RawFd = socket.as_raw_fd();
    // SAFETY: tcp_info is plain data; the kernel writes at most `len` bytes.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    (rc == 0 && info.tcpi_rtt > 0).then(|| Duration::from_micros(u64::from(info.tcpi_rtt)))
}
