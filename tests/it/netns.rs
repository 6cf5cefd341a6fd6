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

/// What keeps a test's link names and addresses apart from every other
/// test's, in this run and in runs beside it: the test process's id and a
/// counter, and the 10.X.Y prefix drawn from them.
struct Unique {
    /// "IDxN", for interface names (at most 15 bytes with their prefix).
    tag: String,
    x: u32,
    y: u32,
}

impl Unique {
    fn next() -> Unique {
        let id = std::process::id();
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        Unique {
            tag: format!("{id}x{n}"),
            x: 100 + (id + n) % 100,
            y: (id / 100 + n) % 250,
        }
    }

    /// "10.X.Y", the first three bytes of the test's IPv4 addresses.
    fn prefix(&self) -> String {
        format!("10.{}.{}", self.x, self.y)
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
        let unique = Unique::next();
        let prefix = unique.prefix();
        let (veth_a, veth_b) = (format!("va{}", unique.tag), format!("vb{}", unique.tag));
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

/// A path with two routers: client → r1 → r2 → server, each link its own
/// veth pair and /30 subnet (and IPv6 /64), forwarding on in the routers,
/// routes set both ways, ICMP rate limits lifted so every probe is answered.
pub struct Chain {
    pub client: Netns,
    pub r1: Netns,
    pub r2: Netns,
    pub server: Netns,
    /// IPv4 addresses: client, r1 towards the client, r1 towards r2, r2
    /// towards r1, r2 towards the server, the server.
    pub v4: [String; 6],
    pub v6: [String; 6],
    /// The client's interface towards r1.
    pub client_link: String,
}

impl Chain {
    pub fn new(tag: &str) -> Chain {
        let [client, r1, r2, server] =
            ["c", "ra", "rb", "s"].map(|end| Netns::new(&format!("{tag}{end}")));
        let unique = Unique::next();
        let (x, y) = (unique.x, unique.y);
        let v4 = [1, 2, 5, 6, 9, 10].map(|h| format!("10.{x}.{y}.{h}"));
        let v6 = [1, 2, 5, 6, 9, 10].map(|h| format!("fd{x:02x}:{y:x}::{h:x}"));
        let link = |i: u32| format!("k{}x{i}", unique.tag);
        let script = format!(
            "set -e
             ip link add {l0}a type veth peer name {l0}b
             ip link add {l1}a type veth peer name {l1}b
             ip link add {l2}a type veth peer name {l2}b
             ip link set {l0}a netns {c}; ip link set {l0}b netns {r1}
             ip link set {l1}a netns {r1}; ip link set {l1}b netns {r2}
             ip link set {l2}a netns {r2}; ip link set {l2}b netns {s}
             for ns in {r1} {r2} {s} {c}; do
               ip netns exec $ns sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
               ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
             done
             for ns in {r1} {r2}; do
               ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
             done
             ip -n {c} addr add {a0}/30 dev {l0}a; ip -n {c} addr add {b0}/126 dev {l0}a nodad
             ip -n {r1} addr add {a1}/30 dev {l0}b; ip -n {r1} addr add {b1}/126 dev {l0}b nodad
             ip -n {r1} addr add {a2}/30 dev {l1}a; ip -n {r1} addr add {b2}/126 dev {l1}a nodad
             ip -n {r2} addr add {a3}/30 dev {l1}b; ip -n {r2} addr add {b3}/126 dev {l1}b nodad
             ip -n {r2} addr add {a4}/30 dev {l2}a; ip -n {r2} addr add {b4}/126 dev {l2}a nodad
             ip -n {s} addr add {a5}/30 dev {l2}b; ip -n {s} addr add {b5}/126 dev {l2}b nodad
             ip -n {c} link set {l0}a up; ip -n {r1} link set {l0}b up; ip -n {r1} link set {l1}a up
             ip -n {r2} link set {l1}b up; ip -n {r2} link set {l2}a up; ip -n {s} link set {l2}b up
             ip -n {c} route add default via {a1}; ip -n {c} -6 route add default via {b1}
             ip -n {r1} route add {n4}.8/30 via {a3}; ip -n {r1} -6 route add {n6}::8/126 via {b3}
             ip -n {r2} route add {n4}.0/30 via {a2}; ip -n {r2} -6 route add {n6}::/126 via {b2}
             ip -n {s} route add default via {a4}; ip -n {s} -6 route add default via {b4}",
            c = client.name,
            r1 = r1.name,
            r2 = r2.name,
            s = server.name,
            l0 = link(0),
            l1 = link(1),
            l2 = link(2),
            a0 = v4[0],
            a1 = v4[1],
            a2 = v4[2],
            a3 = v4[3],
            a4 = v4[4],
            a5 = v4[5],
            b0 = v6[0],
            b1 = v6[1],
            b2 = v6[2],
            b3 = v6[3],
            b4 = v6[4],
            b5 = v6[5],
            n4 = format!("10.{x}.{y}"),
            n6 = format!("fd{x:02x}:{y:x}"),
        );
        client.setup(&script);
        let chain = Chain {
            client,
            r1,
            r2,
            server,
            v4,
            v6,
            client_link: format!("{}a", link(0)),
        };
        // Neighbour discovery done before any test probe (IPv6 first, as
        // its first packets wait for it).
        chain.client.setup(&format!(
            "ip netns exec {} sh -c 'ping -q -c 1 -W 5 {} >/dev/null && ping -q -c 1 -W 5 {} >/dev/null'",
            chain.client.name, chain.v6[5], chain.v4[5]
        ));
        chain
    }
}

/// A LAN: a scanner and `hosts` test hosts, each in its own namespace, all
/// on one bridge (in a namespace of its own), IPv4 PREFIX.0/24 and IPv6
/// PREFIX6::/64. The scanner is .1, the hosts .11, .12, ...; every other
/// address in the subnet is silent (nobody has it), as on a real LAN.
/// ICMP rate limits are left at the kernel's defaults.
pub struct Subnet {
    pub switch: Netns,
    pub scanner: Netns,
    pub hosts: Vec<Netns>,
    pub prefix: String,
    pub prefix6: String,
}

impl Subnet {
    pub fn new(tag: &str, hosts: usize) -> Subnet {
        let switch = Netns::new(&format!("{tag}w"));
        let scanner = Netns::new(&format!("{tag}s"));
        let hosts: Vec<Netns> = (0..hosts)
            .map(|i| Netns::new(&format!("{tag}h{i}")))
            .collect();
        let unique = Unique::next();
        let (x, y) = (unique.x, unique.y);
        let prefix = unique.prefix();
        let prefix6 = format!("fd{x:02x}:{y:x}:5ca7:1");
        let mut script = format!(
            "set -e
             ip -n {w} link add br0 type bridge
             ip -n {w} link set br0 up",
            w = switch.name
        );
        let members = std::iter::once((&scanner, 1)).chain(hosts.iter().zip(11..));
        for (i, (ns, host)) in members.enumerate() {
            let link = format!("l{}x{i}", unique.tag);
            script += &format!(
                "
                 ip link add {link}a type veth peer name {link}b
                 ip link set {link}a netns {ns}; ip link set {link}b netns {w}
                 ip -n {w} link set {link}b master br0; ip -n {w} link set {link}b up
                 ip netns exec {ns} sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
                 ip -n {ns} addr add {prefix}.{host}/24 dev {link}a
                 ip -n {ns} addr add {prefix6}::{host:x}/64 dev {link}a nodad
                 ip -n {ns} link set {link}a up",
                ns = ns.name,
                w = switch.name,
            );
        }
        switch.setup(&script);
        Subnet {
            switch,
            scanner,
            hosts,
            prefix,
            prefix6,
        }
    }

    /// Host `i`'s IPv4 address.
    pub fn address(&self, i: usize) -> String {
        format!("{}.{}", self.prefix, 11 + i)
    }

    pub fn address6(&self, i: usize) -> String {
        format!("{}::{:x}", self.prefix6, 11 + i)
    }
}

/// Hosts `a` (PREFIX.1) and `b` (PREFIX.2), each in its own namespace,
/// joined by a link that holds every packet for a fixed time each way: the
/// netem delay this kernel lacks. Each end is a tun device; a python3
/// relay (a child of the test, gone with it) reads a packet from one and
/// writes it to the other once the delay has passed, in order.
pub struct SlowLink {
    pub a: Netns,
    pub b: Netns,
    pub prefix: String,
    /// The tun devices in `a` and in `b`.
    pub tun_a: String,
    pub tun_b: String,
    relay: std::process::Child,
}

const SLOW_LINK_RELAY: &str = "import ctypes, fcntl, heapq, os, select, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
delay = float(sys.argv[1])
def tun(namespace, name):
    with open('/run/netns/' + namespace) as f:
        if libc.setns(f.fileno(), 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), 'setns ' + namespace)
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', name.encode(), 0x1001))
    return fd
a = tun(sys.argv[2], sys.argv[3])
b = tun(sys.argv[4], sys.argv[5])
other = {a: b, b: a}
held, n = [], 0
print('ready', flush=True)
while True:
    wait = max(0.0, held[0][0] - time.monotonic()) if held else None
    for fd in select.select([a, b, 0], [], [], wait)[0]:
        if fd == 0:
            if not os.read(0, 1):
                sys.exit(0)
            continue
        n += 1
        heapq.heappush(held, (time.monotonic() + delay, n, other[fd], os.read(fd, 65536)))
    while held and held[0][0] <= time.monotonic():
        _, _, to, packet = heapq.heappop(held)
        os.write(to, packet)";

impl SlowLink {
    pub fn new(tag: &str, delay: std::time::Duration) -> SlowLink {
        crate::helpers::require("python3", "python3");
        let a = Netns::new(&format!("{tag}a"));
        let b = Netns::new(&format!("{tag}b"));
        let unique = Unique::next();
        let prefix = unique.prefix();
        let (tun_a, tun_b) = (format!("ta{}", unique.tag), format!("tb{}", unique.tag));
        let mut relay = Command::new("python3")
            .args(["-c", SLOW_LINK_RELAY])
            .arg(delay.as_secs_f64().to_string())
            .args([&a.name, &tun_a, &b.name, &tun_b])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let ready = crate::helpers::first_line(&mut relay);
        assert_eq!(ready, "ready\n", "the relay did not start");
        a.setup(&format!(
            "set -e
             ip -n {a} addr add {p}.1 peer {p}.2 dev {tun_a}; ip -n {a} link set {tun_a} up
             ip -n {b} addr add {p}.2 peer {p}.1 dev {tun_b}; ip -n {b} link set {tun_b} up",
            a = a.name,
            b = b.name,
            p = prefix
        ));
        SlowLink {
            a,
            b,
            prefix,
            tun_a,
            tun_b,
            relay,
        }
    }

    pub fn address_of_b(&self) -> String {
        format!("{}.2", self.prefix)
    }
}

impl Drop for SlowLink {
    fn drop(&mut self) {
        // Closing its input ends the relay, and with it the tun devices.
        drop(self.relay.stdin.take());
        let _ = self.relay.wait();
    }
}
