//! A connection's life, from the moment it exists to its summary: the relay's
//! rules, the idle limit, the stop signal, and how it all ended.
//!
//! The rules of the relay, which the README repeats for users:
//!
//! 1. When our input ends we send FIN (the stream's half-close), unless the
//!    caller asked us not to, and keep reading: the peer may still be answering.
//! 2. When the peer's FIN arrives, our output is complete; we keep sending
//!    the rest of our input, because the peer may have half-closed on purpose.
//! 3. The session is over when both directions are finished (exit 0), when
//!    nothing moved either way for the idle limit (exit 0, as `nc -w`), when
//!    our output is closed by its reader (quietly, as `head` expects), or when
//!    the stop signal fires.
//! 4. A reset, or a peer that closes before reading all we send, is an error:
//!    data did not arrive and the user must hear about it.
//!
//! The same function serves `listen` and `connect`, over any [`Stream`],
//! with any local [`Input`] and [`Output`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::activity::Activity;
use super::connect::{ConnectOptions, Target, connect_to};
use super::endpoint::Endpoint;
use super::events::{Event, Events, Summary};
use super::io::{Input, Output};
use super::pump::PumpError;
use super::relay::{self, Context, Finished};
use super::stream::Stream;
use crate::error::{Error, Result};
use crate::shutdown::{StopReason, StopSignal, StopTrigger};

/// A session's byte counts and start, shared with whoever watches the
/// transfer (progress, summary).
#[derive(Debug)]
pub struct Counters {
    started: std::sync::Mutex<Instant>,
    activity: Activity,
}

impl Counters {
    pub fn new() -> Arc<Self> {
        Arc::new(Counters {
            started: std::sync::Mutex::new(Instant::now()),
            activity: Activity::new(),
        })
    }

    pub fn sent(&self) -> u64 {
        self.activity.sent_total()
    }

    pub fn received(&self) -> u64 {
        self.activity.received_total()
    }

    /// Time since the session started.
    pub fn elapsed(&self) -> Duration {
        self.started.lock().unwrap().elapsed()
    }

    /// Starts the clock again, for counters created before the connection
    /// existed (a listener's, created before its client arrives).
    pub fn restart(&self) {
        *self.started.lock().unwrap() = Instant::now();
        self.activity.touch();
    }

    pub fn summary(&self) -> Summary {
        Summary {
            received: self.received(),
            sent: self.sent(),
            duration: self.elapsed(),
        }
    }

    pub(crate) fn add_sent(&self, n: u64) {
        self.activity.sent(n);
    }

    pub(crate) fn add_received(&self, n: u64) {
        self.activity.received(n);
    }
}

/// How every session behaves, whatever the mode.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// End a connection after this long with no byte moving either way.
    pub idle_timeout: Option<Duration>,
    /// Send FIN when input ends (rule 1). Off for peers that mistake a
    /// half-close for a full close.
    pub send_fin: bool,
    /// Our output closing ends only the peer-to-us direction, not the
    /// session: a served program that stops reading still has its say.
    pub output_may_close: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            idle_timeout: None,
            send_fin: true,
            output_may_close: false,
        }
    }
}

/// How a relay that did not fail came to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both directions reached end of file.
    Finished,
    /// Nothing moved for the idle limit.
    IdleTimeout,
    /// Our output's reader went away (`| head`); nobody wants the rest.
    OutputClosed,
}

/// How a session or a server that did not fail came to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The one-connection relay finished this way.
    Relay(RelayEnd),
    /// The one client of a non-keep-open echo or chat server left.
    Served,
    /// Stopped by a signal or a closed output.
    Stopped(StopReason),
}

/// The end of a session cut short by `stop`, narrated when it was a signal.
pub(crate) fn stopped(stop: StopReason, events: &Events) -> SessionEnd {
    if let StopReason::Signal(signal) = stop {
        events.emit(Event::Stopping { signal });
    }
    SessionEnd::Stopped(stop)
}

/// Relays `input` to `stream` and `stream` to `output` by the rules above,
/// until the session ends or `stop` fires. `peer` names the other end in
/// events and errors.
#[allow(clippy::too_many_arguments)]
pub async fn relay<S: Stream>(
    stream: S,
    peer: &Endpoint,
    input: Input,
    output: Output,
    options: &SessionOptions,
    counters: &Arc<Counters>,
    events: &Events,
    stop: &mut StopSignal,
) -> Result<SessionEnd> {
    let context = Context {
        peer: peer.clone(),
        send_fin: options.send_fin,
        counters: Arc::clone(counters),
        events: events.clone(),
    };
    let mut directions = relay::start(stream, input, output, Arc::new(context))
        .map_err(|e| Error::io("preparing the connection", e))?;
    let mut input_done = false;
    let mut peer_done = false;
    let mut peer_stopped_reading = false;
    while !(input_done && peer_done) {
        let finished = tokio::select! {
            finished = directions.done.recv() => match finished {
                Some(finished) => finished,
                None => break,
            },
            _ = counters.activity.expired(options.idle_timeout) => {
                let after = options.idle_timeout.unwrap_or_default();
                events.emit(Event::IdleTimeout { peer: peer.clone(), after });
                directions.close();
                return Ok(SessionEnd::Relay(RelayEnd::IdleTimeout));
            }
            why = stop.wait() => {
                directions.close();
                return Ok(stopped(why, events));
            }
        };
        let failed = |error| {
            directions.close();
            Err(error)
        };
        match finished {
            Finished::Upstream(Ok(_)) => input_done = true,
            Finished::Upstream(Err(PumpError::Read(e))) => {
                return failed(Error::io("reading the input", e));
            }
            Finished::Upstream(Err(PumpError::Write(_))) => {
                // The peer is gone while we still had input for it. Keep
                // reading: what it sent before leaving still belongs on stdout.
                input_done = true;
                peer_stopped_reading = true;
            }
            Finished::Downstream(Ok(_)) => {
                peer_done = true;
                events.emit(Event::PeerFinished { peer: peer.clone() });
            }
            Finished::Downstream(Err(PumpError::Read(e))) => {
                return failed(match e.kind() {
                    std::io::ErrorKind::ConnectionReset => Error::Reset { peer: peer.clone() },
                    _ => Error::io(format!("receiving from {peer}"), e),
                });
            }
            Finished::Downstream(Err(PumpError::Write(e)))
                if options.output_may_close && e.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                peer_done = true;
            }
            Finished::Downstream(Err(PumpError::Write(e))) => {
                directions.close();
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(SessionEnd::Relay(RelayEnd::OutputClosed));
                }
                return Err(Error::io("writing the output", e));
            }
        }
    }
    if peer_stopped_reading {
        return Err(Error::PeerStoppedReading { peer: peer.clone() });
    }
    Ok(SessionEnd::Relay(RelayEnd::Finished))
}

/// One client of a keep-open server relayed with a local side of its own
/// (a program, a proxy's target): a failure is that client's `-v` line, not
/// the server's end. The server stops such clients by aborting their task,
/// so no stop signal is needed. What moved, for the summary.
pub async fn relay_one_client<S: Stream>(
    stream: S,
    peer: &Endpoint,
    input: Input,
    output: Output,
    options: &SessionOptions,
    events: &Events,
) -> Summary {
    let counters = Counters::new();
    let never_fired = StopTrigger::new();
    let mut stop = never_fired.subscribe();
    let ended = relay(
        stream, peer, input, output, options, &counters, events, &mut stop,
    )
    .await;
    if let Err(e) = ended {
        let reason = e.to_string();
        let peer = peer.clone();
        events.emit(Event::ClientFailed { peer, reason });
    }
    counters.summary()
}

/// The whole client: connect, relay until the session ends or `stop`
/// fires, then report the connection's summary.
#[allow(clippy::too_many_arguments)]
pub async fn connect_and_relay(
    target: &Target,
    connect_options: &ConnectOptions,
    input: Input,
    output: Output,
    options: &SessionOptions,
    counters: &Arc<Counters>,
    events: &Events,
    mut stop: StopSignal,
) -> Result<SessionEnd> {
    let (stream, peer) = tokio::select! {
        connected = connect_to(target, connect_options, events) => connected?,
        why = stop.wait() => return Ok(SessionEnd::Stopped(why)),
    };
    counters.restart();
    let ended = match &connect_options.tls {
        None => {
            relay(
                stream, &peer, input, output, options, counters, events, &mut stop,
            )
            .await
        }
        Some(tls) => {
            let stream = tokio::select! {
                stream = tls.handshake(stream, &peer, events) => stream?,
                why = stop.wait() => return Ok(SessionEnd::Stopped(why)),
            };
            relay(
                stream, &peer, input, output, options, counters, events, &mut stop,
            )
            .await
        }
    };
    events.emit(Event::Closed {
        peer,
        summary: counters.summary(),
    });
    ended
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shutdown::StopTrigger;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The portable path (no descriptors anywhere): input reaches the peer,
    /// the peer's bytes reach the output, and our FIN follows our input.
    #[tokio::test]
    async fn an_in_memory_session_follows_the_rules() {
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let (output, mut printed) = tokio::io::duplex(1024);
        let trigger = StopTrigger::new();
        let peer = Endpoint::from(std::net::SocketAddr::from(([127, 0, 0, 1], 9)));
        let session = tokio::spawn(async move {
            relay(
                ours,
                &peer,
                Input::reader(&b"question\n"[..]),
                Output::writer(output),
                &SessionOptions::default(),
                &Counters::new(),
                &Events::none(),
                &mut trigger.subscribe(),
            )
            .await
        });
        let mut asked = Vec::new();
        theirs.read_to_end(&mut asked).await.unwrap();
        assert_eq!(asked, b"question\n", "our FIN follows the input");
        theirs.write_all(b"answer\n").await.unwrap();
        drop(theirs);
        let mut shown = Vec::new();
        printed.read_to_end(&mut shown).await.unwrap();
        assert_eq!(shown, b"answer\n");
        let ended = session.await.unwrap().unwrap();
        assert_eq!(ended, SessionEnd::Relay(RelayEnd::Finished));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_session_ends_at_the_idle_limit() {
        let (ours, _theirs) = tokio::io::duplex(1024);
        let options = SessionOptions {
            idle_timeout: Some(Duration::from_secs(3)),
            ..SessionOptions::default()
        };
        let started = Instant::now();
        let ended = relay(
            ours,
            &Endpoint::from(std::net::SocketAddr::from(([127, 0, 0, 1], 9))),
            Input::empty(),
            Output::discard(),
            &options,
            &Counters::new(),
            &Events::none(),
            &mut StopTrigger::new().subscribe(),
        )
        .await
        .unwrap();
        assert_eq!(ended, SessionEnd::Relay(RelayEnd::IdleTimeout));
        assert!(started.elapsed() >= Duration::from_secs(3));
    }
}
