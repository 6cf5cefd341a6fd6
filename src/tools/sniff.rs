//! sniff: frames from a live interface or a pcap file, decoded layer by
//! layer, filtered, narrated connection by connection, optionally saved.
//!
//! The loop is synchronous: a capture is one stream of frames, and its
//! receive returns every 100 ms so a stop (Ctrl-C, `-c` reached, stdout
//! gone) is noticed promptly without an event loop.

use std::fs::File;
use std::io;
use std::time::Duration;

use crate::addr::{PortNames, Services};
use crate::capture::{Expression, KernelCounts, LiveCapture};
use crate::error::Error;
use crate::wire::application::{self, Application, Carrier};
use crate::wire::conversation::{ConnectionSummary, Conversations, Segment, Step};
use crate::wire::filter::Filter;
use crate::wire::packet::{LinkType, Packet, Transport, decode};
use crate::wire::pcap::{CaptureReader, CaptureWriter, Interface, RecordHeader};

/// Where frames come from.
pub enum Source {
    Live(LiveCapture),
    File(CaptureReader),
}

impl Source {
    /// The link type most frames have: a live capture gives every frame an
    /// Ethernet header; a file says (pcapng: its first interface's).
    pub fn link(&self) -> LinkType {
        match self {
            Source::Live(_) => LinkType::Ethernet,
            Source::File(reader) => reader.first_link().unwrap_or(LinkType::Ethernet),
        }
    }
}

pub struct SniffOptions {
    /// The shorthands (--host, --port, --proto).
    pub filter: Filter,
    /// tcpdump's filter expression, when one was given.
    pub expression: Option<Expression>,
    /// Stop after this many matching packets.
    pub count: Option<u64>,
    /// Keep at most this many bytes of each frame (tcpdump's -s).
    pub snaplen: Option<u32>,
}

/// One matching packet and what it did to its TCP connection.
pub struct Seen<'a> {
    /// 1 for the first matching packet.
    pub number: u64,
    pub header: RecordHeader,
    /// Time since the first matching packet.
    pub relative: Duration,
    pub interface: Option<&'a str>,
    /// The whole frame, link header included.
    pub frame: &'a [u8],
    /// A comment the capture file attached to the frame (pcapng).
    pub comment: Option<&'a str>,
    pub packet: Packet<'a>,
    /// What the transport's bytes say, or the service its port names.
    pub application: Option<Application<'a>>,
    /// Its place in its TCP connection, for sequence diagrams.
    pub segment: Option<Segment>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Default)]
pub struct SniffReport {
    pub matched: u64,
    /// What the kernel's filter passed and dropped (live only).
    pub kernel: Option<KernelCounts>,
    pub connections: Vec<ConnectionSummary>,
}

/// Runs until the source ends, `count` packets matched, `stopped()` says
/// so, or `show` returns false (its output is gone). Every matching frame
/// is also written to `save`. A live capture that is stopped first shows
/// what the kernel had already queued for it: a packet that crossed the
/// wire before Ctrl-C is not lost.
pub fn sniff(
    source: &mut Source,
    mut options: SniffOptions,
    mut save: Option<&mut CaptureWriter<File>>,
    mut show: impl FnMut(&Seen<'_>) -> bool,
    stopped: impl Fn() -> bool,
) -> Result<SniffReport, Error> {
    let names = PortNames::new(&Services::load());
    let mut conversations = Conversations::new();
    let mut report = SniffReport::default();
    let mut first: Option<Duration> = None;
    let mut draining = false;
    // A live frame's interface, as the writer describes it (pcapng keeps names).
    let mut live_interface = Interface::new(LinkType::Ethernet, None);
    while options.count.is_none_or(|c| report.matched < c) {
        if !draining && stopped() {
            match source {
                Source::Live(capture) => capture.stop_waiting(),
                Source::File(_) => break,
            }
            draining = true;
        }
        let (header, frame, interface, comment) = match source {
            Source::Live(capture) => match capture.next_frame().map_err(capturing)? {
                None if draining => break,
                None => continue,
                Some(captured) => {
                    let name = capture.interface_name(captured.ifindex);
                    if live_interface.name.as_deref() != Some(name) {
                        live_interface.name = Some(name.to_string());
                    }
                    (captured.header, capture.frame(), &live_interface, None)
                }
            },
            Source::File(reader) => {
                let Some(record) = reader.next_record().map_err(reading)? else {
                    break;
                };
                (
                    record.header,
                    record.frame,
                    record.interface,
                    record.comment,
                )
            }
        };
        let (header, frame) = cut(header, frame, options.snaplen);
        if let Some(expression) = options.expression.as_mut()
            && !expression.matches(interface.link, frame, header.original_len)?
        {
            continue;
        }
        let packet = decode(interface.link, frame);
        if !options.filter.matches(&packet) {
            continue;
        }
        report.matched += 1;
        if let Some(writer) = save.as_deref_mut() {
            writer.write(&header, interface, frame).map_err(writing)?;
        }
        let start = *first.get_or_insert(header.time);
        let application = application_of(&packet, &names);
        let observed = conversations.observe(&packet, application.as_ref(), header.time);
        let seen = Seen {
            number: report.matched,
            header,
            relative: header.time.saturating_sub(start),
            interface: interface.name.as_deref(),
            frame,
            comment,
            packet,
            application,
            segment: observed.segment,
            steps: observed.steps,
        };
        if !show(&seen) {
            break;
        }
    }
    if let Some(writer) = save {
        writer.flush().map_err(writing)?;
    }
    if let Source::Live(capture) = source {
        report.kernel = capture.kernel_counts();
    }
    report.connections = conversations.summaries();
    Ok(report)
}

/// The application layer of a TCP or UDP packet: decoded where a decoder
/// knows it, otherwise named after its port when it carries bytes.
fn application_of<'a>(packet: &Packet<'_>, names: &'a PortNames) -> Option<Application<'a>> {
    let (carrier, ports) = match packet.transport {
        Some(Transport::Tcp {
            src_port, dst_port, ..
        }) => (Carrier::Tcp, (src_port, dst_port)),
        Some(Transport::Udp {
            src_port, dst_port, ..
        }) => (Carrier::Udp, (src_port, dst_port)),
        _ => return None,
    };
    if packet.payload.is_empty() {
        return None;
    }
    application::decode(carrier, ports, packet.payload).or_else(|| {
        names
            .conversation(ports, carrier == Carrier::Tcp)
            .map(|name| Application::Named { name })
    })
}

/// The frame as `-s SNAPLEN` keeps it: at most that many bytes.
fn cut(mut header: RecordHeader, frame: &[u8], snaplen: Option<u32>) -> (RecordHeader, &[u8]) {
    match snaplen {
        Some(limit) if frame.len() > limit as usize => {
            header.captured_len = limit;
            (header, &frame[..limit as usize])
        }
        _ => (header, frame),
    }
}

fn capturing(e: io::Error) -> Error {
    Error::io("capturing", e)
}

fn reading(e: io::Error) -> Error {
    Error::io("reading the capture file", e)
}

fn writing(e: io::Error) -> Error {
    Error::io("writing the capture file", e)
}
