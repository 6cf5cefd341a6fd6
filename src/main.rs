//! The `sockit` binary: parse the command line (`cli`), hand each
//! subcommand to its runner (`commands`), print the error if it failed.
//! Nothing else lives here.
//!
//! `main` is std's plain entry point on purpose. Its set-up costs about
//! 0.16 ms per process, but it is what makes a program started with a closed
//! descriptor safe: it reopens a closed 0, 1 or 2 on /dev/null, so the first
//! socket cannot become "standard output" and receive the peer's own bytes. It
//! also ignores SIGPIPE (a closed stdout is EPIPE, not a silent death) and
//! guards the main thread's stack.

mod cli;
mod commands;

use clap::Parser;

use sockit::Result;
use sockit::output::color::{self, Role};

use cli::{Cli, Command};

fn main() {
    // A shell asking for completions (the registration script sets this
    // variable and calls us back): answer and exit.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command)
        .var(commands::manual::COMPLETE_VAR)
        .complete();
    // Until --color is read, a parse error is coloured as `auto` would.
    color::configure(color::ColorChoice::Auto);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            eprintln!("{}: {}", prefix(), one_line(&err));
            std::process::exit(2);
        }
    };
    color::configure(cli.color);
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}: {err}", prefix());
            err.exit_code()
        }
    };
    // Exit at once: a relay thread may still be blocked reading a terminal,
    // and waiting for it would hang a session that is over.
    std::process::exit(code);
}

/// "sockit", red on a terminal, before each error.
fn prefix() -> String {
    color::stderr().paint(Role::Bad, "sockit")
}

/// clap's message ("error: unexpected argument ...") as one line, without
/// its usage block, plus where to read more. A message that continues on the
/// following lines (the missing arguments) is joined up to the first blank line.
fn one_line(err: &clap::Error) -> String {
    let text = err.to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message}; see 'sockit --help'")
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Listen(args) => commands::transport::listen(args),
        Command::Connect(args) => commands::transport::connect(args),
        Command::Proxy(args) => commands::transport::proxy(args),
        Command::Hostname(args) => Ok(commands::lookups::hostname(args)),
        Command::Resolve(args) => Ok(commands::lookups::resolve(args)),
        Command::Reverse(args) => Ok(commands::lookups::reverse(args)),
        Command::Service(args) => Ok(commands::lookups::service(args)),
        Command::Ifaces(output) => commands::lookups::ifaces(output),
        Command::Ip(args) => Ok(commands::lookups::ip(args)),
        Command::Route(args) => Ok(commands::lookups::route(args)),
        // ping's own convention: errors exit with 2, "no reply" with 1.
        Command::Ping(args) => commands::reachability::ping(args).or_else(|err| {
            eprintln!("{}: {err}", prefix());
            Ok(2)
        }),
        Command::Scan(args) => commands::reachability::scan(args),
        Command::Sniff(args) => commands::sniff::sniff(args),
        Command::Trace(args) => commands::trace::trace(args),
        Command::Tls(args) => commands::transport::tls(args),
        Command::Completions(args) => commands::manual::completions(args),
        Command::Man(args) => commands::manual::man(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_is_one_line_that_points_to_help() {
        let err = Cli::try_parse_from(["sockit", "connect", "--bogus", "h", "1"]).unwrap_err();
        let line = one_line(&err);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("unexpected argument '--bogus'"), "{line}");
        assert!(line.ends_with("; see 'sockit --help'"), "{line}");
    }

    #[test]
    fn a_missing_argument_is_named_on_the_same_line() {
        let err = Cli::try_parse_from(["sockit", "connect"]).unwrap_err();
        let line = one_line(&err);
        assert!(!line.contains('\n') && line.contains("<HOST>"), "{line}");
    }

    /// Every example at the end of a subcommand's help is a command line
    /// sockit accepts (pipes and redirections aside).
    #[test]
    fn every_example_parses() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        cli.build();
        let mut checked = 0;
        for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
            let help = sub.get_after_long_help().map(|h| h.to_string());
            let help = help.unwrap_or_else(|| panic!("{} has no examples", sub.get_name()));
            let lines: Vec<&str> = help.lines().filter(|l| l.contains("sockit ")).collect();
            assert!((2..=3).contains(&lines.len()), "{}: {help}", sub.get_name());
            for line in lines {
                let start = line.find("sockit ").unwrap();
                let end = [" <", " >", " |", ")"]
                    .iter()
                    .filter_map(|cut| line[start..].find(cut))
                    .min()
                    .unwrap_or(line.len() - start);
                let words = shlex::split(&line[start..start + end]).unwrap();
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("{line}: {e}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 40, "{checked}");
    }
}
