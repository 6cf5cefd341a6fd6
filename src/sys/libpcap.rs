//! libpcap, loaded at run time, for the one thing sockit asks of it:
//! compiling tcpdump's filter language (pcap-filter(7)) into a classic BPF
//! program, and running such a program over a frame.
//!
//! libpcap defines what a filter expression means, so sockit uses its
//! compiler rather than a second implementation that would differ at the
//! edges. It is opened with dlopen only when an expression is given: the
//! build needs no libpcap-dev, and every machine with tcpdump or tshark
//! already has `libpcap.so.0.8` (Debian's libpcap0.8 package).

#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int, c_uint, c_void};
use std::sync::OnceLock;

use libloading::{Library, Symbol};

/// The sonames to try, Debian's first.
const SONAMES: [&str; 3] = ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so"];
/// PCAP_NETMASK_UNKNOWN: "ip broadcast" cannot be compiled without a netmask.
const NETMASK_UNKNOWN: u32 = 0xffff_ffff;

/// One instruction as `struct bpf_insn` (and the kernel's `sock_filter`) lays it out.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInstruction {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

#[repr(C)]
struct BpfProgram {
    len: c_uint,
    instructions: *mut BpfInstruction,
}

#[repr(C)]
struct PacketHeader {
    seconds: libc::time_t,
    micros: libc::suseconds_t,
    captured: u32,
    length: u32,
}

type OpenDead = unsafe extern "C" fn(c_int, c_int) -> *mut c_void;
type Compile =
    unsafe extern "C" fn(*mut c_void, *mut BpfProgram, *const c_char, c_int, u32) -> c_int;
type GetError = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type FreeCode = unsafe extern "C" fn(*mut BpfProgram);
type Close = unsafe extern "C" fn(*mut c_void);
type OfflineFilter =
    unsafe extern "C" fn(*const BpfProgram, *const PacketHeader, *const u8) -> c_int;

struct Functions {
    open_dead: OpenDead,
    compile: Compile,
    get_error: GetError,
    free_code: FreeCode,
    close: Close,
    offline_filter: OfflineFilter,
    /// Keeps the functions above loaded.
    _library: Library,
}

/// Why an expression could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// No libpcap on this machine.
    Missing,
    /// libpcap's own message (e.g. "syntax error").
    Invalid(String),
}

fn load() -> Result<Functions, String> {
    let mut last = String::new();
    for soname in SONAMES {
        // SAFETY: loading libpcap runs no initialisers with requirements on us.
        match unsafe { Library::new(soname) } {
            Ok(library) => return functions(library).map_err(|e| e.to_string()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

fn functions(library: Library) -> Result<Functions, libloading::Error> {
    // SAFETY: the types match libpcap's declarations in pcap/pcap.h.
    unsafe {
        let open_dead: Symbol<OpenDead> = library.get(b"pcap_open_dead\0")?;
        let compile: Symbol<Compile> = library.get(b"pcap_compile\0")?;
        let get_error: Symbol<GetError> = library.get(b"pcap_geterr\0")?;
        let free_code: Symbol<FreeCode> = library.get(b"pcap_freecode\0")?;
        let close: Symbol<Close> = library.get(b"pcap_close\0")?;
        let offline_filter: Symbol<OfflineFilter> = library.get(b"pcap_offline_filter\0")?;
        Ok(Functions {
            open_dead: *open_dead,
            compile: *compile,
            get_error: *get_error,
            free_code: *free_code,
            close: *close,
            offline_filter: *offline_filter,
            _library: library,
        })
    }
}

fn library() -> Option<&'static Functions> {
    static LIBRARY: OnceLock<Option<Functions>> = OnceLock::new();
    LIBRARY.get_or_init(|| load().ok()).as_ref()
}

/// A compiled filter, owned by libpcap's allocator until dropped.
pub struct Program {
    program: BpfProgram,
    functions: &'static Functions,
}

// SAFETY: the program is plain memory that libpcap only reads after compiling it.
unsafe impl Send for Program {}
unsafe impl Sync for Program {}

impl Program {
    /// Compiles `expression` for frames of pcap link type `link`, as
    /// `tcpdump -y`/`-r` would with a snapshot length of `snaplen`.
    pub fn compile(expression: &str, link: u32, snaplen: u32) -> Result<Program, CompileError> {
        let functions = library().ok_or(CompileError::Missing)?;
        let text = CString::new(expression)
            .map_err(|_| CompileError::Invalid("the expression contains a NUL byte".into()))?;
        // SAFETY: a dead handle only carries the link type and snapshot length;
        // it is closed on every path below, after its error text is copied.
        unsafe {
            let handle = (functions.open_dead)(link as c_int, snaplen as c_int);
            if handle.is_null() {
                return Err(CompileError::Invalid("libpcap could not start".into()));
            }
            let mut program = BpfProgram {
                len: 0,
                instructions: std::ptr::null_mut(),
            };
            let rc = (functions.compile)(handle, &mut program, text.as_ptr(), 1, NETMASK_UNKNOWN);
            let result = if rc == 0 {
                Ok(Program { program, functions })
            } else {
                let message = CStr::from_ptr((functions.get_error)(handle));
                Err(CompileError::Invalid(
                    message.to_string_lossy().trim().to_string(),
                ))
            };
            (functions.close)(handle);
            result
        }
    }

    pub fn instructions(&self) -> &[BpfInstruction] {
        if self.program.instructions.is_null() {
            return &[];
        }
        // SAFETY: libpcap allocated `len` instructions there; they live until drop.
        unsafe { std::slice::from_raw_parts(self.program.instructions, self.program.len as usize) }
    }

    /// Runs the program over a frame of which `frame` was captured and
    /// `wire_len` bytes were on the wire: true when it is accepted.
    pub fn matches(&self, frame: &[u8], wire_len: u32) -> bool {
        let header = PacketHeader {
            seconds: 0,
            micros: 0,
            captured: frame.len() as u32,
            length: wire_len.max(frame.len() as u32),
        };
        // SAFETY: libpcap's interpreter reads at most `captured` bytes of the frame.
        unsafe { (self.functions.offline_filter)(&self.program, &header, frame.as_ptr()) != 0 }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: the program came from pcap_compile and is freed once.
        unsafe { (self.functions.free_code)(&mut self.program) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_runs_tcpdumps_language() {
        let Ok(program) = Program::compile("udp port 53", 1, 262_144) else {
            eprintln!("libpcap is not installed here: nothing to test");
            return;
        };
        assert!(program.instructions().len() > 5);
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x00, 0x45, 0, 0, 30, 0, 0, 0, 0, 64, 17, 0, 0]);
        frame.extend([127, 0, 0, 1, 127, 0, 0, 1]);
        frame.extend([0x30, 0x39, 0x00, 0x35, 0, 10, 0, 0, b'h', b'i']);
        assert!(program.matches(&frame, frame.len() as u32));
        frame[37] = 0x36; // port 54
        assert!(!program.matches(&frame, frame.len() as u32));
        match Program::compile("tcp port", 1, 262_144) {
            Err(CompileError::Invalid(message)) => assert!(message.contains("syntax"), "{message}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
}
