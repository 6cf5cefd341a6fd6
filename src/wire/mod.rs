//! The wire: packets as bytes, one file per protocol.
//!
//! Each protocol module offers a view that reads fields straight out of a
//! byte slice, checking its length first, so a short or malformed packet is
//! a `None` and never a panic (smoltcp's split between wire views and
//! representations). [`packet`] peels a whole frame with them, layer by
//! layer; [`conversation`] follows TCP connections through their handshake
//! and close; [`link`] reads the headers capture files begin frames with; [`pcap`]
//! reads and writes capture files (pcap and pcapng); [`bpf`] compiles a
//! filter into the kernel's program. Nothing here touches a socket (live
//! capture is `crate::capture`): bytes in, values out, and no `unsafe`.

#![forbid(unsafe_code)]

pub mod application;
pub mod arp;
pub mod bpf;
pub mod checksum;
pub mod conversation;
pub mod ethernet;
pub mod filter;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod link;
pub mod numbers;
pub mod packet;
pub mod pcap;
pub mod tcp;
pub mod udp;
