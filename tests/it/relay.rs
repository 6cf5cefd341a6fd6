//! The one-client relay: byte-identical transfers both ways, the half-close,
//! IPv6, closed stdout, signals, idle timeout, progress.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// connect < file  ==>  listen > copy, for several sizes, stdin a file or a pipe.
#[test]
fn connector_to_listener_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    for (i, size) in [0usize, 1, 65_537, 48 << 20].into_iter().enumerate() {
        for through_pipe in [false, true] {
            let input = write_payload(dir.path(), &format!("in{i}"), size, i as u64 + 1);
            let copy = dir.path().join(format!("copy{i}{through_pipe}"));
            let mut listener = Listener::start(&["0"], Stdio::null(), file_stdout(&copy));
            let mut connect = if through_pipe {
                let mut cmd = Command::new("sh");
                cmd.arg("-c").arg(format!(
                    "cat {} | {} connect 127.0.0.1 {}",
                    input.display(),
                    env!("CARGO_BIN_EXE_sockit"),
                    listener.port()
                ));
                cmd
            } else {
                let mut cmd = sockit();
                cmd.args(["connect", "127.0.0.1", &listener.port()])
                    .stdin(file_stdin(&input));
                cmd
            };
            let (status, out, err) = run(&mut connect, 60);
            assert!(status.success(), "connect failed: {err}");
            assert!(
                out.is_empty(),
                "the listener sent nothing, so nothing to print"
            );
            assert!(listener.wait(60).success(), "{}", listener.stderr());
            assert_eq!(sha256_file(&copy), sha256_file(&input), "size {size}");
        }
    }
}

/// listen < file  ==>  connect > copy: the listener sends, the connector receives.
#[test]
fn listener_to_connector_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "in", (64 << 20) + 3, 7);
    let copy = dir.path().join("copy");
    let mut listener = Listener::start(&["0"], file_stdin(&input), Stdio::null());
    let mut connect = sockit()
        .args(["connect", "127.0.0.1", &listener.port()])
        .stdin(Stdio::null())
        .stdout(file_stdout(&copy))
        .spawn()
        .unwrap();
    assert!(wait_child(&mut connect, 60).success());
    assert!(listener.wait(60).success(), "{}", listener.stderr());
    assert_eq!(sha256_file(&copy), sha256_file(&input));
}

/// The peer answers only after our FIN; we must still print the answer.
#[test]
fn reply_after_our_fin_is_printed() {
    require("python3", "python3");
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let peer = std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        let mut question = Vec::new();
        conn.read_to_end(&mut question).unwrap(); // returns only at our FIN
        std::thread::sleep(Duration::from_millis(200));
        conn.write_all(b"answer to: ").unwrap();
        conn.write_all(&question).unwrap();
    });
    let mut cmd = sockit();
    cmd.args(["connect", "-v", "127.0.0.1", &port]);
    let (status, out, err) = run_with_input(&mut cmd, b"question\n", 20);
    peer.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(out, b"answer to: question\n");
    let fin = err.find("input finished: sent FIN").expect(&err);
    let peer_fin = err.find("finished sending (FIN received)").expect(&err);
    assert!(fin < peer_fin, "our FIN must come first:\n{err}");
}

/// The peer half-closes first; we keep sending our input to the end.
#[test]
fn peer_fin_first_does_not_cut_our_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "in", 8 << 20, 3);
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let peer = std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        conn.write_all(b"hello first\n").unwrap();
        conn.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        got
    });
    let mut cmd = sockit();
    cmd.args(["connect", "127.0.0.1", &port])
        .stdin(file_stdin(&input));
    let (status, out, err) = run(&mut cmd, 30);
    assert!(status.success(), "{err}");
    assert_eq!(out, b"hello first\n");
    assert_eq!(sha256(&peer.join().unwrap()), sha256_file(&input));
}

#[test]
fn ipv6_loopback_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let up = write_payload(dir.path(), "up", 3 << 20, 11);
    let down = write_payload(dir.path(), "down", 2 << 20, 12);
    let got_up = dir.path().join("got_up");
    let got_down = dir.path().join("got_down");
    let mut listener = Listener::start(&["-6", "0"], file_stdin(&down), file_stdout(&got_up));
    assert!(listener.addr().is_ipv6() && listener.addr().ip().is_loopback());
    let mut connect = sockit()
        .args(["connect", "::1", &listener.port()])
        .stdin(file_stdin(&up))
        .stdout(file_stdout(&got_down))
        .spawn()
        .unwrap();
    assert!(wait_child(&mut connect, 30).success());
    assert!(listener.wait(30).success());
    assert_eq!(sha256_file(&got_up), sha256_file(&up));
    assert_eq!(sha256_file(&got_down), sha256_file(&down));
}

/// `sockit connect ... | head -c 10`: no message, no failure.
#[test]
fn closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "in", 32 << 20, 5);
    let listener = Listener::start(&["0"], file_stdin(&input), Stdio::null());
    // PIPESTATUS needs bash.
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(format!(
        "{} connect 127.0.0.1 {} < /dev/null | head -c 10 > /dev/null; echo \"${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_sockit"),
        listener.port()
    ));
    let (status, out, err) = run(&mut cmd, 30);
    assert!(status.success());
    assert_eq!(
        String::from_utf8_lossy(&out).trim(),
        "0",
        "exit code of sockit"
    );
    assert_eq!(err, "", "nothing on stderr");
}

/// -w bounds the idle time: a silent peer and an open stdin still end.
#[test]
fn idle_timeout_ends_a_silent_session() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let _peer = std::thread::spawn(move || {
        let (conn, _) = server.accept().unwrap();
        std::thread::sleep(Duration::from_secs(30));
        drop(conn);
    });
    let started = Instant::now();
    let mut child = sockit()
        .args(["connect", "-v", "-w", "1", "127.0.0.1", &port])
        .stdin(Stdio::piped()) // held open, never written
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, err) = wait_with_stderr(&mut child, 10);
    assert!(status.success(), "{err}");
    assert!(err.contains("nothing moved for 1 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn signals_end_a_transfer_with_the_shell_code() {
    let listener = Listener::start(&["0"], Stdio::piped(), Stdio::null());
    let mut client = TcpStream::connect(listener.addr()).unwrap();
    client.write_all(b"partial").unwrap();
    listener.wait_for("connection from", 10);
    listener.signal("INT");
    let mut listener = listener;
    let status = listener.wait(10);
    assert_eq!(status.code(), Some(130), "{}", listener.stderr());
    assert!(listener.stderr().contains("SIGINT: stopping"));
}

/// Over plain TCP and over TLS (whose relay is a path of its own).
#[test]
fn progress_goes_to_stderr_not_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "in", 4 << 20, 9);
    for tls in [false, true] {
        let copy = dir.path().join(format!("copy-{tls}"));
        let args: &[&str] = if tls { &["--tls", "0"] } else { &["0"] };
        let mut listener = Listener::start(args, Stdio::null(), file_stdout(&copy));
        let mut cmd = if tls {
            listener.pinned_tls_client()
        } else {
            let mut plain = sockit();
            plain.args(["connect", "127.0.0.1", &listener.port()]);
            plain
        };
        cmd.arg("--progress").stdin(file_stdin(&input));
        let (status, _, err) = run(&mut cmd, 30);
        assert!(status.success(), "tls {tls}: {err}");
        assert!(listener.wait(30).success(), "{}", listener.stderr());
        assert_eq!(sha256_file(&copy), sha256_file(&input), "tls {tls}");
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("progress: sent 4.0 MiB") && last.contains("of 4.0 MiB"),
            "tls {tls}: {err}"
        );
    }
}

/// On a terminal the bar is redrawn in place and fits the terminal's width
/// (40 columns here); a terminal that cannot redraw (`TERM=dumb`) gets the
/// plain status lines instead.
#[test]
fn progress_on_a_terminal_fits_its_width_and_dumb_terminals_get_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "in", 8 << 20, 10);
    for term in ["xterm", "dumb"] {
        let (controller, user) = open_terminal(40);
        let mut listener = Listener::start(&["0"], Stdio::null(), Stdio::null());
        let mut connect = sockit()
            .args(["connect", "--progress", "127.0.0.1", &listener.port()])
            .env("TERM", term)
            .stdin(file_stdin(&input))
            .stdout(Stdio::null())
            .stderr(Stdio::from(user))
            .spawn()
            .unwrap();
        let shown = LineLog::collect(std::fs::File::from(controller), |_| {});
        assert!(wait_child(&mut connect, 30).success());
        assert!(listener.wait(30).success());
        let text = shown.wait_for("8.0 MiB", 10);
        if term == "dumb" {
            assert!(!text.contains('\x1b'), "no cursor control: {text:?}");
            assert!(
                text.lines()
                    .any(|l| l.starts_with("progress: sent 8.0 MiB")),
                "{text:?}"
            );
        } else {
            let visible = strip_escapes(&text);
            for line in visible.split(['\r', '\n']) {
                assert!(
                    line.chars().count() <= 40,
                    "wider than the terminal: {line:?}"
                );
            }
            assert!(visible.contains("100%"), "{visible:?}");
        }
    }
}

/// Text without its terminal escape sequences (CSI ... letter).
fn strip_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A client that resets the connection makes the one-shot listener fail
/// with a message that says so.
#[test]
fn reset_by_the_client_is_reported() {
    let mut listener = Listener::start(&["0"], Stdio::piped(), Stdio::null());
    let client = socket2::Socket::from(TcpStream::connect(listener.addr()).unwrap());
    listener.wait_for("connection from", 10);
    client.set_linger(Some(Duration::ZERO)).unwrap();
    drop(client); // RST instead of FIN
    let status = listener.wait(10);
    assert_eq!(status.code(), Some(1));
    assert!(
        listener.stderr().contains("reset by the peer"),
        "{}",
        listener.stderr()
    );
}

/// Several GiB, checked with sha256sum: no byte lost or reordered at scale.
#[test]
fn several_gibibytes_arrive_intact() {
    require("sha256sum", "coreutils");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let copy = dir.path().join("copy");
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!("head -c 3G /dev/urandom > {}", input.display()))
        .status()
        .unwrap();
    assert!(made.success());
    let mut listener = Listener::start(&["0"], Stdio::null(), file_stdout(&copy));
    let mut connect = sockit()
        .args(["connect", "127.0.0.1", &listener.port()])
        .stdin(file_stdin(&input))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_child(&mut connect, 300).success());
    assert!(listener.wait(300).success(), "{}", listener.stderr());
    assert!(
        listener.stderr().contains("received 3.0 GiB"),
        "{}",
        listener.stderr()
    );
    let sum = |path: &std::path::Path| {
        let out = Command::new("sha256sum").arg(path).output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(sum(&copy), sum(&input));
}
