//! Ladders drawn for a terminal: a time column, each end's state beside its
//! rail, and between the rails one arrow per segment with its label (on
//! lines of its own above the arrow when it does not fit), in Unicode box
//! drawing or ASCII.

use super::Ladder;
use crate::output::text::{push_number, push_zero_padded};
use crate::wire::conversation::{Side, TcpState};

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
    let mut out = String::with_capacity(64 + ladder.rungs.len() * (width + 16));
    out.push_str(&ladder.title(if options.ascii { "->" } else { "→" }));
    out.push('\n');
    let blank = |out: &mut String| push_repeat(out, " ", arrow_width);
    push_row(&mut out, "", "client", " ", "server", blank);
    if let Some((client, server)) = ladder.initial {
        push_row(&mut out, "", client.name(), pen.rail, server.name(), blank);
    }
    // Written into and cleared for each rung: no allocation per segment.
    let (mut label, mut time) = (String::new(), String::new());
    for rung in &ladder.rungs {
        label.clear();
        rung.label.write(&mut label);
        time.clear();
        push_seconds(&mut time, rung.at);
        let label_chars = label.chars().count();
        let fits = label_chars <= arrow_width.saturating_sub(4);
        if !fits {
            // The label on lines of its own above a bare arrow, wrapped at
            // spaces (a word longer than the arrow is cut).
            for line in wrap(&label, arrow_width) {
                let pad = arrow_width - line.chars().count();
                push_row(&mut out, "", "", pen.rail, "", |out| {
                    push_repeat(out, " ", pad / 2);
                    out.push_str(&line);
                    push_repeat(out, " ", pad - pad / 2);
                });
            }
        }
        let (text, chars) = if fits {
            (label.as_str(), label_chars)
        } else {
            ("", 0)
        };
        let state = |s: Option<TcpState>| s.map_or("", TcpState::name);
        if let Some(passed) = rung.sender_passed {
            let (client, server) = match rung.from {
                Side::Client => (passed.name(), ""),
                Side::Server => ("", passed.name()),
            };
            push_row(&mut out, "", client, pen.rail, server, blank);
        }
        push_row(
            &mut out,
            &time,
            state(rung.client_state),
            pen.rail,
            state(rung.server_state),
            |out| push_arrow(out, text, chars, rung.from, arrow_width, pen),
        );
    }
    out
}

/// One line: the time, the client's state (right-aligned against its
/// rail), the middle, the server's state; no trailing spaces.
fn push_row(
    out: &mut String,
    time: &str,
    client: &str,
    rail: &str,
    server: &str,
    middle: impl FnOnce(&mut String),
) {
    let start = out.len();
    push_right_aligned_text(out, time, TIME_WIDTH);
    out.push(' ');
    push_right_aligned_text(out, client, STATE_WIDTH);
    out.push(' ');
    out.push_str(rail);
    middle(out);
    out.push_str(rail);
    out.push(' ');
    out.push_str(server);
    let kept = out[start..].trim_end().len();
    out.truncate(start + kept);
    out.push('\n');
}

fn push_right_aligned_text(out: &mut String, text: &str, width: usize) {
    push_repeat(out, " ", width.saturating_sub(text.chars().count()));
    out.push_str(text);
}

fn push_repeat(out: &mut String, piece: &str, times: usize) {
    for _ in 0..times {
        out.push_str(piece);
    }
}

/// Seconds with six decimals, rounded to the microsecond (as `{:.6}`).
fn push_seconds(out: &mut String, at: std::time::Duration) {
    let micros = (at.as_nanos() + 500) / 1000;
    push_number(out, (micros / 1_000_000) as u64);
    out.push('.');
    push_zero_padded(out, (micros % 1_000_000) as u32, 6);
}

/// `── LABEL ─────▶` or `◀───── LABEL ──`, exactly `width` characters;
/// `chars` is the label's length in characters.
fn push_arrow(out: &mut String, label: &str, chars: usize, from: Side, width: usize, pen: &Pen) {
    let decorated = if label.is_empty() { 0 } else { chars + 2 };
    let room = width.saturating_sub(decorated + 1);
    let push_label = |out: &mut String| {
        if !label.is_empty() {
            out.push(' ');
            out.push_str(label);
            out.push(' ');
        }
    };
    match from {
        Side::Client => {
            push_repeat(out, pen.line, 2.min(room));
            push_label(out);
            push_repeat(out, pen.line, room.saturating_sub(2));
            out.push_str(pen.right);
        }
        Side::Server => {
            out.push_str(pen.left);
            push_repeat(out, pen.line, room.saturating_sub(2));
            push_label(out);
            push_repeat(out, pen.line, 2.min(room));
        }
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
