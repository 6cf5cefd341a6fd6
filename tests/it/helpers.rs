//! Running the real binary: a listener whose address we learn from its `-v`
//! narration, bounded waits, payloads and checksums.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The binary, with the proxy variables of the environment the tests run
/// in removed: `connect` honours ALL_PROXY, and a test means loopback.
pub fn sockit() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockit"));
    for variable in ["ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        command.env_remove(variable);
    }
    command
}

/// A child's output (stderr, or stdout through a pipe or a terminal),
/// collected line by line on a thread as it comes, so a test can wait for a
/// line while the child runs and read it all after.
pub struct LineLog {
    text: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl LineLog {
    /// Collects `pipe`; `on_line` sees each line as it arrives.
    pub fn collect(
        pipe: impl Read + Send + 'static,
        mut on_line: impl FnMut(&str) + Send + 'static,
    ) -> LineLog {
        let text = Arc::new(Mutex::new(String::new()));
        let log = Arc::clone(&text);
        // Raw chunks, not lines: a terminal's last line may never end in a
        // newline, and its reader fails (EIO) rather than ending when the
        // program exits; what arrived must be kept either way.
        let reader = std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut chunk = [0u8; 4096];
            let mut partial = String::new();
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                let text = String::from_utf8_lossy(&chunk[..n]);
                log.lock().unwrap().push_str(&text);
                partial.push_str(&text);
                while let Some(end) = partial.find('\n') {
                    on_line(&partial[..end]);
                    partial.drain(..=end);
                }
            }
        });
        LineLog {
            text,
            reader: Some(reader),
        }
    }

    /// What has arrived so far.
    pub fn text(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Waits until the text contains `needle`, for at most `secs`.
    pub fn wait_for(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs}s for {needle:?}; stderr:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything, once the child has exited and its pipe is closed.
    pub fn finish(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.text()
    }
}

/// A `sockit listen -v ...` process and everything it has said on stderr.
pub struct Listener {
    pub child: Child,
    /// Where it listens, as its `listening on` line says: an address and
    /// port, or a Unix socket's name.
    pub place: String,
    stderr: LineLog,
}

impl Listener {
    /// Starts `sockit listen -v ARGS...` and waits for its `listening on` line.
    /// `stdin` and `stdout` are what the listener relays.
    pub fn start(args: &[&str], stdin: Stdio, stdout: Stdio) -> Listener {
        Listener::start_with(sockit(), args, stdin, stdout)
    }

    /// The same through `command`, a sockit binary or a wrapper running one
    /// (`ip netns exec NS sockit`).
    pub fn start_with(command: Command, args: &[&str], stdin: Stdio, stdout: Stdio) -> Listener {
        Listener::start_server(command, "listen", args, stdin, stdout)
    }

    /// `sockit proxy -v ARGS...`, as a listener.
    pub fn start_proxy(args: &[&str]) -> Listener {
        Listener::start_server(sockit(), "proxy", args, Stdio::null(), Stdio::null())
    }

    fn start_server(
        mut command: Command,
        subcommand: &str,
        args: &[&str],
        stdin: Stdio,
        stdout: Stdio,
    ) -> Listener {
        let mut child = command
            .arg(subcommand)
            .arg("-v")
            .args(args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sockit listen");
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = LineLog::collect(child.stderr.take().unwrap(), move |line| {
            if let Some(place) = line.strip_prefix("listening on ") {
                let _ = tx.send(place.to_string());
            }
        });
        let place = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no listening line; stderr: {}", stderr.text()));
        Listener {
            child,
            place,
            stderr,
        }
    }

    /// The address and port of a TCP or UDP listener.
    pub fn addr(&self) -> SocketAddr {
        self.place.parse().expect("an IP listener's address")
    }

    pub fn port(&self) -> String {
        self.addr().port().to_string()
    }

    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Waits until stderr contains `needle`, for at most `secs`.
    pub fn wait_for(&self, needle: &str, secs: u64) -> String {
        self.stderr.wait_for(needle, secs)
    }

    /// `sockit connect --tls --pin PIN localhost PORT` for this `listen --tls`.
    pub fn pinned_tls_client(&self) -> Command {
        let mut command = sockit();
        command.args([
            "connect",
            "--tls",
            "--pin",
            &self.certificate_pin(),
            "localhost",
        ]);
        command.arg(self.port());
        command
    }

    /// The `certificate sha256:HEX` that `listen --tls -v` prints, ready for `--pin`.
    pub fn certificate_pin(&self) -> String {
        self.wait_for("certificate sha256:", 10)
            .lines()
            .find_map(|l| l.strip_prefix("certificate "))
            .unwrap()
            .to_string()
    }

    pub fn wait(&mut self, secs: u64) -> ExitStatus {
        wait_child(&mut self.child, secs)
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a child for at most `secs`, killing it (and failing) after that.
pub fn wait_child(child: &mut Child, secs: u64) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not exit within {secs}s", child.id());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Accepts one client within `secs`, or fails the test (a plain accept
/// would hang the test run if the client never came).
pub fn accept_within(server: &TcpListener, secs: u64) -> (std::net::TcpStream, SocketAddr) {
    server.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match server.accept() {
            Ok((stream, from)) => {
                stream.set_nonblocking(false).unwrap();
                return (stream, from);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no client within {secs}s");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Waits for `child` (at most `secs`) and reads what it wrote to its piped
/// stderr.
pub fn wait_with_stderr(child: &mut Child, secs: u64) -> (ExitStatus, String) {
    let status = wait_child(child, secs);
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut err);
    }
    (status, err)
}

/// Runs a command to completion within `secs`, returning status, stdout, stderr.
/// Its stdin is whatever the command was given (the parent's by default).
pub fn run(cmd: &mut Command, secs: u64) -> (ExitStatus, Vec<u8>, String) {
    run_io(cmd, None, secs)
}

/// Like [`run`], with `input` written to the command's stdin, then closed.
pub fn run_with_input(cmd: &mut Command, input: &[u8], secs: u64) -> (ExitStatus, Vec<u8>, String) {
    cmd.stdin(Stdio::piped());
    run_io(cmd, Some(input), secs)
}

fn run_io(cmd: &mut Command, input: Option<&[u8]>, secs: u64) -> (ExitStatus, Vec<u8>, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = err.read_to_string(&mut buf);
        buf
    });
    let status = wait_child(&mut child, secs);
    (
        status,
        out_reader.join().unwrap(),
        err_reader.join().unwrap(),
    )
}

/// Ports handed to peers that cannot bind port 0 and tell us the result
/// (nc -l, socat, ncat, openssl s_server) come from below the kernel's
/// ephemeral range (32768-60999 on Debian), where nothing that binds port 0
/// lands. Taken from the ephemeral range, such a port could go, between our
/// check and the peer's bind, to a sockit listener of a test running
/// alongside, and the test's client would talk to the wrong server. One
/// counter for the whole test binary: no two tests get the same port.
fn unused_port(free: impl Fn(u16) -> bool) -> u16 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    let offset = std::process::id() % COUNT;
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = (FIRST + (offset + n) % COUNT) as u16;
        if free(port) {
            return port;
        }
    }
    panic!("no free port in {FIRST}-{}", FIRST + COUNT - 1);
}

/// A TCP port on `ip` that nothing else will take (see [`unused_port`]).
pub fn free_port(ip: &str) -> u16 {
    unused_port(|port| TcpListener::bind((ip, port)).is_ok())
}

/// A UDP port on `ip` that nothing else will take (see [`unused_port`]).
pub fn free_udp_port(ip: &str) -> u16 {
    unused_port(|port| std::net::UdpSocket::bind((ip, port)).is_ok())
}

/// Waits (at most 5 s) until some UDP socket is bound to `port` on this
/// host: peers like nc and socat give no other sign that they are ready.
pub fn wait_udp_bound(port: u16) {
    wait_udp_bound_in(None, port)
}

/// The same inside network namespace `netns`.
pub fn wait_udp_bound_in(netns: Option<&str>, port: u16) {
    let filter = format!("sport = :{port}");
    for _ in 0..250 {
        let mut ss = match netns {
            Some(name) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", name, "ss"]);
                cmd
            }
            None => Command::new("ss"),
        };
        let out = ss.args(["-Hlun", &filter]).output().unwrap();
        if !out.stdout.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing bound UDP port {port}");
}

/// Deterministic bytes that no compression or pattern could fake.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn write_payload(dir: &Path, name: &str, len: usize, seed: u64) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, payload(len, seed)).unwrap();
    path
}

pub fn sha256_file(path: &Path) -> String {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).unwrap();
    format!("{:x}", hasher.finalize())
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

pub fn file_stdin(path: &Path) -> Stdio {
    Stdio::from(std::fs::File::open(path).unwrap())
}

pub fn file_stdout(path: &Path) -> Stdio {
    Stdio::from(std::fs::File::create(path).unwrap())
}

/// Runs `command` from the file `input` into the file `output`, within
/// `secs`; its exit status and what it said on stderr.
pub fn run_between_files(
    command: &mut Command,
    input: &Path,
    output: &Path,
    secs: u64,
) -> (ExitStatus, String) {
    let mut child = command
        .stdin(file_stdin(input))
        .stdout(file_stdout(output))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    wait_with_stderr(&mut child, secs)
}

/// Writes 20 lines to `stdin` (a sockit client's), one at a time, and
/// reads each from `far` (the peer's socket) before writing the next: a
/// line held back for 2 s fails the test. Both are closed after.
pub fn lines_cross_at_once(mut stdin: impl Write, far: impl Read) {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(far);
    for i in 0..20 {
        writeln!(stdin, "line {i}").unwrap();
        stdin.flush().unwrap();
        let sent = Instant::now();
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        assert_eq!(line, format!("line {i}\n"));
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "line {i} was held back for {:?}",
            sent.elapsed()
        );
    }
}

/// Fails the test, with the fix, when a peer program is not installed:
/// a skipped interop test would pass without proving anything.
pub fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "{program} is missing: apt-get install {package} (.ci/run does)"
    );
}

/// A pseudo-terminal of `columns` columns in raw mode (so bytes arrive as
/// sent): the controlling side for the test, the user side for sockit.
pub fn open_terminal(columns: u16) -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    let size = nix::pty::Winsize {
        ws_row: 24,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).unwrap();
    let mut modes = tcgetattr(&pty.slave).unwrap();
    cfmakeraw(&mut modes);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &modes).unwrap();
    (pty.master, pty.slave)
}

/// Waits (at most 5 s) until something listens on TCP `port` here.
pub fn wait_tcp_listening(port: u16) {
    for _ in 0..250 {
        let out = Command::new("ss")
            .args(["-Hltn", &format!("sport = :{port}")])
            .output()
            .unwrap();
        if !out.stdout.is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("nothing listens on TCP port {port}");
}

/// A peer program serving on `port` (a proxy, a web server), killed when
/// the test ends; `keep` holds files it reads (its configuration, its root).
pub struct Daemon {
    child: Child,
    pub port: u16,
    _keep: Option<tempfile::TempDir>,
}

impl Daemon {
    /// Starts `command` (output discarded) and waits until it listens on `port`.
    pub fn start(mut command: Command, port: u16, keep: Option<tempfile::TempDir>) -> Daemon {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the peer");
        let daemon = Daemon {
            child,
            port,
            _keep: keep,
        };
        wait_tcp_listening(port);
        daemon
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pcap file with its header and no packets.
pub fn write_empty_pcap(path: &Path) {
    use sockit::wire::pcap::{CaptureWriter, Format};
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        CaptureWriter::new(file, Format::Pcap, sockit::wire::link::LinkType::Ethernet).unwrap();
    writer.flush().unwrap();
}

/// Reads a PNG with python3's zlib (no imaging library needed): its width,
/// height and how many pixels are dark (well off white), as JSON.
const PNG_PIXELS: &str = r#"
import json, struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat = 8, b''
while pos < len(data):
    length, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b'IHDR':
        width, height, depth, color = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + length
channels = {2: 3, 6: 4, 0: 1, 4: 2}[color]
stride = width * channels
raw = zlib.decompress(idat)
rows, previous = [], bytearray(stride)
for y in range(height):
    kind = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - channels] if x >= channels else 0
        b = previous[x]
        c = previous[x - channels] if x >= channels else 0
        if kind == 1: line[x] = (line[x] + a) & 255
        elif kind == 2: line[x] = (line[x] + b) & 255
        elif kind == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    previous = line
dark = sum(1 for line in rows for x in range(0, stride, channels) if min(line[x:x + min(3, channels)]) < 160)
print(json.dumps({"width": width, "height": height, "dark": dark}))
"#;

/// Renders an SVG file in headless Chromium and checks the screenshot: the
/// size the document declares, and a drawing on it (neither blank nor black).
pub fn assert_renders_in_chromium(svg: &Path) {
    require("chromium", "chromium");
    require("python3", "python3");
    let size = "import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(root.get('width'), root.get('height'))";
    let declared = python_reading(size, svg);
    let (width, height) = declared.trim().split_once(' ').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("shot.png");
    let (status, _, err) = run(
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("file://{}", svg.display()))
            .env("HOME", dir.path()),
        120,
    );
    assert!(status.success(), "{err}");
    let pixels: serde_json::Value =
        serde_json::from_str(&python_reading(PNG_PIXELS, &png)).unwrap();
    assert_eq!(pixels["width"].to_string(), width);
    assert_eq!(pixels["height"].to_string(), height);
    let area = pixels["width"].as_u64().unwrap() * pixels["height"].as_u64().unwrap();
    let dark = pixels["dark"].as_u64().unwrap();
    assert!(
        dark > area / 400 && dark < area / 2,
        "{pixels} of {area}: blank or black"
    );
}

/// What a python3 script prints about `file` (its first argument); the
/// test fails with python's error if the script does.
pub fn python_reading(script: &str, file: &Path) -> String {
    require("python3", "python3");
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The first line a child writes to its piped stdout: how a helper script
/// says it is ready (or which port it took) before the test goes on.
pub fn first_line(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().expect("stdout piped")),
        &mut line,
    )
    .unwrap();
    line
}
