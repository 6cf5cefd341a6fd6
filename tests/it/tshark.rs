//! tshark as the reference decoder: every packet of a capture file read by
//! both, field by field (addresses, ports, TCP numbers and flags, ICMP,
//! the link layer of cooked captures, pcapng interface names, time stamps,
//! and the application fields sockit decodes).

use std::path::Path;

use serde_json::Value;

use crate::helpers::*;

/// What the compared capture held, for the caller's own checks.
#[derive(Debug, Default, Clone)]
pub struct Compared {
    pub packets: usize,
    /// ICMP errors quoting a UDP datagram.
    pub quoted_udp_errors: usize,
    pub dns_names: Vec<String>,
    pub dns_addresses: Vec<String>,
    pub http_requests: Vec<String>,
    pub http_statuses: Vec<String>,
    pub tls_server_names: Vec<String>,
    pub interfaces: Vec<String>,
}

const FIELDS: [&str; 29] = [
    "frame.len",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "ip.ttl",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.len",
    "tcp.window_size_value",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "icmp.type",
    "icmpv6.type",
    "frame.time_epoch",
    "frame.interface_name",
    "sll.pkttype",
    "sll.ifindex",
    "sll.etype",
    "dns.qry.name",
    "dns.a",
    "http.request.method",
    "http.request.uri",
    "http.response.code",
    "tls.handshake.extensions_server_name",
];

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tcp_flags(names: &[Value]) -> String {
    let bit = |n: &str| match n {
        "FIN" => 1,
        "SYN" => 2,
        "RST" => 4,
        "PSH" => 8,
        "ACK" => 16,
        "URG" => 32,
        "ECE" => 64,
        "CWR" => 128,
        _ => 0,
    };
    format!(
        "0x{:04x}",
        names.iter().map(|n| bit(n.as_str().unwrap())).sum::<u32>()
    )
}

/// Microseconds since 1970, from tshark's decimal seconds or sockit's number.
fn micros(seconds: &str) -> i64 {
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
    let fraction = format!("{fraction:0<9}");
    whole.parse::<i64>().unwrap() * 1_000_000 + fraction[..6].parse::<i64>().unwrap()
}

/// Reads `file` with tshark (TCP segments dissected one by one, as sockit
/// reads them) and with `sockit sniff -r --json`, and asserts that every
/// packet agrees on every field.
pub fn compare_with_tshark(file: &Path) -> Compared {
    require("tshark", "tshark");
    let mut tshark = std::process::Command::new("tshark");
    tshark.args([
        "-r",
        file.to_str().unwrap(),
        "-o",
        "tcp.desegment_tcp_streams:FALSE",
        // A capture on lo and any holds each segment twice: not a retransmission.
        "-o",
        "tcp.analyze_sequence_numbers:FALSE",
        "-T",
        "fields",
        "-E",
        "occurrence=f",
    ]);
    for field in FIELDS {
        tshark.args(["-e", field]);
    }
    let theirs = tshark.output().unwrap();
    assert!(
        theirs.status.success(),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    let (status, mine, err) = run(
        sockit().args(["sniff", "-r", file.to_str().unwrap(), "--json"]),
        60,
    );
    assert!(status.success(), "{err}");
    let mine: Vec<Value> = String::from_utf8(mine)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(mine.len(), theirs.len());
    let mut seen = Compared {
        packets: mine.len(),
        ..Compared::default()
    };
    for (m, t) in mine.iter().zip(&theirs) {
        let mut t: Vec<String> = t.split('\t').map(str::to_string).collect();
        let (link, net, tr, app) = (
            &m["link"],
            &m["network"],
            &m["transport"],
            &m["application"],
        );
        let v4 = net["type"] == "ipv4";
        let v6 = net["type"] == "ipv6";
        let tcp = tr["type"] == "tcp";
        let udp = tr["type"] == "udp";
        let icmp = tr["type"] == "icmp";
        let cooked = link["type"] == "cooked";
        // A column tshark fills only for packets of that kind.
        let only = |applies: bool, value: &Value| if applies { text(value) } else { String::new() };
        let first_a = app["answers"]
            .as_array()
            .and_then(|answers| answers.iter().find(|a| a["type"] == "A"))
            .map(|a| a["data"].clone())
            .unwrap_or(Value::Null);
        let dns = app["protocol"] == "dns";
        let request = app["protocol"] == "http" && app["kind"] == "request";
        let response = app["protocol"] == "http" && app["kind"] == "response";
        let hello = app["protocol"] == "tls" && app["kind"] == "client_hello";
        let mut expected = vec![
            m["length"].to_string(),
            only(v4, &net["src"]),
            only(v4, &net["dst"]),
            only(v6, &net["src"]),
            only(v6, &net["dst"]),
            only(v4, &net["ttl"]),
            only(tcp, &tr["src_port"]),
            only(tcp, &tr["dst_port"]),
            tr["flags"]
                .as_array()
                .map(|f| tcp_flags(f))
                .unwrap_or_default(),
            only(tcp, &tr["seq"]),
            only(tcp, &tr["ack"]),
            only(tcp, &m["payload"]["length"]),
            only(tcp, &tr["window"]),
            only(udp, &tr["src_port"]),
            only(udp, &tr["dst_port"]),
            only(udp, &tr["length"]),
            only(icmp && tr["version"] == 4, &tr["kind"]),
            only(icmp && tr["version"] == 6, &tr["kind"]),
            String::new(), // time: compared below
            text(&m["interface"]),
            only(cooked, &link["packet_type"]),
            only(cooked, &link["interface_index"]),
            if cooked {
                format!("0x{:04x}", link["ethertype"].as_u64().unwrap())
            } else {
                String::new()
            },
            only(dns, &app["questions"][0]["name"]),
            only(dns, &first_a),
            only(request, &app["method"]),
            only(request, &app["uri"]),
            only(response, &app["status"]),
            only(hello, &app["server_name"]),
        ];
        let their_time = std::mem::take(&mut t[18]);
        let my_time = (m["time"].as_f64().unwrap() * 1e6).round() as i64;
        assert!(
            (micros(&their_time) - my_time).abs() <= 1,
            "packet {}: time {their_time} against {}",
            m["number"],
            m["time"]
        );
        // An ICMP error quotes the packet that failed; tshark reports the
        // quoted UDP header's fields as udp.*, sockit as the error's `quoted`.
        let quoted = &tr["quoted"];
        if quoted["protocol"] == 17 {
            expected[13] = text(&quoted["src_port"]);
            expected[14] = text(&quoted["dst_port"]);
            expected[15] = t[15].clone(); // the quoted length: not decoded
            seen.quoted_udp_errors += 1;
        }
        // tshark shows no interface name for pcap files; sockit has none either.
        assert_eq!(t, expected, "packet {}: {m}", m["number"]);
        let keep = |list: &mut Vec<String>, at: usize| {
            if !expected[at].is_empty() {
                list.push(expected[at].clone());
            }
        };
        keep(&mut seen.dns_names, 23);
        keep(&mut seen.dns_addresses, 24);
        keep(&mut seen.http_requests, 26);
        keep(&mut seen.http_statuses, 27);
        keep(&mut seen.tls_server_names, 28);
        keep(&mut seen.interfaces, 19);
    }
    seen
}
