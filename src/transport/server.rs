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

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::activity::{Activity, Metered};
use super::chat::Room;
use super::echo::echo;
use super::endpoint::Endpoint;
use super::events::{Event, Events, Summary};
use super::exec::serve_program;
use super::fanout::Fanout;
use super::io::{Input, Output, OutputQueue, read_chunks};
use super::listener::Listener;
use super::proxy::{ProxyRules, serve_proxy_client};
use super::session::{Counters, SessionEnd, SessionOptions, relay, stopped};
use super::stream::{Connection, Stream, set_keepalive};
use super::tls::TlsServer;
use crate::error::{Error, Result};
use crate::shutdown::{StopSignal, StopTrigger};

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
    /// Each client's session: idle limit (every mode), FIN on input's end.
    pub session: SessionOptions,
    /// Turn on TCP keepalive, first probe after this long idle (TCP only).
    pub keepalive: Option<Duration>,
    /// Serve TLS (`--tls`): every client's session starts with a handshake.
    pub tls: Option<Arc<TlsServer>>,
    /// Run this shell command for each client, wired to it (`--exec`),
    /// instead of the mode's service.
    pub exec: Option<Arc<str>>,
    /// Be a SOCKS5 and HTTP CONNECT proxy under these rules (`sockit proxy`).
    pub proxy: Option<Arc<ProxyRules>>,
}

/// Serves clients of `listener` until done or until `trigger` fires. Our
/// side of the relay is `input` and `output` (the CLI passes stdin and
/// stdout); chat writes its transcript to `output`. `counters` follows the
/// one-client relay, for progress and the summary.
pub async fn serve(
    listener: Listener,
    options: &ServeOptions,
    input: Input,
    output: Output,
    counters: Arc<Counters>,
    events: Events,
    trigger: StopTrigger,
) -> Result<SessionEnd> {
    let mut stop = trigger.subscribe();
    if let Some(rules) = &options.proxy {
        let service = Service::Proxy(Arc::clone(rules), options.session.clone());
        return Ok(accept_loop(listener, options, service, &events, &mut stop).await);
    }
    if let Some(command) = &options.exec {
        let service = Service::Exec(Arc::clone(command), options.session.clone());
        return Ok(accept_loop(listener, options, service, &events, &mut stop).await);
    }
    if options.mode == Mode::Relay && !options.keep_open {
        let local = (input, output);
        return serve_one_relay(listener, options, local, counters, events, stop).await;
    }
    let output = OutputQueue::start(output, trigger.clone());
    let service = match options.mode {
        Mode::Echo => Service::Echo,
        Mode::Chat => Service::Chat(Room::new(Some(output.clone()), events.clone())),
        Mode::Relay => Service::Fanout(Fanout::start(read_chunks(input), output.clone())),
    };
    let ended = accept_loop(listener, options, service, &events, &mut stop).await;
    // What clients sent before the stop is on its way to stdout: let it land.
    output.flush(Duration::from_secs(2)).await;
    Ok(ended)
}

async fn accept_loop(
    listener: Listener,
    options: &ServeOptions,
    service: Service,
    events: &Events,
    shutdown: &mut StopSignal,
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
                        peer: peer.clone(),
                        cap: options.max_conns.unwrap_or_default(),
                    });
                    drop(stream);
                    continue;
                }
            },
        };
        let now_active = active.fetch_add(1, Ordering::Relaxed) + 1;
        events.emit(Event::Accepted {
            peer: peer.clone(),
            active: now_active,
        });
        prepare(&stream, options, service.small_messages());
        let local = listener.local_end(&stream);
        let (service, active, client_events) =
            (service.clone(), Arc::clone(&active), events.clone());
        let idle = options.session.idle_timeout;
        let tls = options.tls.clone();
        clients.spawn(async move {
            match tls {
                None => {
                    service
                        .serve(stream, peer, local, client_events, idle)
                        .await
                }
                // The handshake runs in the client's task, so a slow or
                // silent client never holds up the accept loop.
                Some(tls) => match tls.handshake(stream, &peer, &client_events).await {
                    Ok(stream) => {
                        service
                            .serve(stream, peer, local, client_events, idle)
                            .await
                    }
                    Err(e) => client_events.emit(Event::ClientFailed {
                        peer,
                        reason: e.to_string(),
                    }),
                },
            }
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

/// TCP options for an accepted client; failures only cost latency or the
/// early detection of a dead peer, so they are not errors. A Unix socket has
/// neither Nagle's delay nor a peer that can vanish unannounced.
fn prepare(stream: &Connection, options: &ServeOptions, small_messages: bool) {
    let Some(stream) = stream.tcp() else {
        return;
    };
    // Echo and chat trade in small messages where Nagle's delay only hurts.
    let _ = stream.set_nodelay(small_messages);
    if let Some(after) = options.keepalive {
        let _ = set_keepalive(stream, after);
    }
}

async fn serve_one_relay(
    listener: Listener,
    options: &ServeOptions,
    (input, output): (Input, Output),
    counters: Arc<Counters>,
    events: Events,
    mut stop: StopSignal,
) -> Result<SessionEnd> {
    events.emit(Event::AwaitingClient);
    let (stream, peer) = tokio::select! {
        accepted = listener.accept() => accepted.map_err(|e| Error::io("accepting a client", e))?,
        why = stop.wait() => return Ok(stopped(why, &events)),
    };
    drop(listener);
    counters.restart();
    events.emit(Event::Accepted {
        peer: peer.clone(),
        active: 1,
    });
    prepare(&stream, options, false);
    let session = &options.session;
    let result = match &options.tls {
        None => {
            relay(
                stream, &peer, input, output, session, &counters, &events, &mut stop,
            )
            .await
        }
        Some(tls) => {
            let stream = tokio::select! {
                stream = tls.handshake(stream, &peer, &events) => stream?,
                why = stop.wait() => return Ok(stopped(why, &events)),
            };
            relay(
                stream, &peer, input, output, session, &counters, &events, &mut stop,
            )
            .await
        }
    };
    events.emit(Event::Closed {
        peer,
        summary: counters.summary(),
    });
    result
}

/// What a metered service does with its client.
enum Work {
    Echo,
    Chat(Room),
    Fanout(Fanout),
}

/// The services a keep-open server can offer; cloning shares their state.
#[derive(Clone)]
enum Service {
    Echo,
    Chat(Room),
    Fanout(Fanout),
    /// A program per client, and the session's options for its relay.
    Exec(Arc<str>, SessionOptions),
    /// A proxy's tunnel per client.
    Proxy(Arc<ProxyRules>, SessionOptions),
}

impl Service {
    fn small_messages(&self) -> bool {
        !matches!(
            self,
            Service::Fanout(_) | Service::Exec(..) | Service::Proxy(..)
        )
    }

    /// Serves one client until it leaves or is idle for `idle`, then reports
    /// what moved. The stream is metered, so every mode gets the same idle
    /// limit and the same summary without counting on its own.
    async fn serve<S: Stream>(
        self,
        stream: S,
        peer: Endpoint,
        local: Endpoint,
        events: Events,
        idle: Option<Duration>,
    ) {
        let work = match self {
            // The program's relay keeps its own clock and counts: its bytes
            // may bypass a metered stream, by splice.
            Service::Exec(command, session) => {
                return serve_program(stream, &peer, &local, &command, &session, &events).await;
            }
            Service::Proxy(rules, session) => {
                return serve_proxy_client(stream, &peer, &local, &rules, &session, &events).await;
            }
            Service::Echo => Work::Echo,
            Service::Chat(room) => Work::Chat(room),
            Service::Fanout(fanout) => Work::Fanout(fanout),
        };
        let started = Instant::now();
        let activity = Activity::new();
        let stream = Metered::new(stream, activity.clone());
        let work = async {
            match work {
                Work::Echo => drop(echo(stream).await),
                Work::Chat(room) => room.serve_client(stream, peer.clone()).await,
                Work::Fanout(fanout) => fanout.serve_client(stream).await,
            }
        };
        tokio::select! {
            _ = work => {}
            _ = activity.expired(idle) => {
                let after = idle.unwrap_or_default();
                events.emit(Event::IdleTimeout { peer: peer.clone(), after });
            }
        }
        let summary = Summary {
            received: activity.received_total(),
            sent: activity.sent_total(),
            duration: started.elapsed(),
        };
        events.emit(Event::Closed { peer, summary });
    }
}
