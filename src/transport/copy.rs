//! The copy loop of the Tokio relay and of tunnels, and buffers that idle
//! connections do not hold.
//!
//! Each direction is copied through a buffer. A buffer per
//! direction per connection, kept for the connection's life, is what most
//! proxies do, and it is most of their memory: 10,000 idle tunnels with two
//! 256 KiB buffers each held 895 MB resident here (glibc had to zero the
//! buffers, so every page was touched). But a buffer is only needed from
//! the moment a read can complete until its bytes are written on. So a read
//! borrows a buffer from a small per-thread pool for one poll: when nothing
//! is ready (`Pending`), nothing was written into it and it goes straight
//! back; when bytes came, the [`Chunk`] holds them until written, then
//! returns to the pool. Idle connections hold no buffer at all, and a busy
//! thread reuses the same few, so bulk copies keep their large reads.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::pump::PumpError;

/// Bytes per read. Larger reads mean fewer trips through Tokio's blocking
/// pool (a descriptor read as an async file) and fewer flushes; TLS cuts
/// them into 16 KiB records either way.
pub const CHUNK: usize = 256 * 1024;

/// Buffers kept per thread for the next reads; more are freed on return.
const KEPT: usize = 8;

thread_local! {
    static POOL: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

fn take() -> Box<[u8]> {
    POOL.with_borrow_mut(|pool| pool.pop())
        .unwrap_or_else(|| vec![0u8; CHUNK].into_boxed_slice())
}

fn give(buffer: Box<[u8]>) {
    POOL.with_borrow_mut(|pool| {
        if pool.len() < KEPT {
            pool.push(buffer);
        }
    });
}

/// Bytes read into a pooled buffer; the buffer goes back when dropped.
pub struct Chunk {
    buffer: Option<Box<[u8]>>,
    len: usize,
}

impl Deref for Chunk {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.buffer {
            Some(buffer) => &buffer[..self.len],
            None => &[],
        }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            give(buffer);
        }
    }
}

/// Reads what `src` has: the bytes (empty at end of file) or the error.
pub async fn read_chunk<R>(src: &mut R) -> io::Result<Chunk>
where
    R: AsyncRead + Unpin + ?Sized,
{
    poll_fn(|cx| poll_chunk(src, cx)).await
}

/// Like [`read_chunk`], but `None` at once when nothing is ready.
pub async fn read_ready<R>(src: &mut R) -> Option<io::Result<Chunk>>
where
    R: AsyncRead + Unpin + ?Sized,
{
    poll_fn(|cx| match poll_chunk(src, cx) {
        Poll::Ready(read) => Poll::Ready(Some(read)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

fn poll_chunk<R>(src: &mut R, cx: &mut Context<'_>) -> Poll<io::Result<Chunk>>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut buffer = take();
    let mut read = ReadBuf::new(&mut buffer);
    match Pin::new(&mut *src).poll_read(cx, &mut read) {
        Poll::Ready(Ok(())) => {
            let len = read.filled().len();
            Poll::Ready(Ok(Chunk {
                buffer: Some(buffer),
                len,
            }))
        }
        Poll::Ready(Err(e)) => {
            give(buffer);
            Poll::Ready(Err(e))
        }
        // Nothing was read into it: the buffer is not needed while this
        // reader waits.
        Poll::Pending => {
            give(buffer);
            Poll::Pending
        }
    }
}

/// Copies until `src` ends. Whatever was written is flushed before the
/// copy waits for more input, so a byte read is never held back waiting for
/// company; while input keeps coming, the writes are not flushed one by one.
/// The buffer is borrowed per read (see above): a copy that waits holds
/// none.
pub async fn copy<R, W>(src: &mut R, dst: &mut W, moved: impl Fn(u64)) -> Result<u64, PumpError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    match copy_until(src, dst, moved, false).await? {
        Copied::Ended(total) | Copied::Bulk(total) => Ok(total),
    }
}

/// How [`copy_until_bulk`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// `src` ended after this many bytes.
    Ended(u64),
    /// A read filled a whole buffer (after this many bytes, all written):
    /// a bulk transfer, which a caller that can splice takes over.
    Bulk(u64),
}

/// [`copy`], stopping after the first read that fills a whole buffer.
pub async fn copy_until_bulk<R, W>(
    src: &mut R,
    dst: &mut W,
    moved: impl Fn(u64),
) -> Result<Copied, PumpError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    copy_until(src, dst, moved, true).await
}

async fn copy_until<R, W>(
    src: &mut R,
    dst: &mut W,
    moved: impl Fn(u64),
    stop_at_bulk: bool,
) -> Result<Copied, PumpError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut total = 0;
    loop {
        let read = match read_ready(src).await {
            Some(read) => read,
            None => {
                dst.flush().await.map_err(PumpError::Write)?;
                read_chunk(src).await
            }
        };
        let chunk = match read {
            Ok(chunk) => chunk,
            Err(e) => {
                // What arrived before the failure is delivered first.
                let _ = dst.flush().await;
                return Err(PumpError::Read(e));
            }
        };
        if chunk.is_empty() {
            dst.flush().await.map_err(PumpError::Write)?;
            return Ok(Copied::Ended(total));
        }
        dst.write_all(&chunk).await.map_err(PumpError::Write)?;
        total += chunk.len() as u64;
        moved(chunk.len() as u64);
        if stop_at_bulk && chunk.len() == CHUNK {
            dst.flush().await.map_err(PumpError::Write)?;
            return Ok(Copied::Bulk(total));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_reader_holds_no_buffer() {
        let (mut reader, mut writer) = tokio::io::duplex(64);
        assert!(read_ready(&mut reader).await.is_none());
        let pooled = POOL.with_borrow(|pool| pool.len());
        assert!(pooled >= 1, "the buffer went back to the pool");
        tokio::io::AsyncWriteExt::write_all(&mut writer, b"ping")
            .await
            .unwrap();
        let chunk = read_chunk(&mut reader).await.unwrap();
        assert_eq!(&*chunk, b"ping");
        drop(writer);
        let end = read_chunk(&mut reader).await.unwrap();
        assert!(end.is_empty());
    }
}
