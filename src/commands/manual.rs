//! What a mature command-line tool ships besides itself: shell completions
//! and manual pages.
//!
//! Both come from the same clap definitions as `--help`, so they cannot
//! drift from it. Completions are clap's dynamic ones: the shell calls
//! `sockit` back at each Tab, so values only this machine knows (its
//! interfaces for `sniff -i`, its services database for `service`) are
//! completed from the live system, not from a list frozen at build time.
//! The manual pages add what `--help` is too short for, taken from the
//! README's own sections (half-close and exit rules, JSON records, errors),
//! so the README stays their single source.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::env::Shells;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use sockit::{Error, Result};

use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// The variable the registration scripts set when they call sockit back.
pub const COMPLETE_VAR: &str = "COMPLETE";

const README: &str = include_str!("../../README.md");

/// The other programs each page points to.
const SEE_ALSO: &str = "nc(1), ncat(1), socat(1), getent(1), ping(8), traceroute(1), nmap(1), \
                        tcpdump(8), tshark(1), ip(8), openssl(1)";

/// `sockit completions SHELL`: the script that registers sockit's
/// completions in SHELL (it calls `sockit` back to complete each word).
pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let shells = Shells::builtins();
    let Some(shell) = shells.completer(&args.shell) else {
        return Err(Error::Usage(format!(
            "no completions for {:?}: pick one of {}",
            args.shell,
            shells.names().collect::<Vec<_>>().join(", ")
        )));
    };
    let mut script = Vec::new();
    shell
        .write_registration(COMPLETE_VAR, "sockit", "sockit", "sockit", &mut script)
        .map_err(|e| Error::io("writing the completion script", e))?;
    write_stdout(&script)?;
    Ok(0)
}

/// `sockit man [SUBCOMMAND]`: the page through `man` on a terminal, its roff
/// source otherwise; `--write DIR` writes every page.
pub fn man(args: ManArgs) -> Result<i32> {
    let pages = pages();
    if let Some(dir) = &args.write {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        for (name, page) in &pages {
            let path = dir.join(format!("{name}.1"));
            std::fs::write(&path, page)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        }
        return Ok(0);
    }
    let wanted = match &args.subcommand {
        Some(sub) => format!("sockit-{sub}"),
        None => "sockit".into(),
    };
    let Some((_, page)) = pages.iter().find(|(name, _)| *name == wanted) else {
        let names: Vec<&str> = pages
            .iter()
            .filter_map(|(name, _)| name.strip_prefix("sockit-"))
            .collect();
        return Err(Error::Usage(format!(
            "no manual page for {wanted:?}: pick one of {}",
            names.join(", ")
        )));
    };
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        show_with_man(page)
    } else {
        write_stdout(page)?;
        Ok(0)
    }
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("writing to stdout", e))
        }
        _ => Ok(()),
    }
}

fn show_with_man(page: &[u8]) -> Result<i32> {
    let mut man = std::process::Command::new("man")
        .args(["-l", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("running man (install man-db, or redirect to a file)", e))?;
    if let Some(mut stdin) = man.stdin.take() {
        let _ = stdin.write_all(page);
    }
    let status = man.wait().map_err(|e| Error::io("running man", e))?;
    Ok(status.code().unwrap_or(1))
}

/// Every page: `sockit` and one per subcommand, by file name without `.1`.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let mut pages = vec![("sockit".to_string(), page(&cli, None))];
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("sockit-{}", sub.get_name());
        pages.push((name, page(sub, Some(sub.get_name()))));
    }
    pages
}

/// One page: clap's sections, then the README's rules that apply.
fn page(cmd: &clap::Command, subcommand: Option<&str>) -> Vec<u8> {
    let man = Man::new(cmd.clone())
        .manual("sockit manual")
        .source(format!("sockit {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        let _ = man.render_options_section(&mut out);
    }
    if subcommand.is_none() {
        let _ = man.render_subcommands_section(&mut out);
    }
    let mut roff = Roff::new();
    if let Some(help) = cmd.get_after_long_help() {
        // "Examples:", then each command line and, indented under it, what it does.
        roff.control("SH", ["EXAMPLES"]);
        let help = help.to_string();
        let mut lines = help.lines().skip(1);
        while let (Some(command), Some(what)) = (lines.next(), lines.next()) {
            roff.control("TP", [] as [&str; 0]);
            roff.text([bold(command.trim())]);
            roff.text([roman(what.trim())]);
        }
    }
    let session = matches!(subcommand, None | Some("listen" | "connect"));
    if session {
        section(
            &mut roff,
            "HALF-CLOSE AND EXIT RULES",
            readme_section("When does a session end?"),
        );
    }
    let json = json_rows(subcommand);
    if !json.is_empty() {
        roff.control("SH", ["JSON RECORDS"]);
        roff.text([roman(
            "With --json, one object per line; a key followed by ? appears only where it applies.",
        )]);
        for (record, keys) in json {
            roff.control("TP", [] as [&str; 0]);
            roff.text([bold(record)]);
            roff.text([roman(keys)]);
        }
    }
    section(
        &mut roff,
        "ERRORS AND EXIT CODES",
        readme_section("Errors and exit codes"),
    );
    roff.control("SH", ["SEE ALSO"]);
    let see_also = match subcommand {
        Some(_) => format!("sockit(1), {SEE_ALSO}"),
        None => SEE_ALSO.to_string(),
    };
    roff.text([roman(see_also)]);
    let _ = roff.to_writer(&mut out);
    let _ = man.render_version_section(&mut out);
    ascii_only(&out)
}

/// The page with every character beyond ASCII as a groff escape (`→` as
/// `\[u2192]`): groff reads its input as Latin-1 unless told otherwise, and
/// warns about (or garbles) UTF-8.
fn ascii_only(page: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out.into_bytes()
}

/// The README's text under the `## ` heading that starts with `heading`.
fn readme_section(heading: &str) -> &'static str {
    let Some(start) = README.find(&format!("\n## {heading}")) else {
        return "";
    };
    let body = &README[start + 1..];
    let body = &body[body.find('\n').map_or(body.len(), |n| n + 1)..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

/// The JSON records table's rows for a subcommand (all rows for `sockit`):
/// (record, keys).
fn json_rows(subcommand: Option<&str>) -> Vec<(String, String)> {
    readme_section("JSON records")
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| record"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            Some((cells.first()?.to_string(), plain(cells.last()?)))
        })
        .filter(|(record, _)| {
            subcommand.is_none_or(|sub| record.split_whitespace().next() == Some(sub))
        })
        .collect()
}

/// A README section as roff: paragraphs, numbered and bulleted lists, code
/// blocks kept as they are; markdown's emphasis and code marks dropped.
fn section(roff: &mut Roff, title: &str, markdown: &str) {
    roff.control("SH", [title]);
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("<!--") {
            continue;
        }
        if trimmed.starts_with("```") {
            roff.control("PP", [] as [&str; 0]);
            roff.control("nf", [] as [&str; 0]);
            for code in lines.by_ref().take_while(|l| !l.trim().starts_with("```")) {
                roff.text([roman(code)]);
            }
            roff.control("fi", [] as [&str; 0]);
            continue;
        }
        // A paragraph or list item runs until a blank line or the next item.
        let mut text = trimmed.to_string();
        while let Some(next) = lines.peek() {
            let next = next.trim();
            if next.is_empty() || next.starts_with("```") || list_marker(next).is_some() {
                break;
            }
            text.push(' ');
            text.push_str(next);
            lines.next();
        }
        match list_marker(&text) {
            Some((marker, rest)) => {
                roff.control("IP", [marker, "4"]);
                roff.text([roman(plain(rest))]);
            }
            None => {
                roff.control("PP", [] as [&str; 0]);
                roff.text([roman(plain(&text))]);
            }
        }
    }
}

/// `1. ` or `- ` at the start of a list item: the marker and the rest.
fn list_marker(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix("- ") {
        return Some(("-", rest));
    }
    let (number, rest) = text.split_once(". ")?;
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (&text[..number.len() + 1], rest))
}

/// Markdown's marks removed: `**bold**`, `` `code` ``.
fn plain(text: &str) -> String {
    text.replace("**", "").replace('`', "")
}
