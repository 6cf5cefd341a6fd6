//! TLS, the presentation layer: a CA made in the test, certificates from
//! it (good, expired, for another name, a client's), sockit on both ends and
//! the usual peers (openssl s_server/s_client, curl, Python's ssl).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::helpers::*;

/// A test CA and the PEM files it signed, in a temporary directory.
pub(crate) struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    pub(crate) fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "sockit test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let now = time::OffsetDateTime::now_utc();
        let day = time::Duration::days(1);
        let leaf =
            |name: &str, sans: &[&str], from: time::OffsetDateTime, to: time::OffsetDateTime| {
                let key = KeyPair::generate().unwrap();
                let mut params =
                    CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                        .unwrap();
                params.distinguished_name.push(DnType::CommonName, name);
                params.not_before = from;
                params.not_after = to;
                let cert = params.signed_by(&key, &issuer).unwrap();
                std::fs::write(dir.path().join(format!("{name}.pem")), cert.pem()).unwrap();
                std::fs::write(dir.path().join(format!("{name}.key")), key.serialize_pem())
                    .unwrap();
            };
        leaf(
            "server",
            &["localhost", "127.0.0.1"],
            now - day,
            now + 30 * day,
        );
        leaf(
            "expired",
            &["localhost", "127.0.0.1"],
            now - 60 * day,
            now - 30 * day,
        );
        leaf(
            "elsewhere",
            &["example.org", "www.example.org"],
            now - day,
            now + 30 * day,
        );
        leaf("client", &["sockit client"], now - day, now + 30 * day);
        Pki { dir }
    }

    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// `--cert NAME.pem --key NAME.key`.
    pub(crate) fn identity(&self, name: &str) -> Vec<String> {
        vec![
            "--cert".into(),
            self.path(&format!("{name}.pem")),
            "--key".into(),
            self.path(&format!("{name}.key")),
        ]
    }
}

pub(crate) fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `sockit listen -v --tls ARGS 0`, stdin `input`, stdout to a file.
pub(crate) fn tls_listener(args: &[&str], input: Stdio, copy: &Path) -> Listener {
    let mut all = vec!["--tls"];
    all.extend_from_slice(args);
    all.push("0");
    Listener::start(&all, input, file_stdout(copy))
}

/// `sockit connect --tls ARGS localhost PORT` with `input`.
pub(crate) fn tls_connect(
    args: &[&str],
    port: &str,
    input: &[u8],
) -> (std::process::ExitStatus, Vec<u8>, String) {
    let mut cmd = sockit();
    cmd.args(["connect", "--tls"])
        .args(args)
        .args(["localhost", port]);
    run_with_input(&mut cmd, input, 30)
}

#[test]
fn verified_session_both_ways_with_a_ca() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let reply = write_payload(dir.path(), "reply", 100_000, 3);
    let copy = dir.path().join("copy");
    let mut listener = tls_listener(&strs(&pki.identity("server")), file_stdin(&reply), &copy);
    let (status, out, err) = tls_connect(
        &["--ca", &pki.path("ca.pem")],
        &listener.port(),
        b"hello over TLS\n",
    );
    assert!(status.success(), "{err}");
    assert_eq!(sha256(&out), sha256_file(&reply));
    assert!(listener.wait(20).success(), "{}", listener.stderr());
    assert_eq!(std::fs::read(&copy).unwrap(), b"hello over TLS\n");
}

#[test]
fn every_refusal_is_one_line_exit_1_and_nothing_sent() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let cases: Vec<(Vec<String>, Vec<&str>, &str)> = vec![
        (pki.identity("expired"), vec!["--ca", &ca], "expired on 20"),
        (
            pki.identity("elsewhere"),
            vec!["--ca", &ca],
            "valid for example.org, www.example.org",
        ),
        (
            pki.identity("server"),
            vec![],
            "self-signed or signed by an issuer this machine does not trust",
        ),
        (
            pki.identity("server"),
            vec![
                "--pin",
                "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            ],
            "not the pinned sha256:0000",
        ),
    ];
    for (identity, client_args, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy");
        let listener = tls_listener(&strs(&identity), Stdio::null(), &copy);
        let (status, out, err) = tls_connect(&client_args, &listener.port(), b"secret request\n");
        assert_eq!(status.code(), Some(1), "{needle}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with("sockit: TLS with ") && err.contains(needle),
            "{needle}: {err}"
        );
        assert!(out.is_empty());
        drop(listener);
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            b"",
            "{needle}: bytes reached the server"
        );
    }
}

#[test]
fn a_pinned_self_signed_listener_and_the_pin_line() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    let mut listener = tls_listener(&[], Stdio::null(), &copy);
    let pin = listener.certificate_pin();
    assert_eq!(pin.len(), "sha256:".len() + 64, "{pin}");
    let (status, _, err) = tls_connect(&["--pin", &pin], &listener.port(), b"pinned\n");
    assert!(status.success(), "{err}");
    assert!(listener.wait(20).success());
    assert_eq!(std::fs::read(&copy).unwrap(), b"pinned\n");
}

#[test]
fn insecure_warns_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tls_listener(&[], Stdio::null(), &dir.path().join("copy"));
    let (status, _, err) = tls_connect(&["--insecure"], &listener.port(), b"x");
    assert!(status.success(), "{err}");
    assert!(err.contains("warning: --insecure"), "{err}");
}

#[test]
fn mutual_tls_accepts_a_signed_client_and_refuses_an_anonymous_one() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let mut server_args = pki.identity("server");
    server_args.extend(["--client-ca".to_string(), ca.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");

    let mut listener = tls_listener(&strs(&server_args), Stdio::null(), &copy);
    let mut client_args = vec!["--ca".to_string(), ca.clone()];
    client_args.extend(pki.identity("client"));
    let (status, _, err) = tls_connect(
        &strs(&client_args),
        &listener.port(),
        b"with a certificate\n",
    );
    assert!(status.success(), "{err}");
    assert!(listener.wait(20).success(), "{}", listener.stderr());
    assert!(listener.stderr().contains("client certificate verified"));
    assert_eq!(std::fs::read(&copy).unwrap(), b"with a certificate\n");

    let mut listener = tls_listener(&strs(&server_args), Stdio::null(), &copy);
    let (status, _, err) = tls_connect(&["--ca", &ca], &listener.port(), b"anonymous\n");
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(listener.wait(20).code(), Some(1), "{}", listener.stderr());
    assert!(
        listener.stderr().contains("TLS with"),
        "{}",
        listener.stderr()
    );
}

/// The listener answers only once s_client's line has arrived: s_client
/// quits when the server closes, and would drop a line it had not sent yet.
#[test]
fn openssl_s_client_talks_to_sockit_listen() {
    require("openssl", "openssl");
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    let reply = payload(5000, 4);
    let mut listener = tls_listener(&strs(&pki.identity("server")), Stdio::piped(), &copy);
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-verify_return_error"])
        .args(["-CAfile", &pki.path("ca.pem")])
        .args(["-connect", &format!("localhost:{}", listener.port())])
        .args(["-servername", "localhost"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_client = client.stdin.take().unwrap();
    to_client.write_all(b"from openssl\n").unwrap();
    to_client.flush().unwrap();
    let started = std::time::Instant::now();
    while std::fs::read(&copy).unwrap_or_default() != b"from openssl\n" {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the line never arrived: {}",
            listener.stderr()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut to_listener = listener.child.stdin.take().unwrap();
    to_listener.write_all(&reply).unwrap();
    drop(to_listener);
    let mut out = Vec::new();
    client.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    drop(to_client);
    let (status, err) = wait_with_stderr(&mut client, 20);
    assert!(status.success(), "{err}");
    assert_eq!(sha256(&out), sha256(&reply));
    assert!(listener.wait(20).success(), "{}", listener.stderr());
}

#[test]
fn sockit_connect_talks_to_openssl_s_server() {
    require("openssl", "openssl");
    let pki = Pki::new();
    let port = free_port("127.0.0.1");
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-naccept",
            "1",
            "-accept",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "-cert",
            &pki.path("server.pem"),
            "-key",
            &pki.path("server.key"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut to_server = server.stdin.take().unwrap();
    let mut from_server = server.stdout.take().unwrap();
    // Not a probe connection: s_server would spend its one accept on it.
    wait_tcp_listening(port);
    let reader = std::thread::spawn(move || {
        let mut got = vec![0u8; 14];
        from_server.read_exact(&mut got).map(|_| got)
    });
    let mut cmd = sockit();
    cmd.args([
        "connect",
        "--tls",
        "--ca",
        &pki.path("ca.pem"),
        "localhost",
        &port.to_string(),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Our stdin stays open until the reply is in: s_server ends the whole
    // session when it receives our close_notify.
    let mut to_sockit = child.stdin.take().unwrap();
    to_sockit.write_all(b"to s_server!\n\n").unwrap();
    let got = reader.join().unwrap();
    to_server.write_all(b"from s_server\n").unwrap();
    to_server.flush().unwrap();
    let mut out = vec![0u8; 14];
    child.stdout.take().unwrap().read_exact(&mut out).unwrap();
    drop(to_sockit);
    drop(to_server);
    let status = wait_child(&mut child, 20);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(got.unwrap(), b"to s_server!\n\n");
    assert_eq!(out, b"from s_server\n");
    assert!(status.success(), "{status:?}");
}

#[test]
fn curl_fetches_a_canned_response_from_listen_tls() {
    require("curl", "curl");
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let body = "hello from the presentation layer\n";
    let response = dir.path().join("response");
    std::fs::write(
        &response,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .unwrap();
    let copy = dir.path().join("request");
    let mut listener = tls_listener(&strs(&pki.identity("server")), file_stdin(&response), &copy);
    let url = format!("https://localhost:{}/", listener.port());
    let (status, out, err) = run(
        Command::new("curl").args(["-sS", "--cacert", &pki.path("ca.pem"), &url]),
        30,
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), body);
    assert!(listener.wait(20).success(), "{}", listener.stderr());
    assert!(
        std::fs::read_to_string(&copy)
            .unwrap()
            .starts_with("GET / HTTP/1.1\r\n")
    );
}

#[test]
fn forty_eight_mebibytes_each_way_arrive_intact() {
    let dir = tempfile::tempdir().unwrap();
    let up = write_payload(dir.path(), "up", 48 << 20, 5);
    let down = write_payload(dir.path(), "down", 48 << 20, 6);
    let copy = dir.path().join("copy");
    let received = dir.path().join("received");
    let mut listener = tls_listener(&[], file_stdin(&down), &copy);
    let mut connect = listener
        .pinned_tls_client()
        .stdin(file_stdin(&up))
        .stdout(file_stdout(&received))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_child(&mut connect, 120).success());
    assert!(listener.wait(60).success(), "{}", listener.stderr());
    assert_eq!(sha256_file(&copy), sha256_file(&up));
    assert_eq!(sha256_file(&received), sha256_file(&down));
}

/// 20 Python TLS clients echo their own bytes through `listen -k --echo
/// --tls` while a plaintext client knocks: it is refused with one line and
/// the others are served.
#[test]
fn twenty_tls_echo_clients_and_a_plaintext_intruder() {
    let listener = Listener::start(
        &["-k", "--echo", "--tls", "0"],
        Stdio::null(),
        Stdio::null(),
    );
    let script = r#"
import hashlib, os, socket, ssl, sys, threading
port = int(sys.argv[1])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
failures = []
def client(i):
    try:
        # Small enough to sit in the socket buffers whole: an SSLSocket
        # must not be read and written from two threads at once.
        data = os.urandom(50_000 + i)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(data)
                got = b""
                while len(got) < len(data):
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
                    failures.append(f"client {i}: {len(got)} of {len(data)} bytes")
    except Exception as e:
        failures.append(f"client {i}: {e!r}")
threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
for t in threads: t.start()
with socket.create_connection(("127.0.0.1", port), timeout=30) as plain:
    plain.sendall(b"GET / HTTP/1.0\r\n\r\n")
    plain.recv(100)
for t in threads: t.join()
print("\n".join(failures) or "ok")
"#;
    let (status, out, err) = run(
        Command::new("python3").args(["-c", script, &listener.port()]),
        120,
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out).trim(), "ok");
    let log = listener.wait_for("does not speak TLS", 10);
    let intruder_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("does not speak TLS"))
        .collect();
    assert_eq!(intruder_lines.len(), 1, "{log}");
}

#[test]
fn tls_flags_need_tls_and_pins_must_be_sha256() {
    for (args, needle) in [
        (vec!["connect", "--ca", "x", "localhost", "1"], "--tls"),
        (
            vec!["connect", "--tls", "--pin", "md5:00", "localhost", "1"],
            "sha256:",
        ),
        (vec!["connect", "--tls", "-u", "localhost", "1"], "--udp"),
        (vec!["listen", "--cert", "x", "--key", "y", "0"], "--tls"),
    ] {
        let (status, _, err) = run(sockit().args(&args), 10);
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(needle) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    let missing = PathBuf::from("/nonexistent/cert.pem");
    let (status, _, err) = run(
        sockit().args([
            "listen",
            "--tls",
            "--cert",
            missing.to_str().unwrap(),
            "--key",
            "/nonexistent/k",
            "0",
        ]),
        10,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
}

/// `sockit tls`: the report and the verdict, against a server verified by
/// the test CA and one serving an expired certificate; its JSON records
/// match the README's table.
#[test]
fn tls_check_reports_the_chain_and_the_verdict() {
    use crate::json_records::{check, type_name};
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let serving = |name: &str| {
        let mut args = vec!["-k".to_string()];
        args.extend(pki.identity(name));
        tls_listener(&strs(&args), Stdio::null(), &dir.path().join(name))
    };
    let (good, expired) = (serving("server"), serving("expired"));
    let ca = pki.path("ca.pem");
    let (status, out, err) = run(
        sockit().args(["tls", "--ca", &ca, "localhost", &good.port()]),
        30,
    );
    assert_eq!(status.code(), Some(0), "{err}");
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("TLSv1.3") && text.contains("names     localhost, 127.0.0.1"),
        "{text}"
    );
    assert!(text.ends_with("verified\n"), "{text}");

    let (status, out, _) = run(
        sockit().args(["tls", "--json", "--ca", &ca, "localhost", &expired.port()]),
        30,
    );
    assert_eq!(status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["verified"], false);
    assert_eq!(report["version"], "TLSv1.3");
    assert!(
        report["error"].as_str().unwrap().contains("expired on"),
        "{report}"
    );
    assert!(
        report["chain"][0]["days_left"].as_i64().unwrap() < 0,
        "{report}"
    );
    check(
        "tls",
        type_name::<sockit::tools::tls_check::TlsReport>(),
        std::slice::from_ref(&report),
    );
    check(
        "tls certificate",
        type_name::<sockit::transport::tls::CertificateInfo>(),
        report["chain"].as_array().unwrap(),
    );
}

/// A server that sends data and then closes without close_notify may have
/// been cut off: exit 1 with one line saying so, after what did arrive.
#[test]
fn a_close_without_close_notify_after_data_is_reported_as_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let made = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_pem, key_pem) = (made.pem(), key.serialize_pem());
    let cert = made.der().clone();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert_pem).unwrap();
    std::fs::write(&key_path, key_pem).unwrap();
    let server = r#"
import socket, ssl, sys
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
raw, _ = listener.accept()
tls = context.wrap_socket(raw, server_side=True)
tls.sendall(b"the first half\n")
# close() without unwrap(): TCP FIN, no TLS close_notify.
tls.close()
"#;
    let mut python = Command::new("python3")
        .args([
            "-c",
            server,
            cert_path.to_str().unwrap(),
            key_path.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let port = first_line(&mut python);
    let pin = sockit::transport::tls::Fingerprint::of(&cert).to_string();
    // stdin stays open (no close_notify from us that Python's close would
    // answer with a reset): only the server ends this session.
    let mut child = sockit()
        .args(["connect", "--tls", "--pin", &pin, "localhost", port.trim()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _held = child.stdin.take().unwrap();
    let (status, err) = wait_with_stderr(&mut child, 30);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let _ = python.wait();
    assert_eq!(out, b"the first half\n", "{err}");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("without TLS close_notify") && err.lines().count() == 1,
        "{err}"
    );
}

/// `--alpn` is offered and chosen on both ends (and with openssl's
/// `-alpn`); `--servername` is the name sent and checked, whatever address
/// was dialled; a name the certificate does not cover is refused, naming
/// the names it does cover.
#[test]
fn alpn_and_servername() {
    require("openssl", "openssl");
    let pki = Pki::new();
    let identity = pki.identity("server");
    let mut args = strs(&identity);
    args.extend(["-k", "--echo", "--alpn", "h2", "--alpn", "http/1.1"]);
    let dir = tempfile::tempdir().unwrap();
    let listener = tls_listener(&args, Stdio::null(), &dir.path().join("unused"));
    let port = listener.port();
    let ca = pki.path("ca.pem");
    let mut chosen = sockit();
    chosen.args(["connect", "-v", "--tls", "--ca", &ca, "--alpn", "http/1.1"]);
    chosen.args(["--servername", "localhost", "127.0.0.1", &port]);
    let (status, out, err) = run_with_input(&mut chosen, b"hello\n", 20);
    assert!(status.success(), "{err}");
    assert_eq!(out, b"hello\n");
    assert!(err.contains("ALPN http/1.1, SNI localhost"), "{err}");
    listener.wait_for("ALPN http/1.1, SNI localhost", 10);

    let mut openssl = Command::new("openssl");
    openssl.args([
        "s_client",
        "-quiet",
        "-no_ign_eof",
        "-alpn",
        "h2",
        "-CAfile",
        &ca,
    ]);
    openssl.args(["-connect", &format!("127.0.0.1:{port}")]);
    openssl.args(["-servername", "localhost"]);
    let (status, _, err) = run_with_input(&mut openssl, b"hi\n", 20);
    assert!(status.success(), "{err}");
    listener.wait_for("ALPN h2, SNI localhost", 10);

    let mut wrong = sockit();
    wrong.args([
        "connect",
        "--tls",
        "--ca",
        &ca,
        "--servername",
        "example.org",
    ]);
    wrong.args(["127.0.0.1", &port]);
    let (status, out, err) = run_with_input(&mut wrong, b"secret\n", 20);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("example.org") && err.contains("localhost"),
        "{err}"
    );
}
