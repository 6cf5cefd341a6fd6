//! Port scans: which programs on which hosts accept connections or answer
//! datagrams.
//!
//! A scan runs in two steps, as nmap's does. Discovery first asks every
//! target whether it is there at all ([`discovery`]): on a /24 most
//! addresses are usually silent, and probing a thousand ports of each would
//! spend the whole scan waiting on timeouts. Then the ports of the hosts that
//! answered are probed, by TCP handshakes ([`tcp`], optionally reading each
//! open port's banner, [`banner`]) or UDP datagrams ([`udp`], paced to the
//! targets' ICMP rate limits). `--rate` spreads every probe of both steps
//! evenly over each second ([`pace`]).
//!
//! Results go into one slot per (host, port) and are read in address and
//! port order at the end, so the report does not depend on which probe
//! finished first.

mod banner;
mod discovery;
mod pace;
mod pool;
mod tcp;
mod udp;

use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde::Serialize;

pub use banner::service_from_banner;
pub use tcp::probe;
pub use udp::request_for;

use crate::error::{Error, Result};
use crate::shutdown::StopSignal;
use pace::Pacer;

/// The most probes one scan may plan (hosts times ports): its slot table
/// stays under 64 MiB.
pub const MAX_PROBES: usize = 1 << 26;

/// Descriptors kept free for stdio, the runtime and the signal pipe.
const SPARE_DESCRIPTORS: u64 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    pub protocol: Protocol,
    /// Probes in flight at once (also bounded by the descriptor limit).
    pub concurrency: usize,
    /// How long a probe's answer (or a banner) may take.
    pub timeout: Duration,
    /// At most this many probes per second, spread over each second.
    pub rate: Option<f64>,
    /// Ask each target whether it is up before probing its ports (nmap's
    /// host discovery; off is nmap's -Pn).
    pub discover: bool,
    /// Read what each open TCP port says first.
    pub banners: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            protocol: Protocol::Tcp,
            concurrency: 1000,
            timeout: Duration::from_secs(1),
            rate: None,
            discover: true,
            banners: false,
        }
    }
}

/// What a probe learnt about one port, with nmap's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PortState {
    /// A handshake completed, or a datagram came back.
    #[serde(rename = "open")]
    Open,
    /// A reset, or an ICMP port unreachable: the host is there, nothing
    /// listens on the port.
    #[serde(rename = "closed")]
    Closed,
    /// No TCP answer before the timeout, or an ICMP error other than port
    /// unreachable: something in the way dropped or refused the probe.
    #[serde(rename = "filtered")]
    Filtered,
    /// UDP silence: an open port whose program ignored the probe looks the
    /// same as a firewall that dropped it.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
}

impl PortState {
    pub const ALL: [PortState; 4] = [
        PortState::Open,
        PortState::Closed,
        PortState::Filtered,
        PortState::OpenFiltered,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::OpenFiltered => "open|filtered",
        }
    }

    /// Whether this answer proves a host is there.
    pub fn answered(self) -> bool {
        matches!(self, PortState::Open | PortState::Closed)
    }
}

#[derive(Debug, Clone)]
pub struct PortResult {
    pub port: u16,
    pub state: PortState,
    /// With `banners`: the first bytes an open TCP port sent; `None` when
    /// it said nothing.
    pub banner: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct HostReport {
    pub address: IpAddr,
    /// It answered something: discovery, or any port open or closed.
    pub up: bool,
    /// Every probed port in order; empty for a host found down.
    pub ports: Vec<PortResult>,
}

impl HostReport {
    pub fn count(&self, state: PortState) -> usize {
        self.ports.iter().filter(|p| p.state == state).count()
    }
}

/// The outcome of a scan, hosts in numeric order.
#[derive(Debug, Clone)]
pub struct ScanReport {
    pub protocol: Protocol,
    pub hosts: Vec<HostReport>,
    /// Ports asked for per host.
    pub ports_per_host: usize,
    /// Probes planned: the ports of every host found up (or of every
    /// target without discovery).
    pub planned: usize,
    pub elapsed: Duration,
    /// A stop cut the scan short; some ports are missing.
    pub interrupted: bool,
    /// Probes that failed for a local reason (out of descriptors or local
    /// ports after every retry), with the last such error.
    pub local_failures: usize,
    pub last_local_error: Option<String>,
}

impl ScanReport {
    pub fn count(&self, state: PortState) -> usize {
        self.hosts.iter().map(|h| h.count(state)).sum()
    }

    pub fn hosts_up(&self) -> usize {
        self.hosts.iter().filter(|h| h.up).count()
    }

    pub fn probed(&self) -> usize {
        self.hosts.iter().map(|h| h.ports.len()).sum()
    }
}

/// Scans `ports` of every address in `targets` (sorted, as
/// `addr::expand_targets` gives them), returning when all are probed or
/// `shutdown` fires. Must run inside a Tokio runtime.
pub async fn scan(
    targets: &[IpAddr],
    ports: &[u16],
    options: ScanOptions,
    mut shutdown: StopSignal,
) -> Result<ScanReport> {
    if targets.len().saturating_mul(ports.len()) > MAX_PROBES {
        return Err(Error::Usage(format!(
            "{} hosts x {} ports is more than {MAX_PROBES} probes; scan fewer hosts or ports at once",
            targets.len(),
            ports.len()
        )));
    }
    let started = Instant::now();
    let pacer = Arc::new(Pacer::new(options.rate));
    let budget = usable_concurrency(options.concurrency);
    let up = if options.discover {
        tokio::select! {
            up = discovery::discover(targets.into(), options.timeout, Arc::clone(&pacer), budget) => up,
            _ = shutdown.wait() => vec![false; targets.len()],
        }
    } else {
        vec![false; targets.len()]
    };
    let plan = Arc::new(Plan {
        hosts: targets
            .iter()
            .zip(&up)
            .filter(|(_, up)| **up || !options.discover)
            .map(|(address, _)| *address)
            .collect(),
        ports: ports.to_vec(),
    });
    let slots = Arc::new(Slots::new(plan.len()));
    let finished = shutdown.stopped().is_none()
        && tokio::select! {
            _ = async {
                let (plan, pacer, slots) = (Arc::clone(&plan), Arc::clone(&pacer), Arc::clone(&slots));
                match options.protocol {
                    Protocol::Tcp => tcp::scan(plan, options, pacer, budget, slots).await,
                    Protocol::Udp => udp::scan(plan, options, pacer, budget, slots).await,
                }
            } => true,
            _ = shutdown.wait() => false,
        };
    Ok(slots.report(&plan, targets, &up, &options, started, !finished))
}

/// The (host, port) pairs of a scan: probe `i` is host `i % hosts`, port
/// `i / hosts`, so consecutive probes go to different hosts and no host takes
/// the whole burst.
pub(crate) struct Plan {
    pub hosts: Vec<IpAddr>,
    pub ports: Vec<u16>,
}

impl Plan {
    pub fn len(&self) -> usize {
        self.hosts.len() * self.ports.len()
    }

    pub fn probe(&self, index: usize) -> (IpAddr, u16) {
        let hosts = self.hosts.len();
        (self.hosts[index % hosts], self.ports[index / hosts])
    }
}

/// Slot values: not probed yet, one per state, or a local failure.
const PENDING: u8 = 0;
const LOCAL_FAILURE: u8 = u8::MAX;

/// One slot per planned probe, written by whichever task finishes it.
pub(crate) struct Slots {
    states: Vec<AtomicU8>,
    banners: Mutex<Vec<(usize, Vec<u8>)>>,
    last_local_error: Mutex<Option<String>>,
}

impl Slots {
    fn new(len: usize) -> Slots {
        Slots {
            states: (0..len).map(|_| AtomicU8::new(PENDING)).collect(),
            banners: Mutex::new(Vec::new()),
            last_local_error: Mutex::new(None),
        }
    }

    /// A probe's outcome: a state, or the local error that kept it from
    /// being sent.
    pub fn record(&self, index: usize, outcome: io::Result<PortState>) {
        let value = match outcome {
            Ok(state) => 1 + PortState::ALL.iter().position(|s| *s == state).unwrap_or(0) as u8,
            Err(e) => {
                if let Ok(mut last) = self.last_local_error.lock() {
                    *last = Some(e.to_string());
                }
                LOCAL_FAILURE
            }
        };
        self.states[index].store(value, Ordering::Relaxed);
    }

    pub fn record_banner(&self, index: usize, banner: Vec<u8>) {
        if let Ok(mut banners) = self.banners.lock() {
            banners.push((index, banner));
        }
    }

    fn report(
        &self,
        plan: &Plan,
        targets: &[IpAddr],
        discovered: &[bool],
        options: &ScanOptions,
        started: Instant,
        interrupted: bool,
    ) -> ScanReport {
        let mut banners =
            std::mem::take(&mut *self.banners.lock().unwrap_or_else(|e| e.into_inner()));
        banners.sort_unstable_by_key(|(index, _)| *index);
        let mut local_failures = 0;
        let mut hosts: Vec<HostReport> = targets
            .iter()
            .zip(discovered)
            .map(|(address, up)| HostReport {
                address: *address,
                up: *up,
                ports: Vec::new(),
            })
            .collect();
        // Port-major index order gives each host its ports in port order.
        let mut ports: Vec<(u16, usize)> = plan.ports.iter().copied().zip(0..).collect();
        ports.sort_unstable_by_key(|(port, _)| *port);
        for (h, address) in plan.hosts.iter().enumerate() {
            let Ok(found) = targets.binary_search(address) else {
                continue;
            };
            let host = &mut hosts[found];
            for &(port, p) in &ports {
                let index = p * plan.hosts.len() + h;
                let state = match self.states[index].load(Ordering::Relaxed) {
                    PENDING => continue,
                    LOCAL_FAILURE => {
                        local_failures += 1;
                        continue;
                    }
                    value => PortState::ALL[usize::from(value - 1)],
                };
                let banner = banners
                    .binary_search_by_key(&index, |(i, _)| *i)
                    .ok()
                    .map(|found| std::mem::take(&mut banners[found].1));
                host.up |= state.answered();
                host.ports.push(PortResult {
                    port,
                    state,
                    banner,
                });
            }
        }
        ScanReport {
            protocol: options.protocol,
            hosts,
            ports_per_host: plan.ports.len(),
            planned: plan.len(),
            elapsed: started.elapsed(),
            interrupted,
            local_failures,
            last_local_error: self
                .last_local_error
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
        }
    }
}

/// The pool size that fits under the descriptor limit (raised first).
fn usable_concurrency(wanted: usize) -> usize {
    let limit = crate::sys::raise_open_file_limit().unwrap_or(1024);
    let room = limit.saturating_sub(SPARE_DESCRIPTORS).max(1);
    wanted.clamp(1, usize::try_from(room).unwrap_or(usize::MAX))
}

/// Errors that are ours, not the network's: the probe was never sent.
fn is_local_failure(e: &io::Error) -> bool {
    let errno = Errno::from_raw(e.raw_os_error().unwrap_or(0));
    e.kind() == io::ErrorKind::AddrNotAvailable
        || matches!(errno, Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS)
}
