//! Turning events into text for people. The library never prints; the CLI
//! plugs these printers into the event stream.

pub mod narrate;
pub mod ping;
pub mod progress;
pub mod report;
pub mod scan;
pub mod sniff;
pub mod text;
pub mod tls;
pub mod trace;
