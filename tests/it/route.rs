//! `sockit route` against `ip -j route get` (and `ip route get fibmatch`)
//! in the client namespace of a chain: directly connected and via a
//! gateway, IPv4 and IPv6, with and without a route MTU.

use serde_json::Value;

use crate::helpers::*;
use crate::netns::Chain;

fn json(command: &mut std::process::Command) -> Value {
    let (status, out, err) = run(command, 30);
    assert!(status.success(), "{err}");
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn routes_agree_with_ip_route_get() {
    let chain = Chain::new("route");
    let ns = &chain.client;
    // A route with an MTU of its own, to the server's IPv4 network.
    ns.setup(&format!(
        "ip -n {} route add {}/32 via {} mtu 1400",
        ns.name, chain.v4[5], chain.v4[1]
    ));
    for destination in [
        &chain.v4[1],
        &chain.v4[5],
        &chain.v4[3],
        &chain.v6[1],
        &chain.v6[5],
    ] {
        let mine = json(&mut ns.sockit(&["route", "--json", destination]));
        let theirs = json(&mut ns.exec(&["ip", "-j", "route", "get", destination]))[0].clone();
        let matched =
            json(&mut ns.exec(&["ip", "-j", "route", "get", "fibmatch", destination]))[0].clone();
        assert_eq!(mine["destination"], theirs["dst"], "{mine} {theirs}");
        assert_eq!(mine["interface"], theirs["dev"], "{mine} {theirs}");
        assert_eq!(mine["interface"], chain.client_link.as_str());
        assert_eq!(mine["source"], theirs["prefsrc"], "{mine} {theirs}");
        assert_eq!(mine["gateway"], theirs["gateway"], "{mine} {theirs}");
        let expected_mtu = theirs["metrics"]
            .as_array()
            .and_then(|m| m.iter().find_map(|m| m.get("mtu").cloned()))
            .unwrap_or(Value::Null);
        assert_eq!(mine["mtu"], expected_mtu, "{mine} {theirs}");
        if destination == &chain.v4[5] {
            assert_eq!(mine["mtu"], 1400, "the route's own MTU");
        }
        let prefix = match matched["dst"].as_str().unwrap() {
            "default" => "default".to_string(),
            dst if dst.contains('/') => dst.to_string(),
            host => format!("{host}/{}", if host.contains(':') { 128 } else { 32 }),
        };
        assert_eq!(mine["prefix"], prefix.as_str(), "{mine} {matched}");
    }
    // The text form says it in words.
    let (_, out, _) = run(&mut ns.sockit(&["route", &chain.v4[3], &chain.v4[1]]), 30);
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "{}: via {} on {}, from {}, table entry default",
            chain.v4[3], chain.v4[1], chain.client_link, chain.v4[0]
        )
    );
    assert!(lines[1].contains("directly connected on"), "{out}");
    assert!(
        lines[1].ends_with(&format!("table entry {}/30", {
            let mut network = chain.v4[0].clone();
            network.truncate(network.rfind('.').unwrap());
            format!("{network}.0")
        })),
        "{out}"
    );
}

#[test]
fn route_errors_are_one_line() {
    let chain_less = crate::netns::Netns::new("noroute");
    // No route at all in a fresh namespace (only lo, up).
    let (status, _, err) = run(&mut chain_less.sockit(&["route", "192.0.2.1"]), 30);
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no route to 192.0.2.1"), "{err}");
    let (status, _, err) = run(sockit().args(["route", "no-such-host.invalid"]), 30);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("unknown host"), "{err}");
    let (status, _, _) = run(sockit().args(["route"]), 30);
    assert_eq!(status.code(), Some(2));
}
