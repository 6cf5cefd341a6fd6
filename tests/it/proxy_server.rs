//! `sockit proxy`: SOCKS5 and HTTP CONNECT on one port, checked with the
//! clients people use (curl, ncat, sockit's own --proxy) against a real
//! HTTP server (python3 -m http.server), with its login and --allow rules.

use std::process::{Command, Stdio};

use crate::helpers::*;

/// `python3 -m http.server` on loopback, serving one known file.
struct WebServer(Daemon);

impl WebServer {
    fn start() -> WebServer {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("index.html"), BODY).unwrap();
        let port = free_port("127.0.0.1");
        let mut command = Command::new("python3");
        command
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(root.path());
        WebServer(Daemon::start(command, port, Some(root)))
    }

    fn url(&self) -> String {
        format!("http://localhost:{}/", self.0.port)
    }
}

fn proxy(args: &[&str]) -> Listener {
    let mut all = args.to_vec();
    all.push("0");
    Listener::start_proxy(&all)
}

/// curl through the proxy; its exit code and body.
fn curl(args: &[&str], url: &str) -> (Option<i32>, String) {
    require("curl", "curl");
    let (status, out, _) = run(
        Command::new("curl")
            .args(["-s", "--max-time", "20", "--noproxy", ""])
            .args(args)
            .arg(url),
        30,
    );
    (status.code(), String::from_utf8_lossy(&out).into_owned())
}

const BODY: &str = "hello through sockit proxy\n";

/// SOCKS5 both ways, HTTP CONNECT (-p) and a plain forwarded GET (-x alone).
#[test]
fn curl_through_socks5_socks5h_connect_and_forwarding() {
    let web = WebServer::start();
    let server = proxy(&[]);
    let at = format!("127.0.0.1:{}", server.port());
    let http = format!("http://{at}");
    for how in [
        vec!["--socks5-hostname", at.as_str()],
        vec!["--socks5", at.as_str()],
        vec!["-p", "-x", &http],
        vec!["-x", &http],
    ] {
        let (code, body) = curl(&how, &web.url());
        assert_eq!(code, Some(0), "{how:?}: {}", server.stderr());
        assert_eq!(body, BODY, "{how:?}");
    }
    server.wait_for(&format!("to localhost:{}", web.0.port), 10);
}

#[test]
fn a_login_is_asked_and_checked() {
    let web = WebServer::start();
    let server = proxy(&["--auth", "me:secret"]);
    let at = format!("127.0.0.1:{}", server.port());
    let http = format!("http://{at}");
    let (code, body) = curl(
        &["--socks5-hostname", &at, "--proxy-user", "me:secret"],
        &web.url(),
    );
    assert_eq!((code, body.as_str()), (Some(0), BODY));
    let (code, body) = curl(
        &["-p", "-x", &http, "--proxy-user", "me:secret"],
        &web.url(),
    );
    assert_eq!((code, body.as_str()), (Some(0), BODY));
    // No login: SOCKS5 05 FF; HTTP 407.
    let (code, _) = curl(&["--socks5-hostname", &at], &web.url());
    assert_ne!(code, Some(0));
    server.wait_for("answered 05 FF", 10);
    let (status, _, _) = run(
        Command::new("curl")
            .args(["-s", "-p", "-x", &http, "-o", "/dev/null"])
            .args(["-w", "%{http_connect}", "--max-time", "20"])
            .arg(web.url()),
        30,
    );
    assert_ne!(status.code(), Some(0));
    server.wait_for("answered 407", 10);
    // A wrong password.
    let (code, _) = curl(
        &["--socks5-hostname", &at, "--proxy-user", "me:wrong"],
        &web.url(),
    );
    assert_ne!(code, Some(0));
    server.wait_for("wrong user name or password", 10);
}

/// A target outside --allow gets 0x02 or 403 and is never contacted.
#[test]
fn allow_rules_refuse_before_connecting() {
    let target = Listener::start(&["-k", "--echo", "0"], Stdio::null(), Stdio::null());
    let server = proxy(&["--allow", "10.0.0.0/8", "--allow", "192.0.2.1"]);
    let at = format!("127.0.0.1:{}", server.port());
    let url = format!("http://127.0.0.1:{}/", target.port());
    let (code, _) = curl(&["--socks5", &at], &url);
    assert_ne!(code, Some(0));
    server.wait_for("not allowed by --allow (SOCKS5 reply 0x02)", 10);
    let (code, _) = curl(&["-p", "-x", &format!("http://{at}")], &url);
    assert_ne!(code, Some(0));
    server.wait_for("(answered 403 Forbidden)", 10);
    assert!(
        !target.stderr().contains("connection from"),
        "{}",
        target.stderr()
    );
    for bad in [["--allow", "10.0.0.0/33"], ["--auth", "no-colon"]] {
        let (status, _, err) = run(sockit().arg("proxy").args(bad).arg("0"), 10);
        assert_eq!(status.code(), Some(2), "{bad:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn ncat_through_it() {
    require("ncat", "ncat");
    let target = Listener::start(&["-k", "--echo", "0"], Stdio::null(), Stdio::null());
    let server = proxy(&[]);
    for kind in ["socks5", "http"] {
        let (status, out, err) = run_with_input(
            Command::new("ncat")
                .args(["--proxy", &format!("127.0.0.1:{}", server.port())])
                .args(["--proxy-type", kind, "127.0.0.1", &target.port()]),
            b"via ncat\n",
            30,
        );
        assert!(status.success(), "{kind}: {err}");
        assert_eq!(out, b"via ncat\n", "{kind}");
    }
}

/// sockit's client through sockit's proxy, chained through both protocols,
/// with TLS on top: the proxy passes half-closes on, so the client's
/// close_notify and FIN go first and the server's close still arrives.
#[test]
fn sockit_through_sockit_with_tls() {
    let server = proxy(&[]);
    let mut target = Listener::start(&["--tls", "--echo", "0"], Stdio::null(), Stdio::null());
    let at = format!("127.0.0.1:{}", server.port());
    let (status, out, err) = run_with_input(
        target.pinned_tls_client().args([
            "--proxy",
            &format!("socks5h://{at}"),
            "--proxy",
            &format!("http://{at}"),
        ]),
        b"end to end\n",
        30,
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"end to end\n");
    assert!(target.wait(20).success(), "{}", target.stderr());
}

/// Megabytes both ways through a tunnel (the bulk path: splice), checked
/// byte for byte: the client's upload reaches the listener, whose answer,
/// sent after the client's half-close, comes back whole.
#[test]
fn bulk_both_ways_arrives_whole() {
    let server = proxy(&[]);
    let dir = tempfile::tempdir().unwrap();
    let up = write_payload(dir.path(), "up", 48 << 20, 61);
    let down = write_payload(dir.path(), "down", 24 << 20, 62);
    let (got_up, got_down) = (dir.path().join("got_up"), dir.path().join("got_down"));
    let mut target = Listener::start(&["0"], file_stdin(&down), file_stdout(&got_up));
    for scheme in ["socks5", "http"] {
        let proxy = format!("{scheme}://127.0.0.1:{}", server.port());
        let (status, err) = run_between_files(
            sockit().args(["connect", "--proxy", &proxy, "127.0.0.1", &target.port()]),
            &up,
            &got_down,
            60,
        );
        assert!(status.success(), "{scheme}: {err}");
        assert!(target.wait(30).success(), "{}", target.stderr());
        assert_eq!(sha256_file(&got_up), sha256_file(&up), "{scheme}");
        assert_eq!(sha256_file(&got_down), sha256_file(&down), "{scheme}");
        target = Listener::start(&["0"], file_stdin(&down), file_stdout(&got_up));
    }
}

/// Each line crosses the tunnel at once: the target times every line and
/// sees it before the next is written.
#[test]
fn lines_cross_the_tunnel_at_once() {
    let server = proxy(&[]);
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = sockit()
        .args([
            "connect",
            "--proxy",
            &format!("socks5://127.0.0.1:{}", server.port()),
            "127.0.0.1",
            &target.local_addr().unwrap().port().to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (stream, _) = accept_within(&target, 10);
    lines_cross_at_once(client.stdin.take().unwrap(), stream);
    assert!(wait_child(&mut client, 10).success());
}

/// SOCKS5 UDP ASSOCIATE: datagrams through the relay to a UDP echo server
/// come back wrapped in a header naming the echo server, boundaries kept;
/// --allow drops datagrams to other networks; the relay ends with the
/// control connection.
#[test]
fn udp_associate_relays_datagrams() {
    use std::io::{Read, Write};
    let echo = Listener::start(
        &["-u", "--echo", "127.0.0.1", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    for (allow, answered) in [(None, true), (Some("10.0.0.0/8"), false)] {
        let server = match allow {
            None => proxy(&[]),
            Some(net) => proxy(&["--allow", net]),
        };
        let mut control = std::net::TcpStream::connect(server.addr()).unwrap();
        control.write_all(&[5, 1, 0]).unwrap();
        let mut chosen = [0u8; 2];
        control.read_exact(&mut chosen).unwrap();
        assert_eq!(chosen, [5, 0]);
        control.write_all(&[5, 3, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
        let mut reply = [0u8; 10];
        control.read_exact(&mut reply).unwrap();
        assert_eq!(reply[..4], [5, 0, 0, 1], "UDP ASSOCIATE granted");
        let relay = std::net::SocketAddr::from((
            [reply[4], reply[5], reply[6], reply[7]],
            u16::from_be_bytes([reply[8], reply[9]]),
        ));
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(std::time::Duration::from_millis(if answered {
            5000
        } else {
            500
        })))
        .unwrap();
        let to = echo.addr();
        let mut header = vec![0, 0, 0, 1, 127, 0, 0, 1];
        header.extend_from_slice(&to.port().to_be_bytes());
        for text in ["one", "two"] {
            udp.send_to(&[&header[..], text.as_bytes()].concat(), relay)
                .unwrap();
            let mut buf = [0u8; 256];
            match udp.recv_from(&mut buf) {
                Ok((n, from)) => {
                    assert!(answered, "--allow {allow:?} let an answer through");
                    assert_eq!(from, relay);
                    assert_eq!(&buf[..n], [&header[..], text.as_bytes()].concat());
                }
                Err(e) => assert!(!answered, "no answer for {text}: {e}"),
            }
        }
        drop(control);
        server.wait_for("closed 127.0.0.1:", 10);
    }
}
