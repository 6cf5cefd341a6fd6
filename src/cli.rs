//! The command line: what the user typed, checked for shape only.
//! Everything that needs I/O (resolving names, binding) happens in
//! `commands` through the library, so `--help` and parse errors are instant.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueHint};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

use sockit::addr::Family;
use sockit::output::color::ColorChoice;
use sockit::sys::path_mtu::PathMtuDiscovery;
use sockit::wire::filter::Protocol;

/// The version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SOCKIT_COMMIT"),
    ")"
);

/// A socket toolkit: TCP, UDP, TLS and Unix-socket tools in netcat's habits,
/// lookups, ping, scan, trace and sniff, that show what happens on the wire.
#[derive(Debug, Parser)]
#[command(name = "sockit", version = VERSION, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        value_parser = PossibleValuesParser::new(["auto", "always", "never"]).try_map(|c| c.parse::<ColorChoice>())
    )]
    pub color: ColorChoice,
}

/// Each subcommand's arguments are built only when it is the one invoked
/// (`defer`): a lookup is a whole process, and building every subcommand's
/// arguments was most of the time sockit spent before doing its job.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Wait for clients over TCP, UDP (-u) or a Unix socket (-U), plain or
    /// TLS (socket, bind, listen, accept), and relay stdin/stdout with them,
    /// echo, chat, or serve a program.
    #[command(after_long_help = examples(&[
        ("sockit listen 9000 > received", "receive one TCP transfer into a file"),
        ("sockit listen -k --echo 0.0.0.0 7", "an echo server for every client"),
        ("sockit listen -k --tls --exec 'date' 8443", "serve a program over TLS"),
    ]))]
    Listen(ListenArgs),
    /// Connect to a server over TCP, UDP (-u) or a Unix socket (-U), plain,
    /// TLS or through proxies, and relay stdin/stdout with it.
    #[command(after_long_help = examples(&[
        ("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | sockit connect example.org 80", "an HTTP request"),
        ("sockit connect -u 127.0.0.1 53 < query", "one UDP exchange"),
        ("sockit connect --tls --proxy socks5h://127.0.0.1:1080 example.org 443", "TLS through a SOCKS5 proxy"),
    ]))]
    Connect(ConnectArgs),
    /// Be a SOCKS5 and HTTP CONNECT proxy on one port (clients told apart
    /// by their first byte), serving clients until SIGINT or SIGTERM.
    #[command(after_long_help = examples(&[
        ("sockit proxy -v 1080", "then curl --socks5-hostname 127.0.0.1:1080 URL or curl -x http://127.0.0.1:1080 URL"),
        ("sockit proxy --auth me:secret --allow 10.0.0.0/8 0.0.0.0 1080", "with a password, for one network"),
    ]))]
    Proxy(ProxyArgs),
    /// Print this host's name, as gethostname() returns it.
    #[command(after_long_help = examples(&[
        ("sockit hostname", "as socket.gethostname()"),
        ("sockit hostname --json", "as a JSON object"),
    ]))]
    Hostname(HostnameArgs),
    /// Resolve names to addresses through the system resolver (getaddrinfo:
    /// /etc/hosts and DNS, as every program on this machine sees them).
    #[command(after_long_help = examples(&[
        ("sockit resolve example.org", "every address, as getent ahosts"),
        ("sockit resolve -4 localhost example.org", "IPv4 only, several names"),
    ]))]
    Resolve(ResolveArgs),
    /// Find the name registered for addresses (gethostbyaddr).
    #[command(after_long_help = examples(&[
        ("sockit reverse 127.0.0.1", "as socket.gethostbyaddr()"),
        ("sockit reverse --json ::1 8.8.8.8", "several, as JSON"),
    ]))]
    Reverse(ReverseArgs),
    /// Look services up by name or port in the services database, as
    /// getservbyname() and getservbyport() do.
    #[command(after_long_help = examples(&[
        ("sockit service ssh https", "ports by name"),
        ("sockit service --proto udp 53 123", "names by port"),
    ]))]
    Service(ServiceArgs),
    /// List this host's network interfaces and their addresses.
    #[command(after_long_help = examples(&[
        ("sockit ifaces", "names, flags, MTU, MAC and addresses"),
        ("sockit ifaces --json", "as JSON"),
    ]))]
    Ifaces(OutputArgs),
    /// Explain IP addresses and subnets: kind, network, netmask, broadcast,
    /// hosts, gateway, and the bytes in network byte order.
    #[command(after_long_help = examples(&[
        ("sockit ip 192.168.1.10/24", "the subnet, its hosts and byte order"),
        ("sockit ip 2001:db8::1/64 10.0.0.1", "IPv6 too, several at once"),
    ]))]
    Ip(IpArgs),
    /// The route this host's kernel would use to reach each host: outgoing
    /// interface, source address, gateway (or directly connected), MTU, and
    /// the routing-table entry it came from, as `ip route get` asks it.
    #[command(after_long_help = examples(&[
        ("sockit route 10.0.0.1", "interface, source, gateway, MTU"),
        ("sockit route -6 --json example.org", "IPv6, as JSON"),
    ]))]
    Route(RouteArgs),
    /// Send ICMP echo requests (or time TCP handshakes with --tcp) and report
    /// each reply and a summary, as iputils ping does.
    ///
    /// Exit status: 0 when any reply came, 1 when none did, 2 on error.
    #[command(after_long_help = examples(&[
        ("sockit ping -c 3 example.org", "three echo requests"),
        ("sockit ping -c 5 --tcp 443 example.org", "time TCP handshakes instead (no privilege)"),
        ("sockit ping -M do -s 1472 10.0.0.1", "does a 1500-byte packet get through unfragmented?"),
    ]))]
    Ping(PingArgs),
    /// Find the ports that answer on one host or a whole subnet: a TCP
    /// connect scan (handshake, then close), or with -u a UDP scan; hosts
    /// are asked first whether they are up; results per host in address
    /// order, ports in order, as nmap's report.
    ///
    /// Exit status: 0 when a port is open, 1 when none is, 2 on error, as
    /// `nc -z`.
    #[command(after_long_help = examples(&[
        ("sockit scan 127.0.0.1 1-1024", "one host's TCP ports"),
        ("sockit scan --banner 10.0.0.0/24 22,25,80", "a subnet, with what each port says"),
        ("sockit scan -u -v 10.0.0.1-20 53,123,161", "UDP"),
    ]))]
    Scan(ScanArgs),
    /// Show the routers between this host and HOST: probes with growing TTLs,
    /// every hop's probes sent at once, one line per hop as traceroute
    /// prints it (UDP probes by default, ICMP echo with -I, TCP SYN with
    /// -T); `--report -c N` gives mtr's per-hop loss and round-trip table.
    ///
    /// Exit status: 0 when the destination answered, 1 when it did not, 2 on
    /// usage errors.
    #[command(after_long_help = examples(&[
        ("sockit trace -n 10.0.0.1", "UDP probes, as traceroute"),
        ("sockit trace -T -p 443 example.org", "TCP SYN probes through firewalls"),
        ("sockit trace --report -c 20 -n 10.0.0.1", "mtr's per-hop loss and round trips"),
    ]))]
    Trace(TraceArgs),
    /// Capture packets (or read a pcap or pcapng file), filter them with
    /// tcpdump's language, decode every layer up to the application (DNS,
    /// HTTP, TLS), and narrate each TCP connection's handshake and close.
    #[command(after_long_help = examples(&[
        ("sockit sniff -i lo port 9000", "watch a local conversation, narrated"),
        ("sockit sniff -r capture.pcapng --layers 'tcp port 443'", "read a file, every layer"),
        ("sockit sniff -i any -w out.pcapng", "save a capture for Wireshark"),
    ]))]
    Sniff(SniffArgs),
    /// Check a TLS server: handshake only, then the version, cipher, ALPN,
    /// every certificate it sent and whether it is trusted, and why not.
    ///
    /// Exit status: 0 verified, 1 not (with the reason) or no handshake, 2
    /// usage errors.
    #[command(after_long_help = examples(&[
        ("sockit tls example.org", "version, cipher, chain and verdict"),
        ("sockit tls --ca ca.pem 127.0.0.1 8443", "against your own CA"),
    ]))]
    Tls(TlsArgs),
    /// Print the script that gives SHELL tab completion for sockit: commands,
    /// flags, files, this host's interfaces (`sniff -i`), service names.
    #[command(after_long_help = examples(&[
        ("source <(sockit completions bash)", "in ~/.bashrc"),
        ("sockit completions fish > ~/.config/fish/completions/sockit.fish", "fish"),
        ("sockit completions zsh > ~/.zfunc/_sockit", "zsh, with ~/.zfunc in fpath"),
    ]))]
    Completions(CompletionsArgs),
    /// Show sockit's manual page, or a subcommand's, without installing them
    /// (their roff source when stdout is not a terminal).
    #[command(after_long_help = examples(&[
        ("sockit man", "this page"),
        ("sockit man sniff", "one subcommand's"),
        ("sockit man --write /usr/local/share/man/man1", "install them all"),
    ]))]
    Man(ManArgs),
}

/// The "Examples:" block that ends a subcommand's long help (and its man
/// page): each command line with what it does.
fn examples(lines: &[(&str, &str)]) -> String {
    let mut text = String::from("Examples:");
    for (command, what) in lines {
        text += &format!("\n  {command}\n      {what}");
    }
    text
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL", value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
    pub shell: String,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to show (default: sockit's own).
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
    /// Write every page (sockit.1, sockit-listen.1, ...) into DIR instead.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath, conflicts_with = "subcommand")]
    pub write: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct TlsArgs {
    /// The server's name or address.
    pub host: String,
    /// The server's port.
    #[arg(default_value = "443")]
    pub port: String,
    /// Trust the CA certificates in FILE (PEM) instead of the system's.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca: Option<std::path::PathBuf>,
    /// The name to send (SNI) and to check the certificate against, instead of HOST.
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// Ask for this application protocol (ALPN); repeatable.
    #[arg(long, value_name = "PROTO")]
    pub alpn: Vec<String>,
    /// Give up connecting after SECS.
    #[arg(short = 'w', long = "wait", value_name = "SECS", default_value = "10")]
    pub wait: f64,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

// netcat's -4 and -6, shared by every command that resolves a host. (A plain
// comment: a doc comment here would become a help heading.)
#[derive(Debug, Args)]
pub struct FamilyArgs {
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,
}

impl FamilyArgs {
    pub fn family(&self) -> Family {
        Family::from_flags(self.ipv4, self.ipv6)
    }
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One JSON object per query, one per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HostnameArgs {
    /// The fully qualified name: the resolver's canonical name for this host.
    #[arg(long)]
    pub fqdn: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Names to resolve.
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    /// Destinations: addresses or names (a name's first address in the family).
    #[arg(required = true, value_name = "HOST")]
    pub hosts: Vec<String>,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReverseArgs {
    /// IPv4 or IPv6 addresses.
    #[arg(required = true, value_name = "ADDR")]
    pub addresses: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// Service names (or aliases) and port numbers.
    #[arg(required = true, value_name = "NAME|PORT", add = ArgValueCandidates::new(service_names))]
    pub queries: Vec<String>,
    /// Only this transport protocol.
    #[arg(long, value_parser = ["tcp", "udp"])]
    pub proto: Option<String>,
    /// Say where the answers come from.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct IpArgs {
    /// Addresses, with an optional prefix length: 192.168.1.10/24, 2001:db8::/64.
    #[arg(required = true, value_name = "ADDR[/PREFIX]")]
    pub addresses: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PingArgs {
    /// The host to probe: a name or an address.
    pub host: String,
    /// Stop after COUNT probes (default: until Ctrl-C).
    #[arg(short = 'c', value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Seconds between probes (default 1); fractions allowed (0.2). Below
    /// 0.002 only for root, as iputils.
    #[arg(short = 'i', value_name = "INTERVAL")]
    pub interval: Option<f64>,
    /// Flood (root only): the next probe as soon as the last is answered,
    /// at least 100 a second, a `.` printed per probe and rubbed out by its
    /// answer, as iputils -f; with -i, probes at that interval instead.
    #[arg(short = 'f', conflicts_with = "adaptive")]
    pub flood: bool,
    /// Seconds to wait for a reply when none has come yet (once some have,
    /// ping waits twice the longest round trip); with --tcp, each
    /// handshake's time limit.
    #[arg(short = 'W', value_name = "TIMEOUT", default_value_t = 10.0)]
    pub timeout: f64,
    /// Stop after DEADLINE seconds whatever happened; with -c, stop as soon
    /// as COUNT replies came.
    #[arg(short = 'w', value_name = "DEADLINE")]
    pub deadline: Option<f64>,
    /// Bytes of data in each echo request (8 ICMP header bytes are added).
    #[arg(
        short = 's',
        value_name = "SIZE",
        default_value_t = 56,
        conflicts_with = "tcp"
    )]
    pub size: usize,
    /// Time the TCP three-way handshake to PORT instead of sending ICMP
    /// (no privileges needed; a refused connection counts as lost).
    #[arg(long, value_name = "PORT")]
    pub tcp: Option<String>,
    /// Quiet: only the first line and the summary.
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Numeric: show reply sources as addresses, without reverse lookups
    /// (already so when HOST is an address).
    #[arg(short = 'n')]
    pub numeric: bool,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Say which kind of ICMP socket is used (datagram or raw).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Time to live (IPv4) or hop limit (IPv6) of each request.
    #[arg(short = 't', value_name = "TTL", value_parser = clap::value_parser!(u8).range(1..=255))]
    pub ttl: Option<u8>,
    /// Fill each request's data with these bytes, in hex, up to 16 (`-p ff00`).
    #[arg(short = 'p', value_name = "PATTERN", value_parser = parse_pattern, conflicts_with = "tcp")]
    pub pattern: Option<Pattern>,
    /// Print the time (seconds since 1970) before each line, as iputils -D.
    #[arg(short = 'D')]
    pub timestamps: bool,
    /// Allow pinging a broadcast address.
    #[arg(short = 'b')]
    pub broadcast: bool,
    /// Say "no answer yet" for a probe still unanswered when the next one leaves.
    #[arg(short = 'O')]
    pub outstanding: bool,
    /// Adaptive: the next probe leaves as soon as the last is answered (at
    /// most one in flight; -i is the longest wait), as iputils -A.
    #[arg(short = 'A')]
    pub adaptive: bool,
    /// Path MTU discovery: do (never fragment; a request too large for the
    /// path is refused, with the MTU said), dont (fragment), want (discover,
    /// fragment what exceeds it) or probe (never fragment, ignore the MTU).
    #[arg(short = 'M', value_name = "HINT", value_parser = parse_path_mtu, conflicts_with = "tcp")]
    pub path_mtu: Option<PathMtuDiscovery>,
    /// Under the summary, a histogram of the round trips and a sparkline of
    /// them in probe order (a gap for each lost probe).
    #[arg(long)]
    pub plot: bool,
    /// With --plot: also write the plot as an SVG chart to FILE.
    #[arg(long, value_name = "FILE", requires = "plot", value_hint = ValueHint::FilePath)]
    pub svg: Option<std::path::PathBuf>,
    /// Send from this interface (by name) or this source address.
    #[arg(short = 'I', value_name = "IFACE|ADDR", conflicts_with = "tcp", add = ArgValueCandidates::new(interfaces_and_addresses))]
    pub interface: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `-p`'s bytes.
#[derive(Debug, Clone)]
pub struct Pattern(pub Vec<u8>);

fn parse_pattern(text: &str) -> Result<Pattern, String> {
    let digits: Vec<u8> = text
        .bytes()
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("{text:?} is not hexadecimal: give bytes like ff00"))?;
    if digits.is_empty() || digits.len() > 32 {
        return Err(format!("{text:?}: give 1 to 16 bytes in hex"));
    }
    // An odd digit count reads as iputils does: a leading zero.
    let mut padded = if digits.len() % 2 == 1 {
        vec![0]
    } else {
        vec![]
    };
    padded.extend(digits);
    Ok(Pattern(
        padded.chunks(2).map(|p| p[0] << 4 | p[1]).collect(),
    ))
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The hosts to scan: a name, an address, a CIDR block (10.0.0.0/24), a
    /// range (10.0.0.1-20 or 10.0.0.1-10.0.0.20) or a comma list of those.
    #[arg(value_name = "TARGETS")]
    pub targets: String,
    /// Ports: 22, 1-1024, 22,80,8000-8100, or - for all of 1-65535.
    #[arg(value_parser = parse_ports, allow_hyphen_values = true)]
    pub ports: PortList,
    /// Probes in flight at once (limited by the open-file limit, which is
    /// raised first).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub concurrency: u64,
    /// Seconds to wait for each answer (a handshake, a datagram, a banner)
    /// before calling the port filtered or silent.
    #[arg(short = 'w', long = "wait", value_name = "SECS", default_value_t = 1.0)]
    pub wait: f64,
    /// UDP scan: open when a datagram comes back, closed on ICMP port
    /// unreachable, open|filtered on silence (retries paced to the target's
    /// ICMP rate limit, so a closed port is never taken for a silent one).
    #[arg(short = 'u', long)]
    pub udp: bool,
    /// Read what each open TCP port says first (nudging silent ones with an
    /// HTTP HEAD) and name the service from it.
    #[arg(long, conflicts_with = "udp")]
    pub banner: bool,
    /// At most N probes per second, spread evenly over each second.
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// Probe every target's ports without asking first whether it is up
    /// (nmap's -Pn).
    #[arg(long = "no-discovery", visible_alias = "Pn")]
    pub no_discovery: bool,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Also count the ports in each state, the hosts up and down, and time
    /// the scan (stderr).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// This host's interfaces, for completing `-i` (and `any`, every one).
fn interface_names() -> Vec<CompletionCandidate> {
    let mut names = vec![CompletionCandidate::new("any")];
    if let Ok(interfaces) = sockit::addr::interfaces() {
        names.extend(
            interfaces
                .into_iter()
                .map(|i| CompletionCandidate::new(i.name)),
        );
    }
    names
}

/// This host's interfaces and their addresses, for completing `ping -I`.
fn interfaces_and_addresses() -> Vec<CompletionCandidate> {
    let interfaces = sockit::addr::interfaces().unwrap_or_default();
    let names = interfaces.iter().map(|i| i.name.clone());
    let addresses = interfaces
        .iter()
        .flat_map(|i| i.addresses.iter().map(|a| a.address.to_string()));
    names
        .chain(addresses)
        .map(CompletionCandidate::new)
        .collect()
}

/// The services database's names, for completing `service NAME`.
fn service_names() -> Vec<CompletionCandidate> {
    sockit::addr::Services::load()
        .names()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

fn parse_path_mtu(text: &str) -> Result<PathMtuDiscovery, String> {
    Ok(match text {
        "do" => PathMtuDiscovery::Do,
        "dont" => PathMtuDiscovery::Dont,
        "want" => PathMtuDiscovery::Want,
        "probe" => PathMtuDiscovery::Probe,
        _ => return Err(format!("{text:?} is not one of do, dont, want, probe")),
    })
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a positive number of probes per second"
        )),
    }
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The destination: a name or an address.
    pub host: String,
    /// ICMP echo probes.
    #[arg(short = 'I', long = "icmp", conflicts_with_all = ["tcp", "udp"])]
    pub icmp: bool,
    /// TCP SYN probes (to port 80 unless -p says otherwise).
    #[arg(short = 'T', long = "tcp", conflicts_with = "udp")]
    pub tcp: bool,
    /// UDP probes (the default), to port 33434 and up unless -p says otherwise.
    #[arg(short = 'U', long = "udp")]
    pub udp: bool,
    /// The destination port: TCP's port, or UDP's first port.
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<String>,
    /// Show addresses only, without looking their names up.
    #[arg(short = 'n')]
    pub numeric: bool,
    /// The largest TTL: hops to try (1-255).
    #[arg(short = 'm', long = "max-hops", value_name = "MAX_TTL", default_value_t = 30,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub max_ttl: u8,
    /// The first TTL to try.
    #[arg(short = 'f', long = "first", value_name = "FIRST_TTL", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub first_ttl: u8,
    /// Probes per hop (1-10).
    #[arg(short = 'q', long = "queries", value_name = "PROBES", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(1..=10))]
    pub probes: u8,
    /// Seconds to wait for answers after the last probe is sent.
    #[arg(short = 'w', long = "wait", value_name = "SECS", default_value_t = 5.0)]
    pub wait: f64,
    /// mtr's report: COUNT rounds of one probe per hop, then per hop the
    /// loss, probes sent, and last, average, best, worst and standard
    /// deviation of the round trips.
    #[arg(long)]
    pub report: bool,
    /// With --report: under the table, a sparkline of each hop's round trips.
    #[arg(long, requires = "report")]
    pub plot: bool,
    /// With --plot: also write the plot as an SVG chart to FILE.
    #[arg(long, value_name = "FILE", requires = "plot", value_hint = ValueHint::FilePath)]
    pub svg: Option<std::path::PathBuf>,
    /// Rounds for --report.
    #[arg(short = 'c', value_name = "COUNT", default_value_t = 10, requires = "report",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Say how the probes are sent and the answers read.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct SniffArgs {
    /// A filter in tcpdump's language (pcap-filter(7)), e.g. `tcp port 443
    /// and host 10.0.0.1`: compiled by libpcap, run in the kernel for live
    /// captures and on each frame of a file. Several words are joined by
    /// spaces, as tcpdump does.
    #[arg(value_name = "EXPRESSION", num_args = 0..)]
    pub expression: Vec<String>,
    /// Capture on this interface (default: every interface, each loopback
    /// packet shown once).
    #[arg(short = 'i', value_name = "IFACE", add = ArgValueCandidates::new(interface_names))]
    pub interface: Option<String>,
    /// List the interfaces a capture can use, and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,
    /// Only packets to or from this TCP or UDP port (shorthand for `port PORT`).
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// Only packets to or from this host (a name stands for all its addresses).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Only this protocol: tcp, udp or icmp (ICMPv6 too).
    #[arg(
        long,
        value_name = "PROTO",
        value_parser = PossibleValuesParser::new(["tcp", "udp", "icmp"]).try_map(|p| p.parse::<Protocol>())
    )]
    pub proto: Option<Protocol>,
    /// Stop after COUNT matching packets.
    #[arg(short = 'c', value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Keep at most SNAPLEN bytes of each frame (0: whole frames, the default).
    #[arg(short = 's', value_name = "SNAPLEN", value_parser = clap::value_parser!(u32))]
    pub snaplen: Option<u32>,
    /// Accepted for tcpdump's habit: sockit never turns addresses or ports
    /// into names (-n and -nn are what it always does).
    #[arg(short = 'n', action = clap::ArgAction::Count)]
    pub numeric: u8,
    /// Show link-layer addresses (MAC) on each summary line.
    #[arg(short = 'e')]
    pub link_header: bool,
    /// Less protocol detail on each line: addresses, protocol, length.
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Time stamps as tcpdump: none (-t), seconds since 1970 (-tt), since the
    /// previous packet (-ttt), date and time (-tttt), since the first packet
    /// (-ttttt). The default is the local time of day.
    #[arg(short = 't', action = clap::ArgAction::Count)]
    pub time_format: u8,
    /// One block per layer (link, network, transport, application) for each packet.
    #[arg(long)]
    pub layers: bool,
    /// Draw each TCP connection as a ladder (client left, server right, one
    /// arrow per segment with its flags, relative seq/ack and length, each
    /// end's state as it changes) instead of a line per packet; drawn as each
    /// connection ends, the unfinished ones at the end. The width follows the
    /// terminal (or COLUMNS).
    #[arg(long, conflicts_with_all = ["layers", "json"])]
    pub ladder: bool,
    /// With --ladder: raw sequence numbers, not relative to each end's first.
    #[arg(long, requires = "ladder")]
    pub absolute: bool,
    /// With --ladder: ASCII lines and arrows (the default when the locale is
    /// not UTF-8).
    #[arg(long = "ascii", requires = "ladder")]
    pub ascii_ladder: bool,
    /// With --ladder: also write the diagrams as an SVG picture to FILE (one
    /// per exchange, stacked, slanted arrows), for slides and notes.
    #[arg(long, value_name = "FILE", requires = "ladder", value_hint = ValueHint::FilePath)]
    pub svg: Option<std::path::PathBuf>,
    /// With --ladder: only connection N (`tcp#N`, numbered as they appear).
    #[arg(long = "conn", value_name = "N", requires = "ladder", value_parser = clap::value_parser!(u64).range(1..))]
    pub connection: Option<u64>,
    /// Each packet in hex, without its link header (-xx: with it).
    #[arg(short = 'x', action = clap::ArgAction::Count)]
    pub hex: u8,
    /// Each packet in hex and ASCII, without its link header (-XX: with it).
    #[arg(short = 'X', action = clap::ArgAction::Count)]
    pub hex_ascii: u8,
    /// Each packet in ASCII, without its link header (web pages, mail).
    #[arg(short = 'A')]
    pub ascii: bool,
    /// Also save the matching packets to FILE: pcapng when its name ends in
    /// .pcapng (with interface names), pcap otherwise.
    #[arg(short = 'w', value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub write: Option<std::path::PathBuf>,
    /// Read packets from a pcap or pcapng FILE instead of capturing (no
    /// privileges needed).
    #[arg(short = 'r', value_name = "FILE", value_hint = ValueHint::FilePath, conflicts_with = "interface")]
    pub read: Option<std::path::PathBuf>,
    /// Show the comments a pcapng file attaches to packets, and at the end
    /// how many frames the kernel's filter passed and dropped.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A parsed port list, so a bad one is a usage error before anything runs.
#[derive(Debug, Clone)]
pub struct PortList(pub Vec<u16>);

fn parse_ports(text: &str) -> Result<PortList, String> {
    sockit::addr::parse_port_list(text)
        .map(PortList)
        .map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: an optional host (default 127.0.0.1, or ::1 with -6;
    /// 0.0.0.0 or :: for every interface) and a port (0 picks a free one).
    /// With -U, the socket's path, or @NAME.
    #[arg(value_name = "[HOST] PORT", required = true, num_args = 1..=2)]
    pub address: Vec<String>,

    /// Listen on a Unix socket: the address is its path, or @NAME for
    /// Linux's abstract namespace. A stale file left by a dead server is
    /// replaced; a live server's is not. Our file is removed when we exit.
    #[arg(short = 'U', long)]
    pub unix: bool,

    /// The Unix socket file's permissions, in octal as chmod takes them
    /// (600: only this user may connect). Set before any client can connect.
    #[arg(long, value_name = "OCTAL", requires = "unix")]
    pub mode: Option<String>,

    /// UDP: receive datagrams from any number of peers (each payload to
    /// stdout; stdin lines go to the peer heard from last), until SIGINT/SIGTERM.
    #[arg(short = 'u', long, conflicts_with_all = ["chat", "max_conns", "keep_open"])]
    pub udp: bool,

    /// Keep accepting clients after the first, serving them concurrently until
    /// SIGINT or SIGTERM.
    #[arg(short = 'k', long)]
    pub keep_open: bool,

    /// Serve at most N clients at once; one more is accepted and closed at once.
    #[arg(long, value_name = "N")]
    pub max_conns: Option<usize>,

    /// Send every client back exactly the bytes it sends (with -u, every
    /// datagram to its own sender, boundaries intact).
    #[arg(long, conflicts_with = "chat")]
    pub echo: bool,

    /// Pass each line a client sends to every other client, prefixed with the
    /// sender's address.
    #[arg(long)]
    pub chat: bool,

    /// Serve a program: for each client run `sh -c COMMAND` with its stdin
    /// and stdout wired to the client (stderr stays ours) and
    /// SOCKIT_PEER_ADDR, SOCKIT_PEER_PORT (over -U: SOCKIT_PEER_PID, _UID,
    /// _GID instead), SOCKIT_LOCAL_ADDR and
    /// SOCKIT_LOCAL_PORT set. With -k, clients' programs run side by side.
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["echo", "chat", "udp"])]
    pub exec: Option<String>,

    #[command(flatten)]
    pub tls: ListenTlsArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

// listen's TLS options (a plain comment: a doc comment would become a heading).
#[derive(Debug, Args)]
pub struct ListenTlsArgs {
    /// Serve TLS to every client, in every mode. Without --cert, a
    /// self-signed certificate is made for the listen address, localhost,
    /// 127.0.0.1, ::1 and this host's name; -v prints its sha256 for --pin.
    #[arg(long, conflicts_with = "udp")]
    pub tls: bool,
    /// The certificate chain to serve (PEM), with --key.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires_all = ["tls", "key"])]
    pub cert: Option<std::path::PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires_all = ["tls", "cert"])]
    pub key: Option<std::path::PathBuf>,
    /// Require a client certificate signed by one of these CAs (PEM): mutual TLS.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "tls")]
    pub client_ca: Option<std::path::PathBuf>,
    /// Offer this application protocol (ALPN); repeatable.
    #[arg(long, value_name = "PROTO", requires = "tls")]
    pub alpn: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The server's name or address (with -U, the socket's path or @NAME).
    pub host: String,
    /// The server's port (none with -U).
    #[arg(required_unless_present = "unix")]
    pub port: Option<String>,

    /// Connect to a Unix socket: HOST is its path, or @NAME for Linux's
    /// abstract namespace; there is no port. With -u, a datagram socket,
    /// bound to a fresh abstract name so that replies can reach us.
    #[arg(short = 'U', long, conflicts_with_all = ["proxy", "broadcast"])]
    pub unix: bool,

    /// UDP: each stdin line (or 16 KiB run without newline) becomes one
    /// datagram; replies go to stdout until stdin ends and -w seconds (default
    /// 2) pass with none.
    #[arg(short = 'u', long)]
    pub udp: bool,

    /// Allow sending to a broadcast address (SO_BROADCAST); replies are
    /// accepted from any host.
    #[arg(long, requires = "udp")]
    pub broadcast: bool,

    /// Go through this proxy: socks5://HOST:PORT (sockit resolves the
    /// target), socks5h://HOST:PORT (the proxy does), http://HOST:PORT (HTTP
    /// CONNECT); USER:PASS@ before HOST logs in. Repeat to chain proxies, in
    /// order. Without it, ALL_PROXY (or all_proxy) is used when set, unless
    /// NO_PROXY (or no_proxy) lists the host (names with their subdomains,
    /// addresses, CIDR networks, or *), as curl reads them.
    #[arg(long, value_name = "URL", conflicts_with = "udp")]
    pub proxy: Vec<String>,

    /// Connect directly, whatever ALL_PROXY says.
    #[arg(long, conflicts_with = "proxy")]
    pub no_proxy: bool,

    #[command(flatten)]
    pub tls: ConnectTlsArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Where to listen: `PORT` (loopback only, as listen) or `HOST PORT`.
    #[arg(value_name = "[HOST] PORT", required = true, num_args = 1..=2)]
    pub address: Vec<String>,

    /// Require this login: SOCKS5 username/password (RFC 1929), HTTP
    /// Basic (Proxy-Authorization); others get 05 FF or 407.
    #[arg(long, value_name = "USER:PASS")]
    pub auth: Option<String>,

    /// Allow targets in this network only (repeatable, adding up); others
    /// get SOCKS5 reply 0x02 or HTTP 403 and are never contacted.
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,

    /// Serve at most N clients at once; one more is accepted and closed at once.
    #[arg(long, value_name = "N")]
    pub max_conns: Option<usize>,

    #[command(flatten)]
    pub common: CommonArgs,
}

// connect's TLS options.
#[derive(Debug, Args)]
pub struct ConnectTlsArgs {
    /// Speak TLS, verifying the server against the system's trusted roots
    /// and checking that its certificate is valid for HOST.
    #[arg(long, conflicts_with = "udp")]
    pub tls: bool,
    /// Trust the CA certificates in FILE (PEM) instead of the system's.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "tls")]
    pub ca: Option<std::path::PathBuf>,
    /// The name to send (SNI) and to check the certificate against, instead of HOST.
    #[arg(long, value_name = "NAME", requires = "tls")]
    pub servername: Option<String>,
    /// Ask for this application protocol (ALPN), e.g. h2 or http/1.1; repeatable.
    #[arg(long, value_name = "PROTO", requires = "tls")]
    pub alpn: Vec<String>,
    /// Present this client certificate (PEM), with --key.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires_all = ["tls", "key"])]
    pub cert: Option<std::path::PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires_all = ["tls", "cert"])]
    pub key: Option<std::path::PathBuf>,
    /// Accept exactly the certificate whose DER SHA-256 is HEX, whoever
    /// signed it: how to trust a self-signed server (sockit listen --tls -v prints it).
    #[arg(
        long,
        value_name = "sha256:HEX",
        requires = "tls",
        conflicts_with = "insecure"
    )]
    pub pin: Option<String>,
    /// Do not verify the server at all (a warning is printed every time).
    #[arg(long, requires = "tls")]
    pub insecure: bool,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub family: FamilyArgs,

    /// Give up connecting after SECS, and close a connection on which nothing
    /// moved either way for SECS (in every mode, each client on its own clock).
    #[arg(short = 'w', long = "wait", value_name = "SECS")]
    pub wait: Option<f64>,

    /// Turn on TCP keepalive, so a peer whose host vanished without a FIN is
    /// noticed: first probe after SECS of silence (default 60), then every
    /// SECS/3; three unanswered probes end the connection. (`--keepalive=SECS`,
    /// with the `=`, so that a host after the flag is not taken for SECS.)
    #[arg(
        long,
        value_name = "SECS",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "60"
    )]
    pub keepalive: Option<f64>,

    /// Narrate each step on stderr: socket, bind, listen, accept, connect,
    /// FIN each way, and a summary per connection.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Show bytes, rate and ETA on stderr (automatic on a terminal when stdin
    /// is a file).
    #[arg(long)]
    pub progress: bool,

    /// Do not send FIN when stdin ends; wait for the peer to close instead.
    /// For peers that take a half-close for a full close.
    #[arg(long)]
    pub no_shutdown: bool,
}
