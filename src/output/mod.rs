//! Turning events into text for people. The library never prints; the CLI
//! plugs these printers into the event stream.

pub mod color;
pub mod ladder;
pub mod narrate;
pub mod ping;
pub mod plot;
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

/// Whether the locale says the terminal takes UTF-8 (LC_ALL, then
/// LC_CTYPE, then LANG, as setlocale reads them).
pub fn locale_is_utf8() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .is_some_and(|value| {
            let value = value.to_ascii_lowercase();
            value.contains("utf-8") || value.contains("utf8")
        })
}

/// The columns to fill: COLUMNS when set, else the terminal's width, else 80.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .unwrap_or(80)
}

/// Text made safe for XML (control characters replaced).
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
