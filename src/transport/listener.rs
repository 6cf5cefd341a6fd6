//! What `accept()` takes clients from: a listening TCP or Unix stream socket.
//!
//! The server flow after `listen` is the same for both (see `server`); only
//! accepting differs: a TCP client is an address and port, a Unix client is
//! a process the kernel names by PID and UID. A Unix listener also owns its
//! socket file, so the file goes when the listener does: after the one
//! client of a one-shot server arrives, or when a keep-open server stops.

use std::io;

use tokio::net::{TcpListener, UnixListener};

use super::endpoint::{Endpoint, UnixName};
use super::stream::Connection;
use super::unix::{BoundUnix, SocketFile, peer_of};
use crate::error::{Error, Result};

/// A listening stream socket, ready to accept.
pub enum Listener {
    Tcp(TcpListener),
    Unix {
        listener: UnixListener,
        name: UnixName,
        /// Removes the socket file when the listener is dropped.
        _file: Option<SocketFile>,
    },
}

impl Listener {
    /// Registers a listening TCP socket (from `bind_listener`) with Tokio.
    pub fn tcp(listener: std::net::TcpListener) -> Result<Listener> {
        TcpListener::from_std(listener)
            .map(Listener::Tcp)
            .map_err(|e| Error::io("registering the listener", e))
    }

    /// Registers a listening Unix socket (from `unix::bind_stream_listener`).
    pub fn unix(bound: BoundUnix, name: UnixName) -> Result<Listener> {
        let listener = std::os::unix::net::UnixListener::from(bound.socket);
        let listener = UnixListener::from_std(listener)
            .map_err(|e| Error::io("registering the listener", e))?;
        Ok(Listener::Unix {
            listener,
            name,
            _file: bound.file,
        })
    }

    /// The next client and who it is.
    pub async fn accept(&self) -> io::Result<(Connection, Endpoint)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                Ok((Connection::Tcp(stream), Endpoint::Ip(peer)))
            }
            Listener::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                let peer = peer_of(&stream, UnixName::Unnamed);
                Ok((Connection::Unix(stream), peer))
            }
        }
    }

    /// Our end of a client's connection: the address it reached (for TCP,
    /// which of our addresses when we listen on all of them).
    pub fn local_end(&self, client: &Connection) -> Endpoint {
        match (self, client) {
            (Listener::Unix { name, .. }, _) => Endpoint::unix(name.clone()),
            (Listener::Tcp(listener), connection) => {
                let ours = connection.tcp().map(|tcp| tcp.local_addr());
                match ours.unwrap_or_else(|| listener.local_addr()) {
                    Ok(addr) => Endpoint::Ip(addr),
                    Err(_) => Endpoint::Ip(std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
                }
            }
        }
    }
}
