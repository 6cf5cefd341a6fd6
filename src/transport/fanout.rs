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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::io::OutputQueue;
use super::stream::Stream;

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
    output: OutputQueue,
}

impl Fanout {
    /// Starts distributing `input` to the clients that will join.
    pub fn start(mut input: mpsc::Receiver<Arc<[u8]>>, output: OutputQueue) -> Self {
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

    /// Serves one client until it has closed its side and its queue is
    /// drained. Both directions are parts of this one future, so dropping it
    /// (an idle limit, a stop) ends the client entirely.
    pub async fn serve_client<S: Stream>(self, stream: S) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (mut reader, mut writer) = tokio::io::split(stream);
        let (queue, mut pending) = mpsc::channel::<Arc<[u8]>>(QUEUE_PER_CLIENT);
        {
            let mut clients = self.clients.lock().unwrap();
            if clients.input_done {
                drop(queue); // FIN as soon as the writer starts
            } else {
                clients.queues.insert(id, queue);
            }
        }
        let writing = async move {
            while let Some(chunk) = pending.recv().await {
                if writer.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            let _ = writer.shutdown().await;
        };
        let reading = async {
            let mut buf = vec![0u8; CHUNK];
            while let Ok(n @ 1..) = reader.read(&mut buf).await {
                if self.output.write(buf[..n].to_vec()).await.is_err() {
                    break;
                }
            }
            // Leaving drops our queue: the writer sends what is left, then FIN.
            self.clients.lock().unwrap().queues.remove(&id);
        };
        tokio::join!(reading, writing);
    }
}
