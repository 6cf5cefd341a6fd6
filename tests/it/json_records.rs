//! The README's table of JSON records is the contract: for every row, the
//! library type it names is the one printed, and the keys sockit prints are
//! exactly the keys listed (those marked `?` may be absent, the others must
//! be there). Lookups and sniff are checked on the real binary's output;
//! ping's and scan's records are built from the library's types, since a
//! run cannot easily show every probe state.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;
use sockit::output::ping::{ProbeRecord, ProbeState, RecordType, SummaryRecord};

use crate::helpers::*;

/// One row of the README's table.
#[derive(Debug)]
struct Documented {
    type_name: String,
    required: BTreeSet<String>,
    optional: BTreeSet<String>,
}

fn documented() -> BTreeMap<String, Documented> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- json-records -->")
        .expect("the table's start marker");
    let end = readme
        .find("<!-- /json-records -->")
        .expect("the table's end marker");
    let mut rows = BTreeMap::new();
    for line in readme[start..end].lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells[0] == "record" {
            continue;
        }
        let mut row = Documented {
            type_name: cells[1].trim_matches('`').to_string(),
            required: BTreeSet::new(),
            optional: BTreeSet::new(),
        };
        for key in cells[2].split(", ") {
            let optional = key.ends_with('?');
            let key = key.trim_end_matches('?').trim_matches('`').to_string();
            if optional {
                row.optional.insert(key);
            } else {
                row.required.insert(key);
            }
        }
        rows.insert(cells[0].to_string(), row);
    }
    rows
}

/// The keys of each of `objects` fit `row`, and together they show every
/// listed key (so the table lists nothing that is never printed).
pub fn check(label: &str, type_name: &str, objects: &[Value]) {
    let rows = documented();
    let row = rows
        .get(label)
        .unwrap_or_else(|| panic!("no README row for {label}"));
    // The README names the public path; the type's own path may pass
    // through a private module, so the crate's top module and the type's
    // name are compared.
    let (named_module, named_type) = (
        row.type_name.split("::").next().unwrap(),
        row.type_name.rsplit("::").next().unwrap(),
    );
    let actual = type_name.split('<').next().unwrap();
    assert!(
        actual.starts_with(&format!("sockit::{named_module}::"))
            && actual.ends_with(&format!("::{named_type}")),
        "{label}: the README names {}, sockit prints {actual}",
        row.type_name
    );
    let mut seen = BTreeSet::new();
    for object in objects {
        let keys: BTreeSet<String> = object
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        let missing: Vec<_> = row.required.difference(&keys).collect();
        assert!(
            missing.is_empty(),
            "{label}: {missing:?} missing from {object}"
        );
        let unlisted: Vec<_> = keys
            .iter()
            .filter(|k| !row.required.contains(*k) && !row.optional.contains(*k))
            .collect();
        assert!(
            unlisted.is_empty(),
            "{label}: {unlisted:?} not in the README: {object}"
        );
        seen.extend(keys);
    }
    let never: Vec<_> = row.optional.difference(&seen).collect();
    assert!(
        never.is_empty(),
        "{label}: the README lists {never:?}, never printed"
    );
}

fn json_lines(args: &[&str]) -> Vec<Value> {
    let (status, out, err) = run(sockit().args(args), 30);
    assert!(status.success(), "{args:?}: {err}");
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn type_name<T>() -> &'static str {
    std::any::type_name::<T>()
}

#[test]
fn lookup_records_match_the_readme() {
    use sockit::addr::{
        HostName, Interface, InterfaceAddress, IpReport, Resolution, ReverseEntry, Service,
    };
    let hostname = json_lines(&["hostname", "--json"]);
    check("hostname", type_name::<HostName>(), &hostname);
    let resolved = json_lines(&["resolve", "--json", "localhost"]);
    check("resolve", type_name::<Resolution>(), &resolved);
    let reversed = json_lines(&["reverse", "--json", "127.0.0.1"]);
    check("reverse", type_name::<ReverseEntry>(), &reversed);
    let service = json_lines(&["service", "--json", "http"]);
    check("service", type_name::<Service>(), &service);
    let ifaces = json_lines(&["ifaces", "--json"]);
    check("ifaces", type_name::<Interface>(), &ifaces);
    let addresses: Vec<Value> = ifaces
        .iter()
        .flat_map(|i| i["addresses"].as_array().unwrap().clone())
        .collect();
    check(
        "ifaces address",
        type_name::<InterfaceAddress>(),
        &addresses,
    );
    let ips = json_lines(&["ip", "--json", "192.168.1.10/24", "2001:db8::1/64"]);
    check("ip", type_name::<IpReport>(), &ips);
}

#[test]
fn ping_records_match_the_readme() {
    let from = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let states = [
        (
            ProbeState::Reply {
                from,
                bytes: 64,
                ttl: Some(64),
                time_ms: Some(0.045),
                corrupted: false,
            },
            Some(false),
        ),
        (ProbeState::Refused { from }, Some(false)),
        (
            ProbeState::Error {
                from,
                description: "Destination Host Unreachable".into(),
            },
            Some(false),
        ),
        (ProbeState::NoAnswer, Some(false)),
        (
            ProbeState::SendFailed {
                error: "no route".into(),
            },
            None,
        ),
        (ProbeState::Lost, None),
    ];
    let probes: Vec<Value> = states
        .into_iter()
        .map(|(state, duplicate)| {
            let record = ProbeRecord {
                record: RecordType::Probe,
                seq: 1,
                state,
                duplicate,
            };
            let text = serde_json::to_string(&record).unwrap();
            let back: ProbeRecord = serde_json::from_str(&text).unwrap();
            assert_eq!(back, record, "the record reads back as written");
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    check("ping probe", type_name::<ProbeRecord>(), &probes);

    let summaries: Vec<Value> = [None, Some(443)]
        .into_iter()
        .map(|port| {
            let record = SummaryRecord {
                record: RecordType::Summary,
                target: from,
                port,
                transmitted: 3,
                received: 3,
                duplicates: 0,
                errors: 0,
                refused: 0,
                corrupted: 0,
                pipe: 1,
                loss_percent: 0.0,
                rtt_min_ms: Some(0.04),
                rtt_avg_ms: Some(0.05),
                rtt_max_ms: Some(0.06),
                rtt_mdev_ms: None,
                time_ms: 2002,
            };
            serde_json::to_value(&record).unwrap()
        })
        .collect();
    check("ping summary", type_name::<SummaryRecord>(), &summaries);
}

#[test]
fn scan_records_match_the_readme() {
    use sockit::output::scan::Finding;
    use sockit::tools::scan::{PortState, Protocol};
    let record = Finding {
        host: "10.0.0.7".parse().unwrap(),
        port: 22,
        protocol: Protocol::Tcp,
        state: PortState::Open,
        service: Some("ssh".into()),
        banner: Some("SSH-2.0-OpenSSH_9.2p1".into()),
    };
    check(
        "scan",
        type_name::<Finding>(),
        &[serde_json::to_value(&record).unwrap()],
    );
}

/// A capture of one UDP datagram, read back with and without `-x`.
#[test]
fn sniff_records_match_the_readme() {
    use sockit::output::sniff::{PacketRecord, PayloadRecord};
    use sockit::wire::packet::LinkType;
    use sockit::wire::pcap::{CaptureWriter, Format, Interface, RecordHeader};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("udp.pcap");
    let mut frame = vec![0u8; 12];
    frame.extend([0x08, 0x00]); // Ethernet, IPv4
    frame.extend([
        0x45, 0, 0, 30, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    frame.extend([0x30, 0x39, 0x00, 0x35, 0, 10, 0, 0]); // UDP 12345 -> 53
    frame.extend(b"hi");
    let mut writer = CaptureWriter::new(
        std::fs::File::create(&file).unwrap(),
        Format::Pcap,
        LinkType::Ethernet,
    )
    .unwrap();
    writer
        .write(
            &RecordHeader::now(frame.len() as u32, frame.len() as u32),
            &Interface::new(LinkType::Ethernet, None),
            &frame,
        )
        .unwrap();
    writer.flush().unwrap();
    drop(writer);
    let path = file.to_str().unwrap();
    let mut packets = json_lines(&["sniff", "-r", path, "--json"]);
    packets.extend(json_lines(&["sniff", "-r", path, "--json", "-x"]));
    // Keys that only a live capture (interface) or a TCP packet (tcp_steps)
    // shows, added from a record built by hand.
    let live_tcp = serde_json::json!({"interface": "lo", "tcp_steps": []});
    let mut extra = packets[0].clone();
    extra
        .as_object_mut()
        .unwrap()
        .extend(live_tcp.as_object().unwrap().clone());
    packets.push(extra);
    check("sniff", type_name::<PacketRecord<'static>>(), &packets);
    let payloads: Vec<Value> = packets.iter().map(|p| p["payload"].clone()).collect();
    check("sniff payload", type_name::<PayloadRecord>(), &payloads);
}

#[test]
fn every_row_of_the_table_is_checked() {
    let checked = [
        "hostname",
        "resolve",
        "reverse",
        "service",
        "ifaces",
        "ifaces address",
        "ip",
        "ping probe",
        "ping summary",
        "scan",
        "sniff",
        "sniff payload",
        // in tls.rs, which has the test CA:
        "tls",
        "tls certificate",
    ];
    let rows: Vec<String> = documented().into_keys().collect();
    let mut checked: Vec<String> = checked.iter().map(|s| s.to_string()).collect();
    checked.sort();
    assert_eq!(
        rows, checked,
        "a README row without a check, or a check without a row"
    );
}
