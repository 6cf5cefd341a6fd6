//! sockit: a socket toolkit that turns a network-programming course into tools.
//!
//! The library is the product; the `sockit` binary is one thin user of it. Every
//! tool can be driven from Rust code with an already-bound socket, a shutdown
//! signal and an event sink, which is how the integration tests and the CLI use it.
//!
//! # Layout
//!
//! The modules follow the layers of the course notes, bottom to top:
//!
//! - [`addr`]: the host and addressing layer. Ports and address families, the
//!   host name, names to addresses and back through the system resolver (so
//!   `/etc/hosts` and nsswitch apply), the services database, interfaces, and
//!   IP/subnet analysis with byte order.
//! - [`transport`]: the transport layer. The TCP server flow (socket, bind,
//!   listen, accept, recv/send, close), the client that tries each address in
//!   turn, the stdin/stdout relay with a correct half-close, and the server
//!   modes built on it: keep-open fan-out, echo and chat; and UDP, datagram
//!   by datagram (`transport::udp`).
//! - [`tools`]: the tools built on the lower layers: `ping` (ICMP echo or a
//!   timed TCP handshake), `scan` (a concurrent TCP connect scan) and `sniff`
//!   (capture, decode, narrate, save).
//! - [`wire`]: packets as bytes, one module per protocol read through
//!   length-checked views; whole frames peeled layer by layer; the TCP
//!   narrator; the shorthand capture filter (also compiled to BPF); link
//!   headers; pcap and pcapng files. Pure bytes, no sockets and no `unsafe`.
//! - [`capture`]: live capture, the socket side of `sniff`: a packet socket
//!   with the filter attached in the kernel; tcpdump's filter expressions,
//!   compiled by libpcap.
//! - [`output`]: how values become text: the `-v` narration of the server
//!   flow, the progress display, and the lookup commands' text and JSON
//!   printers. The rest of the library never prints.
//! - [`sys`]: the operating-system corner, the only `unsafe` code and the
//!   only user of `libc`: the open-file limit, `gethostbyaddr_r`, binding a
//!   packet socket and its counts, libpcap loaded at run time, C constants
//!   no safe crate names.
//! - [`error`]: one error enum whose messages name the problem and the fix.
//! - [`shutdown`]: the one stop signal (SIGINT, SIGTERM, a closed output)
//!   that every loop of every tool obeys.
//!

#![deny(unsafe_code)]

pub mod addr;
pub mod capture;
pub mod error;
pub mod output;
pub mod shutdown;
pub mod sys;
pub mod tools;
pub mod transport;
pub mod wire;

pub use error::{Error, Result};
