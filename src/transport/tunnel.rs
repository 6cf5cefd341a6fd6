//! Two connections joined end to end: a proxy's tunnel.
//!
//! The relay (see `session`) joins a connection to a local side that may be
//! a terminal, a file or a program, and runs each direction as a task (or a
//! thread that splices) reporting over a channel. A tunnel joins two
//! sockets, and a proxy holds thousands of them, mostly idle: so both
//! directions run inside the client's own task, with no channel and no
//! buffer while nothing moves (see `copy`), and a bulk transfer is spliced
//! without a thread of its own. Through the relay's machinery (two tasks
//! and a channel) an idle tunnel took 11.4 KiB; see the README for this one.
//!
//! The rules are the relay's, for two sockets: each side's end of stream is
//! passed on to the other as a half-close (the other may still answer), the
//! tunnel ends when both directions have, after the idle limit, or at the
//! first error, which closes both.

use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::time::Duration;

use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, Interest};
use tokio::time::Instant;

use super::activity::Activity;
use super::copy::{Copied, copy, copy_until_bulk};
use super::events::Summary;
use super::halves::{ReadHalf, SocketRef, WriteHalf};
use super::pump::PumpError;
use super::stream::Connection;

/// How a tunnel ended when it did not end normally.
#[derive(Debug)]
pub enum TunnelError {
    /// Reading from the client, or writing to it, failed.
    Client(std::io::Error),
    /// Reading from the target, or writing to it, failed.
    Target(std::io::Error),
}

/// Joins `client` and `target` until both directions are finished or
/// nothing moved for `idle`. What moved, and the error that cut it short.
/// Two sockets take [`join_sockets`]; this is for any other streams.
pub async fn join<C, T>(
    client: C,
    target: T,
    idle: Option<Duration>,
) -> (Summary, Option<TunnelError>)
where
    C: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let activity = Activity::new();
    let (mut client_in, mut client_out) = tokio::io::split(client);
    let (mut target_in, mut target_out) = tokio::io::split(target);
    let upstream = async {
        let copied = copy(&mut client_in, &mut target_out, |n| activity.received(n)).await;
        if copied.is_ok() {
            let _ = target_out.shutdown().await;
        }
        copied.map(drop).map_err(TunnelError::upstream)
    };
    let downstream = async {
        let copied = copy(&mut target_in, &mut client_out, |n| activity.sent(n)).await;
        if copied.is_ok() {
            let _ = client_out.shutdown().await;
        }
        copied.map(drop).map_err(TunnelError::downstream)
    };
    tokio::pin!(upstream, downstream);
    both_ways(upstream, downstream, &activity, idle).await
}

/// [`join`] for two sockets: each direction copies through a pooled buffer
/// while messages are small, and once a read fills the whole buffer (a
/// bulk transfer) moves the rest with splice(2) through a pipe of its own,
/// never copying the bytes into this process. No thread and, while idle,
/// no buffer or pipe.
pub async fn join_sockets(
    mut client: Connection,
    mut target: Connection,
    idle: Option<Duration>,
) -> (Summary, Option<TunnelError>) {
    let activity = Activity::new();
    let (mut client_in, mut client_out) = client.split();
    let (mut target_in, mut target_out) = target.split();
    let upstream = async {
        let passed = pass_on(&mut client_in, &mut target_out, |n| activity.received(n)).await;
        passed.map_err(TunnelError::upstream)
    };
    let downstream = async {
        let passed = pass_on(&mut target_in, &mut client_out, |n| activity.sent(n)).await;
        passed.map_err(TunnelError::downstream)
    };
    tokio::pin!(upstream, downstream);
    both_ways(upstream, downstream, &activity, idle).await
}

impl TunnelError {
    /// A failure copying from the client to the target.
    fn upstream(e: PumpError) -> TunnelError {
        match e {
            PumpError::Read(e) => TunnelError::Client(e),
            PumpError::Write(e) => TunnelError::Target(e),
        }
    }

    /// A failure copying from the target to the client.
    fn downstream(e: PumpError) -> TunnelError {
        match e {
            PumpError::Read(e) => TunnelError::Target(e),
            PumpError::Write(e) => TunnelError::Client(e),
        }
    }
}

/// Runs both directions until both are done, the first fails, or nothing
/// moved for `idle`; then what moved. The directions are borrowed pinned,
/// not moved in: a future moved into another is stored twice, and a proxy
/// keeps thousands of these.
async fn both_ways(
    mut upstream: Pin<&mut impl Future<Output = Result<(), TunnelError>>>,
    mut downstream: Pin<&mut impl Future<Output = Result<(), TunnelError>>>,
    activity: &Activity,
    idle: Option<Duration>,
) -> (Summary, Option<TunnelError>) {
    let started = Instant::now();
    let both = async {
        let (mut up_done, mut down_done) = (false, false);
        while !(up_done && down_done) {
            tokio::select! {
                ended = &mut upstream, if !up_done => {
                    ended?;
                    up_done = true;
                }
                ended = &mut downstream, if !down_done => {
                    ended?;
                    down_done = true;
                }
            }
        }
        Ok(())
    };
    let failure = tokio::select! {
        ended = both => ended.err(),
        _ = activity.expired(idle) => None,
    };
    let summary = Summary {
        received: activity.received_total(),
        sent: activity.sent_total(),
        duration: started.elapsed(),
    };
    (summary, failure)
}

/// One direction between two sockets, until `from` ends; then `to` is
/// half-closed, passing the end of stream on.
async fn pass_on(
    from: &mut ReadHalf<'_>,
    to: &mut WriteHalf<'_>,
    moved: impl Fn(u64),
) -> Result<(), PumpError> {
    if let Copied::Bulk(_) = copy_until_bulk(from, to, &moved).await? {
        match Pipe::new() {
            Ok(pipe) => splice_on(from.socket(), to.socket(), &pipe, &moved).await?,
            // No pipe to be had (out of descriptors): copying still works.
            Err(_) => drop(copy(from, to, &moved).await?),
        }
    }
    let _ = to.shutdown().await;
    Ok(())
}

/// What one read-like call on `from` returned once it did not have to be
/// retried: the byte count (0 at the end of the stream).
async fn receive(
    from: SocketRef<'_>,
    mut call: impl FnMut() -> nix::Result<usize>,
) -> Result<usize, PumpError> {
    loop {
        from.ready(Interest::READABLE)
            .await
            .map_err(PumpError::Read)?;
        match from.try_io(Interest::READABLE, || call().map_err(io::Error::from)) {
            Ok(n) => return Ok(n),
            Err(e) if retry(&e) => {}
            Err(e) => return Err(PumpError::Read(e)),
        }
    }
}

/// Sends `len` bytes to `to`: `send(done)` is one non-blocking attempt at
/// the rest, once `done` bytes went. It waits for room between attempts.
async fn send_all(
    to: SocketRef<'_>,
    len: usize,
    moved: &impl Fn(u64),
    mut send: impl FnMut(usize) -> nix::Result<usize>,
) -> Result<(), PumpError> {
    let mut done = 0;
    while done < len {
        to.ready(Interest::WRITABLE)
            .await
            .map_err(PumpError::Write)?;
        match to.try_io(Interest::WRITABLE, || send(done).map_err(io::Error::from)) {
            Ok(n) => {
                done += n;
                moved(n as u64);
            }
            Err(e) if retry(&e) => {}
            Err(e) => return Err(PumpError::Write(e)),
        }
    }
    Ok(())
}

/// Not ready after all (the readiness was stale), or a signal: try again.
fn retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// A pipe for splice(2), both ends non-blocking, as large as the kernel
/// gives an unprivileged process by default (1 MiB).
struct Pipe {
    out: OwnedFd,
    into: OwnedFd,
    capacity: usize,
}

impl Pipe {
    fn new() -> io::Result<Pipe> {
        let (out, into) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        let capacity = fcntl(&into, FcntlArg::F_SETPIPE_SZ(1 << 20))
            .ok()
            .and_then(|got| usize::try_from(got).ok())
            .unwrap_or(1 << 16);
        Ok(Pipe {
            out,
            into,
            capacity,
        })
    }
}

/// Moves the rest of `from` to `to` through `pipe` with splice(2): what the
/// socket has goes into the pipe, then all of it out to the other socket.
async fn splice_on(
    from: SocketRef<'_>,
    to: SocketRef<'_>,
    pipe: &Pipe,
    moved: &impl Fn(u64),
) -> Result<(), PumpError> {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    loop {
        // The pipe is empty here, so EAGAIN can only mean the socket is.
        let parked = receive(from, || {
            splice(from, None, &pipe.into, None, pipe.capacity, flags)
        })
        .await?;
        if parked == 0 {
            return Ok(());
        }
        // The pipe holds `parked` bytes, so EAGAIN can only mean the
        // socket is full.
        send_all(to, parked, moved, |done| {
            splice(&pipe.out, None, to, None, parked - done, flags)
        })
        .await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Each side's end of stream reaches the other as a half-close, and the
    /// answer sent after it still arrives.
    #[tokio::test]
    async fn half_closes_pass_through() {
        let (client, mut client_far) = tokio::io::duplex(1024);
        let (target, mut target_far) = tokio::io::duplex(1024);
        let tunnel = tokio::spawn(join(client, target, None));
        client_far.write_all(b"request").await.unwrap();
        client_far.shutdown().await.unwrap();
        let mut request = Vec::new();
        target_far.read_to_end(&mut request).await.unwrap();
        assert_eq!(request, b"request", "the client's FIN reached the target");
        target_far.write_all(b"answer").await.unwrap();
        drop(target_far);
        let mut answer = Vec::new();
        client_far.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"answer");
        let (summary, failure) = tunnel.await.unwrap();
        assert!(failure.is_none());
        assert_eq!((summary.received, summary.sent), (7, 6));
    }

    /// Two connected TCP sockets on loopback (large buffers: reads of a
    /// whole chunk, so the bulk path is taken).
    async fn tcp_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let near = tokio::net::TcpStream::connect(listener.local_addr().unwrap());
        let (near, far) = tokio::join!(near, listener.accept());
        (near.unwrap(), far.unwrap().0)
    }

    /// Between two sockets: megabytes each way (the buffered start, then
    /// splice) arrive whole and in order, and a reply sent after the
    /// client's half-close still arrives.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sockets_carry_bulk_both_ways_and_half_closes() {
        let (client, mut client_far) = tcp_pair().await;
        let (target, mut target_far) = tcp_pair().await;
        let tunnel = tokio::spawn(join_sockets(
            Connection::Tcp(client),
            Connection::Tcp(target),
            None,
        ));
        let upload: Vec<u8> = (0..32u32 << 20).map(|i| (i % 251) as u8).collect();
        let download: Vec<u8> = (0..16u32 << 20).map(|i| (i % 241) as u8).collect();
        let sending = {
            let upload = upload.clone();
            tokio::spawn(async move {
                client_far.write_all(&upload).await.unwrap();
                client_far.shutdown().await.unwrap();
                let mut got = Vec::new();
                client_far.read_to_end(&mut got).await.unwrap();
                got
            })
        };
        let mut got = Vec::new();
        target_far.read_to_end(&mut got).await.unwrap();
        assert!(got == upload, "the upload arrived whole and in order");
        target_far.write_all(&download).await.unwrap();
        drop(target_far);
        let answer = sending.await.unwrap();
        assert!(
            answer == download,
            "the answer after the half-close arrived"
        );
        let (summary, failure) = tunnel.await.unwrap();
        assert!(failure.is_none(), "{failure:?}");
        assert_eq!(summary.received, upload.len() as u64);
        assert_eq!(summary.sent, download.len() as u64);
    }
}
