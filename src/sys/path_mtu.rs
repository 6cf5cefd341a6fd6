//! Path MTU discovery per socket (IP_MTU_DISCOVER / IPV6_MTU_DISCOVER), for
//! `ping -M`: whether the kernel sets Don't Fragment and refuses to send
//! what exceeds the path's MTU, or fragments. Neither nix nor socket2 wraps
//! these options.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::AsRawFd;

/// iputils' `-M` hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMtuDiscovery {
    /// Never fragment: DF set, a send larger than the path MTU fails.
    Do,
    /// Fragment as needed, DF never set.
    Dont,
    /// Discover the path MTU, fragmenting locally what exceeds it.
    Want,
    /// DF set, the path MTU ignored (probe a size as it is).
    Probe,
}

impl PathMtuDiscovery {
    fn value(self) -> libc::c_int {
        // The IPv4 and IPv6 constants have the same values.
        match self {
            PathMtuDiscovery::Do => libc::IP_PMTUDISC_DO,
            PathMtuDiscovery::Dont => libc::IP_PMTUDISC_DONT,
            PathMtuDiscovery::Want => libc::IP_PMTUDISC_WANT,
            PathMtuDiscovery::Probe => libc::IP_PMTUDISC_PROBE,
        }
    }
}

/// Sets the socket's path MTU discovery; `ipv6` picks the option's level.
pub fn set(socket: &impl AsRawFd, ipv6: bool, mode: PathMtuDiscovery) -> io::Result<()> {
    let (level, name) = if ipv6 {
        (libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER)
    } else {
        (libc::IPPROTO_IP, libc::IP_MTU_DISCOVER)
    };
    let value = mode.value();
    // SAFETY: the option takes an int; `value` lives across the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
