//! Echo: the course's looping server, which sends every client back exactly
//! the bytes it sent.
//!
//! Backpressure is the whole design. A client that sends without reading
//! fills our send buffer; from then on we hold at most one chunk for it and
//! stop reading from it, so its own unread replies throttle it and our memory
//! stays bounded however many clients misbehave. The chunk lives on the
//! stack between awaits and is only copied to the heap when the kernel takes
//! part of it, which keeps 10,000 idle clients cheap.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::events::{Event, Events, Summary};

const CHUNK: usize = 16 * 1024;

/// Echoes until the client closes its side, then closes ours (FIN after the
/// last echoed byte). Emits [`Event::Closed`] with the byte counts.
pub async fn serve_client(mut stream: TcpStream, peer: SocketAddr, events: Events) {
    let started = Instant::now();
    let mut summary = Summary::default();
    let result = echo(&stream, &mut summary).await;
    if result.is_ok() {
        let _ = stream.shutdown().await;
    }
    summary.duration = started.elapsed();
    events.emit(Event::Closed { peer, summary });
}

async fn echo(stream: &TcpStream, summary: &mut Summary) -> std::io::Result<()> {
    let mut unsent: Vec<u8> = Vec::new();
    loop {
        if !unsent.is_empty() {
            stream.writable().await?;
            match stream.try_write(&unsent) {
                Ok(n) => {
                    summary.sent += n as u64;
                    unsent.drain(..n);
                    if unsent.is_empty() {
                        unsent = Vec::new();
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            continue;
        }
        stream.readable().await?;
        let mut chunk = [0u8; CHUNK];
        let n = match stream.try_read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        summary.received += n as u64;
        let written = match stream.try_write(&chunk[..n]) {
            Ok(written) => written,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        summary.sent += written as u64;
        unsent.extend_from_slice(&chunk[written..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunk must not live inside the future, or every idle client
    /// would cost 16 KiB: 160 MiB for 10,000 of them.
    #[tokio::test]
    async fn an_idle_client_costs_less_than_its_chunk() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let peer = client.local_addr().unwrap();
        let served = serve_client(client, peer, Events::none());
        assert!(
            std::mem::size_of_val(&served) < CHUNK / 4,
            "{} bytes per client",
            std::mem::size_of_val(&served)
        );
    }
}
