//! DNS messages (RFC 1035), read with the simple-dns crate: the header's
//! id, whether it is a query or a response, the questions, the answers
//! with their types and data, and the response code.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use simple_dns::rdata::RData;
use simple_dns::{Packet, PacketFlag, RCODE};

use super::Application;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dns {
    pub id: u16,
    pub response: bool,
    /// NOERROR, NXDOMAIN, SERVFAIL...: responses only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcode: Option<&'static str>,
    pub questions: Vec<Question>,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub ttl: u32,
    /// The record's data in its usual text form (an address, a name, text).
    pub data: String,
}

pub fn decode(message: &[u8]) -> Application<'static> {
    match Packet::parse(message) {
        Ok(packet) => Application::Dns(read(&packet)),
        Err(e) => Application::Malformed {
            protocol: "DNS",
            problem: e.to_string(),
        },
    }
}

fn read(packet: &Packet<'_>) -> Dns {
    let response = packet.has_flags(PacketFlag::RESPONSE);
    Dns {
        id: packet.id(),
        response,
        rcode: response.then(|| rcode_name(packet.rcode())),
        questions: packet
            .questions
            .iter()
            .map(|q| Question {
                name: q.qname.to_string(),
                kind: type_name(u16::from(q.qtype)),
            })
            .collect(),
        answers: packet
            .answers
            .iter()
            .map(|a| Answer {
                name: a.name.to_string(),
                kind: type_name(u16::from(a.rdata.type_code())),
                ttl: a.ttl,
                data: data(&a.rdata),
            })
            .collect(),
    }
}

fn rcode_name(rcode: RCODE) -> &'static str {
    match rcode {
        RCODE::NoError => "NOERROR",
        RCODE::FormatError => "FORMERR",
        RCODE::ServerFailure => "SERVFAIL",
        RCODE::NameError => "NXDOMAIN",
        RCODE::NotImplemented => "NOTIMP",
        RCODE::Refused => "REFUSED",
        _ => "other",
    }
}

/// The type's mnemonic (A, AAAA, MX...), or TYPEnnn (RFC 3597) when unknown.
fn type_name(code: u16) -> String {
    let known = match code {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        257 => "CAA",
        _ => return format!("TYPE{code}"),
    };
    known.to_string()
}

fn data(rdata: &RData<'_>) -> String {
    match rdata {
        RData::A(a) => Ipv4Addr::from(a.address).to_string(),
        RData::AAAA(aaaa) => Ipv6Addr::from(aaaa.address).to_string(),
        RData::CNAME(name) => name.0.to_string(),
        RData::NS(name) => name.0.to_string(),
        RData::PTR(name) => name.0.to_string(),
        RData::MX(mx) => format!("{} {}", mx.preference, mx.exchange),
        RData::TXT(txt) => {
            let mut text = String::new();
            for (key, value) in txt.iter_raw() {
                let _ = write!(text, "{}", String::from_utf8_lossy(key));
                if let Some(value) = value {
                    let _ = write!(text, "={}", String::from_utf8_lossy(value));
                }
            }
            text
        }
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority, srv.weight, srv.port, srv.target
        ),
        RData::SOA(soa) => format!("{} {} {}", soa.mname, soa.rname, soa.serial),
        _ => "…".to_string(),
    }
}

impl Dns {
    /// `query 0x1a2b A example.org` or `response 0x1a2b NOERROR A example.org: 93.184.215.14`.
    pub fn summary(&self) -> String {
        let mut text = if self.response {
            format!("response 0x{:04x} {}", self.id, self.rcode.unwrap_or(""))
        } else {
            format!("query 0x{:04x}", self.id)
        };
        for q in &self.questions {
            let _ = write!(text, " {} {}", q.kind, q.name);
        }
        if self.response {
            let answers: Vec<String> = self.answers.iter().map(|a| a.data.clone()).collect();
            if !answers.is_empty() {
                let _ = write!(text, ": {}", answers.join(", "));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_dns::{CLASS, Name, QCLASS, QTYPE, ResourceRecord, TYPE, rdata};

    #[test]
    fn a_query_and_its_answer() {
        let mut query = Packet::new_query(0x1a2b);
        query.questions.push(simple_dns::Question::new(
            Name::new_unchecked("example.org"),
            QTYPE::TYPE(TYPE::A),
            QCLASS::CLASS(CLASS::IN),
            false,
        ));
        let bytes = query.build_bytes_vec().unwrap();
        let Application::Dns(dns) = decode(&bytes) else {
            panic!()
        };
        assert_eq!(dns.summary(), "query 0x1a2b A example.org");
        let mut reply = query.into_reply();
        reply.answers.push(ResourceRecord::new(
            Name::new_unchecked("example.org"),
            CLASS::IN,
            300,
            RData::A(rdata::A {
                address: u32::from(Ipv4Addr::new(192, 0, 2, 7)),
            }),
        ));
        let Application::Dns(dns) = decode(&reply.build_bytes_vec().unwrap()) else {
            panic!()
        };
        assert_eq!(
            dns.summary(),
            "response 0x1a2b NOERROR A example.org: 192.0.2.7"
        );
        assert_eq!(dns.answers[0].ttl, 300);
        assert!(matches!(
            decode(b"\x00\x01garbage"),
            Application::Malformed { .. }
        ));
    }
}
