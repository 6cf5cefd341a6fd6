//! Serving a program (`listen --exec COMMAND`), inetd's way: each client
//! gets its own `sh -c COMMAND`, whose stdin is what the client sends and
//! whose stdout goes back to the client.
//!
//! The program is just another local side for the relay: its stdout is the
//! relay's input, its stdin the relay's output. So the relay's rules hold
//! (the program's exit sends FIN, the client's FIN is the program's end of
//! input), the splice path moves the bytes, and `--tls` works, since the
//! program never touches the socket. One rule differs: a program that stops
//! reading (closes stdin, or never reads and exits) only ends the client's
//! direction; what it still prints reaches the client.

use std::net::SocketAddr;
use std::process::Stdio;

use super::events::{Event, Events};
use super::io::{Input, Output};
use super::session::{SessionOptions, relay_one_client};
use super::stream::Stream;

/// Runs `command` for the client at `peer` and relays between them until
/// both are done, then reaps the program and reports its exit status.
pub async fn serve_program<S: Stream>(
    stream: S,
    peer: SocketAddr,
    local: SocketAddr,
    command: &str,
    session: &SessionOptions,
    events: &Events,
) {
    let spawned = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("SOCKIT_PEER_ADDR", peer.ip().to_string())
        .env("SOCKIT_PEER_PORT", peer.port().to_string())
        .env("SOCKIT_LOCAL_ADDR", local.ip().to_string())
        .env("SOCKIT_LOCAL_PORT", local.port().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // A server that stops (its task aborted) takes its programs along.
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let reason = format!("cannot run sh -c {command:?}: {e}");
            return events.emit(Event::ClientFailed { peer, reason });
        }
    };
    let pipes = (
        child.stdout.take().map(|out| out.into_owned_fd()),
        child.stdin.take().map(|input| input.into_owned_fd()),
    );
    let (Some(Ok(from_program)), Some(Ok(to_program))) = pipes else {
        let reason = "cannot take the program's stdin and stdout".to_string();
        return events.emit(Event::ClientFailed { peer, reason });
    };
    let options = SessionOptions {
        output_may_close: true,
        ..session.clone()
    };
    let input = Input::Fd(from_program);
    let output = Output::Fd(to_program);
    let summary = relay_one_client(stream, peer, input, output, &options, events).await;
    let status = match child.wait().await {
        Ok(status) => status.to_string(),
        Err(e) => format!("not known ({e})"),
    };
    events.emit(Event::ProgramExited { peer, status });
    events.emit(Event::Closed { peer, summary });
}
