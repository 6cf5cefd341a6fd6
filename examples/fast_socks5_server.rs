//! The fast-socks5 crate's SOCKS5 server, for `bench/proxy.sh` and
//! `bench/proxy_load.sh`: the Rust crate sockit would use for its proxy's
//! SOCKS5 side, measured beside the hand-written one. Its own example's
//! configuration: no login, the crate connects to the target and relays
//! (`tokio::io::copy_bidirectional`).
//!
//!     cargo run --release --example fast_socks5_server -- 127.0.0.1:1080

use std::sync::Arc;

use fast_socks5::server::{Config, Socks5Socket};

#[tokio::main]
async fn main() {
    let Some(address) = std::env::args().nth(1) else {
        eprintln!("usage: fast_socks5_server ADDR:PORT");
        std::process::exit(2);
    };
    sockit::sys::raise_open_file_limit();
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("fast_socks5_server: {address}: {e}");
            std::process::exit(1);
        }
    };
    let config: Arc<Config> = Arc::new(Config::default());
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            // A failed client is that client's affair, as in the crate's example.
            let _ = Socks5Socket::new(socket, config).upgrade_to_socks5().await;
        });
    }
}
