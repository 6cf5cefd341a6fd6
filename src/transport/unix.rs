//! Unix sockets: the same socket calls as TCP's, addressed by a file (or an
//! abstract name) instead of an IP address and port.
//!
//! A Unix socket's name is a file, and files outlive their programs. A
//! server that died leaves its socket file behind, so binding there again
//! fails with "address in use" although nobody listens; and a careless
//! server that deletes whatever is at its path before binding steals the
//! path of a live one (its clients now reach us, and it can no longer be
//! reached at all). So [`bind_stream_listener`] asks first: it connects to
//! the file, and only when that is refused (no listener behind it) removes
//! the stale file; a live listener is left alone and named in the error.
//! The file we create is removed again when our [`SocketFile`] is dropped,
//! which is how the server's exit and its SIGINT/SIGTERM end, but only if
//! it is still ours (not replaced by another server since).
//!
//! Permissions: `--mode` is applied between bind and listen, when the file
//! exists but nobody can connect yet, so no client ever gets in under the
//! default mode.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{self as sys, AddressFamily, SockFlag, SockType, UnixAddr};

use super::bind::BACKLOG;
use super::endpoint::{Credentials, Endpoint, UnixEndpoint, UnixName};
use super::events::{Event, Events};
use crate::error::{Error, Result};

/// A socket file this process created; dropping it removes the file if it
/// is still the same one.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    identity: (u64, u64),
}

impl SocketFile {
    fn created(path: &Path) -> Option<SocketFile> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        Some(SocketFile {
            path: path.to_path_buf(),
            identity: (meta.dev(), meta.ino()),
        })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .map(|meta| (meta.dev(), meta.ino()) == self.identity)
            .unwrap_or(false);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A bound Unix socket and, for a path, the file that goes with it.
pub struct BoundUnix {
    pub socket: OwnedFd,
    pub file: Option<SocketFile>,
}

/// socket → bind → listen for a Unix stream socket at `name`, narrating each
/// step; `mode` sets the file's permissions (octal, as chmod takes them).
pub fn bind_stream_listener(
    name: &UnixName,
    mode: Option<u32>,
    events: &Events,
) -> Result<BoundUnix> {
    let bound = bind_unix(name, SockType::Stream, mode, events)?;
    let backlog = sys::Backlog::new(BACKLOG).unwrap_or(sys::Backlog::MAXCONN);
    sys::listen(&bound.socket, backlog)
        .map_err(|e| Error::io(format!("listening on {name}"), e.into()))?;
    events.emit(Event::Listening {
        local: Endpoint::unix(name.clone()),
        backlog: Some(BACKLOG),
    });
    Ok(bound)
}

/// socket → bind for a Unix datagram socket at `name`.
pub fn bind_datagram(name: &UnixName, mode: Option<u32>, events: &Events) -> Result<BoundUnix> {
    let bound = bind_unix(name, SockType::Datagram, mode, events)?;
    events.emit(Event::Listening {
        local: Endpoint::unix(name.clone()),
        backlog: None,
    });
    Ok(bound)
}

fn bind_unix(
    name: &UnixName,
    kind: SockType,
    mode: Option<u32>,
    events: &Events,
) -> Result<BoundUnix> {
    let addr = socket_address(name)?;
    if let UnixName::Path(path) = name {
        clear_stale(path, kind)?;
    }
    let socket = new_socket(kind)?;
    events.emit(Event::SocketCreated {
        family: "Unix",
        datagram: kind == SockType::Datagram,
    });
    sys::bind(socket.as_raw_fd(), &addr).map_err(|e| bind_error(name, e.into()))?;
    events.emit(Event::Bound {
        requested: Endpoint::unix(name.clone()),
    });
    let file = match name {
        UnixName::Path(path) => SocketFile::created(path),
        _ => None,
    };
    if let (Some(mode), UnixName::Path(path)) = (mode, name) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(format!("setting the mode of {}", path.display()), e))?;
    }
    Ok(BoundUnix { socket, file })
}

/// A non-blocking Unix socket, closed on exec (a served program must not
/// inherit the listener).
pub fn new_socket(kind: SockType) -> Result<OwnedFd> {
    let flags = SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK;
    sys::socket(AddressFamily::Unix, kind, flags, None)
        .map_err(|e| Error::io("creating a Unix socket", e.into()))
}

/// The kernel's form of `name`; an unnamed socket asks for autobind (a
/// fresh abstract name the kernel picks).
pub fn socket_address(name: &UnixName) -> Result<UnixAddr> {
    let addr = match name {
        UnixName::Path(path) => UnixAddr::new(path.as_path()),
        UnixName::Abstract(bytes) => UnixAddr::new_abstract(bytes),
        UnixName::Unnamed => return Ok(UnixAddr::new_unnamed()),
    };
    addr.map_err(|e| too_long(name, e.into()))
}

fn too_long(name: &UnixName, e: std::io::Error) -> Error {
    Error::Usage(format!(
        "{name} cannot name a Unix socket ({e}): paths are limited to 107 bytes; use a shorter path or @NAME"
    ))
}

/// Removes a socket file nobody listens on; refuses to touch a live one or
/// anything that is not a socket.
fn clear_stale(path: &Path, kind: SockType) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let shown = path.display();
    if !meta.file_type().is_socket() {
        return Err(Error::Unix {
            name: shown.to_string(),
            reason: "exists and is not a socket; remove it or choose another path".into(),
        });
    }
    let probe = sys::socket(AddressFamily::Unix, kind, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| Error::io("creating a Unix socket", e.into()))?;
    let addr = UnixAddr::new(path).map_err(|e| Error::io("naming the socket", e.into()))?;
    match sys::connect(probe.as_raw_fd(), &addr) {
        Ok(()) => Err(in_use(&shown.to_string())),
        Err(nix::errno::Errno::ECONNREFUSED) => std::fs::remove_file(path)
            .map_err(|e| Error::io(format!("removing the stale socket {shown}"), e)),
        // A socket of the other kind (stream vs datagram) answers EPROTOTYPE:
        // some program is or was using it; leave it to bind's verdict.
        Err(_) => Ok(()),
    }
}

fn in_use(name: &str) -> Error {
    Error::Unix {
        name: name.to_string(),
        reason: format!(
            "another program is listening there; stop it or choose another path (ss -xlp | grep -F '{name}' names it)"
        ),
    }
}

fn bind_error(name: &UnixName, e: std::io::Error) -> Error {
    let shown = name.to_string();
    match e.kind() {
        ErrorKind::AddrInUse => in_use(&shown),
        ErrorKind::PermissionDenied => Error::Unix {
            name: shown,
            reason: "permission denied: the directory is not writable by this user; choose a path in a directory you own".into(),
        },
        ErrorKind::NotFound => Error::Unix {
            name: shown,
            reason: "its directory does not exist; create it first or choose another path".into(),
        },
        _ => Error::io(format!("binding {shown}"), e),
    }
}

/// Connects a stream socket to `name`, narrating it, with the reason in
/// the user's terms when nobody answers.
pub async fn connect_stream(name: &UnixName, events: &Events) -> Result<tokio::net::UnixStream> {
    let addr = name
        .to_socket_addr()
        .map_err(|e| too_long(name, e))?
        .ok_or_else(|| Error::Usage("a Unix socket needs a path or @NAME".into()))?;
    // A Unix connect never waits on a network: it succeeds, is refused, or
    // (backlog full) waits for the server to accept; off the async threads.
    let std_stream =
        tokio::task::spawn_blocking(move || std::os::unix::net::UnixStream::connect_addr(&addr))
            .await
            .map_err(|e| Error::io("connecting", std::io::Error::other(e)))?
            .map_err(|e| connect_error(name, e))?;
    std_stream
        .set_nonblocking(true)
        .map_err(|e| Error::io("configuring the socket", e))?;
    let stream = tokio::net::UnixStream::from_std(std_stream)
        .map_err(|e| Error::io("registering the socket", e))?;
    let local = Endpoint::unix(
        stream
            .local_addr()
            .map(|a| name_of_tokio(&a))
            .unwrap_or(UnixName::Unnamed),
    );
    events.emit(Event::Connected {
        local,
        peer: peer_of(&stream, name.clone()),
    });
    Ok(stream)
}

/// A datagram socket connected to `name`, with a name of its own so that
/// replies can reach it: autobind, where the kernel picks a fresh abstract
/// name (`nc -uU` makes a temporary file instead, and must remove it).
pub fn connect_datagram(name: &UnixName) -> Result<tokio::net::UnixDatagram> {
    let target = socket_address(name)?;
    let socket = new_socket(SockType::Datagram)?;
    sys::bind(socket.as_raw_fd(), &UnixAddr::new_unnamed())
        .map_err(|e| Error::io("binding a name for replies", e.into()))?;
    sys::connect(socket.as_raw_fd(), &target).map_err(|e| connect_error(name, e.into()))?;
    tokio::net::UnixDatagram::from_std(std::os::unix::net::UnixDatagram::from(socket))
        .map_err(|e| Error::io("registering the socket", e))
}

/// Why connecting to a Unix socket failed, and what to do.
pub fn connect_error(name: &UnixName, e: std::io::Error) -> Error {
    let reason = match e.kind() {
        ErrorKind::NotFound => "no such socket: is the server running, and is the path right?",
        ErrorKind::ConnectionRefused => {
            "connection refused: nothing is listening there (a stale socket file?); start the server"
        }
        ErrorKind::PermissionDenied => {
            "permission denied: the socket's mode or its directory keeps this user out; check ls -l, or run as a user it allows"
        }
        _ => {
            return Error::Unix {
                name: name.to_string(),
                reason: format!("cannot connect: {e}"),
            };
        }
    };
    Error::Unix {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// The other end of a connected Unix stream: its name (when it bound one)
/// and its process, from SO_PEERCRED.
pub fn peer_of(stream: &tokio::net::UnixStream, fallback: UnixName) -> Endpoint {
    let name = stream
        .peer_addr()
        .map(|a| name_of_tokio(&a))
        .unwrap_or(fallback);
    let credentials = stream.peer_cred().ok().map(|cred| Credentials {
        pid: cred.pid(),
        uid: cred.uid(),
        gid: cred.gid(),
    });
    Endpoint::Unix(UnixEndpoint { name, credentials })
}

/// Tokio's Unix address as a name.
pub fn name_of_tokio(addr: &tokio::net::unix::SocketAddr) -> UnixName {
    UnixName::of(&addr.clone().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_socket(dir: &tempfile::TempDir) -> UnixName {
        UnixName::Path(dir.path().join("s.sock"))
    }

    #[tokio::test]
    async fn a_stale_file_is_taken_over_and_a_live_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let name = temp_socket(&dir);
        // A dead server's file: bound, then closed without removing it.
        let mut dead = bind_stream_listener(&name, None, &Events::none()).unwrap();
        std::mem::forget(dead.file.take());
        drop(dead);
        let live = bind_stream_listener(&name, None, &Events::none()).unwrap();
        let err = bind_stream_listener(&name, None, &Events::none())
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("another program is listening"),
            "{err}"
        );
        let UnixName::Path(path) = &name else {
            unreachable!()
        };
        assert!(path.exists(), "the live server's file is untouched");
        drop(live);
        assert!(!path.exists(), "our file goes with us");
    }

    #[test]
    fn mode_is_set_before_anyone_can_connect() {
        let dir = tempfile::tempdir().unwrap();
        let name = temp_socket(&dir);
        let _bound = bind_stream_listener(&name, Some(0o600), &Events::none()).unwrap();
        let UnixName::Path(path) = &name else {
            unreachable!()
        };
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_regular_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, "keep me").unwrap();
        let err = bind_stream_listener(&UnixName::Path(path.clone()), None, &Events::none())
            .err()
            .unwrap();
        assert!(err.to_string().contains("not a socket"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }
}
