//! The library's one error type.
//!
//! Every variant renders as a single line that says what went wrong, on which
//! address, and what the user can do about it: the CLI prints it as is. Expected
//! outcomes of a session (the peer closed, the idle timer ran out) are values
//! returned by the tools, not errors.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::transport::endpoint::Endpoint;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asked for something impossible (exit code 2).
    #[error("{0}")]
    Usage(String),

    #[error("unknown host {host:?}: {detail}; check the spelling, /etc/hosts or the DNS server")]
    UnknownHost { host: String, detail: String },

    #[error("{host:?} has no {family} address; drop -{flag} or use a name that has one")]
    NoAddressInFamily {
        host: String,
        family: &'static str,
        flag: char,
    },

    #[error(
        "port {port} is already in use on {ip}: pick another port, or stop the program holding it (ss -ltnp 'sport = :{port}')",
        ip = .addr.ip(), port = .addr.port()
    )]
    AddressInUse { addr: SocketAddr },

    #[error(
        "{ip} is not an address of this host: listen on one of its own addresses (ip addr), on 0.0.0.0 or :: for all of them, or on 127.0.0.1",
        ip = .addr.ip()
    )]
    AddressNotAvailable { addr: SocketAddr },

    #[error(
        "permission denied listening on {addr}: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port of 1024 or more"
    )]
    BindPermission { addr: SocketAddr },

    #[error(
        "connection refused by {host} port {port} (tried {tried}): nothing is listening there; start the server or check the port"
    )]
    Refused {
        host: String,
        port: u16,
        tried: String,
    },

    #[error("connecting to {host} port {port} timed out after {}s (tried {tried}): the host may be down or a firewall drops the packets; check the address or raise -w", .timeout.as_secs_f64())]
    ConnectTimeout {
        host: String,
        port: u16,
        tried: String,
        timeout: Duration,
    },

    #[error("cannot connect to {host} port {port}: {detail}")]
    ConnectFailed {
        host: String,
        port: u16,
        detail: String,
    },

    #[error(
        "nothing is listening on UDP port {port} of {ip}: it answered ICMP port unreachable; start the server or check the port",
        ip = .addr.ip(), port = .addr.port()
    )]
    Unreachable { addr: SocketAddr },

    #[error(
        "connection with {peer} was reset by the peer: it aborted or crashed, so data in flight may be lost"
    )]
    Reset { peer: Endpoint },

    #[error(
        "{peer} closed the connection before reading everything we sent; the rest of the input was not delivered"
    )]
    PeerStoppedReading { peer: Endpoint },

    #[error(
        "cannot open an ICMP socket: unprivileged ICMP sockets are limited to the groups in net.ipv4.ping_group_range (now \"{group_range}\") and raw ones need root or CAP_NET_RAW; widen the range (sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"), run as root, or time TCP handshakes instead with --tcp PORT"
    )]
    IcmpPermission { group_range: String },

    #[error(
        "capturing needs root or CAP_NET_RAW (a packet socket sees every frame on the host); run it with sudo, or read a saved capture with -r FILE"
    )]
    CapturePermission,

    /// The TLS handshake failed or the certificate was not trusted; `reason`
    /// says why and what to do (see `transport::tls::verify::explain`).
    #[error("TLS with {peer}: {reason}")]
    Tls { peer: String, reason: String },

    /// A proxy did not open the tunnel; `reason` is its answer in the
    /// protocol's own words, with what to do.
    #[error("proxy {proxy}: {reason}")]
    Proxy { proxy: String, reason: String },

    /// A Unix socket could not be bound or reached; `reason` says why and
    /// what to do.
    #[error("{name}: {reason}")]
    Unix { name: String, reason: String },

    /// A TLS file (certificate, key, CA) could not be used.
    #[error("{path}: {reason}")]
    TlsFile { path: String, reason: String },

    /// A lookup found nothing (unknown service, no name for an address).
    #[error("{what}; {hint}")]
    NotFound { what: String, hint: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with what we were doing when it happened.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Usage errors exit with 2, everything else with 1, as netcat and clap do.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}
