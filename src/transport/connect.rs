//! The client's side of the handshake: resolve, then try each address in turn.
//!
//! A name can have several addresses (`localhost` is usually `::1` and
//! `127.0.0.1`); like netcat, we try them in the resolver's order and use the
//! first that answers, so a server listening on only one family still works.
//! A Unix socket needs none of this: its name is the address ([`Target`]).

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::endpoint::{Endpoint, UnixName};
use super::events::{Event, Events};
use super::proxy::{ProxyUrl, tunnel};
use super::stream::Connection;
use super::stream::set_keepalive;
use super::unix::connect_stream;
use crate::addr::{Family, format_addrs, resolve};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub family: Family,
    /// Bound on each attempt's handshake; the kernel's own (about two minutes)
    /// applies when absent.
    pub timeout: Option<Duration>,
    /// Turn on TCP keepalive, first probe after this long idle.
    pub keepalive: Option<Duration>,
    /// Speak TLS over the connection (`--tls`), verified as configured.
    pub tls: Option<std::sync::Arc<super::tls::TlsClient>>,
    /// Proxies to go through, in order (`--proxy`, repeatable): the first
    /// is connected to directly, each asked to reach the next, the last to
    /// reach the target.
    pub proxies: Vec<ProxyUrl>,
}

/// Where a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host's name or address, and a TCP port.
    Host { host: String, port: u16 },
    /// A Unix stream socket.
    Unix(UnixName),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Host { host, port } => write!(f, "{host} port {port}"),
            Target::Unix(name) => write!(f, "{name}"),
        }
    }
}

/// Connects to `target` (a TCP one through the proxies, if any) and says
/// who answered.
pub async fn connect_to(
    target: &Target,
    options: &ConnectOptions,
    events: &Events,
) -> Result<(Connection, Endpoint)> {
    match target {
        Target::Host { host, port } => {
            let stream = connect(host, *port, options, events).await?;
            let peer = stream
                .peer_addr()
                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], *port)));
            Ok((Connection::Tcp(stream), Endpoint::Ip(peer)))
        }
        Target::Unix(name) => {
            // A Unix connect waits only when the server's backlog is full.
            let connecting = connect_stream(name, events);
            let stream = match options.timeout {
                None => connecting.await?,
                Some(limit) => tokio::time::timeout(limit, connecting)
                    .await
                    .map_err(|_| Error::Unix {
                        name: name.to_string(),
                        reason: format!(
                            "the server accepted no connection within {} s (its backlog is full); raise -w or try later",
                            limit.as_secs_f64()
                        ),
                    })??,
            };
            let peer = super::unix::peer_of(&stream, name.clone());
            Ok((Connection::Unix(stream), peer))
        }
    }
}

/// Connects to `host` port `port` (through the proxies, if any), or explains
/// why no address answered.
pub async fn connect(
    host: &str,
    port: u16,
    options: &ConnectOptions,
    events: &Events,
) -> Result<TcpStream> {
    let Some((first, rest)) = options.proxies.split_first() else {
        return connect_direct(host, port, options, events).await;
    };
    let mut stream = connect_direct(&first.host, first.port, options, events).await?;
    let hops = rest.iter().map(|p| (p.host.as_str(), p.port));
    let mut via = first;
    for ((next_host, next_port), next) in hops.zip(rest) {
        stream = tunnel(stream, via, next_host, next_port, options.family, events).await?;
        via = next;
    }
    tunnel(stream, via, host, port, options.family, events).await
}

/// Connects to `host` port `port` itself.
async fn connect_direct(
    host: &str,
    port: u16,
    options: &ConnectOptions,
    events: &Events,
) -> Result<TcpStream> {
    let addrs = resolve_and_tell(host, port, options.family, events).await?;

    let mut failures: Vec<(SocketAddr, Failure)> = Vec::new();
    for addr in &addrs {
        events.emit(Event::Connecting { addr: *addr });
        let attempt = TcpStream::connect(addr);
        let result = match options.timeout {
            Some(limit) => match tokio::time::timeout(limit, attempt).await {
                Ok(result) => result.map_err(Failure::Io),
                Err(_) => Err(Failure::TimedOut),
            },
            None => attempt.await.map_err(Failure::Io),
        };
        match result {
            Ok(stream) => {
                if let Some(after) = options.keepalive {
                    set_keepalive(&stream, after)
                        .map_err(|e| Error::io("turning on TCP keepalive", e))?;
                }
                let local = stream.local_addr().unwrap_or(*addr);
                events.emit(Event::Connected {
                    local: Endpoint::Ip(local),
                    peer: Endpoint::Ip(*addr),
                });
                return Ok(stream);
            }
            Err(failure) => {
                events.emit(Event::AttemptFailed {
                    addr: *addr,
                    reason: failure.to_string(),
                });
                failures.push((*addr, failure));
            }
        }
    }
    Err(explain(host, port, &addrs, failures, options.timeout))
}

/// Resolves `host` off the async threads (getaddrinfo blocks) and reports
/// the answer. Shared by the TCP and UDP clients.
pub async fn resolve_and_tell(
    host: &str,
    port: u16,
    family: Family,
    events: &Events,
) -> Result<Vec<SocketAddr>> {
    let name = host.to_string();
    let addrs = tokio::task::spawn_blocking(move || resolve(&name, port, family))
        .await
        .map_err(|e| Error::io("resolving", std::io::Error::other(e)))??;
    events.emit(Event::Resolved {
        host: host.to_string(),
        addrs: addrs.clone(),
    });
    Ok(addrs)
}

enum Failure {
    TimedOut,
    Io(std::io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::TimedOut => f.write_str("timed out"),
            Failure::Io(e) if e.kind() == ErrorKind::ConnectionRefused => f.write_str("refused"),
            Failure::Io(e) => write!(f, "{e}"),
        }
    }
}

/// One line for all the attempts: the common cause when they agree, each
/// address's own when they do not.
fn explain(
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
    failures: Vec<(SocketAddr, Failure)>,
    timeout: Option<Duration>,
) -> Error {
    let tried = format_addrs(addrs);
    let refused =
        |f: &Failure| matches!(f, Failure::Io(e) if e.kind() == ErrorKind::ConnectionRefused);
    let timed_out = |f: &Failure| matches!(f, Failure::TimedOut);
    let (host, port) = (host.to_string(), port);
    if failures.iter().all(|(_, f)| refused(f)) {
        return Error::Refused { host, port, tried };
    }
    if let Some(timeout) = timeout
        && failures.iter().all(|(_, f)| timed_out(f))
    {
        return Error::ConnectTimeout {
            host,
            port,
            tried,
            timeout,
        };
    }
    let detail = failures
        .iter()
        .map(|(addr, f)| format!("{}: {f}", addr.ip()))
        .collect::<Vec<_>>()
        .join("; ");
    Error::ConnectFailed { host, port, detail }
}
