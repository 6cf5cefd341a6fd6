//! The wire: packets as bytes, one file per protocol.
//!
//! Each protocol module offers a view that reads fields straight out of a
//! byte slice, checking its length first, so a short or malformed packet is
//! a `None` and never a panic. The tools above (ping now, packet capture
//! later) decide what the fields mean for them.

pub mod checksum;
pub mod icmp;
pub mod ipv4;
