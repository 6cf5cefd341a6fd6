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
use std::time::Duration;

use tokio::time::Instant;

use tokio::time::sleep_until;

use crate::shutdown::StopSignal;

pub use icmp::{IcmpProber, IcmpSetup, SocketKind};
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
    /// Stop after this long whatever else (`-w`). With a deadline, `count`
    /// counts replies, not probes, as in iputils: probing goes on until
    /// that many have come back or the deadline passes.
    pub deadline: Option<Duration>,
    /// `-O`: say so when a probe is still unanswered as the next one leaves.
    pub report_outstanding: bool,
    /// `-A`: send the next probe as soon as the last one is answered (but
    /// not sooner than this after it left), the interval being only the
    /// longest wait: about one probe in flight, as iputils' adaptive mode.
    pub adaptive: Option<Duration>,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: None,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            deadline: None,
            report_outstanding: false,
            adaptive: None,
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
    /// This host refused the probe: larger than the path's MTU with
    /// fragmentation forbidden (`-M do`), as the kernel's error queue says.
    LocalError { sequence: u16, message: String },
}

/// One line of ping's output: an outcome as the loop judged it.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeReport {
    /// The probe left (flood mode's dot).
    Sent { sequence: u16 },
    Outcome {
        outcome: Outcome,
        /// A second answer to the same probe (iputils' "DUP!").
        duplicate: bool,
    },
    /// The probe could not be sent at all.
    SendFailed { sequence: u16, error: String },
    /// At the end: a probe that got no answer at all.
    Lost { sequence: u16 },
    /// `-O`: the probe had no answer yet when the next one was sent.
    Outstanding { sequence: u16 },
}

impl ProbeReport {
    /// The host that answered, for the reports whose line names it by its
    /// reverse name (replies and ICMP errors, as iputils).
    pub fn source(&self) -> Option<IpAddr> {
        match self {
            ProbeReport::Outcome {
                outcome: Outcome::Reply { from, .. } | Outcome::Error { from, .. },
                ..
            } => Some(*from),
            _ => None,
        }
    }
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
    mut shutdown: StopSignal,
) -> PingSummary {
    let started = Instant::now();
    let mut summary = PingSummary::default();
    let mut answered = vec![false; usize::from(u16::MAX) + 1];
    let mut next_send = tokio::time::Instant::now();
    let mut last_send = next_send;
    let deadline = options.deadline.map(|d| next_send + d);
    loop {
        let all_sent = match (options.count, deadline) {
            (Some(count), None) => summary.transmitted >= count,
            (Some(count), Some(_)) if summary.received >= count => break,
            _ => false,
        };
        if all_sent && summary.settled() >= summary.transmitted {
            break;
        }
        let wake = if all_sent {
            last_send + prober.linger(options, summary.rtt_max())
        } else {
            next_send
        };
        // Polled in this order when several are ready at once (after a
        // stall): a stop first, then answers already there, so that the end
        // of the wait never drops a reply that arrived in time; the deadline
        // before the send timer, so a probe due at the deadline is not sent
        // (iputils' count).
        tokio::select! {
            biased;
            _ = shutdown.wait() => break,
            outcome = prober.next() => {
                let sequence = outcome.sequence();
                let slot = &mut answered[usize::from(sequence)];
                let duplicate = *slot;
                *slot = true;
                // Probes in flight when this answer came, this one included.
                let in_flight = (summary.transmitted as u16).wrapping_sub(sequence);
                if in_flight <= 0x7fff {
                    summary.pipe = summary.pipe.max(u64::from(in_flight) + 1);
                }
                summary.record(&outcome, duplicate);
                // -A: the newest probe answered, the next may leave now.
                if let Some(minimum) = options.adaptive
                    && !duplicate
                    && u64::from(sequence) == summary.transmitted % 65536
                {
                    next_send = next_send.min((last_send + minimum).max(tokio::time::Instant::now()));
                }
                report(&ProbeReport::Outcome { outcome, duplicate });
            }
            _ = async {
                match deadline {
                    Some(at) => sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => break,
            // A send already due goes now: the timer's millisecond ticks
            // would hold a flood to one probe per millisecond.
            _ = async {
                if wake > tokio::time::Instant::now() {
                    sleep_until(wake).await;
                }
            } => {
                if all_sent {
                    break;
                }
                let previous = (summary.transmitted % 65536) as u16;
                if options.report_outstanding
                    && summary.transmitted > 0
                    && !answered[usize::from(previous)]
                {
                    report(&ProbeReport::Outstanding { sequence: previous });
                }
                summary.transmitted += 1;
                // Sequence numbers start at 1 and wrap at 65535, as iputils'.
                let sequence = (summary.transmitted % 65536) as u16;
                answered[usize::from(sequence)] = false;
                match prober.send(sequence) {
                    Ok(()) => report(&ProbeReport::Sent { sequence }),
                    Err(e) => {
                        summary.send_failures += 1;
                        report(&ProbeReport::SendFailed { sequence, error: e.to_string() });
                    }
                }
                last_send = tokio::time::Instant::now();
                next_send += options.interval;
                if next_send < last_send {
                    // A stall (suspend, overload): do not burst to catch up.
                    next_send = last_send;
                }
            }
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
            | Outcome::NoAnswer { sequence }
            | Outcome::LocalError { sequence, .. } => *sequence,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::net::Ipv4Addr;

    /// Answers each probe as a script says, after the script's delay: the
    /// bookkeeping of the loop, apart from any socket.
    struct Scripted {
        script: fn(u16) -> Vec<(u64, Outcome)>,
        pending: VecDeque<(tokio::time::Instant, Outcome)>,
    }

    impl Prober for Scripted {
        fn send(&mut self, sequence: u16) -> std::io::Result<()> {
            let now = tokio::time::Instant::now();
            for (delay_ms, outcome) in (self.script)(sequence) {
                self.pending
                    .push_back((now + Duration::from_millis(delay_ms), outcome));
            }
            self.pending.make_contiguous().sort_by_key(|(at, _)| *at);
            Ok(())
        }

        async fn next(&mut self) -> Outcome {
            let Some((at, _)) = self.pending.front() else {
                return std::future::pending().await;
            };
            sleep_until(*at).await;
            self.pending.pop_front().unwrap().1
        }

        fn linger(&self, options: &PingOptions, longest: Option<Duration>) -> Duration {
            longest.map_or(options.timeout, |rtt| rtt * 2)
        }
    }

    /// A reply from loopback to probe `sequence` after `ms` milliseconds.
    pub(in crate::tools::ping) fn reply(sequence: u16, ms: u64) -> Outcome {
        Outcome::Reply {
            sequence,
            from: Ipv4Addr::LOCALHOST.into(),
            bytes: 64,
            ttl: Some(64),
            rtt: Some(Duration::from_millis(ms)),
            corrupted: false,
        }
    }

    /// On Tokio's paused clock, so the times are exact whatever the load.
    #[tokio::test(start_paused = true)]
    async fn duplicates_late_replies_errors_and_losses() {
        let mut prober = Scripted {
            script: |sequence| match sequence {
                1 => vec![(1, reply(1, 1)), (2, reply(1, 2))],
                2 => vec![],
                // Answered after probe 4 has left: late, but a reply.
                3 => vec![(12, reply(3, 12))],
                _ => vec![(
                    1,
                    Outcome::Error {
                        sequence,
                        from: Ipv4Addr::new(10, 0, 0, 1).into(),
                        description: "Destination Host Unreachable".into(),
                    },
                )],
            },
            pending: VecDeque::new(),
        };
        let options = PingOptions {
            count: Some(4),
            interval: Duration::from_millis(10),
            timeout: Duration::from_secs(5),
            deadline: None,
            report_outstanding: false,
            adaptive: None,
        };
        let mut reports = Vec::new();
        let trigger = crate::shutdown::StopTrigger::new();
        let summary = ping(
            &mut prober,
            &options,
            |r| reports.push(r.clone()),
            trigger.subscribe(),
        )
        .await;
        assert_eq!(
            (
                summary.transmitted,
                summary.received,
                summary.duplicates,
                summary.errors
            ),
            (4, 2, 1, 1)
        );
        assert_eq!(summary.loss_percent(), 50.0);
        // Probe 3's reply came after probe 4 had left: two in flight.
        assert_eq!(summary.pipe, 2);
        let duplicates: Vec<bool> = reports
            .iter()
            .filter_map(|r| match r {
                ProbeReport::Outcome {
                    outcome: Outcome::Reply { .. },
                    duplicate,
                } => Some(*duplicate),
                _ => None,
            })
            .collect();
        assert_eq!(duplicates, [false, true, false]);
        assert_eq!(reports.last(), Some(&ProbeReport::Lost { sequence: 2 }));
        // Probes at 0, 10, 20 and 30 ms; after the last, ping waits twice
        // the longest round trip (12 ms) for its answer, as iputils: 54 ms.
        assert_eq!(summary.elapsed, Duration::from_millis(30 + 2 * 12));
    }
}
