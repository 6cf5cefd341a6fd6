//! Address to name: what `gethostbyaddr(3)` returns (Python's
//! `socket.gethostbyaddr`): the primary name, its aliases, and every
//! address of that name.

use std::net::IpAddr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sys::hostent::{ReverseFailure, host_by_addr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReverseEntry {
    pub query: String,
    pub hostname: String,
    pub aliases: Vec<String>,
    pub addresses: Vec<String>,
}

pub fn reverse(query: &str) -> Result<ReverseEntry> {
    let address: IpAddr = query.trim().parse().map_err(|_| {
        Error::Usage(format!(
            "{query:?} is not an IP address: reverse takes addresses such as 127.0.0.1 or ::1 (use resolve for names)"
        ))
    })?;
    let entry = host_by_addr(address).map_err(|failure| Error::NotFound {
        what: match failure {
            ReverseFailure::NotFound => format!("no name is registered for {address}"),
            ReverseFailure::TryAgain => format!("the resolver could not answer for {address} now"),
            ReverseFailure::Failed => format!("the reverse lookup of {address} failed"),
        },
        hint:
            "names for addresses come from /etc/hosts or the DNS PTR records of the address's owner"
                .into(),
    })?;
    Ok(ReverseEntry {
        query: query.to_string(),
        hostname: entry.name,
        aliases: entry.aliases,
        addresses: entry.addresses.iter().map(IpAddr::to_string).collect(),
    })
}
