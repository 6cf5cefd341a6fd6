//! Ports: the 16-bit number that picks one program on a host.

use crate::error::{Error, Result};

/// What the port will be used for, because 0 means something only to `bind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortUse {
    /// Port 0 asks the operating system for any free port.
    Listen,
    /// Port 0 cannot be reached, so it is refused up front.
    Connect,
}

/// Parses a port number typed by a user, with an error that says the valid range.
pub fn parse_port(text: &str, purpose: PortUse) -> Result<u16> {
    let trimmed = text.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "invalid port {text:?}: a port is a number from 0 to 65535"
        )));
    }
    let port = match trimmed.parse::<u32>() {
        Ok(n) if n <= u32::from(u16::MAX) => n as u16,
        _ => {
            return Err(Error::Usage(format!(
                "port {trimmed} is out of range: ports go from 0 to 65535"
            )));
        }
    };
    if port == 0 && purpose == PortUse::Connect {
        return Err(Error::Usage(
            "port 0 cannot be connected to: give the port the server listens on".into(),
        ));
    }
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_whole_range() {
        assert_eq!(parse_port("0", PortUse::Listen).unwrap(), 0);
        assert_eq!(parse_port("65535", PortUse::Connect).unwrap(), 65535);
        assert_eq!(parse_port("080", PortUse::Connect).unwrap(), 80);
    }

    #[test]
    fn rejects_what_is_not_a_port() {
        for bad in ["", "-1", "65536", "99999999999", "http", "1.5", "+80"] {
            let err = parse_port(bad, PortUse::Listen).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains("65535"), "{err}");
        }
        assert!(parse_port("0", PortUse::Connect).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_port(&s, PortUse::Listen);
        }
    }
}
