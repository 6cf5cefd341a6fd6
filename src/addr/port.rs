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

/// Parses a scan's port list: `22`, `1-1024`, `22,80,8000-8100`, or `-` for
/// every port from 1 to 65535 (nmap's `-p-`). The result is sorted, without
/// repeats. A reversed range, a number outside 0-65535 or an empty item is a
/// usage error that names the bad item.
pub fn parse_port_list(text: &str) -> Result<Vec<u16>> {
    let usage = |detail: String| {
        Error::Usage(format!(
            "invalid port list {text:?}: {detail}; write ports as 22, 1-1024, 22,80,8000-8100 or - for all"
        ))
    };
    let number = |item: &str| -> Result<u16> {
        parse_port(item, PortUse::Listen)
            .map_err(|_| usage(format!("{item:?} is not a port from 0 to 65535")))
    };
    if text.trim() == "-" {
        return Ok((1..=u16::MAX).collect());
    }
    let mut wanted = vec![false; usize::from(u16::MAX) + 1];
    for item in text.split(',') {
        let item = item.trim();
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { number(a)? },
                if b.is_empty() { u16::MAX } else { number(b)? },
            ),
            None if item.is_empty() => return Err(usage("an empty item".into())),
            None => {
                let port = number(item)?;
                (port, port)
            }
        };
        if first > last {
            return Err(usage(format!(
                "the range {item} is reversed; write {last}-{first}"
            )));
        }
        wanted[usize::from(first)..=usize::from(last)].fill(true);
    }
    Ok((0..=u16::MAX).filter(|&p| wanted[usize::from(p)]).collect())
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

    #[test]
    fn port_lists_as_nmap_writes_them() {
        assert_eq!(parse_port_list("22").unwrap(), vec![22]);
        assert_eq!(
            parse_port_list("22,80,8000-8002").unwrap(),
            vec![22, 80, 8000, 8001, 8002]
        );
        assert_eq!(
            parse_port_list("80,22,80,21-23").unwrap(),
            vec![21, 22, 23, 80]
        );
        assert_eq!(parse_port_list("-").unwrap().len(), 65535);
        assert_eq!(
            parse_port_list("65530-").unwrap(),
            (65530..=65535).collect::<Vec<u16>>()
        );
        assert_eq!(parse_port_list("-3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_port_list("0").unwrap(), vec![0]);
    }

    #[test]
    fn bad_port_lists_are_usage_errors_that_name_the_item() {
        for (bad, names) in [
            ("100-1", "reversed"),
            ("1-70000", "\"70000\""),
            ("22,,80", "empty"),
            ("http", "\"http\""),
            ("", "empty"),
            ("1-2-3", "\"2-3\""),
        ] {
            let err = parse_port_list(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains(names), "{bad}: {err}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_port(&s, PortUse::Listen);
            let _ = parse_port_list(&s);
        }
    }
}
