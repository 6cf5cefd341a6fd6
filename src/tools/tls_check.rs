//! `sockit tls`: the presentation layer on its own. Connect, run the TLS
//! handshake, and report what the server offered and whether it is to be
//! trusted, with the whole chain it sent, then close without sending a byte
//! of application data (as `openssl s_client` is used to check a server,
//! with the verdict in plain words).

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::error::Result;
use crate::transport::events::Events;
use crate::transport::tls::{CertificateInfo, ClientTlsOptions, TlsClient};
use crate::transport::{ConnectOptions, connect};

/// `--json`: one object per check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsReport {
    pub host: String,
    pub port: u16,
    /// "TLSv1.3" or "TLSv1.2".
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    pub verified: bool,
    /// Why it is not verified, in plain words; null when it is.
    pub error: Option<String>,
    /// Every certificate the server sent, leaf first.
    pub chain: Vec<CertificateInfo>,
}

/// Checks the TLS server at `host` port `port`. An error means no
/// handshake happened (nothing listens, not TLS); a handshake with an
/// untrusted certificate is a report with `verified: false`.
pub async fn check(
    host: &str,
    port: u16,
    connect_options: &ConnectOptions,
    tls: &ClientTlsOptions,
    events: &Events,
) -> Result<TlsReport> {
    let (client, verdict) = TlsClient::checker(tls, host)?;
    let tcp = connect(host, port, connect_options, events).await?;
    let peer = tcp
        .peer_addr()
        .map_err(|e| crate::Error::io("the connection closed at once", e))?;
    let peer = peer.into();
    let (mut session, details) = client.handshake_details(tcp.into(), &peer).await?;
    let _ = session.shutdown().await;
    let error = verdict.failure();
    Ok(TlsReport {
        host: host.to_string(),
        port,
        version: details.version,
        cipher: details.cipher,
        alpn: details.alpn,
        verified: error.is_none() && !tls.insecure,
        error,
        chain: details.chain,
    })
}
