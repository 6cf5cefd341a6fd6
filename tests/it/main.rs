//! Integration tests: the real `sockit` binary over real loopback sockets,
//! against real peers (netcat-openbsd, ncat, socat, openssl, curl, python3). One module per feature.

mod helpers;
mod netns;

mod chat;
mod delivery;
mod echo;
mod errors;
mod exec;
mod idle;
mod interop;
mod json_records;
mod keep_open;
mod lookups;
mod ping;
mod proxy;
mod proxy_server;
mod relay;
mod route;
mod scan;
mod shipping;
mod sniff;
mod sniff_files;
mod tls;
mod tls_modes;
mod tls_peers;
mod trace;
mod tshark;
mod udp;
mod unix;
