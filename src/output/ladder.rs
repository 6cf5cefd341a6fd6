//! The handshake as the textbook draws it: each TCP connection as a ladder,
//! the client on the left, the server on the right, time running down, one
//! arrow per segment labelled with its flags, sequence and acknowledgement
//! numbers (relative to each end's first, as Wireshark shows them, unless
//! `absolute`) and payload length, and each end's state written beside it
//! whenever it changes.
//!
//! A connection's rungs are kept only while it is open: its diagram is
//! drawn the moment it ends (closed, reset or refused) and forgotten, so
//! memory follows the connections open at once, not the packets seen.
//! Whatever is still open when the capture stops is drawn by `finish`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use foldhash::fast::RandomState;

use crate::tools::sniff::Seen;
use crate::wire::conversation::{Ending, Side, StepKind, TcpState};
use crate::wire::packet::Transport;
use crate::wire::tcp::Flags;

/// The narrowest a diagram is drawn, whatever the terminal says.
pub const NARROWEST: usize = 50;

/// The width of a state's name (`SYN-RECEIVED`), the widest.
const STATE_WIDTH: usize = 12;
/// The width of the time column (`12.345678`).
const TIME_WIDTH: usize = 10;

#[derive(Debug, Clone, Copy)]
pub struct LadderOptions {
    /// Raw sequence numbers instead of relative ones.
    pub absolute: bool,
    /// ASCII lines and arrows instead of Unicode box drawing.
    pub ascii: bool,
    /// Columns to fill (at least [`NARROWEST`]).
    pub width: usize,
    /// Draw only this connection (`tcp#N`).
    pub only: Option<usize>,
}

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

/// One segment on the ladder.
#[derive(Debug, Clone)]
struct Rung {
    at: Duration,
    from: Side,
    label: String,
    /// Each end's state after the segment, when it changed.
    client_state: Option<TcpState>,
    server_state: Option<TcpState>,
}

#[derive(Debug, Clone)]
struct Ladder {
    id: usize,
    client: SocketAddr,
    server: SocketAddr,
    started: Duration,
    /// Each end's first sequence number seen: the zero of its relative ones.
    first_seq: [Option<u32>; 2],
    states: (TcpState, TcpState),
    initial: (TcpState, TcpState),
    rungs: Vec<Rung>,
    ending: Option<Ending>,
}

/// Every open connection's ladder, drawn as each ends.
pub struct Ladders {
    options: LadderOptions,
    open: HashMap<usize, Ladder, RandomState>,
}

impl Ladders {
    pub fn new(options: LadderOptions) -> Ladders {
        Ladders {
            options,
            open: HashMap::default(),
        }
    }

    /// Puts one packet on its connection's ladder; returns that connection's
    /// diagram when this packet ended it.
    pub fn record(&mut self, seen: &Seen<'_>) -> Option<String> {
        let segment = seen.segment?;
        if self
            .options
            .only
            .is_some_and(|only| only != segment.connection)
        {
            return None;
        }
        let Some(Transport::Tcp {
            seq, ack, flags, ..
        }) = seen.packet.transport
        else {
            return None;
        };
        let time = seen.header.time;
        let ladder = self.open.entry(segment.connection).or_insert_with(|| {
            // The states before the first segment: what it moved them from.
            let initial = match (flags.has(Flags::SYN), flags.has(Flags::ACK)) {
                (true, false) => (TcpState::Closed, TcpState::Listen),
                (true, true) => (TcpState::SynSent, TcpState::Listen),
                _ => (segment.client_state, segment.server_state),
            };
            Ladder {
                id: segment.connection,
                client: segment.client,
                server: segment.server,
                started: time,
                first_seq: [None, None],
                states: initial,
                initial,
                rungs: Vec::new(),
                ending: None,
            }
        });
        let sender = segment.from as usize;
        let first = *ladder.first_seq[sender].get_or_insert(seq);
        let receiver_first = ladder.first_seq[1 - sender];
        let (seq, ack) = if self.options.absolute {
            (seq, ack)
        } else {
            (
                seq.wrapping_sub(first),
                receiver_first.map_or(ack, |f| ack.wrapping_sub(f)),
            )
        };
        let mut label = flag_names(flags);
        let _ = write!(label, " seq={seq}");
        if flags.has(Flags::ACK) {
            let _ = write!(label, " ack={ack}");
        }
        let payload = seen.packet.payload.len();
        if payload > 0 {
            let _ = write!(label, " len={payload}");
        }
        let changed = |old: TcpState, new: TcpState| (old != new).then_some(new);
        ladder.rungs.push(Rung {
            at: time.saturating_sub(ladder.started),
            from: segment.from,
            label,
            client_state: changed(ladder.states.0, segment.client_state),
            server_state: changed(ladder.states.1, segment.server_state),
        });
        ladder.states = (segment.client_state, segment.server_state);
        for step in &seen.steps {
            match step.kind {
                StepKind::Closed { ending, .. } | StepKind::Reset { ending, .. } => {
                    ladder.ending = Some(ending);
                }
                _ => {}
            }
        }
        if !segment.ends_connection {
            return None;
        }
        let ladder = self.open.remove(&segment.connection)?;
        Some(draw(&ladder, &self.options))
    }

    /// The diagrams of the connections still open, in the order they began.
    pub fn finish(&mut self) -> Vec<String> {
        let mut open: Vec<Ladder> = self.open.drain().map(|(_, l)| l).collect();
        open.sort_by_key(|l| l.id);
        open.iter().map(|l| draw(l, &self.options)).collect()
    }
}

/// `SYN`, `SYN, ACK`, `PSH, ACK`...: Wireshark's order and words.
fn flag_names(flags: Flags) -> String {
    let names: Vec<&str> = [
        (Flags::SYN, "SYN"),
        (Flags::FIN, "FIN"),
        (Flags::RST, "RST"),
        (Flags::PSH, "PSH"),
        (Flags::ACK, "ACK"),
    ]
    .iter()
    .filter(|(flag, _)| flags.has(*flag))
    .map(|(_, name)| *name)
    .collect();
    if names.is_empty() {
        "(no flags)".into()
    } else {
        names.join(", ")
    }
}

fn draw(ladder: &Ladder, options: &LadderOptions) -> String {
    let pen = if options.ascii { &ASCII } else { &UNICODE };
    let width = options.width.max(NARROWEST);
    // time, client state, rail, arrow, rail, server state.
    let arrow_width = width - (TIME_WIDTH + 1 + STATE_WIDTH + 1 + 1 + 1 + 1 + STATE_WIDTH);
    let mut out = String::new();
    let ending = match ladder.ending {
        Some(Ending::FourWay) => "closed in four steps",
        Some(Ending::ThreeWay) => "closed in three steps",
        Some(Ending::Simultaneous) => "closed simultaneously",
        Some(Ending::Reset) => "reset",
        Some(Ending::Refused) => "refused",
        None => "still open",
    };
    let _ = writeln!(
        out,
        "tcp#{} {} {} {} ({ending})",
        ladder.id,
        ladder.client,
        if options.ascii { "->" } else { "→" },
        ladder.server
    );
    let blank = " ".repeat(arrow_width);
    row(&mut out, "", "client", " ", &blank, "server");
    row(
        &mut out,
        "",
        ladder.initial.0.name(),
        pen.rail,
        &blank,
        ladder.initial.1.name(),
    );
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
