//! tcpdump's filter expressions (`sockit sniff 'tcp port 443 and host
//! 10.0.0.1'`), compiled by libpcap ([`crate::sys::libpcap`]) into classic
//! BPF.
//!
//! A program reads link-layer offsets, so it is compiled once per link
//! type: a file's first interface up front (so a typo is a usage error
//! before anything runs), any other link type a pcapng file brings when its
//! first frame arrives. A live capture hands the kernel the Ethernet
//! program behind a check of the interface's hardware type: frames of
//! interfaces without an Ethernet header (tunnels) are passed up and judged
//! here, on the Ethernet header the capture gives them.

use crate::error::{Error, Result};
use crate::sys::libpcap::{CompileError, Program};
use crate::wire::bpf::{self, Instruction};
use crate::wire::link::LinkType;

/// Ancillary load of the interface's hardware type (SKF_AD_OFF + SKF_AD_HATYPE).
const HARDWARE_TYPE: u32 = (-0x1000i32 + 28) as u32;
const ARPHRD_ETHER: u32 = 1;
const ARPHRD_LOOPBACK: u32 = 772;

pub struct Expression {
    text: String,
    programs: Vec<(LinkType, Program)>,
}

impl Expression {
    /// Compiles `text` for frames of `link`; a usage error if it does not compile.
    pub fn compile(text: &str, link: LinkType) -> Result<Expression> {
        let mut expression = Expression {
            text: text.to_string(),
            programs: Vec::new(),
        };
        expression.program(link)?;
        Ok(expression)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn program(&mut self, link: LinkType) -> Result<&Program> {
        let index = match self.programs.iter().position(|(l, _)| *l == link) {
            Some(index) => index,
            None => {
                let program = Program::compile(&self.text, link.pcap_value(), bpf::ACCEPT)
                    .map_err(|e| self.explain(e, link))?;
                self.programs.push((link, program));
                self.programs.len() - 1
            }
        };
        Ok(&self.programs[index].1)
    }

    fn explain(&self, error: CompileError, link: LinkType) -> Error {
        match error {
            CompileError::Missing => Error::NotFound {
                what: "a filter expression needs libpcap (libpcap.so.0.8), which is not installed"
                    .into(),
                hint: "install it with `apt-get install libpcap0.8`, or filter with --host, --port and --proto"
                    .into(),
            },
            CompileError::Invalid(message) => Error::Usage(format!(
                "the filter expression {:?} does not compile for {} frames: {message}; see `man 7 pcap-filter` for the language",
                self.text,
                link.name()
            )),
        }
    }

    /// Whether the expression accepts a frame of `link` of which `frame`
    /// was captured and `wire_len` bytes were on the wire.
    pub fn matches(&mut self, link: LinkType, frame: &[u8], wire_len: u32) -> Result<bool> {
        Ok(self.program(link)?.matches(frame, wire_len))
    }

    /// The program for a live capture's packet socket (see the module's doc).
    pub fn kernel_program(&mut self) -> Result<Vec<Instruction>> {
        let program = self.program(LinkType::Ethernet)?;
        let load = Instruction {
            code: 0x20, // BPF_LD | BPF_W | BPF_ABS
            jt: 0,
            jf: 0,
            k: HARDWARE_TYPE,
        };
        let jump_to_program_if = |k: u32, distance: u8| Instruction {
            code: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
            jt: distance,
            jf: 0,
            k,
        };
        let mut instructions = vec![
            load,
            jump_to_program_if(ARPHRD_ETHER, 2),
            jump_to_program_if(ARPHRD_LOOPBACK, 1),
            Instruction {
                code: 0x06, // BPF_RET | BPF_K
                jt: 0,
                jf: 0,
                k: bpf::ACCEPT,
            },
        ];
        instructions.extend(program.instructions().iter().map(|i| Instruction {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        }));
        Ok(instructions)
    }
}
