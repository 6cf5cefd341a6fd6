//! Load generator for TLS servers that echo: how many complete sessions per
//! second a server gives, each a new TCP connection, a full handshake, one
//! 64-byte message echoed, and the close (close_notify, FIN).
//!
//!     cargo run --release --example tls_handshakes -- 127.0.0.1:8443 --pin sha256:HEX \
//!         [--secs 5] [--concurrency 8]
//!
//! CONCURRENCY sessions run at once, each starting the next as soon as it
//! ends, for SECS seconds; every wait is bounded by a 10 s timeout. Every
//! session makes a fresh client configuration, so no session is resumed: a
//! server that offers resumption tickets gains nothing from them here, and
//! every handshake is the full one (the server signs, the client verifies).
//! The client is sockit's own library (`TlsClient` with a pinned
//! certificate), the same for every server measured.
//!
//! Prints one line: `sessions=N failures=F rate=R/s p50_ms=.. p99_ms=..`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sockit::transport::tls::{ClientTlsOptions, Fingerprint, TlsClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);
const MESSAGE: usize = 64;

struct Config {
    target: SocketAddr,
    pin: Fingerprint,
    secs: f64,
    concurrency: usize,
}

fn parse() -> Result<Config, String> {
    let usage = "usage: tls_handshakes ADDR:PORT --pin sha256:HEX [--secs S] [--concurrency N]";
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or(usage)?
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    let (mut pin, mut secs, mut concurrency) = (None, 5.0, 8);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--pin" => pin = Some(value.parse().map_err(|e| format!("--pin: {e}"))?),
            "--secs" => secs = value.parse().map_err(|e| format!("--secs: {e}"))?,
            "--concurrency" => {
                concurrency = value.parse().map_err(|e| format!("--concurrency: {e}"))?
            }
            _ => return Err(format!("unknown flag {flag}; {usage}")),
        }
    }
    Ok(Config {
        target,
        pin: pin.ok_or(usage)?,
        secs,
        concurrency,
    })
}

/// One session from connect to close; its duration.
async fn session(target: SocketAddr, pin: Fingerprint) -> Result<Duration, String> {
    let started = Instant::now();
    let options = ClientTlsOptions {
        pin: Some(pin),
        ..ClientTlsOptions::default()
    };
    let client = TlsClient::new(&options, "localhost").map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(target)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut tls, _) = client
        .handshake_details(tcp.into(), &target.into())
        .await
        .map_err(|e| e.to_string())?;
    let message = [b'x'; MESSAGE];
    tls.write_all(&message)
        .await
        .map_err(|e| format!("write: {e}"))?;
    tls.flush().await.map_err(|e| format!("flush: {e}"))?;
    let mut echoed = [0u8; MESSAGE];
    tls.read_exact(&mut echoed)
        .await
        .map_err(|e| format!("read: {e}"))?;
    if echoed != message {
        return Err("the echo differs".into());
    }
    tls.shutdown().await.map_err(|e| format!("close: {e}"))?;
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() {
    let config = match parse() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tls_handshakes: {e}");
            std::process::exit(2);
        }
    };
    let deadline = Instant::now() + Duration::from_secs_f64(config.secs);
    let started = Instant::now();
    let workers: Vec<_> = (0..config.concurrency)
        .map(|_| {
            let (target, pin) = (config.target, config.pin);
            tokio::spawn(async move {
                let (mut times, mut failures) = (Vec::new(), Vec::new());
                while Instant::now() < deadline {
                    match tokio::time::timeout(WAIT, session(target, pin)).await {
                        Ok(Ok(took)) => times.push(took),
                        Ok(Err(e)) => failures.push(e),
                        Err(_) => failures.push("timed out".into()),
                    }
                }
                (times, failures)
            })
        })
        .collect();
    let (mut times, mut failures) = (Vec::new(), Vec::new());
    for worker in workers {
        let (t, f) = worker.await.expect("worker");
        times.extend(t);
        failures.extend(f);
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    let percentile = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "sessions={} failures={} rate={:.0}/s p50_ms={:.2} p99_ms={:.2}",
        times.len(),
        failures.len(),
        times.len() as f64 / elapsed,
        percentile(0.5),
        percentile(0.99)
    );
    if let Some(first) = failures.first() {
        eprintln!("first failure: {first}");
    }
}
