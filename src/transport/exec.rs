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

use std::process::Stdio;

use super::endpoint::Endpoint;
use super::events::{Event, Events};
use super::io::{Input, Output};
use super::session::{SessionOptions, relay_one_client};
use super::stream::Stream;

/// Runs `command` for the client at `peer` and relays between them until
/// both are done, then reaps the program and reports its exit status.
pub async fn serve_program<S: Stream>(
    stream: S,
    peer: &Endpoint,
    local: &Endpoint,
    command: &str,
    session: &SessionOptions,
    events: &Events,
) {
    let mut program = tokio::process::Command::new("sh");
    program.arg("-c").arg(command);
    describe_ends(&mut program, peer, local);
    let spawned = program
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
            let peer = peer.clone();
            return events.emit(Event::ClientFailed { peer, reason });
        }
    };
    let pipes = (
        child.stdout.take().map(|out| out.into_owned_fd()),
        child.stdin.take().map(|input| input.into_owned_fd()),
    );
    let (Some(Ok(from_program)), Some(Ok(to_program))) = pipes else {
        let reason = "cannot take the program's stdin and stdout".to_string();
        let peer = peer.clone();
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
    let peer = peer.clone();
    events.emit(Event::ProgramExited {
        peer: peer.clone(),
        status,
    });
    events.emit(Event::Closed { peer, summary });
}

/// Tells the program who it serves, as inetd-style servers expect:
/// `SOCKIT_PEER_ADDR`/`_PORT` and `SOCKIT_LOCAL_ADDR`/`_PORT` for TCP; for
/// a Unix socket the ADDR variables hold the socket's name (empty for an
/// unnamed client), there is no port, and `SOCKIT_PEER_PID`/`_UID`/`_GID`
/// say which process connected.
fn describe_ends(program: &mut tokio::process::Command, peer: &Endpoint, local: &Endpoint) {
    for (prefix, end) in [("SOCKIT_PEER", peer), ("SOCKIT_LOCAL", local)] {
        match end {
            Endpoint::Ip(addr) => {
                program.env(format!("{prefix}_ADDR"), addr.ip().to_string());
                program.env(format!("{prefix}_PORT"), addr.port().to_string());
            }
            Endpoint::Unix(unix) => {
                let name = match unix.name {
                    super::endpoint::UnixName::Unnamed => String::new(),
                    ref named => named.to_string(),
                };
                program.env(format!("{prefix}_ADDR"), name);
                if let Some(credentials) = unix.credentials {
                    if let Some(pid) = credentials.pid {
                        program.env(format!("{prefix}_PID"), pid.to_string());
                    }
                    program.env(format!("{prefix}_UID"), credentials.uid.to_string());
                    program.env(format!("{prefix}_GID"), credentials.gid.to_string());
                }
            }
        }
    }
}
