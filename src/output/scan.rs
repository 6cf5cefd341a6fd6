//! The scan's report: nmap's table per host (port/protocol, state,
//! service, and with `--banner` what the port said) or one JSON object per
//! finding, and with `-v` the counts of every state and of hosts up and down.

use std::net::IpAddr;

use serde::Serialize;

use super::color::{self, Role};
use crate::addr::Services;
use crate::tools::scan::{PortState, Protocol, ScanReport, service_from_banner};
use crate::transport::chat::escape_line;

/// One port worth reporting.
#[derive(Debug, Serialize)]
pub struct Finding {
    pub host: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
    pub state: PortState,
    /// The service the banner names, else the services database's name for
    /// the port, when either has one.
    pub service: Option<String>,
    /// With `--banner`: what the port said first, control characters
    /// escaped and the final line ending removed; null when it said nothing
    /// (and always without `--banner`).
    pub banner: Option<String>,
}

/// The states worth a line: open, and for UDP open|filtered too (nmap lists
/// it, since such a port may well be open).
pub fn is_reported(protocol: Protocol, state: PortState) -> bool {
    state == PortState::Open || (protocol == Protocol::Udp && state == PortState::OpenFiltered)
}

/// The reported ports of every host, hosts in address order, ports in order.
pub fn findings(report: &ScanReport, services: &Services) -> Vec<Finding> {
    let protocol = report.protocol;
    report
        .hosts
        .iter()
        .flat_map(|host| host.ports.iter().map(move |port| (host.address, port)))
        .filter(|(_, port)| is_reported(protocol, port.state))
        .map(|(host, port)| {
            let named = port.banner.as_deref().and_then(service_from_banner);
            Finding {
                host,
                port: port.port,
                protocol,
                state: port.state,
                service: named.map(String::from).or_else(|| {
                    services
                        .lookup(&port.port.to_string(), Some(protocol.name()))
                        .ok()
                        .map(|s| s.name)
                }),
                banner: port
                    .banner
                    .as_deref()
                    .map(|b| escape_line(b.trim_ascii_end())),
            }
        })
        .collect()
}

/// The report for stdout: JSON lines, or a table per host. With more than
/// one target each table is headed by its host, and hosts that are up with
/// nothing to report say so; hosts found down are left to `-v`.
pub fn render(report: &ScanReport, findings: &[Finding], json: bool) -> String {
    if json {
        return findings
            .iter()
            .filter_map(|f| serde_json::to_string(f).ok())
            .map(|line| line + "\n")
            .collect();
    }
    let banners = findings.iter().any(|f| f.banner.is_some());
    let several = report.hosts.len() > 1;
    let mut blocks = Vec::new();
    for host in report.hosts.iter().filter(|h| h.up || !several) {
        let own: Vec<&Finding> = findings.iter().filter(|f| f.host == host.address).collect();
        let mut block = String::new();
        if several {
            block += &host.address.to_string();
            if own.is_empty() {
                block += &format!(" (up, no open {} port)", report.protocol.name());
            }
            block.push('\n');
        }
        if !own.is_empty() {
            block += &table(&own, banners);
        }
        if !block.is_empty() {
            blocks.push(block);
        }
    }
    blocks.join("\n")
}

fn table(findings: &[&Finding], banners: bool) -> String {
    let names: Vec<String> = findings
        .iter()
        .map(|f| format!("{}/{}", f.port, f.protocol.name()))
        .collect();
    let port_width = names.iter().map(String::len).max().unwrap_or(0).max(4);
    let state_width = findings
        .iter()
        .map(|f| f.state.name().len())
        .max()
        .unwrap_or(0)
        .max(5);
    let service = |f: &Finding| f.service.clone().unwrap_or_else(|| "unknown".into());
    let service_width = findings
        .iter()
        .map(|f| service(f).len())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut text = if banners {
        format!(
            "{:<port_width$} {:<state_width$} {:<service_width$} BANNER\n",
            "PORT", "STATE", "SERVICE"
        )
    } else {
        format!(
            "{:<port_width$} {:<state_width$} SERVICE\n",
            "PORT", "STATE"
        )
    };
    let painter = color::stdout();
    for (finding, name) in findings.iter().zip(&names) {
        // Padded first: the escapes take no room on the screen.
        let state = format!("{:<state_width$}", finding.state.name());
        let state = painter.paint(
            match finding.state {
                PortState::Open => Role::Good,
                PortState::Closed => Role::Bad,
                PortState::Filtered | PortState::OpenFiltered => Role::Warning,
            },
            &state,
        );
        let line = if banners {
            let banner = finding.banner.as_deref().unwrap_or("");
            format!(
                "{name:<port_width$} {state} {:<service_width$} {banner}",
                service(finding)
            )
        } else {
            format!("{name:<port_width$} {state} {}", service(finding))
        };
        text += line.trim_end();
        text.push('\n');
    }
    text
}

/// The `-v` line: how long, how many ports in each state, hosts up and down.
pub fn counts(report: &ScanReport) -> String {
    let hosts = scope(report);
    let mut line = format!(
        "scanned {} of {} ports on {hosts} in {:.2} s: ",
        report.probed(),
        report.planned,
        report.elapsed.as_secs_f64(),
    );
    let states: Vec<String> = PortState::ALL
        .iter()
        .filter(|s| report.protocol == Protocol::Udp || **s != PortState::OpenFiltered)
        .map(|s| format!("{} {}", report.count(*s), s.name()))
        .collect();
    line += &states.join(", ");
    if report.local_failures > 0 {
        line += &format!(", {} not probed (local error)", report.local_failures);
    }
    let up = report.hosts_up();
    line += &format!(
        "; {up} {} up, {} down",
        if up == 1 { "host" } else { "hosts" },
        report.hosts.len() - up
    );
    line
}

/// What was scanned, in a few words: the one address, or how many hosts.
pub fn scope(report: &ScanReport) -> String {
    match report.hosts.as_slice() {
        [one] => one.address.to_string(),
        many => format!("{} hosts", many.len()),
    }
}
