//! listen and connect, TCP and UDP, over IP or Unix sockets: the transport
//! layer's tools.

use std::sync::Arc;
use std::time::Duration;

use sockit::addr::{PortUse, listen_address, parse_port};
use sockit::output::{narrate, progress::Progress};
use sockit::shutdown::StopReason;
use sockit::tools::tls_check;
use sockit::transport::endpoint::UnixName;
use sockit::transport::listener::Listener;
use sockit::transport::proxy::{self, ProxyRules, ProxyUrl};
use sockit::transport::tls::{
    ClientTlsOptions, Fingerprint, ServerTlsOptions, TlsClient, TlsServer,
};
use sockit::transport::udp::{self, socket::DatagramSocket};
use sockit::transport::{
    self, ConnectOptions, Counters, Endpoint, Events, Input, Mode, Output, ServeOptions,
    SessionEnd, SessionOptions, Target, unix,
};
use sockit::{Error, Result};

use super::{finish, runtime, seconds, signal_trigger};
use crate::cli::{
    CommonArgs, ConnectArgs, ConnectTlsArgs, ListenArgs, ListenTlsArgs, ProxyArgs, TlsArgs,
};

/// `[HOST] PORT` as listen and proxy take it, and `--max-conns` checked.
fn server_address(
    address: &[String],
    max_conns: Option<usize>,
    common: &CommonArgs,
) -> Result<std::net::SocketAddr> {
    let (host, port) = match address {
        [port] => (None, port),
        [host, port] => (Some(host.as_str()), port),
        _ => unreachable!("clap takes one or two values"),
    };
    let port = parse_port(port, PortUse::Listen)?;
    if max_conns == Some(0) {
        return Err(Error::Usage(
            "--max-conns 0 would refuse every client: give 1 or more".into(),
        ));
    }
    listen_address(host, port, common.family.family())
}

/// listen's address: an IP address and port, or with -U a Unix socket.
fn listen_endpoint(args: &ListenArgs) -> Result<Endpoint> {
    if !args.unix {
        return server_address(&args.address, args.max_conns, &args.common).map(Endpoint::Ip);
    }
    match args.address.as_slice() {
        [name] if !name.is_empty() => Ok(Endpoint::unix(UnixName::parse(name))),
        _ => Err(Error::Usage(
            "-U takes one address, the socket's path or @NAME: sockit listen -U /tmp/app.sock"
                .into(),
        )),
    }
}

/// `--mode 600`: permissions in octal, as chmod takes them.
fn socket_mode(mode: Option<&str>) -> Result<Option<u32>> {
    let Some(text) = mode else {
        return Ok(None);
    };
    match u32::from_str_radix(text, 8) {
        Ok(mode) if mode <= 0o7777 => Ok(Some(mode)),
        _ => Err(Error::Usage(format!(
            "--mode {text:?}: give the permissions in octal, as chmod takes them (600, 660, 666)"
        ))),
    }
}

pub fn listen(args: ListenArgs) -> Result<i32> {
    let common = &args.common;
    let place = listen_endpoint(&args)?;
    let mode = socket_mode(args.mode.as_deref())?;
    let options = ServeOptions {
        mode: if args.echo {
            Mode::Echo
        } else if args.chat {
            Mode::Chat
        } else {
            Mode::Relay
        },
        keep_open: args.keep_open,
        max_conns: args.max_conns,
        session: session_options(common)?,
        keepalive: keepalive(common)?,
        tls: None,
        exec: args.exec.as_deref().map(Arc::from),
        proxy: None,
    };
    if let Some(addr) = place.ip()
        && options.exec.is_some()
        && !addr.ip().is_loopback()
    {
        eprintln!(
            "warning: anyone who can reach {addr} runs this command (--exec); listen on 127.0.0.1 to keep it to this machine"
        );
    }
    let events = events(common);
    if args.udp {
        return listen_datagrams(&place, mode, args.echo, &events);
    }
    let mut options = options;
    if args.tls.tls {
        let server = tls_server(&args.tls, &place)?;
        if common.verbose {
            eprintln!("certificate {}", server.fingerprint);
        }
        options.tls = Some(Arc::new(server));
    }
    let one_relay = options.mode == Mode::Relay && !options.keep_open && options.exec.is_none();
    serve(&place, mode, options, common, events, one_relay)
}

/// `sockit proxy`: a keep-open server whose service is the tunnel.
pub fn proxy(args: ProxyArgs) -> Result<i32> {
    let common = &args.common;
    let addr = server_address(&args.address, args.max_conns, common)?;
    let login = match &args.auth {
        None => None,
        Some(auth) => match auth.split_once(':') {
            Some((user, pass)) if !user.is_empty() => Some((user.to_string(), pass.to_string())),
            _ => {
                return Err(Error::Usage(format!(
                    "--auth {auth:?}: give it as USER:PASS"
                )));
            }
        },
    };
    let allow = args
        .allow
        .iter()
        .map(|cidr| {
            cidr.parse::<ipnet::IpNet>()
                .or_else(|_| cidr.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    Error::Usage(format!(
                        "--allow {cidr:?} is not a network: write it as 10.0.0.0/8, 2001:db8::/32 or one address"
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let options = ServeOptions {
        keep_open: true,
        max_conns: args.max_conns,
        session: session_options(common)?,
        keepalive: keepalive(common)?,
        proxy: Some(Arc::new(ProxyRules { login, allow })),
        ..ServeOptions::default()
    };
    serve(
        &Endpoint::Ip(addr),
        None,
        options,
        common,
        events(common),
        false,
    )
}

/// Binds `place` (a Unix socket file with `mode`) and serves until done;
/// `one_relay` when the session is one client's relay with our stdin and
/// stdout (progress then applies).
fn serve(
    place: &Endpoint,
    mode: Option<u32>,
    options: ServeOptions,
    common: &CommonArgs,
    events: Events,
    one_relay: bool,
) -> Result<i32> {
    if options.keep_open {
        sockit::sys::raise_open_file_limit();
    }
    let runtime = runtime()?;
    let counters = Counters::new();
    let progress = progress(common, &counters, one_relay);
    let ended = runtime.block_on(async {
        // Signals are ours before the socket exists: a SIGINT right after
        // `listening on` must still end the server its way (removing a
        // Unix socket's file), not by the default action.
        let trigger = signal_trigger()?;
        let listener = match place {
            Endpoint::Ip(addr) => Listener::tcp(transport::bind_listener(*addr, &events)?)?,
            Endpoint::Unix(socket) => {
                let bound = unix::bind_stream_listener(&socket.name, mode, &events)?;
                Listener::unix(bound, socket.name.clone())?
            }
        };
        let (input, output) = stdio()?;
        let counters = Arc::clone(&counters);
        transport::serve(listener, &options, input, output, counters, events, trigger).await
    });
    finish(runtime, progress);
    Ok(exit_code(ended?, options.keep_open))
}

/// A datagram server runs until stopped, like a keep-open one: a signal is
/// its normal end.
fn listen_datagrams(
    place: &Endpoint,
    mode: Option<u32>,
    echo: bool,
    events: &Events,
) -> Result<i32> {
    let runtime = runtime()?;
    let ended = runtime.block_on(async {
        let trigger = signal_trigger()?; // before the socket: see `serve`
        let registering = |e| Error::io("registering the socket", e);
        // Held to the end: dropping it removes the socket file.
        let mut _file = None;
        let socket = match place {
            Endpoint::Ip(addr) => {
                let socket = transport::bind_datagram(*addr, events)?;
                DatagramSocket::Udp(tokio::net::UdpSocket::from_std(socket).map_err(registering)?)
            }
            Endpoint::Unix(socket) => {
                let bound = unix::bind_datagram(&socket.name, mode, events)?;
                _file = bound.file;
                let socket = std::os::unix::net::UnixDatagram::from(bound.socket);
                DatagramSocket::Unix(
                    tokio::net::UnixDatagram::from_std(socket).map_err(registering)?,
                )
            }
        };
        let (input, output) = stdio()?;
        udp::server::serve(socket, echo, input, output, events.clone(), trigger).await
    });
    finish(runtime, None);
    Ok(exit_code(ended?, true))
}

pub fn connect(args: ConnectArgs) -> Result<i32> {
    let target = connect_target(&args)?;
    let common = &args.common;
    if args.udp {
        return connect_udp(&target, common, args.broadcast);
    }
    // A Unix socket's path is no TLS server name; a local server's
    // certificate names localhost (as `listen -U --tls` makes it).
    let server_name = match &target {
        Target::Host { host, .. } => host.as_str(),
        Target::Unix(_) => "localhost",
    };
    let options = ConnectOptions {
        family: common.family.family(),
        timeout: wait(common)?,
        keepalive: keepalive(common)?,
        tls: tls_client(&args.tls, server_name)?.map(Arc::new),
        proxies: match &target {
            Target::Host { host, .. } => proxies(&args.proxy, args.no_proxy, host)?,
            Target::Unix(_) => Vec::new(),
        },
    };
    let session = session_options(common)?;
    let events = events(common);
    let runtime = runtime()?;
    let counters = Counters::new();
    let progress = progress(common, &counters, true);
    let ended = runtime.block_on(async {
        let stop = signal_trigger()?.subscribe();
        let (input, output) = stdio()?;
        transport::connect_and_relay(
            &target, &options, input, output, &session, &counters, &events, stop,
        )
        .await
    });
    finish(runtime, progress);
    Ok(exit_code(ended?, false))
}

/// `--proxy` URLs in order, else ALL_PROXY's (unless NO_PROXY exempts
/// `host`), unless `--no-proxy`.
fn proxies(urls: &[String], no_proxy: bool, host: &str) -> Result<Vec<ProxyUrl>> {
    if no_proxy {
        return Ok(Vec::new());
    }
    if urls.is_empty() {
        return Ok(proxy::from_environment(host)?.into_iter().collect());
    }
    urls.iter().map(|url| url.parse()).collect()
}

/// `HOST PORT`, or with -U the socket's path or @NAME (and no port).
fn connect_target(args: &ConnectArgs) -> Result<Target> {
    if !args.unix {
        let port = args.port.as_deref().unwrap_or_default();
        let port = parse_port(port, PortUse::Connect)?;
        let host = args.host.clone();
        return Ok(Target::Host { host, port });
    }
    if let Some(port) = &args.port {
        return Err(Error::Usage(format!(
            "-U takes no port ({port:?}): give only the socket's path, sockit connect -U /tmp/app.sock"
        )));
    }
    if args.host.is_empty() {
        return Err(Error::Usage("-U needs the socket's path or @NAME".into()));
    }
    Ok(Target::Unix(UnixName::parse(&args.host)))
}

fn connect_udp(target: &Target, common: &CommonArgs, broadcast: bool) -> Result<i32> {
    let options = udp::client::UdpClientOptions {
        family: common.family.family(),
        broadcast,
        linger: wait(common)?.unwrap_or(udp::client::DEFAULT_LINGER),
    };
    let events = events(common);
    let runtime = runtime()?;
    let ended = runtime.block_on(async {
        let trigger = signal_trigger()?;
        udp::client::run(target, &options, stdio()?, &events, &trigger).await
    });
    finish(runtime, None);
    Ok(exit_code(ended?, false))
}

/// 0 for every normal end. A signal that cuts a one-shot transfer short
/// gives the shell's 128+N, so scripts can tell an incomplete copy; for a
/// keep-open server a signal is the normal way to stop, hence 0.
fn exit_code(ended: SessionEnd, keep_open: bool) -> i32 {
    match ended {
        SessionEnd::Stopped(StopReason::Signal(signal)) if !keep_open => match signal {
            "SIGTERM" => 143,
            _ => 130,
        },
        _ => 0,
    }
}

fn wait(common: &CommonArgs) -> Result<Option<Duration>> {
    common
        .wait
        .map(|secs| seconds("-w", secs, false))
        .transpose()
}

fn session_options(common: &CommonArgs) -> Result<SessionOptions> {
    Ok(SessionOptions {
        idle_timeout: wait(common)?,
        send_fin: !common.no_shutdown,
        output_may_close: false,
    })
}

/// TCP counts keepalive times in whole seconds, from 1.
fn keepalive(common: &CommonArgs) -> Result<Option<Duration>> {
    let Some(secs) = common.keepalive else {
        return Ok(None);
    };
    let after = seconds("--keepalive", secs, false)?;
    if after < Duration::from_secs(1) {
        return Err(Error::Usage(format!(
            "--keepalive {secs}: TCP counts keepalive time in whole seconds; give 1 or more"
        )));
    }
    Ok(Some(after))
}

/// `sockit tls`: one check, its report, 0 when verified.
pub fn tls(args: TlsArgs) -> Result<i32> {
    let port = parse_port(&args.port, PortUse::Connect)?;
    let connect_options = ConnectOptions {
        family: args.family.family(),
        timeout: Some(seconds("-w", args.wait, false)?),
        ..ConnectOptions::default()
    };
    let tls_options = ClientTlsOptions {
        ca: args.ca.clone(),
        server_name: args.servername.clone(),
        alpn: args.alpn.clone(),
        ..ClientTlsOptions::default()
    };
    let runtime = runtime()?;
    let report = runtime.block_on(tls_check::check(
        &args.host,
        port,
        &connect_options,
        &tls_options,
        &Events::none(),
    ));
    finish(runtime, None);
    let report = report?;
    sockit::output::emit_text(&sockit::output::tls::render(&report, args.output.json));
    Ok(if report.verified { 0 } else { 1 })
}

/// connect's TLS configuration, when --tls is given.
fn tls_client(args: &ConnectTlsArgs, host: &str) -> Result<Option<TlsClient>> {
    if !args.tls {
        return Ok(None);
    }
    if args.insecure {
        eprintln!(
            "sockit: warning: --insecure: the server's certificate is not checked; anyone on the path can read and change this session"
        );
    }
    let options = ClientTlsOptions {
        ca: args.ca.clone(),
        server_name: args.servername.clone(),
        alpn: args.alpn.clone(),
        cert: args.cert.clone(),
        key: args.key.clone(),
        pin: args
            .pin
            .as_deref()
            .map(str::parse::<Fingerprint>)
            .transpose()?,
        insecure: args.insecure,
    };
    TlsClient::new(&options, host).map(Some)
}

/// listen's TLS configuration.
fn tls_server(args: &ListenTlsArgs, place: &Endpoint) -> Result<TlsServer> {
    let options = ServerTlsOptions {
        cert: args.cert.clone(),
        key: args.key.clone(),
        client_ca: args.client_ca.clone(),
        alpn: args.alpn.clone(),
    };
    TlsServer::for_address(&options, place)
}

/// The process's stdin and stdout, as the session's local side.
fn stdio() -> Result<(Input, Output)> {
    let input = Input::stdin().map_err(|e| Error::io("opening standard input", e))?;
    let output = Output::stdout().map_err(|e| Error::io("opening standard output", e))?;
    Ok((input, output))
}

fn events(common: &CommonArgs) -> Events {
    if common.verbose {
        narrate::to_stderr()
    } else {
        Events::none()
    }
}

fn progress(common: &CommonArgs, counters: &Arc<Counters>, applies: bool) -> Option<Progress> {
    if applies {
        Progress::for_stdin(Arc::clone(counters), common.progress)
    } else {
        None
    }
}
