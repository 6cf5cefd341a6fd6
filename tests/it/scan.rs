//! `sockit scan`: always inside a namespace the test creates, whose loopback
//! holds only the test's own listeners. nmap -sT is the reference.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;

use serde_json::Value;

use crate::helpers::*;
use crate::netns::{Netns, Subnet, TwoHosts};

/// Small servers for the scan to find, run by python3 inside a namespace:
/// each entry of the JSON list is `[protocol, port, behaviour]`. TCP
/// behaviours: `greet:TEXT` (sends TEXT on connect), `http` (answers a
/// request with a status line and a header), `silent`. UDP: `reply` (answers
/// any datagram, an empty one included), `silent` (reads and ignores).
const SERVERS: &str = r#"
import json, socket, sys, threading
def tcp(port, behaviour):
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(64)
    def serve(c):
        try:
            if behaviour.startswith('greet:'):
                c.sendall(behaviour[6:].encode())
            if behaviour == 'http' and c.recv(1000):
                c.sendall(b'HTTP/1.0 200 OK\r\nServer: sockit-test\r\n\r\n')
            c.recv(1000)
        except OSError:
            pass
        c.close()
    while True:
        threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
def udp(port, behaviour):
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    while True:
        data, peer = s.recvfrom(4096)
        if behaviour == 'reply':
            s.sendto(b'pong', peer)
    return s
host = sys.argv[2]
threads = [threading.Thread(target=tcp if proto == 'tcp' else udp, args=(port, behaviour), daemon=True)
           for proto, port, behaviour in json.loads(sys.argv[1])]
for t in threads: t.start()
import time; time.sleep(0.3); print('ready', flush=True); time.sleep(3600)
"#;

struct Servers(std::process::Child);

impl Servers {
    fn start(ns: &Netns, host: &str, spec: &[(&str, u16, &str)]) -> Servers {
        require("python3", "python3");
        let spec = serde_json::to_string(spec).unwrap();
        let mut child = ns
            .exec(&["python3", "-c", SERVERS, &spec, host])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let line = first_line(&mut child);
        assert_eq!(line, "ready\n", "the test servers did not start");
        Servers(child)
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nmap's grepable report: each host's ports in `state` (`open`,
/// `closed`...), for the hosts it found up.
fn nmap_ports(report: &str, state: &str) -> BTreeMap<String, BTreeSet<u16>> {
    report
        .lines()
        .filter(|line| line.starts_with("Host: ") && line.contains("Ports: "))
        .map(|line| {
            let host = line[6..].split_whitespace().next().unwrap().to_string();
            let ports = line
                .split("Ports: ")
                .nth(1)
                .unwrap()
                .split('\t')
                .next()
                .unwrap()
                .split(", ")
                .filter(|entry| entry.split('/').nth(1) == Some(state))
                .map(|entry| entry.split('/').next().unwrap().trim().parse().unwrap())
                .collect();
            (host, ports)
        })
        .filter(|(_, ports): &(String, BTreeSet<u16>)| !ports.is_empty())
        .collect()
}

/// Our JSON findings as host -> ports in `state`.
fn our_ports(findings: &[Value], state: &str) -> BTreeMap<String, BTreeSet<u16>> {
    let mut hosts: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for finding in findings.iter().filter(|f| f["state"] == state) {
        hosts
            .entry(finding["host"].as_str().unwrap().to_string())
            .or_default()
            .insert(finding["port"].as_u64().unwrap() as u16);
    }
    hosts
}

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

/// Six hosts on a bridge with different open ports (one with none), one
/// firewalled to silence, the rest of a /26 unused: the open set per host is
/// nmap -sT's, hosts come in address order, and -v counts hosts up and down.
#[test]
fn a_subnet_scan_finds_what_nmap_finds_per_host() {
    require("nmap", "nmap");
    let lan = Subnet::new("sn", 7);
    let open: [&[u16]; 7] = [
        &[22, 80],
        &[443],
        &[25, 8080],
        &[1, 1000, 9001],
        &[],
        &[53],
        &[22],
    ];
    let _listening: Vec<Vec<Listener>> = lan
        .hosts
        .iter()
        .zip(open)
        .map(|(host, ports)| listeners(host, "0.0.0.0", ports))
        .collect();
    // Host 6 answers nothing at all: down, though port 22 listens.
    lan.hosts[6].drop_incoming("ip saddr != 127.0.0.0/8", 100);
    let targets = format!("{}.0/26", lan.prefix);
    let ports = "1-1024,8080,9000-9010";
    let (status, out, err) = run(
        &mut lan
            .scanner
            .sockit(&["scan", "-v", "--json", &targets, ports]),
        120,
    );
    assert!(status.success(), "{err}");
    let findings = json_ports(&out);
    let ours = our_ports(&findings, "open");
    let expected: BTreeMap<String, BTreeSet<u16>> = (0..6)
        .filter(|&i| !open[i].is_empty())
        .map(|i| (lan.address(i), open[i].iter().copied().collect()))
        .collect();
    assert_eq!(ours, expected);
    // Numeric order, not text order: .11 .. .16, each host's ports in order.
    let order: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["host"].as_str().unwrap().to_string(),
                f["port"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|(host, port)| (host.parse::<std::net::IpAddr>().unwrap(), *port));
    assert_eq!(order, sorted);
    for f in &findings {
        assert_eq!(f["protocol"], "tcp");
        assert!(f["banner"].is_null(), "no banner without --banner: {f}");
    }
    // The scanner itself (.1) and hosts 0-5 are up; host 6 and 57 unused
    // addresses are down.
    assert!(err.contains("; 7 hosts up, 57 down"), "{err}");
    assert!(err.contains("on 64 hosts"), "{err}");

    let nmap = lan
        .scanner
        .exec(&[
            "nmap", "-sT", "-T4", "-n", "-p", ports, "-oG", "-", &targets,
        ])
        .output()
        .unwrap();
    let report = String::from_utf8(nmap.stdout).unwrap();
    assert_eq!(nmap_ports(&report, "open"), ours, "{report}");

    // The text report heads each live host's table with its address, says
    // when a live host has nothing open, and leaves the down hosts out.
    let (_, text, _) = run(&mut lan.scanner.sockit(&["scan", &targets, "22,25"]), 60);
    let text = String::from_utf8(text).unwrap();
    let expected_text = format!(
        "{p}.1 (up, no open tcp port)\n\n\
         {h0}\nPORT   STATE SERVICE\n22/tcp open  ssh\n\n\
         {h1} (up, no open tcp port)\n\n\
         {h2}\nPORT   STATE SERVICE\n25/tcp open  smtp\n\n\
         {h3} (up, no open tcp port)\n\n\
         {h4} (up, no open tcp port)\n\n\
         {h5} (up, no open tcp port)\n",
        p = lan.prefix,
        h0 = lan.address(0),
        h1 = lan.address(1),
        h2 = lan.address(2),
        h3 = lan.address(3),
        h4 = lan.address(4),
        h5 = lan.address(5),
    );
    assert_eq!(text, expected_text);

    // IPv6: a range in full, the same hosts by their other family.
    let _listening6 = [
        listeners(&lan.hosts[0], "::", &[2222]),
        listeners(&lan.hosts[1], "::", &[8443]),
    ];
    let range6 = format!("{}-{}", lan.address6(0), lan.address6(5));
    let (status, out, err) = run(
        &mut lan
            .scanner
            .sockit(&["scan", "-v", "--json", &range6, "22,2222,8443"]),
        60,
    );
    assert!(status.success(), "{err}");
    let expected6: BTreeMap<String, BTreeSet<u16>> = [
        (lan.address6(0), BTreeSet::from([2222])),
        (lan.address6(1), BTreeSet::from([8443])),
    ]
    .into();
    assert_eq!(our_ports(&json_ports(&out), "open"), expected6);
    assert!(err.contains("; 6 hosts up, 0 down"), "{err}");

    // Without discovery the silent host's ports are probed (and filtered).
    let (status, out, err) = run(
        &mut lan.scanner.sockit(&[
            "scan",
            "-v",
            "--no-discovery",
            "-w",
            "0.3",
            &lan.address(6),
            "22",
        ]),
        60,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("0 open, 0 closed, 1 filtered; 0 hosts up, 1 down"),
        "{err}"
    );
}

/// UDP across the LAN, with the kernel's default ICMP rate limit on every
/// host: answered ports are open, closed ports closed (never open|filtered,
/// though most answers are rate-limited away at first), a silent server and a
/// dropped port open|filtered; nmap -sU agrees port by port.
#[test]
fn a_udp_scan_tells_closed_from_silent_despite_the_icmp_rate_limit() {
    require("nmap", "nmap");
    let lan = Subnet::new("su", 2);
    let _servers: Vec<Servers> = [
        vec![
            ("udp", 53, "reply"),
            ("udp", 7001, "reply"),
            ("udp", 7005, "silent"),
        ],
        vec![("udp", 161, "reply"), ("udp", 123, "silent")],
    ]
    .iter()
    .zip(&lan.hosts)
    .map(|(spec, host)| Servers::start(host, "0.0.0.0", spec))
    .collect();
    lan.hosts[1].drop_incoming("udp dport 7009", 100);
    let targets = format!("{},{}", lan.address(0), lan.address(1));
    let ports = "53,123,161,7000-7019";
    let (status, out, err) = run(
        &mut lan
            .scanner
            .sockit(&["scan", "-u", "-v", "--json", &targets, ports]),
        120,
    );
    assert!(status.success(), "{err}");
    let findings = json_ports(&out);
    let set = |pairs: &[(usize, &[u16])]| -> BTreeMap<String, BTreeSet<u16>> {
        pairs
            .iter()
            .map(|(i, ports)| (lan.address(*i), ports.iter().copied().collect()))
            .collect()
    };
    assert_eq!(
        our_ports(&findings, "open"),
        set(&[(0, &[53, 7001]), (1, &[161])])
    );
    assert_eq!(
        our_ports(&findings, "open|filtered"),
        set(&[(0, &[7005]), (1, &[123, 7009])])
    );
    // 23 ports on each host: 20 closed on the first, 20 on the second.
    assert!(
        err.contains("3 open, 40 closed, 0 filtered, 3 open|filtered"),
        "{err}"
    );
    assert_eq!(findings[0]["service"], "domain");
    assert_eq!(findings[0]["protocol"], "udp");

    let nmap = lan
        .scanner
        .exec(&[
            "nmap",
            "-sU",
            "-T4",
            "-n",
            "-p",
            ports,
            "-oG",
            "-",
            &lan.address(0),
            &lan.address(1),
        ])
        .output()
        .unwrap();
    let report = String::from_utf8(nmap.stdout).unwrap();
    assert_eq!(
        nmap_ports(&report, "open"),
        our_ports(&findings, "open"),
        "{report}"
    );
    // nmap -T4 gives up on retries before the rate limit lets the answers
    // through, so some closed ports come out open|filtered in its report
    // (seen in every run here); every port we call silent, it does too.
    let theirs = nmap_ports(&report, "open|filtered");
    for (host, ports) in our_ports(&findings, "open|filtered") {
        assert!(ports.is_subset(&theirs[&host]), "{host}: {report}");
    }
}

/// Banners from an SSH-like, an SMTP-like and two HTTP servers (one on a port
/// the services database calls something else), a silent port's null.
#[test]
fn banners_show_what_each_service_said_and_name_it() {
    let ns = Netns::new("banner");
    let _servers = Servers::start(
        &ns,
        "127.0.0.1",
        &[
            ("tcp", 2222, "greet:SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
            ("tcp", 25, "greet:220 mail.example.org ESMTP Postfix\r\n"),
            ("tcp", 3306, "greet:220 ftp ready\x07\r\n"),
            ("tcp", 80, "http"),
            ("tcp", 5432, "http"),
            ("tcp", 7, "silent"),
        ],
    );
    let (status, out, err) = run(
        &mut ns.sockit(&[
            "scan",
            "--banner",
            "-w",
            "0.5",
            "--json",
            "127.0.0.1",
            "1-10000",
        ]),
        60,
    );
    assert!(status.success(), "{err}");
    let found: Vec<(u64, String, Value)> = json_ports(&out)
        .iter()
        .map(|f| {
            (
                f["port"].as_u64().unwrap(),
                f["service"].as_str().unwrap().to_string(),
                f["banner"].clone(),
            )
        })
        .collect();
    let http = Value::from("HTTP/1.0 200 OK\\x0d\\x0aServer: sockit-test");
    assert_eq!(
        found,
        [
            (7, "echo".into(), Value::Null),
            (
                25,
                "smtp".into(),
                Value::from("220 mail.example.org ESMTP Postfix")
            ),
            (80, "http".into(), http.clone()),
            (
                2222,
                "ssh".into(),
                Value::from("SSH-2.0-OpenSSH_9.2p1 Debian-2")
            ),
            (3306, "ftp".into(), Value::from("220 ftp ready\\x07")),
            (5432, "http".into(), http),
        ]
    );
    let (_, text, _) = run(
        &mut ns.sockit(&["scan", "--banner", "-w", "0.5", "127.0.0.1", "7,2222"]),
        60,
    );
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "PORT     STATE SERVICE BANNER\n\
         7/tcp    open  echo\n\
         2222/tcp open  ssh     SSH-2.0-OpenSSH_9.2p1 Debian-2\n"
    );
}

/// --rate 40: the SYNs leave evenly spread, never a burst.
#[test]
fn rate_spreads_probes_over_each_second() {
    require("tcpdump", "tcpdump");
    let net = TwoHosts::new("rate");
    let mut capture = net
        .b
        .exec(&[
            "tcpdump",
            "-l",
            "-n",
            "-tt",
            "-i",
            "any",
            "--immediate-mode",
            "-c",
            "58",
            "tcp[tcpflags] == tcp-syn and dst portrange 1-58",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = LineLog::collect(capture.stderr.take().unwrap(), |_| {});
    log.wait_for("listening on", 10);
    let (status, _, err) = run(
        &mut net
            .a
            .sockit(&["scan", "--rate", "40", &net.address_of_b(), "1-58"]),
        60,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    wait_child(&mut capture, 10);
    let mut lines = String::new();
    std::io::Read::read_to_string(&mut capture.stdout.take().unwrap(), &mut lines).unwrap();
    let times: Vec<f64> = lines
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    // One SYN per port, 25 ms apart (discovery's probes are paced too, but
    // how many it sends depends on which is answered first).
    assert_eq!(times.len(), 58, "{lines}");
    let span = times[57] - times[0];
    assert!(
        (1.3..2.5).contains(&span),
        "60 probes at 40/s took {span} s"
    );
    for window in times.windows(5) {
        assert!(window[4] - window[0] > 0.05, "a burst: {window:?}");
    }
}

#[test]
fn malformed_targets_are_usage_errors() {
    for (targets, named) in [
        ("10.0.0.0/33", "/33"),
        ("10.0.0.20-1", "reversed"),
        ("", "empty"),
        ("10.0.0.1,,10.0.0.2", "empty"),
        ("10.0.0.0/8", "/16"),
    ] {
        let (status, out, err) = run(sockit().args(["scan", targets, "22"]), 30);
        assert_eq!(status.code(), Some(2), "{targets}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(named), "{err}");
    }
    let (status, _, err) = run(
        sockit().args(["scan", "--rate", "0", "127.0.0.1", "22"]),
        30,
    );
    assert_eq!(status.code(), Some(2), "{err}");
}

/// The UDP probes for DNS, NTP and SNMP are requests those protocols' own
/// decoders (tshark's) read as such: a DNS query, an NTP client request, an
/// SNMP get-request for sysDescr.0 with the community "public".
#[test]
fn udp_probes_are_requests_their_services_understand() {
    require("tcpdump", "tcpdump");
    require("tshark", "tshark");
    let ns = Netns::new("udpreq");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("probes.pcap");
    let mut capture = ns
        .exec(&[
            "tcpdump",
            "-Z",
            "root",
            "-i",
            "lo",
            "--immediate-mode",
            "-U",
            "-w",
            file.to_str().unwrap(),
            "udp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = LineLog::collect(capture.stderr.take().unwrap(), |_| {});
    log.wait_for("listening on", 10);
    let (status, _, err) = run(
        &mut ns.sockit(&["scan", "-u", "127.0.0.1", "53,123,161"]),
        30,
    );
    assert_eq!(status.code(), Some(1), "closed on loopback: {err}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &capture.id().to_string()])
        .status();
    wait_child(&mut capture, 10);
    let fields = std::process::Command::new("tshark")
        .args(["-r", file.to_str().unwrap(), "-T", "fields"])
        .args([
            "-e",
            "udp.dstport",
            "-e",
            "dns.flags.response",
            "-e",
            "dns.qry.type",
        ])
        .args([
            "-e",
            "ntp.flags.mode",
            "-e",
            "snmp.community",
            "-e",
            "snmp.name",
        ])
        .args(["-e", "_ws.malformed"])
        .output()
        .unwrap();
    let rows: BTreeSet<String> = String::from_utf8(fields.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "53\t0\t2",
        "123\t\t\t3",
        "161\t\t\t\tpublic\t1.3.6.1.2.1.1.1.0",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        rows,
        expected,
        "{}{}",
        log.text(),
        String::from_utf8_lossy(&fields.stderr)
    );
}
