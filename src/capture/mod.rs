//! Live capture: the I/O side of `sniff`. A packet socket on one interface
//! or all of them, the user's filter compiled (by `wire::bpf` for the
//! shorthands, by libpcap for an expression) and run in the kernel, frames
//! handed to the pure decoders in `wire`.

pub mod expression;
pub mod live;

pub use expression::Expression;

pub use live::{Captured, KernelCounts, LiveCapture};
