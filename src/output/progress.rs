//! The progress display for long transfers: bytes, rate and ETA on stderr,
//! never in the data stream.
//!
//! On a terminal it is an indicatif bar redrawn in place. When `--progress`
//! is asked for and stderr is a file or a pipe (a log), it becomes one plain
//! line per second instead, since redrawing a line only makes sense on a
//! terminal.

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
            if std::io::stderr().is_terminal() {
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
    let template = match total {
        Some(_) => {
            "{bar:30} {bytes}/{total_bytes} sent, {msg} received  {bytes_per_sec}  ETA {eta}"
        }
        None => "{spinner} {bytes} moved ({msg})  {bytes_per_sec}  {elapsed}",
    };
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(10));
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    loop {
        let finished = done.load(Ordering::Relaxed);
        match total {
            Some(_) => {
                bar.set_position(counters.sent());
                bar.set_message(bytes(counters.received()));
            }
            None => {
                bar.set_position(counters.sent() + counters.received());
                bar.set_message(format!(
                    "{} sent, {} received",
                    bytes(counters.sent()),
                    bytes(counters.received())
                ));
            }
        }
        if finished {
            bar.finish();
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn print_lines(counters: &Counters, total: Option<u64>, done: &AtomicBool) {
    let mut ticks = 0u32;
    loop {
        let finished = done.load(Ordering::Relaxed);
        if finished || ticks.is_multiple_of(10) && ticks > 0 {
            let elapsed = counters.elapsed().as_secs_f64().max(1e-9);
            let moved = counters.sent() + counters.received();
            let rate = moved as f64 / elapsed;
            let mut line = format!(
                "progress: sent {}, received {}, {}/s",
                bytes(counters.sent()),
                bytes(counters.received()),
                bytes(rate as u64)
            );
            if let Some(total) = total {
                let left = total.saturating_sub(counters.sent());
                let sent_rate = counters.sent() as f64 / elapsed;
                let eta = if sent_rate > 0.0 {
                    format!("{:.0} s", left as f64 / sent_rate)
                } else {
                    "unknown".into()
                };
                line.push_str(&format!(
                    ", {} of {}, ETA {eta}",
                    bytes(counters.sent()),
                    bytes(total)
                ));
            }
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        if finished {
            return;
        }
        ticks += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
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
