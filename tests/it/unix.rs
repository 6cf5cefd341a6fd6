//! Unix sockets: `listen -U` / `connect -U`, stream and datagram, paths and
//! abstract names, against each other, OpenBSD netcat and socat; stale and
//! busy socket files, the file's removal and mode, SO_PEERCRED in `-v`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

const SIZE: usize = 16 << 20;

fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("s.sock")
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A name in the abstract namespace no other test uses.
fn abstract_name(test: &str) -> String {
    format!("@sockit-test-{}-{test}", std::process::id())
}

fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "waited {secs}s for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Both directions at once over a Unix stream, checksummed: the client's
/// upload reaches the listener's stdout and the listener's stdin comes back.
#[test]
fn a_stream_relays_both_ways_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let up = write_payload(dir.path(), "up", SIZE, 51);
    let down = write_payload(dir.path(), "down", SIZE / 2, 52);
    let (got_up, got_down) = (dir.path().join("got_up"), dir.path().join("got_down"));
    let mut listener = Listener::start(
        &["-U", path_str(&path)],
        file_stdin(&down),
        file_stdout(&got_up),
    );
    assert_eq!(listener.place, path_str(&path));
    let (status, err) = run_between_files(
        sockit().args(["connect", "-U", path_str(&path)]),
        &up,
        &got_down,
        60,
    );
    assert!(status.success(), "{err}");
    assert!(listener.wait(30).success(), "{}", listener.stderr());
    assert_eq!(sha256_file(&got_up), sha256_file(&up));
    assert_eq!(sha256_file(&got_down), sha256_file(&down));
    assert!(!path.exists(), "the listener removed its socket file");
}

/// The half-close over a Unix stream: the server answers only once the
/// request has ended (shutdown(SHUT_WR) on our side), as over TCP.
#[test]
fn half_close_lets_the_server_answer_after_our_input_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let server = UnixListener::bind(&path).unwrap();
    let answering = std::thread::spawn(move || {
        let (mut stream, _) = server.accept().unwrap();
        let mut request = String::new();
        std::io::Read::read_to_string(&mut stream, &mut request).unwrap();
        write!(stream, "got {} bytes", request.len()).unwrap();
    });
    let (status, out, err) = run_with_input(
        sockit().args(["connect", "-U", path_str(&path)]),
        b"question\n",
        30,
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), "got 9 bytes");
    answering.join().unwrap();
}

/// Each line crosses the relay at once: a reader that times every line sees
/// it before the next is written (no buffering until the end).
#[test]
fn each_line_crosses_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let server = UnixListener::bind(&path).unwrap();
    let mut client = sockit()
        .args(["connect", "-U", path_str(&path)])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (stream, _) = server.accept().unwrap();
    lines_cross_at_once(client.stdin.take().unwrap(), stream);
    assert!(wait_child(&mut client, 10).success());
}

#[test]
fn openbsd_netcat_both_ways() {
    require("nc", "netcat-openbsd");
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let input = write_payload(dir.path(), "in", SIZE, 53);
    let copy = dir.path().join("copy");
    // nc -U to sockit listen -U.
    let mut listener = Listener::start(&["-U", path_str(&path)], Stdio::null(), file_stdout(&copy));
    let (status, _, err) = run(
        Command::new("nc")
            .args(["-N", "-U", path_str(&path)])
            .stdin(file_stdin(&input)),
        60,
    );
    assert!(status.success(), "{err}");
    assert!(listener.wait(30).success(), "{}", listener.stderr());
    assert_eq!(sha256_file(&copy), sha256_file(&input));

    // sockit connect -U to nc -lU.
    let copy2 = dir.path().join("copy2");
    let mut nc = Command::new("nc")
        .args(["-lU", path_str(&path)])
        .stdout(file_stdout(&copy2))
        .spawn()
        .unwrap();
    wait_until("nc to listen", 10, || path.exists());
    let (status, _, err) = run(
        sockit()
            .args(["connect", "-U", path_str(&path)])
            .stdin(file_stdin(&input)),
        60,
    );
    assert!(status.success(), "{err}");
    assert!(wait_child(&mut nc, 30).success());
    assert_eq!(sha256_file(&copy2), sha256_file(&input));
}

#[test]
fn socat_both_ways_with_paths_and_abstract_names() {
    require("socat", "socat");
    let dir = tempfile::tempdir().unwrap();
    let up = write_payload(dir.path(), "up", SIZE, 54);
    let down = write_payload(dir.path(), "down", SIZE / 4, 55);
    let path = socket_in(&dir);
    let name = abstract_name("socat");
    for (ours, theirs) in [
        (
            path_str(&path).to_string(),
            format!("UNIX-CONNECT:{}", path.display()),
        ),
        (name.clone(), format!("ABSTRACT-CONNECT:{}", &name[1..])),
    ] {
        let (got_up, got_down) = (dir.path().join("got_up"), dir.path().join("got_down"));
        let mut listener = Listener::start(&["-U", &ours], file_stdin(&down), file_stdout(&got_up));
        let mut socat = Command::new("socat")
            .args(["-t30", "STDIO", &theirs])
            .stdin(file_stdin(&up))
            .stdout(file_stdout(&got_down))
            .spawn()
            .unwrap();
        assert!(wait_child(&mut socat, 60).success());
        assert!(listener.wait(30).success(), "{}", listener.stderr());
        assert_eq!(sha256_file(&got_up), sha256_file(&up), "{ours}");
        assert_eq!(sha256_file(&got_down), sha256_file(&down), "{ours}");
    }

    // sockit connect -U @NAME to socat's abstract listener.
    let copy = dir.path().join("copy");
    let mut socat = Command::new("socat")
        .arg("-u")
        .arg(format!("ABSTRACT-LISTEN:{}", &name[1..]))
        .arg("STDOUT")
        .stdout(file_stdout(&copy))
        .spawn()
        .unwrap();
    wait_until("socat's abstract socket", 10, || abstract_bound(&name));
    let (status, _, err) = run(
        sockit()
            .args(["connect", "-U", &name])
            .stdin(file_stdin(&up)),
        60,
    );
    assert!(status.success(), "{err}");
    assert!(wait_child(&mut socat, 30).success());
    assert_eq!(sha256_file(&copy), sha256_file(&up));
}

/// Whether some socket is bound to the abstract `@name` (the kernel lists
/// them in /proc/net/unix with a leading @).
fn abstract_bound(name: &str) -> bool {
    std::fs::read_to_string("/proc/net/unix")
        .unwrap()
        .lines()
        .any(|line| line.ends_with(&format!(" {name}")))
}

/// Another program's live socket is never taken: one line naming the path,
/// exit 1, and the other program still answers there.
#[test]
fn a_busy_path_is_refused_and_left_alone() {
    require("socat", "socat");
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let mut socat = Command::new("socat")
        .arg(format!("UNIX-LISTEN:{},fork", path.display()))
        .arg("SYSTEM:echo still here")
        .spawn()
        .unwrap();
    wait_until("socat to listen", 10, || path.exists());
    let (status, _, err) = run(
        sockit()
            .args(["listen", "-U", path_str(&path)])
            .stdin(Stdio::null()),
        10,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("another program is listening"), "{err}");
    let mut answer = String::new();
    let mut stream = UnixStream::connect(&path).unwrap();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert_eq!(answer, "still here\n");
    let _ = socat.kill();
    let _ = socat.wait();
}

/// A socket file whose server died (nobody accepts there) is replaced.
#[test]
fn a_stale_socket_file_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    drop(UnixListener::bind(&path).unwrap()); // std leaves the file behind
    assert!(path.exists());
    let listener = Listener::start(&["-U", path_str(&path)], Stdio::null(), Stdio::piped());
    let mut stream = UnixStream::connect(&path).unwrap();
    stream.write_all(b"new owner\n").unwrap();
    drop(stream);
    let mut listener = listener;
    let mut got = String::new();
    std::io::Read::read_to_string(listener.child.stdout.as_mut().unwrap(), &mut got).unwrap();
    assert_eq!(got, "new owner\n");
    assert!(listener.wait(10).success());
}

/// SIGINT and SIGTERM end a server waiting for clients; its file goes with it.
#[test]
fn the_socket_file_is_removed_on_signals() {
    let dir = tempfile::tempdir().unwrap();
    for (signal, args) in [
        ("INT", vec!["-k"]),
        ("TERM", vec!["-k", "--echo"]),
        ("TERM", vec![]),
        ("INT", vec!["-u"]),
    ] {
        let path = socket_in(&dir);
        let mut all = args.clone();
        all.extend(["-U", path_str(&path)]);
        let mut listener = Listener::start(&all, Stdio::null(), Stdio::null());
        assert!(path.metadata().unwrap().file_type().is_socket());
        listener.signal(signal);
        listener.wait(10);
        assert!(!path.exists(), "SIG{signal} with {args:?} left the file");
    }
}

/// `--mode` decides who may connect: another user gets in with 666 and is
/// refused with 600, told why in one line.
#[test]
fn mode_decides_who_may_connect() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // The other user needs a binary it can run, wherever the build is.
    let binary = dir.path().join("sockit");
    std::fs::copy(env!("CARGO_BIN_EXE_sockit"), &binary).unwrap();
    let path = socket_in(&dir);
    for (mode, allowed) in [("666", true), ("600", false)] {
        let mut listener = Listener::start(
            &["--mode", mode, "-U", path_str(&path)],
            Stdio::null(),
            Stdio::piped(),
        );
        let bits = path.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(format!("{bits:o}"), mode);
        let (status, _, err) = run_with_input(
            Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&binary)
                .args(["connect", "-U", path_str(&path)]),
            b"from nobody\n",
            10,
        );
        if allowed {
            assert!(status.success(), "{err}");
            let mut got = String::new();
            let out = listener.child.stdout.as_mut().unwrap();
            std::io::Read::read_to_string(out, &mut got).unwrap();
            assert_eq!(got, "from nobody\n");
            assert!(listener.wait(10).success());
            assert!(
                listener.stderr().contains("uid 65534"),
                "{}",
                listener.stderr()
            );
        } else {
            assert_eq!(status.code(), Some(1), "{err}");
            assert!(err.contains("permission denied"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
}

/// `-v` names the process at the other end (SO_PEERCRED) on both sides.
#[test]
fn verbose_names_the_peer_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let mut listener = Listener::start(&["-U", path_str(&path)], Stdio::null(), Stdio::null());
    let mut client = sockit()
        .args(["connect", "-v", "-U", path_str(&path)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client_pid = client.id();
    let (status, err) = wait_with_stderr(&mut client, 10);
    assert!(status.success(), "{err}");
    let uid = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").unwrap().uid()
    };
    listener.wait_for(
        &format!("connection from pid {client_pid} (uid {uid}, "),
        10,
    );
    let server_pid = listener.child.id();
    assert!(
        err.contains(&format!(
            "connected to {} (pid {server_pid}, uid {uid}",
            path.display()
        )),
        "{err}"
    );
    assert!(
        !err.contains("three-way"),
        "no handshake on a Unix socket: {err}"
    );
    assert!(listener.wait(10).success());
}

/// Keep-open modes over a Unix socket: echo, chat between two clients, the
/// fan-out relay, and a program per client that knows who called.
#[test]
fn every_keep_open_mode_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let p = path_str(&path);

    let echo = Listener::start(&["-k", "--echo", "-U", p], Stdio::null(), Stdio::null());
    for i in 0..3 {
        let text = format!("echo {i}\n");
        let (status, out, err) =
            run_with_input(sockit().args(["connect", "-U", p]), text.as_bytes(), 10);
        assert!(status.success(), "{err}");
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
    drop(echo);

    let chat = Listener::start(&["-k", "--chat", "-U", p], Stdio::null(), Stdio::null());
    let mut first = BufReader::new(UnixStream::connect(&path).unwrap());
    let mut line = String::new();
    first.read_line(&mut line).unwrap();
    assert!(line.starts_with("* you are pid "), "{line}");
    let mut second = UnixStream::connect(&path).unwrap();
    chat.wait_for("connection from", 10);
    line.clear();
    first.read_line(&mut line).unwrap();
    assert!(line.ends_with(" joined\n"), "{line}");
    second.write_all(b"hello room\n").unwrap();
    line.clear();
    first.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("[pid ") && line.ends_with("] hello room\n"),
        "{line}"
    );
    drop((first, second, chat));

    let exec = Listener::start(
        &[
            "-k",
            "--exec",
            "echo \"$SOCKIT_LOCAL_ADDR $SOCKIT_PEER_PID\"",
            "-U",
            p,
        ],
        Stdio::null(),
        Stdio::null(),
    );
    let mut client = sockit()
        .args(["connect", "-U", p])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = client.id();
    let mut out = String::new();
    std::io::Read::read_to_string(client.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(wait_child(&mut client, 10).success());
    assert_eq!(out, format!("{p} {pid}\n"));
    drop(exec);

    let fanout = Listener::start(&["-k", "-U", p], Stdio::piped(), Stdio::piped());
    let mut reader = BufReader::new(UnixStream::connect(&path).unwrap());
    fanout.wait_for("connection from", 10);
    let mut fanout = fanout;
    writeln!(fanout.child.stdin.as_mut().unwrap(), "to every client").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "to every client\n");
}

/// TLS over a Unix socket, pinned, both directions.
#[test]
fn tls_runs_over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let listener = Listener::start(
        &["--tls", "-U", path_str(&path)],
        Stdio::piped(),
        Stdio::piped(),
    );
    let pin = listener.certificate_pin();
    let mut listener = listener;
    let mut reply = listener.child.stdin.take().unwrap();
    reply.write_all(b"from the server\n").unwrap();
    drop(reply);
    let (status, out, err) = run_with_input(
        sockit().args(["connect", "--tls", "--pin", &pin, "-U", path_str(&path)]),
        b"from the client\n",
        20,
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), "from the server\n");
    let mut got = String::new();
    std::io::Read::read_to_string(listener.child.stdout.as_mut().unwrap(), &mut got).unwrap();
    assert_eq!(got, "from the client\n");
    assert!(listener.wait(10).success(), "{}", listener.stderr());
    assert!(listener.stderr().contains("tls: TLSv1.3 with pid "));
}

/// Datagrams keep their boundaries: three lines are three datagrams each
/// way, and replies reach the client at the name it bound for itself.
#[test]
fn datagrams_keep_boundaries_and_replies_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let echo = Listener::start(
        &["-u", "--echo", "-U", path_str(&path)],
        Stdio::null(),
        Stdio::null(),
    );
    let (status, out, err) = run_with_input(
        sockit().args(["connect", "-v", "-u", "-w", "1", "-U", path_str(&path)]),
        b"one\ntwo\nthree\n",
        20,
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), "one\ntwo\nthree\n");
    assert_eq!(err.matches("sent ").count(), 3, "{err}");
    assert_eq!(err.matches("datagram from").count(), 3, "{err}");
    echo.wait_for("datagram from @", 5);
    drop(echo);

    // A client that bound no name is heard but cannot be answered: the
    // server goes on serving the next one.
    let mut relay = Listener::start(
        &["-u", "-U", path_str(&path)],
        Stdio::piped(),
        Stdio::piped(),
    );
    let unnamed = UnixDatagram::unbound().unwrap();
    unnamed.send_to(b"anonymous\n", &path).unwrap();
    let named_path = dir.path().join("client.sock");
    let named = UnixDatagram::bind(&named_path).unwrap();
    named.send_to(b"named\n", &path).unwrap();
    relay.wait_for(&format!("datagram from {}", named_path.display()), 5);
    writeln!(relay.child.stdin.as_mut().unwrap(), "reply").unwrap();
    named
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 64];
    let n = named.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"reply\n");
    let mut stdout = BufReader::new(relay.child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "anonymous\n");
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "named\n");
}

#[test]
fn datagram_peers_netcat_and_socat() {
    require("nc", "netcat-openbsd");
    require("socat", "socat");
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let name = abstract_name("dgram");
    let _echo = Listener::start(
        &["-u", "--echo", "-U", path_str(&path)],
        Stdio::null(),
        Stdio::null(),
    );
    // nc -uU binds a temporary name of its own for the reply.
    let (_, out, err) = run_with_input(
        Command::new("nc").args(["-uU", "-w1", path_str(&path)]),
        b"via nc\n",
        10,
    );
    assert_eq!(String::from_utf8(out).unwrap(), "via nc\n", "{err}");
    let (status, out, err) = run_with_input(
        Command::new("socat").args([
            "-t1",
            "-",
            &format!(
                "UNIX-SENDTO:{},bind={}",
                path.display(),
                dir.path().join("socat.sock").display()
            ),
        ]),
        b"via socat\n",
        10,
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), "via socat\n");

    // sockit connect -u -U to socat's abstract datagram socket, which
    // answers to the name our client bound.
    let mut socat = Command::new("socat")
        .arg(format!("ABSTRACT-RECVFROM:{}", &name[1..]))
        .arg("SYSTEM:tr a-z A-Z")
        .spawn()
        .unwrap();
    wait_until("socat's abstract datagram socket", 10, || {
        abstract_bound(&name)
    });
    let (status, out, err) = run_with_input(
        sockit().args(["connect", "-u", "-w", "1", "-U", &name]),
        b"shout\n",
        10,
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), "SHOUT\n");
    let _ = socat.kill();
    let _ = socat.wait();
}

/// Mistakes get one line and the right exit code.
#[test]
fn mistakes_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let p = path_str(&path);
    let cases: [(&[&str], i32, &str); 6] = [
        (&["connect", "-U", p], 1, "no such socket"),
        (&["connect", "-U", p, "80"], 2, "-U takes no port"),
        (&["listen", "-U", "a", "b"], 2, "-U takes one address"),
        (&["listen", "--mode", "9", "-U", p], 2, "--mode"),
        (&["listen", "--mode", "600", "80"], 2, "--unix"),
        (&["connect", "-u", "-U", p], 1, "no such socket"),
    ];
    for (args, code, needle) in cases {
        let (status, _, err) = run(sockit().args(args).stdin(Stdio::null()), 10);
        assert_eq!(status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A stale file: refused, with the reason.
    drop(UnixListener::bind(&path).unwrap());
    let (status, _, err) = run(sockit().args(["connect", "-U", p]).stdin(Stdio::null()), 10);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("nothing is listening"), "{err}");
    // Not a socket: never replaced.
    let file = dir.path().join("data");
    std::fs::write(&file, "keep").unwrap();
    let (status, _, err) = run(
        sockit()
            .args(["listen", "-U", path_str(&file)])
            .stdin(Stdio::null()),
        10,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("not a socket"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
}
