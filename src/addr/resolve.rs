//! Names to addresses, through the system resolver.
//!
//! `getaddrinfo(3)` is what Python's `socket.getaddrinfo` and netcat call, so
//! `/etc/hosts`, nsswitch and the system's address ordering (RFC 6724) apply
//! exactly as they do for every other program on the machine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use crate::error::{Error, Result};

/// Which IP version to use, as netcat's `-4` and `-6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    #[default]
    Any,
    V4,
    V6,
}

impl Family {
    /// The family that netcat-style `-4` / `-6` flags ask for.
    pub fn from_flags(ipv4: bool, ipv6: bool) -> Family {
        match (ipv4, ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        }
    }

    pub fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// Resolves `host` with the system resolver, keeping the resolver's order and
/// dropping repeats (getaddrinfo returns one entry per socket type).
pub fn resolve(host: &str, port: u16, family: Family) -> Result<Vec<SocketAddr>> {
    let found = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::UnknownHost {
            host: host.to_string(),
            detail: resolver_detail(&e),
        })?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    let total = addrs.len();
    addrs.retain(|a| family.admits(a));
    if addrs.is_empty() {
        return Err(match family {
            Family::V4 if total > 0 => Error::NoAddressInFamily {
                host: host.into(),
                family: "IPv4",
                flag: '4',
            },
            Family::V6 if total > 0 => Error::NoAddressInFamily {
                host: host.into(),
                family: "IPv6",
                flag: '6',
            },
            _ => Error::UnknownHost {
                host: host.into(),
                detail: "the resolver returned no address".into(),
            },
        });
    }
    Ok(addrs)
}

/// What `sockit resolve NAME` shows: every address the system resolver
/// returns, in its order, with the canonical name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolution {
    pub query: String,
    pub canonical: String,
    pub addresses: Vec<String>,
}

/// getaddrinfo(3) with AI_CANONNAME, one socket type so each address comes
/// once, as Python's `socket.getaddrinfo(name, None, family, SOCK_STREAM, 0,
/// AI_CANONNAME)`.
pub fn lookup(name: &str, family: Family) -> Result<Resolution> {
    let hints = crate::sys::c_names::canonical_name_hints(match family {
        Family::Any => 0, // AF_UNSPEC
        Family::V4 => dns_lookup::AddrFamily::Inet.into(),
        Family::V6 => dns_lookup::AddrFamily::Inet6.into(),
    });
    let unknown = |detail: String| Error::UnknownHost {
        host: name.to_string(),
        detail,
    };
    let answers = dns_lookup::getaddrinfo(Some(name), None, Some(hints))
        .map_err(|e| unknown(resolver_detail(&std::io::Error::from(e))))?;
    let mut canonical = None;
    let mut addresses: Vec<String> = Vec::new();
    for answer in answers {
        let answer = answer.map_err(|e| unknown(e.to_string()))?;
        if canonical.is_none() {
            canonical = answer.canonname.clone();
        }
        let address = answer.sockaddr.ip().to_string();
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    Ok(Resolution {
        query: name.to_string(),
        canonical: canonical.unwrap_or_else(|| name.to_string()),
        addresses,
    })
}

/// The address a listener binds: loopback unless the user names a host, so a
/// quick test server is never exposed to the network by accident.
pub fn listen_address(host: Option<&str>, port: u16, family: Family) -> Result<SocketAddr> {
    match host {
        None => Ok(match family {
            Family::V6 => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            _ => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        }),
        Some(host) => {
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse::<IpAddr>() {
                let addr = SocketAddr::new(ip, port);
                if !family.admits(&addr) {
                    return Err(Error::Usage(format!(
                        "{host} does not match the address family asked for with -4/-6"
                    )));
                }
                return Ok(addr);
            }
            Ok(resolve(host, port, family)?[0])
        }
    }
}

/// "127.0.0.1, ::1": the addresses of a list, for messages.
pub fn format_addrs(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn resolver_detail(err: &std::io::Error) -> String {
    // std prefixes gai_strerror's text with "failed to lookup address information: ".
    let text = err.to_string();
    text.strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_to_themselves() {
        let v4 = resolve("127.0.0.1", 80, Family::Any).unwrap();
        assert_eq!(v4, vec!["127.0.0.1:80".parse().unwrap()]);
        let v6 = resolve("::1", 80, Family::V6).unwrap();
        assert_eq!(v6, vec!["[::1]:80".parse().unwrap()]);
    }

    #[test]
    fn family_filter_explains_itself() {
        let err = resolve("127.0.0.1", 80, Family::V6).unwrap_err();
        assert!(err.to_string().contains("no IPv6 address"), "{err}");
    }

    #[test]
    fn unknown_names_are_reported() {
        let err = resolve("no-such-host.invalid", 80, Family::Any).unwrap_err();
        assert!(matches!(err, Error::UnknownHost { .. }), "{err}");
    }

    #[test]
    fn listener_defaults_to_loopback() {
        assert_eq!(
            listen_address(None, 7, Family::Any).unwrap(),
            "127.0.0.1:7".parse().unwrap()
        );
        assert_eq!(
            listen_address(None, 7, Family::V6).unwrap(),
            "[::1]:7".parse().unwrap()
        );
        assert_eq!(
            listen_address(Some("[::]"), 7, Family::Any).unwrap(),
            "[::]:7".parse().unwrap()
        );
    }
}
