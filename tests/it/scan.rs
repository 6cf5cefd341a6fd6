//! `sockit scan`: always inside a namespace the test creates, whose loopback
//! holds only the test's own listeners. nmap -sT is the reference.

use std::collections::BTreeSet;
use std::process::Stdio;

use serde_json::Value;

use crate::helpers::*;
use crate::netns::{Netns, TwoHosts};

/// `sockit listen -k` on each port inside `ns`.
fn listeners(ns: &Netns, host: &str, ports: &[u16]) -> Vec<Listener> {
    ports
        .iter()
        .map(|port| {
            Listener::start_with(
                ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
                &["-k", host, &port.to_string()],
                Stdio::null(),
                Stdio::null(),
            )
        })
        .collect()
}

fn json_ports(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn full_scan_finds_exactly_the_listeners_as_nmap_does() {
    require("nmap", "nmap");
    let ns = Netns::new("scan");
    // Both ends of the range, well-known ports and the ephemeral range
    // (where a scan can connect a socket to itself).
    let open = [1, 22, 80, 8080, 40000, 54321, 65535];
    let _listening = listeners(&ns, "127.0.0.1", &open);
    let (status, out, err) = run(&mut ns.sockit(&["scan", "--json", "127.0.0.1", "-"]), 120);
    assert!(status.success(), "{err}");
    let found = json_ports(&out);
    let ports: Vec<u64> = found.iter().map(|p| p["port"].as_u64().unwrap()).collect();
    assert_eq!(ports, open.map(u64::from), "in port order, nothing else");
    assert!(found.iter().all(|p| p["state"] == "open"));
    assert_eq!(found[1]["service"], "ssh");
    assert_eq!(found[2]["service"], "http");

    let nmap = ns
        .exec(&["nmap", "-sT", "-p-", "-T4", "-n", "-oG", "-", "127.0.0.1"])
        .output()
        .unwrap();
    let report = String::from_utf8(nmap.stdout).unwrap();
    let theirs: BTreeSet<u64> = report
        .split("Ports: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no ports in nmap's report:\n{report}"))
        .split(", ")
        .filter(|entry| entry.contains("/open/"))
        .map(|entry| entry.split('/').next().unwrap().trim().parse().unwrap())
        .collect();
    assert_eq!(theirs, ports.iter().copied().collect());
}

#[test]
fn port_lists_a_table_and_the_counts() {
    let ns = Netns::new("scanlist");
    let _listening = listeners(&ns, "127.0.0.1", &[22, 8005, 40001]);
    let (status, out, err) = run(
        &mut ns.sockit(&["scan", "-v", "127.0.0.1", "1-100,8000-8010,40001"]),
        60,
    );
    assert!(status.success(), "{err}");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "PORT      STATE SERVICE\n22/tcp    open  ssh\n8005/tcp  open  unknown\n40001/tcp open  unknown\n"
    );
    assert!(
        err.contains("scanned 112 of 112 ports on 127.0.0.1"),
        "{err}"
    );
    assert!(err.contains("3 open, 109 closed, 0 filtered"), "{err}");
}

#[test]
fn ipv6_loopback() {
    let ns = Netns::new("scan6");
    let _listening = listeners(&ns, "::1", &[443, 9999]);
    let (status, out, err) = run(&mut ns.sockit(&["scan", "--json", "::1", "1-10000"]), 60);
    assert!(status.success(), "{err}");
    let ports: Vec<u64> = json_ports(&out)
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [443, 9999]);
}

#[test]
fn dropped_packets_make_a_port_filtered_not_closed() {
    let net = TwoHosts::new("sf");
    let _listening = listeners(&net.b, "0.0.0.0", &[7000]);
    net.b.drop_incoming("tcp dport 7001", 100);
    let (status, out, err) = run(
        &mut net.a.sockit(&[
            "scan",
            "-v",
            "-w",
            "0.5",
            "--json",
            &net.address_of_b(),
            "7000-7002",
        ]),
        30,
    );
    assert!(status.success(), "{err}");
    let ports: Vec<u64> = json_ports(&out)
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [7000]);
    assert!(err.contains("1 open, 1 closed, 1 filtered"), "{err}");
}

#[test]
fn no_open_port_exits_1() {
    let ns = Netns::new("scanno");
    let (status, out, err) = run(&mut ns.sockit(&["scan", "127.0.0.1", "1-2000"]), 60);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("no open TCP port among the 2000 scanned"),
        "{err}"
    );
}

#[test]
fn bad_port_lists_are_usage_errors() {
    for (ports, names) in [
        ("1024-1", "reversed"),
        ("1-65536", "65536"),
        ("22,http", "http"),
        ("", "empty"),
    ] {
        let (status, out, err) = run(sockit().args(["scan", "127.0.0.1", ports]), 30);
        assert_eq!(status.code(), Some(2), "{ports}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(names), "{err}");
    }
}
