//! TLS records (RFC 8446, 5246), read with the tls-parser crate: the
//! handshake's hellos say the most that is ever in clear text: the server
//! name the client asks for (SNI), the protocols it offers (ALPN), the
//! versions it supports, and the version and cipher the server chose.

use serde::Serialize;
use tls_parser::{
    TlsCipherSuite, TlsExtension, TlsMessage, TlsMessageHandshake, parse_tls_extensions,
    parse_tls_plaintext,
};

use super::Application;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tls {
    ClientHello {
        /// The highest version offered: supported_versions' best, or the hello's own.
        version: String,
        server_name: Option<String>,
        alpn: Vec<String>,
    },
    ServerHello {
        /// The version chosen (TLS 1.3 says it in supported_versions).
        version: String,
        cipher: String,
        alpn: Option<String>,
    },
    /// Another handshake message, or another record type.
    Record { description: String },
}

/// Whether the bytes begin a TLS record (a known type, version 3.x).
pub fn looks_like(payload: &[u8]) -> bool {
    payload.len() >= 5 && (0x14..=0x18).contains(&payload[0]) && payload[1] == 3
}

fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

pub fn decode(payload: &[u8]) -> Application<'static> {
    let record_type = payload[0];
    if record_type != 0x16 {
        let description = match record_type {
            0x14 => "ChangeCipherSpec",
            0x15 => "Alert",
            0x17 => "application data",
            _ => "heartbeat",
        };
        return Application::Tls(Tls::Record {
            description: description.into(),
        });
    }
    let record = match parse_tls_plaintext(payload) {
        Ok((_, record)) => record,
        Err(tls_parser::nom::Err::Incomplete(_)) => {
            return Application::Tls(Tls::Record {
                description: "handshake record (continues in later segments)".into(),
            });
        }
        Err(_) => {
            return Application::Malformed {
                protocol: "TLS",
                problem: "the handshake record does not parse".into(),
            };
        }
    };
    let message = record.msg.first();
    Application::Tls(match message {
        Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))) => {
            let extensions = extensions(hello.ext);
            let mut version = hello.version.0;
            let mut server_name = None;
            let mut alpn = Vec::new();
            for extension in &extensions {
                match extension {
                    TlsExtension::SNI(names) => {
                        server_name = names
                            .first()
                            .map(|(_, name)| String::from_utf8_lossy(name).into_owned());
                    }
                    TlsExtension::ALPN(protocols) => {
                        alpn = protocols
                            .iter()
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                            .collect();
                    }
                    TlsExtension::SupportedVersions(versions) => {
                        // GREASE values (0x?a?a) are not versions.
                        if let Some(best) = versions
                            .iter()
                            .map(|v| v.0)
                            .filter(|v| v & 0x0f0f != 0x0a0a)
                            .max()
                        {
                            version = version.max(best);
                        }
                    }
                    _ => {}
                }
            }
            Tls::ClientHello {
                version: version_name(version),
                server_name,
                alpn,
            }
        }
        Some(TlsMessage::Handshake(TlsMessageHandshake::ServerHello(hello))) => {
            let mut version = hello.version.0;
            let mut alpn = None;
            for extension in extensions(hello.ext) {
                match extension {
                    TlsExtension::SupportedVersions(versions) => {
                        if let Some(chosen) = versions.first() {
                            version = chosen.0;
                        }
                    }
                    TlsExtension::ALPN(protocols) => {
                        alpn = protocols
                            .first()
                            .map(|p| String::from_utf8_lossy(p).into_owned());
                    }
                    _ => {}
                }
            }
            let id = hello.cipher.0;
            Tls::ServerHello {
                version: version_name(version),
                cipher: TlsCipherSuite::from_id(id)
                    .map_or_else(|| format!("0x{id:04x}"), |c| c.name.to_string()),
                alpn,
            }
        }
        Some(TlsMessage::Handshake(other)) => Tls::Record {
            description: handshake_name(other).into(),
        },
        _ => Tls::Record {
            description: "handshake record".into(),
        },
    })
}

fn extensions(bytes: Option<&[u8]>) -> Vec<TlsExtension<'_>> {
    bytes
        .and_then(|b| parse_tls_extensions(b).ok())
        .map(|(_, list)| list)
        .unwrap_or_default()
}

fn handshake_name(message: &TlsMessageHandshake<'_>) -> &'static str {
    match message {
        TlsMessageHandshake::Certificate(_) => "Certificate",
        TlsMessageHandshake::ServerKeyExchange(_) => "ServerKeyExchange",
        TlsMessageHandshake::ServerDone(_) => "ServerHelloDone",
        TlsMessageHandshake::ClientKeyExchange(_) => "ClientKeyExchange",
        TlsMessageHandshake::Finished(_) => "Finished",
        TlsMessageHandshake::NewSessionTicket(_) => "NewSessionTicket",
        TlsMessageHandshake::HelloRetryRequest(_) => "HelloRetryRequest",
        _ => "handshake message",
    }
}

impl Tls {
    /// `ClientHello for example.org (TLS 1.3, ALPN h2, http/1.1)` or
    /// `ServerHello TLS 1.3 TLS_AES_128_GCM_SHA256`.
    pub fn summary(&self) -> String {
        match self {
            Tls::ClientHello {
                version,
                server_name,
                alpn,
            } => {
                let name = server_name
                    .as_ref()
                    .map(|n| format!(" for {n}"))
                    .unwrap_or_default();
                let alpn = if alpn.is_empty() {
                    String::new()
                } else {
                    format!(", ALPN {}", alpn.join(", "))
                };
                format!("ClientHello{name} ({version}{alpn})")
            }
            Tls::ServerHello {
                version,
                cipher,
                alpn,
            } => {
                let alpn = alpn
                    .as_ref()
                    .map(|a| format!(", ALPN {a}"))
                    .unwrap_or_default();
                format!("ServerHello {version} {cipher}{alpn}")
            }
            Tls::Record { description } => description.clone(),
        }
    }
}
