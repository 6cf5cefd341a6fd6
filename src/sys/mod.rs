//! The operating-system corner: limits the tools must raise, and the one
//! place allowed `unsafe`, for system calls no safe crate wraps.

pub mod c_names;
pub mod hostent;
pub mod libpcap;
mod limits;
pub mod local_time;
pub mod packet_socket;
pub mod path_mtu;
pub mod tcp_info;

pub use limits::raise_open_file_limit;
