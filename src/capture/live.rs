//! Live capture: frames taken off one interface or all of them through a
//! packet socket, with the user's filter running in the kernel.
//!
//! Every frame is handed over with an Ethernet header, the link type that
//! Ethernet interfaces and Linux loopback already use; a frame from an
//! interface without one (a tunnel) gets a header with zero addresses and
//! the frame's protocol, so one capture file can hold them all. Loopback
//! frames are seen twice by a socket bound to every interface, once leaving
//! and once arriving: only the arrival is kept, as `tcpdump -i any` does.

use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::sys::socket::{ControlMessageOwned, LinkAddr, MsgFlags, recvmsg, setsockopt, sockopt};
use socket2::{Domain, SockFilter, Socket, Type};

use crate::error::{Error, Result};
use crate::wire::bpf::Instruction;
use crate::wire::pcap::RecordHeader;

/// How often a blocked receive returns so the caller can check for a stop.
const POLL: Duration = Duration::from_millis(100);
/// How much the kernel may queue for us before it drops frames.
const RECEIVE_BUFFER: usize = 8 << 20;
/// Larger than any frame, GSO super-frames on loopback included (64 KiB+).
const BUFFER: usize = 256 * 1024;
const PACKET_OUTGOING: u8 = 4;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
const ETHERNET_HEADER: usize = 14;

pub struct LiveCapture {
    socket: OwnedFd,
    names: HashMap<u32, String>,
    buffer: Vec<u8>,
    /// Where the current frame starts in `buffer` (a synthetic Ethernet
    /// header is written in front of a frame without one).
    start: usize,
    end: usize,
    /// Receives wait up to [`POLL`] for a frame; once stopping, they take
    /// only what is already queued.
    waiting: bool,
}

/// What the kernel did with the frames on the socket's interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelCounts {
    /// Frames the BPF filter accepted (loopback's outgoing copies included).
    pub passed: u32,
    pub dropped: u32,
}

/// One captured frame's metadata; its bytes are [`LiveCapture::frame`].
#[derive(Debug, Clone, Copy)]
pub struct Captured {
    pub header: RecordHeader,
    pub ifindex: u32,
}

impl LiveCapture {
    /// Starts capturing on `interface` (every interface when `None`), with
    /// `program` deciding in the kernel which frames are worth copying.
    pub fn open(interface: Option<&str>, program: &[Instruction]) -> Result<LiveCapture> {
        let names: HashMap<u32, String> = nix::net::if_::if_nameindex()
            .map(|list| {
                list.iter()
                    .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let ifindex = match interface {
            None | Some("any") => 0,
            Some(name) => *names
                .iter()
                .find(|(_, n)| n.as_str() == name)
                .map(|(i, _)| i)
                .ok_or_else(|| Error::NotFound {
                    what: format!("no interface named {name:?} on this host"),
                    hint: "see `sockit ifaces` for the names, or leave out -i to capture on all"
                        .into(),
                })?,
        };
        let socket = open_socket(ifindex, program).map_err(|e| match e.kind() {
            io::ErrorKind::PermissionDenied => Error::CapturePermission,
            _ => Error::io("opening a packet socket", e),
        })?;
        let _ = setsockopt(&socket, sockopt::ReceiveTimestampns, &true);
        Ok(LiveCapture {
            socket,
            names,
            buffer: vec![0; ETHERNET_HEADER + BUFFER],
            start: 0,
            end: 0,
            waiting: true,
        })
    }

    /// From now on, [`next_frame`](Self::next_frame) returns only frames
    /// already queued, and `None` once there are none: the capture is ending.
    pub fn stop_waiting(&mut self) {
        self.waiting = false;
    }

    /// Waits for the next frame for up to 100 ms; `None` when none came.
    pub fn next_frame(&mut self) -> io::Result<Option<Captured>> {
        loop {
            let (header, address) = match self.receive() {
                Ok(Some(received)) => received,
                Ok(None) => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let hatype = address.hatype();
            if hatype == ARPHRD_LOOPBACK && address.pkttype() == PACKET_OUTGOING {
                continue;
            }
            // A frame from an interface without a link header gets one.
            let synthetic = hatype != ARPHRD_ETHER && hatype != ARPHRD_LOOPBACK;
            let added = if synthetic { ETHERNET_HEADER } else { 0 };
            self.start = ETHERNET_HEADER - added;
            if synthetic {
                let protocol = u16::from_be(address.protocol());
                self.buffer[..12].fill(0);
                self.buffer[12..14].copy_from_slice(&protocol.to_be_bytes());
            }
            return Ok(Some(Captured {
                header: RecordHeader {
                    captured_len: (self.end - self.start) as u32,
                    original_len: header.original_len + added as u32,
                    time: header.time,
                },
                ifindex: address.ifindex() as u32,
            }));
        }
    }

    fn receive(&mut self) -> io::Result<Option<(RecordHeader, LinkAddr)>> {
        let mut control = nix::cmsg_space!(nix::sys::time::TimeSpec);
        let mut iov = [IoSliceMut::new(&mut self.buffer[ETHERNET_HEADER..])];
        let message = match recvmsg::<LinkAddr>(
            self.socket.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            if self.waiting {
                MsgFlags::MSG_TRUNC
            } else {
                MsgFlags::MSG_TRUNC | MsgFlags::MSG_DONTWAIT
            },
        ) {
            Ok(message) => message,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // With MSG_TRUNC the length is the frame's, even when longer than the buffer.
        let original_len = message.bytes;
        let mut header = RecordHeader::now(0, original_len as u32);
        for cmsg in message.cmsgs()? {
            if let ControlMessageOwned::ScmTimestampns(stamp) = cmsg {
                header.time = Duration::new(stamp.tv_sec() as u64, stamp.tv_nsec() as u32);
            }
        }
        let address = message
            .address
            .ok_or_else(|| io::Error::other("a frame without a link-layer address"))?;
        self.end = ETHERNET_HEADER + original_len.min(BUFFER);
        Ok(Some((header, address)))
    }

    /// The bytes of the frame [`next_frame`](Self::next_frame) returned.
    pub fn frame(&self) -> &[u8] {
        &self.buffer[self.start..self.end]
    }

    pub fn interface_name(&self, ifindex: u32) -> &str {
        self.names.get(&ifindex).map_or("?", String::as_str)
    }

    /// Frames the kernel's filter passed to this socket, and those of them
    /// it dropped because we did not read fast enough, since the last call.
    pub fn kernel_counts(&self) -> Option<KernelCounts> {
        crate::sys::packet_socket::statistics(&self.socket)
            .ok()
            .map(|(passed, dropped)| KernelCounts { passed, dropped })
    }
}

/// A packet socket on interface `ifindex` (0: every interface) with
/// `program` as its filter. The socket is opened for no protocol, given its
/// filter, and only then bound to every protocol (libpcap's order): frames
/// arriving between `socket` and the filter would otherwise be queued
/// unfiltered. Receives time out after [`POLL`], so the loop can check for a stop.
fn open_socket(ifindex: u32, program: &[Instruction]) -> io::Result<OwnedFd> {
    let socket = Socket::new(Domain::PACKET, Type::RAW, None)?;
    let program: Vec<SockFilter> = program
        .iter()
        .map(|i| SockFilter::new(i.code, i.jt, i.jf, i.k))
        .collect();
    socket.attach_filter(&program)?;
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    socket.set_read_timeout(Some(POLL))?;
    crate::sys::packet_socket::bind_every_protocol(&socket, ifindex)?;
    Ok(socket.into())
}
