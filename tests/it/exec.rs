//! `listen --exec`: a program per client, wired to it, inetd's way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::*;
use crate::netns::Netns;

/// 20 clients at once, each with its own `tr a-z A-Z`: every one gets
/// exactly its own bytes back, upper-cased, and every program is reaped.
#[test]
fn twenty_concurrent_clients_each_get_their_own_program() {
    let listener = Listener::start(
        &["-k", "--exec", "tr a-z A-Z", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let clients: Vec<_> = (0..20)
        .map(|i| {
            let port = listener.port();
            std::thread::spawn(move || {
                let text: String = (0..2000)
                    .map(|j| format!("client {i} line {j}\n"))
                    .collect();
                let (status, out, err) = run_with_input(
                    sockit().args(["connect", "127.0.0.1", &port]),
                    text.as_bytes(),
                    60,
                );
                assert!(status.success(), "client {i}: {err}");
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    text.to_uppercase(),
                    "client {i}"
                );
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    for _ in 0..100 {
        if listener.stderr().matches("ended: exit status: 0").count() == 20 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("not every program was reaped:\n{}", listener.stderr());
}

#[test]
fn the_program_sees_both_ends_addresses() {
    let listener = Listener::start(
        &[
            "--exec",
            "echo \"$SOCKIT_PEER_ADDR $SOCKIT_PEER_PORT $SOCKIT_LOCAL_ADDR $SOCKIT_LOCAL_PORT\"",
            "0",
        ],
        Stdio::null(),
        Stdio::null(),
    );
    let mut client = TcpStream::connect(listener.addr()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut line = String::new();
    client.read_to_string(&mut line).unwrap();
    let local = client.local_addr().unwrap();
    assert_eq!(
        line,
        format!(
            "{} {} {} {}\n",
            local.ip(),
            local.port(),
            listener.addr().ip(),
            listener.addr().port()
        )
    );
}

/// A program that exits before reading: what it printed reaches the client
/// and its status is reported.
#[test]
fn a_program_that_exits_early_still_has_its_say() {
    let mut listener = Listener::start(
        &["--exec", "echo 'no thanks'; exit 3", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "input", 4 << 20, 51);
    let (status, out, err) = run(
        sockit()
            .args(["connect", "127.0.0.1", &listener.port()])
            .stdin(file_stdin(&input)),
        30,
    );
    assert_eq!(out, b"no thanks\n", "{err}");
    // Whether the client hears that its input went unread depends on how
    // much of it the socket buffers had taken: either way, one line.
    assert!(
        status.success() || err.contains("before reading everything we sent"),
        "{err}"
    );
    let _ = listener.wait(10);
    assert!(
        listener.stderr().contains("ended: exit status: 3"),
        "{}",
        listener.stderr()
    );
}

/// A program that never reads but keeps talking: the client's bytes wait in
/// the socket, the program's lines arrive as they are printed.
#[test]
fn a_program_that_never_reads() {
    let listener = Listener::start(
        &[
            "--exec",
            "for i in 1 2 3; do echo tick $i; sleep 0.2; done",
            "0",
        ],
        Stdio::null(),
        Stdio::null(),
    );
    let mut client = TcpStream::connect(listener.addr()).unwrap();
    client.write_all(&payload(64 * 1024, 52)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let _ = client.read_to_end(&mut got);
    assert_eq!(got, b"tick 1\ntick 2\ntick 3\n");
}

#[test]
fn max_conns_caps_the_programs() {
    let listener = Listener::start(
        &["-k", "--max-conns", "1", "--exec", "cat", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let mut first = TcpStream::connect(listener.addr()).unwrap();
    listener.wait_for("(1 active)", 10);
    let mut second = TcpStream::connect(listener.addr()).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(second.read(&mut buf).unwrap_or(0), 0, "closed at once");
    listener.wait_for("(--max-conns 1)", 10);
    first.write_all(b"still here\n").unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut line = [0u8; 11];
    first.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"still here\n");
}

/// Bound beyond loopback (inside a namespace the test made), --exec warns
/// even without -v; on loopback it does not.
#[test]
fn exec_on_a_public_address_warns() {
    let ns = Netns::new("exec");
    let mut server = ns
        .sockit(&["listen", "--exec", "true", "0.0.0.0", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = LineLog::collect(server.stderr.take().unwrap(), |_| {});
    log.wait_for("warning: anyone who can reach 0.0.0.0:", 10);
    let _ = server.kill();
    let _ = server.wait();
    // The warning comes before the listening line, which start waits for.
    let local = Listener::start(
        &["--exec", "true", "127.0.0.1", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    assert!(!local.stderr().contains("warning"), "{}", local.stderr());
}

/// The program never sees TLS: sockit speaks it to the client.
#[test]
fn exec_over_tls() {
    let listener = Listener::start(
        &["--tls", "--exec", "tr a-z A-Z", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let (status, out, err) =
        run_with_input(&mut listener.pinned_tls_client(), b"quiet words\n", 20);
    assert!(status.success(), "{err}");
    assert_eq!(out, b"QUIET WORDS\n");
}
