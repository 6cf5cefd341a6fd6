//! TLS against the tools people use today: socat's OPENSSL addresses, ncat
//! --ssl, and Python's ssl for the one close that neither of them makes on
//! demand (a bare FIN before any data).

use std::process::{Command, Stdio};

use crate::helpers::*;
use crate::tls::{Pki, strs, tls_connect, tls_listener};

/// `socat -u FILE OPENSSL:` uploads to `listen --tls`, verifying it against
/// the test CA: every byte arrives and both exit 0 (socat never reads, so
/// anything we sent after the handshake would have made it reset).
#[test]
fn socat_uploads_to_listen_tls() {
    require("socat", "socat");
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "input", 6 << 20, 21);
    let copy = dir.path().join("copy");
    let mut listener = tls_listener(&strs(&pki.identity("server")), Stdio::null(), &copy);
    let (status, _, err) = run(
        Command::new("socat").args([
            "-u",
            &format!("OPEN:{}", input.display()),
            &format!(
                "OPENSSL:127.0.0.1:{},cafile={}",
                listener.port(),
                pki.path("ca.pem")
            ),
        ]),
        30,
    );
    assert!(status.success(), "{err}");
    assert!(listener.wait(20).success(), "{}", listener.stderr());
    assert_eq!(sha256_file(&copy), sha256_file(&input));
}

/// Half-close through TLS against a server that answers only once the
/// request is complete: socat hands our bytes to `cat > request` and sends
/// the reply only after our close_notify has ended that cat.
#[test]
fn socat_server_answers_after_our_half_close() {
    require("socat", "socat");
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let reply = write_payload(dir.path(), "reply", 3 << 20, 22);
    let request = dir.path().join("request");
    let port = free_port("127.0.0.1");
    let mut server = Command::new("socat")
        .args([
            "-t",
            "30",
            &format!(
                "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,cert={},key={},verify=0",
                pki.path("server.pem"),
                pki.path("server.key")
            ),
            &format!(
                "SYSTEM:cat > {}; cat {}",
                request.display(),
                reply.display()
            ),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_tcp_listening(port);
    let (status, out, err) = tls_connect(
        &["--ca", &pki.path("ca.pem")],
        &port.to_string(),
        b"GET the whole file\n",
    );
    let server_status = wait_child(&mut server, 20);
    assert!(status.success(), "{err}");
    assert_eq!(sha256(&out), sha256_file(&reply));
    assert_eq!(std::fs::read(&request).unwrap(), b"GET the whole file\n");
    assert!(server_status.success());
}

/// `ncat --ssl` both ways: it downloads from `listen --tls` (verifying our
/// certificate) and receives an upload from `connect --tls`.
#[test]
fn ncat_ssl_both_ways() {
    require("ncat", "ncat");
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let data = write_payload(dir.path(), "data", 5 << 20, 23);

    let copy = dir.path().join("unused");
    let mut listener = tls_listener(&strs(&pki.identity("server")), file_stdin(&data), &copy);
    let (status, out, err) = run(
        Command::new("ncat")
            .args([
                "--ssl",
                "--ssl-verify",
                "--ssl-trustfile",
                &pki.path("ca.pem"),
            ])
            .args(["--recv-only", "localhost", &listener.port()])
            .stdin(Stdio::null()),
        30,
    );
    assert!(status.success(), "{err}");
    assert_eq!(sha256(&out), sha256_file(&data));
    assert!(listener.wait(20).success(), "{}", listener.stderr());

    let port = free_port("127.0.0.1");
    let received = dir.path().join("received");
    let mut server = Command::new("ncat")
        .args(["--ssl", "--ssl-cert", &pki.path("server.pem")])
        .args(["--ssl-key", &pki.path("server.key")])
        .args(["-l", "--recv-only", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(file_stdout(&received))
        .spawn()
        .unwrap();
    wait_tcp_listening(port);
    let (status, _, err) = tls_connect(
        &["--ca", &pki.path("ca.pem")],
        &port.to_string(),
        &std::fs::read(&data).unwrap(),
    );
    assert!(status.success(), "{err}");
    assert!(wait_child(&mut server, 20).success());
    assert_eq!(sha256_file(&received), sha256_file(&data));
}

/// A client that shuts its TCP side right after the handshake, without
/// close_notify and before sending anything, has half-closed: the listener
/// keeps sending what its stdin gives it afterwards, and ends cleanly.
#[test]
fn a_bare_fin_before_any_data_is_a_half_close() {
    let script = r#"
import socket, ssl, sys
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
tls = context.wrap_socket(raw, server_hostname="localhost")
# TCP FIN only: the base class's shutdown, beneath the TLS layer.
socket.socket.shutdown(tls, socket.SHUT_WR)
print("shut", flush=True)
got = b""
while True:
    chunk = tls.recv(65536)
    if not chunk:
        break
    got += chunk
sys.stdout.write(got.decode())
"#;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    let mut listener = tls_listener(&[], Stdio::piped(), &copy);
    let mut client = Command::new("python3")
        .args(["-c", script, &listener.port()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client_out = LineLog::collect(client.stdout.take().unwrap(), |_| {});
    client_out.wait_for("shut", 10);
    listener.wait_for("finished sending", 10);
    // Only now does the listener get anything to send.
    let mut stdin = listener.child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"sent after your FIN\n").unwrap();
    drop(stdin);
    let (status, err) = wait_with_stderr(&mut client, 20);
    assert!(status.success(), "{err}");
    client_out.wait_for("sent after your FIN", 10);
    assert!(listener.wait(20).success(), "{}", listener.stderr());
    assert!(
        !listener.stderr().contains("truncat"),
        "{}",
        listener.stderr()
    );
}
