//! Batched datagram I/O: `recvmmsg(2)` and `sendmmsg(2)`.
//!
//! A UDP echo server spends its time in system calls, two per datagram with
//! `recvfrom`/`sendto`. When several datagrams are queued, one `recvmmsg`
//! takes them all and one `sendmmsg` answers them all, each to its own
//! sender. Neither call is wrapped by std, socket2 or rustix at the versions
//! we use, hence this small `unsafe` module.

#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};

/// Room for `capacity` datagrams of up to `size` bytes each, with their
/// source addresses. The message headers point into the buffers, so none of
/// the vectors is resized after construction.
pub struct Batch {
    buffers: Vec<Vec<u8>>,
    addrs: Vec<libc::sockaddr_storage>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
    size: usize,
}

// SAFETY: the raw pointers in `iovecs` and `headers` point only into the
// batch's own heap buffers, which move with it.
unsafe impl Send for Batch {}

impl Batch {
    pub fn new(capacity: usize, size: usize) -> Batch {
        let mut buffers: Vec<Vec<u8>> = (0..capacity).map(|_| vec![0u8; size]).collect();
        // SAFETY: sockaddr_storage is plain data for which all-zero is valid.
        let mut addrs: Vec<libc::sockaddr_storage> =
            (0..capacity).map(|_| unsafe { zeroed() }).collect();
        let mut iovecs: Vec<libc::iovec> = buffers
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: size,
            })
            .collect();
        let headers = (0..capacity)
            .map(|i| {
                // SAFETY: mmsghdr is plain data for which all-zero is valid.
                let mut header: libc::mmsghdr = unsafe { zeroed() };
                header.msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
                header.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as u32;
                header.msg_hdr.msg_iov = &mut iovecs[i];
                header.msg_hdr.msg_iovlen = 1;
                header
            })
            .collect();
        Batch {
            buffers,
            addrs,
            iovecs,
            headers,
            size,
        }
    }

    /// Waits for at least one datagram (or the socket's receive timeout),
    /// then takes every one already queued, up to the capacity. Returns how
    /// many arrived.
    pub fn receive(&mut self, socket: BorrowedFd<'_>) -> io::Result<usize> {
        for (header, iovec) in self.headers.iter_mut().zip(&mut self.iovecs) {
            iovec.iov_len = self.size;
            header.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as u32;
            header.msg_len = 0;
        }
        // SAFETY: every header points at a live buffer of `size` bytes and a
        // live sockaddr_storage, as set up in `new`; the count matches.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.as_mut_ptr(),
                self.headers.len() as u32,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Datagram `i` of the last receive: its bytes and its source.
    pub fn datagram(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let len = self.headers[i].msg_len as usize;
        (&self.buffers[i][..len], to_socket_addr(&self.addrs[i]))
    }

    /// Sends each of the first `count` received datagrams back to its own
    /// source, unchanged. Returns how many were sent.
    pub fn echo(&mut self, socket: BorrowedFd<'_>, count: usize) -> io::Result<usize> {
        for (header, iovec) in self.headers.iter_mut().zip(&mut self.iovecs).take(count) {
            iovec.iov_len = header.msg_len as usize;
        }
        let mut sent = 0;
        while sent < count {
            // SAFETY: headers[sent..count] point at live buffers whose
            // iov_len is the received length and at the source address
            // with its received length.
            let n = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    self.headers[sent..].as_mut_ptr(),
                    (count - sent) as u32,
                    0,
                )
            };
            if n < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // The datagram at `sent` failed (say, its sender is gone):
                // skip it so the others are still answered.
                if sent + 1 < count && err.raw_os_error() != Some(libc::EAGAIN) {
                    sent += 1;
                    continue;
                }
                return if sent > 0 { Ok(sent) } else { Err(err) };
            }
            sent += n as usize;
        }
        Ok(sent)
    }
}

fn to_socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let v4 =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some(SocketAddrV4::new(ip, u16::from_be(v4.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let v6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Some(
                SocketAddrV6::new(
                    ip,
                    u16::from_be(v6.sin6_port),
                    v6.sin6_flowinfo,
                    v6.sin6_scope_id,
                )
                .into(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn receives_a_queue_at_once_and_answers_each_sender() {
        // Every receive times out, so a lost datagram fails the test
        // instead of hanging it.
        let limit = Some(std::time::Duration::from_secs(5));
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        server.set_read_timeout(limit).unwrap();
        let addr = server.local_addr().unwrap();
        let clients: Vec<_> = (0..3)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        for client in &clients {
            client.set_read_timeout(limit).unwrap();
        }
        for (i, client) in clients.iter().enumerate() {
            client.send_to(&vec![b'a' + i as u8; 10 + i], addr).unwrap();
        }
        let mut batch = Batch::new(8, 2048);
        let mut got = 0;
        while got < 3 {
            let n = batch.receive(server.as_fd()).unwrap();
            for i in 0..n {
                let (bytes, from) = batch.datagram(i);
                let sender = clients
                    .iter()
                    .position(|c| Some(c.local_addr().unwrap()) == from)
                    .unwrap();
                assert_eq!(bytes, vec![b'a' + sender as u8; 10 + sender]);
            }
            assert_eq!(batch.echo(server.as_fd(), n).unwrap(), n);
            got += n;
        }
        for (i, client) in clients.iter().enumerate() {
            let mut buf = [0u8; 64];
            let n = client.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &vec![b'a' + i as u8; 10 + i][..]);
        }
    }
}
