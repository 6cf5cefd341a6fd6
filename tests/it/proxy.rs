//! `connect --proxy`: through Debian's microsocks (SOCKS5) and tinyproxy
//! (HTTP CONNECT), alone and chained, with TLS on top, and their refusals.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::*;

/// microsocks or tinyproxy on loopback.
struct Proxy(Daemon);

impl Proxy {
    /// microsocks, asking for `login` if given.
    fn socks5(login: Option<(&str, &str)>) -> Proxy {
        require("microsocks", "microsocks");
        let port = free_port("127.0.0.1");
        let mut command = Command::new("microsocks");
        command.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((user, pass)) = login {
            command.args(["-u", user, "-P", pass]);
        }
        Proxy(Daemon::start(command, port, None))
    }

    /// tinyproxy, asking for `login` if given.
    fn http(login: Option<(&str, &str)>) -> Proxy {
        require("tinyproxy", "tinyproxy");
        let port = free_port("127.0.0.1");
        let dir = tempfile::tempdir().unwrap();
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nMaxClients 50\nLogLevel Critical\n"
        );
        if let Some((user, pass)) = login {
            config.push_str(&format!("BasicAuth {user} {pass}\n"));
        }
        let path = dir.path().join("tinyproxy.conf");
        std::fs::write(&path, config).unwrap();
        let mut command = Command::new("tinyproxy");
        command.args(["-d", "-c", path.to_str().unwrap()]);
        Proxy(Daemon::start(command, port, Some(dir)))
    }

    fn port(&self) -> u16 {
        self.0.port
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port())
    }
}

/// A line through `proxy_args` to an echo server and back; the client's
/// stderr. The echo server answers only what it got, so a proxy that ends
/// both directions at the first FIN (microsocks does) cannot cut the
/// request short; and the client's stdin stays open until the echo is in.
fn round_trip(proxy_args: &[String], tls: bool) -> String {
    let listener_args: &[&str] = if tls {
        &["--tls", "--echo", "0"]
    } else {
        &["--echo", "0"]
    };
    let mut listener = Listener::start(listener_args, Stdio::null(), Stdio::null());
    let mut command = if tls {
        listener.pinned_tls_client()
    } else {
        let mut plain = sockit();
        plain.args(["connect", "localhost", &listener.port()]);
        plain
    };
    let err = echoed(
        command.arg("-v").args(proxy_args),
        "hello through the proxy\n",
    );
    assert!(listener.wait(20).success(), "{}", listener.stderr());
    err
}

/// Runs `command` (a client of an echo server), sends `line`, waits for
/// it to come back, then closes stdin; the client must end well. Its stderr.
fn echoed(command: &mut Command, line: &str) -> String {
    let mut client = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = client.stdin.take().unwrap();
    stdin.write_all(line.as_bytes()).unwrap();
    let out = LineLog::collect(client.stdout.take().unwrap(), |_| {});
    out.wait_for(line, 20);
    drop(stdin);
    let (status, err) = wait_with_stderr(&mut client, 20);
    assert!(status.success(), "{err}");
    err
}

fn proxy_flags(urls: &[String]) -> Vec<String> {
    urls.iter()
        .flat_map(|url| ["--proxy".to_string(), url.clone()])
        .collect()
}

#[test]
fn socks5_and_socks5h_through_microsocks() {
    let proxy = Proxy::socks5(None);
    for scheme in ["socks5", "socks5h"] {
        let err = round_trip(&proxy_flags(&[proxy.url(scheme)]), false);
        assert!(
            err.contains(&format!(
                "proxy: {scheme}://127.0.0.1:{} connected us to localhost:",
                proxy.port()
            )),
            "{err}"
        );
        // socks5:// resolves the target here; socks5h:// leaves it to the proxy.
        assert_eq!(
            err.contains("resolved localhost"),
            scheme == "socks5",
            "{err}"
        );
    }
}

#[test]
fn http_connect_through_tinyproxy() {
    let proxy = Proxy::http(None);
    let err = round_trip(&proxy_flags(&[proxy.url("http")]), false);
    assert!(err.contains("connected us to localhost:"), "{err}");
}

#[test]
fn a_chain_of_two_proxies_with_logins() {
    let socks = Proxy::socks5(Some(("alice", "s3cret")));
    let http = Proxy::http(Some(("bob", "hunter2")));
    let urls = [
        format!("socks5h://alice:s3cret@127.0.0.1:{}", socks.port()),
        format!("http://bob:hunter2@127.0.0.1:{}", http.port()),
    ];
    let err = round_trip(&proxy_flags(&urls), false);
    assert!(
        err.contains(&format!("connected us to 127.0.0.1:{}", http.port())),
        "{err}"
    );
    assert!(!err.contains("s3cret") && !err.contains("hunter2"), "{err}");
}

/// TLS to the far end, through the tunnel: the certificate checked is the
/// target's, the proxy sees only ciphertext. The server speaks and closes
/// first: tinyproxy and microsocks end both directions at the first FIN, so
/// a client that half-closed first would never get the server's
/// close_notify (and would rightly report a possible truncation).
#[test]
fn tls_through_a_chain() {
    let socks = Proxy::socks5(None);
    let http = Proxy::http(None);
    let dir = tempfile::tempdir().unwrap();
    let reply = dir.path().join("reply");
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&reply, &text).unwrap();
    let mut listener = Listener::start(&["--tls", "0"], file_stdin(&reply), Stdio::null());
    let mut client = listener
        .pinned_tls_client()
        .args([
            "-v",
            "--proxy",
            &http.url("http"),
            "--proxy",
            &socks.url("socks5h"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let held = client.stdin.take();
    let out = LineLog::collect(client.stdout.take().unwrap(), |_| {});
    out.wait_for("line 19999\n", 20);
    drop(held);
    let (status, err) = wait_with_stderr(&mut client, 30);
    assert!(status.success(), "{err}");
    assert_eq!(out.text(), text);
    assert!(err.contains("connected us to localhost:"), "{err}");
    assert!(err.contains("tls: verified (pinned certificate)"), "{err}");
    assert!(listener.wait(20).success(), "{}", listener.stderr());
}

#[test]
fn all_proxy_is_honoured_unless_no_proxy_or_no_proxy_variable() {
    let proxy = Proxy::socks5(None);
    let listener = Listener::start(&["-k", "--echo", "0"], Stdio::null(), Stdio::null());
    // (--no-proxy, NO_PROXY, goes through the proxy)
    let cases = [
        (false, None, true),
        (true, None, false),
        (false, Some("example.org, 127.0.0.0/8"), false),
        (false, Some("example.org,10.0.0.0/8"), true),
        (false, Some("*"), false),
    ];
    for (flag, no_proxy, through) in cases {
        let mut command = sockit();
        command.env("ALL_PROXY", proxy.url("socks5h")).args([
            "connect",
            "-v",
            "127.0.0.1",
            &listener.port(),
        ]);
        if flag {
            command.arg("--no-proxy");
        }
        if let Some(list) = no_proxy {
            command.env("NO_PROXY", list);
        }
        let err = echoed(&mut command, "echo me\n");
        assert_eq!(
            err.contains("proxy: socks5h://"),
            through,
            "{no_proxy:?}: {err}"
        );
    }
}

/// Every refusal is one line, exit 1, in the protocol's words.
#[test]
fn refusals_name_the_proxy_and_its_answer() {
    let socks = Proxy::socks5(Some(("alice", "s3cret")));
    let http = Proxy::http(Some(("bob", "hunter2")));
    let open_socks = Proxy::socks5(None);
    let nothing = free_port("127.0.0.1");
    let cases = [
        (
            format!("socks5://alice:wrong@127.0.0.1:{}", socks.port()),
            "authentication failed".to_string(),
        ),
        (
            socks.url("socks5"),
            "it wants a user name and password".to_string(),
        ),
        (http.url("http"), "HTTP 407".to_string()),
        // tinyproxy answers a wrong password with 401, not 407.
        (
            format!("http://bob:wrong@127.0.0.1:{}", http.port()),
            "HTTP 401 Unauthorized: check the user name and password".to_string(),
        ),
        (
            open_socks.url("socks5h"),
            "connection refused (SOCKS5 reply 0x05)".to_string(),
        ),
    ];
    for (url, expected) in cases {
        let (status, out, err) = run_with_input(
            sockit().args([
                "connect",
                "--proxy",
                &url,
                "127.0.0.1",
                &nothing.to_string(),
            ]),
            b"never delivered\n",
            30,
        );
        assert_eq!(status.code(), Some(1), "{url}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{url}: {err}");
        assert!(
            err.contains("proxy ") && err.contains(&expected),
            "{url}: {err}"
        );
        assert!(!err.contains("wrong") && !err.contains("s3cret"), "{err}");
    }
    let (status, _, err) = run(
        sockit().args(["connect", "--proxy", "ftp://x", "127.0.0.1", "1"]),
        10,
    );
    assert_eq!(status.code(), Some(2), "{err}");
}
