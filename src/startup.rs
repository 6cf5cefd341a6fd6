//! What the binary links, chosen for start-up time: every lookup command is a
//! whole process (bench/lookups.sh compares it with getent), and each shared
//! library the dynamic loader maps costs about 0.13 ms on this kind of machine
//! (a C hello-world linked with libm and libgcc_s: 1.28 ms against 1.00 ms).
//!
//! - libgcc_s: std's unwinding and backtrace symbols. With `panic = "abort"`
//!   nothing unwinds, so the static copy of the same code (libgcc_eh.a, what
//!   `gcc -static-libgcc` uses) does; linked before std's `-lgcc_s`, it leaves
//!   the shared one unused and `--as-needed` drops it.
//! - libm: Tokio's scheduler statistics call `pow`, the only libm symbol the
//!   binary uses. The pure-Rust port of musl's `pow` provides it, so libm is
//!   dropped the same way.

#[link(name = "gcc_eh", kind = "static")]
unsafe extern "C" {}

/// `pow` from C's math library, for the one caller in Tokio.
#[unsafe(no_mangle)]
extern "C" fn pow(base: f64, exponent: f64) -> f64 {
    libm::pow(base, exponent)
}
