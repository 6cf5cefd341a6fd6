//! sockit as a library, without its command line or the process's stdio:
//! an echo server on a port the kernel picks, and a client session whose
//! input and output are in-memory buffers. CI runs it.
//!
//!     cargo run --example embedded_echo

use sockit::shutdown::{StopReason, StopTrigger};
use sockit::transport::listener::Listener;
use sockit::transport::{
    self, ConnectOptions, Counters, Events, Input, Mode, Output, RelayEnd, ServeOptions,
    SessionEnd, SessionOptions, Target,
};
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // socket, bind, listen: port 0, so the kernel picks a free port.
    let listener = transport::bind_listener("127.0.0.1:0".parse()?, &Events::none())?;
    let port = listener.local_addr()?.port();
    let listener = Listener::tcp(listener)?;

    // accept, recv/send, close, for every client until told to stop.
    let stop = StopTrigger::new();
    let options = ServeOptions {
        mode: Mode::Echo,
        keep_open: true,
        ..ServeOptions::default()
    };
    let server = tokio::spawn({
        let stop = stop.clone();
        async move {
            let (input, output) = (Input::empty(), Output::discard());
            transport::serve(
                listener,
                &options,
                input,
                output,
                Counters::new(),
                Events::none(),
                stop,
            )
            .await
        }
    });

    // A client whose "stdin" is a byte string and whose "stdout" is a pipe
    // this program reads. Events narrate the client's side.
    let narration = Events::new(|event| eprintln!("client: {event:?}"));
    let (output, mut printed) = tokio::io::duplex(64 * 1024);
    let question = b"hello from Rust\n";
    let target = Target::Host {
        host: "127.0.0.1".into(),
        port,
    };
    let ended = transport::connect_and_relay(
        &target,
        &ConnectOptions::default(),
        Input::reader(&question[..]),
        Output::writer(output),
        &SessionOptions::default(),
        &Counters::new(),
        &narration,
        stop.subscribe(),
    )
    .await?;
    let mut echoed = Vec::new();
    printed.read_to_end(&mut echoed).await?;
    assert_eq!(ended, SessionEnd::Relay(RelayEnd::Finished));
    assert_eq!(echoed, question, "the server echoes exactly what it got");
    println!(
        "echoed by the server on port {port}: {}",
        String::from_utf8_lossy(&echoed).trim_end()
    );

    stop.fire(StopReason::Requested);
    let server_end = server.await??;
    assert_eq!(server_end, SessionEnd::Stopped(StopReason::Requested));
    Ok(())
}
