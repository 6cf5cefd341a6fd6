//! The UDP server: one bound socket, every peer at once.
//!
//! Relay mode prints each datagram's payload as it arrives and sends stdin,
//! line by line, to the peer heard from most recently (netcat's habit); lines
//! typed before anyone has spoken wait for the first peer. Echo mode sends
//! each datagram back to its own sender unchanged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use super::{MAX_DATAGRAM, STDIN_DATAGRAM, caused_by_a_peer};
use crate::error::{Error, Result};
use crate::transport::events::{Event, Events};
use crate::transport::relay::SessionEnd;
use crate::transport::shutdown::{Shutdown, Trigger, stopped};
use crate::transport::stdio::{Output, read_datagrams};

/// Datagrams handled per readiness wake-up before checking for a stop, so a
/// flood cannot keep the server from noticing SIGINT.
const BURST: usize = 1024;

/// Serves datagrams on `socket` until `trigger` fires (a signal, or our
/// stdout closing).
pub async fn serve(
    socket: UdpSocket,
    echo: bool,
    events: Events,
    trigger: Trigger,
) -> Result<SessionEnd> {
    let mut shutdown = trigger.subscribe();
    if echo {
        return echo_datagrams(&socket, &events, &mut shutdown).await;
    }
    let socket = Arc::new(socket);
    let output = Output::start(std::io::stdout(), trigger.clone());
    let (last_peer, heard) = watch::channel(None);
    let replies = tokio::spawn(reply_from_stdin(
        Arc::clone(&socket),
        read_datagrams(std::io::stdin(), STDIN_DATAGRAM),
        heard,
        events.clone(),
    ));
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let ended = loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buf) => received,
            stop = shutdown.wait() => break Ok(stopped(stop, &events)),
        };
        let (len, from) = match received {
            Ok(datagram) => datagram,
            Err(e) if caused_by_a_peer(&e) => continue,
            Err(e) => break Err(Error::io("receiving a datagram", e)),
        };
        events.emit(Event::Datagram { from, len });
        last_peer.send_replace(Some(from));
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

async fn echo_datagrams(
    socket: &UdpSocket,
    events: &Events,
    shutdown: &mut Shutdown,
) -> Result<SessionEnd> {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            ready = socket.readable() => ready.map_err(|e| Error::io("waiting for datagrams", e))?,
            stop = shutdown.wait() => return Ok(stopped(stop, events)),
        }
        // Drain what is queued: one wake-up per burst, not per datagram.
        for _ in 0..BURST {
            let (len, from) = match socket.try_recv_from(&mut buf) {
                Ok(datagram) => datagram,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if caused_by_a_peer(&e) => continue,
                Err(e) => return Err(Error::io("receiving a datagram", e)),
            };
            events.emit(Event::Datagram { from, len });
            let sent = match socket.try_send_to(&buf[..len], from) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    socket.send_to(&buf[..len], from).await
                }
                other => other,
            };
            match sent {
                Ok(_) => {}
                Err(e) if caused_by_a_peer(&e) => {}
                Err(e) => return Err(Error::io(format!("echoing to {from}"), e)),
            }
        }
    }
}

async fn reply_from_stdin(
    socket: Arc<UdpSocket>,
    mut datagrams: mpsc::Receiver<Vec<u8>>,
    mut heard: watch::Receiver<Option<SocketAddr>>,
    events: Events,
) {
    let mut told = false;
    while let Some(datagram) = datagrams.recv().await {
        let to = loop {
            if let Some(peer) = *heard.borrow_and_update() {
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
        if socket.send_to(&datagram, to).await.is_ok() {
            events.emit(Event::DatagramSent {
                to,
                len: datagram.len(),
            });
        }
    }
}
