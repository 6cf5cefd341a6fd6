//! Writes a synthetic capture for the decode benchmark (bench/sniff.sh): a
//! realistic mix of traffic, built frame by frame with sockit's pcap writer.
//! TCP connections over IPv4 and IPv6 (handshake, requests and responses,
//! four-way close), UDP queries and answers, ICMP echoes and ARP.
//!
//!   cargo run --release --example pcapgen -- FILE [PACKETS]   # default 1,000,000

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use sockit::wire::packet::LinkType;
use sockit::wire::pcap::{CaptureWriter, Format, Interface, RecordHeader};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];
    frame.extend(ethertype.to_be_bytes());
    frame.extend(payload);
    frame
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut packet = vec![0x45, 0];
    packet.extend(total.to_be_bytes());
    packet.extend([0, 1, 0x40, 0, 64, protocol, 0, 0]);
    packet.extend(src.octets());
    packet.extend(dst.octets());
    let sum = sockit::wire::checksum::internet_checksum(&packet);
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
    packet.extend(payload);
    ethernet(0x0800, &packet)
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x60, 0, 0, 0];
    packet.extend((payload.len() as u16).to_be_bytes());
    packet.extend([next, 64]);
    packet.extend(src.octets());
    packet.extend(dst.octets());
    packet.extend(payload);
    ethernet(0x86dd, &packet)
}

fn tcp(src: u16, dst: u16, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut segment = Vec::with_capacity(20 + data.len());
    segment.extend(src.to_be_bytes());
    segment.extend(dst.to_be_bytes());
    segment.extend(seq.to_be_bytes());
    segment.extend(ack.to_be_bytes());
    segment.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    segment.extend(data);
    segment
}

fn udp(src: u16, dst: u16, data: &[u8]) -> Vec<u8> {
    let mut datagram = Vec::new();
    datagram.extend(src.to_be_bytes());
    datagram.extend(dst.to_be_bytes());
    datagram.extend(((8 + data.len()) as u16).to_be_bytes());
    datagram.extend([0, 0]);
    datagram.extend(data);
    datagram
}

fn icmp_echo(kind: u8, id: u16, seq: u16) -> Vec<u8> {
    let mut message = vec![kind, 0, 0, 0];
    message.extend(id.to_be_bytes());
    message.extend(seq.to_be_bytes());
    message.extend((0..56).map(|i| i as u8));
    let sum = sockit::wire::checksum::internet_checksum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    message
}

fn arp(operation: u16, sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut packet = vec![0, 1, 0x08, 0, 6, 4];
    packet.extend(operation.to_be_bytes());
    packet.extend([0x02, 0, 0, 0, 0, 0x01]);
    packet.extend(sender.octets());
    packet.extend([0; 6]);
    packet.extend(target.octets());
    ethernet(0x0806, &packet)
}

/// One TCP connection: handshake, `exchanges` request/response pairs, close.
fn connection(n: u32, v6: bool, exchanges: u32, out: &mut Vec<Vec<u8>>) {
    let client_port = 40000 + (n % 20000) as u16;
    let wrap = |from_client: bool, segment: Vec<u8>| {
        if v6 {
            let (c, s) = (
                Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2),
                Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1),
            );
            let (src, dst) = if from_client { (c, s) } else { (s, c) };
            ipv6(src, dst, 6, &segment)
        } else {
            let (c, s) = (
                Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8),
                Ipv4Addr::new(10, 1, 0, 1),
            );
            let (src, dst) = if from_client { (c, s) } else { (s, c) };
            ipv4(src, dst, 6, &segment)
        }
    };
    let (mut cs, mut ss) = (n.wrapping_mul(7919), n.wrapping_mul(104_729));
    out.push(wrap(true, tcp(client_port, 80, cs, 0, SYN, b"")));
    out.push(wrap(
        false,
        tcp(80, client_port, ss, cs + 1, SYN | ACK, b""),
    ));
    cs += 1;
    ss += 1;
    out.push(wrap(true, tcp(client_port, 80, cs, ss, ACK, b"")));
    let request = b"GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n";
    let response = [b'x'; 1200];
    for _ in 0..exchanges {
        out.push(wrap(true, tcp(client_port, 80, cs, ss, PSH | ACK, request)));
        cs += request.len() as u32;
        out.push(wrap(
            false,
            tcp(80, client_port, ss, cs, PSH | ACK, &response),
        ));
        ss += response.len() as u32;
        out.push(wrap(true, tcp(client_port, 80, cs, ss, ACK, b"")));
    }
    out.push(wrap(true, tcp(client_port, 80, cs, ss, FIN | ACK, b"")));
    out.push(wrap(false, tcp(80, client_port, ss, cs + 1, ACK, b"")));
    out.push(wrap(
        false,
        tcp(80, client_port, ss, cs + 1, FIN | ACK, b""),
    ));
    out.push(wrap(true, tcp(client_port, 80, cs + 1, ss + 1, ACK, b"")));
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: pcapgen FILE [PACKETS]");
    let total: u64 = args
        .get(2)
        .map_or(1_000_000, |n| n.parse().expect("a packet count"));
    let format = Format::for_path(std::path::Path::new(path));
    let mut writer = CaptureWriter::new(std::fs::File::create(path)?, format, LinkType::Ethernet)?;
    let ethernet = Interface::new(LinkType::Ethernet, Some("eth0".into()));
    let mut written = 0u64;
    let mut time = Duration::from_secs(1_700_000_000);
    let mut batch = Vec::new();
    let mut n = 0u32;
    while written < total {
        batch.clear();
        connection(n, n % 4 == 3, 1 + n % 5, &mut batch);
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 53));
        batch.push(ipv4(
            a,
            b,
            17,
            &udp(50000 + (n % 1000) as u16, 53, b"query example.org A"),
        ));
        batch.push(ipv4(
            b,
            a,
            17,
            &udp(53, 50000 + (n % 1000) as u16, &[7; 120]),
        ));
        batch.push(ipv4(a, b, 1, &icmp_echo(8, 7, n as u16)));
        batch.push(ipv4(b, a, 1, &icmp_echo(0, 7, n as u16)));
        if n.is_multiple_of(10) {
            batch.push(arp(1, a, b));
            batch.push(arp(2, b, a));
        }
        for frame in &batch {
            if written == total {
                break;
            }
            time += Duration::from_micros(13);
            let header = RecordHeader {
                time,
                original_len: frame.len() as u32,
                captured_len: frame.len() as u32,
            };
            writer.write(&header, &ethernet, frame)?;
            written += 1;
        }
        n += 1;
    }
    writer.flush()
}
