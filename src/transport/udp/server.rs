//! The datagram server (UDP or Unix): one bound socket, every peer at once.
//!
//! Relay mode prints each datagram's payload as it arrives and sends stdin,
//! line by line, to the peer heard from most recently (netcat's habit); lines
//! typed before anyone has spoken wait for the first peer. Echo mode sends
//! each datagram back to its own sender unchanged. Unix senders without a
//! name cannot be answered: they are heard, never replied to.

use std::io::ErrorKind;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use super::batch::Batch;
use super::socket::DatagramSocket;
use super::{MAX_DATAGRAM, STDIN_DATAGRAM, caused_by_a_peer};
use crate::error::{Error, Result};
use crate::shutdown::{StopSignal, StopTrigger};
use crate::transport::endpoint::Endpoint;
use crate::transport::events::{Event, Events};
use crate::transport::io::{Input, Output, OutputQueue, read_datagrams};
use crate::transport::session::{SessionEnd, stopped};

/// How often the blocking echo loop looks up from `recvmmsg` for a stop.
const STOP_CHECK: Duration = Duration::from_millis(100);
/// Datagrams taken and answered per system call, at most.
const BATCH: usize = 32;

/// Serves datagrams on `socket` until `trigger` fires (a signal, or our
/// output closing). In relay mode each datagram goes to `output` and `input`
/// is cut into datagrams for the last peer; echo mode uses neither.
pub async fn serve(
    socket: DatagramSocket,
    echo: bool,
    input: Input,
    output: Output,
    events: Events,
    trigger: StopTrigger,
) -> Result<SessionEnd> {
    let mut shutdown = trigger.subscribe();
    if echo {
        return match socket {
            DatagramSocket::Udp(socket) => echo_datagrams(socket, &events, &mut shutdown).await,
            unix => echo_each(&unix, &events, &mut shutdown).await,
        };
    }
    let socket = Arc::new(socket);
    let output = OutputQueue::start(output, trigger.clone());
    let (last_peer, heard) = watch::channel(None);
    let replies = tokio::spawn(reply_from_stdin(
        Arc::clone(&socket),
        read_datagrams(input, STDIN_DATAGRAM),
        heard,
        events.clone(),
    ));
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let ended = loop {
        let (len, from) = match next_datagram(&socket, &mut buf, &events, &mut shutdown).await {
            Ok(Heard::Datagram(len, from)) => (len, from),
            Ok(Heard::Stop(ended)) => break Ok(ended),
            Err(e) => break Err(e),
        };
        if DatagramSocket::can_answer(&from) {
            last_peer.send_replace(Some(from));
        }
        // Waiting here is the backpressure: while stdout is slow we do not
        // read, and the kernel drops what overflows its buffer, as UDP may.
        if output.write(buf[..len].to_vec()).await.is_err() {
            continue; // the stop fired; the select above returns it
        }
    };
    replies.abort();
    output.flush(Duration::from_secs(2)).await;
    ended
}

/// Echo runs on a blocking thread that takes every queued datagram with one
/// `recvmmsg` and answers them all with one `sendmmsg` (see `sys::mmsg`).
/// The async version woke through epoll and a worker thread per datagram and
/// echoed 93,000 datagrams/s here; the blocking loop with recvfrom/sendto
/// 140,000; batching adds more when datagrams queue up. The read timeout
/// bounds how long a stop takes to be noticed.
async fn echo_datagrams(
    socket: UdpSocket,
    events: &Events,
    shutdown: &mut StopSignal,
) -> Result<SessionEnd> {
    let socket = socket
        .into_std()
        .map_err(|e| Error::io("preparing the socket", e))?;
    socket
        .set_nonblocking(false)
        .and_then(|_| socket.set_read_timeout(Some(STOP_CHECK)))
        .map_err(|e| Error::io("configuring the socket", e))?;
    let stop = Arc::new(AtomicBool::new(false));
    let (stop_flag, echo_events) = (Arc::clone(&stop), events.clone());
    let mut echo =
        tokio::task::spawn_blocking(move || echo_loop(&socket, &stop_flag, &echo_events));
    tokio::select! {
        ended = &mut echo => ended.map_err(|e| Error::io("echo", std::io::Error::other(e)))?,
        why = shutdown.wait() => {
            stop.store(true, Ordering::Relaxed);
            let _ = echo.await;
            Ok(stopped(why, events))
        }
    }
}

fn echo_loop(
    socket: &std::net::UdpSocket,
    stop: &AtomicBool,
    events: &Events,
) -> Result<SessionEnd> {
    let mut batch = Batch::new(BATCH, MAX_DATAGRAM);
    while !stop.load(Ordering::Relaxed) {
        let count = match batch.receive(socket.as_fd()) {
            Ok(count) => count,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if caused_by_a_peer(&e) || e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("receiving datagrams", e)),
        };
        for i in 0..count {
            if let (bytes, Some(from)) = batch.datagram(i) {
                events.emit(Event::Datagram {
                    from: Endpoint::Ip(from),
                    len: bytes.len(),
                });
            }
        }
        match batch.echo(socket.as_fd(), count) {
            Ok(_) => {}
            Err(e) if caused_by_a_peer(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("echoing datagrams", e)),
        }
    }
    // The caller saw the stop first and reports it.
    Ok(SessionEnd::Served)
}

/// Echo one datagram at a time, for Unix datagram sockets (the batched
/// path above speaks UDP's addresses).
async fn echo_each(
    socket: &DatagramSocket,
    events: &Events,
    shutdown: &mut StopSignal,
) -> Result<SessionEnd> {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, from) = match next_datagram(socket, &mut buf, events, shutdown).await? {
            Heard::Datagram(len, from) => (len, from),
            Heard::Stop(ended) => return Ok(ended),
        };
        if DatagramSocket::can_answer(&from) {
            // A sender gone since (its socket closed) is its own affair.
            let _ = socket.send_to(&buf[..len], &from).await;
        }
    }
}

/// What the server heard next.
enum Heard {
    /// This many bytes of `buf`, from this sender (narrated already).
    Datagram(usize, Endpoint),
    /// The stop fired: the server's end.
    Stop(SessionEnd),
}

/// Waits for the next datagram into `buf` or the stop, skipping the errors
/// a peer causes (they concern that peer only).
async fn next_datagram(
    socket: &DatagramSocket,
    buf: &mut [u8],
    events: &Events,
    shutdown: &mut StopSignal,
) -> Result<Heard> {
    loop {
        let received = tokio::select! {
            received = socket.recv_from(buf) => received,
            stop = shutdown.wait() => return Ok(Heard::Stop(stopped(stop, events))),
        };
        match received {
            Ok((len, from)) => {
                events.emit(Event::Datagram {
                    from: from.clone(),
                    len,
                });
                return Ok(Heard::Datagram(len, from));
            }
            Err(e) if caused_by_a_peer(&e) => {}
            Err(e) => return Err(Error::io("receiving a datagram", e)),
        }
    }
}

async fn reply_from_stdin(
    socket: Arc<DatagramSocket>,
    mut datagrams: mpsc::Receiver<Vec<u8>>,
    mut heard: watch::Receiver<Option<Endpoint>>,
    events: Events,
) {
    let mut told = false;
    while let Some(datagram) = datagrams.recv().await {
        let to = loop {
            if let Some(peer) = heard.borrow_and_update().clone() {
                break peer;
            }
            if !told {
                events.emit(Event::AwaitingPeer);
                told = true;
            }
            if heard.changed().await.is_err() {
                return;
            }
        };
        if socket.send_to(&datagram, &to).await.is_ok() {
            events.emit(Event::DatagramSent {
                to,
                len: datagram.len(),
            });
        }
    }
}
