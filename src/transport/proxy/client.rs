//! The client's half of each proxy protocol: ask the proxy to connect
//! onward, read its answer, and hand back the socket, now a tunnel.

use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;

use super::{Protocol, ProxyUrl};
use crate::addr::Family;
use crate::error::{Error, Result};
use crate::transport::connect::resolve_and_tell;
use crate::transport::events::{Event, Events};

/// How long a proxy may take to answer: one that accepts the connection and
/// says nothing must not hold the client forever.
const ANSWER_LIMIT: Duration = Duration::from_secs(30);

/// Asks `proxy`, at the far end of `stream`, to connect to `host` port
/// `port`; the same socket, carrying the target's bytes, on success.
pub async fn tunnel(
    stream: TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    family: Family,
    events: &Events,
) -> Result<TcpStream> {
    let target = target_name(host, port);
    let asked = async {
        match proxy.protocol {
            Protocol::Socks5h => socks5(stream, proxy, (host, port)).await,
            Protocol::Socks5 => {
                // sockit resolves, the proxy gets an address.
                let addrs = resolve_and_tell(host, port, family, events).await?;
                socks5(stream, proxy, addrs[0]).await
            }
            Protocol::HttpConnect => http_connect(stream, proxy, &target).await,
        }
    };
    let stream = tokio::time::timeout(ANSWER_LIMIT, asked)
        .await
        .map_err(|_| {
            refused(
                proxy,
                format!("no answer within {} s", ANSWER_LIMIT.as_secs()),
            )
        })??;
    events.emit(Event::Tunnel {
        proxy: proxy.to_string(),
        target,
    });
    Ok(stream)
}

/// `host:port`, with an IPv6 address in brackets, as HTTP and our messages
/// write it.
fn target_name(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn refused(proxy: &ProxyUrl, reason: String) -> Error {
    Error::Proxy {
        proxy: proxy.to_string(),
        reason,
    }
}

async fn socks5<'t>(
    stream: TcpStream,
    proxy: &ProxyUrl,
    target: impl tokio_socks::IntoTargetAddr<'t>,
) -> Result<TcpStream> {
    let answered = match &proxy.credentials {
        None => Socks5Stream::connect_with_socket(stream, target).await,
        Some((user, pass)) => {
            Socks5Stream::connect_with_password_and_socket(stream, target, user, pass).await
        }
    };
    answered
        .map(Socks5Stream::into_inner)
        .map_err(|e| refused(proxy, socks5_reason(&e, proxy)))
}

/// A SOCKS5 failure in RFC 1928's words (and its reply code), with what to do.
fn socks5_reason(e: &tokio_socks::Error, proxy: &ProxyUrl) -> String {
    use tokio_socks::Error as E;
    let reply =
        |code: u8, words: &str, hint: &str| format!("{words} (SOCKS5 reply 0x0{code}){hint}");
    match e {
        E::NoAcceptableAuthMethods => match proxy.credentials {
            None => "no acceptable authentication method (05 FF): it wants a user name and password; put USER:PASS@ in the proxy URL".into(),
            Some(_) => "no acceptable authentication method (05 FF), not even a user name and password".into(),
        },
        E::PasswordAuthFailure(status) => format!(
            "authentication failed (RFC 1929 status {status}): check the user name and password in the proxy URL"
        ),
        E::GeneralSocksServerFailure => reply(1, "general SOCKS server failure", ""),
        E::ConnectionNotAllowedByRuleset => reply(2, "connection not allowed by ruleset", ""),
        E::NetworkUnreachable => reply(3, "network unreachable", " from the proxy"),
        E::HostUnreachable => reply(4, "host unreachable", " from the proxy"),
        E::ConnectionRefused => reply(
            5,
            "connection refused",
            ": nothing listens on that port, as the proxy sees it",
        ),
        E::TtlExpired => reply(6, "TTL expired", ""),
        E::CommandNotSupported => reply(7, "command not supported", ""),
        E::AddressTypeNotSupported => reply(
            8,
            "address type not supported",
            match proxy.protocol {
                Protocol::Socks5h => ": try socks5:// to send an address instead of the name",
                _ => "",
            },
        ),
        E::Io(io) => format!("the connection to it failed: {io}"),
        other => format!("it does not speak SOCKS5 as expected: {other}"),
    }
}

/// The longest answer header we read from an HTTP proxy.
const HEADER_LIMIT: usize = 16 * 1024;

async fn http_connect(mut stream: TcpStream, proxy: &ProxyUrl, target: &str) -> Result<TcpStream> {
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, pass)) = &proxy.credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    let io_failed = |e: std::io::Error| refused(proxy, format!("the connection to it failed: {e}"));
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(io_failed)?;
    // Byte by byte up to the blank line: what follows it is the target's,
    // and must stay in the socket for the session.
    let mut header = Vec::new();
    while !header.ends_with(b"\r\n\r\n") {
        if header.len() >= HEADER_LIMIT {
            return Err(refused(proxy, "its answer's header never ended".into()));
        }
        let byte = stream.read_u8().await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                refused(proxy, "it closed the connection without an answer".into())
            }
            _ => io_failed(e),
        })?;
        header.push(byte);
    }
    let header = String::from_utf8_lossy(&header);
    let status_line = header.lines().next().unwrap_or_default();
    let mut words = status_line.splitn(3, ' ');
    let (version, code, phrase) = (words.next(), words.next(), words.next().unwrap_or(""));
    let code: u16 = match (version, code.and_then(|c| c.parse().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code,
        _ => {
            return Err(refused(
                proxy,
                format!("it does not speak HTTP: {status_line:?}"),
            ));
        }
    };
    if (200..300).contains(&code) {
        return Ok(stream);
    }
    let hint = match code {
        407 if proxy.credentials.is_none() => {
            ": it wants a user name and password; put USER:PASS@ in the proxy URL"
        }
        // 401 is what some proxies (tinyproxy) answer to a wrong password.
        401 | 407 => ": check the user name and password in the proxy URL",
        403 => ": its rules do not allow this target",
        _ => "",
    };
    Err(refused(
        proxy,
        format!("HTTP {code} {}{hint}", phrase.trim()),
    ))
}
