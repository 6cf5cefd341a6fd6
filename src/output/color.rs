//! Colour, where it helps and only where it is wanted: a state that should
//! catch the eye (a port open, all packets lost, an error) and the layers of
//! a decoded packet.
//!
//! The rule is ls's and ripgrep's: `--color auto` (the default) colours a
//! stream only when it is a terminal and `NO_COLOR` is unset or empty
//! (no-color.org), `always` colours even into a pipe, `never` never does.
//! Stdout and stderr are decided apart, since one may be a terminal while
//! the other is redirected. The decision is made once, by the program at
//! start-up; a library user who never makes it gets plain text.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};

static STDOUT: AtomicBool = AtomicBool::new(false);
static STDERR: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl std::str::FromStr for ColorChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<ColorChoice, String> {
        match text {
            "auto" => Ok(ColorChoice::Auto),
            "always" => Ok(ColorChoice::Always),
            "never" => Ok(ColorChoice::Never),
            _ => Err(format!("{text:?} is not one of auto, always, never")),
        }
    }
}

impl ColorChoice {
    /// Whether a stream gets colour under this choice.
    pub fn colors(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// Decides colour for stdout and stderr, once, at start-up.
pub fn configure(choice: ColorChoice) {
    STDOUT.store(
        choice.colors(std::io::stdout().is_terminal()),
        Ordering::Relaxed,
    );
    STDERR.store(
        choice.colors(std::io::stderr().is_terminal()),
        Ordering::Relaxed,
    );
}

/// The painter for text bound for stdout.
pub fn stdout() -> Painter {
    Painter(STDOUT.load(Ordering::Relaxed))
}

/// The painter for text bound for stderr.
pub fn stderr() -> Painter {
    Painter(STDERR.load(Ordering::Relaxed))
}

/// What a piece of text means, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// All is well: a port open, no packet lost.
    Good,
    /// Worth a look: some loss, a port that may be open.
    Warning,
    /// Something failed: an error's prefix, all packets lost.
    Bad,
    /// A layer's name in a decoded packet, outermost first.
    Layer(u8),
    /// Commentary beside the data (sniff's narration).
    Note,
}

impl Role {
    fn style(self) -> Style {
        let color = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match self {
            Role::Good => color(AnsiColor::Green),
            Role::Warning => color(AnsiColor::Yellow),
            Role::Bad => color(AnsiColor::Red).bold(),
            Role::Note => color(AnsiColor::Cyan),
            Role::Layer(depth) => color(
                [
                    AnsiColor::BrightBlack,
                    AnsiColor::Blue,
                    AnsiColor::Magenta,
                    AnsiColor::Yellow,
                    AnsiColor::Green,
                    AnsiColor::Cyan,
                ][usize::from(depth) % 6],
            )
            .bold(),
        }
    }
}

/// Paints text for one stream, or leaves it alone when that stream gets no
/// colour.
#[derive(Debug, Clone, Copy)]
pub struct Painter(bool);

impl Painter {
    /// A painter that paints (or not) whatever the streams are.
    pub fn new(enabled: bool) -> Painter {
        Painter(enabled)
    }

    pub fn enabled(self) -> bool {
        self.0
    }

    pub fn paint(self, role: Role, text: &str) -> String {
        if !self.0 {
            return text.to_string();
        }
        let style = role.style();
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_enabled_painter_adds_escapes() {
        assert_eq!(Painter(false).paint(Role::Bad, "sockit"), "sockit");
        let painted = Painter(true).paint(Role::Good, "open");
        assert!(
            painted.starts_with("\x1b[") && painted.ends_with("\x1b[0m"),
            "{painted:?}"
        );
        assert!(painted.contains("open"));
    }

    #[test]
    fn choices_as_ls_and_ripgrep() {
        assert!(ColorChoice::Always.colors(false));
        assert!(!ColorChoice::Never.colors(true));
        assert!(!ColorChoice::Auto.colors(false));
        assert_eq!("never".parse(), Ok(ColorChoice::Never));
        assert!("sometimes".parse::<ColorChoice>().is_err());
    }
}
