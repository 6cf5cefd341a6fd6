//! The application layer: what the transport's bytes say, for the
//! protocols a course (and most debugging) meets first.
//!
//! [`decode`] picks a decoder by content where the protocol announces itself
//! (an HTTP request line or status line, a TLS record header) and by port
//! where it does not (DNS on 53, mDNS on 5353, LLMNR on 5355). A payload
//! that looks like a protocol but does not parse is [`Application::Malformed`],
//! never an error: a capture goes on. Without a decoder, the caller names
//! the protocol by port ([`Application::Named`]).

pub mod dns;
pub mod http;
pub mod tls;

use serde::Serialize;

pub use dns::Dns;
pub use http::Http;
pub use tls::Tls;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum Application<'a> {
    Dns(Dns),
    Http(Http),
    Tls(Tls),
    /// No decoder: the protocol the services database names for the port.
    Named {
        name: &'a str,
    },
    /// Bytes that start like `protocol` but do not parse as it.
    Malformed {
        #[serde(rename = "expected")]
        protocol: &'static str,
        problem: String,
    },
}

/// Which transport carried the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Tcp,
    Udp,
}

const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// Decodes `payload`, sent from `ports.0` to `ports.1`, when a decoder
/// recognises it; `None` otherwise (and for an empty payload).
pub fn decode(carrier: Carrier, ports: (u16, u16), payload: &[u8]) -> Option<Application<'static>> {
    if payload.is_empty() {
        return None;
    }
    let dns_port = DNS_PORTS.contains(&ports.0) || DNS_PORTS.contains(&ports.1);
    match carrier {
        Carrier::Udp if dns_port => Some(dns::decode(payload)),
        Carrier::Udp => None,
        Carrier::Tcp if dns_port => {
            // DNS over TCP: each message behind a two-byte length.
            let message = payload.get(2..)?;
            Some(dns::decode(message))
        }
        Carrier::Tcp if tls::looks_like(payload) => Some(tls::decode(payload)),
        Carrier::Tcp if http::looks_like(payload) => Some(http::decode(payload)),
        Carrier::Tcp => None,
    }
}

impl Application<'_> {
    /// The protocol's name, as the summary line starts it.
    pub fn protocol(&self) -> &str {
        match self {
            Application::Dns(_) => "DNS",
            Application::Http(_) => "HTTP",
            Application::Tls(_) => "TLS",
            Application::Named { name } => name,
            Application::Malformed { protocol, .. } => protocol,
        }
    }

    /// One line: the protocol and what this message says.
    pub fn summary(&self) -> String {
        match self {
            Application::Named { name } => name.to_string(),
            _ => format!("{} {}", self.protocol(), self.brief()),
        }
    }

    /// What this message says, without the protocol's name.
    pub fn brief(&self) -> String {
        match self {
            Application::Dns(dns) => dns.summary(),
            Application::Http(http) => http.summary(),
            Application::Tls(tls) => tls.summary(),
            Application::Named { .. } => String::new(),
            Application::Malformed { problem, .. } => format!("[malformed: {problem}]"),
        }
    }

    /// Whether a decoder read it (not just named by port, nor malformed).
    pub fn is_decoded(&self) -> bool {
        !matches!(
            self,
            Application::Named { .. } | Application::Malformed { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_payload_makes_a_decoder_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            tcp in any::<bool>(),
            port in prop::sample::select(vec![53u16, 80, 443, 5353, 9999]),
            first in prop::sample::select(vec![0x16u8, b'G', b'H', 0, 0x17]),
        ) {
            let mut payload = vec![first, 3];
            payload.extend(bytes);
            let carrier = if tcp { Carrier::Tcp } else { Carrier::Udp };
            if let Some(app) = decode(carrier, (40000, port), &payload) {
                let _ = app.summary();
            }
        }
    }
}
