//! The classic pcap file format (libpcap's savefile): a 24-byte global
//! header, then per frame a 16-byte record header and the captured bytes.
//! Wireshark, tshark and tcpdump all read and write it.
//!
//! Files in either byte order and with microsecond or nanosecond time stamps
//! are read; files are written in this host's byte order with microseconds,
//! the form every reader accepts.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::packet::LinkType;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// A record claiming more than this is a corrupt file, not a frame.
const MAX_RECORD: u32 = 256 * 1024 * 1024;
/// The snapshot length written in headers: frames are never cut shorter.
pub const SNAPLEN: u32 = 262_144;

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

pub struct PcapReader<R: Read> {
    input: BufReader<R>,
    swapped: bool,
    nanos: bool,
    pub link: LinkType,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl<R: Read> PcapReader<R> {
    /// Reads the global header; fails on anything that is not a pcap file
    /// with a link type sockit decodes.
    pub fn new(input: R) -> io::Result<PcapReader<R>> {
        let mut input = BufReader::with_capacity(1 << 20, input);
        let mut header = [0u8; 24];
        input.read_exact(&mut header).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => invalid("too short for a pcap header".into()),
            _ => e,
        })?;
        let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let (swapped, nanos) = match magic {
            MAGIC_MICROS => (false, false),
            MAGIC_NANOS => (false, true),
            m if m.swap_bytes() == MAGIC_MICROS => (true, false),
            m if m.swap_bytes() == MAGIC_NANOS => (true, true),
            0x0a0d_0d0a => {
                return Err(invalid(
                    "this is a pcapng file; convert it with `editcap -F pcap IN OUT` or capture with -w again".into(),
                ));
            }
            _ => return Err(invalid("not a pcap file (unknown magic number)".into())),
        };
        let mut reader = PcapReader {
            input,
            swapped,
            nanos,
            link: LinkType::Ethernet,
        };
        let link = reader.u32_at(&header, 20);
        reader.link = LinkType::from_pcap(link & 0x0fff_ffff).ok_or_else(|| {
            invalid(format!(
                "link type {link} is not one sockit decodes (Ethernet, Linux cooked, raw IP)"
            ))
        })?;
        Ok(reader)
    }

    fn u32_at(&self, bytes: &[u8], at: usize) -> u32 {
        let raw = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if self.swapped {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        }
    }

    /// The next record into `frame` (replacing its contents); `None` at a
    /// clean end of file. A file cut inside a record ends with an error.
    pub fn next_record(&mut self, frame: &mut Vec<u8>) -> io::Result<Option<RecordHeader>> {
        let mut header = [0u8; 16];
        match self.input.read(&mut header[..1])? {
            0 => return Ok(None),
            _ => self.input.read_exact(&mut header[1..]).map_err(truncated)?,
        }
        let seconds = self.u32_at(&header, 0);
        let fraction = self.u32_at(&header, 4);
        let captured_len = self.u32_at(&header, 8);
        let original_len = self.u32_at(&header, 12);
        if captured_len > MAX_RECORD {
            return Err(invalid(format!(
                "a record of {captured_len} bytes: the file is corrupt"
            )));
        }
        frame.resize(captured_len as usize, 0);
        self.input.read_exact(frame).map_err(truncated)?;
        let nanos = if self.nanos {
            fraction
        } else {
            fraction.saturating_mul(1000)
        };
        Ok(Some(RecordHeader {
            time: Duration::new(u64::from(seconds), nanos.min(999_999_999)),
            original_len,
            captured_len,
        }))
    }
}

fn truncated(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            invalid("the file ends inside a record (cut short?)".into())
        }
        _ => e,
    }
}

pub struct PcapWriter<W: Write> {
    output: BufWriter<W>,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(output: W, link: LinkType) -> io::Result<PcapWriter<W>> {
        let mut output = BufWriter::with_capacity(1 << 16, output);
        let mut header = Vec::with_capacity(24);
        header.extend(MAGIC_MICROS.to_ne_bytes());
        header.extend(2u16.to_ne_bytes()); // version 2.4
        header.extend(4u16.to_ne_bytes());
        header.extend(0i32.to_ne_bytes()); // time zone: UTC
        header.extend(0u32.to_ne_bytes()); // accuracy
        header.extend(SNAPLEN.to_ne_bytes());
        header.extend(link.pcap_value().to_ne_bytes());
        output.write_all(&header)?;
        Ok(PcapWriter { output })
    }

    pub fn write(&mut self, header: &RecordHeader, frame: &[u8]) -> io::Result<()> {
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&(header.time.as_secs() as u32).to_ne_bytes());
        record[4..8].copy_from_slice(&header.time.subsec_micros().to_ne_bytes());
        record[8..12].copy_from_slice(&(frame.len() as u32).to_ne_bytes());
        record[12..16].copy_from_slice(&header.original_len.max(frame.len() as u32).to_ne_bytes());
        self.output.write_all(&record)?;
        self.output.write_all(frame)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.output.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_is_written_reads_back() {
        let mut file = Vec::new();
        let mut writer = PcapWriter::new(&mut file, LinkType::Ethernet).unwrap();
        let header = RecordHeader {
            time: Duration::new(1_700_000_000, 123_456_000),
            original_len: 100,
            captured_len: 3,
        };
        writer.write(&header, b"abc").unwrap();
        writer.flush().unwrap();
        drop(writer);
        let mut reader = PcapReader::new(&file[..]).unwrap();
        assert_eq!(reader.link, LinkType::Ethernet);
        let mut frame = Vec::new();
        assert_eq!(reader.next_record(&mut frame).unwrap(), Some(header));
        assert_eq!(frame, b"abc");
        assert_eq!(reader.next_record(&mut frame).unwrap(), None);
        // Cut inside the record: an error, not a frame or a panic.
        let mut cut = PcapReader::new(&file[..file.len() - 1]).unwrap();
        assert!(cut.next_record(&mut frame).is_err());
    }

    proptest! {
        #[test]
        fn no_file_makes_the_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut file = MAGIC_MICROS.to_le_bytes().to_vec();
            file.extend([0u8; 16]);
            file.extend(1u32.to_le_bytes());
            file.extend(bytes);
            if let Ok(mut reader) = PcapReader::new(&file[..]) {
                let mut frame = Vec::new();
                while let Ok(Some(_)) = reader.next_record(&mut frame) {}
            }
        }
    }
}
