//! One stop signal that every task of a tool listens to.
//!
//! Servers, relays and probe loops run until something tells them to stop:
//! SIGINT or SIGTERM from the user, or the disappearance of the output they
//! write to. Each task selects on a [`StopSignal`], so stopping is a single,
//! orderly event instead of a process exit in the middle of a write. It lives
//! at the crate's root, as in mini-redis, because every layer that loops
//! (transport, ping, scan) obeys it and none of them owns it.

use tokio::sync::watch;

/// Why the tool is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Signal(&'static str),
    /// The program embedding the library asked for the stop.
    Requested,
    /// Our output's reader went away; there is no one left to serve.
    OutputClosed,
}

/// Fires the stop; held by whoever may decide it.
#[derive(Debug, Clone)]
pub struct StopTrigger(watch::Sender<Option<StopReason>>);

/// Waits for the stop; cheap to clone into every task.
#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<Option<StopReason>>);

impl StopTrigger {
    pub fn new() -> StopTrigger {
        StopTrigger(watch::channel(None).0)
    }

    /// The first reason wins; later ones are ignored.
    pub fn fire(&self, why: StopReason) {
        self.0.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(why);
                true
            } else {
                false
            }
        });
    }

    /// A new handle that waits for this trigger.
    pub fn subscribe(&self) -> StopSignal {
        StopSignal(self.0.subscribe())
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
            trigger.fire(StopReason::Signal(name));
        });
        Ok(())
    }
}

impl Default for StopTrigger {
    fn default() -> Self {
        StopTrigger::new()
    }
}

impl StopSignal {
    /// Resolves once the stop has fired, with its reason.
    pub async fn wait(&mut self) -> StopReason {
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

    /// The reason, if the stop has fired.
    pub fn stopped(&self) -> Option<StopReason> {
        *self.0.borrow()
    }
}
