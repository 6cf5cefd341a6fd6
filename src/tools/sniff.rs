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
use crate::wire::pcap::{PcapReader, PcapWriter, RecordHeader};

/// Where frames come from.
pub enum Source {
    Live(LiveCapture),
    File(PcapReader<File>),
}

impl Source {
    pub fn link(&self) -> LinkType {
        match self {
            Source::Live(_) => LinkType::Ethernet,
            Source::File(reader) => reader.link,
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
    mut save: Option<&mut PcapWriter<File>>,
    mut show: impl FnMut(&Seen<'_>) -> bool,
    stopped: impl Fn() -> bool,
) -> io::Result<SniffReport> {
    let link = source.link();
    let mut conversations = Conversations::new();
    let mut report = SniffReport::default();
    let mut first: Option<Duration> = None;
    let mut file_frame = Vec::new();
    let mut draining = false;
    while options.count.is_none_or(|c| report.matched < c) {
        if !draining && stopped() {
            match source {
                Source::Live(capture) => capture.stop_waiting(),
                Source::File(_) => break,
            }
            draining = true;
        }
        let (header, frame, interface) = match source {
            Source::Live(capture) => match capture.next_frame()? {
                None if draining => break,
                None => continue,
                Some(captured) => (
                    captured.header,
                    capture.frame(),
                    Some(capture.interface_name(captured.ifindex)),
                ),
            },
            Source::File(reader) => match reader.next_record(&mut file_frame)? {
                None => break,
                Some(header) => (header, &file_frame[..], None),
            },
        };
        let packet = decode(link, frame);
        if !options.filter.matches(&packet) {
            continue;
        }
        report.matched += 1;
        if let Some(writer) = save.as_deref_mut() {
            writer.write(&header, frame)?;
        }
        let start = *first.get_or_insert(header.time);
        let steps = conversations.observe(&packet, header.time);
        let seen = Seen {
            number: report.matched,
            header,
            relative: header.time.saturating_sub(start),
            interface,
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
