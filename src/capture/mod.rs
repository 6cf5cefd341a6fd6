//! Live capture: the I/O side of `sniff`. A packet socket on one interface
//! or all of them, the user's filter compiled by `wire::bpf` and run in the
//! kernel, frames handed to the pure decoders in `wire`.

pub mod live;

pub use live::{Captured, KernelCounts, LiveCapture};
