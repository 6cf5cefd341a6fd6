//! Ladders as a picture: an SVG document with one diagram per exchange,
//! stacked, each titled with its endpoints, so it can go into slides or
//! notes and opens in any browser. Arrows slant down from sender to
//! receiver, as the textbook draws them; each end's state is written beside
//! its rail where it changes.

use std::fmt::Write as _;

use super::Ladder;
use crate::output::xml_escape;
use crate::wire::conversation::Side;

/// The picture's width, and where the two rails stand.
const WIDTH: u32 = 960;
const LEFT_RAIL: u32 = 320;
const RIGHT_RAIL: u32 = 760;
/// The height of one segment's row, and how far an arrow drops across it.
const ROW: u32 = 34;
const SLANT: u32 = 14;
/// Room for a diagram's title and its header rows, and below its last row.
const HEAD: u32 = 70;
const FOOT: u32 = 30;

/// Diagrams added one after another, rendered as one document at the end
/// (its height is known only then).
#[derive(Debug, Default)]
pub struct SvgDocument {
    body: String,
    height: u32,
}

impl SvgDocument {
    pub fn new() -> SvgDocument {
        SvgDocument::default()
    }

    /// Adds one ladder below the ones already there.
    pub fn add(&mut self, ladder: &Ladder) {
        let top = self.height;
        let body = &mut self.body;
        let title = ladder.title("→");
        let _ = writeln!(
            body,
            r#"<g class="ladder"><text class="title" x="20" y="{}">{}</text>"#,
            top + 24,
            xml_escape(&title)
        );
        let header = top + 50;
        let _ = writeln!(
            body,
            r#"<text class="end" x="{LEFT_RAIL}" y="{header}" text-anchor="middle">client</text><text class="end" x="{RIGHT_RAIL}" y="{header}" text-anchor="middle">server</text>"#
        );
        let first = top + HEAD;
        let last = first + ROW * ladder.rungs.len() as u32;
        let _ = writeln!(
            body,
            r#"<line class="rail" x1="{LEFT_RAIL}" y1="{first}" x2="{LEFT_RAIL}" y2="{last}"/><line class="rail" x1="{RIGHT_RAIL}" y1="{first}" x2="{RIGHT_RAIL}" y2="{last}"/>"#
        );
        if let Some((client, server)) = ladder.initial {
            state(body, Side::Client, first, client.name());
            state(body, Side::Server, first, server.name());
        }
        let mut label = String::new();
        for (i, rung) in ladder.rungs.iter().enumerate() {
            label.clear();
            rung.label.write(&mut label);
            let y = first + 10 + ROW * i as u32;
            let (x1, x2) = match rung.from {
                Side::Client => (LEFT_RAIL, RIGHT_RAIL),
                Side::Server => (RIGHT_RAIL, LEFT_RAIL),
            };
            let _ = writeln!(
                body,
                r#"<text class="time" x="20" y="{}">{:.6}</text>"#,
                y + SLANT,
                rung.at.as_secs_f64()
            );
            let _ = writeln!(
                body,
                r#"<line class="segment" x1="{x1}" y1="{y}" x2="{x2}" y2="{}" marker-end="url(#head)"/>"#,
                y + SLANT
            );
            let _ = writeln!(
                body,
                r#"<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                (LEFT_RAIL + RIGHT_RAIL) / 2,
                y + SLANT / 2 - 4,
                xml_escape(&label)
            );
            if let Some(s) = rung.sender_passed {
                // Where the arrow leaves, above the state it leads to.
                state(body, rung.from, y, s.name());
            }
            if let Some(s) = rung.client_state {
                state(body, Side::Client, y + SLANT, s.name());
            }
            if let Some(s) = rung.server_state {
                state(body, Side::Server, y + SLANT, s.name());
            }
        }
        body.push_str("</g>\n");
        self.height = last + FOOT;
    }

    /// The whole document.
    pub fn render(&self) -> String {
        let height = self.height.max(1);
        format!(
            r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">
<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1f4e79"/></marker></defs>
<style>
text {{ font-family: monospace; font-size: 13px; fill: #222; }}
.title {{ font-size: 15px; font-weight: bold; }}
.end {{ font-weight: bold; }}
.time {{ fill: #777; }}
.state {{ fill: #8a3b00; font-weight: bold; }}
.rail {{ stroke: #444; stroke-width: 2; }}
.segment {{ stroke: #1f4e79; stroke-width: 1.5; }}
</style>
<rect width="100%" height="100%" fill="white"/>
{}</svg>
"##,
            self.body
        )
    }
}

/// An end's state, beside its rail.
fn state(body: &mut String, side: Side, y: u32, name: &str) {
    let (x, anchor) = match side {
        Side::Client => (LEFT_RAIL - 10, "end"),
        Side::Server => (RIGHT_RAIL + 10, "start"),
    };
    let _ = writeln!(
        body,
        r#"<text class="state" x="{x}" y="{y}" text-anchor="{anchor}">{name}</text>"#
    );
}
