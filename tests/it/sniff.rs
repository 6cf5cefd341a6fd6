//! `sockit sniff`: captures only inside namespaces the tests create, of
//! traffic the tests make there (sockit's own connect and listen, ping,
//! python3); tshark as the reference decoder for saved files.

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;
use crate::netns::{Netns, SlowLink, TwoHosts};
use crate::tshark::compare_with_tshark;

/// A `sockit sniff` running in a namespace, ready once it says so. Its
/// stdout goes to a file, so a long capture can never fill a pipe.
struct Sniffer {
    child: Child,
    stderr: LineLog,
    stdout: tempfile::NamedTempFile,
}

impl Sniffer {
    fn start(ns: &Netns, args: &[&str]) -> Sniffer {
        Sniffer::start_with_env(ns, args, &[])
    }

    fn start_with_env(ns: &Netns, args: &[&str], env: &[(&str, &str)]) -> Sniffer {
        let stdout = tempfile::NamedTempFile::new().unwrap();
        let mut child = ns
            .sockit(&[&["sniff"][..], args].concat())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout.reopen().unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = LineLog::collect(child.stderr.take().unwrap(), |_| {});
        // Built first, so that a failed wait still kills it (Drop).
        let sniffer = Sniffer {
            child,
            stderr,
            stdout,
        };
        sniffer.stderr.wait_for("capturing on", 10);
        sniffer
    }

    /// Stops it with Ctrl-C (it shows what the kernel has already queued
    /// for it before it ends), and returns its stdout and all of its stderr
    /// (the closing counts included).
    fn stop(mut self) -> (String, String) {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = wait_child(&mut self.child, 10);
        let stderr = self.stderr.finish();
        assert!(status.success(), "{status:?}: {stderr}");
        (std::fs::read_to_string(self.stdout.path()).unwrap(), stderr)
    }
}

impl Drop for Sniffer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The narration lines, without the connection number and states.
fn steps(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("↳ tcp#"))
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect()
}

fn echo_session(ns: &Netns, port: &str) {
    let _listener = Listener::start_with(
        ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["-k", "--echo", "127.0.0.1", port],
        Stdio::null(),
        Stdio::null(),
    );
    let (status, out, err) = run_with_input(
        &mut ns.sockit(&["connect", "127.0.0.1", port]),
        b"hello\n",
        30,
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"hello\n");
}

#[test]
fn a_connection_is_narrated_from_handshake_to_close() {
    let ns = Netns::new("sniff");
    let sniffer = Sniffer::start(&ns, &["-v", "-i", "lo", "--port", "7070"]);
    // Traffic the filter must keep out, in the kernel already.
    let (status, _, _) = run(
        &mut ns.sockit(&["ping", "-c", "3", "-i", "0.02", "127.0.0.1"]),
        30,
    );
    assert!(status.success());
    echo_session(&ns, "7070");
    let (out, stderr) = sniffer.stop();
    let steps = steps(&out);
    let names: Vec<&str> = steps.iter().map(|s| s.split(':').next().unwrap()).collect();
    assert_eq!(names[..3], ["SYN", "SYN-ACK", "ACK"], "{out}");
    assert!(steps[0].contains("asks 127.0.0.1:7070 to open"), "{out}");
    assert!(
        steps[0].ends_with("(client SYN-SENT, server LISTEN)"),
        "{out}"
    );
    assert!(
        steps[2].starts_with("ACK: handshake complete in ")
            && steps[2].ends_with("(client ESTABLISHED, server ESTABLISHED)"),
        "{out}"
    );
    let data: Vec<&String> = steps.iter().filter(|s| s.starts_with("data:")).collect();
    assert!(
        data.iter().any(|s| s.contains("6 bytes client → server")),
        "{out}"
    );
    assert!(
        data.iter().any(|s| s.contains("6 bytes server → client")),
        "{out}"
    );
    // The client's stdin ended first: its FIN opens the close.
    let first_fin = steps
        .iter()
        .position(|s| s.starts_with("FIN from the client"))
        .expect(&out);
    let closed = steps
        .iter()
        .position(|s| s.contains("closed in"))
        .expect(&out);
    assert!(first_fin < closed && closed == steps.len() - 1, "{out}");
    assert!(
        steps[first_fin].ends_with("(client FIN-WAIT-1, server CLOSE-WAIT)"),
        "{out}"
    );
    assert!(
        steps[closed].ends_with("(client TIME-WAIT, server CLOSED)"),
        "{out}"
    );
    assert!(
        out.contains("TCP connections:") && out.contains("→ 127.0.0.1:7070"),
        "{out}"
    );
    assert!(!out.contains("ICMP"), "{out}");
    // On loopback the kernel sees each packet twice (leaving and arriving);
    // its filter passed exactly the port's packets, none of the pings.
    let shown = out.lines().filter(|l| l.contains(" TCP [")).count();
    let expected = format!(
        "the kernel's filter passed {} frames (0 dropped); {shown} packets shown",
        2 * shown
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn resets_and_refusals_are_named() {
    require("python3", "python3");
    let ns = Netns::new("sniffrst");
    let sniffer = Sniffer::start(&ns, &["-i", "lo", "--proto", "tcp"]);
    let _listener = Listener::start_with(
        ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["-k", "127.0.0.1", "7171"],
        Stdio::null(),
        Stdio::null(),
    );
    // An abortive close: SO_LINGER with a zero timeout turns close into RST.
    let abort = "import socket, struct, time
s = socket.create_connection(('127.0.0.1', 7171))
time.sleep(0.1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()";
    let status = ns.exec(&["python3", "-c", abort]).status().unwrap();
    assert!(status.success());
    let (status, _, _) = run(&mut ns.sockit(&["connect", "127.0.0.1", "7172"]), 30);
    assert_eq!(status.code(), Some(1));
    let (out, _) = sniffer.stop();
    let steps = steps(&out);
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("RST from the client: connection reset")),
        "{out}"
    );
    assert!(
        steps.iter().any(|s| s
            .starts_with("RST from the server: connection refused, nothing listens on port 7172")),
        "{out}"
    );
    assert!(
        out.contains("reset (CLOSED/CLOSED)") && out.contains("refused (CLOSED/CLOSED)"),
        "{out}"
    );
}

#[test]
fn udp_and_icmp_echo_packets() {
    let ns = Netns::new("sniffudp");
    let sniffer = Sniffer::start(&ns, &["-i", "lo", "--json"]);
    let _echo = Listener::start_with(
        ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["-u", "--echo", "127.0.0.1", "7272"],
        Stdio::null(),
        Stdio::null(),
    );
    let (status, _, err) = run_with_input(
        &mut ns.sockit(&["connect", "-u", "-w", "0.3", "127.0.0.1", "7272"]),
        b"ping over udp\n",
        30,
    );
    assert!(status.success(), "{err}");
    let (status, _, err) = run(&mut ns.sockit(&["ping", "-c", "1", "127.0.0.1"]), 30);
    assert!(status.success(), "{err}");
    let packets: Vec<Value> = sniffer
        .stop()
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let udp: Vec<&Value> = packets
        .iter()
        .filter(|p| p["transport"]["type"] == "udp")
        .collect();
    assert_eq!(udp.len(), 2, "the datagram and its echo");
    assert_eq!(udp[0]["transport"]["dst_port"], 7272);
    assert_eq!(udp[1]["transport"]["src_port"], 7272);
    assert_eq!(udp[0]["payload"]["preview"], "ping over udp.");
    let icmp: Vec<&Value> = packets
        .iter()
        .filter(|p| p["transport"]["type"] == "icmp")
        .collect();
    assert_eq!(icmp.len(), 2);
    assert_eq!(
        (
            icmp[0]["transport"]["name"].as_str(),
            icmp[0]["transport"]["seq"].as_u64()
        ),
        (Some("echo request"), Some(1))
    );
    assert_eq!(icmp[1]["transport"]["name"], "echo reply");
    assert!(
        packets
            .iter()
            .all(|p| p["link"]["type"] == "ethernet" && p["interface"] == "lo")
    );
}

/// Every packet of a saved capture, as tshark reads it and as sockit does.
#[test]
fn saved_captures_agree_with_tshark() {
    require("tshark", "tshark");
    let ns = Netns::new("snifftsh");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.pcap");
    let sniffer = Sniffer::start(&ns, &["-i", "lo", "-w", file.to_str().unwrap()]);
    echo_session(&ns, "7373");
    let (status, _, _) = run(&mut ns.sockit(&["connect", "127.0.0.1", "7374"]), 30);
    assert_eq!(status.code(), Some(1));
    let (status, _, err) = run(
        &mut ns.sockit(&["ping", "-c", "2", "-i", "0.05", "::1"]),
        30,
    );
    assert!(status.success(), "{err}");
    let (status, _, err) = run_with_input(
        &mut ns.sockit(&["connect", "-u", "-w", "0.2", "::1", "7375"]),
        b"to nobody\n",
        30,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    let _ = sniffer.stop();
    let seen = compare_with_tshark(&file);
    assert_eq!(
        seen.quoted_udp_errors, 1,
        "the port unreachable about the UDP datagram"
    );
}

#[test]
fn malformed_and_truncated_packets_are_shown_and_skipped() {
    use sockit::wire::packet::LinkType;
    use sockit::wire::pcap::{CaptureWriter, Format, Interface, RecordHeader};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.pcap");
    let mut writer = CaptureWriter::new(
        std::fs::File::create(&file).unwrap(),
        Format::Pcap,
        LinkType::Ethernet,
    )
    .unwrap();
    let mut frames: Vec<Vec<u8>> = vec![vec![], vec![0; 5], vec![0; 13]];
    let mut ipv4 = vec![0u8; 12];
    ipv4.extend([
        0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    frames.push(ipv4[..20].to_vec()); // IPv4 header cut short
    let mut tcp = ipv4.clone();
    tcp.extend([0x1f, 0x90, 0x00, 0x50, 0, 0, 0, 1]); // TCP header cut short
    frames.push(tcp);
    let mut bad_offset = ipv4.clone();
    bad_offset.extend([
        0, 80, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x20, 0x02, 0, 0, 0, 0, 0, 0,
    ]); // data offset 2
    frames.push(bad_offset);
    let mut seed = 0x9e37_79b9u32;
    for _ in 0..2000 {
        let len = (seed % 200) as usize;
        let frame: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        frames.push(frame);
    }
    for frame in &frames {
        let header = RecordHeader {
            time: Duration::from_secs(1),
            original_len: frame.len() as u32 + 10,
            captured_len: frame.len() as u32,
        };
        writer
            .write(&header, &Interface::new(LinkType::Ethernet, None), frame)
            .unwrap();
    }
    writer.flush().unwrap();
    drop(writer);
    for style in [&[][..], &["--layers", "-x"][..], &["--json"][..]] {
        let mut args = vec!["sniff", "-r", file.to_str().unwrap()];
        args.extend(style);
        let (status, out, err) = run(sockit().args(&args), 60);
        assert!(status.success(), "{style:?}: {err}");
        let out = String::from_utf8(out).unwrap();
        assert!(!err.contains("panicked"), "{err}");
        // Packet lines: a JSON object, or the packet number indented by at
        // most 4 spaces (layer blocks and narration are indented further).
        let packets = out
            .lines()
            .filter(|l| {
                let number = l.trim_start();
                l.starts_with('{')
                    || (l.len() - number.len() <= 4
                        && number
                            .split(' ')
                            .next()
                            .is_some_and(|n| n.parse::<u64>().is_ok()))
            })
            .count();
        assert!(packets >= frames.len(), "{style:?}: every frame shown");
    }
    let (_, out, _) = run(sockit().args(["sniff", "-r", file.to_str().unwrap()]), 60);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("[malformed: IPv4 header truncated or malformed]"),
        "{out}"
    );
    assert!(out.contains("[malformed: TCP header truncated or malformed]"));
    assert!(out.contains("[captured 0 of 10 bytes]"));

    // A file cut inside a record: what was read is shown, then one line.
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let (status, _, err) = run(sockit().args(["sniff", "-r", cut.to_str().unwrap()]), 60);
    assert_eq!(status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ends inside a record"), "{err}");
}

#[test]
fn capturing_needs_privilege_but_reading_a_file_does_not() {
    let ns = Netns::new("sniffperm");
    let (status, _, err) = run(
        &mut ns.sockit_without_raw_sockets(&["sniff", "-i", "lo", "-c", "1"]),
        30,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("CAP_NET_RAW") && err.contains("-r FILE"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.pcap");
    let sniffer = Sniffer::start(&ns, &["-i", "lo", "-w", file.to_str().unwrap()]);
    let (status, _, _) = run(&mut ns.sockit(&["ping", "-c", "1", "127.0.0.1"]), 30);
    assert!(status.success());
    let _ = sniffer.stop();
    let (status, out, err) = run(
        &mut ns.sockit_without_raw_sockets(&["sniff", "-r", file.to_str().unwrap()]),
        30,
    );
    assert!(status.success(), "{err}");
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("ICMP echo request")
    );

    let (status, _, err) = run(sockit().args(["sniff", "-i", "no-such-if0", "-c", "1"]), 30);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("no interface named \"no-such-if0\""), "{err}");
}

#[test]
fn arp_and_ethernet_between_two_hosts() {
    let net = TwoHosts::new("sarp");
    let sniffer = Sniffer::start(&net.a, &["-i", &net.veth_a, "--layers"]);
    let b = net.address_of_b();
    let (status, _, err) = run(&mut net.a.sockit(&["ping", "-c", "1", &b]), 30);
    assert!(status.success(), "{err}");
    let (out, _) = sniffer.stop();
    let a = format!("{}.1", net.prefix);
    assert!(out.contains(&format!("ARP who-has {b} tell {a}")), "{out}");
    assert!(out.contains(&format!("ARP reply {b} is-at ")), "{out}");
    assert!(out.contains("network    ARP request, sender"), "{out}");
    assert!(
        out.contains(&format!("{a} → {b} ICMP echo request")),
        "{out}"
    );
    // Real hardware addresses on a veth, unlike loopback's zeros.
    let link = out
        .lines()
        .find(|l| l.contains("link       Ethernet"))
        .unwrap();
    assert!(!link.contains("00:00:00:00:00:00 → "), "{link}");
}

#[test]
fn bad_arguments_and_files_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let not_pcap = dir.path().join("notes.txt");
    std::fs::write(&not_pcap, "this is text, not a capture\n").unwrap();
    let pcapng = dir.path().join("new.pcapng");
    std::fs::write(
        &pcapng,
        [
            0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    )
    .unwrap();
    let missing = dir.path().join("missing.pcap");
    let unwritable = dir.path().join("no-such-dir").join("out.pcap");
    let empty = dir.path().join("empty.pcap");
    write_empty_pcap(&empty);
    for (args, code, needle) in [
        (
            vec!["--port", "70000", "-r", "x"],
            2,
            "ports go from 0 to 65535",
        ),
        (
            vec!["--proto", "sctp", "-r", "x"],
            2,
            "possible values: tcp, udp, icmp",
        ),
        (vec!["-c", "0", "-r", "x"], 2, "'0'"),
        (vec!["-i", "lo", "-r", "x"], 2, "cannot be used with"),
        (vec!["-r", missing.to_str().unwrap()], 1, "missing.pcap"),
        (
            vec!["-r", not_pcap.to_str().unwrap()],
            1,
            "not a pcap or pcapng file",
        ),
        (
            vec!["-r", pcapng.to_str().unwrap()],
            1,
            "not a pcap or pcapng file",
        ),
        (
            vec!["--host", "no-such-host.invalid", "-r", "x"],
            1,
            "unknown host",
        ),
        (
            vec![
                "-r",
                empty.to_str().unwrap(),
                "-w",
                unwritable.to_str().unwrap(),
            ],
            1,
            "creating",
        ),
    ] {
        let mut full = vec!["sniff"];
        full.extend(&args);
        let (status, out, err) = run(sockit().args(&full), 30);
        assert_eq!(status.code(), Some(code), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in {err}"
        );
    }
}

/// Traffic with a known shape, on 127.0.0.1:7272 inside `ns`: a connection
/// closed in four steps (the server waits before its FIN, so the ACK of the
/// client's FIN goes alone), one closed in three (the server closes at once:
/// its FIN carries that delayed ACK), one reset by the client (SO_LINGER 0)
/// and one refused (port 7273). Each exchange finishes before the next.
fn ladder_traffic(ns: &Netns) {
    require("python3", "python3");
    const SERVER: &str = "import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 7272)); s.listen(); print('ready', flush=True)
for pause in (0.3, 0, None):
    c, _ = s.accept()
    try:
        data = c.recv(100); time.sleep(0.05); c.sendall(data)
        while c.recv(100): pass
        time.sleep(pause)
    except (OSError, TypeError):
        pass
    c.close()";
    const CLIENT: &str = "import socket, struct, sys, time
for n in range(3):
    c = socket.create_connection(('127.0.0.1', 7272))
    c.sendall(b'hello' + b'\\n'); c.recv(100)
    if n == 2:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        c.close(); time.sleep(0.2); continue
    c.shutdown(socket.SHUT_WR)
    while c.recv(100): pass
    c.close(); time.sleep(0.5)";
    let mut server = python_server(ns, SERVER);
    let status = ns.exec(&["python3", "-c", CLIENT]).status().unwrap();
    assert!(status.success());
    wait_child(&mut server, 10);
    let (status, _, _) = run(&mut ns.sockit(&["connect", "127.0.0.1", "7273"]), 30);
    assert_eq!(status.code(), Some(1));
}

/// A python3 server script run in `ns`, once it has printed "ready".
fn python_server(ns: &Netns, script: &str) -> Child {
    let mut server = ns
        .exec(&["python3", "-u", "-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(
        first_line(&mut server),
        "ready\n",
        "the server did not start"
    );
    server
}

/// A ladder with what changes from run to run masked: the times and the
/// client's port.
fn masked(ladder: &str) -> String {
    ladder
        .lines()
        .map(|line| {
            // The title: "tcp#N CLIENT:PORT → SERVER:PORT (...)".
            let mut line = match line.split_once(' ') {
                Some((head, rest))
                    if ["tcp#", "udp#", "icmp#"]
                        .iter()
                        .any(|p| head.starts_with(p)) =>
                {
                    let client_end = rest.find(' ').unwrap_or(rest.len());
                    // ICMP's endpoints are bare addresses: nothing to mask.
                    match rest[..client_end].rfind(':') {
                        Some(colon)
                            if rest[..colon].contains('.') || rest[..colon].ends_with(']') =>
                        {
                            format!("{head} {}CLIENT{}", &rest[..=colon], &rest[client_end..])
                        }
                        _ => line.to_string(),
                    }
                }
                _ => line.to_string(),
            };
            if let Some(time) = line
                .split_whitespace()
                .next()
                .filter(|t| t.contains('.') && t.chars().all(|c| c.is_ascii_digit() || c == '.'))
            {
                let at = line.find(time).unwrap();
                let mask: String = time
                    .chars()
                    .map(|c| if c == '.' { '.' } else { 'T' })
                    .collect();
                line.replace_range(at..at + time.len(), &mask);
            }
            // ping's identifier is its process number, whose length sets
            // the arrow's: both masked.
            if let Some(at) = line.find(" id=") {
                let end = line[at + 4..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(line.len(), |n| at + 4 + n);
                line.replace_range(at + 4..end, "ID");
                while line.contains("───") {
                    line = line.replace("───", "──");
                }
            }
            line + "\n"
        })
        .collect()
}

/// Compares `actual` with the golden file `name` (tests/golden/); with
/// SOCKIT_BLESS=1 in the environment, writes it instead (read it over
/// before committing it).
fn assert_golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("SOCKIT_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(actual, expected, "against {}", path.display());
}

/// `--ladder` live: each connection drawn as it ends, as the golden file
/// has it (four-step and three-step closes, a reset, a refusal); the same
/// capture read back in ASCII on 60 columns, one connection with --conn,
/// raw numbers with --absolute.
#[test]
fn ladders_draw_each_connection_as_the_textbook_does() {
    let ns = Netns::new("ladder");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ladder.pcap");
    let sniffer = Sniffer::start_with_env(
        &ns,
        &["-i", "lo", "--ladder", "-w", file.to_str().unwrap(), "tcp"],
        &[("COLUMNS", "90"), ("LANG", "C.UTF-8")],
    );
    ladder_traffic(&ns);
    std::thread::sleep(Duration::from_millis(300));
    let (live, _) = sniffer.stop();
    assert_golden("ladder.txt", &masked(&live));

    let read = |args: &[&str], columns: &str| {
        let mut command = sockit();
        command
            .args(["sniff", "--ladder", "-r", file.to_str().unwrap()])
            .args(args)
            .env("COLUMNS", columns)
            .env("LANG", "C.UTF-8");
        let (status, out, err) = run(&mut command, 30);
        assert!(status.success(), "{err}");
        String::from_utf8(out).unwrap()
    };
    assert_golden("ladder.txt", &masked(&read(&[], "90")));
    assert_golden(
        "ladder-ascii-60.txt",
        &masked(&read(&["--ascii", "--conn", "2"], "60")),
    );
    // Without a UTF-8 locale, ASCII without asking.
    let mut plain = sockit();
    plain
        .args([
            "sniff",
            "--ladder",
            "--conn",
            "2",
            "-r",
            file.to_str().unwrap(),
        ])
        .env("COLUMNS", "60")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE");
    let (_, out, _) = run(&mut plain, 30);
    assert_golden(
        "ladder-ascii-60.txt",
        &masked(&String::from_utf8(out).unwrap()),
    );
    let absolute = read(&["--absolute", "--conn", "4"], "90");
    assert!(!absolute.contains("SYN seq=0 "), "{absolute}");
    assert!(absolute.contains("(refused)"), "{absolute}");
}

/// A simultaneous close: both ends shut down at the same moment over a link
/// that holds each packet 100 ms, so their FINs cross on the wire and each
/// end goes FIN-WAIT-1 → CLOSING → TIME-WAIT, drawn as the golden files have
/// it, seen from each end of the link (at each, its own FIN goes first).
#[test]
fn ladders_draw_a_simultaneous_close() {
    let link = SlowLink::new("laddersim", Duration::from_millis(100));
    const SERVER: &str = "import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 7272)); s.listen(); print('ready', flush=True)
c, _ = s.accept()
line = c.recv(100); c.sendall(line)
time.sleep(max(0, float(line.split()[1]) - time.time()))
c.shutdown(socket.SHUT_WR)
while c.recv(100): pass
c.close()";
    const CLIENT: &str = "import socket, sys, time
c = socket.create_connection((sys.argv[1], 7272))
at = time.time() + 0.6
c.sendall(b'close-at %.6f\\n' % at); c.recv(100)
time.sleep(max(0, at - time.time()))
c.shutdown(socket.SHUT_WR)
while c.recv(100): pass
c.close()";
    let mut server = python_server(&link.b, SERVER);
    let sniffers = [(&link.a, &link.tun_a), (&link.b, &link.tun_b)].map(|(ns, tun)| {
        Sniffer::start_with_env(
            ns,
            &["-i", tun, "--ladder", "tcp"],
            &[("COLUMNS", "90"), ("LANG", "C.UTF-8")],
        )
    });
    let status = link
        .a
        .exec(&["python3", "-c", CLIENT, &link.address_of_b()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_child(&mut server, 10);
    std::thread::sleep(Duration::from_millis(300));
    let [client_end, server_end] = sniffers.map(|sniffer| {
        let (live, _) = sniffer.stop();
        masked(&live.replace(&format!("{}.", link.prefix), "10.0.0."))
    });
    assert_golden("ladder-simultaneous.txt", &client_end);
    assert_golden("ladder-simultaneous-server-end.txt", &server_end);
}

/// UDP exchanges (an echoed datagram, one answered by ICMP port
/// unreachable) and ICMP echoes, drawn the same way, at Ctrl-C since they
/// never end: the golden file, times, ports and ping's identifier masked.
#[test]
fn ladders_draw_udp_and_icmp_echo_exchanges() {
    let ns = Netns::new("ladderu");
    let _echo = Listener::start_with(
        ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["-u", "--echo", "127.0.0.1", "5353"],
        Stdio::null(),
        Stdio::null(),
    );
    let sniffer = Sniffer::start_with_env(
        &ns,
        &["-i", "lo", "--ladder", "udp or icmp"],
        &[("COLUMNS", "90"), ("LANG", "C.UTF-8")],
    );
    let (status, out, err) = run_with_input(
        &mut ns.sockit(&["connect", "-u", "-w", "0.3", "127.0.0.1", "5353"]),
        b"one\n",
        30,
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"one\n");
    let _ = run_with_input(
        &mut ns.sockit(&["connect", "-u", "-w", "0.3", "127.0.0.1", "5354"]),
        b"x\n",
        30,
    );
    let (status, _, err) = run(
        &mut ns.sockit(&["ping", "-c", "2", "-i", "0.1", "127.0.0.1"]),
        30,
    );
    assert!(status.success(), "{err}");
    std::thread::sleep(Duration::from_millis(300));
    let (live, _) = sniffer.stop();
    assert_golden("ladder-udp-icmp.txt", &masked(&live));
}

/// `--svg`: an XML document with one arrow per drawn packet, each labelled,
/// and a real browser (headless Chromium) renders it to a picture of the
/// size the document says, with the drawing on it.
#[test]
fn ladders_as_svg_render_in_a_browser() {
    require("python3", "python3");
    require("chromium", "chromium");
    let ns = Netns::new("laddersvg");
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c.pcap");
    let sniffer = Sniffer::start(&ns, &["-i", "lo", "-w", capture.to_str().unwrap(), "tcp"]);
    ladder_traffic(&ns);
    std::thread::sleep(Duration::from_millis(300));
    let _ = sniffer.stop();
    let svg = dir.path().join("ladders.svg");
    let (status, text, err) = run(
        sockit()
            .args(["sniff", "--ladder", "--ascii", "-r"])
            .arg(&capture)
            .arg("--svg")
            .arg(&svg),
        30,
    );
    assert!(status.success(), "{err}");
    let text = String::from_utf8(text).unwrap();
    let arrows = text
        .lines()
        .filter(|l| l.contains("->|") || l.contains("|<-"))
        .count();
    let check = "import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = '{http://www.w3.org/2000/svg}'
lines = [l for l in root.iter(ns + 'line') if l.get('class') == 'segment']
labels = [t.text for t in root.iter(ns + 'text') if t.get('class') == 'label']
titles = [t.text for t in root.iter(ns + 'text') if t.get('class') == 'title']
print(json.dumps({'width': root.get('width'), 'height': root.get('height'), 'segments': len(lines), 'labels': labels, 'titles': titles}))";
    let doc: Value = serde_json::from_str(&python_reading(check, &svg)).unwrap();
    assert_eq!(doc["segments"], arrows, "{doc}");
    assert!(arrows >= 30, "{text}");
    let labels: Vec<&str> = doc["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), arrows);
    assert_eq!(labels[0], "SYN seq=0");
    assert!(labels.contains(&"RST, ACK seq=0 ack=1"), "{labels:?}");
    let titles = doc["titles"].as_array().unwrap();
    assert_eq!(titles.len(), 4, "{doc}");
    assert!(
        titles[1]
            .as_str()
            .unwrap()
            .ends_with(":7272 (closed in three steps)"),
        "{doc}"
    );

    assert_renders_in_chromium(&svg);
}
