//! Network namespaces the tests create, so that pings, scans and broadcasts
//! reach only hosts the test made: never the machine's own interfaces or
//! services. Each is deleted when its value is dropped.

#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static CREATED: AtomicU32 = AtomicU32::new(0);

/// One namespace with its loopback up.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        let ns = Netns {
            name: format!("sockit-{tag}-{}-{n}", std::process::id()),
        };
        ns.setup(&format!(
            "ip netns add {0} && ip -n {0} link set lo up",
            ns.name
        ));
        ns
    }

    /// Runs a shell script on the host side (ip -n NAME ...), failing the
    /// test when it fails.
    pub fn setup(&self, script: &str) {
        let status = Command::new("sh").arg("-c").arg(script).status().unwrap();
        assert!(
            status.success(),
            "setting up namespace {} failed (tests run as root): {script}",
            self.name
        );
    }

    /// Runs a shell script inside the namespace.
    pub fn sh(&self, script: &str) {
        self.setup(&format!("ip netns exec {} sh -c '{script}'", self.name));
    }

    /// `argv` run inside the namespace.
    pub fn exec(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).args(argv);
        cmd
    }

    /// sockit run inside the namespace.
    pub fn sockit(&self, args: &[&str]) -> Command {
        let mut cmd = self.exec(&[env!("CARGO_BIN_EXE_sockit")]);
        cmd.args(args);
        cmd
    }

    /// sockit run inside the namespace without CAP_NET_RAW, as a user who
    /// may not open raw sockets (root keeps its other powers).
    pub fn sockit_without_raw_sockets(&self, args: &[&str]) -> Command {
        crate::helpers::require("setpriv", "util-linux");
        let mut cmd = self.exec(&[
            "setpriv",
            "--bounding-set=-net_raw",
            "--inh-caps=-net_raw",
            env!("CARGO_BIN_EXE_sockit"),
        ]);
        cmd.args(args);
        cmd
    }

    /// Lets every group open unprivileged ICMP sockets in this namespace
    /// (the setting is per network namespace; the host's is left alone).
    pub fn open_ping_group_range(&self) {
        self.sh("sysctl -qw net.ipv4.ping_group_range=\"0 2147483647\"");
    }

    /// Drops packets entering the namespace that match an nftables
    /// expression, with `percent` probability (this kernel has no netem).
    pub fn drop_incoming(&self, matching: &str, percent: u32) {
        crate::helpers::require("nft", "nftables");
        let chance = if percent >= 100 {
            String::new()
        } else {
            format!("numgen random mod 100 lt {percent} ")
        };
        self.sh(&format!(
            "nft add table inet loss && \
             nft add chain inet loss in \"{{ type filter hook input priority 0; }}\" && \
             nft add rule inet loss in {matching} {chance}drop"
        ));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Hosts `a` and `b`, each in its own namespace, joined by a veth pair:
/// a is PREFIX.1/24, b is PREFIX.2/24.
pub struct TwoHosts {
    pub a: Netns,
    pub b: Netns,
    pub prefix: String,
    /// a's end of the veth pair.
    pub veth_a: String,
}

impl TwoHosts {
    pub fn new(tag: &str) -> TwoHosts {
        let a = Netns::new(&format!("{tag}a"));
        let b = Netns::new(&format!("{tag}b"));
        let id = std::process::id();
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        // Unique per test run and per pair within it.
        let prefix = format!("10.{}.{}", 100 + (id + n) % 100, (id / 100 + n) % 250);
        let (veth_a, veth_b) = (format!("va{id}x{n}"), format!("vb{id}x{n}"));
        a.setup(&format!(
            "set -e
             ip link add {veth_a} type veth peer name {veth_b}
             ip link set {veth_a} netns {a}; ip link set {veth_b} netns {b}
             ip -n {a} addr add {p}.1/24 broadcast {p}.255 dev {veth_a}
             ip -n {b} addr add {p}.2/24 broadcast {p}.255 dev {veth_b}
             ip -n {a} link set {veth_a} up; ip -n {b} link set {veth_b} up",
            a = a.name,
            b = b.name,
            p = prefix
        ));
        TwoHosts {
            a,
            b,
            prefix,
            veth_a,
        }
    }

    pub fn address_of_b(&self) -> String {
        format!("{}.2", self.prefix)
    }
}
