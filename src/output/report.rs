//! Printing the answers of the lookup commands (hostname, resolve, reverse,
//! service, ifaces, ip): aligned text for people, or one JSON object per
//! query and line with `--json`. Both printers read the same values, so they
//! cannot disagree.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::addr::{HostName, Interface, IpReport, Resolution, ReverseEntry, Route, Service};
use crate::error::Error;

/// A lookup answer that can be shown to people.
pub trait Human {
    fn human(&self, style: &Style) -> String;
}

/// Bold headings on a terminal, plain text elsewhere or when NO_COLOR is set.
pub struct Style {
    bold: bool,
}

impl Style {
    pub fn for_stdout() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            bold: std::io::stdout().is_terminal() && !no_color,
        }
    }

    pub fn plain() -> Style {
        Style { bold: false }
    }

    fn heading(&self, text: &str) -> String {
        if self.bold {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Prints every answer in query order; a failed query is one line on stderr
/// and the others are still answered. Returns the exit code: 0 when all
/// answered, 1 when any failed.
pub fn print_all<T: Serialize + Human>(
    answers: impl IntoIterator<Item = Result<T, Error>>,
    json: bool,
) -> i32 {
    let style = Style::for_stdout();
    let mut code = 0;
    let stdout = std::io::stdout();
    for answer in answers {
        let mut out = stdout.lock();
        let written = match answer {
            Ok(value) if json => match serde_json::to_string(&value) {
                Ok(line) => writeln!(out, "{line}"),
                Err(e) => writeln!(std::io::stderr(), "sockit: {e}"),
            },
            Ok(value) => write!(out, "{}", value.human(&style)),
            Err(err) => {
                code = 1;
                writeln!(std::io::stderr(), "sockit: {err}")
            }
        };
        if written.is_err() {
            // stdout closed (| head): nobody wants the rest.
            return code;
        }
    }
    code
}

impl Human for Route {
    /// `10.0.3.2: via 10.0.1.2 on veth0, from 10.0.1.1, table entry default`
    fn human(&self, _: &Style) -> String {
        let mut line = format!("{}: ", self.destination);
        match self.gateway {
            Some(gateway) => {
                let _ = write!(line, "via {gateway} on {}", self.interface);
            }
            None => {
                let _ = write!(line, "directly connected on {}", self.interface);
            }
        }
        if let Some(source) = self.source {
            let _ = write!(line, ", from {source}");
        }
        if let Some(mtu) = self.mtu {
            let _ = write!(line, ", mtu {mtu}");
        }
        let _ = writeln!(line, ", table entry {}", self.prefix);
        line
    }
}

impl Human for HostName {
    fn human(&self, _: &Style) -> String {
        format!("{}\n", self.hostname)
    }
}

impl Human for Resolution {
    fn human(&self, style: &Style) -> String {
        let mut text = style.heading(&self.query);
        if self.canonical != self.query {
            let _ = write!(text, "  (canonical name {})", self.canonical);
        }
        text.push('\n');
        for address in &self.addresses {
            let _ = writeln!(text, "  {address}");
        }
        text
    }
}

impl Human for ReverseEntry {
    fn human(&self, style: &Style) -> String {
        let mut text = format!("{}  {}\n", style.heading(&self.query), self.hostname);
        if !self.aliases.is_empty() {
            let _ = writeln!(text, "  aliases    {}", self.aliases.join(" "));
        }
        let _ = writeln!(text, "  addresses  {}", self.addresses.join(" "));
        text
    }
}

impl Human for Service {
    fn human(&self, style: &Style) -> String {
        let port = format!("{}/{}", self.port, self.protocol);
        let mut text = format!("{:<16} {port:<10}", style.heading(&self.name));
        if !self.aliases.is_empty() {
            let _ = write!(text, " aliases: {}", self.aliases.join(" "));
        }
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    }
}

impl Human for Interface {
    fn human(&self, style: &Style) -> String {
        let mut text = format!(
            "{:>3}: {}  {}  mtu {}",
            self.index,
            style.heading(&self.name),
            if self.up { "up" } else { "down" },
            self.mtu.map_or("?".into(), |m| m.to_string()),
        );
        if let Some(mac) = &self.mac {
            let _ = write!(text, "  mac {mac}");
        }
        text.push('\n');
        for address in &self.addresses {
            let family = if address.address.contains(':') {
                "inet6"
            } else {
                "inet "
            };
            let _ = write!(
                text,
                "     {family} {}/{}",
                address.address, address.prefix_len
            );
            if let Some(broadcast) = &address.broadcast {
                let _ = write!(text, "  brd {broadcast}");
            }
            text.push('\n');
        }
        text
    }
}

impl Human for IpReport {
    fn human(&self, style: &Style) -> String {
        let mut text = format!(
            "{}/{}  IPv{}  {}\n",
            style.heading(&self.address),
            self.prefix_len,
            self.version,
            self.flags.join(", ")
        );
        let mut row = |label: &str, value: String| {
            let _ = writeln!(text, "  {label:<11} {value}");
        };
        row("network", format!("{}/{}", self.network, self.prefix_len));
        row("netmask", self.netmask.clone());
        if let Some(broadcast) = &self.broadcast {
            row("broadcast", broadcast.clone());
        } else if self.version == 4 {
            row(
                "broadcast",
                "none (a /31 or /32 has no broadcast address)".into(),
            );
        } else {
            row("broadcast", "none (IPv6 has no broadcast)".into());
        }
        if let (Some(first), Some(last)) = (&self.first_host, &self.last_host) {
            row(
                "hosts",
                format!("{first} - {last}  ({} usable)", self.host_count),
            );
        }
        match &self.gateway {
            Some(gateway) => row(
                "gateway",
                format!("{gateway}  (by convention, the first host)"),
            ),
            None => row("gateway", "none (no room for one in this prefix)".into()),
        }
        let spaced: Vec<&str> = (0..self.bytes_hex.len())
            .step_by(2)
            .map(|i| &self.bytes_hex[i..i + 2])
            .collect();
        row(
            "bytes",
            format!("{}  (network byte order: big-endian)", spaced.join(" ")),
        );
        row(
            "integer",
            format!("{}  (0x{})", self.integer, self.bytes_hex),
        );
        row(
            "this host",
            format!(
                "{}  reads the same bytes as 0x{}: convert with ntohl/htonl",
                self.host_byte_order, self.host_order_hex
            ),
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subnet_view_names_every_part() {
        let text = crate::addr::analyse("192.168.1.10/24")
            .unwrap()
            .human(&Style::plain());
        for needle in [
            "192.168.1.10/24  IPv4  private",
            "network     192.168.1.0/24",
            "broadcast   192.168.1.255",
            "192.168.1.1 - 192.168.1.254  (254 usable)",
            "c0 a8 01 0a",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }
}
