//! trace: the nodes a packet passes on its way to another host, found the
//! way traceroute finds them (a probe whose time to live runs out at hop N
//! makes the router there answer), but with every probe of every hop sent at
//! once. A path of silent routers then costs one timeout, not one per
//! window of probes.
//!
//! A round sends a number of probes for each TTL from `first_ttl` to
//! `max_ttl`, then collects answers until every probe up to the hop that
//! ended the path (the destination, or a router saying it is unreachable)
//! is answered, or the timeout has passed since the last send. Hops are
//! handed out in order as soon as they are complete, so the first lines
//! show while later hops are still waited for. `--report` runs several
//! rounds of one probe per hop and keeps mtr's statistics per hop.

pub mod probes;

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

pub use probes::{Answer, Method, Prober, UDP_BASE_PORT, Verdict};

#[derive(Debug, Clone, Copy)]
pub struct TraceOptions {
    pub first_ttl: u8,
    pub max_ttl: u8,
    /// How long to wait for answers after the last probe left.
    pub wait: Duration,
}

/// What one probe found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeResult {
    /// Who answered; `None` for silence.
    pub address: Option<IpAddr>,
    pub rtt: Option<Duration>,
    /// traceroute's `!H`, `!N`, `!P`, `!X`... for an unreachable answer.
    pub annotation: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub ttl: u8,
    pub probes: Vec<ProbeResult>,
}

impl Hop {
    /// Whether this hop ended the path: the destination, or an unreachable answer.
    fn ends_path(&self, destination: IpAddr) -> bool {
        self.probes
            .iter()
            .any(|p| p.annotation.is_some() || p.address == Some(destination))
    }
}

/// A whole round's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub destination: IpAddr,
    pub hops: Vec<Hop>,
    pub reached: bool,
}

struct Sent {
    at: SystemTime,
    answer: Option<Answer>,
}

/// Sends rounds of probes through one prober; probe numbers keep counting
/// across rounds, so a late answer to an earlier round is never taken for
/// an answer in this one.
pub struct Tracer {
    prober: Prober,
    destination: IpAddr,
    options: TraceOptions,
    next_probe: usize,
}

/// How often a wait returns to check for a stop (Ctrl-C).
const STOP_CHECK: Duration = Duration::from_millis(50);

impl Tracer {
    pub fn new(prober: Prober, destination: IpAddr, options: TraceOptions) -> Tracer {
        Tracer {
            prober,
            destination,
            options,
            next_probe: 0,
        }
    }

    pub fn prober(&self) -> &Prober {
        &self.prober
    }

    /// One round of `per_hop` probes for each TTL; `on_hop` gets each hop as
    /// soon as it and every hop before it are complete.
    pub fn round(
        &mut self,
        per_hop: u8,
        mut on_hop: impl FnMut(&Hop),
        stopped: impl Fn() -> bool,
    ) -> std::io::Result<Trace> {
        let TraceOptions {
            first_ttl,
            max_ttl,
            wait,
            ..
        } = self.options;
        let base = self.next_probe;
        let mut sent = Vec::new();
        for ttl in first_ttl..=max_ttl {
            for _ in 0..per_hop {
                let at = self.prober.send(base + sent.len(), ttl)?;
                sent.push(Sent { at, answer: None });
            }
        }
        self.next_probe += sent.len();
        let deadline = Instant::now() + wait;
        let per_hop = usize::from(per_hop);
        let mut shown = 0;
        let hop_of = |sent: &[Sent], index: usize| Hop {
            ttl: first_ttl + index as u8,
            probes: sent[index * per_hop..(index + 1) * per_hop]
                .iter()
                .map(result)
                .collect(),
        };
        let hop_count = sent.len() / per_hop;
        let mut hops: Vec<Hop> = Vec::new();
        loop {
            for answer in self.prober.receive()? {
                if let Some(probe) = answer.probe.checked_sub(base).and_then(|i| sent.get_mut(i)) {
                    probe.answer.get_or_insert(answer);
                }
            }
            // The path ends at the first hop with an ending answer.
            let horizon = (0..hop_count)
                .find(|&i| hop_of(&sent, i).ends_path(self.destination))
                .map_or(hop_count, |i| i + 1);
            let timed_out = Instant::now() >= deadline || stopped();
            while shown < horizon {
                let hop = hop_of(&sent, shown);
                let complete = hop.probes.iter().all(|p| p.address.is_some());
                if !complete && !timed_out {
                    break;
                }
                on_hop(&hop);
                hops.push(hop);
                shown += 1;
            }
            if shown == horizon {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            wait_readable(&self.prober, left.min(STOP_CHECK))?;
        }
        let reached = hops
            .iter()
            .any(|h| h.probes.iter().any(|p| p.address == Some(self.destination)));
        Ok(Trace {
            destination: self.destination,
            hops,
            reached,
        })
    }
}

fn result(probe: &Sent) -> ProbeResult {
    match probe.answer {
        None => ProbeResult {
            address: None,
            rtt: None,
            annotation: None,
        },
        Some(answer) => ProbeResult {
            address: Some(answer.from),
            rtt: Some(answer.at.duration_since(probe.at).unwrap_or_default()),
            annotation: match answer.verdict {
                Verdict::Unreachable(annotation) => Some(annotation),
                _ => None,
            },
        },
    }
}

/// Waits until one of the prober's sockets has something, or `timeout`.
fn wait_readable(prober: &Prober, timeout: Duration) -> std::io::Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let descriptors = prober.descriptors();
    let mut fds: Vec<PollFd<'_>> = descriptors
        .iter()
        .map(|fd| {
            PollFd::new(
                *fd,
                PollFlags::POLLIN | PollFlags::POLLOUT | PollFlags::POLLERR,
            )
        })
        .collect();
    if fds.is_empty() {
        std::thread::sleep(timeout);
        return Ok(());
    }
    let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    match poll(&mut fds, PollTimeout::from(millis)) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// mtr's per-hop statistics over report rounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HopStats {
    pub ttl: u8,
    /// The address that answered most often.
    pub address: Option<IpAddr>,
    pub sent: u32,
    pub received: u32,
    /// Round trips in milliseconds, in order.
    pub rtts_ms: Vec<f64>,
}

impl HopStats {
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        100.0 * f64::from(self.sent - self.received) / f64::from(self.sent)
    }

    pub fn last(&self) -> Option<f64> {
        self.rtts_ms.last().copied()
    }

    pub fn average(&self) -> Option<f64> {
        (!self.rtts_ms.is_empty())
            .then(|| self.rtts_ms.iter().sum::<f64>() / self.rtts_ms.len() as f64)
    }

    pub fn best(&self) -> Option<f64> {
        self.rtts_ms.iter().copied().reduce(f64::min)
    }

    pub fn worst(&self) -> Option<f64> {
        self.rtts_ms.iter().copied().reduce(f64::max)
    }

    /// Population standard deviation, as mtr computes it.
    pub fn stdev(&self) -> Option<f64> {
        let average = self.average()?;
        let variance = self
            .rtts_ms
            .iter()
            .map(|r| (r - average).powi(2))
            .sum::<f64>()
            / self.rtts_ms.len() as f64;
        Some(variance.sqrt())
    }
}

/// The statistics of `--report`, round after round.
#[derive(Debug, Default)]
pub struct Report {
    pub hops: Vec<HopStats>,
    /// Per hop, how often each address answered.
    seen: Vec<std::collections::HashMap<IpAddr, u32>>,
}

impl Report {
    /// Folds one round in.
    pub fn add(&mut self, round: &Trace) {
        for hop in &round.hops {
            let index = match self.hops.iter().position(|s| s.ttl == hop.ttl) {
                Some(index) => index,
                None => {
                    self.hops.push(HopStats {
                        ttl: hop.ttl,
                        ..HopStats::default()
                    });
                    self.seen.push(Default::default());
                    self.hops.len() - 1
                }
            };
            let (entry, seen) = (&mut self.hops[index], &mut self.seen[index]);
            for probe in &hop.probes {
                entry.sent += 1;
                if let (Some(address), Some(rtt)) = (probe.address, probe.rtt) {
                    entry.received += 1;
                    entry.rtts_ms.push(rtt.as_secs_f64() * 1e3);
                    *seen.entry(address).or_default() += 1;
                }
            }
            entry.address = seen.iter().max_by_key(|(_, n)| **n).map(|(a, _)| *a);
        }
    }
}
