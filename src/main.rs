//! The `sockit` binary: parse the command line, call the library, turn the
//! outcome into an exit code. Nothing else lives here.
//!
//! `main` is a plain C entry point (`no_main`): std's runtime set-up, which
//! reads /proc/self/maps to place a stack guard, costs about 0.16 ms per
//! process, and every lookup command is a whole process (bench/lookups.sh).
//! The one part of that set-up sockit relies on, ignoring SIGPIPE so that a
//! closed stdout is an EPIPE error and not a silent death, is done here.

#![no_main]

mod cli;
mod startup;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use sockit::addr::{self, Family, PortUse, Services, listen_address, parse_port};
use sockit::output::ping::{PingPrinter, PingTarget, emit};
use sockit::output::report::print_all;
use sockit::output::sniff::SniffStyle;
use sockit::output::{self, narrate, progress::Progress};
use sockit::tools::ping::{self, IcmpProber, PingOptions, ProbeReport, SocketKind, TcpProber};
use sockit::tools::scan::{self, ScanOptions};
use sockit::tools::sniff::{self, SniffOptions, Source};
use sockit::transport::udp;
use sockit::transport::{
    self, ConnectOptions, Counters, Events, Mode, RelayOptions, ServeOptions, SessionEnd, Stop,
    Trigger,
};
use sockit::wire::capture::LiveCapture;
use sockit::wire::filter::{Filter, Protocol};
use sockit::wire::icmp::Version;
use sockit::wire::pcap::{PcapReader, PcapWriter};
use sockit::{Error, Result};

use cli::{Cli, Command, CommonArgs, ConnectArgs, ListenArgs, PingArgs, ScanArgs, SniffArgs};

#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    sockit::sys::ignore_sigpipe();
    run_cli()
}

fn run_cli() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            eprintln!("sockit: {}", one_line(&err));
            std::process::exit(2);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sockit: {err}");
            err.exit_code()
        }
    };
    // Exit at once: a relay thread may still be blocked reading a terminal,
    // and waiting for it would hang a session that is over.
    std::process::exit(code);
}

/// clap's message ("error: unexpected argument ...") as one line, without
/// its usage block, plus where to read more. A message that continues on the
/// following lines (the missing arguments) is joined up to the first blank line.
fn one_line(err: &clap::Error) -> String {
    let text = err.to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message}; see 'sockit --help'")
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Listen(args) => listen(args),
        Command::Connect(args) => connect(args),
        Command::Hostname(args) => Ok(print_all([addr::host_name(args.fqdn)], args.output.json)),
        Command::Resolve(args) => {
            let family = Family::from_flags(args.ipv4, args.ipv6);
            let answers = args.names.iter().map(|name| addr::lookup(name, family));
            Ok(print_all(answers, args.output.json))
        }
        Command::Reverse(args) => {
            let answers = args.addresses.iter().map(|a| addr::reverse(a));
            Ok(print_all(answers, args.output.json))
        }
        Command::Service(args) => {
            let services = Services::load();
            if args.verbose {
                eprintln!("{}", services.origin());
            }
            let proto = args.proto.as_deref();
            let answers = args.queries.iter().map(|q| services.lookup(q, proto));
            Ok(print_all(answers, args.output.json))
        }
        Command::Ifaces(output) => {
            let interfaces = addr::interfaces()?;
            Ok(print_all(interfaces.into_iter().map(Ok), output.json))
        }
        Command::Ip(args) => {
            let answers = args.addresses.iter().map(|a| addr::analyse(a));
            Ok(print_all(answers, args.output.json))
        }
        // ping's own convention: errors exit with 2, "no reply" with 1.
        Command::Ping(args) => ping(args).or_else(|err| {
            eprintln!("sockit: {err}");
            Ok(2)
        }),
        Command::Scan(args) => scan(args),
        Command::Sniff(args) => sniff(args),
    }
}

fn sniff(args: SniffArgs) -> Result<i32> {
    let filter = Filter {
        protocol: args.proto.as_deref().map(|p| match p {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            _ => Protocol::Icmp,
        }),
        hosts: match &args.host {
            Some(host) => addr::resolve(host, 0, Family::Any)?
                .iter()
                .map(SocketAddr::ip)
                .collect(),
            None => Vec::new(),
        },
        port: args
            .port
            .as_deref()
            .map(|p| parse_port(p, PortUse::Listen))
            .transpose()?,
    };
    let mut source = match &args.read {
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
            Source::File(
                PcapReader::new(file)
                    .map_err(|e| Error::io(format!("reading {}", path.display()), e))?,
            )
        }
        None => Source::Live(LiveCapture::open(args.interface.as_deref(), &filter)?),
    };
    let mut writer = match &args.write {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
            Some(
                PcapWriter::new(file, source.link())
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?,
            )
        }
        None => None,
    };
    let runtime = runtime()?;
    let trigger = runtime.block_on(async { signal_trigger() })?;
    let shutdown = trigger.subscribe();
    let live = matches!(source, Source::Live(_));
    if live {
        eprintln!(
            "sockit: capturing on {}; Ctrl-C to stop",
            args.interface.as_deref().unwrap_or("every interface")
        );
    }
    let style = SniffStyle {
        layers: args.layers,
        hex: args.hex,
        json: args.output.json,
    };
    let options = SniffOptions {
        filter,
        count: args.count,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut text = String::new();
    let report = sniff::sniff(
        &mut source,
        &options,
        writer.as_mut(),
        |seen| {
            text.clear();
            output::sniff::render(seen, style, &mut text);
            // A live capture is watched as it happens; a file is read in bulk.
            out.write_all(text.as_bytes()).is_ok() && (!live || out.flush().is_ok())
        },
        || shutdown.stopped().is_some(),
    );
    let report = report.map_err(|e| Error::io("capturing", e))?;
    if !args.output.json {
        let _ = out.write_all(output::sniff::connection_table(&report.connections).as_bytes());
    }
    let _ = out.flush();
    if let Some(kernel) = report.kernel {
        if args.verbose {
            eprintln!(
                "sockit: the kernel's filter passed {} frames ({} dropped); {} packets shown",
                kernel.passed, kernel.dropped, report.matched
            );
        } else if kernel.dropped > 0 {
            eprintln!(
                "sockit: the kernel dropped {} packets that arrived faster than they were shown",
                kernel.dropped
            );
        }
    }
    finish(runtime, None);
    Ok(0)
}

fn ping(args: PingArgs) -> Result<i32> {
    let interval = seconds("-i", args.interval, true)?;
    let timeout = seconds("-W", args.timeout, false)?;
    let tcp_port = args
        .tcp
        .as_deref()
        .map(|p| parse_port(p, PortUse::Connect))
        .transpose()?;
    let address = first_address(&args.host, Family::from_flags(args.ipv4, args.ipv6))?;
    let max = ping::icmp::max_payload(Version::of(address));
    if args.size > max {
        return Err(Error::Usage(format!(
            "-s {}: an echo request to {address} holds at most {max} bytes of data",
            args.size
        )));
    }
    let options = PingOptions {
        count: args.count,
        interval,
        timeout,
    };
    let target = PingTarget {
        host: args.host.clone(),
        address,
        tcp_port,
        payload_len: args.size,
        numeric: args.numeric || args.host.parse::<IpAddr>().is_ok(),
    };
    let mut printer = PingPrinter::new(target, args.output.json, args.quiet, timeout);
    let runtime = runtime()?;
    if let Some(header) = printer.header() {
        emit(&header);
    }
    let summary = runtime.block_on(async {
        let trigger = signal_trigger()?;
        let shutdown = trigger.subscribe();
        let report = |probe: &ProbeReport| {
            if let Some(line) = printer.probe(probe)
                && !emit(&line)
            {
                trigger.fire(Stop::OutputClosed);
            }
        };
        Ok::<_, Error>(match tcp_port {
            Some(port) => {
                let mut prober = TcpProber::new(SocketAddr::new(address, port), timeout);
                ping::ping(&mut prober, &options, report, shutdown).await
            }
            None => {
                let mut prober = IcmpProber::open(address, args.size)?;
                if args.verbose {
                    eprintln!("sockit: {}", describe_socket(prober.kind()));
                }
                ping::ping(&mut prober, &options, report, shutdown).await
            }
        })
    })?;
    print!("{}", printer.summary(&summary));
    finish(runtime, None);
    Ok(summary.exit_code())
}

fn describe_socket(kind: SocketKind) -> &'static str {
    match kind {
        SocketKind::Datagram => {
            "using an ICMP datagram socket (unprivileged: this group is in net.ipv4.ping_group_range)"
        }
        SocketKind::Raw => "using a raw ICMP socket (CAP_NET_RAW)",
    }
}

fn scan(args: ScanArgs) -> Result<i32> {
    let timeout = seconds("-w", args.wait, false)?;
    let target = first_address(&args.host, Family::from_flags(args.ipv4, args.ipv6))?;
    let options = ScanOptions {
        concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        timeout,
    };
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let trigger = signal_trigger()?;
        Ok::<_, Error>(scan::scan(target, &args.ports.0, options, trigger.subscribe()).await)
    })?;
    finish(runtime, None);
    let open = output::scan::open_ports(&report, &Services::load());
    print!("{}", output::scan::render(&open, args.output.json));
    if args.verbose {
        eprintln!("sockit: {}", output::scan::counts(&report));
    }
    if let Some(error) = &report.last_local_error {
        eprintln!(
            "sockit: {} ports could not be probed ({error}); lower --concurrency",
            report.local_failures
        );
    }
    if report.interrupted() {
        eprintln!(
            "sockit: scan interrupted after {} of {} ports",
            report.ports.len(),
            report.requested
        );
        return Ok(130);
    }
    if open.is_empty() && !args.output.json {
        eprintln!(
            "sockit: no open TCP port among the {} scanned on {target}",
            report.requested
        );
    }
    Ok(if open.is_empty() { 1 } else { 0 })
}

/// The first address the resolver gives for `host` in `family`: ping and
/// scan probe one address, as ping and nmap do.
fn first_address(host: &str, family: Family) -> Result<IpAddr> {
    Ok(addr::resolve(host, 0, family)?[0].ip())
}

fn listen(args: ListenArgs) -> Result<i32> {
    let (host, port) = match args.address.as_slice() {
        [port] => (None, port),
        [host, port] => (Some(host.as_str()), port),
        _ => unreachable!("clap takes one or two values"),
    };
    let port = parse_port(port, PortUse::Listen)?;
    if args.max_conns == Some(0) {
        return Err(Error::Usage(
            "--max-conns 0 would refuse every client: give 1 or more".into(),
        ));
    }
    let common = &args.common;
    let addr = listen_address(host, port, family(common))?;
    let options = ServeOptions {
        mode: if args.echo {
            Mode::Echo
        } else if args.chat {
            Mode::Chat
        } else {
            Mode::Relay
        },
        keep_open: args.keep_open,
        max_conns: args.max_conns,
        relay: relay_options(common)?,
    };
    let events = events(common);
    if args.udp {
        return listen_udp(addr, args.echo, &events);
    }
    if options.keep_open {
        sockit::sys::raise_open_file_limit();
    }
    let runtime = runtime()?;
    let counters = Counters::new();
    let progress = progress(
        common,
        &counters,
        options.mode == Mode::Relay && !options.keep_open,
    );
    let ended = runtime.block_on(async {
        let listener = transport::bind_listener(addr, &events)?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| Error::io("registering the listener", e))?;
        let trigger = signal_trigger()?;
        transport::serve(listener, &options, Arc::clone(&counters), events, trigger).await
    });
    finish(runtime, progress);
    Ok(exit_code(ended?, options.keep_open))
}

/// A UDP server runs until stopped, like a keep-open one: a signal is its
/// normal end.
fn listen_udp(addr: std::net::SocketAddr, echo: bool, events: &Events) -> Result<i32> {
    let runtime = runtime()?;
    let ended = runtime.block_on(async {
        let socket = transport::bind_datagram(addr, events)?;
        let socket = tokio::net::UdpSocket::from_std(socket)
            .map_err(|e| Error::io("registering the socket", e))?;
        let trigger = signal_trigger()?;
        udp::server::serve(socket, echo, events.clone(), trigger).await
    });
    finish(runtime, None);
    Ok(exit_code(ended?, true))
}

fn connect(args: ConnectArgs) -> Result<i32> {
    let port = parse_port(&args.port, PortUse::Connect)?;
    let common = &args.common;
    if args.udp {
        return connect_udp(&args.host, port, common, args.broadcast);
    }
    let options = ConnectOptions {
        family: family(common),
        timeout: wait(common)?,
    };
    let relay = relay_options(common)?;
    let events = events(common);
    let runtime = runtime()?;
    let counters = Counters::new();
    let progress = progress(common, &counters, true);
    let ended = runtime.block_on(async {
        let trigger = signal_trigger()?;
        transport::connect::run(
            &args.host, port, &options, &relay, &counters, &events, &trigger,
        )
        .await
    });
    finish(runtime, progress);
    Ok(exit_code(ended?, false))
}

fn connect_udp(host: &str, port: u16, common: &CommonArgs, broadcast: bool) -> Result<i32> {
    let options = udp::client::UdpClientOptions {
        family: family(common),
        broadcast,
        linger: wait(common)?.unwrap_or(udp::client::DEFAULT_LINGER),
    };
    let events = events(common);
    let runtime = runtime()?;
    let ended = runtime.block_on(async {
        let trigger = signal_trigger()?;
        udp::client::run(host, port, &options, &events, &trigger).await
    });
    finish(runtime, None);
    Ok(exit_code(ended?, false))
}

/// Stops the runtime without waiting for its blocking threads (a relay
/// thread may be blocked reading a terminal forever), then the progress display.
fn finish(runtime: tokio::runtime::Runtime, progress: Option<Progress>) {
    runtime.shutdown_background();
    if let Some(progress) = progress {
        progress.finish();
    }
}

/// 0 for every normal end. A signal that cuts a one-shot transfer short
/// gives the shell's 128+N, so scripts can tell an incomplete copy; for a
/// keep-open server a signal is the normal way to stop, hence 0.
fn exit_code(ended: SessionEnd, keep_open: bool) -> i32 {
    match ended {
        SessionEnd::Stopped(Stop::Signal(signal)) if !keep_open => match signal {
            "SIGTERM" => 143,
            _ => 130,
        },
        _ => 0,
    }
}

fn family(common: &CommonArgs) -> Family {
    Family::from_flags(common.ipv4, common.ipv6)
}

fn wait(common: &CommonArgs) -> Result<Option<Duration>> {
    common
        .wait
        .map(|secs| seconds("-w", secs, false))
        .transpose()
}

/// A number of seconds from the command line, checked: positive (or zero
/// where `zero_ok`) and finite.
fn seconds(flag: &str, secs: f64, zero_ok: bool) -> Result<Duration> {
    let low_ok = secs > 0.0 || (zero_ok && secs == 0.0);
    if secs.is_finite() && low_ok && secs < 1e9 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        let or_zero = if zero_ok { " or 0" } else { "" };
        Err(Error::Usage(format!(
            "{flag} {secs}: give a positive number of seconds{or_zero} (fractions allowed)"
        )))
    }
}

fn relay_options(common: &CommonArgs) -> Result<RelayOptions> {
    Ok(RelayOptions {
        idle_timeout: wait(common)?,
        send_fin: !common.no_shutdown,
    })
}

fn events(common: &CommonArgs) -> Events {
    if common.verbose {
        narrate::to_stderr()
    } else {
        Events::none()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the I/O runtime", e))
}

fn signal_trigger() -> Result<Trigger> {
    let trigger = Trigger::new();
    trigger
        .on_signals()
        .map_err(|e| Error::io("installing signal handlers", e))?;
    Ok(trigger)
}

fn progress(common: &CommonArgs, counters: &Arc<Counters>, applies: bool) -> Option<Progress> {
    if applies {
        Progress::for_stdin(Arc::clone(counters), common.progress)
    } else {
        None
    }
}
