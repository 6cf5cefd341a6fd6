//! Bytes that arrive are delivered at once, and a program started with a
//! closed descriptor neither fails nor talks to itself.
//!
//! Delivery is tested the way a pipeline user would notice it: the peer sends
//! one line and then waits until the reader of sockit's stdout has seen it
//! before sending the next. If sockit held the first line back until more
//! came (as a blocking splice into a pipe did), the reader never sees it
//! alone and the test fails after a bounded wait. No timing threshold: the
//! order of events is the assertion.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// How long the peer waits for the reader to see the first line alone.
const PATIENCE: Duration = Duration::from_secs(5);

/// Where sockit's stdout goes, and how the test reads what has arrived there.
enum Sink {
    Pipe,
    File(tempfile::TempDir),
    Terminal,
}

/// A sink being watched: the `Stdio` to give sockit, and what arrived so far.
struct Watched {
    arrived: Box<dyn Fn() -> String>,
    /// The terminal's controlling side, kept open while sockit writes.
    _terminal: Option<OwnedFd>,
}

impl Sink {
    fn open(&self) -> (Stdio, Option<PathBuf>, Option<OwnedFd>) {
        match self {
            Sink::Pipe => (Stdio::piped(), None, None),
            Sink::File(dir) => {
                let path = dir.path().join("out");
                (file_stdout(&path), Some(path), None)
            }
            Sink::Terminal => {
                let (controller, user) = open_terminal(80);
                (Stdio::from(user), None, Some(controller))
            }
        }
    }
}

/// Starts watching `child`'s stdout through `sink`.
fn watch(child: &mut Child, file: Option<PathBuf>, terminal: Option<OwnedFd>) -> Watched {
    if let Some(path) = file {
        return Watched {
            arrived: Box::new(move || std::fs::read_to_string(&path).unwrap_or_default()),
            _terminal: None,
        };
    }
    let log = match &terminal {
        Some(controller) => {
            LineLog::collect(std::fs::File::from(controller.try_clone().unwrap()), |_| {})
        }
        None => LineLog::collect(child.stdout.take().unwrap(), |_| {}),
    };
    Watched {
        arrived: Box::new(move || log.text()),
        _terminal: terminal,
    }
}

impl Watched {
    /// Waits up to `limit` for `needle`; whether it came.
    fn saw(&self, needle: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if (self.arrived)().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }
}

/// The peer's side: send a line, wait for the reader to see it, send the
/// next, close. Returns whether the first line reached the reader alone.
fn talk(mut peer: TcpStream, reader: &Watched) -> bool {
    peer.write_all(b"first line\n").unwrap();
    let alone = reader.saw("first line", PATIENCE);
    peer.write_all(b"second line\n").unwrap();
    assert!(
        reader.saw("second line", PATIENCE),
        "the second line never arrived: {:?}",
        (reader.arrived)()
    );
    peer.shutdown(Shutdown::Write).unwrap();
    alone
}

/// sockit's stdin: a pipe held open while the lines flow, as `sleep 5 |`.
fn held_stdin(child: &mut Child) -> std::process::ChildStdin {
    child.stdin.take().unwrap()
}

fn connect_delivers_at_once(sink: Sink) {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let (stdout, file, terminal) = sink.open();
    let mut child = sockit()
        .args(["connect", "127.0.0.1"])
        .arg(server.local_addr().unwrap().port().to_string())
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = held_stdin(&mut child);
    let reader = watch(&mut child, file, terminal);
    let (peer, _) = accept_within(&server, 10);
    let alone = talk(peer, &reader);
    drop(stdin);
    assert!(wait_child(&mut child, 10).success());
    assert!(alone, "the first line waited for the second");
}

fn listen_delivers_at_once(sink: Sink, extra: &[&str]) {
    let (stdout, file, terminal) = sink.open();
    let mut args = extra.to_vec();
    args.push("0");
    let mut listener = Listener::start(&args, Stdio::piped(), stdout);
    let stdin = held_stdin(&mut listener.child);
    let reader = watch(&mut listener.child, file, terminal);
    let peer = TcpStream::connect(listener.addr()).unwrap();
    let alone = talk(peer, &reader);
    drop(stdin);
    if extra.is_empty() {
        assert!(listener.wait(10).success(), "{}", listener.stderr());
    }
    assert!(alone, "the first line waited for the second");
}

fn file_sink() -> Sink {
    Sink::File(tempfile::tempdir().unwrap())
}

#[test]
fn connect_delivers_each_line_at_once_to_a_pipe() {
    connect_delivers_at_once(Sink::Pipe);
}

#[test]
fn connect_delivers_each_line_at_once_to_a_file() {
    connect_delivers_at_once(file_sink());
}

#[test]
fn connect_delivers_each_line_at_once_to_a_terminal() {
    connect_delivers_at_once(Sink::Terminal);
}

#[test]
fn listen_delivers_each_line_at_once_to_a_pipe() {
    listen_delivers_at_once(Sink::Pipe, &[]);
}

#[test]
fn listen_delivers_each_line_at_once_to_a_file() {
    listen_delivers_at_once(file_sink(), &[]);
}

#[test]
fn listen_delivers_each_line_at_once_to_a_terminal() {
    listen_delivers_at_once(Sink::Terminal, &[]);
}

#[test]
fn keep_open_listen_delivers_each_line_at_once() {
    listen_delivers_at_once(Sink::Pipe, &["-k"]);
    listen_delivers_at_once(file_sink(), &["-k"]);
    listen_delivers_at_once(Sink::Terminal, &["-k"]);
}

/// Over TLS (the portable path: a reading thread for connect's stdin, an
/// async writer for listen's stdout): a line typed into `connect --tls`
/// reaches the reader of `listen --tls`'s stdout before the next is typed.
#[test]
fn tls_delivers_each_line_at_once() {
    let mut listener = Listener::start(&["--tls", "0"], Stdio::piped(), Stdio::piped());
    let held = held_stdin(&mut listener.child);
    let reader = watch(&mut listener.child, None, None);
    let mut connect = listener
        .pinned_tls_client()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut typing = held_stdin(&mut connect);
    typing.write_all(b"first line\n").unwrap();
    let alone = reader.saw("first line", PATIENCE);
    typing.write_all(b"second line\n").unwrap();
    assert!(reader.saw("second line", PATIENCE));
    drop(typing);
    drop(held); // the listener's FIN too, so both ends finish
    assert!(wait_child(&mut connect, 10).success());
    assert!(alone, "the first line waited for the second");
}

/// `sh -c 'exec sockit ARGS... REDIRECTION'`: sockit started with a
/// descriptor closed, as cron and some daemons start programs.
fn with_closed(redirection: &str) -> Command {
    let mut command = Command::new("sh");
    command.args([
        "-c",
        &format!("exec \"$0\" \"$@\" {redirection}"),
        env!("CARGO_BIN_EXE_sockit"),
    ]);
    command
}

/// Everything the peer receives until sockit's FIN.
fn read_all(peer: &mut TcpStream) -> Vec<u8> {
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    peer.read_to_end(&mut got)
        .expect("sockit's FIN within 10 s");
    got
}

#[test]
fn connect_with_stdout_closed_sends_its_input_and_discards_the_reply() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let mut connect = with_closed(">&-");
    connect.args(["connect", "127.0.0.1", &port]);
    let client = std::thread::spawn(move || run_with_input(&mut connect, b"hello", 20));
    let (mut peer, _) = accept_within(&server, 10);
    assert_eq!(read_all(&mut peer), b"hello");
    peer.write_all(b"reply\n").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    // Had the socket become descriptor 1, the reply would come back here.
    assert_eq!(read_all(&mut peer), b"", "sockit sent the reply back");
    let (status, _, err) = client.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(err, "");
}

#[test]
fn connect_with_stdin_closed_sends_fin_at_once_and_prints_the_reply() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let mut connect = with_closed("<&-");
    connect.args(["connect", "127.0.0.1", &port]);
    let client = std::thread::spawn(move || run(&mut connect, 20));
    let (mut peer, _) = accept_within(&server, 10);
    assert_eq!(read_all(&mut peer), b"", "closed stdin must read as empty");
    peer.write_all(b"reply\n").unwrap();
    drop(peer);
    let (status, out, err) = client.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(out, b"reply\n");
}

#[test]
fn listen_with_stdin_and_stdout_closed_serves_without_talking_to_itself() {
    for redirection in ["<&-", ">&-"] {
        let mut listener = Listener::start_with(
            with_closed(redirection),
            &["0"],
            Stdio::null(),
            Stdio::null(),
        );
        let mut client = TcpStream::connect(listener.addr()).unwrap();
        client.write_all(b"from the client\n").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(
            read_all(&mut client),
            b"",
            "{redirection}: echoed to itself"
        );
        assert!(listener.wait(10).success(), "{}", listener.stderr());
    }
}
