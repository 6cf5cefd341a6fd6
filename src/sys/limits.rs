//! Descriptor limits.

use rustix::process::{Resource, getrlimit, setrlimit};

/// Raises the soft limit on open descriptors to the hard limit, so a server
/// can hold thousands of connections without the user running `ulimit -n`.
/// Returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current
}
