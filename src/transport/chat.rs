//! Chat: a broker that passes each line a client sends to every other client.
//!
//! Lines are prefixed with the sender's address, joins and leaves are
//! announced, and the sender does not get its own line back. Two dangers of a
//! broker are handled where they arise:
//!
//! - Terminal injection: peers' bytes are shown escaped (`\x1b`, `\r`, invalid
//!   UTF-8), so no client can move another's cursor or retitle its window.
//! - A slow or stuck client. Each client has a bounded queue of
//!   [`QUEUE_PER_CLIENT`] messages. A full queue makes the sender wait, so a
//!   flood is paced by the slowest reader and no reader loses a line; but a
//!   client whose connection has taken no bytes for [`STUCK_AFTER`] while its
//!   queue is full is disconnected (IRC's "SendQ exceeded") and its departure
//!   announced. A stuck client can therefore delay the room once, by at most
//!   `STUCK_AFTER`, and never again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::SendTimeoutError;
use tokio::task::AbortHandle;

use super::endpoint::Endpoint;
use super::events::{Event, Events};
use super::io::OutputQueue;
use super::stream::Stream;

/// Messages queued for one client.
pub const QUEUE_PER_CLIENT: usize = 256;
/// How long a client with a full queue may take no bytes before it is dropped.
pub const STUCK_AFTER: Duration = Duration::from_secs(1);
/// Longer lines are cut and delivered in pieces, so one client cannot make
/// the broker buffer without bound.
pub const MAX_LINE: usize = 4096;

type Message = Arc<[u8]>;

#[derive(Clone)]
struct Member {
    peer: Endpoint,
    queue: mpsc::Sender<Message>,
    /// Milliseconds after the room's origin when its socket last took bytes.
    last_progress_ms: Arc<AtomicU64>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

/// The set of connected clients. Cloning shares the room.
#[derive(Clone)]
pub struct Room {
    members: Arc<Mutex<HashMap<u64, Member>>>,
    next_id: Arc<AtomicU64>,
    origin: Instant,
    /// Where the room's transcript goes (the server's stdout), if anywhere.
    transcript: Option<OutputQueue>,
    events: Events,
}

impl Room {
    pub fn new(transcript: Option<OutputQueue>, events: Events) -> Self {
        Room {
            members: Arc::default(),
            next_id: Arc::default(),
            origin: Instant::now(),
            transcript,
            events,
        }
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// Adds a client and serves it until it leaves or is dropped as stuck.
    /// Its reader and writer are tasks of their own (so a stuck client can
    /// be expelled from another client's broadcast); dropping this future
    /// (an idle limit, a stop) ends them too.
    pub async fn serve_client<S: Stream>(self, stream: S, who: Endpoint) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, mut pending) = mpsc::channel::<Message>(QUEUE_PER_CLIENT);
        let (reader, mut writer) = tokio::io::split(stream);
        let peer: Arc<str> = who.label().into();
        let member = Member {
            peer: who,
            queue,
            last_progress_ms: Arc::new(AtomicU64::new(self.now_ms())),
            tasks: Arc::default(),
        };
        let _departure = Departure {
            room: self.clone(),
            id,
            peer: Arc::clone(&peer),
            tasks: Arc::clone(&member.tasks),
        };

        let (progress, room) = (Arc::clone(&member.last_progress_ms), self.clone());
        let write_task = tokio::spawn(async move {
            while let Some(message) = pending.recv().await {
                if writer.write_all(&message).await.is_err() {
                    break;
                }
                progress.store(room.now_ms(), Ordering::Relaxed);
            }
            let _ = writer.shutdown().await;
        });
        member.tasks.lock().unwrap().push(write_task.abort_handle());

        // Who hears of the arrival is settled at the moment of joining: a
        // client that connects right after must not hear of this one's
        // arrival too (it is already among the "others" of its welcome).
        let (others, earlier) = {
            let mut members = self.members.lock().unwrap();
            let earlier = everyone_but(&members, id);
            members.insert(id, member.clone());
            (members.len() - 1, earlier)
        };
        let _ = member.queue.try_send(Arc::from(
            format!("* you are {peer}; {others} other(s) here\n").into_bytes(),
        ));
        self.announce(id, format!("* {peer} joined\n"), Some(earlier))
            .await;

        let (room, speaker) = (self.clone(), Arc::clone(&peer));
        let read_task = tokio::spawn(async move {
            let mut lines = BufReader::new(reader);
            let mut line = Vec::with_capacity(256);
            loop {
                line.clear();
                let mut limited = (&mut lines).take(MAX_LINE as u64);
                match limited.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        room.broadcast(id, format!("[{speaker}] {}\n", escape_line(&line)))
                            .await;
                    }
                }
            }
        });
        member.tasks.lock().unwrap().push(read_task.abort_handle());
        // Aborted means expelled as stuck; the expeller announced it.
        let _ = read_task.await;

        // The client closed its side: leaving the room drops its queue, so
        // the writer sends what is left, then FIN.
        let left = self.members.lock().unwrap().remove(&id).is_some();
        drop(member);
        if left {
            self.broadcast(id, format!("* {peer} left\n")).await;
        }
        let _ = write_task.await;
    }

    /// Delivers `text` to every member but `from`, waiting for room in
    /// queues that are full but moving, and dropping members that are stuck.
    async fn broadcast(&self, from: u64, text: String) {
        self.announce(from, text, None).await
    }

    /// Delivers `text` to `recipients` (every member but `from` when None),
    /// then announces whoever had to be dropped on the way.
    async fn announce(&self, from: u64, text: String, recipients: Option<Vec<(u64, Member)>>) {
        let mut announcements = vec![(from, text, recipients)];
        while let Some((from, text, recipients)) = announcements.pop() {
            let message: Message = Arc::from(text.into_bytes());
            if let Some(transcript) = &self.transcript {
                // Best effort: a slow stdout must not stall the room.
                transcript.try_write(message.to_vec());
            }
            let recipients =
                recipients.unwrap_or_else(|| everyone_but(&self.members.lock().unwrap(), from));
            for (id, member) in recipients {
                if !self.deliver(&member, &message).await && self.expel(id) {
                    self.events.emit(Event::SlowClientDropped {
                        peer: member.peer.clone(),
                        queued: QUEUE_PER_CLIENT,
                    });
                    announcements.push((
                        id,
                        format!(
                            "* {} left (too slow: {QUEUE_PER_CLIENT} messages queued)\n",
                            member.peer
                        ),
                        None,
                    ));
                }
            }
        }
    }

    /// Queues `message` for `member`; false if the member is stuck.
    async fn deliver(&self, member: &Member, message: &Message) -> bool {
        loop {
            match member
                .queue
                .send_timeout(Arc::clone(message), STUCK_AFTER)
                .await
            {
                Ok(()) | Err(SendTimeoutError::Closed(_)) => return true,
                Err(SendTimeoutError::Timeout(_)) => {
                    let last = member.last_progress_ms.load(Ordering::Relaxed);
                    let idle = Duration::from_millis(self.now_ms().saturating_sub(last));
                    if idle >= STUCK_AFTER {
                        return false;
                    }
                }
            }
        }
    }

    /// Removes a member and stops its tasks; false if it was already gone.
    fn expel(&self, id: u64) -> bool {
        let Some(member) = self.members.lock().unwrap().remove(&id) else {
            return false;
        };
        member
            .tasks
            .lock()
            .unwrap()
            .iter()
            .for_each(AbortHandle::abort);
        true
    }
}

/// A client's way out when its serving future is dropped before it left
/// (an idle limit, a stop): its tasks end, and if it was still in the room,
/// it leaves and the others are told.
struct Departure {
    room: Room,
    id: u64,
    peer: Arc<str>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Drop for Departure {
    fn drop(&mut self) {
        self.tasks
            .lock()
            .unwrap()
            .iter()
            .for_each(AbortHandle::abort);
        let still_here = self.room.members.lock().unwrap().remove(&self.id).is_some();
        if still_here && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (room, id, peer) = (self.room.clone(), self.id, Arc::clone(&self.peer));
            runtime.spawn(async move { room.broadcast(id, format!("* {peer} left\n")).await });
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

/// The members other than `from`, as they are now.
fn everyone_but(members: &HashMap<u64, Member>, from: u64) -> Vec<(u64, Member)> {
    members
        .iter()
        .filter(|(id, _)| **id != from)
        .map(|(id, m)| (*id, m.clone()))
        .collect()
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
        assert_eq!(
            escape_line("caf\u{e9} \u{9b}1m".as_bytes()),
            "caf\u{e9} \\u{9b}1m"
        );
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
