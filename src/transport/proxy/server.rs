//! The proxy's side (`sockit proxy`): one port that speaks SOCKS5 (RFC 1928,
//! with RFC 1929's login) and HTTP CONNECT, told apart by the client's first
//! byte (5 is SOCKS5's version; an HTTP request starts with a letter).
//!
//! Each client asks for a target; the proxy checks its rules (the login, the
//! allowed networks, checked against every address the target resolves to,
//! so a refused target is never contacted), connects, answers, and from
//! then on the connection is a relay between two sockets: the same relay as
//! `listen`'s, so a tunnel costs what a relayed connection costs.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use std::time::Duration;

use base64::Engine;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::addr::Family;
use crate::transport::connect::resolve_and_tell;
use crate::transport::endpoint::Endpoint;
use crate::transport::events::{Event, Events};
use crate::transport::session::SessionOptions;
use crate::transport::stream::{Connection, Stream};
use crate::transport::tunnel::{self, TunnelError};

use super::datagrams;

/// What the proxy allows.
#[derive(Debug, Clone, Default)]
pub struct ProxyRules {
    /// A user name and password every client must give.
    pub login: Option<(String, String)>,
    /// Targets must be in one of these networks (any target when empty).
    pub allow: Vec<IpNet>,
}

/// How long a client may take to say what it wants, and a target to answer.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);
const CONNECT_LIMIT: Duration = Duration::from_secs(30);

/// Serves one client of the proxy, from its request to the tunnel's end.
/// `local` is our end of its connection.
pub async fn serve_proxy_client<S: Stream>(
    mut client: S,
    peer: &Endpoint,
    local: &Endpoint,
    rules: &ProxyRules,
    session: &SessionOptions,
    events: &Events,
) {
    let failed = |reason: String| {
        let peer = peer.clone();
        events.emit(Event::ClientFailed { peer, reason });
    };
    // The proxy listens on TCP; its clients have addresses.
    let (Some(client_at), Some(local_at)) = (peer.ip(), local.ip()) else {
        return failed(format!("proxy client {peer}: not an IP client"));
    };
    let asking = open_tunnel(&mut client, rules, local_at.ip());
    let opened = match tokio::time::timeout(REQUEST_LIMIT, asking).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(reason)) => return failed(format!("proxy client {peer}: {reason}")),
        Err(_) => {
            return failed(format!(
                "proxy client {peer} asked for nothing within {} s",
                REQUEST_LIMIT.as_secs()
            ));
        }
    };
    let idle = session.idle_timeout;
    let summary = match opened {
        Opened::Tunnel(target, name) => {
            events.emit(Event::TunnelOpened {
                peer: peer.clone(),
                target: name.clone(),
            });
            let (summary, failure) = match client.into_connection() {
                Ok(client) => tunnel::join_sockets(client, Connection::Tcp(target), idle).await,
                Err(client) => tunnel::join(client, target, idle).await,
            };
            match failure {
                Some(TunnelError::Client(e)) => failed(format!("proxy client {peer}: {e}")),
                Some(TunnelError::Target(e)) => {
                    failed(format!("proxy client {peer}: the target {name}: {e}"))
                }
                None => {}
            }
            summary
        }
        Opened::Datagrams(socket, announced) => {
            let relay_at = socket
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            events.emit(Event::TunnelOpened {
                peer: peer.clone(),
                target: format!("UDP relay on {relay_at}"),
            });
            let client_ip = client_at.ip();
            datagrams::relay(&mut client, socket, client_ip, announced, rules, idle).await
        }
    };
    let peer = peer.clone();
    events.emit(Event::Closed { peer, summary });
}

/// A target as the client named it.
enum Target {
    Ip(IpAddr),
    Name(String),
}

impl Target {
    fn show(&self, port: u16) -> String {
        match self {
            Target::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
            Target::Ip(ip) => format!("{ip}:{port}"),
            Target::Name(name) => format!("{name}:{port}"),
        }
    }
}

/// Why a target was not reached, in both protocols' terms.
enum Refusal {
    NotAllowed,
    Refused,
    Unreachable,
    TimedOut,
    Failed,
}

impl Refusal {
    fn socks5_reply(&self) -> u8 {
        match self {
            Refusal::NotAllowed => 0x02,
            Refusal::Refused => 0x05,
            Refusal::Unreachable => 0x04,
            Refusal::TimedOut => 0x04,
            Refusal::Failed => 0x01,
        }
    }

    fn http_status(&self) -> &'static str {
        match self {
            Refusal::NotAllowed => "403 Forbidden",
            Refusal::TimedOut => "504 Gateway Timeout",
            _ => "502 Bad Gateway",
        }
    }

    fn words(&self) -> &'static str {
        match self {
            Refusal::NotAllowed => "not allowed by --allow",
            Refusal::Refused => "connection refused",
            Refusal::Unreachable => "host unreachable",
            Refusal::TimedOut => "timed out",
            Refusal::Failed => "connection failed",
        }
    }
}

/// What a client's request opened.
enum Opened {
    /// A connection to the target, and its name.
    Tunnel(TcpStream, String),
    /// A UDP relay (SOCKS5 UDP ASSOCIATE) and the port the client said it
    /// would send from, if it said.
    Datagrams(UdpSocket, Option<u16>),
}

/// Reads the request, checks it, connects and answers: what was opened, or
/// why not (the client has been told). `local` is our end of the client's
/// connection, where a UDP relay binds.
async fn open_tunnel<S>(client: &mut S, rules: &ProxyRules, local: IpAddr) -> Result<Opened, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let first = client.read_u8().await.map_err(|e| e.to_string())?;
    if first == 5 {
        socks5(client, rules, local).await
    } else {
        http_connect(client, first, rules)
            .await
            .map(|(stream, name)| Opened::Tunnel(stream, name))
    }
}

async fn socks5<S>(client: &mut S, rules: &ProxyRules, local: IpAddr) -> Result<Opened, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io = |e: std::io::Error| e.to_string();
    let count = client.read_u8().await.map_err(io)?;
    let mut methods = vec![0u8; count as usize];
    client.read_exact(&mut methods).await.map_err(io)?;
    let wanted = if rules.login.is_some() { 0x02 } else { 0x00 };
    if !methods.contains(&wanted) {
        let _ = client.write_all(&[5, 0xFF]).await;
        return Err("SOCKS5: no acceptable authentication method offered (answered 05 FF)".into());
    }
    client.write_all(&[5, wanted]).await.map_err(io)?;
    if let Some((user, pass)) = &rules.login {
        // RFC 1929: version 1, then the name and the password, each with
        // its length first.
        let _version = client.read_u8().await.map_err(io)?;
        let given_user = read_short_string(client).await.map_err(io)?;
        let given_pass = read_short_string(client).await.map_err(io)?;
        if given_user != user.as_bytes() || given_pass != pass.as_bytes() {
            let _ = client.write_all(&[1, 1]).await;
            return Err("SOCKS5: wrong user name or password".into());
        }
        client.write_all(&[1, 0]).await.map_err(io)?;
    }
    let mut head = [0u8; 4];
    client.read_exact(&mut head).await.map_err(io)?;
    let [_, command, _, kind] = head;
    let target = match kind {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await.map_err(io)?;
            Target::Ip(IpAddr::from(ip))
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await.map_err(io)?;
            Target::Ip(IpAddr::from(ip))
        }
        3 => {
            let name = read_short_string(client).await.map_err(io)?;
            Target::Name(String::from_utf8_lossy(&name).into_owned())
        }
        _ => {
            let _ = client.write_all(&socks5_reply(0x08, None)).await;
            return Err(format!(
                "SOCKS5: address type {kind} unknown (answered 0x08)"
            ));
        }
    };
    let port = client.read_u16().await.map_err(io)?;
    let name = target.show(port);
    if command == 3 {
        return associate(client, &target, port, local).await;
    }
    if command != 1 {
        let _ = client.write_all(&socks5_reply(0x07, None)).await;
        return Err(format!(
            "SOCKS5: command {command} to {name} not supported (answered 0x07)"
        ));
    }
    match reach(&target, port, rules).await {
        Ok(stream) => {
            let bound = stream.local_addr().ok();
            client
                .write_all(&socks5_reply(0, bound))
                .await
                .map_err(io)?;
            Ok(Opened::Tunnel(stream, name))
        }
        Err(refusal) => {
            let code = refusal.socks5_reply();
            let _ = client.write_all(&socks5_reply(code, None)).await;
            Err(format!(
                "{name}: {} (SOCKS5 reply 0x0{code})",
                refusal.words()
            ))
        }
    }
}

/// UDP ASSOCIATE: a UDP socket on the address the client reached us at,
/// announced in the reply. `target` is where the client will send from
/// (zeros when it does not know yet); only its port is kept, the address
/// being the client's own.
async fn associate<S>(
    client: &mut S,
    target: &Target,
    port: u16,
    local: IpAddr,
) -> Result<Opened, String>
where
    S: AsyncWrite + Unpin,
{
    let socket = match UdpSocket::bind(SocketAddr::new(local, 0)).await {
        Ok(socket) => socket,
        Err(e) => {
            let _ = client.write_all(&socks5_reply(0x01, None)).await;
            return Err(format!(
                "SOCKS5 UDP ASSOCIATE: cannot bind a UDP socket: {e} (answered 0x01)"
            ));
        }
    };
    let bound = socket.local_addr().ok();
    client
        .write_all(&socks5_reply(0, bound))
        .await
        .map_err(|e| e.to_string())?;
    let announced = match target {
        Target::Ip(_) if port != 0 => Some(port),
        _ => None,
    };
    Ok(Opened::Datagrams(socket, announced))
}

async fn read_short_string<S: AsyncRead + Unpin>(client: &mut S) -> std::io::Result<Vec<u8>> {
    let len = client.read_u8().await?;
    let mut bytes = vec![0u8; len as usize];
    client.read_exact(&mut bytes).await?;
    Ok(bytes)
}

/// A reply with the address the proxy connected from (zeros on failure).
fn socks5_reply(code: u8, bound: Option<SocketAddr>) -> Vec<u8> {
    let bound = bound.unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    let mut reply = vec![5, code, 0];
    push_address(&mut reply, bound);
    reply
}

/// An address in SOCKS5's form: its type (1 IPv4, 4 IPv6), the address,
/// the port.
pub(super) fn push_address(bytes: &mut Vec<u8>, addr: SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => {
            bytes.push(1);
            bytes.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            bytes.push(4);
            bytes.extend_from_slice(&ip.octets());
        }
    }
    bytes.extend_from_slice(&addr.port().to_be_bytes());
}

/// The longest request header we read.
const HEADER_LIMIT: usize = 16 * 1024;

async fn http_connect<S>(
    client: &mut S,
    first: u8,
    rules: &ProxyRules,
) -> Result<(TcpStream, String), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Byte by byte to the blank line: what follows belongs to the target.
    let mut header = vec![first];
    while !header.ends_with(b"\r\n\r\n") {
        if header.len() >= HEADER_LIMIT {
            let _ = answer(client, "431 Request Header Fields Too Large", "").await;
            return Err("HTTP: request header too large".into());
        }
        header.push(client.read_u8().await.map_err(|e| e.to_string())?);
    }
    let header = String::from_utf8_lossy(&header).into_owned();
    let mut lines = header.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut words = request.split(' ');
    let (method, uri, version) = (
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
        words.next().unwrap_or("HTTP/1.1"),
    );
    if let Some((user, pass)) = &rules.login {
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        let given = lines.clone().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("proxy-authorization")
                .then(|| value.trim().to_string())
        });
        if given.as_deref() != Some(&format!("Basic {expected}")) {
            let challenge = "Proxy-Authenticate: Basic realm=\"sockit\"\r\n";
            let _ = answer(client, "407 Proxy Authentication Required", challenge).await;
            return Err(format!(
                "HTTP: {method} {uri} without the right login (answered 407)"
            ));
        }
    }
    // A forward proxy's request: `GET http://host:port/path HTTP/1.1`. The
    // origin gets it in its own form (`GET /path`), without the proxy's
    // headers, and closes after answering: one request per connection.
    let (authority, forwarded) = if method == "CONNECT" {
        (uri.to_string(), None)
    } else {
        let Some(rest) = uri.strip_prefix("http://") else {
            let _ = answer(client, "501 Not Implemented", "").await;
            return Err(format!(
                "HTTP: {method} {uri}: only CONNECT and http:// requests are forwarded (answered 501)"
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, "/"),
        };
        let mut head = format!("{method} {path} {version}\r\n");
        for line in lines.filter(|line| !line.is_empty()) {
            let name = line.split(':').next().unwrap_or("").trim();
            let hop_by_hop = [
                "proxy-authorization",
                "proxy-connection",
                "connection",
                "keep-alive",
            ];
            if !hop_by_hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                head.push_str(line);
                head.push_str("\r\n");
            }
        }
        head.push_str("Connection: close\r\n\r\n");
        let authority = if authority.contains(':') && !authority.ends_with(']') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        (authority, Some(head))
    };
    let Some((host, port)) = split_authority(&authority) else {
        let _ = answer(client, "400 Bad Request", "").await;
        return Err(format!(
            "HTTP: {method} {uri:?} names no host:port (answered 400)"
        ));
    };
    let target = match host.parse::<IpAddr>() {
        Ok(ip) => Target::Ip(ip),
        Err(_) => Target::Name(host.to_string()),
    };
    let name = target.show(port);
    match reach(&target, port, rules).await {
        Ok(mut stream) => {
            match forwarded {
                Some(head) => stream.write_all(head.as_bytes()).await,
                None => answer(client, "200 Connection established", "").await,
            }
            .map_err(|e| e.to_string())?;
            Ok((stream, name))
        }
        Err(refusal) => {
            let status = refusal.http_status();
            let _ = answer(client, status, "").await;
            Err(format!("{name}: {} (answered {status})", refusal.words()))
        }
    }
}

async fn answer<S: AsyncWrite + Unpin>(
    client: &mut S,
    status: &str,
    headers: &str,
) -> std::io::Result<()> {
    let body = if status.starts_with('2') {
        ""
    } else {
        "Content-Length: 0\r\n"
    };
    let text = format!("HTTP/1.1 {status}\r\n{headers}{body}\r\n");
    client.write_all(text.as_bytes()).await?;
    client.flush().await
}

/// `host:port` or `[v6]:port`.
fn split_authority(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = authority.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host, port.parse().ok()?)).filter(|(host, _)| !host.is_empty())
}

/// Resolves the target, keeps the addresses the rules allow, and connects
/// to the first that answers. A target outside the rules is never contacted.
async fn reach(target: &Target, port: u16, rules: &ProxyRules) -> Result<TcpStream, Refusal> {
    let mut addrs = match target {
        Target::Ip(ip) => vec![SocketAddr::new(*ip, port)],
        Target::Name(name) => resolve_and_tell(name, port, Family::Any, &Events::none())
            .await
            .map_err(|_| Refusal::Unreachable)?,
    };
    if !rules.allow.is_empty() {
        addrs.retain(|addr| rules.allow.iter().any(|net| net.contains(&addr.ip())));
        if addrs.is_empty() {
            return Err(Refusal::NotAllowed);
        }
    }
    let mut last = Refusal::Failed;
    for addr in addrs {
        match tokio::time::timeout(CONNECT_LIMIT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => {
                last = match e.kind() {
                    ErrorKind::ConnectionRefused => Refusal::Refused,
                    ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                        Refusal::Unreachable
                    }
                    _ => Refusal::Failed,
                }
            }
            Err(_) => last = Refusal::TimedOut,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn authorities_and_replies() {
        assert_eq!(
            split_authority("example.org:443"),
            Some(("example.org", 443))
        );
        assert_eq!(split_authority("[::1]:8080"), Some(("::1", 8080)));
        assert_eq!(split_authority(":80"), None);
        assert_eq!(split_authority("host"), None);
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 1080);
        assert_eq!(socks5_reply(0, Some(v6)).len(), 4 + 16 + 2);
        assert_eq!(socks5_reply(2, None), vec![5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    }
}
