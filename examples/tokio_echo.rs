//! The reference echo server for bench/echo_load.sh: the shape of Tokio's
//! own echo example (a task per client, a 1 KiB buffer, read then
//! `write_all`), so that sockit's echo is compared with what a plain Tokio
//! program does, on the same runtime, in the same run.
//!
//!     cargo run --release --example tokio_echo -- 127.0.0.1:7000

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    loop {
        let (mut socket, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buf = vec![0; 1024];
            loop {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if socket.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}
