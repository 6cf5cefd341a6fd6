//! trace: the routers on the way, hop by hop.

use std::io::Write;
use std::net::IpAddr;

use sockit::addr::{self, PortUse, parse_port};
use sockit::output;
use sockit::output::trace::{
    Names, TraceSummary, hop_line, hop_record, report_record, report_table,
};
use sockit::tools::trace::{Method, Prober, Report, TraceOptions, Tracer, UDP_BASE_PORT};
use sockit::{Error, Result};

use super::{finish, runtime, seconds, signal_trigger};
use crate::cli::TraceArgs;

fn method(args: &TraceArgs) -> Result<Method> {
    let port = args
        .port
        .as_deref()
        .map(|p| parse_port(p, PortUse::Connect))
        .transpose()?;
    Ok(if args.icmp {
        Method::Icmp
    } else if args.tcp {
        Method::Tcp {
            port: port.unwrap_or(80),
        }
    } else {
        Method::Udp {
            port: port.unwrap_or(UDP_BASE_PORT),
        }
    })
}

pub fn trace(args: TraceArgs) -> Result<i32> {
    if args.first_ttl > args.max_ttl {
        return Err(Error::Usage(format!(
            "-f {} is beyond -m {}: the first TTL must not exceed the largest",
            args.first_ttl, args.max_ttl
        )));
    }
    let wait = seconds("-w", args.wait, false)?;
    let method = method(&args)?;
    let destination: IpAddr = addr::resolve(&args.host, 0, args.family.family())?[0].ip();
    let prober = Prober::open(method, destination).map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => Error::NotFound {
            what: "ICMP probes need a raw socket (root or CAP_NET_RAW) or an ICMP datagram socket, which net.ipv4.ping_group_range does not allow here".into(),
            hint: "run as root, widen ping_group_range, or use UDP (the default) or -T, which need no privilege".into(),
        },
        _ => Error::io("opening the probe socket", e),
    })?;
    if args.verbose {
        eprintln!("sockit: {}", prober.describe());
    }
    let options = TraceOptions {
        first_ttl: args.first_ttl,
        max_ttl: args.max_ttl,
        wait,
    };
    let mut tracer = Tracer::new(prober, destination, options);
    let mut names = Names::new(args.numeric);
    let runtime = runtime()?;
    let trigger = runtime.block_on(async { signal_trigger() })?;
    let shutdown = trigger.subscribe();
    let stopped = || shutdown.stopped().is_some();
    let json = args.output.json;
    let stdout = std::io::stdout();
    if args.report {
        let mut report = Report::default();
        for _ in 0..args.count {
            let round = tracer
                .round(1, |_| {}, stopped)
                .map_err(|e| Error::io("probing", e))?;
            report.add(&round);
            if stopped() {
                break;
            }
        }
        let reached = report.hops.iter().any(|h| h.address == Some(destination));
        let mut out = stdout.lock();
        if json {
            for hop in &report.hops {
                let record = report_record(hop, &mut names);
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&record).unwrap_or_default()
                );
            }
        } else {
            let _ = write!(
                out,
                "{}",
                report_table(&args.host, &report.hops, &mut names)
            );
            if args.plot {
                let _ = write!(out, "{}", output::trace::report_plot(&report.hops));
            }
            if let Some(path) = &args.svg {
                let series: Vec<(String, Vec<Option<f64>>)> = report
                    .hops
                    .iter()
                    .map(|hop| {
                        let name = hop.address.map_or_else(|| "???".into(), |a| a.to_string());
                        (
                            format!("{:>2}. {name}", hop.ttl),
                            hop.rtts_ms.iter().copied().map(Some).collect(),
                        )
                    })
                    .collect();
                let chart =
                    output::plot::svg_chart(&format!("trace {}", args.host), &series, false);
                std::fs::write(path, chart)
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            }
        }
        finish(runtime, None);
        return Ok(if reached { 0 } else { 1 });
    }
    if !json {
        eprintln!(
            "trace to {} ({destination}), {} hops max, {} probes per hop, all at once",
            args.host, args.max_ttl, args.probes
        );
    }
    let round = tracer
        .round(
            args.probes,
            |hop| {
                let mut out = stdout.lock();
                let line = if json {
                    serde_json::to_string(&hop_record(hop, destination, &mut names))
                        .unwrap_or_default()
                } else {
                    hop_line(hop, &mut names)
                };
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            },
            stopped,
        )
        .map_err(|e| Error::io("probing", e))?;
    if json {
        let summary = TraceSummary {
            kind: "summary",
            destination,
            reached: round.reached,
            hops: round.hops.len(),
        };
        let _ = writeln!(
            stdout.lock(),
            "{}",
            serde_json::to_string(&summary).unwrap_or_default()
        );
    }
    finish(runtime, None);
    Ok(if round.reached { 0 } else { 1 })
}
