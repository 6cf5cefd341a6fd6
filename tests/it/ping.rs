//! `sockit ping`: ICMP echo to loopback and to a host in a namespace the test
//! creates, under partial and total loss (nftables drops, as this kernel has
//! no netem), through the raw and the unprivileged datagram socket, and TCP
//! handshake timing. iputils ping is the reference for the output.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;
use crate::netns::{Netns, TwoHosts};

/// The output with every number replaced by N: what must match iputils
/// line for line, whatever the timings.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

fn summary_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or_else(|| panic!("no summary in:\n{out}"))
}

#[test]
fn loopback_output_matches_iputils_line_for_line() {
    require("ping", "iputils-ping");
    let ns = Netns::new("pinglo");
    for (target, extra) in [
        ("127.0.0.1", vec![]),
        ("::1", vec![]),
        ("127.0.0.1", vec!["-s", "1000"]),
        ("127.0.0.1", vec!["-q"]),
    ] {
        let mut args = vec!["-c", "3", "-i", "0.05", target];
        args.extend(&extra);
        let (code, out) = shaped_as_iputils(&ns, &args);
        assert_eq!(code, Some(0), "{target}: {out}");
        assert!(
            out.contains("3 packets transmitted, 3 received, 0% packet loss"),
            "{out}"
        );
        if !extra.contains(&"-q") {
            for seq in 1..=3 {
                assert!(
                    out.contains(&format!("icmp_seq={seq} ttl=64 time=")),
                    "{out}"
                );
            }
        }
    }
}

#[test]
fn a_host_behind_a_veth_pair_answers_with_its_ttl() {
    let net = TwoHosts::new("pv");
    let b = net.address_of_b();
    let (status, out, err) = run(
        &mut net.a.sockit(&["ping", "-c", "4", "-i", "0.05", &b]),
        30,
    );
    let out = String::from_utf8(out).unwrap();
    assert!(status.success(), "{err}");
    assert!(
        out.contains(&format!("64 bytes from {b}: icmp_seq=4 ttl=64")),
        "{out}"
    );
    assert!(summary_line(&out).starts_with("4 packets transmitted, 4 received, 0% packet loss"));
}

#[test]
fn partial_loss_is_counted_and_still_exits_0() {
    let net = TwoHosts::new("pl");
    net.b.drop_incoming("icmp type echo-request", 30);
    let b = net.address_of_b();
    let (status, out, err) = run(
        &mut net
            .a
            .sockit(&["ping", "-c", "100", "-i", "0.01", "-W", "1", "--json", &b]),
        60,
    );
    assert!(status.success(), "some replies came, so exit 0: {err}");
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["transmitted"], 100);
    let received = summary["received"].as_u64().unwrap();
    // 30% drop over 100 probes: 70 expected, 4.6 standard deviations either
    // side of 45..=90 is beyond any run's luck.
    assert!((45..=90).contains(&received), "{summary}");
    assert_eq!(
        summary["loss_percent"].as_f64().unwrap(),
        (100 - received) as f64
    );
    let replies = lines.iter().filter(|l| l["state"] == "reply").count() as u64;
    let lost = lines.iter().filter(|l| l["state"] == "lost").count() as u64;
    assert_eq!(
        (replies, lost),
        (received, 100 - received),
        "one object per probe"
    );
    assert!(summary["rtt_min_ms"].as_f64().unwrap() <= summary["rtt_avg_ms"].as_f64().unwrap());
    assert!(summary["rtt_avg_ms"].as_f64().unwrap() <= summary["rtt_max_ms"].as_f64().unwrap());
}

#[test]
fn total_loss_prints_no_round_trips_and_exits_1() {
    require("ping", "iputils-ping");
    let net = TwoHosts::new("pt");
    net.b.drop_incoming("icmp type echo-request", 100);
    let b = net.address_of_b();
    let args = ["-c", "3", "-i", "0.1", "-W", "1", b.as_str()];
    let (status, out, err) = run(&mut net.a.sockit(&[&["ping"][..], &args].concat()), 30);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(status.code(), Some(1), "{out}{err}");
    assert!(summary_line(&out).starts_with("3 packets transmitted, 0 received, 100% packet loss"));
    assert!(!out.contains("rtt"), "{out}");
    let reference = net
        .a
        .exec(&[&["ping"][..], &args].concat())
        .output()
        .unwrap();
    assert_eq!(reference.status.code(), Some(1));
    assert_eq!(
        shape(&out),
        shape(&String::from_utf8_lossy(&reference.stdout))
    );

    // -w: a deadline instead of a count, probing until it passes.
    let started = std::time::Instant::now();
    let (status, out, _) = run(&mut net.a.sockit(&["ping", "-w", "1", "-i", "0.2", &b]), 30);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        summary_line(&out).starts_with("5 packets transmitted, 0 received, 100% packet loss"),
        "{out}"
    );
}

#[test]
fn with_a_deadline_the_count_is_of_replies() {
    let ns = Netns::new("pdl");
    let (status, out, err) = run(
        &mut ns.sockit(&["ping", "-c", "2", "-w", "20", "-i", "0.05", "127.0.0.1"]),
        30,
    );
    let out = String::from_utf8(out).unwrap();
    assert!(status.success(), "{err}");
    assert!(
        summary_line(&out).starts_with("2 packets transmitted, 2 received"),
        "{out}"
    );
}

#[test]
fn datagram_socket_without_privilege_and_the_error_when_neither_is_allowed() {
    let ns = Netns::new("pdg");
    // Without CAP_NET_RAW, and with the namespace's ping_group_range still
    // closed ("1 0"), no ICMP socket can be had.
    let unprivileged = |args: &[&str]| ns.sockit_without_raw_sockets(args);
    let (status, _, err) = run(&mut unprivileged(&["ping", "-c", "1", "127.0.0.1"]), 30);
    assert_eq!(status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ping_group_range") && err.contains("CAP_NET_RAW") && err.contains("--tcp"),
        "{err}"
    );

    // Root keeps its raw socket.
    let (status, _, err) = run(&mut ns.sockit(&["ping", "-v", "-c", "1", "127.0.0.1"]), 30);
    assert!(status.success() && err.contains("raw ICMP socket"), "{err}");

    // Opened for every group inside this namespace only: the datagram socket.
    ns.open_ping_group_range();
    for target in ["127.0.0.1", "::1"] {
        let (status, out, err) = run(
            &mut unprivileged(&["ping", "-v", "-c", "2", "-i", "0.05", target]),
            30,
        );
        let out = String::from_utf8(out).unwrap();
        assert!(status.success(), "{target}: {err}");
        assert!(err.contains("datagram socket"), "{err}");
        assert!(out.contains("2 packets transmitted, 2 received"), "{out}");
        assert!(out.contains("icmp_seq=2 ttl=64 time="), "{out}");
    }
}

#[test]
fn tcp_handshakes_to_an_open_and_a_closed_port() {
    let ns = Netns::new("ptcp");
    let listener = Listener::start_with(
        ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["-k", "127.0.0.1", "0"],
        std::process::Stdio::null(),
        std::process::Stdio::null(),
    );
    let port = listener.port();
    let (status, out, err) = run(
        &mut ns.sockit(&["ping", "--tcp", &port, "-c", "3", "-i", "0.05", "127.0.0.1"]),
        30,
    );
    let out = String::from_utf8(out).unwrap();
    assert!(status.success(), "{err}");
    for seq in 1..=3 {
        assert!(
            out.contains(&format!(
                "connected to 127.0.0.1 port {port}: tcp_seq={seq} time="
            )),
            "{out}"
        );
    }
    assert!(summary_line(&out).starts_with("3 packets transmitted, 3 received, 0% packet loss"));
    assert!(out.contains("rtt min/avg/max/mdev = "), "{out}");
    listener.wait_for("connection from 127.0.0.1", 10);
    drop(listener);

    let closed = free_port("127.0.0.1").to_string();
    let (status, out, _) = run(
        &mut ns.sockit(&[
            "ping",
            "--tcp",
            &closed,
            "-c",
            "2",
            "-i",
            "0.05",
            "127.0.0.1",
        ]),
        30,
    );
    let out = String::from_utf8(out).unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("port {closed}: tcp_seq=2 refused")),
        "{out}"
    );
    assert!(
        summary_line(&out)
            .starts_with("2 packets transmitted, 0 received, +2 refused, 100% packet loss")
    );
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        vec!["ping", "-s", "70000", "127.0.0.1"],
        vec!["ping", "-c", "0", "127.0.0.1"],
        vec!["ping", "-i", "-1", "127.0.0.1"],
        vec!["ping", "--tcp", "70000", "127.0.0.1"],
        vec!["ping", "-c", "1", "no-such-host.invalid"],
    ] {
        let (status, _, err) = run(Command::new(env!("CARGO_BIN_EXE_sockit")).args(&args), 30);
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_unreachable_neighbour_is_reported_through_either_socket() {
    require("ping", "iputils-ping");
    let net = TwoHosts::new("pu");
    // Nobody has .3 on the link: neighbour discovery fails after about 3 s
    // and the kernel answers our own request with host unreachable.
    let absent = format!("{}.3", net.prefix);
    // Two probes half a second apart: both are answered together when
    // discovery fails, so iputils' summary adds "pipe 2".
    let args = ["ping", "-c", "2", "-i", "0.5", "-W", "8", absent.as_str()];
    let reference = net.a.exec(&args).output().unwrap();
    let expected = format!(
        "From {}.1 icmp_seq=1 Destination Host Unreachable",
        net.prefix
    );

    let (status, out, err) = run(&mut net.a.sockit(&args), 30);
    let raw = String::from_utf8(out).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(raw.contains(&expected), "{raw}");
    assert!(raw.ends_with("\npipe 2\n"), "{raw}");
    assert!(
        summary_line(&raw)
            .starts_with("2 packets transmitted, 0 received, +2 errors, 100% packet loss")
    );
    assert_eq!(
        shape(&raw),
        shape(&String::from_utf8_lossy(&reference.stdout))
    );

    // The datagram socket gets the same error from its error queue.
    net.a.open_ping_group_range();
    let mut unprivileged = net.a.sockit_without_raw_sockets(&["ping", "-v"]);
    let (status, out, err) = run(unprivileged.args(&args[1..]), 30);
    let datagram = String::from_utf8(out).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("datagram socket"), "{err}");
    assert_eq!(
        datagram,
        raw.replace(&summary_line(&raw).to_string(), summary_line(&datagram))
    );
}

/// The average round trip of a ping summary (`rtt min/avg/max/mdev = ...`), in ms.
fn average_ms(out: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("rtt "))
        .unwrap_or_else(|| panic!("no round trips in:\n{out}"));
    let numbers = line.split(" = ").nth(1).unwrap();
    numbers.split('/').nth(1).unwrap().parse().unwrap()
}

/// Round trips are the network's: kernel receive stamps, send times taken
/// at the send. On loopback, 50 probes each, three interleaved rounds:
/// sockit's average within 15 microseconds of iputils'. The median round of
/// each is compared, so one round disturbed by a busy machine (other tests
/// run alongside) does not decide it.
#[test]
fn round_trips_measure_the_network_not_the_program() {
    let ns = Netns::new("rtt");
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        for (averages, command) in [
            (
                &mut theirs,
                ns.exec(&["ping", "-q", "-c", "50", "-i", "0.01", "127.0.0.1"]),
            ),
            (
                &mut mine,
                ns.sockit(&["ping", "-q", "-c", "50", "-i", "0.01", "127.0.0.1"]),
            ),
        ] {
            let mut command = command;
            let (status, out, err) = run(&mut command, 60);
            assert!(status.success(), "{err}");
            averages.push(average_ms(&String::from_utf8(out).unwrap()));
        }
    }
    let median = |averages: &mut Vec<f64>| {
        averages.sort_by(f64::total_cmp);
        averages[1]
    };
    let (m, t) = (median(&mut mine), median(&mut theirs));
    assert!(
        (m - t).abs() <= 0.015,
        "sockit {m:.3} ms against iputils {t:.3} ms (rounds: {mine:?} against {theirs:?})"
    );
}

/// Runs `ping ARGS` with sockit and with iputils in `ns` and requires the
/// same output with the numbers masked; sockit's exit code and output.
fn shaped_as_iputils(ns: &Netns, args: &[&str]) -> (Option<i32>, String) {
    let (status, out, err) = run(&mut ns.sockit(&[&["ping"][..], args].concat()), 30);
    let reference = ns.exec(&[&["ping"][..], args].concat()).output().unwrap();
    let (out, reference) = (
        String::from_utf8(out).unwrap(),
        String::from_utf8(reference.stdout).unwrap(),
    );
    assert_eq!(
        shape(&out),
        shape(&reference),
        "{args:?}\nsockit:\n{out}{err}\niputils:\n{reference}"
    );
    (status.code(), out)
}

/// -t, -p and -D against iputils' output shape; -t 1 across a router gets
/// its time-exceeded answer in both; -b pings a subnet's broadcast address
/// (refused without it, exit 2).
#[test]
fn ttl_pattern_timestamps_and_broadcast_as_iputils() {
    require("ping", "iputils-ping");
    let chain = crate::netns::Chain::new("pflags");
    let ns = &chain.client;
    for (target, extra) in [
        ("127.0.0.1", vec!["-t", "7", "-p", "abcd", "-D"]),
        ("::1", vec!["-t", "3", "-p", "0f", "-D"]),
        ("127.0.0.1", vec!["-I", "lo"]),
        ("127.0.0.1", vec!["-I", "127.0.0.1"]),
        ("::1", vec!["-I", "lo"]),
        (chain.v4[5].as_str(), vec!["-I", chain.v4[0].as_str()]),
        (chain.v4[5].as_str(), vec!["-t", "1"]),
        (chain.v6[5].as_str(), vec!["-t", "1"]),
    ] {
        let mut args = vec!["-c", "2", "-i", "0.05", "-W", "1", target];
        args.extend(&extra);
        let (_, out) = shaped_as_iputils(ns, &args);
        if extra.contains(&"-D") {
            assert!(out.lines().nth(2).unwrap().starts_with('['), "{out}");
        } else if extra.contains(&"-I") {
            assert!(out.lines().next().unwrap().contains(" from "), "{out}");
        } else {
            assert!(
                out.contains(&format!("From {}", chain.v4[1]))
                    || out.contains(&format!("From {}", chain.v6[1])),
                "{out}"
            );
        }
    }
    let net = TwoHosts::new("pbcast");
    net.b
        .sh("sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0");
    let broadcast = format!("{}.255", net.prefix);
    let (status, _, err) = run(&mut net.a.sockit(&["ping", "-c", "1", &broadcast]), 30);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("-b"), "{err}");
    let (status, out, err) = run(
        &mut net
            .a
            .sockit(&["ping", "-b", "-c", "1", "-W", "2", &broadcast]),
        30,
    );
    assert!(status.success(), "{err}");
    assert!(err.contains("WARNING: pinging broadcast address"), "{err}");
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains(&format!("from {}.2", net.prefix))
    );
}

/// A reader that goes away (`| head -1`) ends ping quietly: no panic, no
/// backtrace, for the summary as for the lines before it.
#[test]
fn a_closed_stdout_is_no_panic() {
    let ns = Netns::new("pipe");
    let script = format!(
        "{} ping -c 3 -i 0.05 127.0.0.1 | head -1 >/dev/null",
        env!("CARGO_BIN_EXE_sockit")
    );
    let (status, _, err) = run(&mut ns.exec(&["sh", "-c", &script]), 30);
    assert!(status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// -O: an unanswered probe is named when the next one leaves, as iputils
/// does (replies dropped by nftables in the namespace).
#[test]
fn outstanding_probes_are_named_with_o() {
    require("ping", "iputils-ping");
    let ns = Netns::new("pingo");
    ns.drop_incoming("icmp type echo-reply", 100);
    let args = ["-O", "-c", "3", "-i", "0.2", "-W", "0.3", "127.0.0.1"];
    let (code, out) = shaped_as_iputils(&ns, &args);
    assert_eq!(code, Some(1));
    assert!(out.contains("no answer yet for icmp_seq=2"), "{out}");
}

/// -A: the next probe leaves when the last is answered, so 20 probes on
/// loopback take a fraction of 20 intervals; the summary adds ipg/ewma as
/// iputils' does.
#[test]
fn adaptive_ping_keeps_one_probe_in_flight() {
    require("ping", "iputils-ping");
    let ns = Netns::new("pinga");
    let started = std::time::Instant::now();
    let (code, out) = shaped_as_iputils(&ns, &["-A", "-c", "20", "127.0.0.1"]);
    assert_eq!(code, Some(0));
    assert!(out.contains(", ipg/ewma "), "{out}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "20 adaptive probes, not 20 one-second intervals"
    );
}

/// -f as iputils: a dot per probe rubbed out by its answer (all answered on
/// loopback), dots left for lost probes, `\bE` for a router's ICMP error,
/// ipg/ewma in the summary; refused to users other than root.
#[test]
fn flood_ping_as_iputils() {
    require("ping", "iputils-ping");
    let chain = crate::netns::Chain::new("flood");
    let ns = &chain.client;
    let (code, out) = shaped_as_iputils(ns, &["-f", "-c", "100", "127.0.0.1"]);
    assert_eq!(code, Some(0));
    let marks = out.lines().nth(1).unwrap();
    assert_eq!(marks, ".\x08 \x08".repeat(100), "{out:?}");
    assert!(out.contains(", ipg/ewma "), "{out}");
    // A router's time-exceeded answer for each probe.
    let (code, out) = shaped_as_iputils(ns, &["-f", "-c", "5", "-t", "1", &chain.v4[5]]);
    assert_eq!(code, Some(1));
    assert!(out.contains(&".\x08E".repeat(5)), "{out:?}");
    // Lost probes leave their dots.
    chain.server.drop_incoming("icmp type echo-request", 100);
    let (code, out) = shaped_as_iputils(ns, &["-f", "-c", "5", "-W", "0.5", &chain.v4[5]]);
    assert_eq!(code, Some(1));
    assert_eq!(out.lines().nth(1).unwrap(), ".....", "{out:?}");

    let (status, out, err) = run(
        &mut ns.exec(&[
            "setpriv",
            "--reuid",
            "65534",
            env!("CARGO_BIN_EXE_sockit"),
            "ping",
            "-f",
            "-c",
            "3",
            "127.0.0.1",
        ]),
        30,
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot flood") && err.contains("-i 0.002"),
        "{err}"
    );
}

/// -M across a router whose next link has an MTU of 1400: `do` gets the
/// router's "Frag needed" (IPv6: "Packet too big") for the first request and
/// local "message too long" errors for the rest, counted as errors; `dont`
/// and `want` get replies; stdout and stderr shaped as iputils', the route
/// cache flushed before each run.
#[test]
fn path_mtu_discovery_as_iputils() {
    require("ping", "iputils-ping");
    let chain = crate::netns::Chain::new("pmtu");
    for (ns, address) in [(&chain.r2, &chain.v4[4]), (&chain.server, &chain.v4[5])] {
        ns.sh(&format!(
            "set -- $(ip -o addr show to {address}); ip link set dev $2 mtu 1400"
        ));
    }
    let run_both = |args: &[&str]| -> Vec<(String, String)> {
        let mut outputs = Vec::new();
        for program in [env!("CARGO_BIN_EXE_sockit"), "ping"] {
            chain
                .client
                .sh("ip route flush cache; ip -6 route flush cache");
            let mut argv = vec![program];
            if program != "ping" {
                argv.push("ping");
            }
            argv.extend(args);
            let output = chain.client.exec(&argv).output().unwrap();
            let err = String::from_utf8(output.stderr)
                .unwrap()
                .replace("sockit: ", "ping: ");
            outputs.push((String::from_utf8(output.stdout).unwrap(), err));
        }
        outputs
    };
    for (target, hint, first_line) in [
        (&chain.v4[5], "do", "Frag needed and DF set (mtu = 1400)"),
        (&chain.v6[5], "do", "Packet too big: mtu=1400"),
        (&chain.v4[5], "dont", ""),
        (&chain.v4[5], "want", "Frag needed and DF set (mtu = 1400)"),
    ] {
        let args = [
            "-c", "3", "-i", "0.2", "-W", "1", "-M", hint, "-s", "1450", target,
        ];
        let outputs = run_both(&args);
        let [(out, err), (their_out, their_err)] = [outputs[0].clone(), outputs[1].clone()];
        assert_eq!(
            (shape(&out), shape(&err)),
            (shape(&their_out), shape(&their_err)),
            "{args:?}\nsockit:\n{out}{err}\niputils:\n{their_out}{their_err}"
        );
        if first_line.is_empty() {
            assert!(out.contains("3 received"), "{out}");
        } else {
            assert!(out.lines().nth(1).unwrap().ends_with(first_line), "{out}");
        }
        if hint == "do" {
            assert!(out.contains("0 received, +3 errors"), "{out}");
            assert_eq!(
                err.matches("local error: message too long, mtu").count(),
                2,
                "{err}"
            );
        }
    }
    // Too large for the first link itself: refused before it leaves.
    let outputs = run_both(&[
        "-c",
        "2",
        "-i",
        "0.2",
        "-M",
        "do",
        "-s",
        "1500",
        &chain.v4[5],
    ]);
    assert_eq!(shape(&outputs[0].1), shape(&outputs[1].1));
    assert!(outputs[0].1.contains("mtu=1500"), "{}", outputs[0].1);
}

/// --plot: under the summary, a histogram whose bars count every reply and
/// a sparkline with one character per probe, a gap for each lost one.
#[test]
fn plot_shows_the_round_trips() {
    let net = crate::netns::TwoHosts::new("plot");
    net.b.drop_incoming("icmp type echo-request", 30);
    let mut command = net.a.sockit(&[
        "ping",
        "-q",
        "-c",
        "40",
        "-i",
        "0.01",
        "-W",
        "0.5",
        "--plot",
        &net.address_of_b(),
    ]);
    command.env("LANG", "C.UTF-8").env("COLUMNS", "80");
    let (_, out, err) = run(&mut command, 60);
    let out = String::from_utf8(out).unwrap();
    let received: usize = summary_line(&out)
        .split(", ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}{err}"));
    assert!(received > 0 && received < 40, "{out}");
    let plot = out.split("round trips, ms:\n").nth(1).expect(&out);
    let bars: usize = plot
        .lines()
        .take_while(|l| l.contains('│'))
        .map(|l| {
            l.split_whitespace()
                .last()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(bars, received, "{plot}");
    let line = plot
        .split("in probe order (a gap is a lost probe):\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect(plot);
    assert_eq!(line.chars().count(), 40, "{line:?}");
    assert_eq!(
        line.chars().filter(|c| *c == ' ').count(),
        40 - received,
        "{line:?}"
    );
    assert!(
        line.chars().all(|c| c == ' ' || ('▁'..='█').contains(&c)),
        "{line:?}"
    );
    // The same as an SVG chart: a line of the round trips broken at each
    // loss, 8 histogram bars counting every reply, drawn by a browser.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("ping.svg");
    let (_, out, err) = run(
        net.a
            .sockit(&[
                "ping", "-q", "-c", "20", "-i", "0.01", "-W", "0.5", "--plot",
            ])
            .arg("--svg")
            .arg(&svg)
            .arg(net.address_of_b()),
        60,
    );
    let received: usize = summary_line(&String::from_utf8(out).unwrap())
        .split(", ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    let check = "import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = '{http://www.w3.org/2000/svg}'
bars = [r for r in root.iter(ns + 'rect') if r.get('class') == 'bar']
counts = [int(t.text) for t in root.iter(ns + 'text') if t.get('class') == 'count']
lines = [p for p in root.iter(ns + 'polyline') if p.get('class') == 'rtt']
points = sum(len(p.get('points').split()) for p in lines)
print(len(bars), sum(counts), len(lines), points)";
    let parsed = python_reading(check, &svg);
    let numbers: Vec<usize> = parsed
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(numbers[0], 8, "{parsed}");
    assert_eq!(numbers[1], received, "{parsed}");
    assert!(numbers[2] >= 1, "{parsed}");
    assert_eq!(numbers[3], received, "{parsed}");
    assert_renders_in_chromium(&svg);
    // ASCII where the locale is not UTF-8.
    let mut plain = net.a.sockit(&[
        "ping",
        "-q",
        "-c",
        "10",
        "-i",
        "0.01",
        "--plot",
        &net.address_of_b(),
    ]);
    plain
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE");
    let (_, out, _) = run(&mut plain, 60);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("round trips, ms:") && !out.contains('█') && out.contains('|'),
        "{out}"
    );
}
