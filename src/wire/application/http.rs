//! HTTP/1.x messages, read with httparse: a request's method, target,
//! version and Host header, or a response's status. Only the head of a
//! message is read; a head cut by the segment's end still gives what it has.

use serde::Serialize;

use super::Application;

const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];
/// Headers read before the Host header must have come.
const MAX_HEADERS: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Http {
    Request {
        method: String,
        uri: String,
        version: String,
        host: Option<String>,
    },
    Response {
        version: String,
        status: u16,
        reason: String,
    },
}

/// Whether the bytes begin an HTTP/1.x request or response.
pub fn looks_like(payload: &[u8]) -> bool {
    payload.starts_with(b"HTTP/1.") || METHODS.iter().any(|m| payload.starts_with(m))
}

pub fn decode(payload: &[u8]) -> Application<'static> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let version = |minor: Option<u8>| format!("HTTP/1.{}", minor.unwrap_or(1));
    if payload.starts_with(b"HTTP/") {
        let mut response = httparse::Response::new(&mut headers);
        return match response.parse(payload) {
            Ok(_) if response.code.is_some() => Application::Http(Http::Response {
                version: version(response.version),
                status: response.code.unwrap_or_default(),
                reason: response.reason.unwrap_or_default().to_string(),
            }),
            Ok(_) => malformed("the status line is cut short"),
            Err(e) => malformed(e.to_string()),
        };
    }
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(payload) {
        Ok(_) if request.path.is_some() => {
            let host = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("host"))
                .map(|h| String::from_utf8_lossy(h.value).into_owned());
            Application::Http(Http::Request {
                method: request.method.unwrap_or_default().to_string(),
                uri: request.path.unwrap_or_default().to_string(),
                version: version(request.version),
                host,
            })
        }
        Ok(_) => malformed("the request line is cut short"),
        Err(e) => malformed(e.to_string()),
    }
}

fn malformed(problem: impl Into<String>) -> Application<'static> {
    Application::Malformed {
        protocol: "HTTP",
        problem: problem.into(),
    }
}

impl Http {
    /// `GET /x (Host: example.org)` or `200 OK`.
    pub fn summary(&self) -> String {
        match self {
            Http::Request {
                method, uri, host, ..
            } => match host {
                Some(host) => format!("{method} {uri} (Host: {host})"),
                None => format!("{method} {uri}"),
            },
            Http::Response { status, reason, .. } => format!("{status} {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses() {
        let Application::Http(request) =
            decode(b"GET /index.html HTTP/1.1\r\nUser-Agent: x\r\nHost: example.org\r\n\r\n")
        else {
            panic!()
        };
        assert_eq!(request.summary(), "GET /index.html (Host: example.org)");
        // A head cut inside the headers still names the request.
        let Application::Http(cut) = decode(b"POST /form HTTP/1.0\r\nContent-Le") else {
            panic!()
        };
        assert_eq!(cut.summary(), "POST /form");
        let Application::Http(response) = decode(b"HTTP/1.0 404 File not found\r\n\r\n") else {
            panic!()
        };
        assert_eq!(response.summary(), "404 File not found");
        assert!(matches!(
            decode(b"GET \x01\x02"),
            Application::Malformed { .. }
        ));
    }
}
