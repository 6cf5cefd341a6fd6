//! sniff: the wire, decoded.

use std::io::Write;
use std::net::SocketAddr;

use sockit::addr::{self, Family, PortUse, parse_port};
use sockit::capture::{Expression, LiveCapture};
use sockit::output;
use sockit::output::ladder::svg::SvgDocument;
use sockit::output::ladder::{self, LadderOptions, Ladders, TextStyle};
use sockit::output::sniff::{Dump, Printer, SniffStyle, TimeFormat};
use sockit::tools::sniff::{self, SniffOptions, Source};
use sockit::wire::bpf::filter_program;
use sockit::wire::filter::Filter;
use sockit::wire::link::LinkType;
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

/// The expression's words joined as tcpdump joins them; none when there are none.
fn expression_text(args: &SniffArgs) -> Option<String> {
    let text = args.expression.join(" ");
    (!text.trim().is_empty()).then_some(text)
}

/// A capture file with -r, otherwise a live capture with the filter in the
/// kernel. The expression, if any, is compiled for the source's link type.
fn open_source(args: &SniffArgs, filter: &Filter) -> Result<(Source, Option<Expression>)> {
    let Some(path) = &args.read else {
        let mut expression = expression_text(args)
            .map(|text| Expression::compile(&text, LinkType::Ethernet))
            .transpose()?;
        let program = match expression.as_mut() {
            Some(expression) => expression.kernel_program()?,
            None => filter_program(filter),
        };
        let capture = LiveCapture::open(args.interface.as_deref(), &program)?;
        return Ok((Source::Live(capture), expression));
    };
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let reader = CaptureReader::new(file)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let link = reader.first_link().unwrap_or(LinkType::Ethernet);
    let expression = expression_text(args)
        .map(|text| Expression::compile(&text, link))
        .transpose()?;
    Ok((Source::File(reader), expression))
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

/// -D: the interfaces, numbered as tcpdump -D numbers them.
fn list_interfaces() -> Result<i32> {
    let mut out = String::new();
    let mut number = 1;
    for interface in addr::interfaces()? {
        let mut flags = vec![if interface.up { "Up" } else { "Down" }];
        if interface.running {
            flags.push("Running");
        }
        if interface.loopback {
            flags.push("Loopback");
        }
        out.push_str(&format!(
            "{number}.{} [{}]\n",
            interface.name,
            flags.join(", ")
        ));
        number += 1;
    }
    out.push_str(&format!(
        "{number}.any (every interface; sockit's default) [Up, Running]\n"
    ));
    sockit::output::emit_text(&out);
    Ok(0)
}

fn style(args: &SniffArgs) -> SniffStyle {
    let dump = match (args.hex_ascii, args.hex, args.ascii) {
        (n, _, _) if n > 0 => Dump::HexAscii { link: n > 1 },
        (_, n, _) if n > 0 => Dump::Hex { link: n > 1 },
        (_, _, true) => Dump::Ascii,
        _ => Dump::None,
    };
    SniffStyle {
        layers: args.layers,
        json: args.output.json,
        quiet: args.quiet,
        link_header: args.link_header,
        comments: args.verbose,
        time: TimeFormat::from_count(args.time_format),
        dump,
        color: sockit::output::color::stdout().enabled(),
    }
}

/// How ladders are drawn as text: the width from COLUMNS, else the
/// terminal, else 80; ASCII when asked or when the locale is not UTF-8.
fn ladder_style(args: &SniffArgs) -> TextStyle {
    TextStyle {
        ascii: args.ascii_ladder || !output::locale_is_utf8(),
        width: output::terminal_width(),
    }
}

pub fn sniff(args: SniffArgs) -> Result<i32> {
    if args.list_interfaces {
        return list_interfaces();
    }
    let filter = filter(&args)?;
    let (mut source, expression) = open_source(&args, &filter)?;
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
    let mut printer = Printer::new(style(&args));
    let options = SniffOptions {
        filter,
        expression,
        count: args.count,
        snaplen: args.snaplen.filter(|&s| s > 0),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut text = String::new();
    let mut ladders = args.ladder.then(|| {
        Ladders::new(LadderOptions {
            absolute: args.absolute,
            only: args.connection.and_then(|n| usize::try_from(n).ok()),
        })
    });
    let text_style = ladder_style(&args);
    let mut picture = args.svg.as_ref().map(|_| SvgDocument::new());
    let report = sniff::sniff(
        &mut source,
        options,
        writer.as_mut(),
        |seen| {
            text.clear();
            match ladders.as_mut() {
                Some(ladders) => {
                    if let Some(ladder) = ladders.record(seen) {
                        text.push_str(&ladder::draw(&ladder, &text_style));
                        text.push('\n');
                        if let Some(picture) = picture.as_mut() {
                            picture.add(&ladder);
                        }
                    }
                }
                None => printer.render(seen, &mut text),
            }
            // A live capture is watched as it happens; a file is read in bulk.
            out.write_all(text.as_bytes()).is_ok() && (!live || out.flush().is_ok())
        },
        || shutdown.stopped().is_some(),
    );
    let report = report?;
    if let Some(ladders) = ladders.as_mut() {
        for ladder in ladders.finish() {
            let _ = out.write_all(ladder::draw(&ladder, &text_style).as_bytes());
            let _ = out.write_all(b"\n");
            if let Some(picture) = picture.as_mut() {
                picture.add(&ladder);
            }
        }
    } else if !args.output.json {
        let _ = out.write_all(output::sniff::connection_table(&report.connections).as_bytes());
    }
    let _ = out.flush();
    if let (Some(path), Some(picture)) = (&args.svg, &picture) {
        std::fs::write(path, picture.render())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
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
