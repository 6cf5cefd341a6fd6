//! `listen --echo`: the course's looping server, with backpressure.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::*;

#[test]
fn one_client_gets_its_bytes_back_then_the_server_exits() {
    let mut listener = Listener::start(&["--echo", "0"], Stdio::null(), Stdio::null());
    let mut client = TcpStream::connect(listener.addr()).unwrap();
    let data = payload(3 << 20, 21);
    let writer = {
        let mut client = client.try_clone().unwrap();
        let data = data.clone();
        std::thread::spawn(move || {
            client.write_all(&data).unwrap();
            client.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut echoed = Vec::new();
    client.read_to_end(&mut echoed).unwrap();
    writer.join().unwrap();
    assert!(echoed == data);
    assert!(listener.wait(10).success());
    assert!(listener.stderr().contains("received 3.0 MiB, sent 3.0 MiB"));
}

/// A client that sends without reading cannot make the server buffer its
/// data: once the kernel's buffers are full, its writes stop going through,
/// and the server's memory stays small.
#[test]
fn a_client_that_never_reads_is_throttled() {
    let listener = Listener::start(&["-k", "--echo", "0"], Stdio::null(), Stdio::null());
    let client = TcpStream::connect(listener.addr()).unwrap();
    client.set_nonblocking(true).unwrap();
    let chunk = payload(64 * 1024, 1);
    let mut written = 0usize;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut stalled_since = None;
    while Instant::now() < deadline && written < (256 << 20) {
        match (&client).write(&chunk) {
            Ok(n) => {
                written += n;
                stalled_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(500) {
                    break; // blocked for good: backpressure reached us
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        written < 64 << 20,
        "the server absorbed {written} bytes from a client that reads nothing"
    );
    let rss_kib = rss_kib(listener.child.id());
    assert!(rss_kib < 40 * 1024, "server RSS {rss_kib} KiB");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
