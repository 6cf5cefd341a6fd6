//! The host and addressing layer: how a program names the other end.
//!
//! The course introduces a host by its IP address or domain name and a program
//! on it by its port. This module turns what a user typed into those: ports
//! checked against their range, names resolved by the system resolver.

mod port;
mod resolve;

pub use port::{PortUse, parse_port};
pub use resolve::{Family, format_addrs, listen_address, resolve};
