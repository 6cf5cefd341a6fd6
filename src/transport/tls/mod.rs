//! The presentation layer: TLS over a TCP connection, through rustls.
//!
//! A TLS connection is one more kind of [`Stream`]: once the handshake is
//! done, relay, echo, chat and fan-out run over it unchanged. The bytes on
//! the socket are not the session's (this kernel has no kTLS), so nothing is
//! spliced; the CLI's relay takes the session apart and runs it on two
//! threads (`threads`), everything else goes through tokio-rustls. This module builds the client and
//! server configurations from the user's files and choices, runs the
//! handshake with a time limit, reports what it settled ([`TlsDetails`]),
//! and wraps the result in a [`TlsSession`] that keeps sockit's half-close
//! rules.

mod certificate;
mod threads;
pub mod verify;

use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tokio_rustls::{TlsAcceptor, TlsConnector};

pub use certificate::{CertificateInfo, Fingerprint, rfc3339, self_signed};
pub(crate) use threads::{TlsParts, TlsPump};

use super::endpoint::Endpoint;
use super::events::{Event, Events, TlsDetails};
use super::stream::{Connection, Stream};
use crate::error::{Error, Result};
use verify::{Policy, Verifier, explain};

/// How long a handshake may take before the connection is dropped: a client
/// that connects and says nothing must not hold a server's task forever.
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(30);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What `connect --tls` trusts and offers.
#[derive(Debug, Clone, Default)]
pub struct ClientTlsOptions {
    /// PEM roots to trust instead of the system's.
    pub ca: Option<PathBuf>,
    /// The name sent (SNI) and checked, instead of the host connected to.
    pub server_name: Option<String>,
    pub alpn: Vec<String>,
    /// A client certificate and its key, for servers that ask for one.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Accept exactly this certificate, whoever signed it.
    pub pin: Option<Fingerprint>,
    /// Accept any certificate.
    pub insecure: bool,
}

/// A client configuration ready for handshakes with one host.
pub struct TlsClient {
    connector: TlsConnector,
    name: ServerName<'static>,
    verdict: &'static str,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsClient({:?})", self.name)
    }
}

impl TlsClient {
    /// Reads the files `options` names and prepares handshakes with `host`.
    pub fn new(options: &ClientTlsOptions, host: &str) -> Result<TlsClient> {
        TlsClient::build(options, host, None)
    }

    /// A client for checking a server (`sockit tls`): a certificate that
    /// fails verification is judged, the reason kept in the returned cell,
    /// and the handshake finishes so the whole chain can be shown. Never
    /// send session data over such a client's connections.
    pub fn checker(options: &ClientTlsOptions, host: &str) -> Result<(TlsClient, Verdict)> {
        let verdict = Verdict::default();
        let client = TlsClient::build(options, host, Some(Arc::clone(&verdict.0)))?;
        Ok((client, verdict))
    }

    fn build(
        options: &ClientTlsOptions,
        host: &str,
        record: Option<Arc<std::sync::Mutex<Option<String>>>>,
    ) -> Result<TlsClient> {
        let provider = provider();
        let policy = if let Some(pin) = options.pin {
            Policy::Pin(pin)
        } else if options.insecure {
            Policy::Insecure
        } else {
            let roots = match &options.ca {
                Some(path) => roots_from(path)?,
                None => system_roots()?,
            };
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .build()
                    .map_err(|e| Error::Usage(format!("TLS roots: {e}")))?;
            Policy::Roots(verifier)
        };
        let verdict = match policy {
            Policy::Roots(_) => "verified (trusted issuer, name matches)",
            Policy::Pin(_) => "verified (pinned certificate)",
            Policy::Insecure => "NOT verified (--insecure)",
        };
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Usage(format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier {
                policy,
                provider,
                record,
            }));
        let mut config = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(certificates_from(cert)?, key_from(key)?)
                .map_err(|e| tls_file(cert, e))?,
            (None, None) => builder.with_no_client_auth(),
            _ => {
                return Err(Error::Usage(
                    "--cert and --key go together: give both".into(),
                ));
            }
        };
        config.alpn_protocols = options.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let name = options.server_name.as_deref().unwrap_or(host);
        let name = ServerName::try_from(name.to_string()).map_err(|_| {
            Error::Usage(format!(
                "{name:?} is not a valid TLS server name: give --servername NAME"
            ))
        })?;
        Ok(TlsClient {
            connector: TlsConnector::from(Arc::new(config)),
            name,
            verdict,
        })
    }

    /// The client's half of the handshake over `tcp`. No byte of the
    /// session is sent before the server has been verified.
    pub async fn handshake(
        &self,
        connection: Connection,
        peer: &Endpoint,
        events: &Events,
    ) -> Result<TlsSession<tokio_rustls::client::TlsStream<Connection>>> {
        let (stream, details) = self.handshake_details(connection, peer).await?;
        events.emit(Event::TlsEstablished(Box::new(details)));
        Ok(stream)
    }

    /// The handshake, and what it settled.
    pub async fn handshake_details(
        &self,
        connection: Connection,
        peer: &Endpoint,
    ) -> Result<(
        TlsSession<tokio_rustls::client::TlsStream<Connection>>,
        TlsDetails,
    )> {
        let started = Instant::now();
        let connecting = self.connector.connect(self.name.clone(), connection);
        let stream = limit(connecting, peer).await?;
        let (_, connection) = stream.get_ref();
        let sni = match &self.name {
            ServerName::DnsName(name) => Some(name.as_ref().to_string()),
            _ => None,
        };
        let details = details(connection, peer, sni, self.verdict, started);
        Ok((TlsSession::new(stream), details))
    }
}

/// Where a checking client ([`TlsClient::checker`]) leaves the reason its
/// server's certificate failed verification; empty when it passed.
#[derive(Debug, Clone, Default)]
pub struct Verdict(Arc<std::sync::Mutex<Option<String>>>);

impl Verdict {
    /// The reason verification failed, if it did.
    pub fn failure(&self) -> Option<String> {
        self.0.lock().unwrap().clone()
    }
}

/// What `listen --tls` serves and requires.
#[derive(Debug, Clone, Default)]
pub struct ServerTlsOptions {
    /// The certificate chain and key to serve; without them, a self-signed
    /// certificate is made for `names`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Require client certificates signed by these roots (mutual TLS).
    pub client_ca: Option<PathBuf>,
    pub alpn: Vec<String>,
}

/// A server configuration, and the fingerprint of the certificate it serves.
pub struct TlsServer {
    acceptor: TlsAcceptor,
    pub fingerprint: Fingerprint,
    verdict: &'static str,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsServer({})", self.fingerprint)
    }
}

impl TlsServer {
    /// For a server listening on `listen`: without a certificate of the
    /// user's, one is made for every name a client may use to reach it
    /// (localhost, 127.0.0.1, ::1, the listen address, this host's name).
    /// A Unix socket has no address to put in it: its clients ask for
    /// localhost.
    pub fn for_address(options: &ServerTlsOptions, listen: &Endpoint) -> Result<TlsServer> {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
        if let Some(listen) = listen.ip() {
            let ip = listen.ip().to_string();
            if !listen.ip().is_unspecified() && !names.contains(&ip) {
                names.push(ip);
            }
        }
        if let Ok(host) = crate::addr::host_name(false) {
            names.push(host.hostname);
        }
        TlsServer::new(options, names)
    }

    /// Reads the files `options` names, or makes a certificate for `names`.
    pub fn new(options: &ServerTlsOptions, names: Vec<String>) -> Result<TlsServer> {
        let provider = provider();
        let (chain, key) = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => (certificates_from(cert)?, key_from(key)?),
            (None, None) => {
                let (cert, key) = self_signed(names)?;
                (vec![cert], key)
            }
            _ => {
                return Err(Error::Usage(
                    "--cert and --key go together: give both".into(),
                ));
            }
        };
        let fingerprint = Fingerprint::of(&chain[0]);
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Usage(format!("TLS: {e}")))?;
        let (builder, verdict) = match &options.client_ca {
            Some(path) => {
                let roots = Arc::new(roots_from(path)?);
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| tls_file(path, e))?;
                let verdict = "client certificate verified (--client-ca)";
                (builder.with_client_cert_verifier(verifier), verdict)
            }
            None => (
                builder.with_no_client_auth(),
                "no client certificate asked for",
            ),
        };
        let key_path = options
            .key
            .as_deref()
            .unwrap_or(Path::new("the generated key"));
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| tls_file(key_path, e))?;
        config.alpn_protocols = options.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        // No session tickets after the handshake. A client that only sends
        // (`socat -u`, `ncat --send-only`) never reads them, and a socket
        // closed with unread bytes sends RST instead of FIN: the upload
        // ended in "reset by the peer". Resumption would need the client to
        // come back within this process's life, which netcat-style clients
        // do not.
        config.send_tls13_tickets = 0;
        Ok(TlsServer {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            fingerprint,
            verdict,
        })
    }

    /// The server's half of the handshake with a client that just connected.
    pub async fn handshake(
        &self,
        connection: Connection,
        peer: &Endpoint,
        events: &Events,
    ) -> Result<TlsSession<tokio_rustls::server::TlsStream<Connection>>> {
        let started = Instant::now();
        let stream = limit(self.acceptor.accept(connection), peer).await?;
        let (_, connection) = stream.get_ref();
        let sni = connection.server_name().map(str::to_string);
        let details = details(connection, peer, sni, self.verdict, started);
        events.emit(Event::TlsEstablished(Box::new(details)));
        Ok(TlsSession::new(stream))
    }
}

/// Runs a handshake under [`HANDSHAKE_LIMIT`], explaining a failure.
async fn limit<S>(handshake: impl Future<Output = io::Result<S>>, peer: &Endpoint) -> Result<S> {
    let failed = |reason: String| Error::Tls {
        peer: peer.to_string(),
        reason,
    };
    match tokio::time::timeout(HANDSHAKE_LIMIT, handshake).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(failed(describe(&e))),
        Err(_) => Err(failed(format!(
            "no handshake within {} s: is the other side speaking TLS?",
            HANDSHAKE_LIMIT.as_secs()
        ))),
    }
}

/// A handshake's I/O error: rustls's own reason when there is one.
fn describe(e: &io::Error) -> String {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls) => explain(tls),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            "the other side closed during the handshake (a plaintext server, or it refused our certificate or name)".into()
        }
        None => e.to_string(),
    }
}

fn details<D>(
    connection: &rustls::ConnectionCommon<D>,
    peer: &Endpoint,
    server_name: Option<String>,
    verdict: &str,
    started: Instant,
) -> TlsDetails {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    };
    let cipher = connection
        .negotiated_cipher_suite()
        .map(|suite| format!("{:?}", suite.suite()))
        .unwrap_or_default();
    let alpn = connection
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let chain = connection
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .filter_map(|der| CertificateInfo::parse(der))
        .collect();
    TlsDetails {
        peer: peer.clone(),
        version,
        cipher,
        alpn,
        server_name,
        chain,
        verdict: verdict.to_string(),
        elapsed: started.elapsed(),
    }
}

fn tls_file(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::TlsFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn certificates_from(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| tls_file(path, format!("cannot read PEM certificates ({e})")))?;
    if certs.is_empty() {
        return Err(tls_file(
            path,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

fn key_from(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| tls_file(path, format!("holds no PEM private key ({e})")))
}

fn roots_from(path: &Path) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from(path)? {
        roots
            .add(cert)
            .map_err(|e| tls_file(path, format!("not a usable CA certificate ({e})")))?;
    }
    Ok(roots)
}

/// The system's trusted roots (Debian: /etc/ssl/certs from ca-certificates).
fn system_roots() -> Result<RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(Error::Usage(
            "this machine has no trusted CA certificates: apt-get install ca-certificates, or give --ca FILE or --pin"
                .into(),
        ));
    }
    Ok(roots)
}

/// A TLS stream with sockit's end-of-session rules.
///
/// Our half-close sends close_notify and then FIN (tokio-rustls's shutdown
/// does both). The peer's close_notify is end of file. A peer that closes
/// the TCP connection without close_notify after sending data may have been
/// cut off by an attacker or a crash, so that is an error (as curl reports
/// it); a bare FIN before any data (`ncat --ssl --recv-only`) is read as
/// the peer's half-close.
pub struct TlsSession<S> {
    inner: S,
    received_any: bool,
}

impl<S> TlsSession<S> {
    fn new(inner: S) -> Self {
        TlsSession {
            inner,
            received_any: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TlsSession<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match std::task::ready!(Pin::new(&mut self.inner).poll_read(cx, buf)) {
            Ok(()) => {
                self.received_any |= buf.filled().len() > before;
                Poll::Ready(Ok(()))
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !self.received_any => {
                Poll::Ready(Ok(()))
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Poll::Ready(Err(truncated())),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TlsSession<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The peer closed TCP without close_notify after sending data.
fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "it closed without TLS close_notify after sending data: what arrived may be cut short",
    )
}

impl Stream for TlsSession<tokio_rustls::client::TlsStream<Connection>> {
    fn into_tls_parts(self) -> std::result::Result<TlsParts, Self> {
        take_apart(self, |tls| tls.get_ref().0, |tls| tls.into_inner().1.into())
    }
}

impl Stream for TlsSession<tokio_rustls::server::TlsStream<Connection>> {
    fn into_tls_parts(self) -> std::result::Result<TlsParts, Self> {
        take_apart(self, |tls| tls.get_ref().0, |tls| tls.into_inner().1.into())
    }
}

/// A duplicate of the socket and the rustls state; the Tokio stream is
/// dropped (deregistered, its descriptor closed) once the duplicate exists.
fn take_apart<S>(
    session: TlsSession<S>,
    socket: impl FnOnce(&S) -> &Connection,
    connection: impl FnOnce(S) -> rustls::Connection,
) -> std::result::Result<TlsParts, TlsSession<S>> {
    let Ok(duplicate) = socket(&session.inner).as_fd().try_clone_to_owned() else {
        return Err(session);
    };
    Ok(TlsParts::new(duplicate, connection(session.inner)))
}
