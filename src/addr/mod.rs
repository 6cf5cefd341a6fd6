//! The host and addressing layer: how a program names the other end.
//!
//! The course introduces a host by its IP address or domain name and a program
//! on it by its port. This module turns what a user typed into those: ports
//! checked against their range, names resolved by the system resolver.

mod port;
mod resolve;

pub use port::{parse_port, PortUse};
pub use resolve::{format_addrs, listen_address, resolve, Family};
