//! Two connections joined end to end: a proxy's tunnel.
//!
//! The relay (see `session`) joins a connection to a local side that may be
//! a terminal, a file or a program, and runs each direction as a task (or a
//! thread that splices) reporting over a channel. A tunnel joins two
//! sockets, and a proxy holds thousands of them, mostly idle: so both
//! directions run inside the client's own task, with no channel and no
//! buffer while nothing moves (see `copy`). 10,000 idle tunnels took 11.4
//! KiB each through the relay's machinery; see the README for this one.
//!
//! The rules are the relay's, for two sockets: each side's end of stream is
//! passed on to the other as a half-close (the other may still answer), the
//! tunnel ends when both directions have, after the idle limit, or at the
//! first error, which closes both.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::activity::Activity;
use super::copy::copy;
use super::events::Summary;
use super::pump::PumpError;

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
pub async fn join<C, T>(
    client: C,
    target: T,
    idle: Option<Duration>,
) -> (Summary, Option<TunnelError>)
where
    C: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let started = Instant::now();
    let activity = Activity::new();
    let (mut client_in, mut client_out) = tokio::io::split(client);
    let (mut target_in, mut target_out) = tokio::io::split(target);
    let upstream = async {
        let copied = copy(&mut client_in, &mut target_out, |n| activity.received(n)).await;
        if copied.is_ok() {
            let _ = target_out.shutdown().await;
        }
        copied.map_err(|e| match e {
            PumpError::Read(e) => TunnelError::Client(e),
            PumpError::Write(e) => TunnelError::Target(e),
        })
    };
    let downstream = async {
        let copied = copy(&mut target_in, &mut client_out, |n| activity.sent(n)).await;
        if copied.is_ok() {
            let _ = client_out.shutdown().await;
        }
        copied.map_err(|e| match e {
            PumpError::Read(e) => TunnelError::Target(e),
            PumpError::Write(e) => TunnelError::Client(e),
        })
    };
    let both = async {
        tokio::pin!(upstream, downstream);
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
}
