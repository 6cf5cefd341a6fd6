//! The relay's two directions: our input to the peer, the peer to our
//! output, both at once, each ending on its own.
//!
//! How the bytes move depends on the three ends. When the stream is a plain
//! descriptor and the local side is descriptors too (the CLI's usual case),
//! each direction is a [`pump`](super::pump) on a thread of its own, with
//! splice(2) and sendfile(2) moving pages instead of copying them. A TLS
//! session over TCP with descriptors on our side is two threads as well,
//! each doing its own share of rustls (see `tls::threads`). Otherwise (an
//! embedder's in-memory buffers) each direction is a Tokio task that copies
//! through a buffer and flushes before it waits for more input, so nothing
//! is held back.
//! Either way the directions report to one channel, and the session (see
//! `session`) applies the same rules to both.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use socket2::SockRef;
use std::net::Shutdown;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::copy::copy;
use super::endpoint::Endpoint;
use super::events::{Event, Events};
use super::io::{Input, Output};
use super::pump::{PumpError, pump};
use super::session::Counters;
use super::stream::Stream;
use super::tls::TlsPump;

/// A direction that ended, and how.
pub(crate) enum Finished {
    /// Our input to the peer; on success the FIN has been sent (if asked).
    Upstream(Result<u64, PumpError>),
    /// The peer to our output; on success the peer's FIN has arrived.
    Downstream(Result<u64, PumpError>),
}

/// What both directions share.
pub(crate) struct Context {
    pub peer: Endpoint,
    pub send_fin: bool,
    pub counters: Arc<Counters>,
    pub events: Events,
}

/// Two directions under way.
pub(crate) struct Directions {
    pub done: mpsc::UnboundedReceiver<Finished>,
    closer: Closer,
}

enum Closer {
    /// A duplicate of the socket: shutting it down wakes both threads.
    Socket(OwnedFd),
    Tasks([AbortHandle; 2]),
}

impl Directions {
    /// Ends the connection at once (an idle timeout, a stop, an error). A
    /// thread blocked reading a terminal stays blocked: nothing can
    /// interrupt that read(2), and it sends nothing more once the socket is shut.
    pub fn close(&self) {
        match &self.closer {
            Closer::Socket(fd) => {
                let _ = SockRef::from(fd).shutdown(Shutdown::Both);
            }
            Closer::Tasks(tasks) => tasks.iter().for_each(AbortHandle::abort),
        }
    }
}

/// Starts both directions over `stream`.
pub(crate) fn start<S: Stream>(
    stream: S,
    input: Input,
    output: Output,
    context: Arc<Context>,
) -> std::io::Result<Directions> {
    let (done_tx, done) = mpsc::unbounded_channel();
    let send_fin = context.send_fin;
    let reporter = Reporter { context, done_tx };
    let closer = match (input, output) {
        (Input::Fd(input), Output::Fd(output)) => {
            if let Some(socket) = stream.plain_fd().map(|fd| fd.try_clone_to_owned()) {
                // The stream's own registration with Tokio is not needed:
                // the threads below own duplicates of its descriptor, and
                // the socket stays open until the last of them is closed.
                drop(stream);
                start_threads(socket?, input, output, send_fin, reporter)?
            } else {
                match stream.into_tls_parts() {
                    Ok(parts) => {
                        start_tls_threads(TlsPump::new(parts)?, input, output, send_fin, reporter)?
                    }
                    Err(stream) => start_tasks(
                        stream,
                        Input::Fd(input),
                        Output::Fd(output),
                        send_fin,
                        reporter,
                    ),
                }
            }
        }
        (input, output) => start_tasks(stream, input, output, send_fin, reporter),
    };
    Ok(Directions { done, closer })
}

/// What both directions report, however they move bytes.
#[derive(Clone)]
struct Reporter {
    context: Arc<Context>,
    done_tx: mpsc::UnboundedSender<Finished>,
}

impl Reporter {
    fn sent(&self, n: u64) {
        self.context.counters.add_sent(n);
    }

    fn received(&self, n: u64) {
        self.context.counters.add_received(n);
    }

    /// Our input is done; `fin_sent` when the half-close went out.
    fn upstream_ended(&self, result: Result<u64, PumpError>, fin_sent: bool) {
        if fin_sent {
            let peer = self.context.peer.clone();
            self.context.events.emit(Event::InputFinished { peer });
        }
        let _ = self.done_tx.send(Finished::Upstream(result));
    }

    fn downstream_ended(&self, result: Result<u64, PumpError>) {
        let _ = self.done_tx.send(Finished::Downstream(result));
    }
}

fn start_threads(
    socket: OwnedFd,
    input: OwnedFd,
    output: OwnedFd,
    send_fin: bool,
    reporter: Reporter,
) -> std::io::Result<Closer> {
    // Blocking: the pumps wait in the kernel, which is fastest (see `pump`
    // for the one call that must not). Tokio had made it non-blocking.
    SockRef::from(&socket).set_nonblocking(false)?;
    let (upstream, downstream) = (socket.try_clone()?, socket.try_clone()?);
    let up = reporter.clone();
    std::thread::spawn(move || {
        let result = pump(input.as_fd(), upstream.as_fd(), &mut |n| up.sent(n));
        // Our half of the four-way close. If the peer already reset the
        // connection this fails, and the downstream side reports why.
        let fin_sent = result.is_ok()
            && send_fin
            && SockRef::from(&upstream).shutdown(Shutdown::Write).is_ok();
        up.upstream_ended(result, fin_sent);
    });
    std::thread::spawn(move || {
        let result = pump(downstream.as_fd(), output.as_fd(), &mut |n| {
            reporter.received(n)
        });
        // When our output is a socket too (a proxy's tunnel, a program
        // started with a socket for stdout), the peer's FIN is passed on:
        // closing our descriptor would not send it while others hold it.
        if result.is_ok() {
            let _ = SockRef::from(&output).shutdown(Shutdown::Write);
        }
        reporter.downstream_ended(result);
    });
    Ok(Closer::Socket(socket))
}

/// TLS over a socket with descriptors on our side: one thread per
/// direction does its reading, its share of rustls and its writing in turn
/// (see `tls::threads`).
fn start_tls_threads(
    pump: TlsPump,
    input: OwnedFd,
    output: OwnedFd,
    send_fin: bool,
    reporter: Reporter,
) -> std::io::Result<Closer> {
    let socket = pump.socket()?;
    let (up, upstream) = (reporter.clone(), pump.clone());
    std::thread::spawn(move || {
        let result = upstream.upstream(&input, &|n| up.sent(n));
        let fin_sent = result.is_ok() && send_fin && upstream.half_close();
        up.upstream_ended(result, fin_sent);
    });
    std::thread::spawn(move || {
        let result = pump.downstream(&output, &|n| reporter.received(n));
        reporter.downstream_ended(result);
    });
    Ok(Closer::Socket(socket))
}

fn start_tasks<S: Stream>(
    stream: S,
    input: Input,
    output: Output,
    send_fin: bool,
    reporter: Reporter,
) -> Closer {
    let (mut from_peer, mut to_peer) = tokio::io::split(stream);
    let up = reporter.clone();
    let upstream = tokio::spawn(async move {
        let mut input = input.into_reader();
        let result = copy(&mut input, &mut to_peer, |n| up.sent(n)).await;
        let fin_sent = result.is_ok() && send_fin && to_peer.shutdown().await.is_ok();
        up.upstream_ended(result, fin_sent);
    });
    let downstream = tokio::spawn(async move {
        let mut output = output.into_writer();
        let result = copy(&mut from_peer, &mut output, |n| reporter.received(n)).await;
        if result.is_ok() {
            // The peer's end of stream is our output's: a socket passes the
            // FIN on (a proxy's tunnel), a pipe or a file is complete.
            let _ = output.shutdown().await;
        }
        reporter.downstream_ended(result);
    });
    Closer::Tasks([upstream.abort_handle(), downstream.abort_handle()])
}
