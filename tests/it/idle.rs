//! `-w SECS` closes a connection on which nothing moved for SECS, in every
//! server mode, each client on its own clock; `--keepalive` arms TCP's own
//! probes for peers that vanish without a word.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// Reads until the server closes, for at most `secs`; what arrived.
fn read_until_closed(client: &mut TcpStream, secs: u64) -> Vec<u8> {
    client
        .set_read_timeout(Some(Duration::from_secs(secs)))
        .unwrap();
    let mut got = Vec::new();
    match client.read_to_end(&mut got) {
        Ok(_) => got,
        Err(e) => panic!("the server did not close the idle connection within {secs}s: {e}"),
    }
}

/// A client that speaks every 200 ms for `for_ms` and checks that the
/// connection is still open at the end: its clock is its own.
fn chatty_client(addr: SocketAddr, for_ms: u64, expect_reply: bool) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 256];
        while started.elapsed() < Duration::from_millis(for_ms) {
            client.write_all(b"still here\n").unwrap();
            if expect_reply {
                let n = client.read(&mut buf).unwrap();
                assert!(n > 0, "closed while it was talking");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        client
            .write_all(b"last words\n")
            .expect("still open after the limit");
    })
}

/// In mode `args` with `-w 1`: a silent client is closed (and the closing
/// narrated) while a talking one, there all along, stays.
fn silent_client_closed_talking_one_kept(args: &[&str], chatty_gets_replies: bool) {
    let mut all = vec!["-w", "1"];
    all.extend_from_slice(args);
    all.push("0");
    let listener = Listener::start(&all, Stdio::piped(), Stdio::null());
    let chatty = chatty_client(listener.addr(), 2500, chatty_gets_replies);
    let mut silent = TcpStream::connect(listener.addr()).unwrap();
    read_until_closed(&mut silent, 10);
    let log = listener.wait_for("nothing moved for 1 s", 10);
    chatty.join().expect("the talking client was cut off");
    let closed_for_idle = log.matches("nothing moved for 1 s").count();
    assert_eq!(closed_for_idle, 1, "only the silent client:\n{log}");
}

#[test]
fn keep_open_echo_closes_only_the_silent_client() {
    silent_client_closed_talking_one_kept(&["-k", "--echo"], true);
}

#[test]
fn keep_open_relay_closes_only_the_silent_client() {
    silent_client_closed_talking_one_kept(&["-k"], false);
}

/// In a chat, bytes sent to a client count as activity too: while one
/// member talks, every member's connection moves and stays open; once the
/// room falls silent, each is closed at its limit.
#[test]
fn chat_stays_open_while_the_room_talks_and_closes_when_silent() {
    let listener = Listener::start(
        &["-w", "1", "-k", "--chat", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let mut listening = TcpStream::connect(listener.addr()).unwrap();
    let listening_addr = listening.local_addr().unwrap();
    listener.wait_for(&format!("connection from {listening_addr}"), 10);
    let talker = chatty_client(listener.addr(), 2500, false);
    talker.join().expect("the talking member was cut off");
    let heard = String::from_utf8(read_until_closed(&mut listening, 10)).unwrap();
    assert!(heard.matches("still here").count() >= 10, "{heard}");
    assert!(heard.contains("last words"), "open until the end: {heard}");
    let log = listener.wait_for(&format!("closed {listening_addr}"), 10);
    assert!(
        log.contains(&format!(
            "nothing moved for 1 s: closing the connection with {listening_addr}"
        )),
        "{log}"
    );
}

#[test]
fn one_client_echo_and_chat_close_a_silent_client() {
    for mode in ["--echo", "--chat"] {
        let mut listener = Listener::start(&["-w", "1", mode, "0"], Stdio::null(), Stdio::null());
        let mut client = TcpStream::connect(listener.addr()).unwrap();
        read_until_closed(&mut client, 10);
        assert!(listener.wait(10).success(), "{mode}: {}", listener.stderr());
        assert!(
            listener.stderr().contains("nothing moved for 1 s"),
            "{mode}: {}",
            listener.stderr()
        );
    }
}

#[test]
fn one_shot_listen_closes_a_silent_client() {
    let mut listener = Listener::start(&["-w", "1", "0"], Stdio::piped(), Stdio::null());
    let mut client = TcpStream::connect(listener.addr()).unwrap();
    read_until_closed(&mut client, 10);
    assert!(listener.wait(10).success(), "{}", listener.stderr());
    assert!(listener.stderr().contains("nothing moved for 1 s"));
}

/// `ss -o` shows the kernel's keepalive timer on sockit's connection.
fn keepalive_timer(port: u16) -> String {
    let out = Command::new("ss")
        .args(["-tnoH", "state", "established"])
        .arg(format!("( sport = :{port} )"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn keepalive_arms_the_kernel_timer_on_both_sides() {
    let listener = Listener::start(
        &["--keepalive=45", "-k", "--echo", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let _client = TcpStream::connect(listener.addr()).unwrap();
    listener.wait_for("(1 active)", 10);
    let served = keepalive_timer(listener.addr().port());
    assert!(served.contains("timer:(keepalive,4"), "{served}");

    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let mut connect = sockit()
        .args(["connect", "--keepalive", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (_peer, from) = accept_within(&server, 10);
    let ours = keepalive_timer(from.port());
    let _ = connect.kill();
    let _ = connect.wait();
    assert!(ours.contains("timer:(keepalive,"), "default 60 s: {ours}");
    assert!(
        ours.contains("keepalive,5") || ours.contains("keepalive,1min"),
        "{ours}"
    );
}

#[test]
fn keepalive_below_a_second_is_a_usage_error() {
    let (status, _, err) = run(
        sockit().args(["connect", "--keepalive=0.5", "127.0.0.1", "1"]),
        10,
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("whole seconds"), "{err}");
}
