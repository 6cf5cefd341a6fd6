//! Deciding whether to trust the server, and saying why not in plain words.
//!
//! Three policies: the system's (or `--ca`'s) roots with the name checked,
//! the way browsers and curl decide; a pin (`--pin sha256:...`), which
//! accepts exactly one certificate whoever signed it, the sound way to trust
//! a self-signed server; and `--insecure`, which accepts anything. Under
//! every policy the server must still prove it holds the certificate's key
//! (the handshake signature is always checked).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::certificate::{Fingerprint, rfc3339};

#[derive(Debug)]
pub(super) enum Policy {
    Roots(Arc<WebPkiServerVerifier>),
    Pin(Fingerprint),
    Insecure,
}

#[derive(Debug)]
pub(super) struct Verifier {
    pub policy: Policy,
    pub provider: Arc<CryptoProvider>,
    /// For `sockit tls`: judge the certificate, write the verdict here, and
    /// let the handshake finish anyway, so the whole chain can be shown. No
    /// session data is ever sent on such a connection.
    pub record: Option<Arc<std::sync::Mutex<Option<String>>>>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let judged = match &self.policy {
            Policy::Roots(roots) => {
                roots.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            Policy::Pin(pin) => {
                let presented = Fingerprint::of(end_entity);
                if presented == *pin {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General(format!(
                        "its certificate is {presented}, not the pinned {pin}"
                    )))
                }
            }
            Policy::Insecure => Ok(ServerCertVerified::assertion()),
        };
        match (&self.record, judged) {
            (Some(record), Err(e)) => {
                *record.lock().unwrap() = Some(explain(&e));
                Ok(ServerCertVerified::assertion())
            }
            (_, judged) => judged,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, signature, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, signature, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Why a handshake failed, in words a user can act on.
pub fn explain(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(problem) => explain_certificate(problem),
        rustls::Error::General(reason) => reason.clone(),
        rustls::Error::InvalidMessage(_) => {
            "the other side does not speak TLS (a plaintext port?): drop --tls, or check the port"
                .into()
        }
        rustls::Error::AlertReceived(alert) => format!(
            "the other side refused the handshake ({alert:?}): it may want a client certificate (--cert/--key), another name (--servername) or another protocol (--alpn)"
        ),
        rustls::Error::NoApplicationProtocol => "no ALPN protocol in common: check --alpn".into(),
        other => other.to_string(),
    }
}

/// webpki presents names as `DnsName("example.org")` or
/// `IpAddress(127.0.0.1)`: the user wants `example.org`.
fn bare_name(presented: &str) -> &str {
    match presented.split_once('(') {
        Some((_, rest)) => rest.trim_end_matches(')').trim_matches('"'),
        None => presented,
    }
}

fn explain_certificate(problem: &CertificateError) -> String {
    match problem {
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "its certificate expired on {}: renew it on the server, or --pin it to trust it anyway",
            rfc3339(not_after.as_secs() as i64)
        ),
        CertificateError::Expired => {
            "its certificate has expired: renew it on the server, or --pin it to trust it anyway"
                .into()
        }
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "its certificate is not valid until {}: check this machine's clock (date)",
            rfc3339(not_before.as_secs() as i64)
        ),
        CertificateError::NotValidYet => {
            "its certificate is not valid yet: check this machine's clock (date)".into()
        }
        CertificateError::NotValidForNameContext { expected, presented } => format!(
            "its certificate is not valid for {}: it is valid for {}; connect by one of those names or give --servername",
            expected.to_str(),
            if presented.is_empty() {
                "no name at all".to_string()
            } else {
                presented.iter().map(|n| bare_name(n)).collect::<Vec<_>>().join(", ")
            }
        ),
        CertificateError::NotValidForName => {
            "its certificate is not valid for that name: connect by a name it names, or give --servername".into()
        }
        CertificateError::UnknownIssuer => {
            "its certificate is self-signed or signed by an issuer this machine does not trust: give --ca FILE with that issuer, or --pin sha256:... to trust this certificate".into()
        }
        CertificateError::BadSignature => "its certificate's signature does not verify".into(),
        CertificateError::Revoked => "its certificate has been revoked".into(),
        other => format!("its certificate was refused: {other:?}"),
    }
}
