//! The scan's report: nmap's table of open ports (port/protocol, state,
//! service) or one JSON object per open port, and with `-v` the counts of
//! every state.

use serde::Serialize;

use crate::addr::Services;
use crate::tools::scan::{PortState, ScanReport};

#[derive(Debug, Serialize)]
pub struct OpenPort {
    pub port: u16,
    pub state: PortState,
    /// The services database's name for the port, when it has one.
    pub service: Option<String>,
}

/// The open ports with their service names, in port order.
pub fn open_ports(report: &ScanReport, services: &Services) -> Vec<OpenPort> {
    report
        .open_ports()
        .map(|port| OpenPort {
            port,
            state: PortState::Open,
            service: services
                .lookup(&port.to_string(), Some("tcp"))
                .ok()
                .map(|s| s.name),
        })
        .collect()
}

/// The report for stdout: a table, or JSON lines.
pub fn render(open: &[OpenPort], json: bool) -> String {
    if json {
        return open
            .iter()
            .filter_map(|p| serde_json::to_string(p).ok())
            .map(|line| line + "\n")
            .collect();
    }
    if open.is_empty() {
        return String::new();
    }
    let width = open
        .iter()
        .map(|p| p.port.to_string().len() + 4)
        .max()
        .unwrap_or(0)
        .max("PORT".len());
    let mut text = format!("{:<width$} STATE SERVICE\n", "PORT");
    for port in open {
        let name = format!("{}/tcp", port.port);
        let service = port.service.as_deref().unwrap_or("unknown");
        text += &format!("{name:<width$} open  {service}\n");
    }
    text
}

/// The `-v` line: how long, and how many ports in each state.
pub fn counts(report: &ScanReport) -> String {
    let mut line = format!(
        "scanned {} of {} ports on {} in {:.2} s: {} open, {} closed, {} filtered",
        report.ports.len(),
        report.requested,
        report.target,
        report.elapsed.as_secs_f64(),
        report.count(PortState::Open),
        report.count(PortState::Closed),
        report.count(PortState::Filtered),
    );
    if report.local_failures > 0 {
        line += &format!(", {} not probed (local error)", report.local_failures);
    }
    line
}
