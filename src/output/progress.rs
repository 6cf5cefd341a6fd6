//! The progress display for long transfers: bytes, rate and ETA on stderr,
//! never in the data stream.
//!
//! On a terminal it is indicatif's bar, redrawn in place ten times a second
//! and fitted to the terminal's width. When `--progress` is asked for and
//! stderr is a file or a pipe (a log), or a terminal that cannot move its
//! cursor (`TERM=dumb`), the same status becomes one plain line per second
//! instead, since redrawing a line only makes sense where it can be redrawn.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::narrate::bytes;
use crate::transport::Counters;

pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing `counters`. `total` is the input's size when known (a
    /// regular file on stdin), which enables the bar's percentage and ETA.
    pub fn start(counters: Arc<Counters>, total: Option<u64>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            if redraws() {
                draw_bar(&counters, total, &stop)
            } else {
                print_lines(&counters, total, &stop)
            }
        });
        Progress {
            done,
            thread: Some(thread),
        }
    }

    /// A display for a transfer of the process's stdin: when `forced`, or
    /// automatically when stderr is a terminal and stdin is a file, whose
    /// size gives the bar its end.
    pub fn for_stdin(counters: Arc<Counters>, forced: bool) -> Option<Progress> {
        let total = stdin_size();
        let automatic = total.is_some() && std::io::stderr().is_terminal();
        (forced || automatic).then(|| Progress::start(counters, total))
    }

    /// Stops the display after drawing the final figures.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn draw_bar(counters: &Counters, total: Option<u64>, done: &AtomicBool) {
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(10));
    // `wide_msg` takes the room left and is cut to it: a narrow terminal
    // gets a shorter line, never a wrapped one that redraws as garbage.
    let template = match total {
        Some(_) => "[{bar:20}] {percent:>3}% {wide_msg}",
        None => "{spinner} {wide_msg}",
    };
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("#>."));
    loop {
        let finished = done.load(Ordering::Relaxed);
        bar.set_position(counters.sent());
        let line = status(counters, total);
        bar.set_message(line.trim_start_matches("progress: ").to_string());
        if finished {
            bar.finish();
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A terminal that can redraw a line in place.
fn redraws() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

fn print_lines(counters: &Counters, total: Option<u64>, done: &AtomicBool) {
    let mut ticks = 0u32;
    loop {
        let finished = done.load(Ordering::Relaxed);
        if finished || ticks.is_multiple_of(10) && ticks > 0 {
            let _ = writeln!(std::io::stderr().lock(), "{}", status(counters, total));
        }
        if finished {
            return;
        }
        ticks += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// "progress: sent 1.2 GiB, received 0 B, 1.1 GiB/s, 1.2 GiB of 2.0 GiB, ETA 1 s"
fn status(counters: &Counters, total: Option<u64>) -> String {
    let elapsed = counters.elapsed().as_secs_f64().max(1e-9);
    let (sent, received) = (counters.sent(), counters.received());
    let rate = (sent + received) as f64 / elapsed;
    let mut line = format!(
        "progress: sent {}, received {}, {}/s",
        bytes(sent),
        bytes(received),
        bytes(rate as u64)
    );
    if let Some(total) = total {
        let sent_rate = sent as f64 / elapsed;
        let eta = if sent >= total {
            "0 s".to_string()
        } else if sent_rate > 0.0 {
            format!("{:.0} s", total.saturating_sub(sent) as f64 / sent_rate)
        } else {
            "unknown".into()
        };
        line.push_str(&format!(", {} of {}, ETA {eta}", bytes(sent), bytes(total)));
    }
    line
}

/// What is left to read of stdin, when it is a regular file.
fn stdin_size() -> Option<u64> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    let file = std::fs::File::from(stdin.as_fd().try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let offset = (&file).stream_position().unwrap_or(0);
    Some(meta.len().saturating_sub(offset))
}
