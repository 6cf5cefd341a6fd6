//! The `sockit` binary: parse the command line (`cli`), hand each
//! subcommand to its runner (`commands`), print the error if it failed.
//! Nothing else lives here.
//!
//! `main` is a plain C entry point (`no_main`): std's runtime set-up, which
//! reads /proc/self/maps to place a stack guard, costs about 0.16 ms per
//! process, and every lookup command is a whole process (bench/lookups.sh).
//! The one part of that set-up sockit relies on, ignoring SIGPIPE so that a
//! closed stdout is an EPIPE error and not a silent death, is done here.

#![no_main]

mod cli;
mod commands;
mod startup;

use clap::Parser;

use sockit::Result;

use cli::{Cli, Command};

#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    sockit::sys::ignore_sigpipe();
    run_cli()
}

fn run_cli() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            eprintln!("sockit: {}", one_line(&err));
            std::process::exit(2);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sockit: {err}");
            err.exit_code()
        }
    };
    // Exit at once: a relay thread may still be blocked reading a terminal,
    // and waiting for it would hang a session that is over.
    std::process::exit(code);
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
        Command::Hostname(args) => Ok(commands::lookups::hostname(args)),
        Command::Resolve(args) => Ok(commands::lookups::resolve(args)),
        Command::Reverse(args) => Ok(commands::lookups::reverse(args)),
        Command::Service(args) => Ok(commands::lookups::service(args)),
        Command::Ifaces(output) => commands::lookups::ifaces(output),
        Command::Ip(args) => Ok(commands::lookups::ip(args)),
        // ping's own convention: errors exit with 2, "no reply" with 1.
        Command::Ping(args) => commands::reachability::ping(args).or_else(|err| {
            eprintln!("sockit: {err}");
            Ok(2)
        }),
        Command::Scan(args) => commands::reachability::scan(args),
        Command::Sniff(args) => commands::sniff::sniff(args),
    }
}
