//! Moving bytes from one file descriptor to another with as few copies as the
//! kernel allows.
//!
//! A relay spends its life moving bytes between stdin/stdout and a socket. A
//! plain read/write loop copies every byte into user space and back; Linux can
//! do better, depending on what the two ends are:
//!
//! - regular file to socket: `sendfile(2)` hands page-cache pages to TCP;
//! - either end a pipe: `splice(2)` moves page references between them;
//! - file, socket or `/dev/null` at both ends: splice through a private pipe.
//!
//! Terminals and some character devices support none of this; `splice`
//! answers EINVAL on the first call and we fall back to read/write, after
//! flushing whatever was already parked in the private pipe.
//!
//! Everything here blocks: it runs on a thread of its own (see `relay`), which
//! is the simplest correct model for one connection and costs nothing in
//! throughput. Descriptors inherited in non-blocking mode (EAGAIN) are waited
//! on with poll(2) instead of spinning.
//!
//! One blocking call must never be made: splice(2) from a socket straight
//! into a pipe that someone reads. It takes the pipe's lock first and then,
//! when the socket has nothing yet, sleeps in the socket's receive path
//! *holding that lock*, so the pipe's reader, which needs the lock to read
//! the bytes already delivered, waits until the peer sends more (`sleep 5 |
//! sockit connect H P | reader` showed a line 2.4 s late). See fs/splice.c,
//! `splice_file_to_pipe`, and net/ipv4/tcp.c, `tcp_splice_read`. So that
//! direction polls the socket first and splices only what has arrived. A
//! non-blocking socket would avoid it too, but costs the other direction:
//! a pipe spliced into a non-blocking socket ran at 1.1 GB/s instead of
//! 2.0 (bench/throughput.sh, stdin a pipe).

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::stat::SFlag;

/// Bytes asked for per system call; also the private pipe's size. 1 MiB is
/// the default `/proc/sys/fs/pipe-max-size`, so unprivileged users get it too.
const CHUNK: usize = 1 << 20;

/// Which end failed, because the relay reacts differently to each: a broken
/// stdout ends the session quietly, a reset socket is the peer's doing.
#[derive(Debug)]
pub enum PumpError {
    Read(io::Error),
    Write(io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Pipe,
    Socket,
    Other,
}

fn kind(fd: BorrowedFd<'_>) -> Kind {
    let Ok(stat) = nix::sys::stat::fstat(fd) else {
        return Kind::Other;
    };
    match SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFREG => Kind::File,
        SFlag::S_IFIFO => Kind::Pipe,
        SFlag::S_IFSOCK => Kind::Socket,
        _ => Kind::Other,
    }
}

/// Resizes a pipe; the size it got (the kernel may round it), or None.
fn set_pipe_size(pipe: BorrowedFd<'_>, size: usize) -> Option<usize> {
    let size = i32::try_from(size).ok()?;
    fcntl(pipe, FcntlArg::F_SETPIPE_SZ(size))
        .ok()
        .and_then(|got| usize::try_from(got).ok())
}

/// Did a zero-copy method finish the job, or must the next method take over?
enum Outcome {
    Finished,
    /// The kernel refused the method before any byte was lost in flight.
    Unsupported,
}

/// Copies `src` to `dst` until `src` reports end of file. `moved` is called
/// after every chunk that reached `dst`, with its size.
pub fn pump(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    moved: &mut dyn FnMut(u64),
) -> Result<u64, PumpError> {
    let mut total = 0u64;
    let mut tally = |n: usize| {
        total += n as u64;
        moved(n as u64);
    };
    let (src_kind, dst_kind) = (kind(src), kind(dst));
    let mut outcome = Outcome::Unsupported;
    if src_kind == Kind::File && dst_kind == Kind::Socket {
        outcome = send_file(src, dst, &mut tally)?;
    }
    if matches!(outcome, Outcome::Unsupported) {
        if src_kind == Kind::Pipe || dst_kind == Kind::Pipe {
            grow_pipe(if src_kind == Kind::Pipe { src } else { dst });
            let poll_first = src_kind == Kind::Socket && dst_kind == Kind::Pipe;
            outcome = splice_direct(src, dst, src_kind, poll_first, &mut tally)?;
        } else {
            outcome = splice_through_pipe(src, dst, &mut tally)?;
        }
    }
    if matches!(outcome, Outcome::Unsupported) {
        copy(src, dst, &mut tally)?;
    }
    Ok(total)
}

/// Bigger pipes mean fewer system calls per megabyte; failure only costs speed.
fn grow_pipe(pipe: BorrowedFd<'_>) {
    let _ = set_pipe_size(pipe, CHUNK);
}

fn unsupported(err: Errno) -> bool {
    matches!(err, Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP)
}

fn send_file(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    tally: &mut dyn FnMut(usize),
) -> Result<Outcome, PumpError> {
    let mut first = true;
    loop {
        match nix::sys::sendfile::sendfile(dst, src, None, CHUNK) {
            Ok(0) => return Ok(Outcome::Finished),
            Ok(n) => tally(n),
            Err(e) if first && unsupported(e) => return Ok(Outcome::Unsupported),
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait(dst, PollFlags::POLLOUT),
            // sendfile's errors on a file we could fstat are the socket's.
            Err(e) => return Err(PumpError::Write(e.into())),
        }
        first = false;
    }
}

/// `poll_first`: wait until `src` has bytes before each splice, so that the
/// splice never sleeps holding the destination pipe (see the module's doc).
fn splice_direct(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    src_kind: Kind,
    poll_first: bool,
    tally: &mut dyn FnMut(usize),
) -> Result<Outcome, PumpError> {
    let mut first = true;
    loop {
        if poll_first {
            wait(src, PollFlags::POLLIN);
        }
        match splice(src, None, dst, None, CHUNK, SpliceFFlags::SPLICE_F_MOVE) {
            Ok(0) => return Ok(Outcome::Finished),
            Ok(n) => tally(n),
            Err(e) if first && unsupported(e) => return Ok(Outcome::Unsupported),
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait_both(src, dst),
            Err(e) => return Err(blame_splice(e, src_kind)),
        }
        first = false;
    }
}

/// splice(2) does not say which end failed. A broken pipe is always the
/// writer's; anything else (a reset, a timeout) belongs to the socket end,
/// and only a socket source could have produced it.
fn blame_splice(err: Errno, src_kind: Kind) -> PumpError {
    if err != Errno::EPIPE && src_kind == Kind::Socket {
        PumpError::Read(err.into())
    } else {
        PumpError::Write(err.into())
    }
}

fn splice_through_pipe(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    tally: &mut dyn FnMut(usize),
) -> Result<Outcome, PumpError> {
    let Ok((pipe_out, pipe_in)) = nix::unistd::pipe2(OFlag::O_CLOEXEC) else {
        return Ok(Outcome::Unsupported);
    };
    let capacity = set_pipe_size(pipe_in.as_fd(), CHUNK).unwrap_or(1 << 16);
    let mut first = true;
    loop {
        let parked = match splice(
            src,
            None,
            &pipe_in,
            None,
            capacity,
            SpliceFFlags::SPLICE_F_MOVE,
        ) {
            Ok(0) => return Ok(Outcome::Finished),
            Ok(n) => n,
            Err(e) if first && unsupported(e) => return Ok(Outcome::Unsupported),
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                wait(src, PollFlags::POLLIN);
                continue;
            }
            Err(e) => return Err(PumpError::Read(e.into())),
        };
        let mut left = parked;
        while left > 0 {
            match splice(
                &pipe_out,
                None,
                dst,
                None,
                left,
                SpliceFFlags::SPLICE_F_MOVE,
            ) {
                Ok(0) => return Err(PumpError::Write(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    left -= n;
                    tally(n);
                }
                Err(e) if first && unsupported(e) => {
                    // The destination cannot take spliced pages (a terminal):
                    // deliver what is parked in the pipe by hand, then let the
                    // caller carry on with read/write.
                    drain(pipe_out.as_fd(), dst, left, tally)?;
                    return Ok(Outcome::Unsupported);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => wait(dst, PollFlags::POLLOUT),
                Err(e) => return Err(PumpError::Write(e.into())),
            }
        }
        first = false;
    }
}

fn drain(
    pipe: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    mut left: usize,
    tally: &mut dyn FnMut(usize),
) -> Result<(), PumpError> {
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = left.min(buf.len());
        let n = read_some(pipe, &mut buf[..want]).map_err(PumpError::Read)?;
        write_all(dst, &buf[..n], tally)?;
        left -= n;
    }
    Ok(())
}

fn copy(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    tally: &mut dyn FnMut(usize),
) -> Result<(), PumpError> {
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        let n = read_some(src, &mut buf).map_err(PumpError::Read)?;
        if n == 0 {
            return Ok(());
        }
        write_all(dst, &buf[..n], tally)?;
    }
}

fn read_some(src: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match nix::unistd::read(src, &mut *buf) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait(src, PollFlags::POLLIN),
            Err(e) => return Err(e.into()),
        }
    }
}

fn write_all(
    dst: BorrowedFd<'_>,
    mut data: &[u8],
    tally: &mut dyn FnMut(usize),
) -> Result<(), PumpError> {
    while !data.is_empty() {
        match nix::unistd::write(dst, data) {
            Ok(0) => return Err(PumpError::Write(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                tally(n);
                data = &data[n..];
            }
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait(dst, PollFlags::POLLOUT),
            Err(e) => return Err(PumpError::Write(e.into())),
        }
    }
    Ok(())
}

/// Blocks until `fd` is ready; used only for descriptors that arrived in
/// non-blocking mode. Errors are ignored: the retried call reports them.
fn wait(fd: BorrowedFd<'_>, flags: PollFlags) {
    let mut fds = [PollFd::new(fd, flags)];
    let _ = nix::poll::poll(&mut fds, PollTimeout::NONE);
}

/// splice(2)'s EAGAIN (from descriptors inherited non-blocking) does not say
/// which end was not ready; it needs both, and readiness, once there, lasts
/// until this thread acts on it. Waiting for one end and then the other
/// therefore never spins, where waiting for either would spin on the end
/// that is already ready.
fn wait_both(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) {
    wait(src, PollFlags::POLLIN);
    wait(dst, PollFlags::POLLOUT);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn file_to_file_goes_through_a_private_pipe() {
        let data = payload(3 * CHUNK + 12345);
        let mut src = tempfile::tempfile().unwrap();
        src.write_all(&data).unwrap();
        src.rewind().unwrap();
        let mut dst = tempfile::tempfile().unwrap();
        let mut seen = 0;
        let n = pump(src.as_fd(), dst.as_fd(), &mut |k| seen += k).unwrap();
        assert_eq!((n, seen), (data.len() as u64, data.len() as u64));
        dst.rewind().unwrap();
        let mut copy = Vec::new();
        dst.read_to_end(&mut copy).unwrap();
        assert!(copy == data);
    }

    #[test]
    fn file_to_socket_and_socket_to_pipe() {
        let data = payload(2 * CHUNK + 7);
        let mut src = tempfile::tempfile().unwrap();
        src.write_all(&data).unwrap();
        src.rewind().unwrap();
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let sender = std::thread::spawn(move || {
            let n = pump(src.as_fd(), a.as_fd(), &mut |_| {}).unwrap();
            drop(a);
            n
        });
        let (pipe_out, pipe_in) = nix::unistd::pipe().unwrap();
        let receiver = std::thread::spawn(move || {
            let n = pump(b.as_fd(), pipe_in.as_fd(), &mut |_| {}).unwrap();
            drop(pipe_in);
            n
        });
        let mut got = Vec::new();
        std::fs::File::from(pipe_out).read_to_end(&mut got).unwrap();
        assert_eq!(sender.join().unwrap(), data.len() as u64);
        assert_eq!(receiver.join().unwrap(), data.len() as u64);
        assert!(got == data);
    }

    #[test]
    fn empty_input_moves_nothing() {
        let src = tempfile::tempfile().unwrap();
        let dst = tempfile::tempfile().unwrap();
        assert_eq!(pump(src.as_fd(), dst.as_fd(), &mut |_| {}).unwrap(), 0);
    }

    #[test]
    fn a_closed_reader_is_a_write_error() {
        let (pipe_out, pipe_in) = nix::unistd::pipe().unwrap();
        drop(pipe_out);
        let mut src = tempfile::tempfile().unwrap();
        src.write_all(b"hello").unwrap();
        src.rewind().unwrap();
        match pump(src.as_fd(), pipe_in.as_fd(), &mut |_| {}) {
            Err(PumpError::Write(e)) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
            other => panic!("expected a broken pipe, got {other:?}"),
        }
    }
}
