//! Reaching a peer through proxies: SOCKS5 (RFC 1928, with RFC 1929's
//! username and password) and HTTP CONNECT, one after another in a chain.
//!
//! A proxy is a hop the TCP connection makes on its way: once a proxy has
//! connected onward, what flows over the socket is the far end's bytes, as
//! they are. So the stream a tunnel hands back is the same `TcpStream`, and
//! everything after it (TLS, the relay's splice path) works unchanged.

mod client;
pub mod datagrams;
mod server;

pub use client::tunnel;
pub use server::{ProxyRules, serve_proxy_client};

use crate::error::{Error, Result};

/// How a proxy is spoken to, from its URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `socks5://`: sockit resolves the target and sends the address.
    Socks5,
    /// `socks5h://`: the proxy resolves the target's name.
    Socks5h,
    /// `http://`: the HTTP CONNECT method.
    HttpConnect,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Socks5 => "SOCKS5",
            Protocol::Socks5h => "SOCKS5",
            Protocol::HttpConnect => "HTTP",
        }
    }
}

/// One proxy, as a URL gives it: `socks5h://user:pass@host:port`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
}

/// The port curl assumes when a proxy URL names none.
const DEFAULT_PORT: u16 = 1080;

/// Read by hand rather than with the `url` crate, which drops a scheme's
/// default port: `http://proxy:80` would read as no port at all, which
/// curl (and so sockit) takes as 1080.
impl std::str::FromStr for ProxyUrl {
    type Err = Error;

    fn from_str(url: &str) -> Result<ProxyUrl> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "proxy {url:?}: {why}; write it as socks5://HOST:PORT, socks5h://HOST:PORT or http://HOST:PORT, with USER:PASS@ before HOST if it asks"
            ))
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let protocol = match scheme.to_ascii_lowercase().as_str() {
            "socks5" => Protocol::Socks5,
            "socks5h" => Protocol::Socks5h,
            "http" => Protocol::HttpConnect,
            _ => {
                return Err(bad(&format!(
                    "{scheme}:// is not a proxy scheme sockit speaks"
                )));
            }
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, authority) = match rest.rsplit_once('@') {
            Some((userinfo, authority)) => {
                let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decoded = (percent_decode(user), percent_decode(pass));
                (Some(decoded), authority)
            }
            None => (None, rest),
        };
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("no host"))?;
        let port = match port {
            None => DEFAULT_PORT,
            Some(port) => port
                .parse::<u16>()
                .map_err(|_| bad(&format!("port {port:?} is not a number from 0 to 65535")))?,
        };
        Ok(ProxyUrl {
            protocol,
            host,
            port,
            credentials,
        })
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(authority: &str) -> Option<(String, Option<&str>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// `%40` in a user name or password is `@`, as in any URL.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Shown in messages and `-v` lines: never the password.
impl std::fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.protocol {
            Protocol::Socks5 => "socks5",
            Protocol::Socks5h => "socks5h",
            Protocol::HttpConnect => "http",
        };
        let user = match &self.credentials {
            Some((user, _)) => format!("{user}@"),
            None => String::new(),
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://{user}[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{user}{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// The proxy from the environment for connections to `host`, as curl reads
/// them: `ALL_PROXY`, then `all_proxy`; none when unset or empty, or when
/// `NO_PROXY` (or `no_proxy`) exempts `host`.
pub fn from_environment(host: &str) -> Result<Option<ProxyUrl>> {
    let exempt = ["NO_PROXY", "no_proxy"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .is_some_and(|list| exempted(&list, host));
    if exempt {
        return Ok(None);
    }
    for name in ["ALL_PROXY", "all_proxy"] {
        if let Ok(url) = std::env::var(name)
            && !url.trim().is_empty()
        {
            return url
                .trim()
                .parse()
                .map(Some)
                .map_err(|e| Error::Usage(format!("{name}: {e}; or give --no-proxy")));
        }
    }
    Ok(None)
}

/// Whether `NO_PROXY`'s comma-separated `list` exempts `host`, by curl's
/// rules: `*` exempts every host; a name exempts itself and its subdomains
/// (a leading dot is ignored: `example.org` and `.example.org` both match
/// `www.example.org`); an address or a CIDR network exempts the addresses
/// in it. Names are compared without case and are never resolved.
pub fn exempted(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let address = host.parse::<std::net::IpAddr>().ok();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        if let Some(ip) = address {
            let entry = entry.trim_start_matches('[').trim_end_matches(']');
            return entry
                .parse::<ipnet::IpNet>()
                .map(|net| net.contains(&ip))
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(|e| e == ip))
                .unwrap_or(false);
        }
        let entry = entry.trim_start_matches('.').to_ascii_lowercase();
        let host = host.to_ascii_lowercase();
        !entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matches_as_curl_does() {
        let list = "localhost, .example.org,10.0.0.0/8, ::1";
        assert!(exempted(list, "localhost"));
        assert!(exempted(list, "www.Example.org"));
        assert!(exempted(list, "example.org"));
        assert!(!exempted(list, "notexample.org"));
        assert!(exempted(list, "10.2.3.4"));
        assert!(!exempted(list, "11.2.3.4"));
        assert!(exempted(list, "::1"));
        assert!(exempted("*", "anything"));
        assert!(!exempted("", "host"));
    }

    #[test]
    fn urls_parse_as_curl_reads_them() {
        let url: ProxyUrl = "socks5h://al%40ce:p%3Ass@[::1]:9050".parse().unwrap();
        assert_eq!(url.protocol, Protocol::Socks5h);
        assert_eq!(url.host, "::1");
        assert_eq!(url.port, 9050);
        assert_eq!(url.credentials, Some(("al@ce".into(), "p:ss".into())));
        assert_eq!(url.to_string(), "socks5h://al@ce@[::1]:9050");
        let url: ProxyUrl = "http://proxy.example".parse().unwrap();
        assert_eq!((url.protocol, url.port), (Protocol::HttpConnect, 1080));
        for bad in ["proxy:3128", "ftp://x:1", "socks5://:1", "http://h:99999"] {
            assert!(bad.parse::<ProxyUrl>().is_err(), "{bad}");
        }
    }
}
