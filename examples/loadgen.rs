//! Load generator for echo servers: `sockit listen -k --echo`, and the peers
//! it is compared with (`socat ... fork EXEC:cat`, `ncat -k --exec /bin/cat`).
//!
//! It opens CONNS connections (at most 256 handshakes in flight), holds them
//! all open, then for SECS seconds every connection plays ping-pong: send one
//! SIZE-byte message naming the connection and its sequence number, wait for
//! exactly that echo, repeat. Everything is bounded: the connection count,
//! the duration, and a 10 s timeout on every wait.
//!
//!     cargo run --release --example loadgen -- 127.0.0.1:7000 --conns 10000 --secs 10 --pid PID
//!
//! Prints one line of `key=value` figures: connections made, failures,
//! messages per second, p50/p99 round-trip latency, and the resident memory
//! of the server's process tree (PID and its descendants) with all
//! connections open, plus the main process's peak (VmHWM).
//!
//! With `--udp`, CONNS is the number of client sockets (one thread each),
//! and each keeps WINDOW datagrams of SIZE bytes in flight against a UDP
//! echo server for SECS seconds: every echo is checked and answered with the
//! next datagram; a datagram not echoed within 200 ms counts as lost and is
//! replaced. Prints echoed datagrams per second (whole, correct ones), the
//! echoed bytes in datagram units per second (which counts servers that merge
//! datagrams), and the losses and wrong (merged or foreign) echoes.
//!
//!     cargo run --release --example loadgen -- 127.0.0.1:7000 --udp --conns 1 --window 32 --size 1400
//!
//! With `--socks5 PROXY` or `--http-connect PROXY`, each connection goes to
//! the proxy at PROXY (ADDR:PORT) and asks it for a tunnel to the echo
//! server (SOCKS5 CONNECT without login, or HTTP CONNECT) before the
//! ping-pong; `--pid` then names the proxy. `--secs 0` only holds the
//! tunnels open, for the proxy's memory at rest.
//!
//!     cargo run --release --example loadgen -- 127.0.0.1:7000 --socks5 127.0.0.1:1080 --conns 1000

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

const WAIT: Duration = Duration::from_secs(10);

struct Config {
    target: SocketAddr,
    conns: usize,
    secs: f64,
    size: usize,
    pid: Option<u32>,
    udp: bool,
    window: usize,
    proxy: Option<(ProxyKind, SocketAddr)>,
}

#[derive(Clone, Copy)]
enum ProxyKind {
    Socks5,
    HttpConnect,
}

fn parse() -> Result<Config, String> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or("usage: loadgen ADDR:PORT [--conns N] [--secs S] [--size B] [--pid PID]")?
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    let mut config = Config {
        target,
        conns: 1000,
        secs: 5.0,
        size: 64,
        pid: None,
        udp: false,
        window: 32,
        proxy: None,
    };
    while let Some(flag) = args.next() {
        if flag == "--udp" {
            config.udp = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag}: {e}");
        match flag.as_str() {
            "--conns" => config.conns = value.parse().map_err(bad)?,
            "--secs" => config.secs = value.parse().map_err(|e| format!("--secs: {e}"))?,
            "--size" => config.size = value.parse().map_err(bad)?,
            "--pid" => config.pid = Some(value.parse().map_err(bad)?),
            "--window" => config.window = value.parse().map_err(bad)?,
            "--socks5" | "--http-connect" => {
                let kind = if flag == "--socks5" {
                    ProxyKind::Socks5
                } else {
                    ProxyKind::HttpConnect
                };
                let addr = value.parse().map_err(|e| format!("{flag}: {e}"))?;
                config.proxy = Some((kind, addr));
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if config.size < 16 {
        return Err("--size must be at least 16 bytes".into());
    }
    Ok(config)
}

#[derive(Default)]
struct Outcome {
    connected: bool,
    failure: Option<String>,
    latencies_us: Vec<u32>,
}

async fn client(
    id: usize,
    config: Arc<Config>,
    handshakes: Arc<Semaphore>,
    attempted: mpsc::UnboundedSender<()>,
    mut go: watch::Receiver<Option<Instant>>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let permit = handshakes.acquire().await;
    let stream = tokio::time::timeout(WAIT, open(&config)).await;
    drop(permit);
    let _ = attempted.send(());
    let mut stream = match stream {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            outcome.failure = Some(format!("connect: {e}"));
            return outcome;
        }
        Err(_) => {
            outcome.failure = Some("connect: timed out".into());
            return outcome;
        }
    };
    let _ = stream.set_nodelay(true);
    outcome.connected = true;
    // Hold the connection until every client has connected.
    let deadline = loop {
        if let Some(deadline) = *go.borrow_and_update() {
            break deadline;
        }
        if go.changed().await.is_err() {
            return outcome;
        }
    };
    let mut message = vec![b'.'; config.size];
    let mut echo = vec![0u8; config.size];
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let tag = format!("{id:08}:{seq:07}");
        message[..tag.len()].copy_from_slice(tag.as_bytes());
        let sent = Instant::now();
        let round = async {
            stream.write_all(&message).await?;
            stream.read_exact(&mut echo).await?;
            Ok::<_, std::io::Error>(())
        };
        match tokio::time::timeout(WAIT, round).await {
            Ok(Ok(())) if echo == message => {}
            Ok(Ok(())) => {
                outcome.failure = Some("echo did not match".into());
                return outcome;
            }
            Ok(Err(e)) => {
                outcome.failure = Some(format!("exchange: {e}"));
                return outcome;
            }
            Err(_) => {
                outcome.failure = Some("exchange: timed out".into());
                return outcome;
            }
        }
        outcome
            .latencies_us
            .push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
        seq += 1;
    }
    outcome
}

/// A connection to the echo server: direct, or through the proxy's tunnel.
async fn open(config: &Config) -> std::io::Result<TcpStream> {
    let Some((kind, proxy)) = config.proxy else {
        return TcpStream::connect(config.target).await;
    };
    let mut stream = TcpStream::connect(proxy).await?;
    let refused = |what: &str| std::io::Error::other(format!("proxy refused: {what}"));
    match kind {
        ProxyKind::Socks5 => {
            let SocketAddr::V4(target) = config.target else {
                return Err(refused("loadgen asks SOCKS5 for IPv4 targets only"));
            };
            // Greeting, then the request once it is answered: some proxies
            // (microsocks) read one message per receive.
            stream.write_all(&[5, 1, 0]).await?;
            let mut chosen = [0u8; 2];
            stream.read_exact(&mut chosen).await?;
            if chosen != [5, 0] {
                return Err(refused(&format!("method {chosen:02x?}")));
            }
            let mut request = vec![5, 1, 0, 1];
            request.extend(target.ip().octets());
            request.extend(target.port().to_be_bytes());
            stream.write_all(&request).await?;
            let mut reply = [0u8; 10];
            stream.read_exact(&mut reply).await?;
            if reply[1] != 0 || reply[3] != 1 {
                return Err(refused(&format!("{reply:02x?}")));
            }
        }
        ProxyKind::HttpConnect => {
            let target = config.target;
            let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
            stream.write_all(request.as_bytes()).await?;
            // Byte by byte to the blank line: nothing of the tunnel is read.
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                stream.read_exact(&mut byte).await?;
                head.push(byte[0]);
                if head.len() > 8192 {
                    return Err(refused("endless response head"));
                }
            }
            if !head.starts_with(b"HTTP/1.1 200") && !head.starts_with(b"HTTP/1.0 200") {
                return Err(refused(&String::from_utf8_lossy(&head)));
            }
        }
    }
    Ok(stream)
}

/// Resident memory of `pid` and all its descendants, in KiB.
fn tree_rss_kib(pid: u32) -> u64 {
    process_tree(pid)
        .iter()
        .map(|p| status_kib(*p, "VmRSS:"))
        .sum()
}

/// CPU time (user and system, in clock ticks) of `pid` and its descendants,
/// threads included.
fn tree_cpu_ticks(pid: u32) -> u64 {
    process_tree(pid)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .map(|stat| {
            // After the ")" closing the name: state is field 3, utime 14, stime 15.
            let rest = stat.rsplit(')').next().unwrap_or("");
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let field = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok());
            field(14).unwrap_or(0) + field(15).unwrap_or(0)
        })
        .sum()
}

/// `pid` and all its descendants.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) {
                // The field after the ")" that closes the command name: state, ppid.
                if let Some(rest) = stat.rsplit(')').next() {
                    let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
                    parents.push((child, ppid.unwrap_or(0)));
                }
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let config = match parse() {
        Ok(config) => Arc::new(config),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    sockit::sys::raise_open_file_limit();
    if config.udp {
        return udp_flood(&config);
    }
    let handshakes = Arc::new(Semaphore::new(256));
    let (go, ready) = watch::channel(None);
    let (attempted, mut attempts) = mpsc::unbounded_channel();
    let connecting = Instant::now();
    let tasks: Vec<_> = (0..config.conns)
        .map(|id| {
            tokio::spawn(client(
                id,
                Arc::clone(&config),
                Arc::clone(&handshakes),
                attempted.clone(),
                ready.clone(),
            ))
        })
        .collect();
    for _ in 0..config.conns {
        attempts.recv().await;
    }
    let connect_secs = connecting.elapsed().as_secs_f64();
    let held_rss = config.pid.map(tree_rss_kib).unwrap_or(0);
    let cpu_before = config.pid.map(tree_cpu_ticks).unwrap_or(0);
    let started = Instant::now();
    let _ = go.send(Some(started + Duration::from_secs_f64(config.secs)));
    let mut connected = 0;
    let mut failures = Vec::new();
    let mut latencies = Vec::new();
    for task in tasks {
        let outcome = task.await.unwrap_or_default();
        connected += usize::from(outcome.connected);
        failures.extend(outcome.failure);
        latencies.extend(outcome.latencies_us);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_ticks = config.pid.map(tree_cpu_ticks).unwrap_or(0) - cpu_before;
    let peak = config.pid.map(|p| status_kib(p, "VmHWM:")).unwrap_or(0);
    latencies.sort_unstable();
    println!(
        "conns={} connected={} failures={} messages={} msgs_per_s={:.0} p50_us={} p99_us={} connect_s={:.2} server_tree_rss_kib={} server_peak_rss_kib={} server_cpu_us_per_msg={:.1}",
        config.conns,
        connected,
        failures.len(),
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        connect_secs,
        held_rss,
        peak,
        // Clock ticks are 10 ms (USER_HZ 100).
        cpu_ticks as f64 * 10_000.0 / latencies.len().max(1) as f64
    );
    if let Some(first) = failures.first() {
        eprintln!("loadgen: first failure: {first}");
    }
}

/// The `--udp` mode: CONNS sockets, WINDOW datagrams in flight on each.
fn udp_flood(config: &Config) {
    let deadline = Instant::now() + Duration::from_secs_f64(config.secs);
    let started = Instant::now();
    let threads: Vec<_> = (0..config.conns)
        .map(|id| {
            let (target, size, window) = (config.target, config.size, config.window);
            std::thread::spawn(move || udp_client(id, target, size, window, deadline))
        })
        .collect();
    let (mut echoed, mut lost, mut wrong, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    for thread in threads {
        let (e, l, w, b) = thread.join().unwrap_or_default();
        echoed += e;
        lost += l;
        wrong += w;
        bytes += b;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "sockets={} window={} size={} echoed={} datagrams_per_s={:.0} bytes_as_datagrams_per_s={:.0} lost={} wrong={}",
        config.conns,
        config.window,
        config.size,
        echoed,
        echoed as f64 / elapsed,
        (bytes / config.size as u64) as f64 / elapsed,
        lost,
        wrong
    );
}

/// Returns (echoed, lost, wrong, bytes echoed) for one socket.
fn udp_client(
    id: usize,
    target: SocketAddr,
    size: usize,
    window: usize,
    deadline: Instant,
) -> (u64, u64, u64, u64) {
    let any = if target.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = std::net::UdpSocket::bind(any).expect("bind a UDP socket");
    socket.connect(target).expect("connect the UDP socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("set a timeout");
    let mut datagram = vec![b'.'; size];
    let mut echo = vec![0u8; 65536];
    let (mut echoed, mut lost, mut wrong, mut seq) = (0u64, 0u64, 0u64, 0u64);
    let mut bytes = 0u64;
    let send = |datagram: &mut Vec<u8>, seq: &mut u64| {
        let tag = format!("{id:06}:{seq:010}");
        datagram[..tag.len()].copy_from_slice(tag.as_bytes());
        *seq += 1;
        let _ = socket.send(datagram);
    };
    for _ in 0..window {
        send(&mut datagram, &mut seq);
    }
    while Instant::now() < deadline {
        match socket.recv(&mut echo) {
            Ok(n) => {
                // Every echo must be one of ours, whole: same size, our tag.
                // An echo that merges k datagrams (a server that loses
                // boundaries) is wrong, and k replacements keep the window full
                // so that server is not measured with a shrunken window.
                if n == size && echo[..7] == datagram[..7] {
                    echoed += 1;
                } else {
                    wrong += 1;
                }
                bytes += n as u64;
                for _ in 0..(n / size).max(1) {
                    send(&mut datagram, &mut seq);
                }
            }
            Err(_) => {
                // The whole window went quiet: count it lost, refill it.
                lost += window as u64;
                for _ in 0..window {
                    send(&mut datagram, &mut seq);
                }
            }
        }
    }
    (echoed, lost, wrong, bytes)
}
