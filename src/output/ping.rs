//! ping's output: iputils' lines (so eyes and scripts used to ping read it
//! unchanged) or one JSON object per probe and one for the summary.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::color::{self, Role};
use super::plot;

use crate::tools::ping::{Outcome, PingSummary, ProbeReport};

/// Which record a JSON line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordType {
    Probe,
    Summary,
}

/// `--json`: one probe's fate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    #[serde(rename = "type")]
    pub record: RecordType,
    pub seq: u16,
    #[serde(flatten)]
    pub state: ProbeState,
    /// For answers: a second answer to the same probe.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duplicate: Option<bool>,
}

/// What became of a probe, with what each state has to say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ProbeState {
    Reply {
        from: IpAddr,
        bytes: usize,
        ttl: Option<u8>,
        /// Round trip in milliseconds, 3 decimals; null without a send time.
        time_ms: Option<f64>,
        corrupted: bool,
    },
    Refused {
        from: IpAddr,
    },
    Error {
        from: IpAddr,
        description: String,
    },
    NoAnswer,
    /// Refused by this host: too large for the path with `-M do`.
    LocalError {
        error: String,
    },
    SendFailed {
        error: String,
    },
    /// Listed at the end for every probe never answered.
    Lost,
    /// `-O`: unanswered when the next probe left.
    Outstanding,
}

impl ProbeRecord {
    /// The record for a report; none for a probe merely sent.
    pub fn of(report: &ProbeReport) -> Option<ProbeRecord> {
        let (seq, state, duplicate) = match report {
            ProbeReport::Sent { .. } => return None,
            ProbeReport::Outcome { outcome, duplicate } => {
                let (seq, state) = match outcome.clone() {
                    Outcome::Reply {
                        sequence,
                        from,
                        bytes,
                        ttl,
                        rtt,
                        corrupted,
                    } => {
                        let time_ms = rtt.map(|r| ms_rounded(ms(r)));
                        let state = ProbeState::Reply {
                            from,
                            bytes,
                            ttl,
                            time_ms,
                            corrupted,
                        };
                        (sequence, state)
                    }
                    Outcome::Refused { sequence, from } => (sequence, ProbeState::Refused { from }),
                    Outcome::Error {
                        sequence,
                        from,
                        description,
                    } => (sequence, ProbeState::Error { from, description }),
                    Outcome::NoAnswer { sequence } => (sequence, ProbeState::NoAnswer),
                    Outcome::LocalError { sequence, message } => {
                        (sequence, ProbeState::LocalError { error: message })
                    }
                };
                (seq, state, Some(*duplicate))
            }
            ProbeReport::SendFailed { sequence, error } => {
                let state = ProbeState::SendFailed {
                    error: error.clone(),
                };
                (*sequence, state, None)
            }
            ProbeReport::Lost { sequence } => (*sequence, ProbeState::Lost, None),
            ProbeReport::Outstanding { sequence } => (*sequence, ProbeState::Outstanding, None),
        };
        Some(ProbeRecord {
            record: RecordType::Probe,
            seq,
            state,
            duplicate,
        })
    }
}

/// `--json`: the closing summary. The rtt keys are null when nothing was
/// timed; times in milliseconds with 3 decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRecord {
    #[serde(rename = "type")]
    pub record: RecordType,
    pub target: IpAddr,
    /// For `--tcp PORT`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub port: Option<u16>,
    pub transmitted: u64,
    pub received: u64,
    pub duplicates: u64,
    pub errors: u64,
    pub refused: u64,
    pub corrupted: u64,
    pub pipe: u64,
    pub loss_percent: f64,
    pub rtt_min_ms: Option<f64>,
    pub rtt_avg_ms: Option<f64>,
    pub rtt_max_ms: Option<f64>,
    pub rtt_mdev_ms: Option<f64>,
    pub time_ms: u64,
}

impl SummaryRecord {
    pub fn new(target: &PingTarget, summary: &PingSummary) -> Self {
        let rtt = |i: usize| summary.rtt_ms().map(|r| ms_rounded(r[i]));
        SummaryRecord {
            record: RecordType::Summary,
            target: target.address,
            port: target.tcp_port,
            transmitted: summary.transmitted,
            received: summary.received,
            duplicates: summary.duplicates,
            errors: summary.errors,
            refused: summary.refused,
            corrupted: summary.corrupted,
            pipe: summary.pipe,
            loss_percent: ms_rounded(summary.loss_percent()),
            rtt_min_ms: rtt(0),
            rtt_avg_ms: rtt(1),
            rtt_max_ms: rtt(2),
            rtt_mdev_ms: rtt(3),
            time_ms: summary.elapsed.as_millis() as u64,
        }
    }
}

/// What is being pinged, for the header and the summary.
#[derive(Debug, Clone)]
pub struct PingTarget {
    /// As the user typed it.
    pub host: String,
    pub address: IpAddr,
    /// Some for `--tcp PORT`.
    pub tcp_port: Option<u16>,
    pub payload_len: usize,
    /// Show reply sources as addresses only. Otherwise, as iputils does
    /// when the target was given as a name, each source is shown as its
    /// reverse name and address (the caller looks the names up, off the
    /// probe loop: see [`PingPrinter::probe`]).
    pub numeric: bool,
    /// `-I`: the source address and the interface's name (empty for an address).
    pub from: Option<(IpAddr, String)>,
}

pub struct PingPrinter {
    pub target: PingTarget,
    pub json: bool,
    /// `-q`: the header and the summary only.
    pub quiet: bool,
    /// `-W`, named when a TCP probe runs out of time.
    pub timeout: Duration,
    /// `-D`: each probe's line starts with the time, `[seconds.micros]`.
    pub timestamps: bool,
    /// `-A` or `-f`: the summary adds iputils' `ipg/ewma`.
    pub adaptive: bool,
    /// `-f`: a dot per probe sent, rubbed out by its answer, instead of lines.
    pub flood: bool,
    /// `--plot`: each probe's round trip in ms by sequence number (`None`
    /// when lost), gathered as the reports pass, for the plot.
    pub samples: Option<Vec<(u16, Option<f64>)>>,
}

impl PingPrinter {
    pub fn new(target: PingTarget, json: bool, quiet: bool, timeout: Duration) -> PingPrinter {
        PingPrinter {
            target,
            json,
            quiet,
            timeout,
            timestamps: false,
            adaptive: false,
            flood: false,
            samples: None,
        }
    }

    /// A reply's source as iputils shows it: `name (address)` or `address`.
    fn source(&self, from: IpAddr, name: Option<&str>) -> String {
        match name {
            Some(name) if !self.target.numeric => format!("{name} ({from})"),
            _ => from.to_string(),
        }
    }

    /// iputils' first line.
    pub fn header(&self) -> Option<String> {
        if self.json {
            return None;
        }
        let PingTarget { host, address, .. } = &self.target;
        let size = self.target.payload_len;
        let from = match &self.target.from {
            Some((source, interface)) => format!(" from {source} {interface}:"),
            None => String::new(),
        };
        Some(match (self.target.tcp_port, address) {
            (Some(port), _) => {
                format!("TCP PING {host} ({address}) port {port}: timing the three-way handshake.")
            }
            (None, IpAddr::V4(_)) if from.is_empty() => format!(
                "PING {host} ({address}) {size}({}) bytes of data.",
                size + 28
            ),
            (None, IpAddr::V4(_)) => format!(
                "PING {host} ({address}){from} {size}({}) bytes of data.",
                size + 28
            ),
            (None, IpAddr::V6(_)) if from.is_empty() => {
                format!("PING {host}({address}) {size} data bytes")
            }
            (None, IpAddr::V6(_)) => format!("PING {host}({address}){from} {size} data bytes"),
        })
    }

    /// The line for one probe's fate, if it gets one. `source_name` is the
    /// reverse name of the report's source, when known: a lookup can take
    /// seconds, so it is the caller's, on a thread of its own, never the
    /// probe loop's (whose timer it would stall).
    pub fn probe(&self, report: &ProbeReport, source_name: Option<&str>) -> Option<String> {
        if self.json {
            return self.probe_json(report);
        }
        let line = self.probe_line(report, source_name)?;
        if !self.timestamps {
            return Some(line);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Some(format!(
            "[{}.{:06}] {line}",
            now.as_secs(),
            now.subsec_micros()
        ))
    }

    fn probe_line(&self, report: &ProbeReport, source_name: Option<&str>) -> Option<String> {
        if self.quiet {
            return None;
        }
        let seq_name = if self.target.tcp_port.is_some() {
            "tcp_seq"
        } else {
            "icmp_seq"
        };
        let port = self
            .target
            .tcp_port
            .map(|p| format!(" port {p}"))
            .unwrap_or_default();
        Some(match report {
            ProbeReport::Outcome { outcome, duplicate } => match outcome {
                Outcome::Reply {
                    sequence,
                    from,
                    bytes,
                    ttl,
                    rtt,
                    corrupted,
                } => {
                    let from = self.source(*from, source_name);
                    let mut line = if self.target.tcp_port.is_some() {
                        format!("connected to {from}{port}: {seq_name}={sequence}")
                    } else {
                        format!("{bytes} bytes from {from}: {seq_name}={sequence}")
                    };
                    if let Some(ttl) = ttl {
                        line += &format!(" ttl={ttl}");
                    }
                    if let Some(rtt) = rtt {
                        line += &format!(" time={}", format_rtt(*rtt));
                    }
                    if *duplicate {
                        line += " (DUP!)";
                    }
                    if *corrupted {
                        line += " (BAD DATA: the reply's payload differs from the request's)";
                    }
                    line
                }
                Outcome::Refused { sequence, from } => {
                    format!(
                        "{from}{port}: {seq_name}={sequence} refused: nothing listens on that port"
                    )
                }
                Outcome::Error {
                    sequence,
                    from,
                    description,
                } => {
                    let from = self.source(*from, source_name);
                    format!("From {from}{port} {seq_name}={sequence} {description}")
                }
                // On stderr, as iputils: see `error_line`.
                Outcome::LocalError { .. } => return None,
                Outcome::NoAnswer { sequence } => format!(
                    "{}{port}: {seq_name}={sequence} no answer within {} s",
                    self.target.address,
                    self.timeout.as_secs_f64()
                ),
            },
            ProbeReport::SendFailed { sequence, error } => {
                format!("sockit: sending {seq_name}={sequence}: {error}")
            }
            ProbeReport::Lost { .. } | ProbeReport::Sent { .. } => return None,
            ProbeReport::Outstanding { sequence } => {
                format!("no answer yet for {seq_name}={sequence}")
            }
        })
    }

    fn probe_json(&self, report: &ProbeReport) -> Option<String> {
        serde_json::to_string(&ProbeRecord::of(report)?).ok()
    }

    /// The line for stderr, for a probe this host refused (iputils'
    /// `local error: message too long, mtu=1400`); nothing with -q or --json.
    pub fn error_line(&self, report: &ProbeReport) -> Option<String> {
        match report {
            ProbeReport::Outcome {
                outcome: Outcome::LocalError { message, .. },
                ..
            } if !self.quiet && !self.json && !self.flood => {
                Some(format!("local error: {message}"))
            }
            _ => None,
        }
    }

    /// `-f`'s marks, as iputils writes them: `.` when a probe leaves, a
    /// backspace over it when it is answered (`\bC` for a corrupted reply,
    /// `\bE` for an ICMP error), `E` when it could not be sent. The dots
    /// left on the line are the probes never answered. Nothing with `-q`.
    pub fn flood_mark(&self, report: &ProbeReport) -> Option<&'static str> {
        if self.quiet {
            return None;
        }
        match report {
            ProbeReport::Sent { .. } => Some("."),
            ProbeReport::SendFailed { .. }
            | ProbeReport::Outcome {
                outcome: Outcome::LocalError { .. },
                ..
            } => Some("E"),
            ProbeReport::Outcome {
                outcome: Outcome::Reply {
                    corrupted: true, ..
                },
                ..
            } => Some("\x08C"),
            ProbeReport::Outcome {
                outcome: Outcome::Error { .. },
                ..
            } => Some("\x08E"),
            ProbeReport::Outcome { .. } => Some("\x08 \x08"),
            ProbeReport::Lost { .. } | ProbeReport::Outstanding { .. } => None,
        }
    }

    /// Keeps a report's round trip for the plot, when there is one to draw.
    pub fn gather(&mut self, report: &ProbeReport) {
        /// Enough for a day of one probe a second.
        const MOST: usize = 100_000;
        let Some(samples) = self.samples.as_mut().filter(|s| s.len() < MOST) else {
            return;
        };
        match report {
            ProbeReport::Outcome {
                outcome: Outcome::Reply { sequence, rtt, .. },
                duplicate: false,
            } => samples.push((*sequence, rtt.map(ms))),
            ProbeReport::Lost { sequence } => samples.push((*sequence, None)),
            _ => {}
        }
    }

    /// `--plot`: a histogram of the round trips, then a sparkline of them
    /// in probe order; nothing without samples or with --json.
    pub fn plot(&self, width: usize, ascii: bool) -> String {
        let Some(samples) = self.samples.as_ref().filter(|_| !self.json) else {
            return String::new();
        };
        let mut ordered = samples.clone();
        ordered.sort_by_key(|(sequence, _)| *sequence);
        let times: Vec<f64> = ordered.iter().filter_map(|(_, rtt)| *rtt).collect();
        if times.is_empty() {
            return String::new();
        }
        let line: Vec<Option<f64>> = ordered.iter().map(|(_, rtt)| *rtt).collect();
        format!(
            "\nround trips, ms:\n{}\nin probe order (a gap is a lost probe):\n{}\n",
            plot::histogram(&times, 8, width, ascii, "ms"),
            plot::sparkline(&line, width, ascii)
        )
    }

    /// `--plot --svg`: the same plot as an SVG chart.
    pub fn plot_svg(&self) -> Option<String> {
        let mut ordered = self.samples.clone()?;
        ordered.sort_by_key(|(sequence, _)| *sequence);
        let line: Vec<Option<f64>> = ordered.iter().map(|(_, rtt)| *rtt).collect();
        let title = format!("ping {} ({})", self.target.host, self.target.address);
        Some(plot::svg_chart(&title, &[("probes".into(), line)], true))
    }

    /// iputils' closing lines, or the summary object.
    pub fn summary(&self, summary: &PingSummary) -> String {
        let rtt = summary.rtt_ms();
        if self.json {
            let record = SummaryRecord::new(&self.target, summary);
            return serde_json::to_string(&record).unwrap_or_default() + "\n";
        }
        let mut counts = format!(
            "{} packets transmitted, {} received",
            summary.transmitted, summary.received
        );
        for (n, what) in [
            (summary.duplicates, "duplicates"),
            (summary.corrupted, "corrupted"),
            (summary.errors, "errors"),
            (summary.refused, "refused"),
        ] {
            if n > 0 {
                counts += &format!(", +{n} {what}");
            }
        }
        let loss = summary.loss_percent();
        let role = match loss {
            0.0 => Role::Good,
            100.0 => Role::Bad,
            _ => Role::Warning,
        };
        let loss = color::stdout().paint(role, &format!("{}% packet loss", format_g(loss)));
        let mut text = format!(
            "\n--- {} ping statistics ---\n{counts}, {loss}, time {}ms\n",
            self.target.host,
            summary.elapsed.as_millis()
        );
        // iputils' last line: the round trips and the pipe, either of which
        // may be missing (then the line is blank).
        let mut last = Vec::new();
        if let Some([min, avg, max, mdev]) = rtt {
            last.push(format!(
                "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms"
            ));
        }
        if summary.pipe > 1 {
            last.push(format!("pipe {}", summary.pipe));
        }
        if let Some((ipg, ewma)) = summary.ipg_ewma_ms().filter(|_| self.adaptive) {
            last.push(format!("ipg/ewma {ipg:.3}/{ewma:.3} ms"));
        }
        text += &last.join(", ");
        text.push('\n');
        text
    }
}

fn ms(rtt: Duration) -> f64 {
    rtt.as_secs_f64() * 1000.0
}

/// Milliseconds to the microsecond, for JSON: the clock's noise below that
/// is not information.
fn ms_rounded(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// iputils' precision: three decimals under 1 ms, then two, one, none.
pub fn format_rtt(rtt: Duration) -> String {
    let ms = ms(rtt);
    if ms >= 99.95 {
        format!("{ms:.0} ms")
    } else if ms >= 9.995 {
        format!("{ms:.1} ms")
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// C's `%g`: six significant digits, no trailing zeros (33.3333, 0, 100).
/// Rust's `{:e}` gives the exponent that picks between fixed and scientific.
pub fn format_g(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let scientific = format!("{value:.5e}");
    let exponent: i32 = scientific
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let trim = |text: String| {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    if (-4..6).contains(&exponent) {
        trim(format!("{:.*}", (5 - exponent) as usize, value))
    } else {
        let (mantissa, _) = scientific.split_once('e').unwrap_or((&scientific, ""));
        format!(
            "{}e{}{:02}",
            trim(mantissa.to_string()),
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        )
    }
}

/// Writes one line and says whether stdout is still there.
pub fn emit(line: &str) -> bool {
    emit_raw(&format!("{line}\n"))
}

/// Writes text as it is (flood's marks) and says whether stdout is still there.
pub fn emit_raw(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_iputils_prints_them() {
        assert_eq!(format_g(33.333333333), "33.3333");
        assert_eq!(format_g(100.0), "100");
        assert_eq!(format_g(0.0), "0");
        assert_eq!(format_g(50.0), "50");
        assert_eq!(format_g(66.66666666), "66.6667");
        assert_eq!(format_g(0.5), "0.5");
        assert_eq!(format_g(1.0 / 3.0), "0.333333");
        assert_eq!(format_g(0.00001234), "1.234e-05");
        assert_eq!(format_rtt(Duration::from_micros(45)), "0.045 ms");
        assert_eq!(format_rtt(Duration::from_micros(1234)), "1.23 ms");
        assert_eq!(format_rtt(Duration::from_micros(12345)), "12.3 ms");
        assert_eq!(format_rtt(Duration::from_micros(123456)), "123 ms");
    }
}
