//! Real peers on each side: OpenBSD netcat and socat, and a resolver answer
//! with two addresses where only the second one listens.

use std::process::{Command, Stdio};

use crate::helpers::*;

const SIZE: usize = 16 << 20;

#[test]
fn netcat_sends_to_sockit_listen() {
    require("nc", "netcat-openbsd");
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "in", SIZE, 31);
    let copy = dir.path().join("copy");
    let mut listener = Listener::start(&["0"], Stdio::null(), file_stdout(&copy));
    let mut nc = Command::new("nc");
    nc.args(["-N", "127.0.0.1", &listener.port()])
        .stdin(file_stdin(&input));
    let (status, _, err) = run(&mut nc, 60);
    assert!(status.success(), "{err}");
    assert!(listener.wait(30).success());
    assert_eq!(sha256_file(&copy), sha256_file(&input));
}

#[test]
fn sockit_connect_sends_to_netcat_listen() {
    require("nc", "netcat-openbsd");
    sockit_connect_sends_to(32, |port| {
        let mut nc = Command::new("nc");
        nc.args(["-l", "127.0.0.1", &port.to_string()]);
        nc
    });
}

#[test]
fn socat_sends_to_sockit_listen_and_back() {
    require("socat", "socat");
    let dir = tempfile::tempdir().unwrap();
    let up = write_payload(dir.path(), "up", SIZE, 33);
    let down = write_payload(dir.path(), "down", SIZE / 2, 34);
    let got_up = dir.path().join("got_up");
    let got_down = dir.path().join("got_down");
    let mut listener = Listener::start(&["0"], file_stdin(&down), file_stdout(&got_up));
    let mut socat = Command::new("socat")
        .arg("-t30")
        .arg("STDIO")
        .arg(format!("TCP:127.0.0.1:{}", listener.port()))
        .stdin(file_stdin(&up))
        .stdout(file_stdout(&got_down))
        .spawn()
        .unwrap();
    assert!(wait_child(&mut socat, 60).success());
    assert!(listener.wait(30).success(), "{}", listener.stderr());
    assert_eq!(sha256_file(&got_up), sha256_file(&up));
    assert_eq!(sha256_file(&got_down), sha256_file(&down));
}

#[test]
fn sockit_connect_to_socat_listen() {
    require("socat", "socat");
    sockit_connect_sends_to(35, |port| {
        let mut socat = Command::new("socat");
        socat
            .arg("-u")
            .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"))
            .arg("STDOUT");
        socat
    });
}

/// Starts the peer that `listen_command(port)` describes, with its
/// stdout in a file, sends it a payload with `sockit connect`, and checks
/// that the peer wrote exactly that payload.
fn sockit_connect_sends_to(seed: u64, listen_command: impl Fn(u16) -> Command) {
    let dir = tempfile::tempdir().unwrap();
    let input = write_payload(dir.path(), "in", SIZE, seed);
    let copy = dir.path().join("copy");
    let port = free_port("127.0.0.1");
    let mut peer = listen_command(port)
        .stdin(Stdio::null())
        .stdout(file_stdout(&copy))
        .spawn()
        .unwrap();
    let status = retry_connect(&port.to_string(), &input);
    assert!(status.success());
    assert!(wait_child(&mut peer, 30).success());
    assert_eq!(sha256_file(&copy), sha256_file(&input));
}

/// The peer was started a moment ago and may not listen yet: retry briefly.
fn retry_connect(port: &str, input: &std::path::Path) -> std::process::ExitStatus {
    for _ in 0..100 {
        let (status, _, err) = run(
            sockit()
                .args(["connect", "127.0.0.1", port])
                .stdin(file_stdin(input)),
            60,
        );
        if !err.contains("connection refused") {
            assert!(status.success(), "{err}");
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the peer never listened on port {port}");
}

/// A name with two addresses, ::1 first; only 127.0.0.1 listens. sockit must
/// try ::1, be refused, and carry on to 127.0.0.1, as netcat does. The name
/// lives in a hosts file bind-mounted over /etc/hosts in a private mount
/// namespace, so the machine's own file is never touched.
#[test]
fn tries_each_resolved_address_in_turn() {
    require("unshare", "util-linux");
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "::1 dual.sockit.test\n127.0.0.1 dual.sockit.test\n").unwrap();
    let copy = dir.path().join("copy");
    let mut listener = Listener::start(&["0"], Stdio::null(), file_stdout(&copy));
    let script = format!(
        "mount --bind {} /etc/hosts && exec {} connect -v dual.sockit.test {}",
        hosts.display(),
        env!("CARGO_BIN_EXE_sockit"),
        listener.port()
    );
    let (status, _, err) = run_with_input(
        Command::new("unshare").args(["--mount", "sh", "-c", &script]),
        b"via the second address\n",
        30,
    );
    assert!(status.success(), "{err}");
    let refused = err
        .find(&format!("[::1]:{}: refused", listener.port()))
        .expect(&err);
    let connected = err.find("connected to 127.0.0.1:").expect(&err);
    assert!(refused < connected, "{err}");
    assert!(listener.wait(30).success());
    assert_eq!(std::fs::read(&copy).unwrap(), b"via the second address\n");
}
