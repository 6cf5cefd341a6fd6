//! Signal dispositions a program without std's runtime must set itself.

#![allow(unsafe_code)]

/// Makes a write to a closed pipe or socket fail with EPIPE instead of
/// killing the process, as std's runtime does for a normal `fn main`.
pub fn ignore_sigpipe() {
    // SAFETY: SIG_IGN installs no handler code; changing SIGPIPE's
    // disposition at start-up, before any thread exists, races with nothing.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}
