//! ping's closing summary: counts, loss and round-trip statistics, with
//! iputils' rules (a duplicate is not a second reply, but its round trip
//! counts; the mean deviation is the standard deviation of the round trips).

use std::time::Duration;

use serde::Serialize;

use super::Outcome;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PingSummary {
    pub transmitted: u64,
    pub received: u64,
    pub duplicates: u64,
    /// ICMP errors about our probes (unreachable, TTL exceeded).
    pub errors: u64,
    /// TCP probes answered with a reset.
    pub refused: u64,
    /// Probes whose own timer ran out (TCP).
    #[serde(skip)]
    pub unanswered: u64,
    #[serde(skip)]
    pub send_failures: u64,
    /// Replies whose payload differed from the request's.
    pub corrupted: u64,
    /// The most probes ever in flight when an answer came (iputils' "pipe").
    pub pipe: u64,
    #[serde(skip)]
    pub elapsed: Duration,
    #[serde(skip)]
    timed: u64,
    #[serde(skip)]
    rtt_sum_ms: f64,
    #[serde(skip)]
    rtt_sum_squares_ms: f64,
    #[serde(skip)]
    rtt_min: Option<Duration>,
    #[serde(skip)]
    rtt_max: Option<Duration>,
    /// iputils' moving average of the round trip, in eighths of a
    /// microsecond (each reply moves it an eighth of the way).
    #[serde(skip)]
    ewma_eighths_us: u64,
}

impl PingSummary {
    pub(super) fn record(&mut self, outcome: &Outcome, duplicate: bool) {
        match outcome {
            Outcome::Reply { rtt, corrupted, .. } => {
                if duplicate {
                    self.duplicates += 1;
                } else {
                    self.received += 1;
                }
                if *corrupted {
                    self.corrupted += 1;
                }
                if let Some(rtt) = *rtt {
                    let ms = rtt.as_secs_f64() * 1000.0;
                    self.timed += 1;
                    self.rtt_sum_ms += ms;
                    self.rtt_sum_squares_ms += ms * ms;
                    let us = rtt.as_micros() as u64;
                    self.ewma_eighths_us = if self.ewma_eighths_us == 0 {
                        us * 8
                    } else {
                        (self.ewma_eighths_us + us).saturating_sub(self.ewma_eighths_us / 8)
                    };
                    self.rtt_min = Some(self.rtt_min.map_or(rtt, |m| m.min(rtt)));
                    self.rtt_max = Some(self.rtt_max.map_or(rtt, |m| m.max(rtt)));
                }
            }
            Outcome::Refused { .. } if !duplicate => self.refused += 1,
            Outcome::Error { .. } | Outcome::LocalError { .. } if !duplicate => self.errors += 1,
            Outcome::NoAnswer { .. } if !duplicate => self.unanswered += 1,
            _ => {}
        }
    }

    /// iputils' `ipg/ewma` for adaptive and flood runs: the mean gap between
    /// probes and the moving average of the round trip, in milliseconds.
    pub fn ipg_ewma_ms(&self) -> Option<(f64, f64)> {
        if self.received == 0 {
            return None;
        }
        let gaps = self.transmitted.saturating_sub(1).max(1);
        let ipg = self.elapsed.as_secs_f64() * 1000.0 / gaps as f64;
        Some((ipg, self.ewma_eighths_us as f64 / 8000.0))
    }

    /// Probes whose fate is known: answered, refused, failed or given up on.
    pub(super) fn settled(&self) -> u64 {
        self.received + self.errors + self.refused + self.unanswered + self.send_failures
    }

    pub fn rtt_max(&self) -> Option<Duration> {
        self.rtt_max
    }

    /// Share of probes without a reply, in percent.
    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 0.0;
        }
        (self.transmitted - self.received.min(self.transmitted)) as f64 * 100.0
            / self.transmitted as f64
    }

    /// min, avg, max and mdev in milliseconds, when any reply was timed.
    pub fn rtt_ms(&self) -> Option<[f64; 4]> {
        let (min, max) = (self.rtt_min?, self.rtt_max?);
        let n = self.timed as f64;
        let avg = self.rtt_sum_ms / n;
        let mdev = (self.rtt_sum_squares_ms / n - avg * avg).max(0.0).sqrt();
        Some([
            min.as_secs_f64() * 1000.0,
            avg,
            max.as_secs_f64() * 1000.0,
            mdev,
        ])
    }

    /// ping's exit status: 0 when any reply came, 1 when none did.
    pub fn exit_code(&self) -> i32 {
        if self.received > 0 { 0 } else { 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::ping::tests::reply;

    #[test]
    fn loss_and_round_trips_as_iputils_counts_them() {
        let mut summary = PingSummary {
            transmitted: 4,
            ..PingSummary::default()
        };
        summary.record(&reply(1, 1), false);
        summary.record(&reply(2, 3), false);
        summary.record(&reply(2, 5), true);
        assert_eq!((summary.received, summary.duplicates), (2, 1));
        assert_eq!(summary.loss_percent(), 50.0);
        let [min, avg, max, mdev] = summary.rtt_ms().unwrap();
        assert_eq!((min, avg, max), (1.0, 3.0, 5.0));
        // sqrt(mean of squares - square of mean) = sqrt(35/3 - 9)
        assert!((mdev - (35.0f64 / 3.0 - 9.0).sqrt()).abs() < 1e-9);
        assert_eq!(summary.exit_code(), 0);
    }

    #[test]
    fn nothing_back_is_total_loss_and_exit_1() {
        let summary = PingSummary {
            transmitted: 3,
            ..PingSummary::default()
        };
        assert_eq!(summary.loss_percent(), 100.0);
        assert_eq!(summary.rtt_ms(), None);
        assert_eq!(summary.exit_code(), 1);
    }
}
