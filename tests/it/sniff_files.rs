//! The capture files people have: tcpdump's `-i any` (Linux cooked v2) and
//! dumpcap's pcapng (two interfaces, two link types), made in a namespace
//! from traffic the test makes there (DNS over UDP and TCP to a small
//! python3 server, curl to `python3 -m http.server`, an `openssl s_client
//! -servername` handshake, sockit's own TCP, UDP and ping), read by sockit
//! and by tshark and compared on every packet; then tcpdump's filter
//! language against `tcpdump -r` on a capture with VLAN tags.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::helpers::*;
use crate::netns::{Netns, TwoHosts};
use crate::tshark::compare_with_tshark;

/// A DNS server for A questions (answer 192.0.2.7) on 127.0.0.1:53, UDP and
/// TCP, and its client: `server` or `client` as the first argument.
const DNS: &str = r#"
import socket, struct, sys, threading
def answer(q):
    i = 12
    while q[i] != 0:
        i += q[i] + 1
    question = q[12:i + 5]
    record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton("192.0.2.7")
    return q[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + question + record
def query(name, ident):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">HH", 1, 1)
if sys.argv[1] == "server":
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 53))
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", 53))
    tcp.listen()
    def serve_tcp():
        while True:
            c, _ = tcp.accept()
            n = struct.unpack(">H", c.recv(2))[0]
            q = b""
            while len(q) < n:
                q += c.recv(n - len(q))
            r = answer(q)
            c.sendall(struct.pack(">H", len(r)) + r)
            c.close()
    threading.Thread(target=serve_tcp, daemon=True).start()
    print("ready", flush=True)
    while True:
        q, peer = udp.recvfrom(512)
        udp.sendto(answer(q), peer)
else:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.sendto(query("example.org", 0x1234), ("127.0.0.1", 53))
    u.recv(512)
    t = socket.create_connection(("127.0.0.1", 53), timeout=5)
    q = query("tcp.example.org", 0x4321)
    t.sendall(struct.pack(">H", len(q)) + q)
    t.recv(512)
    t.close()
"#;

/// A process in a namespace that is ready once its stderr (or stdout) says so.
struct Background {
    child: Child,
    log: LineLog,
}

impl Background {
    fn start(mut command: Command, ready: &str, on_stdout: bool) -> Background {
        command.stdin(Stdio::null());
        // Waiting on stderr, stdout stays where the caller pointed it.
        if on_stdout {
            command.stdout(Stdio::piped()).stderr(Stdio::null());
        } else {
            command.stderr(Stdio::piped());
        }
        let mut child = command.spawn().unwrap();
        let stream: Box<dyn std::io::Read + Send> = if on_stdout {
            Box::new(child.stdout.take().unwrap())
        } else {
            Box::new(child.stderr.take().unwrap())
        };
        let log = LineLog::collect(stream, |_| {});
        let background = Background { child, log };
        background.log.wait_for(ready, 15);
        background
    }

    /// Stops it with SIGINT (a capture then writes out what it has);
    /// returns what it said (a capture's closing counts).
    fn interrupt(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        wait_child(&mut self.child, 15);
        self.log.finish()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The servers the traffic goes to, in `ns`: DNS on 53, HTTP on 80, TLS on 443.
struct Servers {
    _dns: Background,
    _http: Background,
    _tls: Listener,
}

fn start_servers(ns: &Netns) -> Servers {
    require("python3", "python3");
    require("curl", "curl");
    require("openssl", "openssl");
    let dns = Background::start(ns.exec(&["python3", "-c", DNS, "server"]), "ready", true);
    let dir = std::env::temp_dir();
    let mut http = ns.exec(&[
        "python3",
        "-u",
        "-m",
        "http.server",
        "80",
        "--bind",
        "127.0.0.1",
    ]);
    http.current_dir(dir);
    let http = Background::start(http, "Serving HTTP", true);
    let tls = Listener::start_with(
        ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["--tls", "-k", "--echo", "127.0.0.1", "443"],
        Stdio::null(),
        Stdio::null(),
    );
    Servers {
        _dns: dns,
        _http: http,
        _tls: tls,
    }
}

/// One of each kind of traffic, made while a capture runs.
fn make_traffic(ns: &Netns) {
    let status = ns.exec(&["python3", "-c", DNS, "client"]).status().unwrap();
    assert!(status.success(), "the DNS client failed");
    let (status, _, err) = run(
        &mut ns.exec(&["curl", "-sS", "-o", "/dev/null", "http://127.0.0.1/"]),
        30,
    );
    assert!(status.success(), "{err}");
    let (status, _, err) = run(
        &mut ns.exec(&[
            "openssl",
            "s_client",
            "-connect",
            "127.0.0.1:443",
            "-servername",
            "example.org",
            "-alpn",
            "h2,http/1.1",
        ]),
        30,
    );
    assert!(status.success(), "{err}");
    let (status, _, err) = run(
        &mut ns.sockit(&["ping", "-c", "2", "-i", "0.05", "::1"]),
        30,
    );
    assert!(status.success(), "{err}");
    let (status, _, err) = run_with_input(
        &mut ns.sockit(&["connect", "-u", "-w", "0.2", "127.0.0.1", "9"]),
        b"to nobody\n",
        30,
    );
    assert_eq!(status.code(), Some(1), "{err}");
}

/// The application fields every capture of [`make_traffic`] must show.
fn assert_applications(compared: &crate::tshark::Compared) {
    for name in ["example.org", "tcp.example.org"] {
        assert!(
            compared.dns_names.iter().any(|n| n == name),
            "{:?}",
            compared.dns_names
        );
    }
    assert!(compared.dns_addresses.iter().any(|a| a == "192.0.2.7"));
    assert!(compared.http_requests.iter().any(|u| u == "/"));
    assert!(compared.http_statuses.iter().any(|s| s == "200"));
    assert_eq!(compared.tls_server_names, vec!["example.org"]);
}

/// Returns what the capture said as it stopped (its counts).
fn capture_with(ns: &Netns, argv: &[&str], ready: &str, file: &Path) -> String {
    let _servers = start_servers(ns);
    let mut full: Vec<&str> = argv.to_vec();
    full.extend(["-w", file.to_str().unwrap()]);
    let mut command = ns.exec(&full);
    command.stdout(Stdio::null());
    let capture = Background::start(command, ready, false);
    make_traffic(ns);
    // What the kernel has queued for the capture reaches its file before it
    // stops (a capture stopped early leaves packets in its ring): the file
    // (written packet by packet) has stopped growing for half a second. On a
    // loaded machine a fixed pause was not always enough.
    let size = || std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let mut last = (size(), std::time::Instant::now());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while last.1.elapsed() < std::time::Duration::from_millis(500)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
        if size() != last.0 {
            last = (size(), std::time::Instant::now());
        }
    }
    capture.interrupt()
}

/// tcpdump's closing counts say the kernel dropped nothing for it.
fn assert_no_drops(counts: &str) {
    assert!(
        counts.lines().any(|l| l == "0 packets dropped by kernel"),
        "{counts}"
    );
}

/// The link layer of a capture's first packet, as sockit's JSON has it.
fn first_link(file: &Path) -> Value {
    let (_, out, _) = run(
        sockit().args(["sniff", "-r", file.to_str().unwrap(), "--json", "-c", "1"]),
        30,
    );
    serde_json::from_slice::<Value>(&out).unwrap()["link"].clone()
}

#[test]
fn tcpdump_any_cooked_v2_agrees_with_tshark() {
    require("tcpdump", "tcpdump");
    let ns = Netns::new("cooked");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("any.pcap");
    // With its default 2 MiB buffer, tcpdump -i any dropped packets in the
    // kernel in most captures on a loaded machine (2 to 18 of 88, the DNS
    // exchange among them); with 64 MiB, none in 24 captures.
    let counts = capture_with(
        &ns,
        &[
            "tcpdump",
            "-i",
            "any",
            "-B",
            "65536",
            "--immediate-mode",
            "-U",
        ],
        "listening on",
        &file,
    );
    assert_no_drops(&counts);
    let compared = compare_with_tshark(&file);
    assert!(compared.packets >= 30, "{compared:?}");
    assert_applications(&compared);
    let link = first_link(&file);
    assert_eq!(
        (&link["type"], &link["version"]),
        (&"cooked".into(), &2.into())
    );
}

#[test]
fn dumpcap_pcapng_with_two_link_types_agrees_with_tshark() {
    require("dumpcap", "wireshark-common");
    let ns = Netns::new("pcapng");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.pcapng");
    capture_with(
        &ns,
        &["dumpcap", "-q", "-i", "lo", "-i", "any"],
        "Capturing on",
        &file,
    );
    let compared = compare_with_tshark(&file);
    assert_applications_twice(&compared);
    let names: std::collections::BTreeSet<&str> =
        compared.interfaces.iter().map(String::as_str).collect();
    assert_eq!(names, ["any", "lo"].into());
    // Written back as pcapng, names and link types survive (tshark reads it).
    let copy = dir.path().join("copy.pcapng");
    let (status, _, err) = run(
        sockit().args([
            "sniff",
            "-r",
            file.to_str().unwrap(),
            "-w",
            copy.to_str().unwrap(),
        ]),
        60,
    );
    assert!(status.success(), "{err}");
    let copied = compare_with_tshark(&copy);
    assert_eq!(copied.packets, compared.packets);
    assert_eq!(copied.interfaces, compared.interfaces);
    // pcap holds one link type: the mix is refused with the way out.
    let (status, _, err) = run(
        sockit().args([
            "sniff",
            "-r",
            file.to_str().unwrap(),
            "-w",
            dir.path().join("mixed.pcap").to_str().unwrap(),
        ]),
        60,
    );
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("name the file .pcapng"), "{err}");
}

/// Each packet is seen on lo and on any: every application field twice.
fn assert_applications_twice(compared: &crate::tshark::Compared) {
    assert_eq!(compared.tls_server_names.len(), 2, "{compared:?}");
    assert_applications(&crate::tshark::Compared {
        tls_server_names: compared.tls_server_names[..1].to_vec(),
        ..compared.clone()
    });
}

/// ICMP echo requests tagged for VLAN 10 and 20 and a UDP datagram on VLAN
/// 20, sent raw on the interface named by the first argument.
const VLAN_FRAMES: &str = r#"
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff)
    t += t >> 16
    return ~t & 0xffff
def ip(proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    socket.inet_aton("192.168.77.1"), socket.inet_aton("192.168.77.2"))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
def tagged(vid, packet):
    return b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!HH", 0x8100, vid) + b"\x08\x00" + packet
for vid, seq in [(10, 1), (10, 2), (20, 3)]:
    icmp = struct.pack("!BBHHH", 8, 0, 0, 7, seq) + b"vlan"
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    s.send(tagged(vid, ip(1, icmp)))
s.send(tagged(20, ip(17, struct.pack("!HHHH", 4000, 5353, 13, 0) + b"hello")))
"#;

/// Two hosts, a VLAN on their link, and traffic of many kinds between them,
/// captured on a's end with tcpdump (Ethernet frames, VLAN tags kept).
fn vlan_capture(dir: &Path) -> (PathBuf, TwoHosts) {
    require("tcpdump", "tcpdump");
    let net = TwoHosts::new("flt");
    let (a, b, veth) = (&net.a, &net.b, &net.veth_a);
    a.setup(&format!(
        "ip -n {} addr add fd00:77::1/64 dev {veth} nodad",
        a.name
    ));
    let veth_b = veth.replacen("va", "vb", 1);
    b.setup(&format!(
        "ip -n {} addr add fd00:77::2/64 dev {veth_b} nodad",
        b.name
    ));
    let _echo = Listener::start_with(
        b.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["-k", "--echo", "::", "7000"],
        Stdio::null(),
        Stdio::null(),
    );
    let file = dir.join("vlan.pcap");
    let mut tcpdump = a.exec(&[
        "tcpdump",
        "-i",
        veth,
        "--immediate-mode",
        "-w",
        file.to_str().unwrap(),
    ]);
    tcpdump.stdout(Stdio::null());
    let capture = Background::start(tcpdump, "listening on", false);
    // This kernel has no 802.1Q module: tagged frames are written raw.
    let status = a
        .exec(&["python3", "-c", VLAN_FRAMES, veth])
        .status()
        .unwrap();
    assert!(status.success());
    let b_addr = net.address_of_b();
    for target in [b_addr.as_str(), "fd00:77::2"] {
        let (status, _, err) = run(
            &mut a.sockit(&["ping", "-c", "2", "-i", "0.05", target]),
            30,
        );
        assert!(status.success(), "{target}: {err}");
    }
    for target in [b_addr.as_str(), "fd00:77::2"] {
        let (status, out, err) =
            run_with_input(&mut a.sockit(&["connect", target, "7000"]), b"hello\n", 30);
        assert!(status.success() && out == b"hello\n", "{err}");
    }
    let (status, _, _) = run(&mut a.sockit(&["connect", &b_addr, "7001"]), 30);
    assert_eq!(status.code(), Some(1));
    let (status, _, _) = run_with_input(
        &mut a.sockit(&["connect", "-u", "-w", "0.2", &b_addr, "5353"]),
        b"datagram\n",
        30,
    );
    assert_eq!(status.code(), Some(1));
    capture.interrupt();
    (file, net)
}

/// The frames (time stamp and bytes) of a capture file, in order.
fn frames(file: &Path) -> Vec<(std::time::Duration, Vec<u8>)> {
    let mut reader =
        sockit::wire::pcap::CaptureReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut frames = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        frames.push((record.header.time, record.frame.to_vec()));
    }
    frames
}

#[test]
fn filter_expressions_select_what_tcpdump_selects() {
    let dir = tempfile::tempdir().unwrap();
    let (file, net) = vlan_capture(dir.path());
    let (a, b) = (format!("{}.1", net.prefix), net.address_of_b());
    let total = frames(&file).len();
    let expressions = [
        format!("host {b}"),
        format!("src host {a}"),
        format!("dst host {b} and tcp"),
        format!("net {}.0/24", net.prefix),
        "vlan and net 192.168.77.0 mask 255.255.255.0".to_string(),
        "ip6 and tcp".to_string(),
        "port 7000".to_string(),
        "tcp dst port 7000".to_string(),
        "portrange 7000-7001".to_string(),
        "udp".to_string(),
        "tcp".to_string(),
        "icmp".to_string(),
        "icmp6".to_string(),
        "ip6".to_string(),
        "arp".to_string(),
        "vlan".to_string(),
        "vlan 10 and icmp".to_string(),
        "not vlan and ip".to_string(),
        "tcp[tcpflags] & tcp-syn != 0".to_string(),
        "tcp[tcpflags] & (tcp-rst) != 0".to_string(),
        "tcp[tcpflags] & tcp-fin != 0 and src port 7000".to_string(),
        "icmp[icmptype] == icmp-echo".to_string(),
        format!("not host {b}"),
        "udp port 5353 or (icmp and not vlan)".to_string(),
        "ether broadcast".to_string(),
        "less 80".to_string(),
        "greater 90 and tcp".to_string(),
        "ip proto 17".to_string(),
    ];
    let mut selected_none = Vec::new();
    for expression in &expressions {
        let theirs = dir.path().join("tcpdump.pcap");
        let status = Command::new("tcpdump")
            .args([
                "-r",
                file.to_str().unwrap(),
                "-w",
                theirs.to_str().unwrap(),
                expression,
            ])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "tcpdump rejected {expression:?}");
        let mine = dir.path().join("sockit.pcap");
        let (status, _, err) = run(
            sockit().args([
                "sniff",
                "-r",
                file.to_str().unwrap(),
                "-w",
                mine.to_str().unwrap(),
                expression,
            ]),
            30,
        );
        assert!(status.success(), "{expression}: {err}");
        let selected = frames(&mine);
        assert_eq!(selected, frames(&theirs), "{expression}");
        assert!(selected.len() < total, "{expression} selects everything");
        if selected.is_empty() {
            selected_none.push(expression.clone());
        }
    }
    assert!(
        selected_none.is_empty(),
        "every expression selects something on this capture: {selected_none:?}"
    );
}

#[test]
fn expression_errors_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.pcap");
    write_empty_pcap(&file);
    for expression in ["tcp port", "host", "portrange 9-x", "vlan and and"] {
        let (status, _, err) = run(
            sockit().args(["sniff", "-r", file.to_str().unwrap(), expression]),
            30,
        );
        assert_eq!(status.code(), Some(2), "{expression}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("does not compile") && err.contains("pcap-filter"),
            "{err}"
        );
    }
}

/// `tcpdump -n -r FILE ARGS` (or sockit's), with TZ set, as text.
fn printed(program: &str, file: &Path, args: &[&str], tz: &str) -> String {
    let mut command = if program == "tcpdump" {
        let mut c = Command::new("tcpdump");
        c.args(["-n", "-r", file.to_str().unwrap()]);
        c
    } else {
        let mut c = sockit();
        c.args(["sniff", "-r", file.to_str().unwrap()]);
        c
    };
    command.args(args).env("TZ", tz);
    let (status, out, err) = run(&mut command, 60);
    assert!(status.success(), "{program} {args:?}: {err}");
    without_table(&String::from_utf8(out).unwrap())
}

/// sockit's output without its closing table of connections (not packets).
fn without_table(text: &str) -> String {
    match text.split_once("\nTCP connections:") {
        Some((packets, _)) => packets.to_string(),
        None => text.to_string(),
    }
}

/// The summary lines: tcpdump's as they are, sockit's without the packet number.
fn packet_lines(program: &str, text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('\t'))
        .filter_map(|l| {
            if program == "tcpdump" {
                // -ttt's and -ttttt's times are right-aligned.
                return Some(l.trim_start().to_string());
            }
            let (number, rest) = l.trim_start().split_once(' ')?;
            number.parse::<u64>().ok().map(|_| rest.to_string())
        })
        .collect()
}

#[test]
fn tcpdump_flags_print_what_tcpdump_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _net) = vlan_capture(dir.path());
    // Dumps: the same lines, byte for byte.
    for flag in ["-x", "-xx", "-X", "-XX"] {
        let dump = |program: &str| -> Vec<String> {
            printed(program, &file, &[flag], "UTC")
                .lines()
                .filter(|l| l.starts_with("\t0x"))
                .map(str::to_string)
                .collect()
        };
        let theirs = dump("tcpdump");
        let mine = dump("sockit");
        assert!(theirs.len() > 20, "{flag}: {theirs:?}");
        let first_difference = mine.iter().zip(&theirs).position(|(m, t)| m != t);
        assert_eq!(first_difference, None, "{flag}: {mine:?}");
        assert_eq!(mine.len(), theirs.len(), "{flag}");
    }
    // Time stamps: the first words of each line (two for a date), in a
    // zone half an hour off UTC so that the local time of day is tested.
    for (flags, zone, words) in [
        (&[][..], "IST-5:30", 1),
        (&["-tt"][..], "UTC", 1),
        (&["-ttt"][..], "UTC", 1),
        (&["-tttt"][..], "IST-5:30", 2),
        (&["-ttttt"][..], "UTC", 1),
    ] {
        let stamps = |program: &str| -> Vec<String> {
            packet_lines(program, &printed(program, &file, flags, zone))
                .iter()
                .map(|l| l.split(' ').take(words).collect::<Vec<_>>().join(" "))
                .collect()
        };
        let theirs = stamps("tcpdump");
        assert!(theirs.len() > 20, "{flags:?}: {theirs:?}");
        assert_eq!(stamps("sockit"), theirs, "{flags:?}");
    }
    // -t: no time at all; the line starts with the packet.
    let untimed = packet_lines("sockit", &printed("sockit", &file, &["-t"], "UTC"));
    let timed = packet_lines("sockit", &printed("sockit", &file, &[], "UTC"));
    assert_eq!(untimed.len(), timed.len());
    for (u, t) in untimed.iter().zip(&timed) {
        let (time, rest) = t.split_once(' ').unwrap();
        assert_eq!((time.len(), &time[2..3], u.as_str()), (15, ":", rest));
    }
    // -e: the hardware addresses tcpdump -e names, on the same packet's line.
    let theirs = packet_lines("tcpdump", &printed("tcpdump", &file, &["-e"], "UTC"));
    let mine = packet_lines("sockit", &printed("sockit", &file, &["-e", "-nn"], "UTC"));
    assert_eq!(theirs.len(), mine.len());
    for (t, m) in theirs.iter().zip(&mine) {
        let words: Vec<&str> = t.split(' ').collect();
        let (src, dst) = (words[1], words[3].trim_end_matches(','));
        assert!(m.contains(&format!("{src} → {dst}")), "{m}\n{t}");
    }
    // -q: addresses, protocol and length; no flags or sequence numbers.
    let quiet = printed("sockit", &file, &["-q", "tcp"], "UTC");
    assert!(quiet.contains(" TCP len "), "{quiet}");
    assert!(!quiet.contains("seq ") && !quiet.contains("[S]"), "{quiet}");
    // -A: the application's text as text.
    let ascii = printed("sockit", &file, &["-A", "tcp port 7000"], "UTC");
    assert!(ascii.lines().any(|l| l.ends_with("hello")), "{ascii}");
    // -s: frames cut to the snapshot length, and said so.
    let (_, out, _) = run(
        sockit().args(["sniff", "-r", file.to_str().unwrap(), "-s", "60", "--json"]),
        60,
    );
    let records: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        records
            .iter()
            .all(|r| r["captured"].as_u64().unwrap() <= 60)
    );
    assert!(records.iter().any(|r| r["length"].as_u64().unwrap() > 60));
    let cut = printed("sockit", &file, &["-s", "60", "greater 90"], "UTC");
    assert!(cut.contains("[captured 60 of"), "{cut}");
}

#[test]
fn list_interfaces_as_tcpdump_does() {
    let ns = Netns::new("listif");
    let (status, out, err) = run(&mut ns.sockit(&["sniff", "-D"]), 30);
    assert!(status.success(), "{err}");
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1.lo [Up, Running, Loopback]", "{out}");
    assert!(lines[1].starts_with("2.any "), "{out}");
}

/// A live capture with an expression: the kernel's program (libpcap's,
/// behind the hardware-type check) lets only port 80 through; the narrator
/// names the first HTTP exchange and the TLS hello; the pcapng it writes
/// keeps the interface's name.
#[test]
fn live_expression_and_the_application_narrated() {
    let ns = Netns::new("liveexpr");
    let _servers = start_servers(&ns);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("live.pcapng");
    let stdout = tempfile::NamedTempFile::new().unwrap();
    let mut sniff = ns.sockit(&[
        "sniff",
        "-v",
        "-i",
        "lo",
        "-w",
        saved.to_str().unwrap(),
        "tcp port 80 or tcp port 443",
    ]);
    sniff.stdout(stdout.reopen().unwrap());
    let capture = Background::start(sniff, "capturing on", false);
    make_traffic(&ns);
    std::thread::sleep(std::time::Duration::from_millis(300));
    capture.interrupt();
    let out = std::fs::read_to_string(stdout.path()).unwrap();
    let lines = packet_lines("sockit", &without_table(&out));
    assert!(lines.len() >= 10, "{out}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(":80 ") || l.contains(":443 ")),
        "{out}"
    );
    assert!(
        out.contains("HTTP GET / (Host: 127.0.0.1) -> 200 OK"),
        "{out}"
    );
    assert!(
        out.contains(
            "TLS ClientHello for example.org (TLS 1.3, ALPN h2, http/1.1) -> ServerHello TLS 1.3"
        ),
        "{out}"
    );
    let compared = compare_with_tshark(&saved);
    assert_eq!(compared.packets, lines.len(), "{out}");
    assert!(compared.interfaces.iter().all(|i| i == "lo"));
}

/// Bytes on the DNS port that are not DNS are shown as malformed, and the
/// packets after them are decoded as before.
#[test]
fn malformed_application_data_never_stops_the_capture() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _net) = vlan_capture(dir.path());
    let out = printed("sockit", &file, &["--layers"], "UTC");
    let at = out.find("DNS [malformed").expect(&out);
    assert!(out[at..].contains("application DNS [malformed"), "{out}");
    assert!(out[at..].contains(" ICMP echo request"), "{out}");
}

/// Rewrites an Ethernet capture's IP frames with another link header:
/// `null` (BSD loopback, little-endian family), `loop` (big-endian), `raw`
/// (101), `ipv4` (228) or `ipv6` (229, each keeping only its version).
const RELINK: &str = r#"
import struct, sys
src, dst, kind = sys.argv[1:4]
data = open(src, "rb").read()
link = {"null": 0, "loop": 108, "raw": 101, "ipv4": 228, "ipv6": 229}[kind]
out = bytearray(data[:20] + struct.pack("<I", link))
at = 24
while at + 16 <= len(data):
    sec, usec, caplen, length = struct.unpack("<IIII", data[at:at + 16])
    frame = data[at + 16:at + 16 + caplen]
    at += 16 + caplen
    ethertype = frame[12:14]
    version = {b"\x08\x00": 4, b"\x86\xdd": 6}.get(ethertype)
    if version is None or (kind == "ipv4" and version != 4) or (kind == "ipv6" and version != 6):
        continue
    packet = frame[14:]
    family = 2 if version == 4 else 30
    if kind == "null":
        packet = struct.pack("<I", family) + packet
    elif kind == "loop":
        packet = struct.pack(">I", family) + packet
    out += struct.pack("<IIII", sec, usec, len(packet), length - 14 + len(packet) - len(frame[14:]))
    out += packet
open(dst, "wb").write(out)
"#;

/// Every link type sockit reads, against tshark: Linux cooked v1 (`tcpdump
/// -y LINUX_SLL`), and null, loop, raw IP, raw IPv4 and raw IPv6 made from
/// an Ethernet capture of the same traffic.
#[test]
fn every_link_type_agrees_with_tshark() {
    require("tcpdump", "tcpdump");
    let ns = Netns::new("links");
    let dir = tempfile::tempdir().unwrap();
    let (ethernet, cooked) = (dir.path().join("lo.pcap"), dir.path().join("sll.pcap"));
    let _servers = start_servers(&ns);
    let mut captures = Vec::new();
    for (file, args) in [
        (&ethernet, &["-i", "lo"][..]),
        // -B: see tcpdump_any_cooked_v2_agrees_with_tshark.
        (
            &cooked,
            &["-i", "any", "-B", "65536", "-y", "LINUX_SLL"][..],
        ),
    ] {
        let mut argv = vec!["tcpdump", "--immediate-mode", "-w", file.to_str().unwrap()];
        argv.extend(args);
        let mut command = ns.exec(&argv);
        command.stdout(Stdio::null());
        captures.push(Background::start(command, "listening on", false));
    }
    make_traffic(&ns);
    std::thread::sleep(std::time::Duration::from_millis(300));
    for capture in captures {
        assert_no_drops(&capture.interrupt());
    }
    let compared = compare_with_tshark(&cooked);
    assert_applications(&compared);
    assert_eq!(first_link(&cooked)["version"], 1);
    for kind in ["null", "loop", "raw", "ipv4", "ipv6"] {
        let file = dir.path().join(format!("{kind}.pcap"));
        let status = Command::new("python3")
            .args([
                "-c",
                RELINK,
                ethernet.to_str().unwrap(),
                file.to_str().unwrap(),
                kind,
            ])
            .status()
            .unwrap();
        assert!(status.success());
        let compared = compare_with_tshark(&file);
        assert!(compared.packets >= 4, "{kind}: {compared:?}");
        if kind != "ipv6" {
            assert!(
                compared.dns_names.iter().any(|n| n == "example.org"),
                "{kind}"
            );
        }
    }
}

/// pcapng packet comments (added by editcap) are shown with -v only.
#[test]
fn pcapng_comments_with_verbose() {
    require("editcap", "wireshark-common");
    let dir = tempfile::tempdir().unwrap();
    let (file, _net) = vlan_capture(dir.path());
    let commented = dir.path().join("commented.pcapng");
    let status = Command::new("editcap")
        .args([
            "-a",
            "3:the third frame\x1b[2J",
            file.to_str().unwrap(),
            commented.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let verbose = printed("sockit", &commented, &["-v"], "UTC");
    let lines: Vec<&str> = verbose.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("comment    the third frame"))
        .expect(&verbose);
    assert!(lines[at - 1].trim_start().starts_with("3 "), "{verbose}");
    assert!(lines[at].contains("\\u{1b}[2J"), "escaped: {verbose}");
    assert!(!printed("sockit", &commented, &[], "UTC").contains("the third frame"));
}

/// Without libpcap (hidden in a mount namespace), an expression is refused
/// in one line that names the package; without an expression, nothing
/// needs it.
#[test]
fn without_libpcap_an_expression_names_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.pcap");
    write_empty_pcap(&file);
    let hide = "for f in /usr/lib/*/libpcap.so* /lib/*/libpcap.so*; do \
                [ -f \"$f\" ] && mount --bind /dev/null \"$f\"; done; exec \"$@\"";
    let sniff = |args: &[&str]| {
        let mut command = Command::new("unshare");
        command.args([
            "-m",
            "sh",
            "-c",
            hide,
            "sh",
            env!("CARGO_BIN_EXE_sockit"),
            "sniff",
        ]);
        command.args(args);
        run(&mut command, 30)
    };
    let (status, _, err) = sniff(&["-r", file.to_str().unwrap(), "tcp port 80"]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("apt-get install libpcap0.8"), "{err}");
    let (status, _, err) = sniff(&["-r", file.to_str().unwrap(), "--port", "80"]);
    assert!(status.success(), "{err}");
}
