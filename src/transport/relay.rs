//! The relay: stdin to the peer and the peer to stdout, both at once, ending
//! with the four-way close done right.
//!
//! Each direction is a [`pump`](super::pump) on a thread of its own, so a slow
//! reader on one side never stalls the other side. The rules, which the README
//! repeats for users:
//!
//! 1. When our input ends we send FIN (`shutdown(SHUT_WR)`), unless the caller
//!    asked us not to, and keep reading: the peer may still be answering.
//! 2. When the peer's FIN arrives, stdout is complete; we keep sending the
//!    rest of our input, because the peer may have half-closed on purpose.
//! 3. The session is over when both directions are finished (exit 0), when
//!    nothing moved either way for the idle timeout (exit 0, as `nc -w`), or
//!    when our stdout is closed by its reader (quietly, as `head` expects).
//! 4. A reset, or a peer that closes before reading all we send, is an error:
//!    data did not arrive and the user must hear about it.

use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::events::{Event, Events, Summary};
use super::pump::{PumpError, pump};
use super::shutdown::{Shutdown as StopSignal, Stop, stopped};
use crate::error::{Error, Result};

/// Byte counts shared with whoever watches the transfer (progress, summary).
#[derive(Debug)]
pub struct Counters {
    origin: Instant,
    /// Milliseconds after `origin` when the session started (see `restart`).
    started_ms: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    /// Milliseconds after `started` when a byte last moved either way.
    last_activity_ms: AtomicU64,
}

impl Counters {
    pub fn new() -> Arc<Self> {
        Arc::new(Counters {
            origin: Instant::now(),
            started_ms: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            last_activity_ms: AtomicU64::new(0),
        })
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Time since the session started.
    pub fn elapsed(&self) -> Duration {
        self.origin.elapsed().saturating_sub(Duration::from_millis(
            self.started_ms.load(Ordering::Relaxed),
        ))
    }

    /// Starts the clock again, for counters created before the connection
    /// existed (a listener's, created before its client arrives).
    pub fn restart(&self) {
        let now = self.now_ms();
        self.started_ms.store(now, Ordering::Relaxed);
        self.last_activity_ms.store(now, Ordering::Relaxed);
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    pub fn summary(&self) -> Summary {
        Summary {
            received: self.received(),
            sent: self.sent(),
            duration: self.elapsed(),
        }
    }

    fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
        self.last_activity_ms
            .store(self.now_ms(), Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.last_activity_ms.load(Ordering::Relaxed)),
        )
    }
}

#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// End the session after this long with no byte moving either way.
    pub idle_timeout: Option<Duration>,
    /// Send FIN when input ends (rule 1). Off for peers that mistake a
    /// half-close for a full close.
    pub send_fin: bool,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            idle_timeout: None,
            send_fin: true,
        }
    }
}

/// How a session that did not fail came to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both directions reached end of file.
    Finished,
    /// Nothing moved for the idle timeout.
    IdleTimeout,
    /// Our output's reader went away (`| head`); nobody wants the rest.
    OutputClosed,
}

enum Finished {
    Upstream(Result<u64, PumpError>),
    Downstream(Result<u64, PumpError>),
}

/// Relays `input` to `stream` and `stream` to `output` until the session ends.
///
/// If this returns early (idle timeout, closed output, an error) while the
/// input thread is still blocked reading a terminal, that thread is left
/// behind: nothing can interrupt a blocking read(2) on stdin, and the process
/// is about to exit anyway.
pub fn relay<I, O>(
    stream: TcpStream,
    input: I,
    output: O,
    options: &RelayOptions,
    counters: &Arc<Counters>,
    events: &Events,
) -> Result<RelayEnd>
where
    I: AsFd + Send + 'static,
    O: AsFd + Send + 'static,
{
    let peer = stream
        .peer_addr()
        .map_err(|e| Error::io("the connection closed before it could be used", e))?;
    // Non-blocking, so that a splice from it never sleeps holding the pipe
    // it writes to (see `pump`).
    stream
        .set_nonblocking(true)
        .map_err(|e| Error::io("configuring the socket", e))?;
    let upstream = stream
        .try_clone()
        .map_err(|e| Error::io("duplicating the socket", e))?;
    let downstream = stream
        .try_clone()
        .map_err(|e| Error::io("duplicating the socket", e))?;
    let (done_tx, done) = mpsc::channel();

    let up_counters = Arc::clone(counters);
    let up_done = done_tx.clone();
    let up_events = events.clone();
    let send_fin = options.send_fin;
    std::thread::spawn(move || {
        let result = pump(input.as_fd(), upstream.as_fd(), &mut |n| {
            up_counters.add(&up_counters.sent, n)
        });
        if result.is_ok() && send_fin {
            // Our half of the four-way close. If the peer already reset the
            // connection this fails, and the downstream side reports why.
            if upstream.shutdown(Shutdown::Write).is_ok() {
                up_events.emit(Event::InputFinished { peer });
            }
        }
        let _ = up_done.send(Finished::Upstream(result));
    });

    let down_counters = Arc::clone(counters);
    std::thread::spawn(move || {
        let result = pump(downstream.as_fd(), output.as_fd(), &mut |n| {
            down_counters.add(&down_counters.received, n)
        });
        let _ = done_tx.send(Finished::Downstream(result));
    });

    let mut input_done = false;
    let mut peer_done = false;
    let mut peer_stopped_reading = false;
    let tick = options.idle_timeout.map_or(Duration::from_secs(3600), |t| {
        t.min(Duration::from_millis(100))
    });
    while !(input_done && peer_done) {
        let finished = match done.recv_timeout(tick) {
            Ok(finished) => finished,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(limit) = options.idle_timeout
                    && counters.idle_for() >= limit
                {
                    events.emit(Event::IdleTimeout { peer, after: limit });
                    let _ = stream.shutdown(Shutdown::Both);
                    return Ok(RelayEnd::IdleTimeout);
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match finished {
            Finished::Upstream(Ok(_)) => input_done = true,
            Finished::Upstream(Err(PumpError::Read(e))) => {
                let _ = stream.shutdown(Shutdown::Both);
                return Err(Error::io("reading standard input", e));
            }
            Finished::Upstream(Err(PumpError::Write(_))) => {
                // The peer is gone while we still had input for it. Keep
                // reading: what it sent before leaving still belongs on stdout.
                input_done = true;
                peer_stopped_reading = true;
            }
            Finished::Downstream(Ok(_)) => {
                peer_done = true;
                events.emit(Event::PeerFinished { peer });
            }
            Finished::Downstream(Err(PumpError::Read(e))) => {
                let _ = stream.shutdown(Shutdown::Both);
                return Err(match e.kind() {
                    std::io::ErrorKind::ConnectionReset => Error::Reset { peer },
                    _ => Error::io(format!("receiving from {peer}"), e),
                });
            }
            Finished::Downstream(Err(PumpError::Write(e))) => {
                let _ = stream.shutdown(Shutdown::Both);
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(RelayEnd::OutputClosed);
                }
                return Err(Error::io("writing standard output", e));
            }
        }
    }
    if peer_stopped_reading {
        return Err(Error::PeerStoppedReading { peer });
    }
    Ok(RelayEnd::Finished)
}

/// How a session or a server that did not fail came to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The one-connection relay finished this way.
    Relay(RelayEnd),
    /// The one client of a non-keep-open echo or chat server left.
    Served,
    /// Stopped by a signal or a closed stdout.
    Stopped(Stop),
}

/// Relays the process's stdin and stdout over `stream` until the relay ends
/// or `shutdown` fires. Shared by `listen` and `connect`.
pub async fn relay_stdio(
    stream: tokio::net::TcpStream,
    options: &RelayOptions,
    counters: &Arc<Counters>,
    events: &Events,
    shutdown: &mut StopSignal,
) -> Result<SessionEnd> {
    let stream = stream
        .into_std()
        .map_err(|e| Error::io("preparing the connection", e))?;
    let (options, counters, relay_events) = (options.clone(), Arc::clone(counters), events.clone());
    let relayed = tokio::task::spawn_blocking(move || {
        relay(
            stream,
            std::io::stdin(),
            std::io::stdout(),
            &options,
            &counters,
            &relay_events,
        )
    });
    tokio::select! {
        ended = relayed => ended
            .map_err(|e| Error::io("relay", std::io::Error::other(e)))?
            .map(SessionEnd::Relay),
        stop = shutdown.wait() => Ok(stopped(stop, events)),
    }
}
