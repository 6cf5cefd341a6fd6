//! Chat: a broker that passes each line a client sends to every other client.
//!
//! Lines are prefixed with the sender's address, joins and leaves are
//! announced, and the sender does not get its own line back. Two dangers of a
//! broker are handled where they arise:
//!
//! - Terminal injection: peers' bytes are shown escaped (`\x1b`, `\r`, invalid
//!   UTF-8), so no client can move another's cursor or retitle its window.
//! - A slow or stuck client: each client has a bounded queue. Senders never
//!   wait for it; if its queue is full, that client alone is disconnected
//!   (IRC's "SendQ exceeded"), and the others carry on at full speed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::events::{Event, Events, Summary};

/// Messages queued for one client before it counts as stuck.
pub const QUEUE_PER_CLIENT: usize = 256;
/// Longer lines are cut and delivered in pieces, so one client cannot make
/// the broker buffer without bound.
pub const MAX_LINE: usize = 4096;

type Message = Arc<[u8]>;

struct Member {
    peer: SocketAddr,
    queue: mpsc::Sender<Message>,
    tasks: Vec<AbortHandle>,
}

/// The set of connected clients. Cloning shares the room.
#[derive(Clone)]
pub struct Room {
    members: Arc<Mutex<HashMap<u64, Member>>>,
    next_id: Arc<AtomicU64>,
    /// Where the room's transcript goes (the server's stdout), if anywhere.
    transcript: Option<mpsc::Sender<Vec<u8>>>,
    events: Events,
}

impl Room {
    pub fn new(transcript: Option<mpsc::Sender<Vec<u8>>>, events: Events) -> Self {
        Room {
            members: Arc::default(),
            next_id: Arc::default(),
            transcript,
            events,
        }
    }

    /// Adds a client and serves it until it leaves or is dropped for being slow.
    pub async fn serve_client(self, stream: TcpStream, peer: SocketAddr) {
        let started = Instant::now();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, pending) = mpsc::channel(QUEUE_PER_CLIENT);
        let (reader, mut writer) = stream.into_split();
        let received = Arc::new(AtomicU64::new(0));
        let sent = Arc::new(AtomicU64::new(0));

        let writer_sent = Arc::clone(&sent);
        let write_task = tokio::spawn(async move {
            let mut pending: mpsc::Receiver<Message> = pending;
            while let Some(message) = pending.recv().await {
                if writer.write_all(&message).await.is_err() {
                    break;
                }
                writer_sent.fetch_add(message.len() as u64, Ordering::Relaxed);
            }
            let _ = writer.shutdown().await;
        });

        let others = {
            let mut members = self.members.lock().unwrap();
            let others = members.len();
            members.insert(
                id,
                Member {
                    peer,
                    queue: queue.clone(),
                    tasks: vec![write_task.abort_handle()],
                },
            );
            others
        };
        let _ = queue.try_send(Arc::from(
            format!("* you are {peer}; {others} other(s) here\n").into_bytes(),
        ));
        drop(queue);
        self.announce(id, format!("* {peer} joined\n"));

        let reader_room = self.clone();
        let reader_received = Arc::clone(&received);
        let read_task = tokio::spawn(async move {
            let mut lines = BufReader::new(reader);
            let mut line = Vec::with_capacity(256);
            loop {
                line.clear();
                let mut limited = (&mut lines).take(MAX_LINE as u64);
                match limited.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        reader_received.fetch_add(n as u64, Ordering::Relaxed);
                        let text = format!("[{peer}] {}\n", escape_line(&line));
                        reader_room.announce(id, text);
                    }
                }
            }
        });
        if let Some(member) = self.members.lock().unwrap().get_mut(&id) {
            member.tasks.push(read_task.abort_handle());
        }
        let _ = read_task.await;

        // The client closed its side (or was dropped): leaving the room drops
        // its queue, so the writer sends what is left, then FIN.
        if self.members.lock().unwrap().remove(&id).is_some() {
            self.announce(id, format!("* {peer} left\n"));
        }
        let _ = write_task.await;
        self.events.emit(Event::Closed {
            peer,
            summary: Summary {
                received: received.load(Ordering::Relaxed),
                sent: sent.load(Ordering::Relaxed),
                duration: started.elapsed(),
            },
        });
    }

    /// Queues `text` for every member but `from`. Members whose queue is
    /// full are disconnected, and their departure is announced in turn.
    fn announce(&self, from: u64, text: String) {
        let message: Message = Arc::from(text.into_bytes());
        if let Some(transcript) = &self.transcript {
            // The transcript is best effort: a slow stdout must not stall the room.
            let _ = transcript.try_send(message.to_vec());
        }
        let mut dropped = Vec::new();
        {
            let mut members = self.members.lock().unwrap();
            members.retain(|id, member| {
                let full = *id != from
                    && matches!(
                        member.queue.try_send(Arc::clone(&message)),
                        Err(mpsc::error::TrySendError::Full(_))
                    );
                if full {
                    member.tasks.iter().for_each(AbortHandle::abort);
                    dropped.push((*id, member.peer));
                }
                !full
            });
        }
        for (id, peer) in dropped {
            self.events.emit(Event::SlowClientDropped {
                peer,
                queued: QUEUE_PER_CLIENT,
            });
            self.announce(id, format!("* {peer} left (too slow: {QUEUE_PER_CLIENT} messages queued)\n"));
        }
    }
}

/// Shows a line from a peer as text that cannot drive a terminal: control
/// characters and invalid UTF-8 become `\xNN` / `\u{NN}` escapes; tabs stay,
/// and the line ending (LF or CRLF) is removed.
pub fn escape_line(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    for chunk in line.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\t' || !c.is_control() {
                out.push(c);
            } else if (c as u32) < 0x80 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(escape_line(b"hi\r\n"), "hi");
        assert_eq!(escape_line(b"\x1b[2Jgone\n"), "\\x1b[2Jgone");
        assert_eq!(escape_line(b"bell\x07 tab\tok"), "bell\\x07 tab\tok");
        assert_eq!(escape_line("caf\u{e9} \u{9b}1m".as_bytes()), "caf\u{e9} \\u{9b}1m");
        assert_eq!(escape_line(b"\xff\xfe"), "\\xff\\xfe");
    }

    proptest! {
        #[test]
        fn output_never_holds_control_characters(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let shown = escape_line(&bytes);
            prop_assert!(shown.chars().all(|c| c == '\t' || !c.is_control()));
        }
    }
}
