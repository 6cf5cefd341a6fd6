//! Bad input and faults: one line naming the problem and the fix, exit 2 for
//! usage errors and 1 for runtime failures, never a panic.

use std::process::{Command, Stdio};

use crate::helpers::*;

fn fails(args: &[&str], code: i32, needle: &str) -> String {
    let (status, out, err) = run(sockit().args(args).stdin(Stdio::null()), 30);
    assert_eq!(status.code(), Some(code), "{args:?}: {err}");
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err}"
    );
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"));
    err
}

#[test]
fn ports_out_of_range_or_not_numbers() {
    fails(&["listen", "65536"], 2, "ports go from 0 to 65535");
    fails(&["listen", "-1"], 2, "unexpected argument '-1'");
    fails(
        &["connect", "127.0.0.1", "http"],
        2,
        "a port is a number from 0 to 65535",
    );
    fails(
        &["connect", "127.0.0.1", "0"],
        2,
        "port 0 cannot be connected to",
    );
    fails(&["listen", "--max-conns", "0", "0"], 2, "--max-conns 0");
    fails(&["connect", "-w", "-3", "127.0.0.1", "80"], 2, "'-3'");
    fails(
        &["connect", "-w", "0", "127.0.0.1", "80"],
        2,
        "positive number of seconds",
    );
}

#[test]
fn unknown_host() {
    fails(
        &["connect", "no-such-host.invalid", "80"],
        1,
        "unknown host \"no-such-host.invalid\"",
    );
    fails(&["listen", "no-such-host.invalid", "0"], 1, "unknown host");
}

#[test]
fn refused_connection() {
    let port = free_port("127.0.0.1").to_string();
    fails(
        &["connect", "127.0.0.1", &port],
        1,
        "connection refused by 127.0.0.1 port",
    );
}

#[test]
fn port_already_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let err = fails(&["listen", &port], 1, "already in use");
    assert!(err.contains("pick another port"), "{err}");
}

#[test]
fn address_not_on_this_host() {
    fails(
        &["listen", "192.0.2.1", "0"],
        1,
        "is not an address of this host",
    );
}

#[test]
fn family_mismatch_is_a_usage_error() {
    fails(&["listen", "-6", "127.0.0.1", "0"], 2, "-4/-6");
    fails(&["connect", "-6", "127.0.0.1", "80"], 1, "no IPv6 address");
}

/// Ports below 1024 need privileges; run as nobody to see the message.
#[test]
fn permission_denied_for_low_ports() {
    require("setpriv", "util-linux");
    let (status, _, err) = run(
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sockit"))
            .args(["listen", "80"])
            .stdin(Stdio::null()),
        30,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("permission denied") && err.contains("1024"),
        "{err}"
    );
}

#[test]
fn usage_errors_from_the_parser_exit_2() {
    let (status, _, _) = run(sockit().args(["listen"]), 10);
    assert_eq!(status.code(), Some(2));
    let (status, _, _) = run(sockit().args(["listen", "--echo", "--chat", "0"]), 10);
    assert_eq!(status.code(), Some(2));
}
