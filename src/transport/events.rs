//! What happens during a session, as values.
//!
//! The transport code reports each step of the server flow and the client flow
//! here instead of printing, so the library stays silent when embedded, the CLI
//! can narrate with `-v` (see `output::narrate`), and tests can assert on the
//! exact sequence.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::endpoint::Endpoint;

/// Bytes moved over one connection and how long it lasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Bytes read from the peer.
    pub received: u64,
    /// Bytes written to the peer.
    pub sent: u64,
    pub duration: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `socket()`: a stream or datagram socket of this family ("IPv4",
    /// "IPv6", "Unix") exists.
    SocketCreated {
        family: &'static str,
        datagram: bool,
    },
    /// `bind()` succeeded on the address asked for (port 0 still unresolved).
    Bound { requested: Endpoint },
    /// The socket is ready for clients; `local` carries the real port.
    /// `backlog` is `listen()`'s, absent for UDP, which has no `listen()`.
    Listening {
        local: Endpoint,
        backlog: Option<i32>,
    },
    /// `accept()` is waiting for the next client.
    AwaitingClient,
    /// `accept()` returned a client; `active` counts it.
    Accepted { peer: Endpoint, active: usize },
    /// A client over `--max-conns` was accepted and closed at once.
    RefusedOverCap { peer: Endpoint, cap: usize },
    /// `accept()` failed; the listener backs off and keeps going.
    AcceptFailed { reason: String, retry_in: Duration },
    /// The resolver answered for `host`.
    Resolved {
        host: String,
        addrs: Vec<SocketAddr>,
    },
    /// `connect()` to one of the resolved addresses started.
    Connecting { addr: SocketAddr },
    /// That address did not work; the next one is tried.
    AttemptFailed { addr: SocketAddr, reason: String },
    /// The three-way handshake completed.
    Connected { local: Endpoint, peer: Endpoint },
    /// A proxy connected onward: the connection now carries `target`'s bytes.
    Tunnel { proxy: String, target: String },
    /// Our proxy connected the client at `peer` to `target`.
    TunnelOpened { peer: Endpoint, target: String },
    /// Our input ended and we sent FIN: our half of the four-way close.
    InputFinished { peer: Endpoint },
    /// The peer's FIN arrived: it will send no more.
    PeerFinished { peer: Endpoint },
    /// Nothing moved either way for `after`, so the connection is closed.
    IdleTimeout { peer: Endpoint, after: Duration },
    /// The connection is closed.
    Closed { peer: Endpoint, summary: Summary },
    /// A chat client fell too far behind and was disconnected.
    SlowClientDropped { peer: Endpoint, queued: usize },
    /// A UDP datagram arrived.
    Datagram { from: Endpoint, len: usize },
    /// A datagram made of our stdin went to `to`.
    DatagramSent { to: Endpoint, len: usize },
    /// A UDP client is ready: datagrams go to `peer` from `local`.
    DatagramPeer { local: Endpoint, peer: Endpoint },
    /// Stdin has a datagram for "the last peer", but nobody has sent yet.
    AwaitingPeer,
    /// The TLS handshake completed: the presentation layer is up.
    TlsEstablished(Box<TlsDetails>),
    /// A client's session could not start (its TLS handshake failed); a
    /// keep-open server goes on serving the others. `reason` is the error's
    /// one line, which names the peer.
    ClientFailed { peer: Endpoint, reason: String },
    /// The program serving `peer` (`--exec`) ended, with this status.
    ProgramExited { peer: Endpoint, status: String },
    /// SIGINT or SIGTERM arrived; the server stops accepting.
    Stopping { signal: &'static str },
}

/// What a TLS handshake settled, for `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsDetails {
    pub peer: Endpoint,
    /// "TLSv1.3" or "TLSv1.2".
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// The name the client asked for (SNI), if any.
    pub server_name: Option<String>,
    /// The other side's certificate, leaf first, when it sent one.
    pub chain: Vec<crate::transport::tls::CertificateInfo>,
    /// How the other side's certificate was judged.
    pub verdict: String,
    pub elapsed: Duration,
}

/// Where events go: a cheap, cloneable callback shared by every task.
#[derive(Clone)]
pub struct Events(Arc<dyn Fn(&Event) + Send + Sync>);

impl Events {
    pub fn new(sink: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        Events(Arc::new(sink))
    }

    /// Discards everything, for callers that want no narration.
    pub fn none() -> Self {
        Events::new(|_| {})
    }

    pub fn emit(&self, event: Event) {
        (self.0)(&event)
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}
