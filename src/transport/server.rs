//! The server flow after `listen`: accept clients and hand each to a service.
//!
//! Without keep-open the server accepts one client, closes the listening
//! socket (so a second client is refused rather than queued) and serves it.
//! With keep-open it accepts until told to stop, serving clients concurrently
//! as Tokio tasks: one task per client costs a few hundred bytes, which is how
//! one process holds 10,000 connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::chat::Room;
use super::echo;
use super::events::{Event, Events};
use super::fanout::Fanout;
use super::relay::{Counters, RelayOptions, SessionEnd, relay_stdio};
use super::shutdown::{Shutdown, Trigger, stopped};
use super::stdio::{Output, read_chunks};
use crate::error::{Error, Result};

/// What each client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Our stdin to the client, the client to our stdout.
    #[default]
    Relay,
    /// The client's own bytes, back to it.
    Echo,
    /// Every other client's lines.
    Chat,
}

#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub mode: Mode,
    /// Keep accepting after the first client, serving clients concurrently.
    pub keep_open: bool,
    /// Most clients served at once; one more is accepted and closed at once.
    pub max_conns: Option<usize>,
    /// For the one-client relay.
    pub relay: RelayOptions,
}

/// Serves clients of `listener` until done or until `shutdown` fires.
/// `counters` follows the one-client relay, for progress and the summary.
pub async fn serve(
    listener: TcpListener,
    options: &ServeOptions,
    counters: Arc<Counters>,
    events: Events,
    trigger: Trigger,
) -> Result<SessionEnd> {
    let mut shutdown = trigger.subscribe();
    if options.mode == Mode::Relay && !options.keep_open {
        return serve_one_relay(listener, options, counters, events, shutdown).await;
    }
    let output = Output::start(std::io::stdout(), trigger.clone());
    let service = match options.mode {
        Mode::Echo => Service::Echo,
        Mode::Chat => Service::Chat(Room::new(Some(output.clone()), events.clone())),
        Mode::Relay => {
            Service::Fanout(Fanout::start(read_chunks(std::io::stdin()), output.clone()))
        }
    };
    let ended = accept_loop(listener, options, service, &events, &mut shutdown).await;
    // What clients sent before the stop is on its way to stdout: let it land.
    output.flush(Duration::from_secs(2)).await;
    Ok(ended)
}

async fn accept_loop(
    listener: TcpListener,
    options: &ServeOptions,
    service: Service,
    events: &Events,
    shutdown: &mut Shutdown,
) -> SessionEnd {
    let limit = options.max_conns.map(|n| Arc::new(Semaphore::new(n)));
    let active = Arc::new(AtomicUsize::new(0));
    // Dropping the set at the end aborts every client task: that is the shutdown.
    let mut clients = JoinSet::new();
    let mut backoff = Duration::from_millis(10);
    events.emit(Event::AwaitingClient);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            stop = shutdown.wait() => return stopped(stop, events),
            // Reap finished clients so the set does not grow without bound.
            Some(_) = clients.join_next(), if !clients.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(client) => client,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: accepting again at once would
                // spin. Wait for clients to leave, doubling the wait up to 1 s.
                events.emit(Event::AcceptFailed {
                    reason: e.to_string(),
                    retry_in: backoff,
                });
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    stop = shutdown.wait() => return stopped(stop, events),
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        backoff = Duration::from_millis(10);
        let permit = match &limit {
            None => None,
            Some(limit) => match Arc::clone(limit).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    events.emit(Event::RefusedOverCap {
                        peer,
                        cap: options.max_conns.unwrap_or_default(),
                    });
                    drop(stream);
                    continue;
                }
            },
        };
        let now_active = active.fetch_add(1, Ordering::Relaxed) + 1;
        events.emit(Event::Accepted {
            peer,
            active: now_active,
        });
        let (service, active, client_events) =
            (service.clone(), Arc::clone(&active), events.clone());
        clients.spawn(async move {
            service.serve(stream, peer, client_events).await;
            active.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
        if !options.keep_open {
            drop(listener);
            tokio::select! {
                _ = clients.join_next() => return SessionEnd::Served,
                stop = shutdown.wait() => return stopped(stop, events),
            }
        }
    }
}

/// Errors that concern only the connection being accepted, not the listener.
fn is_per_connection(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
    )
}

async fn serve_one_relay(
    listener: TcpListener,
    options: &ServeOptions,
    counters: Arc<Counters>,
    events: Events,
    mut shutdown: Shutdown,
) -> Result<SessionEnd> {
    events.emit(Event::AwaitingClient);
    let (stream, peer) = tokio::select! {
        accepted = listener.accept() => accepted.map_err(|e| Error::io("accepting a client", e))?,
        stop = shutdown.wait() => return Ok(stopped(stop, &events)),
    };
    drop(listener);
    counters.restart();
    events.emit(Event::Accepted { peer, active: 1 });
    let result = relay_stdio(stream, &options.relay, &counters, &events, &mut shutdown).await;
    events.emit(Event::Closed {
        peer,
        summary: counters.summary(),
    });
    result
}

/// The services a keep-open server can offer; cloning shares their state.
#[derive(Clone)]
enum Service {
    Echo,
    Chat(Room),
    Fanout(Fanout),
}

impl Service {
    async fn serve(self, stream: TcpStream, peer: std::net::SocketAddr, events: Events) {
        // Echo and chat trade in small messages where Nagle's delay only hurts.
        let _ = stream.set_nodelay(!matches!(self, Service::Fanout(_)));
        match self {
            Service::Echo => echo::serve_client(stream, peer, events).await,
            Service::Chat(room) => room.serve_client(stream, peer).await,
            Service::Fanout(fanout) => fanout.serve_client(stream, peer, events).await,
        }
    }
}
