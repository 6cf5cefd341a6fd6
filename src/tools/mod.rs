//! The tools built on top of the lower layers. Two answer the questions the
//! course asks before any data moves: is the host there ([`ping`]), and which
//! programs on it accept connections ([`scan`])? [`trace`] shows the routers
//! between here and there; [`sniff`] shows what moves on the wire; the last
//! checks a server's presentation layer ([`tls_check`]).

pub mod ping;
pub mod scan;
pub mod sniff;
pub mod tls_check;
pub mod trace;
