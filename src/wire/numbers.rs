//! The numbers protocols use to name each other, in one place: the
//! EtherType in a link header that says which network protocol follows, and
//! the IP protocol number that says which transport (or extension header)
//! follows. IANA keeps both registries; only the ones sockit decodes or
//! filters on are here.

/// EtherTypes (IEEE 802 numbers), in the link header.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// IP protocol numbers, in the IPv4 header's protocol field and IPv6's
/// next-header chain.
pub const PROTO_HOP_BY_HOP: u8 = 0;
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ROUTING: u8 = 43;
pub const PROTO_FRAGMENT: u8 = 44;
pub const PROTO_ICMPV6: u8 = 58;
pub const PROTO_DESTINATION_OPTIONS: u8 = 60;

/// ARP operations.
pub const ARP_REQUEST: u16 = 1;
pub const ARP_REPLY: u16 = 2;

/// The EtherType's usual name.
pub fn ethertype_name(ethertype: u16) -> &'static str {
    match ethertype {
        ETHERTYPE_IPV4 => "IPv4",
        ETHERTYPE_IPV6 => "IPv6",
        ETHERTYPE_ARP => "ARP",
        ETHERTYPE_VLAN => "VLAN",
        _ => "other",
    }
}

/// The IP protocol's usual name.
pub fn protocol_name(protocol: u8) -> &'static str {
    match protocol {
        PROTO_ICMP => "ICMP",
        PROTO_TCP => "TCP",
        PROTO_UDP => "UDP",
        PROTO_ICMPV6 => "ICMPv6",
        _ => "other",
    }
}
