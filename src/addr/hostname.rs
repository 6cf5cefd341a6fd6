//! This host's name, as `gethostname(2)` reports it (Python's
//! `socket.gethostname()`), and its fully qualified form.

use serde::Serialize;

use super::resolve::{Family, lookup};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostName {
    pub hostname: String,
}

/// The kernel's host name; with `fqdn`, the canonical name the resolver
/// gives for it (as `hostname --fqdn`), or the plain name when it has none.
pub fn host_name(fqdn: bool) -> Result<HostName> {
    let name = dns_lookup::get_hostname().map_err(|e| Error::io("reading the host name", e))?;
    if !fqdn {
        return Ok(HostName { hostname: name });
    }
    let canonical = lookup(&name, Family::Any)
        .map(|r| r.canonical)
        .unwrap_or(name);
    Ok(HostName {
        hostname: canonical,
    })
}
