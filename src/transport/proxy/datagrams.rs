//! SOCKS5 UDP ASSOCIATE (RFC 1928, section 7): datagrams relayed for a
//! client while its control connection lasts.
//!
//! The client asks over its TCP connection; the proxy binds a UDP socket
//! and says where. Each datagram the client sends there starts with a
//! small header naming its destination (the same address forms as a
//! CONNECT request); the proxy strips it and sends the rest on, and wraps
//! each answer in a header naming its source on the way back. One socket
//! serves both sides: a datagram from the client's address goes out, any
//! other comes back. The association ends when the control connection
//! closes (or nothing moved for `-w`), as the RFC says.
//!
//! Who may use it: only the client's own address (its IP from the control
//! connection; the port it announced, or else the first it sends from),
//! and only towards `--allow`'s networks, answers likewise only from them.
//! Fragments (FRAG not 0) are dropped, as most servers do.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::server::ProxyRules;
use crate::addr::Family;
use crate::transport::activity::Activity;
use crate::transport::connect::resolve_and_tell;
use crate::transport::events::{Events, Summary};
use crate::transport::udp::MAX_DATAGRAM;

/// Where a client's datagram goes, as its header names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Ip(SocketAddr),
    Name(String, u16),
}

/// Reads a client's datagram: its destination and where the payload starts.
/// `None` for a fragment or a malformed header (the datagram is dropped).
pub fn parse(datagram: &[u8]) -> Option<(Destination, usize)> {
    let [0, 0, 0, kind, rest @ ..] = datagram else {
        return None;
    };
    let (destination, used) = match kind {
        1 => {
            let ip: [u8; 4] = rest.get(..4)?.try_into().ok()?;
            let port = u16::from_be_bytes(rest.get(4..6)?.try_into().ok()?);
            (Destination::Ip(SocketAddr::from((ip, port))), 6)
        }
        4 => {
            let ip: [u8; 16] = rest.get(..16)?.try_into().ok()?;
            let port = u16::from_be_bytes(rest.get(16..18)?.try_into().ok()?);
            (Destination::Ip(SocketAddr::from((ip, port))), 18)
        }
        3 => {
            let len = usize::from(*rest.first()?);
            let name = std::str::from_utf8(rest.get(1..1 + len)?).ok()?;
            let port = u16::from_be_bytes(rest.get(1 + len..3 + len)?.try_into().ok()?);
            (Destination::Name(name.to_string(), port), 3 + len)
        }
        _ => return None,
    };
    Some((destination, 4 + used))
}

/// The header for an answer from `source`.
pub fn header(source: SocketAddr) -> Vec<u8> {
    let mut header = vec![0, 0, 0];
    super::server::push_address(&mut header, source);
    header
}

/// Relays datagrams on `socket` for the client at `client_ip` until the
/// control connection `control` ends or nothing moved for `idle`.
/// `announced` is where the client said it would send from (port 0: not
/// known yet). What moved: received from the client, sent back to it.
pub async fn relay<C: AsyncRead + Unpin>(
    control: &mut C,
    socket: UdpSocket,
    client_ip: IpAddr,
    announced: Option<u16>,
    rules: &ProxyRules,
    idle: Option<Duration>,
) -> Summary {
    let started = Instant::now();
    let activity = Activity::new();
    let mut client = announced.map(|port| SocketAddr::new(client_ip, port));
    let mut names: HashMap<(String, u16), Option<SocketAddr>> = HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut control_byte = [0u8; 1];
    loop {
        let (len, from) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(datagram) => datagram,
                // An ICMP error for an earlier datagram: that one was lost.
                Err(_) => continue,
            },
            // Anything but more bytes (there should be none) ends it.
            read = control.read(&mut control_byte) => match read {
                Ok(1..) => continue,
                _ => break,
            },
            _ = activity.expired(idle) => break,
        };
        let from_client = match client {
            Some(client) => from == client,
            None => from.ip() == client_ip,
        };
        if from_client {
            client = Some(from);
            let Some((destination, start)) = parse(&buf[..len]) else {
                continue;
            };
            let Some(to) = resolve(destination, &mut names).await else {
                continue;
            };
            if allowed(rules, to.ip()) && socket.send_to(&buf[start..len], to).await.is_ok() {
                activity.received((len - start) as u64);
            }
        } else if let Some(client) = client
            && allowed(rules, from.ip())
        {
            let mut answer = header(from);
            answer.extend_from_slice(&buf[..len]);
            if socket.send_to(&answer, client).await.is_ok() {
                activity.sent(len as u64);
            }
        }
    }
    Summary {
        received: activity.received_total(),
        sent: activity.sent_total(),
        duration: started.elapsed(),
    }
}

fn allowed(rules: &ProxyRules, ip: IpAddr) -> bool {
    rules.allow.is_empty() || rules.allow.iter().any(|net| net.contains(&ip))
}

/// The destination's address; names are resolved once per association.
async fn resolve(
    destination: Destination,
    names: &mut HashMap<(String, u16), Option<SocketAddr>>,
) -> Option<SocketAddr> {
    let (name, port) = match destination {
        Destination::Ip(addr) => return Some(addr),
        Destination::Name(name, port) => (name, port),
    };
    if let Some(known) = names.get(&(name.clone(), port)) {
        return *known;
    }
    let found = resolve_and_tell(&name, port, Family::Any, &Events::none())
        .await
        .ok()
        .and_then(|addrs| addrs.first().copied());
    names.insert((name, port), found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_and_write_the_rfc_forms() {
        let mut datagram = vec![0, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
        datagram.extend_from_slice(b"payload");
        let (destination, start) = parse(&datagram).unwrap();
        assert_eq!(
            destination,
            Destination::Ip("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(&datagram[start..], b"payload");
        let named = [0, 0, 0, 3, 4, b'h', b'o', b's', b't', 0, 53, b'q'];
        let (destination, start) = parse(&named).unwrap();
        assert_eq!(destination, Destination::Name("host".into(), 53));
        assert_eq!(&named[start..], b"q");
        assert!(
            parse(&[0, 0, 1, 1, 127, 0, 0, 1, 0, 53]).is_none(),
            "a fragment"
        );
        assert!(parse(&[0, 0, 0, 1, 127]).is_none(), "cut short");
        assert_eq!(
            header("[::1]:53".parse().unwrap()),
            [&[0, 0, 0, 4][..], &[0; 15], &[1, 0, 53]].concat()
        );
    }
}
