//! `sockit tls`'s report: the agreement, each certificate of the chain, and
//! the verdict, or the same as one JSON object.

use std::fmt::Write as _;

use crate::tools::tls_check::TlsReport;

pub fn render(report: &TlsReport, json: bool) -> String {
    if json {
        return serde_json::to_string(report).unwrap_or_default() + "\n";
    }
    let mut out = format!(
        "{}:{}  {}, {}, ALPN {}\n",
        report.host,
        report.port,
        report.version,
        report.cipher,
        report.alpn.as_deref().unwrap_or("none")
    );
    for (i, cert) in report.chain.iter().enumerate() {
        let role = if i == 0 { " (leaf)" } else { "" };
        let _ = writeln!(out, "certificate {}{role}", i + 1);
        let _ = writeln!(out, "  subject   {}", cert.subject);
        let _ = writeln!(out, "  issuer    {}", cert.issuer);
        let _ = writeln!(
            out,
            "  valid     {} to {} ({} days left)",
            cert.not_before, cert.not_after, cert.days_left
        );
        let names = if cert.san.is_empty() {
            "none".to_string()
        } else {
            cert.san.join(", ")
        };
        let _ = writeln!(out, "  names     {names}");
        let _ = writeln!(
            out,
            "  sha256    {}",
            cert.sha256.to_string().trim_start_matches("sha256:")
        );
    }
    match (&report.error, report.verified) {
        (Some(reason), _) => {
            let _ = writeln!(out, "NOT verified: {reason}");
        }
        (None, true) => out.push_str("verified\n"),
        (None, false) => out.push_str("NOT verified: --insecure was given\n"),
    }
    out
}
