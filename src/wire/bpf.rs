//! Classic BPF programs: the filter language the kernel runs on a packet
//! socket, so that only the packets asked for are copied to user space.
//!
//! A tiny assembler with named labels keeps the generated programs
//! readable; [`filter_program`] turns a [`Filter`] into one. Loads use the
//! kernel's link-independent offsets (the protocol from the socket buffer's
//! metadata, the network header at `SKF_NET_OFF`), so one program fits
//! Ethernet, loopback and interfaces without a link header alike.

use std::collections::HashMap;
use std::net::IpAddr;

use super::filter::{Filter, Protocol};
use super::numbers::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};

/// One instruction, as `struct sock_filter` lays it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const LD: u16 = 0x00;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const W: u16 = 0x00;
const H: u16 = 0x08;
const B: u16 = 0x10;
const ABS: u16 = 0x20;
const IND: u16 = 0x40;
const JA: u16 = 0x00;
const JEQ: u16 = 0x10;
const JSET: u16 = 0x40;
const AND: u16 = 0x50;
const LSH: u16 = 0x60;
const K: u16 = 0x00;
const TAX: u16 = 0x00;

/// Ancillary load of the packet's protocol (ethertype), host order.
const PROTOCOL: u32 = (-0x1000i32) as u32;
/// The network header, whatever the link layer.
const NET: i32 = -0x100000;

/// The kernel's limit on a program's length (BPF_MAXINSNS).
const MAX_INSTRUCTIONS: usize = 4096;

/// The accepted packet's length limit: whole frames.
pub const ACCEPT: u32 = 262_144;

#[derive(Debug, Clone)]
enum Target {
    Next,
    Label(String),
}

#[derive(Default)]
struct Assembler {
    code: Vec<(u16, Target, Target, u32)>,
    labels: HashMap<String, usize>,
}

impl Assembler {
    fn label(&mut self, name: &str) {
        self.labels.insert(name.to_string(), self.code.len());
    }

    fn op(&mut self, code: u16, k: u32) {
        self.code.push((code, Target::Next, Target::Next, k));
    }

    fn load(&mut self, size: u16, net_offset: i32) {
        self.op(LD | size | ABS, (NET + net_offset) as u32);
    }

    fn jump_if(&mut self, test: u16, k: u32, yes: Target, no: Target) {
        self.code.push((JMP | test | K, yes, no, k));
    }

    fn goto(&mut self, label: &str) {
        self.code
            .push((JMP | JA, Target::Label(label.into()), Target::Next, 0));
    }

    /// The program with labels turned into offsets, or `None` when a
    /// conditional jump reaches further than its 8-bit offset can say or
    /// the program is longer than the kernel takes.
    fn assemble(self) -> Option<Vec<Instruction>> {
        if self.code.len() > MAX_INSTRUCTIONS {
            return None;
        }
        let offset = |at: usize, target: &Target| -> usize {
            match target {
                Target::Next => 0,
                Target::Label(name) => self.labels[name] - at - 1,
            }
        };
        self.code
            .iter()
            .enumerate()
            .map(|(at, (code, yes, no, k))| {
                if *code == JMP | JA {
                    return Some(Instruction {
                        code: *code,
                        jt: 0,
                        jf: 0,
                        k: offset(at, yes) as u32,
                    });
                }
                Some(Instruction {
                    code: *code,
                    jt: u8::try_from(offset(at, yes)).ok()?,
                    jf: u8::try_from(offset(at, no)).ok()?,
                    k: *k,
                })
            })
            .collect()
    }
}

fn to(label: &str) -> Target {
    Target::Label(label.into())
}

/// The program that accepts what `filter` matches: IPv4 and IPv6 packets by
/// protocol, host and port, anything else (ARP) only with no filter at all.
/// When the filter does not fit one program, a program that accepts
/// everything, leaving the choice to user space.
/// IPv6 packets are matched on the fixed header's next-header field, so
/// ones with extension headers are left out when a protocol or port is
/// asked for.
pub fn filter_program(filter: &Filter) -> Vec<Instruction> {
    let mut a = Assembler::default();
    a.op(LD | H | ABS, PROTOCOL);
    a.jump_if(JEQ, ETHERTYPE_IPV4.into(), to("v4"), Target::Next);
    a.jump_if(JEQ, ETHERTYPE_IPV6.into(), to("v6"), Target::Next);
    a.op(RET | K, if filter.is_empty() { ACCEPT } else { 0 });

    for (version, label) in [(4, "v4"), (6, "v6")] {
        a.label(label);
        let protocol_at = if version == 4 { 9 } else { 6 };
        if let Some(protocol) = filter.protocol {
            a.load(B, protocol_at);
            let number = match (protocol, version) {
                (Protocol::Icmp, 6) => 58,
                (protocol, _) => protocol.number(),
            };
            a.jump_if(JEQ, number, Target::Next, to("reject"));
        }
        if !filter.hosts.is_empty() {
            let ok = format!("{label}-host-ok");
            let (source_at, destination_at) = if version == 4 { (12, 16) } else { (8, 24) };
            for (h, host) in filter.hosts.iter().enumerate() {
                for (end, at) in [("src", source_at), ("dst", destination_at)] {
                    let words: Vec<u32> = match (host, version) {
                        (IpAddr::V4(v4), 4) => vec![u32::from(*v4)],
                        (IpAddr::V6(v6), 6) => v6
                            .octets()
                            .chunks(4)
                            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                            .collect(),
                        _ => continue,
                    };
                    let differs = format!("{label}-{h}-{end}-differs");
                    for (i, word) in words.iter().enumerate() {
                        a.load(W, at + 4 * i as i32);
                        a.jump_if(JEQ, *word, Target::Next, to(&differs));
                    }
                    a.goto(&ok);
                    a.label(&differs);
                }
            }
            a.goto("reject");
            a.label(&ok);
        }
        if let Some(port) = filter.port {
            let l4 = format!("{label}-l4");
            a.load(B, protocol_at);
            a.jump_if(JEQ, 6, to(&l4), Target::Next);
            a.jump_if(JEQ, 17, to(&l4), to("reject"));
            a.label(&l4);
            if version == 4 {
                // Later fragments carry no ports; the header's length varies.
                a.load(H, 6);
                a.jump_if(JSET, 0x1fff, to("reject"), Target::Next);
                a.load(B, 0);
                a.op(ALU | AND | K, 0x0f);
                a.op(ALU | LSH | K, 2);
                a.op(MISC | TAX, 0);
                a.op(LD | H | IND, NET as u32);
                a.jump_if(JEQ, u32::from(port), to("accept"), Target::Next);
                a.op(LD | H | IND, (NET + 2) as u32);
            } else {
                a.load(H, 40);
                a.jump_if(JEQ, u32::from(port), to("accept"), Target::Next);
                a.load(H, 42);
            }
            a.jump_if(JEQ, u32::from(port), to("accept"), to("reject"));
        }
        a.goto("accept");
    }
    a.label("accept");
    a.op(RET | K, ACCEPT);
    a.label("reject");
    a.op(RET | K, 0);
    // Too many addresses for one program (a name with dozens of them): the
    // kernel passes everything and the same filter in user space decides.
    a.assemble().unwrap_or_else(|| {
        vec![Instruction {
            code: RET | K,
            jt: 0,
            jf: 0,
            k: ACCEPT,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_filter_accepts_everything_in_few_instructions() {
        let program = filter_program(&Filter::default());
        assert!(program.len() < 12, "{program:?}");
        assert!(program.iter().any(|i| i.code == RET | K && i.k == ACCEPT));
    }

    /// Every jump lands inside the program, and the last instruction returns.
    fn check(program: &[Instruction]) {
        for (at, i) in program.iter().enumerate() {
            if i.code & 0x07 == JMP {
                let reach = if i.code == JMP | JA {
                    i.k as usize
                } else {
                    usize::from(i.jt.max(i.jf))
                };
                assert!(at + 1 + reach < program.len(), "{at}: {i:?}");
            }
        }
        assert_eq!(program.last().unwrap().code, RET | K);
    }

    #[test]
    fn too_many_hosts_for_one_program_accept_everything_instead() {
        let hosts: Vec<IpAddr> = (0..60u16)
            .map(|i| std::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, i).into())
            .collect();
        let filter = Filter {
            protocol: Some(Protocol::Udp),
            hosts,
            port: Some(53),
        };
        let program = filter_program(&filter);
        check(&program);
        assert_eq!(
            program,
            [Instruction {
                code: RET | K,
                jt: 0,
                jf: 0,
                k: ACCEPT
            }]
        );
        // A handful still compiles to a real filter.
        let few = Filter {
            hosts: filter.hosts[..4].to_vec(),
            ..filter
        };
        let program = filter_program(&few);
        check(&program);
        assert!(program.len() > 20);
    }

    #[test]
    fn jumps_stay_inside_the_program() {
        let filter = Filter {
            protocol: Some(Protocol::Tcp),
            hosts: vec!["10.0.0.1".parse().unwrap(), "fd00::1".parse().unwrap()],
            port: Some(8080),
        };
        check(&filter_program(&filter));
    }
}
