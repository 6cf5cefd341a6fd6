//! The UDP client: stdin to one peer, datagram by datagram, replies to stdout.
//!
//! The socket is connected (no packet is sent by that) so the kernel can
//! report the peer host's "ICMP port unreachable" as ECONNREFUSED, which
//! netcat silently ignores; we report it. With `--broadcast` it cannot be
//! connected, because replies come from hosts other than the broadcast
//! address, so it sends with `sendto` and accepts replies from anyone.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::{MAX_DATAGRAM, STDIN_DATAGRAM, explain};
use crate::addr::Family;
use crate::error::{Error, Result};
use crate::shutdown::StopTrigger;
use crate::transport::connect::resolve_and_tell;
use crate::transport::events::{Event, Events};
use crate::transport::io::{Input, Output, OutputQueue, read_datagrams};
use crate::transport::session::{RelayEnd, SessionEnd, stopped};

/// How long to wait for replies after stdin ends, unless `-w` says otherwise.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct UdpClientOptions {
    pub family: Family,
    /// Allow sending to a broadcast address (SO_BROADCAST).
    pub broadcast: bool,
    /// After stdin's EOF, keep printing replies until this long passes with none.
    pub linger: Duration,
}

/// Sends `input` to `host` port `port`, one datagram per line, and writes
/// the replies to `output`, until the input has ended and no reply came for
/// `linger`, or `trigger` fires.
pub async fn run(
    host: &str,
    port: u16,
    options: &UdpClientOptions,
    (input, output): (Input, Output),
    events: &Events,
    trigger: &StopTrigger,
) -> Result<SessionEnd> {
    let mut shutdown = trigger.subscribe();
    let addrs = resolve_and_tell(host, port, options.family, events).await?;
    // No handshake tells which address works, so the first one is used.
    let peer = addrs[0];
    let any: SocketAddr = if peer.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(any)
        .await
        .map_err(|e| Error::io("creating a UDP socket", e))?;
    if options.broadcast {
        socket
            .set_broadcast(true)
            .map_err(|e| Error::io("setting SO_BROADCAST", e))?;
    } else {
        socket.connect(peer).await.map_err(|e| explain(e, peer))?;
    }
    let local = socket.local_addr().unwrap_or(any);
    events.emit(Event::DatagramPeer { local, peer });

    let output = OutputQueue::start(output, trigger.clone());
    let mut input = read_datagrams(input, STDIN_DATAGRAM);
    let mut input_open = true;
    // Set once stdin ends; pushed back by every reply.
    let mut quiet_until: Option<Instant> = None;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let ended = loop {
        tokio::select! {
            next = input.recv(), if input_open => match next {
                Some(datagram) => {
                    let sent = if options.broadcast {
                        socket.send_to(&datagram, peer).await
                    } else {
                        socket.send(&datagram).await
                    };
                    if let Err(e) = sent {
                        break Err(explain(e, peer));
                    }
                    events.emit(Event::DatagramSent { to: peer, len: datagram.len() });
                }
                None => {
                    input_open = false;
                    quiet_until = Some(Instant::now() + options.linger);
                }
            },
            received = socket.recv_from(&mut buf) => {
                let (len, from) = match received {
                    Ok(datagram) => datagram,
                    Err(e) => break Err(explain(e, peer)),
                };
                events.emit(Event::Datagram { from, len });
                let _ = output.write(buf[..len].to_vec()).await;
                if !input_open {
                    quiet_until = Some(Instant::now() + options.linger);
                }
            },
            _ = sleep_until(quiet_until), if quiet_until.is_some() => {
                break Ok(SessionEnd::Relay(RelayEnd::Finished));
            },
            stop = shutdown.wait() => break Ok(stopped(stop, events)),
        }
    };
    output.flush(Duration::from_secs(2)).await;
    ended
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
