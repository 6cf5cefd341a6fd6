//! Host discovery: is anybody there before a thousand ports are asked?
//!
//! A host is up when it answers anything. Discovery asks three ways at once,
//! as nmap does without raw sockets plus an echo: a TCP handshake to ports
//! 443 and 80 (a reset proves a host as well as a SYN-ACK does) and an ICMP
//! echo request where this user may send one (a datagram ICMP socket inside
//! `ping_group_range`, or a raw one as root). The first answer settles it;
//! silence on all three means down, and that host's ports are not probed
//! (`--no-discovery`, nmap's -Pn, probes them anyway).
//!
//! How long is silence? On a /24 most addresses never answer, so their wait
//! is the whole discovery's time. Like nmap's timing (which starts at 500 ms
//! with -T4 and adapts to the round trips it measures, never below 100 ms),
//! the wait shrinks once hosts have answered: a target is down when ten
//! times the slowest round trip seen so far has passed, at least 100 ms, at
//! most `-w`. Until the first answer, and for a lone target, it is `-w`.

use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::pace::Pacer;
use super::{pool, tcp};
use crate::tools::ping::{IcmpProber, IcmpSetup, Outcome, Prober};

/// The TCP ports asked, nmap's choice for an unprivileged discovery.
const DISCOVERY_PORTS: [u16; 2] = [443, 80];

/// Sockets one target's discovery holds at once.
const SOCKETS_PER_TARGET: usize = 3;

/// The shortest wait for a silent target, nmap -T4's minimum.
const SHORTEST_WAIT: Duration = Duration::from_millis(100);

/// How many of the slowest round trip seen make a target silent.
const ROUND_TRIPS_OF_SILENCE: u32 = 10;

/// How often a waiting target checks whether its wait has shrunk.
const TICK: Duration = Duration::from_millis(10);

/// The wait for silent targets, shrinking as round trips are measured.
struct Silence {
    longest: Duration,
    slowest_answer: Mutex<Option<Duration>>,
}

impl Silence {
    fn wait(&self) -> Duration {
        match *self
            .slowest_answer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            None => self.longest,
            Some(rtt) => (rtt * ROUND_TRIPS_OF_SILENCE)
                .max(SHORTEST_WAIT)
                .min(self.longest),
        }
    }

    fn answered_after(&self, rtt: Duration) {
        let mut slowest = self
            .slowest_answer
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *slowest = Some(slowest.map_or(rtt, |s| s.max(rtt)));
    }
}

/// Whether each of `targets` answered, in the same order.
pub(super) async fn discover(
    targets: Arc<[IpAddr]>,
    timeout: Duration,
    pacer: Arc<Pacer>,
    budget: usize,
) -> Vec<bool> {
    let up: Arc<[AtomicBool]> = targets.iter().map(|_| AtomicBool::new(false)).collect();
    let silence = Arc::new(Silence {
        longest: timeout,
        slowest_answer: Mutex::new(None),
    });
    let found = Arc::clone(&up);
    pool::run(targets.len(), budget / SOCKETS_PER_TARGET, move |index| {
        let (targets, up, pacer, silence) = (
            Arc::clone(&targets),
            Arc::clone(&found),
            Arc::clone(&pacer),
            Arc::clone(&silence),
        );
        async move {
            if answers(targets[index], timeout, &pacer, &silence).await {
                up[index].store(true, Ordering::Relaxed);
            }
        }
    })
    .await;
    up.iter().map(|u| u.load(Ordering::Relaxed)).collect()
}

/// True as soon as any of the three probes is answered.
async fn answers(target: IpAddr, timeout: Duration, pacer: &Pacer, silence: &Silence) -> bool {
    // The clock starts when the probes leave, not while they wait their turn.
    for _ in 0..SOCKETS_PER_TARGET {
        pacer.turn().await;
    }
    let sent = Instant::now();
    let handshake = |port: u16| async move {
        tcp::probe(SocketAddr::new(target, port), timeout)
            .await
            .is_ok_and(|state| state.answered())
    };
    let mut https = pin!(handshake(DISCOVERY_PORTS[0]));
    let mut http = pin!(handshake(DISCOVERY_PORTS[1]));
    let mut echo = pin!(echo_answered(target, timeout));
    let (mut https_done, mut http_done, mut echo_done) = (false, false, false);
    loop {
        let answered = tokio::select! {
            answered = &mut https, if !https_done => { https_done = true; answered }
            answered = &mut http, if !http_done => { http_done = true; answered }
            answered = &mut echo, if !echo_done => { echo_done = true; answered }
            _ = tokio::time::sleep(TICK) => {
                if sent.elapsed() >= silence.wait() {
                    return false;
                }
                continue;
            }
        };
        if answered {
            silence.answered_after(sent.elapsed());
            return true;
        }
        if https_done && http_done && echo_done {
            return false;
        }
    }
}

/// One ICMP echo request; false at once when this user may not send one.
async fn echo_answered(target: IpAddr, timeout: Duration) -> bool {
    let Ok(mut prober) = IcmpProber::open(target, 16, &IcmpSetup::default()) else {
        return false;
    };
    if prober.send(0).is_err() {
        return false;
    }
    tokio::time::timeout(timeout, async {
        loop {
            if let Outcome::Reply { from, .. } = prober.next().await
                && from == target
            {
                return;
            }
        }
    })
    .await
    .is_ok()
}
