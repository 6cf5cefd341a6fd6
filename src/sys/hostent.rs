//! `gethostbyaddr_r(3)`: the reverse lookup that also returns aliases and
//! every address of the name, which `getnameinfo` does not. It is what
//! Python's `socket.gethostbyaddr` calls.

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the hosts database says about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub name: String,
    pub aliases: Vec<String>,
    pub addresses: Vec<IpAddr>,
}

/// Why a reverse lookup gave nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReverseFailure {
    /// No name is registered for the address (HOST_NOT_FOUND, NO_DATA).
    NotFound,
    /// The resolver could not answer now (TRY_AGAIN).
    TryAgain,
    /// Any other resolver failure (NO_RECOVERY).
    Failed,
}

unsafe extern "C" {
    // Declared here because the libc crate does not expose it for glibc.
    fn gethostbyaddr_r(
        addr: *const libc::c_void,
        len: libc::socklen_t,
        family: libc::c_int,
        ret: *mut libc::hostent,
        buf: *mut libc::c_char,
        buflen: libc::size_t,
        result: *mut *mut libc::hostent,
        h_errnop: *mut libc::c_int,
    ) -> libc::c_int;
}

const HOST_NOT_FOUND: libc::c_int = 1;
const TRY_AGAIN: libc::c_int = 2;
const NO_DATA: libc::c_int = 4;

pub fn host_by_addr(address: IpAddr) -> Result<HostEntry, ReverseFailure> {
    let (bytes, family): (Vec<u8>, libc::c_int) = match address {
        IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
        IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
    };
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: hostent is plain data; all-zero is a valid value to be
        // overwritten by the call.
        let mut entry: libc::hostent = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::hostent = std::ptr::null_mut();
        let mut h_errno: libc::c_int = 0;
        // SAFETY: every pointer refers to live, correctly sized memory owned
        // by this frame; `bytes` holds an address of `family`'s length.
        let rc = unsafe {
            gethostbyaddr_r(
                bytes.as_ptr().cast(),
                bytes.len() as libc::socklen_t,
                family,
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
                &mut h_errno,
            )
        };
        if rc == libc::ERANGE && size < (1 << 20) {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            return Err(match h_errno {
                HOST_NOT_FOUND | NO_DATA => ReverseFailure::NotFound,
                TRY_AGAIN => ReverseFailure::TryAgain,
                _ if rc == 0 => ReverseFailure::NotFound,
                _ => ReverseFailure::Failed,
            });
        }
        // SAFETY: on success `entry` points into `buf`, which is alive, and
        // its strings and lists are NUL-terminated as gethostbyaddr_r(3) says.
        return Ok(unsafe { read_entry(&entry) });
    }
}

/// # Safety
/// `entry` must be a hostent filled by a successful resolver call whose
/// buffer is still alive.
unsafe fn read_entry(entry: &libc::hostent) -> HostEntry {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let name = CStr::from_ptr(entry.h_name).to_string_lossy().into_owned();
        let mut aliases = Vec::new();
        let mut alias = entry.h_aliases;
        while !alias.is_null() && !(*alias).is_null() {
            aliases.push(CStr::from_ptr(*alias).to_string_lossy().into_owned());
            alias = alias.add(1);
        }
        let mut addresses = Vec::new();
        let mut item = entry.h_addr_list;
        while !item.is_null() && !(*item).is_null() {
            let p = (*item).cast::<u8>();
            addresses.push(if entry.h_addrtype == libc::AF_INET6 {
                let mut octets = [0u8; 16];
                std::ptr::copy_nonoverlapping(p, octets.as_mut_ptr(), 16);
                IpAddr::V6(Ipv6Addr::from(octets))
            } else {
                let mut octets = [0u8; 4];
                std::ptr::copy_nonoverlapping(p, octets.as_mut_ptr(), 4);
                IpAddr::V4(Ipv4Addr::from(octets))
            });
            item = item.add(1);
        }
        HostEntry {
            name,
            aliases,
            addresses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_a_name() {
        let entry = host_by_addr("127.0.0.1".parse().unwrap()).unwrap();
        assert!(!entry.name.is_empty());
        assert!(entry.addresses.contains(&"127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn documentation_addresses_have_none() {
        // 192.0.2.0/24 is never registered; /etc/hosts does not name it.
        assert!(host_by_addr("192.0.2.123".parse().unwrap()).is_err());
    }
}
