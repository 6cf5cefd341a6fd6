//! `listen -u` and `connect -u`: datagrams, boundaries, many peers, ICMP
//! unreachable, IPv6, broadcast between network namespaces, nc and socat.

use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::*;
use crate::netns::TwoHosts;

fn client_for(server: SocketAddr) -> UdpSocket {
    let any = if server.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = UdpSocket::bind(any).unwrap();
    socket.connect(server).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

fn recv(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 65536];
    let n = socket.recv(&mut buf).expect("a datagram within 5 s");
    buf.truncate(n);
    buf
}

#[test]
fn echo_keeps_boundaries_from_one_byte_to_the_largest() {
    let listener = Listener::start(&["-u", "--echo", "0"], Stdio::null(), Stdio::null());
    let client = client_for(listener.addr());
    let sizes = [1usize, 2, 64, 1400, 1472, 9000, 32768, 60000, 65507];
    for (i, &size) in sizes.iter().enumerate() {
        let datagram = payload(size, i as u64 + 1);
        client.send(&datagram).unwrap();
        let echoed = recv(&client);
        assert_eq!(echoed.len(), size, "boundary of a {size}-byte datagram");
        assert!(echoed == datagram, "content of a {size}-byte datagram");
    }
    // A burst of mixed sizes comes back as the same datagrams, none merged.
    for &size in &sizes[..6] {
        client.send(&payload(size, 99)).unwrap();
    }
    let mut got: Vec<usize> = (0..6).map(|_| recv(&client).len()).collect();
    got.sort_unstable();
    let mut want = sizes[..6].to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
    // The log line may follow the echo: wait for it rather than race it.
    listener.wait_for(": 65507 bytes", 10);
}

#[test]
fn twenty_peers_each_get_only_their_own_datagrams() {
    let listener = Listener::start(&["-u", "--echo", "0"], Stdio::null(), Stdio::null());
    let addr = listener.addr();
    let peers: Vec<_> = (0..20)
        .map(|id| {
            std::thread::spawn(move || {
                let client = client_for(addr);
                for seq in 0..50 {
                    let datagram = format!("peer {id:02} datagram {seq:03}");
                    client.send(datagram.as_bytes()).unwrap();
                    let echoed = String::from_utf8(recv(&client)).unwrap();
                    assert_eq!(echoed, datagram);
                }
            })
        })
        .collect();
    for peer in peers {
        peer.join().unwrap();
    }
}

#[test]
fn listener_prints_every_sender_and_answers_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut listener = Listener::start(&["-u", "0"], Stdio::piped(), file_stdout(&out));
    let mut stdin = listener.child.stdin.take().unwrap();
    let senders: Vec<UdpSocket> = (0..3).map(|_| client_for(listener.addr())).collect();
    for (i, sender) in senders.iter().enumerate() {
        sender
            .send(format!("from sender {i}\n").as_bytes())
            .unwrap();
        let name = sender.local_addr().unwrap();
        listener.wait_for(&format!("datagram from {name}: 14 bytes"), 5);
    }
    // stdin goes to the peer heard from most recently: sender 2.
    stdin.write_all(b"to the last one\n").unwrap();
    assert_eq!(recv(&senders[2]), b"to the last one\n");
    listener.wait_for(
        &format!("sent 16 bytes to {}", senders[2].local_addr().unwrap()),
        5,
    );
    senders[0].send(b"me again\n").unwrap();
    listener.wait_for("9 bytes", 5);
    stdin.write_all(b"now you\n").unwrap();
    assert_eq!(recv(&senders[0]), b"now you\n");
    senders[2]
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        senders[2].recv(&mut [0u8; 64]).is_err(),
        "only the last peer gets stdin"
    );
    drop(stdin);
    listener.signal("TERM");
    assert_eq!(listener.wait(10).code(), Some(0));
    let printed = std::fs::read_to_string(&out).unwrap();
    for i in 0..3 {
        assert!(printed.contains(&format!("from sender {i}\n")), "{printed}");
    }
    assert!(printed.ends_with("me again\n"), "{printed}");
}

/// An echo peer in a thread: it records the size of every datagram.
fn echo_peer(addr: &str) -> (SocketAddr, std::thread::JoinHandle<Vec<usize>>) {
    let socket = UdpSocket::bind(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let local = socket.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let mut sizes = Vec::new();
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            sizes.push(n);
            socket.send_to(&buf[..n], from).unwrap();
            if buf[..n].ends_with(b"last\n") {
                break;
            }
        }
        sizes
    });
    (local, peer)
}

/// `sockit connect -u [FLAGS] ADDR PORT < input` against [`echo_peer`] bound
/// to `bind`: what sockit printed, and the datagram sizes the peer saw.
fn through_echo_peer(bind: &str, flags: &[&str], input: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let (addr, peer) = echo_peer(bind);
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let mut cmd = sockit();
    cmd.args(["connect", "-u", "-w", "0.5"])
        .args(flags)
        .args([&host, &port]);
    let (status, out, err) = run_with_input(&mut cmd, input, 20);
    assert!(status.success(), "{err}");
    (out, peer.join().unwrap())
}

#[test]
fn connect_sends_one_datagram_per_line_and_prints_replies() {
    let (out, sizes) = through_echo_peer("127.0.0.1:0", &[], b"alpha\nbe\nlast\n");
    assert_eq!(out, b"alpha\nbe\nlast\n");
    assert_eq!(sizes, vec![6, 3, 5], "one datagram per line");
}

#[test]
fn ipv6_loopback() {
    let (out, _) = through_echo_peer("[::1]:0", &["-6"], b"over six\nlast\n");
    assert_eq!(out, b"over six\nlast\n");

    let listener = Listener::start(&["-u", "-6", "--echo", "0"], Stdio::null(), Stdio::null());
    assert_eq!(listener.addr().ip().to_string(), "::1");
    let client = client_for(listener.addr());
    client.send(b"v6 echo").unwrap();
    assert_eq!(recv(&client), b"v6 echo");
}

#[test]
fn nobody_listening_is_reported() {
    let port = free_udp_port("127.0.0.1");
    let (status, _, err) = run_with_input(
        sockit().args(["connect", "-u", "127.0.0.1", &port.to_string()]),
        b"anyone?\n",
        20,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("nothing is listening on UDP port") && err.contains("ICMP port unreachable"),
        "{err}"
    );
}

#[test]
fn udp_shares_tcp_errors_and_refuses_tcp_only_flags() {
    // Held by another sockit: two UDP listeners must never split a port.
    let holder = Listener::start(&["-u", "0"], Stdio::null(), Stdio::null());
    let port = holder.port();
    for (args, code, needle) in [
        (vec!["listen", "-u", &port], 1, "already in use"),
        (vec!["listen", "-u", "65536"], 2, "ports go from 0 to 65535"),
        (
            vec!["connect", "-u", "no-such-host.invalid", "53"],
            1,
            "unknown host",
        ),
        (
            vec!["listen", "-u", "192.0.2.1", "0"],
            1,
            "not an address of this host",
        ),
        (vec!["listen", "-u", "-k", "0"], 2, "cannot be used with"),
        (vec!["connect", "--broadcast", "127.0.0.1", "9"], 2, "--udp"),
    ] {
        let (status, _, err) = run(sockit().args(&args).stdin(Stdio::null()), 60);
        assert_eq!(status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn netcat_and_socat_as_peers() {
    require("nc", "netcat-openbsd");
    require("socat", "socat");
    // nc -u sends to sockit listen -u.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let listener = Listener::start(&["-u", "0"], Stdio::null(), file_stdout(&out));
    let (status, _, err) = run_with_input(
        Command::new("nc").args(["-u", "-w", "1", "127.0.0.1", &listener.port()]),
        b"from nc\n",
        20,
    );
    assert!(status.success(), "{err}");
    listener.wait_for("8 bytes", 5);
    // socat talks to sockit listen -u --echo and prints the echo.
    let echo = Listener::start(&["-u", "--echo", "0"], Stdio::null(), Stdio::null());
    let (status, printed, err) = run_with_input(
        Command::new("socat").args(["-t1", "-", &format!("UDP:127.0.0.1:{}", echo.port())]),
        b"from socat\n",
        20,
    );
    assert!(status.success(), "{err}");
    assert_eq!(printed, b"from socat\n");
    drop(listener);
    assert_eq!(std::fs::read(&out).unwrap(), b"from nc\n");

    // sockit connect -u sends to nc -u -l ...
    let port = free_udp_port("127.0.0.1").to_string();
    let mut nc = Command::new("nc")
        .args(["-u", "-l", "127.0.0.1", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_udp_bound(port.parse().unwrap());
    let (status, _, err) = run_with_input(
        sockit().args(["connect", "-u", "-w", "0.3", "127.0.0.1", &port]),
        b"to nc\n",
        20,
    );
    assert!(status.success(), "{err}");
    let mut got = [0u8; 6];
    nc.stdout.take().unwrap().read_exact(&mut got).unwrap();
    assert_eq!(&got, b"to nc\n");
    let _ = nc.kill();
    let _ = nc.wait();
    // ... and to socat's UDP echo.
    let port = free_udp_port("127.0.0.1").to_string();
    let mut socat = Command::new("socat")
        .arg(format!("UDP-LISTEN:{port},bind=127.0.0.1"))
        .arg("PIPE")
        .spawn()
        .unwrap();
    wait_udp_bound(port.parse().unwrap());
    let (status, printed, err) = run_with_input(
        sockit().args(["connect", "-u", "-w", "0.5", "127.0.0.1", &port]),
        b"to socat\n",
        20,
    );
    let _ = socat.kill();
    let _ = socat.wait();
    assert!(status.success(), "{err}");
    assert_eq!(printed, b"to socat\n");
}

/// Two hosts in network namespaces this test creates, joined by a veth pair:
/// a broadcast from one reaches a listener on the other, and without
/// --broadcast the kernel refuses, which sockit explains.
#[test]
fn broadcast_between_namespaces() {
    require("ip", "iproute2");
    let net = TwoHosts::new("bc");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut receiver = net
        .b
        .sockit(&["listen", "-u", "-v", "0.0.0.0", "5151"])
        .stdin(Stdio::null())
        .stdout(file_stdout(&out))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_udp_bound_in(Some(&net.b.name), 5151);
    let broadcast = format!("{}.255", net.prefix);
    let (status, _, err) = run_with_input(
        &mut net.a.sockit(&[
            "connect",
            "-u",
            "--broadcast",
            "-w",
            "0.3",
            &broadcast,
            "5151",
        ]),
        b"hello, segment\n",
        20,
    );
    assert!(status.success(), "{err}");
    let (status, _, err) = run_with_input(
        &mut net.a.sockit(&["connect", "-u", &broadcast, "5151"]),
        b"not allowed\n",
        20,
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("add --broadcast"), "{err}");
    // The datagram was sent before connect exited; give the receiver's
    // stdout writer up to 5 s to land it.
    for _ in 0..250 {
        if std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0) > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = receiver.kill();
    let _ = receiver.wait();
    let mut log = String::new();
    receiver
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"hello, segment\n");
    assert!(
        log.contains(&format!("datagram from {}.1:", net.prefix)),
        "{log}"
    );
}
