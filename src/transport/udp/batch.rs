//! Batched datagram I/O for the UDP echo server: `recvmmsg(2)` and
//! `sendmmsg(2)` through nix.
//!
//! A UDP echo server spends its time in system calls, two per datagram with
//! `recvfrom`/`sendto`. When several datagrams are queued, one `recvmmsg`
//! takes them all and one `sendmmsg` answers them all, each to its own
//! sender.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg};

/// Room for `capacity` datagrams of up to `size` bytes each, with their
/// source addresses; the headers are allocated once and reused.
///
/// Receiving and sending need headers of their own: nix's `sendmmsg` points
/// each header's address at the caller's, and `recvmmsg` does not point it
/// back at its own storage, so shared headers made the next receive write
/// the senders' addresses into the wrong place (echoes went to the wrong
/// peers in tests/it/udp.rs). Every datagram on one socket has the same
/// address length, so the lengths the kernel leaves behind fit the next one.
pub struct Batch {
    receiving: MultiHeaders<SockaddrStorage>,
    sending: MultiHeaders<SockaddrStorage>,
    buffers: Vec<Vec<u8>>,
    lens: Vec<usize>,
    sources: Vec<Option<SockaddrStorage>>,
}

impl Batch {
    pub fn new(capacity: usize, size: usize) -> Batch {
        Batch {
            receiving: MultiHeaders::preallocate(capacity, None),
            sending: MultiHeaders::preallocate(capacity, None),
            buffers: (0..capacity).map(|_| vec![0u8; size]).collect(),
            lens: vec![0; capacity],
            sources: vec![None; capacity],
        }
    }

    /// Waits for at least one datagram (or the socket's receive timeout),
    /// then takes every one already queued, up to the capacity. Returns how
    /// many arrived.
    pub fn receive(&mut self, socket: BorrowedFd<'_>) -> io::Result<usize> {
        let mut slices: Vec<[IoSliceMut<'_>; 1]> = self
            .buffers
            .iter_mut()
            .map(|buffer| [IoSliceMut::new(buffer)])
            .collect();
        let received = recvmmsg(
            socket.as_raw_fd(),
            &mut self.receiving,
            slices.iter_mut(),
            MsgFlags::MSG_WAITFORONE,
            None,
        )?;
        let mut count = 0;
        for (i, message) in received.enumerate() {
            self.lens[i] = message.bytes;
            self.sources[i] = message.address;
            count += 1;
        }
        Ok(count)
    }

    /// Datagram `i` of the last receive: its bytes and its source.
    pub fn datagram(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let source = self.sources[i].as_ref().and_then(to_socket_addr);
        (&self.buffers[i][..self.lens[i]], source)
    }

    /// Sends each of the first `count` received datagrams back to its own
    /// source, unchanged. Returns how many were sent.
    pub fn echo(&mut self, socket: BorrowedFd<'_>, count: usize) -> io::Result<usize> {
        let mut sent = 0;
        while sent < count {
            let slices: Vec<[IoSlice<'_>; 1]> = (sent..count)
                .map(|i| [IoSlice::new(&self.buffers[i][..self.lens[i]])])
                .collect();
            let result = sendmmsg(
                socket.as_raw_fd(),
                &mut self.sending,
                &slices,
                &self.sources[sent..count],
                [],
                MsgFlags::empty(),
            );
            match result {
                Ok(results) => sent += results.count(),
                Err(Errno::EINTR) => {}
                // The datagram at `sent` failed (say, its sender is gone):
                // skip it so the others are still answered.
                Err(e) if sent + 1 < count && e != Errno::EAGAIN => sent += 1,
                Err(e) => return if sent > 0 { Ok(sent) } else { Err(e.into()) },
            }
        }
        Ok(sent)
    }
}

fn to_socket_addr(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddrV4::from(*v4).into());
    }
    storage
        .as_sockaddr_in6()
        .map(|v6| SocketAddrV6::from(*v6).into())
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
        let mut batch = Batch::new(8, 2048);
        // Twice: the second round receives with headers a send has used.
        for round in 0..2u8 {
            for (i, client) in clients.iter().enumerate() {
                client
                    .send_to(&vec![b'a' + round + i as u8; 10 + i], addr)
                    .unwrap();
            }
            let mut got = 0;
            while got < 3 {
                let n = batch.receive(server.as_fd()).unwrap();
                for i in 0..n {
                    let (bytes, from) = batch.datagram(i);
                    let sender = clients
                        .iter()
                        .position(|c| Some(c.local_addr().unwrap()) == from)
                        .unwrap();
                    assert_eq!(bytes, vec![b'a' + round + sender as u8; 10 + sender]);
                }
                assert_eq!(batch.echo(server.as_fd(), n).unwrap(), n);
                got += n;
            }
            for (i, client) in clients.iter().enumerate() {
                let mut buf = [0u8; 64];
                let n = client.recv(&mut buf).unwrap();
                assert_eq!(&buf[..n], &vec![b'a' + round + i as u8; 10 + i][..]);
            }
        }
    }
}
