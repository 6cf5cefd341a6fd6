//! TLS in every TCP mode: chat, the idle limit and the connection cap go
//! through the same code over TLS as over plain TCP; these tests make sure
//! they still do (progress over TLS is tested beside plain TCP's, in relay). The clients are `sockit connect --tls`
//! pinned to the listener's generated certificate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Stdio};
use std::time::Duration;

use crate::helpers::*;

/// A pinned TLS client whose stdin we hold and whose stdout we collect.
struct TlsClient {
    child: Child,
    stdin: Option<ChildStdin>,
    out: LineLog,
}

impl TlsClient {
    fn start(listener: &Listener, extra: &[&str]) -> TlsClient {
        let mut child = listener
            .pinned_tls_client()
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let out = LineLog::collect(child.stdout.take().unwrap(), |_| {});
        TlsClient { child, stdin, out }
    }

    fn say(&mut self, text: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(text).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes our stdin: close_notify and FIN go out.
    fn finish(&mut self) {
        self.stdin = None;
    }
}

impl Drop for TlsClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chat_over_tls() {
    let listener = Listener::start(
        &["--tls", "-k", "--chat", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let mut a = TlsClient::start(&listener, &[]);
    let welcome = a.out.wait_for("* you are ", 10);
    let a_name = welcome
        .lines()
        .find_map(|l| l.strip_prefix("* you are "))
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_string();
    let b = TlsClient::start(&listener, &[]);
    b.out.wait_for("* you are ", 10);
    a.out.wait_for(" joined", 10);
    a.say(b"hello through the presentation layer\n");
    b.out.wait_for(
        &format!("[{a_name}] hello through the presentation layer"),
        10,
    );
    a.finish();
    b.out.wait_for(&format!("* {a_name} left"), 10);
}

/// The listener closes a silent TLS client at its limit. (The client, whose
/// stdin is still open, takes the bare FIN as a half-close, as over TCP.)
#[test]
fn idle_limit_over_tls() {
    let mut listener = Listener::start(&["--tls", "-w", "1", "0"], Stdio::piped(), Stdio::null());
    let _silent = TlsClient::start(&listener, &[]);
    listener.wait_for("tls: TLSv1.3", 10);
    assert!(listener.wait(10).success(), "{}", listener.stderr());
    assert!(
        listener.stderr().contains("nothing moved for 1 s"),
        "{}",
        listener.stderr()
    );
}

#[test]
fn max_conns_over_tls() {
    let listener = Listener::start(
        &["--tls", "-k", "--echo", "--max-conns", "1", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let mut first = TlsClient::start(&listener, &[]);
    listener.wait_for("(1 active)", 10);
    let (status, _, err) = run_with_input(&mut listener.pinned_tls_client(), b"me too\n", 20);
    assert_eq!(status.code(), Some(1), "the one over the cap: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    listener.wait_for("(--max-conns 1)", 10);
    first.say(b"still served\n");
    first.out.wait_for("still served", 10);
}

/// A one-shot TLS listener hit by a plaintext client says so in one line
/// and exits 1; the client is closed, not left hanging.
#[test]
fn plaintext_client_on_a_one_shot_tls_listener() {
    let mut listener = Listener::start(&["--tls", "0"], Stdio::null(), Stdio::null());
    let mut plain = TcpStream::connect(listener.addr()).unwrap();
    plain.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reply = Vec::new();
    let _ = plain.read_to_end(&mut reply);
    assert_eq!(listener.wait(10).code(), Some(1), "{}", listener.stderr());
    let complaints: Vec<String> = listener
        .stderr()
        .lines()
        .filter(|l| l.contains("does not speak TLS"))
        .map(str::to_string)
        .collect();
    assert_eq!(complaints.len(), 1, "{}", listener.stderr());
}

/// `-k` without a service: every client's bytes reach our stdout, and a
/// client that leaves does not end the server.
#[test]
fn keep_open_relay_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    let mut listener = Listener::start(&["--tls", "-k", "0"], Stdio::null(), file_stdout(&copy));
    for n in 1..=2 {
        let line = format!("client {n} was here\n");
        let (status, _, err) =
            run_with_input(&mut listener.pinned_tls_client(), line.as_bytes(), 20);
        assert!(status.success(), "{err}");
    }
    assert!(
        listener.child.try_wait().unwrap().is_none(),
        "the server ended with its clients: {}",
        listener.stderr()
    );
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&copy).unwrap();
        if text.contains("client 2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        text.contains("client 1 was here\n") && text.contains("client 2 was here\n"),
        "{text:?}"
    );
}
