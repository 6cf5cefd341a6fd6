//! The transport layer: TCP connections and what flows over them.
//!
//! The course's server flow is socket → bind → listen ([`bind`]), then
//! accept → recv/send → close ([`server`]); the client resolves and connects
//! ([`connect`](mod@connect)). Between a connection and the terminal sits the [`relay`](mod@relay),
//! which moves both directions at once through the zero-copy [`pump`] and
//! closes in four steps. A server offers one of three services per client:
//! the relay (shared by many clients in keep-open mode, [`fanout`]), [`echo`]
//! and [`chat`].

pub mod bind;
pub mod chat;
pub mod connect;
pub mod echo;
pub mod events;
pub mod fanout;
pub mod pump;
pub mod relay;
pub mod server;
pub mod shutdown;
pub mod stdio;
pub mod udp;

pub use bind::{bind_datagram, bind_listener};
pub use connect::{ConnectOptions, connect};
pub use events::{Event, Events, Summary};
pub use relay::{Counters, RelayEnd, RelayOptions, SessionEnd, relay, relay_stdio};
pub use server::{Mode, ServeOptions, serve};
pub use shutdown::{Shutdown, Stop, Trigger};
