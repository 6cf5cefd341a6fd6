//! One stop signal that every task listens to.
//!
//! Servers run until something tells them to stop: SIGINT or SIGTERM from the
//! user, or the disappearance of the stdout they write to. Each task selects
//! on a [`Shutdown`] handle, so stopping is a single, orderly event instead of
//! a process exit in the middle of a write.

use tokio::sync::watch;

use super::events::{Event, Events};
use super::relay::SessionEnd;

/// Why the server is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Signal(&'static str),
    /// Our stdout's reader went away; there is no one left to serve.
    OutputClosed,
}

/// Fires the stop; held by whoever may decide it.
#[derive(Debug, Clone)]
pub struct Trigger(watch::Sender<Option<Stop>>);

/// Waits for the stop; cheap to clone into every task.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<Option<Stop>>);

impl Trigger {
    pub fn new() -> Trigger {
        Trigger(watch::channel(None).0)
    }

    /// The first reason wins; later ones are ignored.
    pub fn fire(&self, why: Stop) {
        self.0.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(why);
                true
            } else {
                false
            }
        });
    }

    /// Fires on the first SIGINT or SIGTERM. Must be called inside a Tokio runtime.
    pub fn on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let trigger = self.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            trigger.fire(Stop::Signal(name));
        });
        Ok(())
    }
}

impl Shutdown {
    /// Resolves once the stop has fired, with its reason.
    pub async fn wait(&mut self) -> Stop {
        loop {
            if let Some(why) = *self.0.borrow_and_update() {
                return why;
            }
            if self.0.changed().await.is_err() {
                // Every trigger is gone: nobody can stop us any more.
                std::future::pending::<()>().await;
            }
        }
    }

    pub fn stopped(&self) -> Option<Stop> {
        *self.0.borrow()
    }
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger::new()
    }
}

impl Trigger {
    /// A new handle that waits for this trigger.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

/// The end of a session cut short by `stop`, narrated when it was a signal.
pub(crate) fn stopped(stop: Stop, events: &Events) -> SessionEnd {
    if let Stop::Signal(signal) = stop {
        events.emit(Event::Stopping { signal });
    }
    SessionEnd::Stopped(stop)
}
