//! ping and scan: is the host there, and what listens on it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use sockit::addr::{self, Family, PortUse, Services, parse_port};
use sockit::output;
use sockit::output::ping::{PingPrinter, PingTarget, emit, emit_raw};
use sockit::shutdown::{StopReason, StopTrigger};
use sockit::tools::ping::{
    self, IcmpProber, IcmpSetup, PingOptions, ProbeReport, SocketKind, TcpProber,
};
use sockit::tools::scan::{self, PortState, Protocol, ScanOptions};
use sockit::wire::icmp::Version;
use sockit::{Error, Result};

use super::{finish, runtime, seconds, signal_trigger};
use crate::cli::{PingArgs, ScanArgs};

/// iputils' shortest interval for users other than root, and flood's
/// interval while no reply comes (100 probes a second).
const SHORTEST_USER_INTERVAL: Duration = Duration::from_millis(2);
const FLOOD_INTERVAL: Duration = Duration::from_millis(10);

pub fn ping(args: PingArgs) -> Result<i32> {
    let privileged = nix::unistd::geteuid().is_root();
    let interval = match (args.interval, args.flood) {
        (Some(secs), _) => seconds("-i", secs, true)?,
        (None, true) => Duration::ZERO,
        (None, false) => Duration::from_secs(1),
    };
    if !privileged && interval < SHORTEST_USER_INTERVAL {
        return Err(Error::Usage(
            "cannot flood; minimal interval allowed for user is 2ms: use -i 0.002 or more, or run as root"
                .into(),
        ));
    }
    // An unlimited flood: the next probe when the last is answered, or
    // after 10 ms without an answer (iputils' -f).
    let unlimited = interval.is_zero();
    let timeout = seconds("-W", args.timeout, false)?;
    let tcp_port = args
        .tcp
        .as_deref()
        .map(|p| parse_port(p, PortUse::Connect))
        .transpose()?;
    let address = first_address(&args.host, args.family.family())?;
    let max = ping::icmp::max_payload(Version::of(address));
    if args.size > max {
        return Err(Error::Usage(format!(
            "-s {}: an echo request to {address} holds at most {max} bytes of data",
            args.size
        )));
    }
    let options = PingOptions {
        count: args.count,
        interval: if unlimited { FLOOD_INTERVAL } else { interval },
        timeout,
        deadline: args.deadline.map(|d| seconds("-w", d, false)).transpose()?,
        report_outstanding: args.outstanding,
        // iputils' floor: none for root (who may flood), 200 ms for others.
        adaptive: if unlimited {
            Some(Duration::ZERO)
        } else {
            args.adaptive
                .then(|| Duration::from_millis(if privileged { 0 } else { 200 }))
        },
    };
    let (source, interface) = match args.interface.as_deref() {
        None => (None, None),
        Some(text) => match text.parse::<IpAddr>() {
            Ok(address) => (Some(address), None),
            Err(_) => {
                if !addr::interfaces()?.iter().any(|i| i.name == text) {
                    return Err(Error::NotFound {
                        what: format!("-I {text}: no interface or address of that name"),
                        hint: "see `sockit ifaces` for this host's interfaces and addresses".into(),
                    });
                }
                (None, Some(text.to_string()))
            }
        },
    };
    // -I: iputils names the source (the kernel's choice for an interface)
    // and the interface in its first line.
    let from = match (source, &interface) {
        (Some(source), _) => Some((source, String::new())),
        (None, Some(name)) => addr::route_to(address)
            .ok()
            .and_then(|r| r.source)
            .map(|s| (s, name.clone())),
        (None, None) => None,
    };
    let target = PingTarget {
        host: args.host.clone(),
        address,
        tcp_port,
        payload_len: args.size,
        numeric: args.numeric || args.host.parse::<IpAddr>().is_ok(),
        from,
    };
    let numeric = target.numeric;
    if tcp_port.is_none() && addr::is_broadcast(address) {
        if !args.broadcast {
            return Err(Error::Usage(format!(
                "{address} is a broadcast address: ping it with -b, or check the address"
            )));
        }
        eprintln!("WARNING: pinging broadcast address");
    }
    let setup = IcmpSetup {
        path_mtu: args.path_mtu,
        ttl: args.ttl,
        pattern: args.pattern.as_ref().map(|p| p.0.clone()),
        broadcast: args.broadcast,
        source,
        interface: interface.clone(),
    };
    let mut printer = PingPrinter::new(target, args.output.json, args.quiet, timeout);
    printer.timestamps = args.timestamps;
    printer.adaptive = args.adaptive || args.flood || unlimited;
    printer.flood = args.flood;
    if args.plot {
        printer.samples = Some(Vec::new());
    }
    let runtime = runtime()?;
    if let Some(pattern) = setup.pattern.as_ref().filter(|_| !args.output.json) {
        let hex: String = pattern.iter().map(|b| format!("{b:02x}")).collect();
        emit(&format!("PATTERN: 0x{hex}"));
    }
    if let Some(header) = printer.header() {
        emit(&header);
    }
    let (summary, printer) = runtime.block_on(async {
        let trigger = signal_trigger()?;
        let shutdown = trigger.subscribe();
        let (reports, printing) = print_probes(printer, numeric, trigger.clone());
        let report = |probe: &ProbeReport| {
            let _ = reports.send(probe.clone());
        };
        let summary = match tcp_port {
            Some(port) => {
                let mut prober = TcpProber::new(SocketAddr::new(address, port), timeout);
                ping::ping(&mut prober, &options, report, shutdown).await
            }
            None => {
                let mut prober = IcmpProber::open(address, args.size, &setup)?;
                if args.verbose {
                    eprintln!("sockit: {}", describe_socket(prober.kind()));
                }
                ping::ping(&mut prober, &options, report, shutdown).await
            }
        };
        drop(reports);
        let printer = printing
            .await
            .map_err(|e| Error::io("printing", std::io::Error::other(e)))?;
        Ok::<_, Error>((summary, printer))
    })?;
    output::emit_text(&printer.summary(&summary));
    output::emit_text(&printer.plot(output::terminal_width(), !output::locale_is_utf8()));
    if let (Some(path), Some(chart)) = (&args.svg, printer.plot_svg()) {
        std::fs::write(path, chart)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    finish(runtime, None);
    Ok(summary.exit_code())
}

/// Prints each probe's line on a thread of its own, looking reply sources'
/// names up there (once per source, as iputils) so that a slow resolver
/// never stalls the probe loop's timer. The queue grows only while a lookup
/// is under way, by one report per probe sent meanwhile.
fn print_probes(
    printer: PingPrinter,
    numeric: bool,
    trigger: StopTrigger,
) -> (
    tokio::sync::mpsc::UnboundedSender<ProbeReport>,
    tokio::task::JoinHandle<PingPrinter>,
) {
    let (reports, mut queue) = tokio::sync::mpsc::unbounded_channel::<ProbeReport>();
    let printing = tokio::task::spawn_blocking(move || {
        let mut names: HashMap<IpAddr, Option<String>> = HashMap::new();
        let mut printer = printer;
        while let Some(report) = queue.blocking_recv() {
            printer.gather(&report);
            let name = match report.source() {
                Some(from) if !numeric => names
                    .entry(from)
                    .or_insert_with(|| addr::reverse(&from.to_string()).ok().map(|e| e.hostname))
                    .as_deref(),
                _ => None,
            };
            let written = if printer.flood && !printer.json {
                printer.flood_mark(&report).is_none_or(emit_raw)
            } else {
                printer.probe(&report, name).is_none_or(|line| emit(&line))
            };
            if !written {
                trigger.fire(StopReason::OutputClosed);
            }
            if let Some(line) = printer.error_line(&report) {
                eprintln!("sockit: {line}");
            }
        }
        printer
    });
    (reports, printing)
}

fn describe_socket(kind: SocketKind) -> &'static str {
    match kind {
        SocketKind::Datagram => {
            "using an ICMP datagram socket (unprivileged: this group is in net.ipv4.ping_group_range)"
        }
        SocketKind::Raw => "using a raw ICMP socket (CAP_NET_RAW)",
    }
}

pub fn scan(args: ScanArgs) -> Result<i32> {
    let timeout = seconds("-w", args.wait, false)?;
    let targets = addr::expand_targets(&args.targets, args.family.family())?;
    let options = ScanOptions {
        protocol: if args.udp {
            Protocol::Udp
        } else {
            Protocol::Tcp
        },
        concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        timeout,
        rate: args.rate,
        discover: !args.no_discovery,
        banners: args.banner,
    };
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let trigger = signal_trigger()?;
        scan::scan(&targets, &args.ports.0, options, trigger.subscribe()).await
    })?;
    finish(runtime, None);
    let findings = output::scan::findings(&report, &Services::load());
    output::emit_text(&output::scan::render(&report, &findings, args.output.json));
    if args.verbose {
        eprintln!("sockit: {}", output::scan::counts(&report));
    }
    if let Some(error) = &report.last_local_error {
        eprintln!(
            "sockit: {} ports could not be probed ({error}); lower --concurrency",
            report.local_failures
        );
    }
    if report.interrupted {
        eprintln!(
            "sockit: scan interrupted after {} of {} ports",
            report.probed(),
            report.planned
        );
        return Ok(130);
    }
    let open = findings
        .iter()
        .filter(|f| f.state == PortState::Open)
        .count();
    if open == 0 && !args.output.json {
        let protocol = options.protocol.name().to_uppercase();
        eprintln!(
            "sockit: {}",
            match report.hosts_up() {
                0 if options.discover => format!(
                    "no host answered among the {} scanned; if they are up but silent, try --no-discovery",
                    report.hosts.len()
                ),
                _ => format!(
                    "no open {protocol} port among the {} scanned on {}",
                    report.ports_per_host,
                    output::scan::scope(&report)
                ),
            }
        );
    }
    Ok(if open == 0 { 1 } else { 0 })
}

/// The first address the resolver gives for `host` in `family`: ping and
/// scan probe one address, as ping and nmap do.
fn first_address(host: &str, family: Family) -> Result<IpAddr> {
    Ok(addr::resolve(host, 0, family)?[0].ip())
}
