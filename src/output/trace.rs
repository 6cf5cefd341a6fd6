//! trace's output: one line per hop in traceroute's shape, one JSON object
//! per hop and a summary, or mtr's report table.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

use crate::tools::trace::{Hop, HopStats};

/// Names for addresses, looked up once each (none with -n).
pub struct Names {
    numeric: bool,
    known: HashMap<IpAddr, Option<String>>,
}

impl Names {
    pub fn new(numeric: bool) -> Names {
        Names {
            numeric,
            known: HashMap::new(),
        }
    }

    pub fn name(&mut self, address: IpAddr) -> Option<String> {
        if self.numeric {
            return None;
        }
        self.known
            .entry(address)
            .or_insert_with(|| {
                crate::addr::reverse(&address.to_string())
                    .ok()
                    .map(|entry| entry.hostname)
            })
            .clone()
    }
}

/// ` 3  router.example (10.0.0.9)  0.412 ms  0.388 ms  0.401 ms`, as
/// traceroute prints it: the address again whenever it changes along the
/// line, `*` for silence, the annotation after the time.
pub fn hop_line(hop: &Hop, names: &mut Names) -> String {
    let mut line = format!("{:>2} ", hop.ttl);
    let mut previous = None;
    for probe in &hop.probes {
        let (Some(address), Some(rtt)) = (probe.address, probe.rtt) else {
            line.push_str(" *");
            continue;
        };
        if previous != Some(address) {
            // Without -n, an address without a name is shown as its own
            // name, as traceroute does.
            match (names.numeric, names.name(address)) {
                (true, _) => {
                    let _ = write!(line, " {address}");
                }
                (false, name) => {
                    let name = name.unwrap_or_else(|| address.to_string());
                    let _ = write!(line, " {name} ({address})");
                }
            }
            previous = Some(address);
        }
        let _ = write!(line, "  {:.3} ms", rtt.as_secs_f64() * 1e3);
        if let Some(annotation) = probe.annotation {
            let _ = write!(line, " {annotation}");
        }
    }
    line
}

#[derive(Serialize)]
pub struct ProbeRecord {
    pub address: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation: Option<Option<&'static str>>,
}

#[derive(Serialize)]
pub struct HopRecord {
    pub ttl: u8,
    pub probes: Vec<ProbeRecord>,
    pub reached: bool,
}

#[derive(Serialize)]
pub struct TraceSummary {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub destination: IpAddr,
    pub reached: bool,
    pub hops: usize,
}

/// `--json`: the hop as an object; a silent probe is `{"address": null}`.
pub fn hop_record(hop: &Hop, destination: IpAddr, names: &mut Names) -> HopRecord {
    HopRecord {
        ttl: hop.ttl,
        probes: hop
            .probes
            .iter()
            .map(|p| match p.address {
                None => ProbeRecord {
                    address: None,
                    name: None,
                    rtt_ms: None,
                    annotation: None,
                },
                Some(address) => ProbeRecord {
                    address: Some(address),
                    name: Some(names.name(address)),
                    rtt_ms: p.rtt.map(|r| (r.as_secs_f64() * 1e6).round() / 1e3),
                    annotation: Some(p.annotation),
                },
            })
            .collect(),
        reached: hop.probes.iter().any(|p| p.address == Some(destination)),
    }
}

/// mtr's report columns for one hop.
#[derive(Serialize)]
pub struct ReportRecord {
    pub ttl: u8,
    pub address: Option<IpAddr>,
    pub name: Option<String>,
    pub loss_percent: f64,
    pub sent: u32,
    pub last_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub best_ms: Option<f64>,
    pub worst_ms: Option<f64>,
    pub stdev_ms: Option<f64>,
}

pub fn report_record(stats: &HopStats, names: &mut Names) -> ReportRecord {
    let round = |v: Option<f64>| v.map(|v| (v * 1e3).round() / 1e3);
    ReportRecord {
        ttl: stats.ttl,
        address: stats.address,
        name: stats.address.and_then(|a| names.name(a)),
        loss_percent: (stats.loss_percent() * 10.0).round() / 10.0,
        sent: stats.sent,
        last_ms: round(stats.last()),
        avg_ms: round(stats.average()),
        best_ms: round(stats.best()),
        worst_ms: round(stats.worst()),
        stdev_ms: round(stats.stdev()),
    }
}

/// `--report --plot`: each hop's round trips as a sparkline, in the order
/// they came, beside its number.
pub fn report_plot(hops: &[HopStats]) -> String {
    let ascii = !super::locale_is_utf8();
    let width = super::terminal_width().saturating_sub(8).max(10);
    let mut out = String::from("\nround trips per hop, in order:\n");
    for hop in hops {
        let values: Vec<Option<f64>> = hop.rtts_ms.iter().copied().map(Some).collect();
        out += &format!(
            "{:>3}.  {}\n",
            hop.ttl,
            super::plot::sparkline(&values, width, ascii)
        );
    }
    out
}

/// The report as mtr --report prints it.
pub fn report_table(host: &str, hops: &[HopStats], names: &mut Names) -> String {
    let mut out = format!("HOST: {host:<34} Loss%   Snt   Last   Avg  Best  Wrst StDev\n");
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    for stats in hops {
        let who = match stats.address {
            Some(address) => names.name(address).unwrap_or_else(|| address.to_string()),
            None => "???".to_string(),
        };
        let _ = writeln!(
            out,
            "{:>3}.|-- {who:<33} {:>5.1}% {:>5} {:>6} {:>5} {:>5} {:>5} {:>5}",
            stats.ttl,
            stats.loss_percent(),
            stats.sent,
            ms(stats.last()),
            ms(stats.average()),
            ms(stats.best()),
            ms(stats.worst()),
            ms(stats.stdev()),
        );
    }
    out
}
