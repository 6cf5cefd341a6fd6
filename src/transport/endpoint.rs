//! Who is at either end of a connection: an IP address and port, or a Unix
//! socket.
//!
//! The course's sockets have an address and a port; a Unix socket has a path
//! in the file system (or a name in Linux's abstract namespace, written
//! `@NAME`), and often no name at all on the client's side. What a Unix
//! socket has instead is a process on the other end, whose PID and UID the
//! kernel vouches for (SO_PEERCRED), so that is how `-v` names it. Events,
//! errors and the chat's prefixes all say who they mean with an [`Endpoint`].

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// One end of a connection or a datagram's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Ip(SocketAddr),
    Unix(UnixEndpoint),
}

/// A Unix socket's address and, for a connected stream, its process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixEndpoint {
    pub name: UnixName,
    pub credentials: Option<Credentials>,
}

/// Where a Unix socket lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnixName {
    /// A socket file.
    Path(PathBuf),
    /// A name in Linux's abstract namespace (no file; gone with the socket),
    /// without the leading NUL byte the kernel uses to tell it apart.
    Abstract(Vec<u8>),
    /// A socket that never bound a name (most clients).
    Unnamed,
}

/// The process at the other end of a Unix stream, as the kernel saw it
/// when the connection was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub pid: Option<i32>,
    pub uid: u32,
    pub gid: u32,
}

impl Endpoint {
    /// The IP address and port, for an IP endpoint.
    pub fn ip(&self) -> Option<SocketAddr> {
        match self {
            Endpoint::Ip(addr) => Some(*addr),
            Endpoint::Unix(_) => None,
        }
    }

    /// A short name for the endpoint, for prefixes (the chat's): the address
    /// and port, the socket's name, or for an unnamed Unix client its PID.
    pub fn label(&self) -> String {
        match self {
            Endpoint::Ip(addr) => addr.to_string(),
            Endpoint::Unix(UnixEndpoint {
                name: UnixName::Unnamed,
                credentials: Some(Credentials { pid: Some(pid), .. }),
            }) => format!("pid {pid}"),
            Endpoint::Unix(unix) => unix.name.to_string(),
        }
    }

    /// A Unix endpoint known only by its name.
    pub fn unix(name: UnixName) -> Endpoint {
        Endpoint::Unix(UnixEndpoint {
            name,
            credentials: None,
        })
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(addr: SocketAddr) -> Self {
        Endpoint::Ip(addr)
    }
}

impl UnixName {
    /// `@NAME` is the abstract namespace (as ss, socat and systemd write
    /// it); anything else is a path.
    pub fn parse(text: &str) -> UnixName {
        match text.strip_prefix('@') {
            Some(name) => UnixName::Abstract(name.as_bytes().to_vec()),
            None => UnixName::Path(PathBuf::from(text)),
        }
    }

    /// The name of a socket address the kernel gave back.
    pub fn of(addr: &std::os::unix::net::SocketAddr) -> UnixName {
        use std::os::linux::net::SocketAddrExt;
        if let Some(path) = addr.as_pathname() {
            UnixName::Path(path.to_path_buf())
        } else if let Some(name) = addr.as_abstract_name() {
            UnixName::Abstract(name.to_vec())
        } else {
            UnixName::Unnamed
        }
    }

    /// The address to bind or connect to; `None` for an unnamed socket.
    pub fn to_socket_addr(&self) -> std::io::Result<Option<std::os::unix::net::SocketAddr>> {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::SocketAddr;
        match self {
            UnixName::Path(path) => SocketAddr::from_pathname(path).map(Some),
            UnixName::Abstract(name) => SocketAddr::from_abstract_name(name).map(Some),
            UnixName::Unnamed => Ok(None),
        }
    }
}

impl fmt::Display for UnixName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnixName::Path(path) => write!(f, "{}", path.display()),
            UnixName::Abstract(name) => write!(f, "@{}", String::from_utf8_lossy(name)),
            UnixName::Unnamed => f.write_str("unnamed socket"),
        }
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid}, uid {}, gid {}", self.uid, self.gid),
            None => write!(f, "uid {}, gid {}", self.uid, self.gid),
        }
    }
}

/// `127.0.0.1:5000`, `[::1]:5000`, `/run/app.sock (pid 42, uid 0, gid 0)`,
/// `pid 42 (uid 0, gid 0)` for a client without a name, `@name`.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Ip(addr) => write!(f, "{addr}"),
            Endpoint::Unix(unix) => match (&unix.name, &unix.credentials) {
                (UnixName::Unnamed, Some(c)) => match c.pid {
                    Some(pid) => write!(f, "pid {pid} (uid {}, gid {})", c.uid, c.gid),
                    None => write!(f, "unnamed socket (uid {}, gid {})", c.uid, c.gid),
                },
                (name, Some(credentials)) => write!(f, "{name} ({credentials})"),
                (name, None) => write!(f, "{name}"),
            },
        }
    }
}

impl Endpoint {
    /// Whether this is a Unix socket, whose half-close is a plain end of
    /// stream rather than TCP's FIN and whose connect has no handshake.
    pub fn is_unix(&self) -> bool {
        matches!(self, Endpoint::Unix(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_users_write_them() {
        assert_eq!(UnixName::parse("@bus"), UnixName::Abstract(b"bus".to_vec()));
        assert_eq!(
            UnixName::parse("/run/x.sock"),
            UnixName::Path("/run/x.sock".into())
        );
        assert_eq!(UnixName::parse("@bus").to_string(), "@bus");
    }

    #[test]
    fn a_unix_peer_is_named_by_its_process() {
        let peer = Endpoint::Unix(UnixEndpoint {
            name: UnixName::Unnamed,
            credentials: Some(Credentials {
                pid: Some(42),
                uid: 1000,
                gid: 100,
            }),
        });
        assert_eq!(peer.to_string(), "pid 42 (uid 1000, gid 100)");
        assert_eq!(peer.label(), "pid 42");
        let ip = Endpoint::from(SocketAddr::from(([127, 0, 0, 1], 9)));
        assert_eq!(ip.to_string(), "127.0.0.1:9");
    }
}
