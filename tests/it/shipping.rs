//! What ships with the program: completions that a real bash loads and
//! uses, manual pages that man and groff render without a warning, and a
//! version that names its commit.

use std::path::Path;
use std::process::Command;

use crate::helpers::*;

/// A bash with sockit's completions loaded, asked to complete `words` (the
/// last one being completed), through the completion function as bash calls it.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_sockit")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <(sockit completions bash) || exit 3
         COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}
         complete -p sockit >/dev/null || exit 4
         _clap_complete_sockit sockit {current} {previous}
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cword = words.len() - 1,
        current = quoted[words.len() - 1],
        previous = quoted[words.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &script])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_subcommands_flags_and_live_values() {
    require("bash", "bash");
    assert_eq!(bash_completes(&["sockit", "sn"]), ["sniff"]);
    assert_eq!(bash_completes(&["sockit", "sc"]), ["scan"]);
    let flags = bash_completes(&["sockit", "sniff", "--pr"]);
    assert!(flags.iter().any(|f| f == "--proto"), "{flags:?}");
    let protocols = bash_completes(&["sockit", "sniff", "--proto", ""]);
    assert_eq!(protocols, ["tcp", "udp", "icmp"]);
    // This machine's interfaces, as the kernel has them now.
    let interfaces = bash_completes(&["sockit", "sniff", "-i", ""]);
    for name in std::fs::read_dir("/sys/class/net").unwrap() {
        let name = name.unwrap().file_name().into_string().unwrap();
        assert!(interfaces.contains(&name), "{name} not in {interfaces:?}");
    }
    assert!(interfaces.contains(&"any".to_string()));
    // ping -I: interfaces and this host's addresses.
    let sources = bash_completes(&["sockit", "ping", "-I", ""]);
    assert!(sources.iter().any(|s| s == "lo"), "{sources:?}");
    assert!(sources.iter().any(|s| s == "127.0.0.1"), "{sources:?}");
    let services = bash_completes(&["sockit", "service", "ss"]);
    assert!(services.iter().any(|s| s == "ssh"), "{services:?}");
    assert!(services.iter().all(|s| s.starts_with("ss")), "{services:?}");
    // Files where a file is wanted.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trace.pcapng"), b"").unwrap();
    let prefix = format!("{}/tra", dir.path().display());
    let files = bash_completes(&["sockit", "sniff", "-r", &prefix]);
    assert_eq!(files, [format!("{}/trace.pcapng", dir.path().display())]);
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_one_is_refused() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (status, out, err) = run(sockit().args(["completions", shell]), 30);
        assert!(status.success(), "{shell}: {err}");
        let script = String::from_utf8(out).unwrap();
        assert!(script.contains("sockit"), "{shell}: {script}");
        assert!(script.contains("COMPLETE"), "{shell}: {script}");
    }
    let (status, out, err) = run(sockit().args(["completions", "tcsh"]), 30);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Every page renders through groff with all warnings on (-ww) and none
/// comes; man reads each one; the README's rules and the examples are in.
#[test]
fn every_man_page_renders_without_warnings() {
    require("groff", "groff-base");
    require("man", "man-db");
    let dir = tempfile::tempdir().unwrap();
    let (status, _, err) = run(
        sockit().args(["man", "--write", dir.path().to_str().unwrap()]),
        30,
    );
    assert!(status.success(), "{err}");
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert_eq!(
        pages.len(),
        18,
        "sockit.1 and one per subcommand: {pages:?}"
    );
    for page in &pages {
        let groff = Command::new("groff")
            .args(["-ww", "-man", "-Tutf8", "-z"])
            .arg(page)
            .output()
            .unwrap();
        assert!(groff.status.success(), "{page:?}");
        assert_eq!(String::from_utf8_lossy(&groff.stderr), "", "{page:?} warns");
        let man = Command::new("man")
            .arg("-l")
            .arg(page)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        assert!(man.status.success(), "{page:?}");
        let text = String::from_utf8_lossy(&man.stdout);
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "ERRORS AND EXIT CODES",
            "SEE ALSO",
        ] {
            assert!(text.contains(section), "{page:?} has no {section}:\n{text}");
        }
    }
    let page = |name: &str| {
        let (_, out, _) = run(sockit().args(["man", name]), 30);
        let man = Command::new("man")
            .args(["-l", "-"])
            .env("MANWIDTH", "100")
            .env("MANPAGER", "cat")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        man.stdin.as_ref().unwrap().write_all(&out).unwrap();
        String::from_utf8(man.wait_with_output().unwrap().stdout).unwrap()
    };
    let connect = page("connect");
    assert!(connect.contains("HALF-CLOSE AND EXIT RULES"), "{connect}");
    // Wrapped and hyphenated as man likes, and "→" is "->" outside UTF-8.
    let words = connect.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("we send FIN and keep reading"), "{connect}");
    assert!(connect.contains("EXAMPLES"), "{connect}");
    let scan = page("scan");
    assert!(scan.contains("JSON RECORDS"), "{scan}");
    assert!(
        scan.contains("host, port, protocol, state, service, banner"),
        "{scan}"
    );
    let (status, _, err) = run(sockit().args(["man", "nosuch"]), 30);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("sniff"), "names the pages there are: {err}");
}

#[test]
fn version_names_the_commit() {
    let (status, out, _) = run(sockit().arg("--version"), 30);
    assert!(status.success());
    let line = String::from_utf8(out).unwrap();
    let commit = line
        .trim()
        .strip_suffix(')')
        .and_then(|l| l.split("(commit ").nth(1))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line}"
    );
    assert!(
        line.starts_with(&format!("sockit {} ", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
}

/// `script` runs a command on a pseudo-terminal and copies what it printed.
fn on_a_terminal(command: &str, no_color: bool) -> String {
    require("script", "bsdutils");
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", command, "/dev/null"]);
    if no_color {
        script.env("NO_COLOR", "1");
    } else {
        script.env_remove("NO_COLOR");
    }
    let out = script.output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Colour on a terminal only: ping's loss, scan's states and the errors'
/// prefix; none into a pipe, with NO_COLOR or with --color never; into a
/// pipe with --color always.
#[test]
fn colour_on_terminals_unless_told_otherwise() {
    let ns = crate::netns::Netns::new("color");
    let _listening = Listener::start_with(
        ns.exec(&[env!("CARGO_BIN_EXE_sockit")]),
        &["-k", "127.0.0.1", "2222"],
        std::process::Stdio::null(),
        std::process::Stdio::null(),
    );
    let binary = env!("CARGO_BIN_EXE_sockit");
    let in_ns = |args: &str| format!("ip netns exec {} {binary} {args}", ns.name);
    const GREEN: &str = "\x1b[32m";
    const RED_BOLD: &str = "\x1b[1m\x1b[31m";

    let ping = on_a_terminal(&in_ns("ping -c 1 127.0.0.1"), false);
    assert!(
        ping.contains(&format!("{GREEN}0% packet loss\x1b[0m")),
        "{ping:?}"
    );
    let scan = on_a_terminal(&in_ns("scan 127.0.0.1 2222"), false);
    assert!(scan.contains(&format!("{GREEN}open \x1b[0m")), "{scan:?}");
    let error = on_a_terminal(&format!("{binary} connect 127.0.0.1 70000"), false);
    assert!(
        error.starts_with(&format!("{RED_BOLD}sockit\x1b[0m: port 70000")),
        "{error:?}"
    );

    for plain in [
        on_a_terminal(&in_ns("ping -c 1 127.0.0.1"), true),
        on_a_terminal(&in_ns("--color never scan 127.0.0.1 2222"), false),
        on_a_terminal(
            &format!("{binary} connect --color=never 127.0.0.1 70000"),
            false,
        ),
    ] {
        assert!(!plain.contains('\x1b'), "{plain:?}");
    }
    let (_, piped, _) = run(&mut ns.sockit(&["scan", "127.0.0.1", "2222"]), 30);
    assert!(!piped.contains(&0x1b));
    let (_, forced, _) = run(
        &mut ns.sockit(&["scan", "--color", "always", "127.0.0.1", "2222"]),
        30,
    );
    assert!(String::from_utf8(forced).unwrap().contains(GREEN));
    let (status, _, err) = run(sockit().args(["--color", "sometimes", "ifaces"]), 30);
    assert_eq!(status.code(), Some(2), "{err}");
}
