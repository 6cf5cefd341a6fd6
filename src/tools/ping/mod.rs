//! ping: send probes at a steady interval, match the answers, and sum up the
//! loss and round-trip times as iputils ping does.
//!
//! Two kinds of probe share one loop: an ICMP echo request ([`icmp`]), the
//! classic "is the host up?", and a TCP handshake ([`tcp`]), which asks "does
//! this port answer?" and passes firewalls that drop ICMP. The loop owns the
//! timing and the bookkeeping (which sequence numbers were answered, which
//! twice) and reports every probe's fate as a [`ProbeReport`]; the printers
//! in `output::ping` turn those into iputils' lines or JSON.

pub mod icmp;
mod stats;
pub mod tcp;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::time::sleep_until;

use crate::transport::Shutdown;

pub use icmp::{IcmpProber, SocketKind};
pub use stats::PingSummary;
pub use tcp::TcpProber;

#[derive(Debug, Clone, Copy)]
pub struct PingOptions {
    /// Stop after this many probes (`-c`); `None` runs until stopped.
    pub count: Option<u64>,
    /// Time between probes (`-i`).
    pub interval: Duration,
    /// How long to wait for an answer when none has come yet (`-W`); once
    /// some have, ping waits twice the longest round trip for the last one.
    pub timeout: Duration,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: None,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a prober heard back, for one of its probes.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// An answer: an echo reply, or a completed handshake. `rtt` is absent
    /// when the probe had no room for a send time (ping -s below 8).
    Reply {
        sequence: u16,
        from: IpAddr,
        bytes: usize,
        ttl: Option<u8>,
        rtt: Option<Duration>,
        /// The reply's payload differs from what was sent.
        corrupted: bool,
    },
    /// The port answered the SYN with a reset: nothing listens there.
    Refused { sequence: u16, from: IpAddr },
    /// An ICMP error about the probe (host unreachable, TTL exceeded...).
    Error {
        sequence: u16,
        from: IpAddr,
        description: String,
    },
    /// The probe's own timer ran out with no answer (TCP).
    NoAnswer { sequence: u16 },
}

/// One line of ping's output: an outcome as the loop judged it.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeReport {
    Outcome {
        outcome: Outcome,
        /// A second answer to the same probe (iputils' "DUP!").
        duplicate: bool,
    },
    /// The probe could not be sent at all.
    SendFailed { sequence: u16, error: String },
    /// At the end: a probe that got no answer at all.
    Lost { sequence: u16 },
}

/// A way of probing one target: ICMP echo or TCP handshake.
#[allow(async_fn_in_trait)] // used generically inside the crate, never as dyn
pub trait Prober {
    /// Starts probe `sequence`. An error means it never left.
    fn send(&mut self, sequence: u16) -> std::io::Result<()>;
    /// The next answer to any probe sent so far; pending while there is none.
    async fn next(&mut self) -> Outcome;
    /// How long to wait after the last probe for its answer.
    fn linger(&self, options: &PingOptions, longest_rtt: Option<Duration>) -> Duration;
}

/// Probes until `options.count` probes are sent and answered (or their wait
/// is over), or until `shutdown` fires. Each probe's fate goes to `report`
/// as it is known.
pub async fn ping<P: Prober>(
    prober: &mut P,
    options: &PingOptions,
    mut report: impl FnMut(&ProbeReport),
    mut shutdown: Shutdown,
) -> PingSummary {
    let started = Instant::now();
    let mut summary = PingSummary::default();
    let mut answered = vec![false; usize::from(u16::MAX) + 1];
    let mut next_send = tokio::time::Instant::now();
    let mut last_send = next_send;
    loop {
        let all_sent = options.count.is_some_and(|c| summary.transmitted >= c);
        if all_sent && summary.settled() >= summary.transmitted {
            break;
        }
        let wake = if all_sent {
            last_send + prober.linger(options, summary.rtt_max())
        } else {
            next_send
        };
        tokio::select! {
            _ = sleep_until(wake) => {
                if all_sent {
                    break;
                }
                summary.transmitted += 1;
                // Sequence numbers start at 1 and wrap at 65535, as iputils'.
                let sequence = (summary.transmitted % 65536) as u16;
                answered[usize::from(sequence)] = false;
                if let Err(e) = prober.send(sequence) {
                    summary.send_failures += 1;
                    report(&ProbeReport::SendFailed { sequence, error: e.to_string() });
                }
                last_send = tokio::time::Instant::now();
                next_send += options.interval;
                if next_send < last_send {
                    // A stall (suspend, overload): do not burst to catch up.
                    next_send = last_send;
                }
            }
            outcome = prober.next() => {
                let sequence = outcome.sequence();
                let slot = &mut answered[usize::from(sequence)];
                let duplicate = *slot;
                *slot = true;
                summary.record(&outcome, duplicate);
                report(&ProbeReport::Outcome { outcome, duplicate });
            }
            _ = shutdown.wait() => break,
        }
    }
    summary.elapsed = started.elapsed();
    if summary.transmitted <= u64::from(u16::MAX) {
        for sequence in 1..=summary.transmitted as u16 {
            if !answered[usize::from(sequence)] {
                report(&ProbeReport::Lost { sequence });
            }
        }
    }
    summary
}

impl Outcome {
    pub fn sequence(&self) -> u16 {
        match self {
            Outcome::Reply { sequence, .. }
            | Outcome::Refused { sequence, .. }
            | Outcome::Error { sequence, .. }
            | Outcome::NoAnswer { sequence } => *sequence,
        }
    }
}
