//! What a connection has moved, when it last moved a byte, and the idle
//! limit that follows.
//!
//! `-w SECS` closes a connection on which nothing moved either way for SECS,
//! in every mode and for each client on its own clock, and every closed
//! connection reports its byte counts. Rather than teach each service to
//! count, the stream itself is wrapped ([`Metered`]): every read or write
//! counts its bytes and resets the clock, and the session races its work
//! against [`Activity::expired`].

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::stream::Stream;

/// One clock for every connection, so a moment fits in an atomic integer.
/// Tokio's, so that tests on a paused clock see the limits pass.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    origin().elapsed().as_millis() as u64
}

/// Bytes each way and the moment the last one moved; cloning shares them.
#[derive(Debug, Clone)]
pub struct Activity(Arc<Counts>);

#[derive(Debug)]
struct Counts {
    last_ms: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
}

impl Activity {
    /// A clock that starts now, with nothing moved.
    pub fn new() -> Activity {
        Activity(Arc::new(Counts {
            last_ms: AtomicU64::new(now_ms()),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
        }))
    }

    /// Restarts the clock without a byte moving (a session beginning).
    pub fn touch(&self) {
        self.0.last_ms.store(now_ms(), Ordering::Relaxed);
    }

    pub fn sent(&self, n: u64) {
        self.0.sent.fetch_add(n, Ordering::Relaxed);
        self.touch();
    }

    pub fn received(&self, n: u64) {
        self.0.received.fetch_add(n, Ordering::Relaxed);
        self.touch();
    }

    pub fn sent_total(&self) -> u64 {
        self.0.sent.load(Ordering::Relaxed)
    }

    pub fn received_total(&self) -> u64 {
        self.0.received.load(Ordering::Relaxed)
    }

    pub fn idle_for(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.0.last_ms.load(Ordering::Relaxed)))
    }

    /// Resolves once nothing has moved for `limit`; never without a limit.
    pub async fn expired(&self, limit: Option<Duration>) {
        let Some(limit) = limit else {
            return std::future::pending().await;
        };
        loop {
            let idle = self.idle_for();
            if idle >= limit {
                return;
            }
            tokio::time::sleep(limit - idle).await;
        }
    }
}

impl Default for Activity {
    fn default() -> Self {
        Activity::new()
    }
}

/// A stream whose every moved byte is counted in an [`Activity`].
pub struct Metered<S> {
    inner: S,
    activity: Activity,
}

impl<S> Metered<S> {
    pub fn new(inner: S, activity: Activity) -> Self {
        Metered { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let read = buf.filled().len() - before;
        if read > 0 {
            self.activity.received(read as u64);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, data))?;
        if written > 0 {
            self.activity.sent(written as u64);
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: Stream> Stream for Metered<S> {
    fn plain_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.inner.plain_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn the_clock_runs_out_only_after_a_quiet_limit() {
        let (near, far) = tokio::io::duplex(64);
        let activity = Activity::new();
        let mut near = Metered::new(near, activity.clone());
        let mut far = far;
        let limit = Some(Duration::from_secs(5));
        tokio::time::sleep(Duration::from_secs(3)).await;
        near.write_all(b"x").await.unwrap();
        far.read_exact(&mut [0u8; 1]).await.unwrap();
        let started = tokio::time::Instant::now();
        activity.expired(limit).await;
        assert!(
            started.elapsed() >= Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!((activity.sent_total(), activity.received_total()), (1, 0));
    }
}
