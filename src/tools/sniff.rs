//! sniff: frames from a live interface or a pcap file, decoded layer by
//! layer, filtered, narrated connection by connection, optionally saved.
//!
//! The loop is synchronous: a capture is one stream of frames, and its
//! receive returns every 100 ms so a stop (Ctrl-C, `-c` reached, stdout
//! gone) is noticed promptly without an event loop.

use std::fs::File;
use std::io;
use std::time::Duration;

use crate::capture::{KernelCounts, LiveCapture};
use crate::wire::conversation::{ConnectionSummary, Conversations, Step};
use crate::wire::filter::Filter;
use crate::wire::packet::{LinkType, Packet, decode};
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
    pub filter: Filter,
    /// Stop after this many matching packets.
    pub count: Option<u64>,
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
    options: &SniffOptions,
    mut save: Option<&mut CaptureWriter<File>>,
    mut show: impl FnMut(&Seen<'_>) -> bool,
    stopped: impl Fn() -> bool,
) -> io::Result<SniffReport> {
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
            Source::Live(capture) => match capture.next_frame()? {
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
                let Some(record) = reader.next_record()? else {
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
        let packet = decode(interface.link, frame);
        if !options.filter.matches(&packet) {
            continue;
        }
        report.matched += 1;
        if let Some(writer) = save.as_deref_mut() {
            writer.write(&header, interface, frame)?;
        }
        let start = *first.get_or_insert(header.time);
        let steps = conversations.observe(&packet, header.time);
        let seen = Seen {
            number: report.matched,
            header,
            relative: header.time.saturating_sub(start),
            interface: interface.name.as_deref(),
            frame,
            comment,
            packet,
            steps,
        };
        if !show(&seen) {
            break;
        }
    }
    if let Some(writer) = save {
        writer.flush()?;
    }
    if let Source::Live(capture) = source {
        report.kernel = capture.kernel_counts();
    }
    report.connections = conversations.summaries();
    Ok(report)
}
