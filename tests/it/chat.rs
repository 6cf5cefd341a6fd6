//! `listen -k --chat`: fan-out, announcements, escaping, a stuck client.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::*;

struct Member {
    stream: TcpStream,
    lines: BufReader<TcpStream>,
    name: String,
}

impl Member {
    fn join(listener: &Listener) -> Member {
        let stream = TcpStream::connect(listener.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let name = stream.local_addr().unwrap().to_string();
        let mut member = Member {
            lines: BufReader::new(stream.try_clone().unwrap()),
            stream,
            name,
        };
        let welcome = member.line();
        assert!(
            welcome.starts_with(&format!("* you are {}", member.name)),
            "{welcome}"
        );
        member
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.lines.read_line(&mut line).expect("a line within 10 s");
        line
    }

    fn say(&mut self, text: &[u8]) {
        self.stream.write_all(text).unwrap();
    }
}

#[test]
fn lines_reach_everyone_else_escaped_and_attributed() {
    let listener = Listener::start(&["-k", "--chat", "0"], Stdio::null(), Stdio::null());
    let mut a = Member::join(&listener);
    let mut b = Member::join(&listener);
    assert_eq!(a.line(), format!("* {} joined\n", b.name));
    let mut c = Member::join(&listener);
    assert_eq!(a.line(), format!("* {} joined\n", c.name));
    assert_eq!(b.line(), format!("* {} joined\n", c.name));

    a.say(b"hello\r\n");
    a.say(b"\x1b[2Jcleared?\n");
    for other in [&mut b, &mut c] {
        assert_eq!(other.line(), format!("[{}] hello\n", a.name));
        assert_eq!(other.line(), format!("[{}] \\x1b[2Jcleared?\n", a.name));
    }
    // The sender does not get its own lines back: the next thing it sees is b's.
    b.say(b"hi a\n");
    assert_eq!(a.line(), format!("[{}] hi a\n", b.name));
    assert_eq!(c.line(), format!("[{}] hi a\n", b.name));

    let c_name = c.name.clone();
    drop(c);
    assert_eq!(a.line(), format!("* {c_name} left\n"));
    assert_eq!(b.line(), format!("* {c_name} left\n"));
}

/// A client that stops reading is dropped; the others get every line.
#[test]
fn a_stuck_client_never_stalls_the_others() {
    let listener = Listener::start(&["-k", "--chat", "0"], Stdio::null(), Stdio::null());
    let mut talker = Member::join(&listener);
    let mut reader = Member::join(&listener);
    talker.line(); // reader joined
    let stuck = Member::join(&listener); // never reads again
    talker.line();
    reader.line();

    let line = format!("{}\n", "x".repeat(3000));
    let count = 5000;
    let started = Instant::now();
    let sender = {
        let mut stream = talker.stream.try_clone().unwrap();
        let line = line.clone();
        std::thread::spawn(move || {
            for _ in 0..count {
                stream.write_all(line.as_bytes()).unwrap();
            }
        })
    };
    let expected = format!("[{}] {}", talker.name, line);
    let mut got = 0;
    let mut dropped = false;
    while got < count {
        let next = reader.line();
        if next == expected {
            got += 1;
        } else if next.starts_with(&format!("* {} left (too slow", stuck.name)) {
            dropped = true;
        } else {
            panic!("unexpected line {next:?}");
        }
    }
    sender.join().unwrap();
    assert!(dropped, "the stuck client was never dropped");
    assert!(started.elapsed() < Duration::from_secs(30));
    listener.wait_for("dropped", 5);
}
