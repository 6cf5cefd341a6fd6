//! hostname, resolve, reverse, service, ifaces, ip: compared with the
//! course's own reference, Python's `socket` and `ipaddress` modules, and
//! with `ip -j addr`. Names are added through a hosts file bind-mounted over
//! /etc/hosts in a private mount namespace, and interfaces are created in a
//! network namespace, so the machine's own files and interfaces are not touched.

use std::collections::HashSet;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::helpers::*;
use crate::netns::Netns;

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn python(script: &str) -> Value {
    require("python3", "python3");
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `script` (sh) after bind-mounting a hosts file with `hosts` over
/// /etc/hosts in a private mount namespace.
fn with_hosts(hosts: &str, script: &str) -> (std::process::ExitStatus, Vec<u8>, String) {
    require("unshare", "util-linux");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts");
    std::fs::write(&file, hosts).unwrap();
    let full = format!("mount --bind {} /etc/hosts && {script}", file.display());
    run(
        Command::new("unshare")
            .args(["--mount", "sh", "-c", &full])
            .env("SOCKIT", env!("CARGO_BIN_EXE_sockit"))
            .stdin(Stdio::null()),
        60,
    )
}

/// Every entry of /etc/services, by name and alias and by port, for both
/// protocols, agrees with socket.getservbyname and socket.getservbyport.
#[test]
fn services_agree_with_python_in_both_directions() {
    let oracle = python(
        r#"
import json, socket
queries = []
for line in open('/etc/services'):
    fields = line.split('#')[0].split()
    if len(fields) < 2 or '/' not in fields[1]:
        continue
    port, proto = fields[1].split('/')
    for name in [fields[0]] + fields[2:]:
        queries.append((name, proto, socket.getservbyname(name, proto)))
    queries.append((port, proto, socket.getservbyport(int(port), proto)))
print(json.dumps(queries))
"#,
    );
    let queries = oracle.as_array().unwrap();
    assert!(queries.len() > 100, "a real services file");
    for proto in ["tcp", "udp"] {
        let mine: Vec<&Value> = queries.iter().filter(|q| q[1] == proto).collect();
        let args: Vec<String> = mine
            .iter()
            .map(|q| q[0].as_str().unwrap().to_string())
            .collect();
        let (status, out, err) = run(
            sockit()
                .args(["service", "--json", "--proto", proto])
                .args(&args),
            60,
        );
        assert!(status.success(), "{err}");
        let answers = json_lines(&out);
        assert_eq!(answers.len(), mine.len());
        for (query, answer) in mine.iter().zip(&answers) {
            assert_eq!(answer["protocol"], proto);
            if let Some(port) = query[2].as_u64() {
                // By name: Python gave the port.
                assert_eq!(answer["port"].as_u64(), Some(port), "{query}");
            } else {
                // By port: Python gave the service name.
                assert_eq!(answer["name"], query[2], "{query}");
            }
        }
    }
}

#[test]
fn services_fall_back_to_the_built_in_list() {
    require("unshare", "util-linux");
    // A private mount namespace with an empty /etc: no /etc/services at all.
    let script = format!(
        "mount -t tmpfs none /etc && exec {} service -v --json http 53 --proto udp",
        env!("CARGO_BIN_EXE_sockit")
    );
    let (status, out, err) = run(
        Command::new("unshare").args(["--mount", "sh", "-c", &script]),
        30,
    );
    assert!(status.success(), "{err}");
    assert!(
        err.contains("/etc/services is missing: using sockit's built-in list"),
        "{err}"
    );
    let answers = json_lines(&out);
    assert_eq!(answers[1]["name"], "domain");
    let (_, _, err) = run(sockit().args(["service", "-v", "ssh"]), 30);
    assert!(err.starts_with("services from /etc/services"), "{err}");
}

const HOSTS: &str = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n\
    10.20.30.40 alpha.sockit.test alpha a1\n10.20.30.41 beta.sockit.test\n\
    fd00::40 alpha.sockit.test alpha a1\n10.20.30.50 dual.sockit.test\nfd00::50 dual.sockit.test\n";

/// Runs `script` with [`HOSTS`] in place; it prints sockit's JSON lines,
/// then Python's for the same queries. Returns sockit's, after checking that
/// the two halves are identical.
fn first_half_matches_second(script: &str) -> Vec<Value> {
    let (status, out, err) = with_hosts(HOSTS, script);
    assert!(status.success(), "{err}");
    let mut mine = json_lines(&out);
    let python = mine.split_off(mine.len() / 2);
    assert_eq!(mine, python);
    mine
}

#[test]
fn resolve_agrees_with_getaddrinfo() {
    let script = r#"
for flag in "" -4 -6; do "$SOCKIT" resolve --json $flag alpha.sockit.test a1 dual.sockit.test localhost; done
python3 -c '
import json, socket
for fam in (0, socket.AF_INET, socket.AF_INET6):
    for name in ("alpha.sockit.test", "a1", "dual.sockit.test", "localhost"):
        infos = socket.getaddrinfo(name, None, fam, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
        addrs = []
        for info in infos:
            if info[4][0] not in addrs:
                addrs.append(info[4][0])
        print(json.dumps({"query": name, "canonical": infos[0][3], "addresses": addrs}))
'"#;
    let mine = first_half_matches_second(script);
    assert_eq!(mine.len(), 12);
    let alpha: HashSet<&str> = mine[0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(alpha, HashSet::from(["10.20.30.40", "fd00::40"]));
    assert!(
        mine.iter()
            .any(|l| l["query"] == "a1" && l["canonical"] == "alpha.sockit.test")
    );
}

#[test]
fn reverse_agrees_with_gethostbyaddr() {
    let script = r#"
"$SOCKIT" reverse --json 10.20.30.40 10.20.30.41 fd00::40 127.0.0.1
python3 -c '
import json, socket
for a in ("10.20.30.40", "10.20.30.41", "fd00::40", "127.0.0.1"):
    name, aliases, addrs = socket.gethostbyaddr(a)
    print(json.dumps({"query": a, "hostname": name, "aliases": aliases, "addresses": addrs}))
'"#;
    let mine = first_half_matches_second(script);
    assert_eq!(mine.len(), 4);
    assert_eq!(mine[0]["aliases"], serde_json::json!(["alpha", "a1"]));
}

/// Unknown names, addresses without a name and malformed input: one line
/// each on stderr, exit 1, and every other query still answered.
#[test]
fn failed_queries_do_not_stop_the_others() {
    let (status, out, err) = run(
        sockit().args([
            "resolve",
            "--json",
            "localhost",
            "no-such-host.invalid",
            "127.0.0.1",
        ]),
        60,
    );
    assert_eq!(status.code(), Some(1));
    assert_eq!(json_lines(&out).len(), 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown host \"no-such-host.invalid\""),
        "{err}"
    );

    for (args, needle) in [
        (
            vec!["reverse", "192.0.2.222", "127.0.0.1"],
            "no name is registered for 192.0.2.222",
        ),
        (
            vec!["reverse", "not-an-address", "127.0.0.1"],
            "is not an IP address",
        ),
        (
            vec!["service", "no-such-service", "http"],
            "no service \"no-such-service\"",
        ),
        (
            vec!["ip", "300.1.2.3", "10.0.0.0/8"],
            "is not an IP address",
        ),
        (
            vec!["ip", "10.0.0.0/33", "10.0.0.0/8"],
            "invalid prefix length",
        ),
    ] {
        let (status, out, err) = run(sockit().args(&args), 60);
        assert_eq!(status.code(), Some(1), "{args:?}");
        assert!(!out.is_empty(), "{args:?}: the good query must be answered");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let (status, _, _) = run(sockit().args(["service", "--proto", "sctp", "http"]), 10);
    assert_eq!(status.code(), Some(2), "a bad flag value is a usage error");
}

#[test]
fn hostname_agrees_with_python() {
    let oracle = python(
        "import json, socket; h = socket.gethostname(); \
         c = socket.getaddrinfo(h, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)[0][3] or h; \
         print(json.dumps([h, c]))",
    );
    let (_, out, _) = run(sockit().args(["hostname", "--json"]), 10);
    assert_eq!(json_lines(&out)[0]["hostname"], oracle[0]);
    let (_, out, _) = run(sockit().args(["hostname", "--fqdn", "--json"]), 10);
    assert_eq!(json_lines(&out)[0]["hostname"], oracle[1]);
}

/// A table of IPv4 and IPv6 cases, edges included, against ipaddress.
#[test]
fn ip_analysis_agrees_with_ipaddress() {
    let cases = [
        "192.168.1.10/24",
        "10.0.0.0/8",
        "172.16.5.4/12",
        "10.0.0.1/30",
        "10.0.0.1/31",
        "10.0.0.1/32",
        "0.0.0.0/0",
        "0.0.0.0",
        "255.255.255.255",
        "127.0.0.1",
        "169.254.3.4/16",
        "224.0.0.251",
        "100.64.0.1/10",
        "8.8.8.8",
        "192.0.2.200/25",
        "::",
        "::1",
        "fe80::1/64",
        "ff02::1",
        "fd12:3456::1/48",
        "2001:db8::1/64",
        "2001:db8::1/126",
        "2001:db8::1/127",
        "2001:db8::1/128",
        "::/0",
        "2606:4700::1111",
        "::ffff:192.168.1.1",
    ];
    let (status, out, err) = run(sockit().args(["ip", "--json"]).args(cases), 30);
    assert!(status.success(), "{err}");
    let mine = json_lines(&out);
    let oracle = python(&format!(
        r#"
import ipaddress, json
rows = []
for case in {cases:?}:
    net = ipaddress.ip_network(case, strict=False)
    addr = ipaddress.ip_address(case.split('/')[0])
    hosts = net.hosts()
    first = next(iter(hosts), None)
    if net.prefixlen >= net.max_prefixlen - 1:
        last = net[-1]
        count = net.num_addresses
    elif net.version == 4:
        last = net.broadcast_address - 1
        count = net.num_addresses - 2
    else:
        last = net[-1]
        count = net.num_addresses - 1
    rows.append({{
        "network": str(net.network_address), "netmask": str(net.netmask),
        "prefix_len": net.prefixlen, "first_host": str(first or net[0]), "last_host": str(last),
        "host_count": count, "integer": int(addr), "bytes_hex": addr.packed.hex(),
        "broadcast": str(net.broadcast_address) if net.version == 4 and net.prefixlen <= 30 else None,
        "loopback": addr.is_loopback, "multicast": addr.is_multicast,
        "link-local": addr.is_link_local, "unspecified": addr.is_unspecified,
        "small": net.num_addresses <= 4096,
        "all_hosts": [str(h) for h in net.hosts()] if net.num_addresses <= 4096 else None,
    }})
print(json.dumps(rows))
"#
    ));
    for ((case, mine), want) in cases.iter().zip(&mine).zip(oracle.as_array().unwrap()) {
        for key in ["prefix_len", "host_count", "integer", "bytes_hex"] {
            assert_eq!(mine[key], want[key], "{case}: {key}");
        }
        // Addresses compare as addresses: Python writes ::ffff:c0a8:101
        // where sockit follows RFC 5952's ::ffff:192.168.1.1.
        let ip = |v: &Value| v.as_str().map(|s| s.parse::<std::net::IpAddr>().unwrap());
        for key in ["network", "netmask", "first_host", "last_host", "broadcast"] {
            assert_eq!(ip(&mine[key]), ip(&want[key]), "{case}: {key}");
        }
        let flags: HashSet<&str> = mine["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for kind in ["loopback", "multicast", "link-local", "unspecified"] {
            assert_eq!(
                flags.contains(kind),
                want[kind].as_bool().unwrap(),
                "{case}: {kind}"
            );
        }
        if let Some(all) = want["all_hosts"].as_array().filter(|a| !a.is_empty()) {
            // Python's hosts() for a single address or a /31 /127 lists them all.
            assert_eq!(
                mine["host_count"].as_u64().unwrap() as usize,
                all.len(),
                "{case}"
            );
        }
    }
}

/// Interfaces and addresses the test creates in its own network namespace,
/// compared with `ip -j addr` there.
#[test]
fn ifaces_agrees_with_ip_addr() {
    require("ip", "iproute2");
    let ns = Netns::new("if");
    ns.setup(&format!(
        "set -e
         ip -n {ns} link add tst0 type veth peer name tst1
         ip -n {ns} link set tst0 up mtu 1400
         ip -n {ns} addr add 10.9.8.7/22 brd + dev tst0
         ip -n {ns} addr add fd00:9::7/64 dev tst0 nodad
         ip -n {ns} link set tst1 address 02:00:00:00:00:99",
        ns = ns.name
    ));
    let (status, out, err) = run(&mut ns.sockit(&["ifaces", "--json"]), 30);
    let ip_json = Command::new("ip")
        .args(["-n", &ns.name, "-j", "addr"])
        .output()
        .unwrap();
    assert!(status.success(), "{err}");
    let mine = json_lines(&out);
    let theirs: Vec<Value> = serde_json::from_slice(&ip_json.stdout).unwrap();
    assert_eq!(mine.len(), theirs.len());
    for (m, t) in mine.iter().zip(&theirs) {
        assert_eq!(m["name"], t["ifname"]);
        assert_eq!(m["index"], t["ifindex"]);
        assert_eq!(m["mtu"], t["mtu"]);
        let up = t["flags"].as_array().unwrap().iter().any(|f| f == "UP");
        assert_eq!(m["up"], up, "{}", t["ifname"]);
        assert_eq!(m["mac"], t["address"], "{}", t["ifname"]);
        let want: Vec<(Value, Value)> = t["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["local"].clone(), a["prefixlen"].clone()))
            .collect();
        let got: Vec<(Value, Value)> = m["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["address"].clone(), a["prefix_len"].clone()))
            .collect();
        assert_eq!(
            got.iter().collect::<HashSet<_>>(),
            want.iter().collect::<HashSet<_>>(),
            "{}",
            t["ifname"]
        );
    }
    let tst0 = mine.iter().find(|m| m["name"] == "tst0").unwrap();
    assert_eq!(tst0["addresses"][0]["broadcast"], "10.9.11.255");
}
