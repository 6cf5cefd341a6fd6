//! `--rate N`: at most N probes per second, spread evenly over each second.
//!
//! A cap that allowed N probes at the start of each second would still hit a
//! target (or a rate-limiting firewall) with bursts. Instead each probe takes
//! the next free slot on a timeline with one slot every 1/N seconds; a probe
//! that comes late takes the present, never a slot in the past, so a stall
//! is not followed by a catch-up burst.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

pub struct Pacer {
    /// The time between two probes, when a rate is set.
    gap: Option<Duration>,
    next_slot: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(rate: Option<f64>) -> Pacer {
        Pacer {
            gap: rate
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next_slot: Mutex::new(None),
        }
    }

    /// Waits for this probe's slot.
    pub async fn turn(&self) {
        let Some(gap) = self.gap else {
            return;
        };
        let slot = {
            let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |next| next.max(now));
            *next = Some(slot + gap);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn probes_are_spread_not_burst() {
        let pacer = Pacer::new(Some(10.0));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..5 {
            pacer.turn().await;
            times.push(start.elapsed().as_millis());
        }
        assert_eq!(times, [0, 100, 200, 300, 400]);
        // A stall does not earn a burst afterwards.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let resumed = Instant::now();
        pacer.turn().await;
        pacer.turn().await;
        assert_eq!(resumed.elapsed().as_millis(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn no_rate_means_no_wait() {
        let pacer = Pacer::new(None);
        let start = Instant::now();
        for _ in 0..1000 {
            pacer.turn().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
