//! The `-v` narration: each step of the server and client flow, one line each.

use std::io::Write;
use std::time::Duration;

use crate::transport::events::TlsDetails;
use crate::transport::{Event, Events, Summary};

/// A human sentence for each event, or `None` for events not worth a line.
pub fn describe(event: &Event) -> Option<String> {
    Some(match event {
        Event::SocketCreated { family, datagram } => match (*family, *datagram) {
            ("Unix", true) => "socket: a Unix datagram socket".into(),
            ("Unix", false) => "socket: a Unix stream socket".into(),
            (family, true) => format!("socket: a UDP datagram socket over {family}"),
            (family, false) => format!("socket: a TCP stream socket over {family}"),
        },
        Event::Bound { requested } => format!("bind: {requested}"),
        Event::Listening { local, backlog } => {
            let mut text = match backlog {
                Some(backlog) => format!("listen: backlog {backlog}\nlistening on {local}"),
                None => format!("listening on {local}"),
            };
            if local.ip().is_some_and(|addr| addr.ip().is_loopback()) {
                text.push_str(
                    "\nonly this machine can connect; to accept other hosts, listen on 0.0.0.0 or :: (e.g. sockit listen 0.0.0.0 PORT)",
                );
            }
            text
        }
        Event::AwaitingClient => "accept: waiting for a client".into(),
        Event::Accepted { peer, active } => {
            format!("connection from {peer} ({active} active)")
        }
        Event::RefusedOverCap { peer, cap } => {
            format!("refused {peer}: {cap} clients already connected (--max-conns {cap})")
        }
        Event::AcceptFailed { reason, retry_in } => {
            format!(
                "accept failed ({reason}); retrying in {} ms",
                retry_in.as_millis()
            )
        }
        Event::Resolved { host, addrs } => {
            let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            format!("resolved {host} to {}", list.join(", "))
        }
        Event::Connecting { addr } => format!("connecting to {addr}"),
        Event::AttemptFailed { addr, reason } => format!("{addr}: {reason}"),
        Event::Connected { local, peer } if peer.is_unix() => {
            format!("connected to {peer} from {local}")
        }
        Event::Connected { local, peer } => {
            format!("connected to {peer} from {local} (three-way handshake complete)")
        }
        Event::ProgramExited { peer, status } => format!("program for {peer} ended: {status}"),
        Event::TunnelOpened { peer, target } => format!("tunnel: {peer} to {target}"),
        Event::Tunnel { proxy, target } => format!("proxy: {proxy} connected us to {target}"),
        Event::InputFinished { peer } if peer.is_unix() => format!(
            "input finished: shut down our sending side to {peer} (end of stream), still reading its reply"
        ),
        Event::InputFinished { peer } => {
            format!("input finished: sent FIN to {peer}, still reading its reply")
        }
        Event::PeerFinished { peer } if peer.is_unix() => {
            format!("{peer} finished sending (end of stream)")
        }
        Event::PeerFinished { peer } => format!("{peer} finished sending (FIN received)"),
        Event::IdleTimeout { peer, after } => format!(
            "nothing moved for {} s: closing the connection with {peer}",
            after.as_secs_f64()
        ),
        Event::Closed { peer, summary } => format!("closed {peer}: {}", summarize(summary)),
        Event::SlowClientDropped { peer, queued } => {
            format!("dropped {peer}: it stopped reading ({queued} messages queued)")
        }
        Event::Datagram { from, len } => format!("datagram from {from}: {len} bytes"),
        Event::DatagramSent { to, len } => format!("sent {len} bytes to {to}"),
        Event::DatagramPeer { local, peer } if peer.is_unix() => format!(
            "sending datagrams to {peer} from {local} (our own name, so that replies can reach us)"
        ),
        Event::DatagramPeer { local, peer } => format!(
            "sending datagrams to {peer} from {local} (UDP has no handshake: the peer is known only once it answers)"
        ),
        Event::AwaitingPeer => {
            "no peer has sent a datagram yet: stdin waits for the first one, then goes to whoever sent last".into()
        }
        Event::Stopping { signal } => format!("{signal}: stopping"),
        Event::TlsEstablished(details) => tls_established(details),
        Event::ClientFailed { reason, .. } => reason.clone(),
    })
}

/// The presentation layer's handshake, as the TCP steps are narrated: what
/// was agreed, the other side's certificate, the verdict.
fn tls_established(details: &TlsDetails) -> String {
    let mut text = format!(
        "tls: {} with {}, {}, ALPN {}, SNI {}, handshake in {:.3} ms",
        details.version,
        details.peer,
        details.cipher,
        details.alpn.as_deref().unwrap_or("none"),
        details.server_name.as_deref().unwrap_or("none"),
        details.elapsed.as_secs_f64() * 1000.0
    );
    if let Some(leaf) = details.chain.first() {
        text.push_str(&format!(
            "\ncertificate: subject {}, issuer {}, valid {} to {} ({} days left), names {}, {}",
            leaf.subject,
            leaf.issuer,
            leaf.not_before,
            leaf.not_after,
            leaf.days_left,
            if leaf.san.is_empty() {
                "none".to_string()
            } else {
                leaf.san.join(", ")
            },
            leaf.sha256
        ));
    }
    text.push_str(&format!("\ntls: {}", details.verdict));
    text
}

/// "received 1.2 MB, sent 0 B in 0.35 s".
pub fn summarize(summary: &Summary) -> String {
    format!(
        "received {}, sent {} in {}",
        bytes(summary.received),
        bytes(summary.sent),
        seconds(summary.duration)
    )
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Events printed to stderr, one line per step. Write errors are ignored:
/// narration must never end a session.
pub fn to_stderr() -> Events {
    Events::new(|event| {
        if let Some(text) = describe(event) {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{text}");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line_carries_the_real_address() {
        let text = describe(&Event::Listening {
            local: "[::1]:4242".parse::<std::net::SocketAddr>().unwrap().into(),
            backlog: Some(16),
        })
        .unwrap();
        assert!(
            text.lines().any(|l| l == "listening on [::1]:4242"),
            "{text}"
        );
        assert!(text.contains("0.0.0.0"), "loopback hint missing: {text}");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
    }
}
