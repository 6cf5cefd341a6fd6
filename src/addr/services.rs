//! The services database: which well-known name goes with which port.
//!
//! `getservbyname(3)` and `getservbyport(3)` read `/etc/services` through
//! NSS; this module reads the same file with the same rules (first match in
//! file order, aliases count as names), so its answers are Python's
//! `socket.getservbyname` / `getservbyport`. Where the file is missing (slim
//! containers), a short list of well-known services shipped in sockit is
//! used instead, and the caller is told.

use serde::Serialize;

use crate::error::{Error, Result};

pub const SERVICES_FILE: &str = "/etc/services";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub name: String,
    pub port: u16,
    pub protocol: String,
    pub aliases: Vec<String>,
}

/// The database and where it came from. The text is kept and searched per
/// query rather than parsed into entries up front: a lookup is a whole
/// process, and allocating a few thousand strings it will not use was the
/// largest part of `sockit service`'s own run time.
#[derive(Debug, Clone)]
pub struct Services {
    text: String,
    /// False when `/etc/services` was missing and the built-in list is used.
    pub from_system: bool,
}

impl Services {
    /// Reads `/etc/services`, or falls back to the built-in list.
    pub fn load() -> Services {
        match std::fs::read_to_string(SERVICES_FILE) {
            Ok(text) => Services {
                text,
                from_system: true,
            },
            Err(_) => Services {
                text: BUILT_IN.to_string(),
                from_system: false,
            },
        }
    }

    pub fn from_text(text: &str) -> Services {
        Services {
            text: text.to_string(),
            from_system: true,
        }
    }

    /// Where the answers come from, for `-v`.
    pub fn origin(&self) -> String {
        if self.from_system {
            format!(
                "services from {SERVICES_FILE} ({} entries)",
                entries(&self.text).count()
            )
        } else {
            format!(
                "{SERVICES_FILE} is missing: using sockit's built-in list of {} well-known services",
                entries(&self.text).count()
            )
        }
    }

    /// Every service name once, in the database's order (for completing
    /// `sockit service NAME`).
    pub fn names(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        entries(&self.text)
            .filter(|e| seen.insert(e.name))
            .map(|e| e.name.to_string())
            .collect()
    }

    /// Answers one query: a port number looks up by port, anything else by
    /// name or alias; `protocol` narrows to tcp or udp.
    pub fn lookup(&self, query: &str, protocol: Option<&str>) -> Result<Service> {
        let proto_ok = |e: &Entry<'_>| protocol.is_none_or(|p| e.protocol == p);
        let found = if !query.is_empty() && query.bytes().all(|b| b.is_ascii_digit()) {
            let port: u16 = query.parse().map_err(|_| {
                Error::Usage(format!(
                    "port {query} is out of range: ports go from 0 to 65535"
                ))
            })?;
            entries(&self.text).find(|e| proto_ok(e) && e.port == port)
        } else {
            entries(&self.text)
                .find(|e| proto_ok(e) && (e.name == query || e.aliases().any(|a| a == query)))
        };
        found
            .map(|e| e.to_service())
            .ok_or_else(|| Error::NotFound {
                what: format!(
                    "no service {query:?}{} in {}",
                    protocol.map(|p| format!(" over {p}")).unwrap_or_default(),
                    if self.from_system {
                        SERVICES_FILE
                    } else {
                        "sockit's built-in list (/etc/services is missing)"
                    }
                ),
                hint: "check the spelling, or look for it with: grep -w NAME /etc/services".into(),
            })
    }
}

/// Every port's first name, per protocol: for naming many ports fast (each
/// packet sniff shows), where [`Services::lookup`] would scan the text.
#[derive(Debug, Clone, Default)]
pub struct PortNames {
    tcp: std::collections::HashMap<u16, String>,
    udp: std::collections::HashMap<u16, String>,
}

impl PortNames {
    pub fn new(services: &Services) -> PortNames {
        let mut names = PortNames::default();
        for entry in entries(&services.text) {
            let table = match entry.protocol {
                "tcp" => &mut names.tcp,
                "udp" => &mut names.udp,
                _ => continue,
            };
            table
                .entry(entry.port)
                .or_insert_with(|| entry.name.to_string());
        }
        names
    }

    /// The name of `port` over `protocol` ("tcp" or "udp").
    pub fn name(&self, port: u16, tcp: bool) -> Option<&str> {
        let table = if tcp { &self.tcp } else { &self.udp };
        table.get(&port).map(String::as_str)
    }

    /// The service a conversation between two ports is about: the one of
    /// them with a name, the lower if both have one (clients' ports are
    /// high and rarely named).
    pub fn conversation(&self, ports: (u16, u16), tcp: bool) -> Option<&str> {
        let (low, high) = (ports.0.min(ports.1), ports.0.max(ports.1));
        self.name(low, tcp).or_else(|| self.name(high, tcp))
    }
}

/// One line of the database, borrowed from its text.
struct Entry<'a> {
    name: &'a str,
    port: u16,
    protocol: &'a str,
    rest: &'a str,
}

impl<'a> Entry<'a> {
    fn aliases(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.rest.split_whitespace()
    }

    fn to_service(&self) -> Service {
        Service {
            name: self.name.to_string(),
            port: self.port,
            protocol: self.protocol.to_string(),
            aliases: self.aliases().map(str::to_string).collect(),
        }
    }
}

/// `name port/protocol [alias...] [# comment]`, one per line; malformed
/// lines are skipped, as getservent(3) does.
fn entries(text: &str) -> impl Iterator<Item = Entry<'_>> {
    text.lines().filter_map(|line| {
        let line = line.split_once('#').map_or(line, |(data, _)| data);
        let line = line.trim_start();
        let (name, rest) = line.split_once(char::is_whitespace)?;
        let rest = rest.trim_start();
        let (port_proto, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let (port, protocol) = port_proto.split_once('/')?;
        Some(Entry {
            name,
            port: port.parse().ok()?,
            protocol,
            rest,
        })
    })
}

/// Used only where `/etc/services` is missing: the services the course and
/// everyday tools name most.
const BUILT_IN: &str = "\
echo 7/tcp\necho 7/udp\ndiscard 9/tcp sink null\ndiscard 9/udp sink null\ndaytime 13/tcp\n\
ftp-data 20/tcp\nftp 21/tcp\nssh 22/tcp\ntelnet 23/tcp\nsmtp 25/tcp mail\ntime 37/tcp timserver\n\
whois 43/tcp nicname\ndomain 53/tcp\ndomain 53/udp\nbootps 67/udp\nbootpc 68/udp\ntftp 69/udp\n\
gopher 70/tcp\nfinger 79/tcp\nhttp 80/tcp www\nhttp 80/udp www\nkerberos 88/tcp kerberos5 krb5 kerberos-sec\n\
kerberos 88/udp kerberos5 krb5 kerberos-sec\npop3 110/tcp pop-3\nsunrpc 111/tcp portmapper\n\
sunrpc 111/udp portmapper\nauth 113/tcp authentication tap ident\nnntp 119/tcp readnews untp\n\
ntp 123/udp\nnetbios-ns 137/udp\nnetbios-dgm 138/udp\nnetbios-ssn 139/tcp\nimap2 143/tcp imap\n\
snmp 161/tcp\nsnmp 161/udp\nsnmp-trap 162/tcp snmptrap\nsnmp-trap 162/udp snmptrap\n\
bgp 179/tcp\nirc 194/tcp\nldap 389/tcp\nldap 389/udp\nhttps 443/tcp\nhttps 443/udp\n\
microsoft-ds 445/tcp\nsyslog 514/udp\nprinter 515/tcp spooler\nsubmission 587/tcp\n\
ldaps 636/tcp\nldaps 636/udp\nrsync 873/tcp\nimaps 993/tcp\npop3s 995/tcp\nsocks 1080/tcp\n\
openvpn 1194/tcp\nopenvpn 1194/udp\nms-sql-s 1433/tcp\nnfs 2049/tcp\nnfs 2049/udp\n\
mysql 3306/tcp\nrdp 3389/tcp\npostgresql 5432/tcp postgres\nx11 6000/tcp x11-0\n\
redis 6379/tcp\nhttp-alt 8080/tcp webcache\n";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "# comment\nhttp\t80/tcp\twww # WorldWideWeb\nhttp 80/udp\n\
        domain 53/tcp\ndomain 53/udp\nbad line\nntp 123/udp\n";

    #[test]
    fn names_aliases_and_ports_both_ways() {
        let db = Services::from_text(SAMPLE);
        let www = db.lookup("www", Some("tcp")).unwrap();
        assert_eq!(
            (www.name.as_str(), www.port, www.protocol.as_str()),
            ("http", 80, "tcp")
        );
        assert_eq!(www.aliases, vec!["www"]);
        assert_eq!(db.lookup("80", Some("udp")).unwrap().protocol, "udp");
        assert_eq!(
            db.lookup("53", None).unwrap().protocol,
            "tcp",
            "first in file order"
        );
        assert_eq!(db.lookup("ntp", None).unwrap().port, 123);
        assert!(db.lookup("ntp", Some("tcp")).is_err());
        assert_eq!(db.lookup("99999", None).unwrap_err().exit_code(), 2);
        assert_eq!(db.lookup("gopher", None).unwrap_err().exit_code(), 1);
    }

    #[test]
    fn the_built_in_list_parses_whole() {
        let lines = BUILT_IN.lines().count();
        assert_eq!(entries(BUILT_IN).count(), lines);
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*", query in "\\PC*") {
            let _ = Services::from_text(&text).lookup(&query, None);
        }
    }
}
