//! TCP probes: time the three-way handshake to one port, then close.
//!
//! `connect(2)` returns when the SYN-ACK has arrived and our ACK is on its
//! way. The round trip reported is the kernel's own measurement of that
//! handshake (TCP_INFO's `tcpi_rtt`: SYN out to SYN-ACK in, microseconds),
//! not the time until this program woke up to see the connection; the
//! wall time of the call is the fallback where the kernel gives none. Needs no privilege and passes firewalls that drop ICMP. Each
//! probe runs as its own task with its own timer, so a slow one does not
//! hold up the next.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpSocket;
use tokio::sync::mpsc;

use super::{Outcome, PingOptions, Prober};

/// Probes still running when the summary is printed are not waited for
/// beyond their own timeout; this much is added for the task to report.
const REPORT_MARGIN: Duration = Duration::from_millis(50);

pub struct TcpProber {
    target: SocketAddr,
    timeout: Duration,
    outcomes: mpsc::UnboundedSender<Outcome>,
    arrived: mpsc::UnboundedReceiver<Outcome>,
}

impl TcpProber {
    pub fn new(target: SocketAddr, timeout: Duration) -> TcpProber {
        let (outcomes, arrived) = mpsc::unbounded_channel();
        TcpProber {
            target,
            timeout,
            outcomes,
            arrived,
        }
    }
}

impl Prober for TcpProber {
    fn send(&mut self, sequence: u16) -> io::Result<()> {
        let socket = if self.target.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        let (target, timeout, outcomes) = (self.target, self.timeout, self.outcomes.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let outcome = match tokio::time::timeout(timeout, socket.connect(target)).await {
                Ok(Ok(stream)) => {
                    let rtt = crate::sys::tcp_info::round_trip(&stream)
                        .unwrap_or_else(|| started.elapsed());
                    drop(stream); // the close: FIN to the peer
                    Outcome::Reply {
                        sequence,
                        from: target.ip(),
                        bytes: 0,
                        ttl: None,
                        rtt: Some(rtt),
                        corrupted: false,
                    }
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Outcome::Refused {
                    sequence,
                    from: target.ip(),
                },
                Ok(Err(e)) => Outcome::Error {
                    sequence,
                    from: target.ip(),
                    description: e.to_string(),
                },
                Err(_elapsed) => Outcome::NoAnswer { sequence },
            };
            let _ = outcomes.send(outcome);
        });
        Ok(())
    }

    async fn next(&mut self) -> Outcome {
        match self.arrived.recv().await {
            Some(outcome) => outcome,
            // Cannot happen while we hold a sender; wait like an idle socket.
            None => std::future::pending().await,
        }
    }

    fn linger(&self, _: &PingOptions, _: Option<Duration>) -> Duration {
        self.timeout + REPORT_MARGIN
    }
}
