//! sniff: the wire, decoded.

use std::io::Write;
use std::net::SocketAddr;

use sockit::addr::{self, Family, PortUse, parse_port};
use sockit::capture::LiveCapture;
use sockit::output;
use sockit::output::sniff::SniffStyle;
use sockit::tools::sniff::{self, SniffOptions, Source};
use sockit::wire::filter::Filter;
use sockit::wire::pcap::{CaptureReader, CaptureWriter, Format};
use sockit::{Error, Result};

use super::{finish, runtime, signal_trigger};
use crate::cli::SniffArgs;

/// The user's --proto, --host and --port, names resolved.
fn filter(args: &SniffArgs) -> Result<Filter> {
    let hosts = match &args.host {
        Some(host) => addr::resolve(host, 0, Family::Any)?
            .iter()
            .map(SocketAddr::ip)
            .collect(),
        None => Vec::new(),
    };
    let port = args
        .port
        .as_deref()
        .map(|p| parse_port(p, PortUse::Listen))
        .transpose()?;
    Ok(Filter {
        protocol: args.proto,
        hosts,
        port,
    })
}

/// A capture file with -r, otherwise a live capture with the filter in the kernel.
fn open_source(args: &SniffArgs, filter: &Filter) -> Result<Source> {
    let Some(path) = &args.read else {
        return Ok(Source::Live(LiveCapture::open(
            args.interface.as_deref(),
            filter,
        )?));
    };
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let reader = CaptureReader::new(file)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(Source::File(reader))
}

/// The -w file, with the source's link type.
fn open_writer(args: &SniffArgs, source: &Source) -> Result<Option<CaptureWriter<std::fs::File>>> {
    let Some(path) = &args.write else {
        return Ok(None);
    };
    let file = std::fs::File::create(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    let writer = CaptureWriter::new(file, Format::for_path(path), source.link())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    Ok(Some(writer))
}

pub fn sniff(args: SniffArgs) -> Result<i32> {
    let filter = filter(&args)?;
    let mut source = open_source(&args, &filter)?;
    let mut writer = open_writer(&args, &source)?;
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
