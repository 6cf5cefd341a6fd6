//! The transport layer: connections and what flows over them.
//!
//! The course's server flow is socket → bind → listen ([`bind`]), then
//! accept → recv/send → close ([`server`]); the client resolves and connects
//! ([`connect`](mod@connect)), directly or through proxies ([`proxy`]). A
//! connection is any duplex byte [`stream`]: TCP or a Unix socket
//! ([`unix`]), as a [`Connection`] accepted from a [`listener`], or TLS over
//! either; who is at each end is an [`endpoint`]. Its life, from the first byte to the summary, is a
//! [`session`]: the relay between the stream and our local side ([`io`]:
//! stdin and stdout, or whatever an embedder passes), which moves both
//! directions at once, zero-copy through [`pump`] when it can, and closes in
//! four steps. A server offers one of three services per client: the relay
//! (shared by many clients in keep-open mode, [`fanout`]), [`echo`] and
//! [`chat`]; every one of them over a metered stream, so the idle limit and
//! the byte counts are the same for all ([`activity`]); `--exec` serves a
//! program ([`exec`]). A proxy joins two sockets in a [`tunnel`]. UDP and
//! Unix datagrams, datagram by datagram, are [`udp`].

pub mod activity;
pub mod bind;
pub mod chat;
pub mod connect;
pub mod copy;
pub mod echo;
pub mod endpoint;
pub mod events;
pub mod exec;
pub mod fanout;
pub mod halves;
pub mod io;
pub mod listener;
pub mod proxy;
pub mod pump;
mod relay;
pub mod server;
pub mod session;
pub mod stream;
pub mod threaded;
pub mod tls;
pub mod tunnel;
pub mod udp;
pub mod unix;

pub use bind::{bind_datagram, bind_listener};
pub use connect::{ConnectOptions, Target, connect, connect_to};
pub use endpoint::Endpoint;
pub use events::{Event, Events, Summary};
pub use io::{Input, Output};
pub use listener::Listener;
pub use server::{Mode, ServeOptions, serve};
pub use session::{
    Counters, RelayEnd, SessionEnd, SessionOptions, connect_and_relay, relay as relay_session,
};
pub use stream::{Connection, Stream};
