//! Banners: what an open TCP port says first.
//!
//! Many services introduce themselves the moment a client connects (SSH's
//! version line, SMTP's and FTP's `220` greeting); HTTP and most others wait
//! for the client to speak. So the banner is what arrives within the wait,
//! and when nothing does, what a `HEAD` request provokes: HTTP servers answer
//! with their status line, and many other services answer any line with an
//! error that names them. On the usual HTTP ports the request goes at once.
//! A greeting often comes in more than one segment, so after the first bytes
//! reading goes on briefly, up to a limit.

use std::time::Duration;

use socket2::Socket;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most bytes kept of a banner.
pub const BANNER_LIMIT: usize = 512;

/// After the first bytes, how long a pause ends the banner.
const SETTLE: Duration = Duration::from_millis(50);

/// The nudge for a service that waits for its client.
const NUDGE: &[u8] = b"HEAD / HTTP/1.0\r\n\r\n";

/// Ports where HTTP is all but certain, so the nudge needs no wait first.
const HTTP_PORTS: [u16; 8] = [80, 81, 591, 3128, 8000, 8008, 8080, 8888];

/// The banner of an open port's connection, or `None` when the service said
/// nothing, even when nudged, within `wait` each time.
pub(super) async fn read(socket: Socket, port: u16, wait: Duration) -> Option<Vec<u8>> {
    let mut stream = TcpStream::from_std(std::net::TcpStream::from(socket)).ok()?;
    if !HTTP_PORTS.contains(&port)
        && let Some(banner) = collect(&mut stream, wait).await
    {
        return Some(banner);
    }
    stream.write_all(NUDGE).await.ok()?;
    collect(&mut stream, wait).await
}

async fn collect(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut banner = vec![0; BANNER_LIMIT];
    let mut len = match tokio::time::timeout(wait, stream.read(&mut banner)).await {
        Ok(Ok(n)) if n > 0 => n,
        _ => return None,
    };
    while len < BANNER_LIMIT {
        match tokio::time::timeout(SETTLE, stream.read(&mut banner[len..])).await {
            Ok(Ok(n)) if n > 0 => len += n,
            _ => break,
        }
    }
    banner.truncate(len);
    Some(banner)
}

/// The service a banner names, whatever port it came from.
pub fn service_from_banner(banner: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(&banner[..banner.len().min(200)]).to_ascii_uppercase();
    let first_line = text.lines().next().unwrap_or("");
    Some(if text.starts_with("SSH-") {
        "ssh"
    } else if text.starts_with("HTTP/") {
        "http"
    } else if text.starts_with("220") && first_line.contains("SMTP") {
        "smtp"
    } else if text.starts_with("220") && first_line.contains("FTP") {
        "ftp"
    } else if text.starts_with("+OK") {
        "pop3"
    } else if text.starts_with("* OK") && first_line.contains("IMAP") {
        "imap"
    } else if text.starts_with("RFB ") {
        "vnc"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_name_their_services() {
        for (banner, service) in [
            (&b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"[..], Some("ssh")),
            (b"220 mail.example.org ESMTP Postfix\r\n", Some("smtp")),
            (b"220 (vsFTPd 3.0.3)\r\n", Some("ftp")),
            (b"220 ProFTPD Server ready.\r\n", Some("ftp")),
            (b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n", Some("http")),
            (b"+OK Dovecot ready.\r\n", Some("pop3")),
            (b"* OK [CAPABILITY IMAP4rev1] ready\r\n", Some("imap")),
            (b"RFB 003.008\n", Some("vnc")),
            (b"hello\n", None),
            (b"", None),
        ] {
            assert_eq!(service_from_banner(banner), service, "{banner:?}");
        }
    }
}
