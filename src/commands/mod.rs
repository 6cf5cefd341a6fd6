//! What each subcommand does with its parsed arguments: build the library's
//! options, run the library, print, and choose the exit code. One module per
//! layer of the course, as in the library; this file holds what they share.

pub mod lookups;
pub mod manual;
pub mod reachability;
pub mod sniff;
pub mod trace;
pub mod transport;

use std::time::Duration;

use sockit::output::progress::Progress;
use sockit::shutdown::StopTrigger;
use sockit::{Error, Result};

/// Stops the runtime without waiting for its blocking threads (a relay
/// thread may be blocked reading a terminal forever), then the progress display.
pub fn finish(runtime: tokio::runtime::Runtime, progress: Option<Progress>) {
    runtime.shutdown_background();
    if let Some(progress) = progress {
        progress.finish();
    }
}

/// A number of seconds from the command line, checked: positive (or zero
/// where `zero_ok`) and finite.
pub fn seconds(flag: &str, secs: f64, zero_ok: bool) -> Result<Duration> {
    let low_ok = secs > 0.0 || (zero_ok && secs == 0.0);
    if secs.is_finite() && low_ok && secs < 1e9 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        let or_zero = if zero_ok { " or 0" } else { "" };
        Err(Error::Usage(format!(
            "{flag} {secs}: give a positive number of seconds{or_zero} (fractions allowed)"
        )))
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the I/O runtime", e))
}

pub fn signal_trigger() -> Result<StopTrigger> {
    let trigger = StopTrigger::new();
    trigger
        .on_signals()
        .map_err(|e| Error::io("installing signal handlers", e))?;
    Ok(trigger)
}
