//! `listen -k`: many clients at once, a cap, resets that must not hurt.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::*;

fn echo_round_trip(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = client.try_clone().unwrap();
    let outgoing = data.to_vec();
    let sender = std::thread::spawn(move || {
        writer.write_all(&outgoing).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::new();
    client.read_to_end(&mut echoed).unwrap();
    sender.join().unwrap();
    echoed
}

/// 60 clients at once, each with its own payload, each gets exactly its own.
#[test]
fn sixty_concurrent_clients_each_get_their_own_echo() {
    let listener = Listener::start(&["-k", "--echo", "0"], Stdio::null(), Stdio::null());
    let addr = listener.addr();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(60));
    let clients: Vec<_> = (0..60u64)
        .map(|i| {
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                let data = payload(200_000 + i as usize * 1000, 100 + i);
                barrier.wait();
                let echoed = echo_round_trip(addr, &data);
                assert_eq!(sha256(&echoed), sha256(&data), "client {i}");
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    // They were served concurrently: at some point many were active at once.
    let log = listener.stderr();
    let peak = log
        .lines()
        .filter_map(|l| {
            l.split(" (")
                .nth(1)?
                .strip_suffix(" active)")?
                .parse::<usize>()
                .ok()
        })
        .max()
        .unwrap();
    assert!(peak > 1, "clients were served one after another:\n{log}");
}

#[test]
fn max_conns_refuses_the_one_over_the_cap() {
    let listener = Listener::start(
        &["-k", "--echo", "--max-conns", "2", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let mut first = TcpStream::connect(listener.addr()).unwrap();
    let mut second = TcpStream::connect(listener.addr()).unwrap();
    listener.wait_for("(2 active)", 10);
    let mut third = TcpStream::connect(listener.addr()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 16];
    let n = third
        .read(&mut buf)
        .expect("the server closes the third client within 10 s");
    assert_eq!(n, 0, "the third client must be closed, not served");
    listener.wait_for("refused 127.0.0.1:", 10);
    assert!(listener.stderr().contains("(--max-conns 2)"));
    // The two served clients still work.
    for client in [&mut first, &mut second] {
        client.write_all(b"ping\n").unwrap();
        let mut line = [0u8; 5];
        client.read_exact(&mut line).unwrap();
        assert_eq!(&line, b"ping\n");
    }
    // When one leaves, a new client is served again.
    drop(first);
    listener.wait_for("closed 127.0.0.1:", 10);
    assert_eq!(echo_round_trip(listener.addr(), b"again"), b"again");
}

/// Clients that reset mid-stream or vanish never take the listener down.
#[test]
fn resets_and_vanishing_clients_do_not_stop_the_server() {
    let listener = Listener::start(&["-k", "--echo", "0"], Stdio::null(), Stdio::null());
    for _ in 0..5 {
        let client = TcpStream::connect(listener.addr()).unwrap();
        (&client).write_all(&payload(1 << 20, 3)).unwrap();
        let socket = socket2::Socket::from(client);
        socket.set_linger(Some(Duration::ZERO)).unwrap();
        drop(socket); // RST with unread echo data in flight
    }
    let data = payload(500_000, 4);
    assert_eq!(
        sha256(&echo_round_trip(listener.addr(), &data)),
        sha256(&data)
    );
}

/// Keep-open relay: stdin goes to every client, every client goes to stdout.
#[test]
fn keep_open_relay_fans_stdin_out_and_collects_clients() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut listener = Listener::start(&["-k", "0"], Stdio::piped(), file_stdout(&out));
    let mut a = TcpStream::connect(listener.addr()).unwrap();
    let mut b = TcpStream::connect(listener.addr()).unwrap();
    listener.wait_for("(2 active)", 10);
    let mut stdin = listener.child.stdin.take().unwrap();
    stdin.write_all(b"to everyone\n").unwrap();
    drop(stdin); // EOF: every client gets FIN after the data
    for client in [&mut a, &mut b] {
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"to everyone\n");
    }
    let (a_name, b_name) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.write_all(b"from a\n").unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    listener.wait_for(&format!("closed {a_name}: received 7 B, sent 12 B"), 10);
    b.write_all(b"from b\n").unwrap();
    b.shutdown(Shutdown::Write).unwrap();
    let log = listener.wait_for(&format!("closed {b_name}: received 7 B, sent 12 B"), 10);
    // Both sessions closed, yet the server keeps listening.
    let c = TcpStream::connect(listener.addr()).unwrap();
    drop(c);
    listener.signal("TERM");
    assert_eq!(listener.wait(10).code(), Some(0), "{log}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains("from a\n") && written.contains("from b\n"),
        "{written}"
    );
}
