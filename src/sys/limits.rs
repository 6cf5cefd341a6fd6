//! Descriptor limits.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raises the soft limit on open descriptors to the hard limit, so a server
/// can hold thousands of connections without the user running `ulimit -n`.
/// Returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft < hard {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}
