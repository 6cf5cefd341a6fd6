//! The datagram client: stdin to one peer, datagram by datagram, replies to
//! stdout, over UDP or a Unix datagram socket.
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

use super::socket::DatagramSocket;
use super::{MAX_DATAGRAM, STDIN_DATAGRAM, explain};
use crate::addr::Family;
use crate::error::{Error, Result};
use crate::shutdown::StopTrigger;
use crate::transport::connect::{Target, resolve_and_tell};
use crate::transport::endpoint::{Endpoint, UnixName};
use crate::transport::events::{Event, Events};
use crate::transport::io::{Input, Output, OutputQueue, read_datagrams};
use crate::transport::session::{RelayEnd, SessionEnd, stopped};
use crate::transport::unix::{connect_datagram, name_of_tokio};

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

/// Sends `input` to `target`, one datagram per line, and writes the replies
/// to `output`, until the input has ended and no reply came for `linger`,
/// or `trigger` fires.
pub async fn run(
    target: &Target,
    options: &UdpClientOptions,
    (input, output): (Input, Output),
    events: &Events,
    trigger: &StopTrigger,
) -> Result<SessionEnd> {
    let mut shutdown = trigger.subscribe();
    let (socket, peer) = match target {
        Target::Host { host, port } => open_udp(host, *port, options, events).await?,
        Target::Unix(name) => {
            let socket = connect_datagram(name)?;
            let local = socket.local_addr().map(|a| name_of_tokio(&a));
            let local = Endpoint::unix(local.unwrap_or(UnixName::Unnamed));
            let peer = Endpoint::unix(name.clone());
            events.emit(Event::DatagramPeer {
                local,
                peer: peer.clone(),
            });
            (DatagramSocket::Unix(socket), peer)
        }
    };
    let broadcast = options.broadcast && matches!(target, Target::Host { .. });

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
                    let sent = if broadcast {
                        socket.send_to(&datagram, &peer).await
                    } else {
                        socket.send(&datagram).await
                    };
                    if let Err(e) = sent {
                        break Err(explain(e, &peer));
                    }
                    events.emit(Event::DatagramSent { to: peer.clone(), len: datagram.len() });
                }
                None => {
                    input_open = false;
                    quiet_until = Some(Instant::now() + options.linger);
                }
            },
            received = socket.recv_from(&mut buf) => {
                let (len, from) = match received {
                    Ok(datagram) => datagram,
                    Err(e) => break Err(explain(e, &peer)),
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

/// A UDP socket for `host` port `port`: connected to it, or for broadcast
/// only allowed to send there.
async fn open_udp(
    host: &str,
    port: u16,
    options: &UdpClientOptions,
    events: &Events,
) -> Result<(DatagramSocket, Endpoint)> {
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
        let connected = socket.connect(peer).await;
        connected.map_err(|e| explain(e, &peer.into()))?;
    }
    let local = socket.local_addr().unwrap_or(any);
    events.emit(Event::DatagramPeer {
        local: local.into(),
        peer: peer.into(),
    });
    Ok((DatagramSocket::Udp(socket), peer.into()))
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
