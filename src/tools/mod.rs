//! The tools built on top of the transport layer, answering the two questions
//! the course asks before any data moves: is the host there ([`ping`]), and
//! which programs on it accept connections ([`scan`])?

pub mod ping;
pub mod scan;
pub mod sniff;
