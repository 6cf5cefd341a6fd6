//! Ladders drawn for a terminal: a time column, each end's state beside its
//! rail, and between the rails one arrow per segment with its label (on
//! lines of its own above the arrow when it does not fit), in Unicode box
//! drawing or ASCII.

use std::fmt::Write as _;

use super::Ladder;
use crate::wire::conversation::{Ending, Side, TcpState};

/// How the text is drawn.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    /// ASCII lines and arrows instead of Unicode box drawing.
    pub ascii: bool,
    /// Columns to fill (at least [`NARROWEST`]).
    pub width: usize,
}

/// The narrowest a diagram is drawn, whatever the terminal says.
pub const NARROWEST: usize = 50;

/// The width of a state's name (`SYN-RECEIVED`), the widest.
const STATE_WIDTH: usize = 12;
/// The width of the time column (`12.345678`).
const TIME_WIDTH: usize = 10;

/// The characters a diagram is drawn with.
struct Pen {
    line: &'static str,
    rail: &'static str,
    right: &'static str,
    left: &'static str,
}

const UNICODE: Pen = Pen {
    line: "─",
    rail: "│",
    right: "▶",
    left: "◀",
};

const ASCII: Pen = Pen {
    line: "-",
    rail: "|",
    right: ">",
    left: "<",
};

/// One ladder as text, newline-terminated.
pub fn draw(ladder: &Ladder, options: &TextStyle) -> String {
    let pen = if options.ascii { &ASCII } else { &UNICODE };
    let width = options.width.max(NARROWEST);
    // time, client state, rail, arrow, rail, server state.
    let arrow_width = width - (TIME_WIDTH + 1 + STATE_WIDTH + 1 + 1 + 1 + 1 + STATE_WIDTH);
    let mut out = String::new();
    let ending = match (ladder.ending, ladder.initial) {
        (Some(Ending::FourWay), _) => " (closed in four steps)",
        (Some(Ending::ThreeWay), _) => " (closed in three steps)",
        (Some(Ending::Simultaneous), _) => " (closed simultaneously)",
        (Some(Ending::Reset), _) => " (reset)",
        (Some(Ending::Refused), _) => " (refused)",
        (None, Some(_)) => " (still open)",
        // UDP and ICMP have no ending to name.
        (None, None) => "",
    };
    let _ = writeln!(
        out,
        "{} {} {} {}{ending}",
        ladder.name,
        ladder.client,
        if options.ascii { "->" } else { "→" },
        ladder.server
    );
    let blank = " ".repeat(arrow_width);
    row(&mut out, "", "client", " ", &blank, "server");
    if let Some((client, server)) = ladder.initial {
        row(&mut out, "", client.name(), pen.rail, &blank, server.name());
    }
    for rung in &ladder.rungs {
        let time = format!("{:.6}", rung.at.as_secs_f64());
        let text_room = arrow_width.saturating_sub(4);
        let fits = rung.label.chars().count() <= text_room;
        if !fits {
            // The label on lines of its own above a bare arrow, wrapped at
            // spaces (a word longer than the arrow is cut).
            for line in wrap(&rung.label, arrow_width) {
                let pad = arrow_width - line.chars().count();
                let centred = format!("{}{line}{}", " ".repeat(pad / 2), " ".repeat(pad - pad / 2));
                row(&mut out, "", "", pen.rail, &centred, "");
            }
        }
        let arrow = arrow(
            if fits { &rung.label } else { "" },
            rung.from,
            arrow_width,
            pen,
        );
        let state = |s: Option<TcpState>| s.map_or("", TcpState::name);
        row(
            &mut out,
            &time,
            state(rung.client_state),
            pen.rail,
            &arrow,
            state(rung.server_state),
        );
    }
    out
}

/// One line: the time, the client's state (right-aligned against its
/// rail), the middle, the server's state.
fn row(out: &mut String, time: &str, client: &str, rail: &str, middle: &str, server: &str) {
    let line = format!("{time:>TIME_WIDTH$} {client:>STATE_WIDTH$} {rail}{middle}{rail} {server}");
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `── LABEL ─────▶` or `◀───── LABEL ──`, exactly `width` characters.
fn arrow(label: &str, from: Side, width: usize, pen: &Pen) -> String {
    let label = if label.is_empty() {
        String::new()
    } else {
        format!(" {label} ")
    };
    let room = width.saturating_sub(label.chars().count() + 1);
    match from {
        Side::Client => format!(
            "{}{label}{}{}",
            pen.line.repeat(2.min(room)),
            pen.line.repeat(room.saturating_sub(2)),
            pen.right
        ),
        Side::Server => format!(
            "{}{}{label}{}",
            pen.left,
            pen.line.repeat(room.saturating_sub(2)),
            pen.line.repeat(2.min(room))
        ),
    }
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let word: String = word.chars().take(width).collect();
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    lines
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
