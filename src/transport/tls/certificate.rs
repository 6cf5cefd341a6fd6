//! Certificates as a user reads them: the SHA-256 fingerprint to pin, the
//! subject, issuer, validity and names to check, and a self-signed one made
//! on the spot for `listen --tls` without `--cert`.

use std::fmt;
use std::str::FromStr;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::Serialize;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};

/// SHA-256 of a certificate's DER bytes, shown as `sha256:` and 64
/// lowercase hex digits (what `openssl x509 -fingerprint -sha256` shows,
/// without the colons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Fingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Fingerprint(bytes)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// `sha256:HEX`, the hex in either case, with or without colons.
    fn from_str(text: &str) -> Result<Fingerprint> {
        let bad = || {
            Error::Usage(format!(
                "--pin {text:?}: give sha256: and the 64 hex digits of the certificate's SHA-256 (sockit listen --tls -v prints it)"
            ))
        };
        let hex: String = text
            .strip_prefix("sha256:")
            .ok_or_else(bad)?
            .chars()
            .filter(|c| *c != ':')
            .collect();
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(bytes))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a certificate says about itself, for `-v` and `sockit tls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    /// Whole days until `not_after`; negative once expired.
    pub days_left: i64,
    /// The subject alternative names: DNS names and IP addresses.
    pub san: Vec<String>,
    pub sha256: Fingerprint,
}

impl CertificateInfo {
    /// Reads `der`; None when it is not a certificate x509-parser can read.
    pub fn parse(der: &[u8]) -> Option<CertificateInfo> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let validity = cert.validity();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let not_after = validity.not_after.timestamp();
        let san = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|ext| ext.value.general_names.iter().filter_map(name).collect())
            .unwrap_or_default();
        Some(CertificateInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: rfc3339(validity.not_before.timestamp()),
            not_after: rfc3339(not_after),
            days_left: (not_after - now).div_euclid(86_400),
            san,
            sha256: Fingerprint::of(der),
        })
    }
}

fn name(general: &GeneralName<'_>) -> Option<String> {
    match general {
        GeneralName::DNSName(dns) => Some(dns.to_string()),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string()),
            16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Seconds since the epoch as RFC 3339 in UTC (`2026-11-30T18:28:51Z`).
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{unix} s after 1970"))
}

/// A certificate and key made now, valid for `names` (DNS names or IP
/// addresses) from a day ago (clocks differ) for a year, signed by itself.
pub fn self_signed(
    names: Vec<String>,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
    let failed =
        |e: rcgen::Error| Error::io("making a self-signed certificate", std::io::Error::other(e));
    let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sockit self-signed");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(365);
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;
    let key = PrivatePkcs8KeyDer::from(key.serialize_der());
    Ok((cert.der().clone(), key.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_back_as_written() {
        let print = Fingerprint::of(b"not really a certificate");
        let shown = print.to_string();
        assert_eq!(shown.len(), "sha256:".len() + 64);
        assert_eq!(shown.parse::<Fingerprint>().unwrap(), print);
        let upper_with_colons = format!(
            "sha256:{}",
            print
                .0
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":")
        );
        assert_eq!(upper_with_colons.parse::<Fingerprint>().unwrap(), print);
        assert!("md5:abcd".parse::<Fingerprint>().is_err());
        assert!("sha256:abcd".parse::<Fingerprint>().is_err());
    }

    #[test]
    fn a_self_signed_certificate_names_what_it_was_made_for() {
        let (cert, _) =
            self_signed(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]).unwrap();
        let info = CertificateInfo::parse(&cert).unwrap();
        assert_eq!(info.san, ["localhost", "127.0.0.1", "::1"]);
        assert!((363..=365).contains(&info.days_left), "{info:?}");
        assert_eq!(info.subject, "CN=sockit self-signed");
        assert_eq!(info.sha256, Fingerprint::of(&cert));
    }
}
