//! Capture files: classic pcap (libpcap's savefile) and pcapng (what
//! Wireshark and dumpcap write), read and written through the pcap-parser
//! crate so that every variant its authors met in the wild is handled the
//! same way here.
//!
//! Reading takes pcap in either byte order with micro- or nanosecond time
//! stamps, and pcapng with any number of sections and interfaces, each with
//! its own link type, name and time resolution. Writing makes pcap (this
//! host's choice every reader accepts: microseconds) or pcapng (nanoseconds,
//! one interface block per interface, with its name), chosen by the caller
//! (`sniff -w` goes by the file name's extension).

use std::borrow::Cow;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pcap_parser::pcapng::{
    EnhancedPacketBlock, InterfaceDescriptionBlock, OptionCode, PcapNGOption, SectionHeaderBlock,
};
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{Block, Linktype, PcapBlockOwned, PcapError, PcapHeader, ToVec};

use super::link::LinkType;

/// The snapshot length written in headers: frames are never cut shorter.
pub const SNAPLEN: u32 = 262_144;
/// Room for the largest block a sane file holds (a 256 KiB frame and its
/// options); a block larger than the buffer can ever grow to is corruption.
const BUFFER: usize = 1 << 20;
const MAX_BUFFER: usize = 16 << 20;
const MICROS: u32 = 0xa1b2_c3d4;

/// When a frame was captured, and how long it was on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub time: Duration,
    /// Bytes on the wire; the record holds `captured` of them.
    pub original_len: u32,
    pub captured_len: u32,
}

impl RecordHeader {
    pub fn now(captured_len: u32, original_len: u32) -> RecordHeader {
        RecordHeader {
            time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            original_len,
            captured_len,
        }
    }
}

/// Which of the two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

impl Format {
    /// pcapng for a name ending in `.pcapng` (as Wireshark names them), pcap otherwise.
    pub fn for_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("pcapng") => Format::PcapNg,
            _ => Format::Pcap,
        }
    }
}

/// An interface a file's frames were captured on. A pcap file has one,
/// without a name; a pcapng file describes each of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub link: LinkType,
    pub name: Option<String>,
    /// Time stamp units per second, and seconds added to each (pcapng).
    units_per_second: u64,
    offset_seconds: i64,
}

impl Interface {
    pub fn new(link: LinkType, name: Option<String>) -> Interface {
        Interface {
            link,
            name,
            units_per_second: 1_000_000,
            offset_seconds: 0,
        }
    }

    fn time(&self, units: u64) -> Duration {
        let per_second = self.units_per_second.max(1);
        let seconds = (units / per_second).saturating_add_signed(self.offset_seconds);
        let fraction = units % per_second;
        // Micro- and nanoseconds (nearly every file) without a 128-bit division.
        let nanos = if 1_000_000_000 % per_second == 0 {
            fraction * (1_000_000_000 / per_second)
        } else {
            (u128::from(fraction) * 1_000_000_000 / u128::from(per_second)) as u64
        };
        Duration::new(seconds, nanos as u32)
    }
}

/// One frame read from a file.
#[derive(Debug)]
pub struct Record<'a> {
    pub header: RecordHeader,
    /// The interface it was captured on, with its link type.
    pub interface: &'a Interface,
    pub interface_index: usize,
    pub frame: &'a [u8],
    /// A comment the file attached to the frame (pcapng).
    pub comment: Option<&'a str>,
}

pub struct CaptureReader {
    blocks: Box<dyn PcapReaderIterator + Send>,
    pub format: Format,
    state: FileState,
    /// The handed-out block's length: it stays in the buffer (the frame
    /// borrows it) until the next call.
    pending: usize,
}

/// What the blocks read so far say about the ones to come.
#[derive(Default)]
struct FileState {
    interfaces: Vec<Interface>,
    /// pcap files with nanosecond time stamps (a different magic number).
    nanos: bool,
    /// The current pcapng section's byte order.
    big_endian: bool,
    /// The last frame's pcapng comment, if it had one.
    comment: Option<String>,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// What a block from the file amounts to.
enum Step {
    Skip,
    Frame {
        header: RecordHeader,
        interface: usize,
        /// Where the frame starts in the reader's buffer, and its length.
        start: usize,
        len: usize,
    },
}

impl CaptureReader {
    /// Recognises the format from the first bytes; fails on anything that
    /// is neither pcap nor pcapng.
    pub fn new(input: impl Read + Send + 'static) -> io::Result<CaptureReader> {
        let blocks = pcap_parser::create_reader(BUFFER, input).map_err(|e| match e {
            PcapError::Eof => invalid("the file is empty"),
            PcapError::ReadError => io::Error::other("the file could not be read"),
            PcapError::Incomplete(_) => invalid("too short for a pcap or pcapng header"),
            _ => invalid("not a pcap or pcapng file (unknown magic number)"),
        })?;
        let mut reader = CaptureReader {
            blocks,
            format: Format::Pcap,
            state: FileState::default(),
            pending: 0,
        };
        // The first block says which format this is (and, for pcap, the link type).
        if let Some(Step::Frame { .. }) = reader.advance()? {
            unreachable!("a file's first block is its header");
        }
        Ok(reader)
    }

    /// The interfaces described so far (pcapng may describe more later).
    pub fn interfaces(&self) -> &[Interface] {
        &self.state.interfaces
    }

    /// The link type of the first interface: what a single-link file holds.
    pub fn first_link(&self) -> Option<LinkType> {
        self.state.interfaces.first().map(|i| i.link)
    }

    /// The next frame; `None` at a clean end of file. A file cut inside a
    /// record ends with an error.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        loop {
            match self.advance()? {
                None => return Ok(None),
                Some(Step::Skip) => continue,
                Some(Step::Frame {
                    header,
                    interface,
                    start,
                    len,
                }) => {
                    return Ok(Some(Record {
                        header,
                        interface: &self.state.interfaces[interface],
                        interface_index: interface,
                        frame: &self.blocks.data()[start..start + len],
                        comment: self.state.comment.as_deref(),
                    }));
                }
            }
        }
    }

    /// Reads one block: `None` at the end of the file.
    fn advance(&mut self) -> io::Result<Option<Step>> {
        // Without the shift `consume` does past half the buffer: `refill`
        // shifts anyway, only when it must (perf: 1% of `sniff -r` moving bytes).
        if self.pending > 0 {
            self.blocks.consume_noshift(self.pending);
            self.pending = 0;
        }
        loop {
            if self.format == Format::PcapNg
                && let Some(plain) = PlainPacket::read(self.blocks.data(), self.state.big_endian)
            {
                self.pending = plain.block_len;
                let frame_at = 28;
                return self
                    .state
                    .packet(
                        plain.interface,
                        plain.units,
                        plain.original_len,
                        frame_at,
                        plain.captured_len,
                    )
                    .map(Some);
            }
            // `next` does not move the buffer's data, so a frame's place in
            // it can be kept as an offset from here.
            let base = self.blocks.data().as_ptr() as usize;
            let (offset, step) = match self.blocks.next() {
                Ok((offset, block)) => (offset, self.state.take(block, base, &mut self.format)?),
                Err(PcapError::Eof) => return Ok(None),
                Err(PcapError::Incomplete(_)) => {
                    self.blocks
                        .refill()
                        .map_err(|_| io::Error::other("the file could not be read"))?;
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    let size = self.blocks.data().len() * 2;
                    if size > MAX_BUFFER || !self.blocks.grow(size.max(BUFFER * 2)) {
                        return Err(invalid("a record larger than 16 MiB: the file is corrupt"));
                    }
                    continue;
                }
                Err(PcapError::UnexpectedEof) => {
                    return Err(invalid("the file ends inside a record (cut short?)"));
                }
                Err(_) => return Err(invalid("a malformed block: the file is corrupt")),
            };
            match step {
                Step::Skip => self.blocks.consume_noshift(offset),
                Step::Frame { .. } => self.pending = offset,
            }
            return Ok(Some(step));
        }
    }
}

impl FileState {
    /// What one block means for the reader's state, and the frame it holds.
    fn take(
        &mut self,
        block: PcapBlockOwned<'_>,
        base: usize,
        format: &mut Format,
    ) -> io::Result<Step> {
        let frame_step = |header: RecordHeader, interface: usize, data: &[u8]| Step::Frame {
            header,
            interface,
            start: data.as_ptr() as usize - base,
            len: data.len(),
        };
        Ok(match block {
            PcapBlockOwned::LegacyHeader(header) => {
                *format = Format::Pcap;
                self.nanos = header.is_nanosecond_precision();
                self.interfaces.push(Interface::new(
                    LinkType::from_pcap(header.network.0 as u32),
                    None,
                ));
                Step::Skip
            }
            PcapBlockOwned::Legacy(record) => {
                let fraction = if self.nanos {
                    record.ts_usec
                } else {
                    record.ts_usec.saturating_mul(1000)
                };
                let header = RecordHeader {
                    time: Duration::new(u64::from(record.ts_sec), fraction.min(999_999_999)),
                    original_len: record.origlen,
                    captured_len: record.data.len() as u32,
                };
                frame_step(header, 0, record.data)
            }
            PcapBlockOwned::NG(Block::SectionHeader(section)) => {
                // A new section describes its interfaces afresh.
                *format = Format::PcapNg;
                self.big_endian = section.big_endian();
                self.interfaces.clear();
                Step::Skip
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.interfaces.push(Interface {
                    link: LinkType::from_pcap(idb.linktype.0 as u32),
                    name: idb.if_name().and_then(Result::ok).map(str::to_string),
                    units_per_second: idb.ts_resolution().unwrap_or(1_000_000),
                    offset_seconds: idb.ts_offset(),
                });
                Step::Skip
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let data = epb.packet_data();
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let start = data.as_ptr() as usize - base;
                let step = self.packet(epb.if_id, units, epb.orig_len(), start, data.len())?;
                self.comment = epb
                    .options
                    .iter()
                    .find(|o| o.code == OptionCode::Comment)
                    .map(|o| String::from_utf8_lossy(&o.value).into_owned());
                step
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                if self.interfaces.is_empty() {
                    return Err(invalid(
                        "a packet before any interface is described: the file is corrupt",
                    ));
                }
                self.comment = None;
                let data = spb.packet_data();
                let header = RecordHeader {
                    time: Duration::ZERO,
                    original_len: spb.orig_len(),
                    captured_len: data.len() as u32,
                };
                frame_step(header, 0, data)
            }
            // Name resolution, statistics, journal, secrets, custom: not frames.
            PcapBlockOwned::NG(_) => Step::Skip,
        })
    }

    /// A pcapng packet on interface `index`, stamped `units` of the
    /// interface's resolution, its frame at `start` in the buffer.
    fn packet(
        &mut self,
        index: u32,
        units: u64,
        original_len: u32,
        start: usize,
        len: usize,
    ) -> io::Result<Step> {
        let Some(interface) = self.interfaces.get(index as usize) else {
            return Err(invalid(format!(
                "a packet on interface {index}, which the file never describes: the file is corrupt"
            )));
        };
        self.comment = None;
        Ok(Step::Frame {
            header: RecordHeader {
                time: interface.time(units),
                original_len,
                captured_len: len as u32,
            },
            interface: index as usize,
            start,
            len,
        })
    }
}

/// An Enhanced Packet Block without options (what capture tools write for
/// nearly every packet), read in place. pcap-parser reads the same block
/// through its general parser (options, both byte orders) at about 60 ns
/// more per packet than a pcap record; on bench/sniff.sh's real capture that
/// was 6.6% of `sniff -r` on pcapng against 2% for pcap records. Any other
/// block, or one that does not add up, goes to pcap-parser.
struct PlainPacket {
    block_len: usize,
    interface: u32,
    units: u64,
    captured_len: usize,
    original_len: u32,
}

const ENHANCED_PACKET_BLOCK: u32 = 6;

impl PlainPacket {
    fn read(data: &[u8], big_endian: bool) -> Option<PlainPacket> {
        let word = |at: usize| -> Option<u32> {
            let bytes: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
            Some(if big_endian {
                u32::from_be_bytes(bytes)
            } else {
                u32::from_le_bytes(bytes)
            })
        };
        if word(0)? != ENHANCED_PACKET_BLOCK {
            return None;
        }
        let block_len = word(4)? as usize;
        let captured_len = word(20)? as usize;
        let padded = captured_len.checked_add(3)? & !3;
        if block_len != 32 + padded
            || data.len() < block_len
            || word(block_len - 4)? as usize != block_len
        {
            return None;
        }
        Some(PlainPacket {
            block_len,
            interface: word(8)?,
            units: (u64::from(word(12)?) << 32) | u64::from(word(16)?),
            captured_len,
            original_len: word(24)?,
        })
    }
}

/// Writes frames in either format. Interfaces are described (pcapng) as
/// their first frame arrives, so a live capture needs no list in advance.
pub struct CaptureWriter<W: Write> {
    output: BufWriter<W>,
    format: Format,
    /// pcap: the one link type of the file; pcapng: the interfaces described.
    described: Vec<Interface>,
}

fn serialized<E: std::fmt::Debug>(bytes: Result<Vec<u8>, E>) -> io::Result<Vec<u8>> {
    bytes.map_err(|e| io::Error::other(format!("encoding a capture block: {e:?}")))
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a file whose frames are mostly `link` frames (pcap can hold
    /// only one link type; pcapng holds any mix).
    pub fn new(output: W, format: Format, link: LinkType) -> io::Result<CaptureWriter<W>> {
        let mut output = BufWriter::with_capacity(1 << 16, output);
        let mut described = Vec::new();
        match format {
            Format::Pcap => {
                let header = PcapHeader {
                    magic_number: MICROS,
                    snaplen: SNAPLEN,
                    network: Linktype(link.pcap_value() as i32),
                    ..PcapHeader::new()
                };
                output.write_all(&serialized(header.to_vec_raw())?)?;
                described.push(Interface::new(link, None));
            }
            Format::PcapNg => {
                let application = format!("sockit {}", env!("CARGO_PKG_VERSION"));
                let mut section = SectionHeaderBlock {
                    block_type: 0,
                    block_len1: 0,
                    bom: 0,
                    major_version: 1,
                    minor_version: 0,
                    section_len: -1,
                    options: vec![option(OptionCode::ShbUserAppl, application.as_bytes())],
                    block_len2: 0,
                };
                output.write_all(&serialized(section.to_vec())?)?;
            }
        }
        Ok(CaptureWriter {
            output,
            format,
            described,
        })
    }

    /// Writes one frame captured on `interface`.
    pub fn write(
        &mut self,
        header: &RecordHeader,
        interface: &Interface,
        frame: &[u8],
    ) -> io::Result<()> {
        let original_len = header.original_len.max(frame.len() as u32);
        match self.format {
            Format::Pcap => {
                let link = self.described[0].link;
                if interface.link != link {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "a pcap file holds one link type, and these frames mix {} and {}: name the file .pcapng",
                            link.name(),
                            interface.link.name()
                        ),
                    ));
                }
                let mut record = [0u8; 16];
                record[0..4].copy_from_slice(&(header.time.as_secs() as u32).to_le_bytes());
                record[4..8].copy_from_slice(&header.time.subsec_micros().to_le_bytes());
                record[8..12].copy_from_slice(&(frame.len() as u32).to_le_bytes());
                record[12..16].copy_from_slice(&original_len.to_le_bytes());
                self.output.write_all(&record)?;
                self.output.write_all(frame)
            }
            Format::PcapNg => {
                let id = self.interface_id(interface)?;
                let nanos = header.time.as_nanos() as u64;
                let mut block = EnhancedPacketBlock {
                    block_type: 0,
                    block_len1: 0,
                    if_id: id,
                    ts_high: (nanos >> 32) as u32,
                    ts_low: nanos as u32,
                    caplen: frame.len() as u32,
                    origlen: original_len,
                    data: frame,
                    options: Vec::new(),
                    block_len2: 0,
                };
                self.output.write_all(&serialized(block.to_vec())?)
            }
        }
    }

    /// The pcapng interface number for `interface`, describing it first if new.
    fn interface_id(&mut self, interface: &Interface) -> io::Result<u32> {
        let known = self
            .described
            .iter()
            .position(|d| d.link == interface.link && d.name == interface.name);
        if let Some(id) = known {
            return Ok(id as u32);
        }
        let mut options = Vec::new();
        if let Some(name) = &interface.name {
            options.push(option(OptionCode::IfName, name.as_bytes()));
        }
        let mut block = InterfaceDescriptionBlock {
            block_type: 0,
            block_len1: 0,
            linktype: Linktype(interface.link.pcap_value() as i32),
            reserved: 0,
            snaplen: SNAPLEN,
            options,
            block_len2: 0,
            if_tsresol: 9,
            if_tsoffset: 0,
        };
        self.output.write_all(&serialized(block.to_vec())?)?;
        self.described.push(interface.clone());
        Ok(self.described.len() as u32 - 1)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.output.flush()
    }
}

fn option(code: OptionCode, value: &[u8]) -> PcapNGOption<'_> {
    PcapNGOption {
        code,
        len: value.len() as u16,
        value: Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(nanos: u32, len: u32) -> RecordHeader {
        RecordHeader {
            time: Duration::new(1_700_000_000, nanos),
            original_len: 100,
            captured_len: len,
        }
    }

    type Frames = Vec<(RecordHeader, usize, Vec<u8>)>;

    fn read_all(file: Vec<u8>) -> (Format, Vec<Interface>, Frames) {
        let mut reader = CaptureReader::new(io::Cursor::new(file)).unwrap();
        let mut records = Vec::new();
        while let Some(r) = reader.next_record().unwrap() {
            records.push((r.header, r.interface_index, r.frame.to_vec()));
        }
        (reader.format, reader.interfaces().to_vec(), records)
    }

    #[test]
    fn pcap_reads_back_to_the_microsecond() {
        let mut file = Vec::new();
        let mut writer = CaptureWriter::new(&mut file, Format::Pcap, LinkType::Ethernet).unwrap();
        let eth = Interface::new(LinkType::Ethernet, None);
        writer.write(&header(123_456_789, 3), &eth, b"abc").unwrap();
        writer.write(&header(5_000, 5), &eth, b"hello").unwrap();
        let cooked = Interface::new(LinkType::LinuxCooked2, None);
        assert!(writer.write(&header(0, 1), &cooked, b"x").is_err());
        writer.flush().unwrap();
        drop(writer);
        let (format, interfaces, records) = read_all(file.clone());
        assert_eq!(format, Format::Pcap);
        assert_eq!(interfaces, vec![eth]);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].0, header(123_456_000, 3));
        assert_eq!(records[0].2, b"abc");
        assert_eq!(records[1].2, b"hello");
        // Cut inside the last record: an error, not a frame or a panic.
        let mut cut = CaptureReader::new(io::Cursor::new(file[..file.len() - 1].to_vec())).unwrap();
        assert!(cut.next_record().unwrap().is_some());
        assert!(cut.next_record().is_err());
    }

    #[test]
    fn pcapng_keeps_interfaces_names_links_and_nanoseconds() {
        let mut file = Vec::new();
        let mut writer = CaptureWriter::new(&mut file, Format::PcapNg, LinkType::Ethernet).unwrap();
        let lo = Interface::new(LinkType::Ethernet, Some("lo".into()));
        let any = Interface::new(LinkType::LinuxCooked2, Some("any".into()));
        writer.write(&header(1, 3), &lo, b"abc").unwrap();
        writer.write(&header(2, 2), &any, b"xy").unwrap();
        writer.write(&header(3, 1), &lo, b"z").unwrap();
        writer.flush().unwrap();
        drop(writer);
        let (format, interfaces, records) = read_all(file);
        assert_eq!(format, Format::PcapNg);
        let names: Vec<_> = interfaces
            .iter()
            .map(|i| (i.link, i.name.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                (LinkType::Ethernet, Some("lo".into())),
                (LinkType::LinuxCooked2, Some("any".into()))
            ]
        );
        let got: Vec<_> = records
            .iter()
            .map(|(h, i, f)| (h.time.subsec_nanos(), *i, f.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 0, b"abc".to_vec()),
                (2, 1, b"xy".to_vec()),
                (3, 0, b"z".to_vec())
            ]
        );
    }

    #[test]
    fn big_endian_nanosecond_pcap() {
        let mut file = Vec::new();
        file.extend(0xa1b2_3c4du32.to_be_bytes());
        file.extend(2u16.to_be_bytes());
        file.extend(4u16.to_be_bytes());
        file.extend([0u8; 8]);
        file.extend(65535u32.to_be_bytes());
        file.extend(113u32.to_be_bytes());
        file.extend(1_700_000_000u32.to_be_bytes());
        file.extend(987_654_321u32.to_be_bytes());
        file.extend(2u32.to_be_bytes());
        file.extend(60u32.to_be_bytes());
        file.extend(b"hi");
        let (_, interfaces, records) = read_all(file);
        assert_eq!(interfaces[0].link, LinkType::LinuxCooked);
        assert_eq!(records[0].0.time, Duration::new(1_700_000_000, 987_654_321));
        assert_eq!(records[0].0.original_len, 60);
        assert_eq!(records[0].2, b"hi");
    }

    /// A big-endian pcapng section, by hand: pcap-parser writes only
    /// little-endian, and the in-place reading of packet blocks must honour
    /// the section's byte order.
    #[test]
    fn big_endian_pcapng() {
        let block = |kind: u32, body: &[u8]| {
            let len = (12 + body.len()) as u32;
            let mut b = kind.to_be_bytes().to_vec();
            b.extend(len.to_be_bytes());
            b.extend(body);
            b.extend(len.to_be_bytes());
            b
        };
        let mut section = 0x1a2b_3c4du32.to_be_bytes().to_vec();
        section.extend([0, 1, 0, 0]);
        section.extend((-1i64).to_be_bytes());
        let mut file = block(0x0a0d_0d0a, &section);
        let mut interface = 276u16.to_be_bytes().to_vec();
        interface.extend([0, 0]);
        interface.extend(65535u32.to_be_bytes());
        file.extend(block(1, &interface));
        let mut packet = 0u32.to_be_bytes().to_vec();
        let micros: u64 = 1_700_000_000_000_001;
        packet.extend(((micros >> 32) as u32).to_be_bytes());
        packet.extend((micros as u32).to_be_bytes());
        packet.extend(3u32.to_be_bytes());
        packet.extend(90u32.to_be_bytes());
        packet.extend(b"abc\0");
        file.extend(block(6, &packet));
        let (format, interfaces, records) = read_all(file);
        assert_eq!(format, Format::PcapNg);
        assert_eq!(interfaces[0].link, LinkType::LinuxCooked2);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].0.time, Duration::new(1_700_000_000, 1_000));
        assert_eq!(records[0].0.original_len, 90);
        assert_eq!(records[0].2, b"abc");
    }

    #[test]
    fn what_is_not_a_capture_is_named() {
        for (bytes, expected) in [
            (&b""[..], "empty"),
            (
                &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
                "not a pcap or pcapng",
            ),
        ] {
            let error = CaptureReader::new(io::Cursor::new(bytes.to_vec()))
                .err()
                .unwrap();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }

    proptest! {
        #[test]
        fn no_file_makes_the_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), ng in any::<bool>()) {
            let mut file = Vec::new();
            let writer = CaptureWriter::new(&mut file, if ng { Format::PcapNg } else { Format::Pcap }, LinkType::Ethernet);
            drop(writer);
            file.extend(bytes);
            if let Ok(mut reader) = CaptureReader::new(io::Cursor::new(file)) {
                while let Ok(Some(_)) = reader.next_record() {}
            }
        }
    }
}
