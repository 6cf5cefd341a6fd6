//! The route this host's kernel would pick to reach an address: the
//! network layer's choice the course names, asked of the kernel itself
//! through rtnetlink, as `ip route get` asks it.
//!
//! Two RTM_GETROUTE questions: a plain one, whose answer is the route as it
//! would be used (outgoing interface, source address, gateway, MTU), and
//! one with RTM_F_FIB_MATCH, whose answer is the routing-table entry that
//! matched (`10.240.3.0/30`, or the default route).

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use serde::Serialize;

use crate::error::{Error, Result};

/// The kernel's answer for one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub destination: IpAddr,
    /// The outgoing interface's name.
    pub interface: String,
    /// The address the kernel would send from.
    pub source: Option<IpAddr>,
    /// The next hop; `None` when the destination is directly connected.
    pub gateway: Option<IpAddr>,
    /// The route's MTU, when it sets one.
    pub mtu: Option<u32>,
    /// The table entry that matched: `10.240.3.0/30`, or `default`.
    pub prefix: String,
}

/// What the kernel's answer to one question said.
#[derive(Default)]
struct Answer {
    interface: Option<u32>,
    source: Option<IpAddr>,
    gateway: Option<IpAddr>,
    mtu: Option<u32>,
    destination: Option<IpAddr>,
    prefix_len: u8,
}

/// Asks the kernel which route it would use for `destination`.
pub fn route_to(destination: IpAddr) -> Result<Route> {
    let socket = open().map_err(|e| Error::io("opening a netlink socket", e))?;
    let used = ask(&socket, destination, RouteFlags::empty())?;
    let matched = ask(&socket, destination, RouteFlags::FibMatch)?;
    let index = used.interface.ok_or_else(|| Error::NotFound {
        what: format!("the kernel's route to {destination} names no interface"),
        hint: "see `ip route get` for what the kernel says".into(),
    })?;
    let interface = nix::net::if_::if_indextoname(index)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("interface {index}"));
    let prefix = match (matched.destination, matched.prefix_len) {
        (_, 0) | (None, _) => "default".to_string(),
        (Some(network), len) => format!("{network}/{len}"),
    };
    Ok(Route {
        destination,
        interface,
        source: used.source,
        gateway: used.gateway,
        mtu: used.mtu.or(matched.mtu),
        prefix,
    })
}

fn open() -> std::io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    Ok(socket)
}

fn address(route: &RouteAddress) -> Option<IpAddr> {
    match route {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// One RTM_GETROUTE for `destination` with `flags`, and its answer.
fn ask(socket: &Socket, destination: IpAddr, flags: RouteFlags) -> Result<Answer> {
    let mut message = RouteMessage::default();
    message.header = RouteHeader {
        address_family: match destination {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        },
        destination_prefix_length: if destination.is_ipv4() { 32 } else { 128 },
        flags,
        ..RouteHeader::default()
    };
    message
        .attributes
        .push(RouteAttribute::Destination(destination.into()));
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST;
    let mut request = NetlinkMessage::new(
        header,
        NetlinkPayload::from(RouteNetlinkMessage::GetRoute(message)),
    );
    request.finalize();
    let mut bytes = vec![0; request.buffer_len()];
    request.serialize(&mut bytes);
    let failed = |e: std::io::Error| Error::io("asking the kernel for a route", e);
    socket.send(&bytes, 0).map_err(failed)?;
    let mut reply = vec![0; 16 * 1024];
    let size = socket.recv(&mut &mut reply[..], 0).map_err(failed)?;
    let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&reply[..size])
        .map_err(|e| failed(std::io::Error::other(e.to_string())))?;
    match message.payload {
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewRoute(route)) => Ok(read(&route)),
        NetlinkPayload::Error(error) => {
            let code = error.code.map_or(0, |c| -c.get());
            Err(match nix::errno::Errno::from_raw(code) {
                nix::errno::Errno::ENETUNREACH | nix::errno::Errno::EHOSTUNREACH => {
                    Error::NotFound {
                        what: format!("no route to {destination}: the kernel's tables have none"),
                        hint: "add one (ip route add ...), or check the address".into(),
                    }
                }
                _ => failed(std::io::Error::from_raw_os_error(code)),
            })
        }
        other => Err(failed(std::io::Error::other(format!(
            "an unexpected answer: {other:?}"
        )))),
    }
}

fn read(route: &RouteMessage) -> Answer {
    let mut answer = Answer {
        prefix_len: route.header.destination_prefix_length,
        ..Answer::default()
    };
    for attribute in &route.attributes {
        match attribute {
            RouteAttribute::Oif(index) => answer.interface = Some(*index),
            RouteAttribute::PrefSource(a) => answer.source = address(a),
            RouteAttribute::Gateway(a) => answer.gateway = address(a),
            RouteAttribute::Destination(a) => answer.destination = address(a),
            RouteAttribute::Metrics(metrics) => {
                for metric in metrics {
                    if let RouteMetric::Mtu(mtu) = metric {
                        answer.mtu = Some(*mtu);
                    }
                }
            }
            _ => {}
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_routed_on_lo() {
        let route = route_to("127.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(route.interface, "lo");
        assert_eq!(route.gateway, None);
        assert_eq!(route.source, Some("127.0.0.1".parse().unwrap()));
    }
}
