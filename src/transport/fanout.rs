//! Keep-open relay: many clients at once share our stdin and stdout, as with
//! `ncat -k`.
//!
//! Every chunk of stdin goes to every connected client, at the pace of the
//! slowest one (each has a small bounded queue, and the distributor waits for
//! room, so nothing is dropped and memory stays bounded). Every client's bytes
//! go to stdout in the chunks they arrived in. When stdin ends, every client
//! gets FIN after its queue drains, and later clients get FIN at once.
//! A client's session ends when it closes its sending side.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::events::{Event, Events, Summary};
use super::stdio::Output;

const QUEUE_PER_CLIENT: usize = 8;
const CHUNK: usize = 16 * 1024;

#[derive(Default)]
struct Clients {
    queues: HashMap<u64, mpsc::Sender<Arc<[u8]>>>,
    input_done: bool,
}

#[derive(Clone)]
pub struct Fanout {
    clients: Arc<Mutex<Clients>>,
    next_id: Arc<AtomicU64>,
    output: Output,
}

impl Fanout {
    /// Starts distributing `input` to the clients that will join.
    pub fn start(mut input: mpsc::Receiver<Arc<[u8]>>, output: Output) -> Self {
        let fanout = Fanout {
            clients: Arc::default(),
            next_id: Arc::default(),
            output,
        };
        let clients = Arc::clone(&fanout.clients);
        tokio::spawn(async move {
            while let Some(chunk) = input.recv().await {
                let targets: Vec<_> = clients.lock().unwrap().queues.values().cloned().collect();
                for target in targets {
                    // A client that left meanwhile has closed its queue; skip it.
                    let _ = target.send(Arc::clone(&chunk)).await;
                }
            }
            // Dropping the queues tells every writer to send FIN once drained.
            let mut clients = clients.lock().unwrap();
            clients.input_done = true;
            clients.queues.clear();
        });
        fanout
    }

    pub async fn serve_client(self, stream: TcpStream, peer: SocketAddr, events: Events) {
        let started = Instant::now();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (mut reader, mut writer) = stream.into_split();
        let (queue, mut pending) = mpsc::channel::<Arc<[u8]>>(QUEUE_PER_CLIENT);
        {
            let mut clients = self.clients.lock().unwrap();
            if !clients.input_done {
                clients.queues.insert(id, queue);
            }
        }
        let sent = Arc::new(AtomicU64::new(0));
        let writer_sent = Arc::clone(&sent);
        let write_task = tokio::spawn(async move {
            while let Some(chunk) = pending.recv().await {
                if writer.write_all(&chunk).await.is_err() {
                    return;
                }
                writer_sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            let _ = writer.shutdown().await;
        });

        let mut received = 0u64;
        let mut buf = vec![0u8; CHUNK];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    received += n as u64;
                    if self.output.write(buf[..n].to_vec()).await.is_err() {
                        break;
                    }
                }
            }
        }
        self.clients.lock().unwrap().queues.remove(&id);
        let _ = write_task.await;
        events.emit(Event::Closed {
            peer,
            summary: Summary {
                received,
                sent: sent.load(Ordering::Relaxed),
                duration: started.elapsed(),
            },
        });
    }
}
