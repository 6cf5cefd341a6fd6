//! The host and addressing layer: how a program names the other end.
//!
//! The course introduces a host by its name, IP address or domain name and a
//! program on it by its port. This module answers those questions exactly as
//! the system (and Python's `socket` module) does: the host name, names to
//! addresses and back through the system resolver, ports through the
//! services database, this host's interfaces, and what an address or subnet
//! is, byte order included.

mod hostname;
mod interfaces;
mod ip;
mod port;
mod resolve;
mod reverse;
mod route;
mod services;
mod targets;

pub use hostname::{HostName, host_name};
pub use interfaces::{Interface, InterfaceAddress, interfaces, is_broadcast};
pub use ip::{IpReport, analyse, kinds};
pub use port::{PortUse, parse_port, parse_port_list};
pub use resolve::{Family, Resolution, format_addrs, listen_address, lookup, resolve};
pub use reverse::{ReverseEntry, reverse};
pub use route::{Route, route_to};
pub use services::{PortNames, Service, Services};
pub use targets::{MAX_TARGETS, expand_targets};
