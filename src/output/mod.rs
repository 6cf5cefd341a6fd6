//! Turning events into text for people. The library never prints; the CLI
//! plugs these printers into the event stream.

pub mod color;
pub mod ladder;
pub mod narrate;
pub mod ping;
pub mod progress;
pub mod report;
pub mod scan;
pub mod sniff;
pub mod text;
pub mod tls;
pub mod trace;

/// Writes `text` to stdout as it is; a closed stdout (`| head`) is not an
/// error worth a word, and never a panic as `print!` would make it.
pub fn emit_text(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_ok()
}
