//! `sockit trace` on a chain of namespaces the tests build (client → r1 →
//! r2 → server): hop addresses in all three modes against Debian's
//! traceroute, silence, loss and unreachable answers made with nftables
//! in the routers, the JSON records and the exit codes.

use serde_json::Value;

use crate::helpers::*;
use crate::netns::{Chain, Netns};

/// The addresses on each line of a trace (`*` for a silent probe).
fn hop_addresses(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                // Addresses and stars; not the times ("0.412") nor "ms".
                .filter(|w| *w == "*" || w.parse::<std::net::IpAddr>().is_ok())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn trace(ns: &Netns, args: &[&str]) -> (i32, String, String) {
    let mut full = vec!["trace"];
    full.extend(args);
    let (status, out, err) = run(&mut ns.sockit(&full), 60);
    (
        status.code().unwrap_or(-1),
        String::from_utf8(out).unwrap(),
        err,
    )
}

fn traceroute(ns: &Netns, args: &[&str]) -> String {
    require("traceroute", "traceroute");
    let mut full = vec!["traceroute", "-n"];
    full.extend(args);
    let (status, out, err) = run(&mut ns.exec(&full), 60);
    assert!(status.success(), "{err}");
    String::from_utf8(out).unwrap()
}

#[test]
fn every_mode_finds_the_routers_in_order() {
    let chain = Chain::new("trace");
    for (v, family) in [(&chain.v4, "-4"), (&chain.v6, "-6")] {
        let expected: Vec<Vec<String>> = [&v[1], &v[3], &v[5]]
            .iter()
            .map(|a| vec![a.to_string()])
            .collect();
        for (mode, theirs) in [
            (&[][..], &[][..]),
            (&["-I"][..], &["-I"][..]),
            (&["-T", "-p", "7"][..], &["-T", "-p", "7"][..]),
        ] {
            let mut args = vec!["-n", "-w", "2", family];
            args.extend(mode);
            args.push(&v[5]);
            let (code, out, err) = trace(&chain.client, &args);
            assert_eq!(code, 0, "{mode:?}: {out}{err}");
            let mine: Vec<Vec<String>> = hop_addresses(&out)
                .into_iter()
                .map(|mut hop| {
                    hop.dedup();
                    hop
                })
                .collect();
            assert_eq!(mine, expected, "{mode:?} {family}: {out}");
            let mut targs = vec![family];
            targs.extend(theirs);
            targs.push(&v[5]);
            let reference: Vec<Vec<String>> = hop_addresses(&traceroute(&chain.client, &targs))
                .into_iter()
                .map(|mut hop| {
                    hop.dedup();
                    hop
                })
                .collect();
            assert_eq!(mine, reference, "{mode:?} {family}: traceroute agrees");
        }
    }
}

/// Runs an nftables script in a router: a table `t` with an output and a
/// forward chain, then `rules`.
fn nft(ns: &Netns, rules: &str) {
    require("nft", "nftables");
    ns.sh(&format!(
        "nft add table inet t && \\
         nft add chain inet t out \"{{ type filter hook output priority 0; }}\" && \\
         nft add chain inet t through \"{{ type filter hook forward priority 0; }}\" && {rules}"
    ));
}

#[test]
fn a_silent_router_is_a_row_of_stars() {
    let chain = Chain::new("tsil");
    nft(
        &chain.r2,
        "nft add rule inet t out icmp type time-exceeded drop && \\
         nft add rule inet t out icmpv6 type time-exceeded drop",
    );
    for (v, family) in [(&chain.v4, "-4"), (&chain.v6, "-6")] {
        let (code, out, err) = trace(&chain.client, &["-n", "-w", "1", family, &v[5]]);
        assert_eq!(code, 0, "{out}{err}");
        let hops = hop_addresses(&out);
        assert_eq!(
            hops,
            vec![
                vec![v[1].clone(); 1],
                vec!["*".to_string(); 3],
                vec![v[5].clone(); 1],
            ],
            "{out}"
        );
    }
}

#[test]
fn unreachable_answers_are_annotated_and_end_the_trace() {
    for (reject, annotation) in [
        ("icmp type net-unreachable", "!N"),
        ("icmp type host-unreachable", "!H"),
        ("icmp type prot-unreachable", "!P"),
        ("icmp type admin-prohibited", "!X"),
    ] {
        let chain = Chain::new("tunr");
        nft(
            &chain.r1,
            &format!(
                "nft add rule inet t through ip daddr {} reject with {reject}",
                chain.v4[5]
            ),
        );
        let (code, out, err) = trace(&chain.client, &["-n", "-w", "1", &chain.v4[5]]);
        assert_eq!(code, 1, "{annotation}: {out}{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.len(),
            2,
            "{annotation}: the trace stops at the answer: {out}"
        );
        assert!(
            lines[1].starts_with(&format!(" 2  {} ", chain.v4[1])),
            "{out}"
        );
        assert_eq!(
            lines[1].matches(annotation).count(),
            3,
            "{annotation}: {out}"
        );
        // traceroute reads the same answers the same way.
        let theirs = traceroute(&chain.client, &["-w", "1", &chain.v4[5]]);
        assert!(theirs.contains(annotation), "{theirs}");
    }
}

#[test]
fn json_records_and_exit_codes() {
    let chain = Chain::new("tjson");
    let (code, out, err) = trace(&chain.client, &["-n", "--json", "-q", "2", &chain.v4[5]]);
    assert_eq!(code, 0, "{err}");
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "{out}");
    for (record, (ttl, address)) in
        records
            .iter()
            .zip([(1, &chain.v4[1]), (2, &chain.v4[3]), (3, &chain.v4[5])])
    {
        assert_eq!(record["ttl"], ttl);
        assert_eq!(record["reached"], ttl == 3);
        let probes = record["probes"].as_array().unwrap();
        assert_eq!(probes.len(), 2);
        for probe in probes {
            assert_eq!(probe["address"], address.as_str());
            assert_eq!(probe["name"], Value::Null);
            assert_eq!(probe["annotation"], Value::Null);
            assert!(probe["rtt_ms"].as_f64().unwrap() > 0.0);
        }
    }
    assert_eq!(
        records[3],
        serde_json::json!({"type": "summary", "destination": chain.v4[5], "reached": true, "hops": 3})
    );
    // A firewalled destination: r1 and r2 answer, then silence to -m; 1 at the end.
    chain
        .server
        .drop_incoming(&format!("ip saddr {}", chain.v4[0]), 100);
    let (code, out, _) = trace(
        &chain.client,
        &["-n", "--json", "-w", "0.5", "-m", "4", &chain.v4[5]],
    );
    assert_eq!(code, 1, "{out}");
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 5, "four hops and the summary: {out}");
    assert_eq!(records[1]["probes"][0]["address"], chain.v4[3].as_str());
    for silent in &records[2..4] {
        assert!(
            silent["probes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["address"].is_null()),
            "{out}"
        );
    }
    assert_eq!(records[4]["reached"], false);
    assert_eq!(records[4]["hops"], 4);
    let (code, _, err) = trace(&chain.client, &["no-such-host.invalid"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown host"), "{err}");
    for bad in [
        &["-m", "0", "x"][..],
        &["-m", "256", "x"],
        &["-q", "11", "x"],
        &["-q", "0", "x"],
        &["--bogus", "x"],
    ] {
        let (code, _, err) = trace(&chain.client, bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
}

#[test]
fn report_shows_loss_where_it_is() {
    let chain = Chain::new("trep");
    nft(
        &chain.r2,
        "nft add rule inet t out icmp type time-exceeded numgen random mod 100 lt 30 drop",
    );
    let (code, out, err) = trace(
        &chain.client,
        &[
            "--report",
            "-c",
            "30",
            "-n",
            "-w",
            "0.3",
            "--json",
            &chain.v4[5],
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let hops: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hops.len(), 3, "{out}");
    assert_eq!(hops[0]["loss_percent"], 0.0, "{out}");
    assert_eq!(hops[0]["sent"], 30);
    let loss = hops[1]["loss_percent"].as_f64().unwrap();
    assert!(loss > 0.0 && loss < 80.0, "{out}");
    assert_eq!(hops[2]["loss_percent"], 0.0, "{out}");
    assert_eq!(hops[1]["address"], chain.v4[3].as_str());
    for key in ["last_ms", "avg_ms", "best_ms", "worst_ms", "stdev_ms"] {
        assert!(hops[0][key].as_f64().is_some(), "{key}: {out}");
    }
    let (_, text, _) = trace(
        &chain.client,
        &["--report", "-c", "3", "-n", "-w", "0.3", &chain.v4[5]],
    );
    assert!(text.starts_with("HOST: "), "{text}");
    assert!(text.contains(&format!("  1.|-- {}", chain.v4[1])), "{text}");
    // --plot: one sparkline per hop, a character per round trip received.
    let mut plotted = chain.client.sockit(&[
        "trace",
        "--report",
        "-c",
        "5",
        "-n",
        "-w",
        "0.3",
        "--plot",
        &chain.v4[5],
    ]);
    plotted.env("LANG", "C.UTF-8").env("COLUMNS", "80");
    let (_, out, _) = crate::helpers::run(&mut plotted, 60);
    let out = String::from_utf8(out).unwrap();
    let plot = out
        .split("round trips per hop, in order:\n")
        .nth(1)
        .expect(&out);
    let lines: Vec<&str> = plot.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("  1.  "), "{out}");
    // The destination answered all five probes: five characters.
    assert_eq!(lines[2].trim_start()[4..].chars().count(), 5, "{out}");
    assert!(
        lines
            .iter()
            .all(|l| l[6..].chars().all(|c| ('▁'..='█').contains(&c))),
        "{out}"
    );
    // The same as an SVG chart: one line per hop, drawn by a browser.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("trace.svg");
    let (status, _, err) = crate::helpers::run(
        chain
            .client
            .sockit(&[
                "trace", "--report", "-c", "5", "-n", "-w", "0.3", "--plot", "--svg",
            ])
            .arg(&svg)
            .arg(&chain.v4[5]),
        60,
    );
    assert!(status.success(), "{err}");
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(chart.matches("class=\"series\"").count(), 3, "{chart}");
    assert!(chart.contains(&format!(" 3. {}", chain.v4[5])), "{chart}");
    crate::helpers::assert_renders_in_chromium(&svg);
}

/// UDP and TCP probes need no privilege (the error queue brings the
/// routers' answers); -v says so.
#[test]
fn without_privilege_udp_and_tcp_still_trace() {
    let chain = Chain::new("tpriv");
    for mode in [&[][..], &["-T"][..]] {
        let mut args = vec!["trace", "-v", "-n", "-w", "1"];
        args.extend(mode);
        args.push(&chain.v4[5]);
        let (status, out, err) = run(&mut chain.client.sockit_without_raw_sockets(&args), 60);
        assert!(status.success(), "{mode:?}: {out:?} {err}");
        assert!(err.contains("unprivileged"), "{err}");
        assert_eq!(hop_addresses(&String::from_utf8(out).unwrap()).len(), 3);
    }
    let (status, _, err) = run(
        &mut chain
            .client
            .sockit_without_raw_sockets(&["trace", "-I", &chain.v4[5]]),
        30,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ping_group_range"), "{err}");
}
