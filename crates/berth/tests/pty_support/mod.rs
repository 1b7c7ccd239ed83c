//! A berth command on a real pseudo-terminal, as a user's shell runs it: the test holds the
//! master (types, reads, resizes), berth gets the slave as stdio and controlling terminal.
#![allow(dead_code)]

use super::container_support::{monitor_dir_for_path, Root, BERTH};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a session may take to show what is expected before the test fails (a guard
/// against hangs, not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

pub struct Session {
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
    /// How far `expect` has looked: each expectation is met by newer output.
    seen: usize,
    child: Child,
    /// Says when the reader has seen the end (EIO: no one holds the slave any more).
    read_all: std::sync::mpsc::Receiver<()>,
    slave_name: String,
}

fn set_size(fd: i32, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize we own.
    assert_eq!(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) }, 0);
}

impl Session {
    /// `berth --root ROOT ARGS` on a new pty of 24x80.
    pub fn start(root: &Root, args: &[&str]) -> Session {
        // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r on a descriptor we own; ptsname_r
        // writes a NUL-terminated name into our buffer.
        let (master, slave_name) = unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0, "posix_openpt");
            assert_eq!(libc::grantpt(m), 0);
            assert_eq!(libc::unlockpt(m), 0);
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
            let name = std::ffi::CStr::from_ptr(name.as_ptr())
                .to_string_lossy()
                .into_owned();
            (File::from_raw_fd(m), name)
        };
        set_size(master.as_raw_fd(), 24, 80);
        let slave = open_slave(&slave_name);
        let mut c = Command::new(BERTH);
        c.arg("--root").arg(root.path()).args(args);
        if let Some(d) = monitor_dir_for_path() {
            let path = std::env::var("PATH").unwrap_or_default();
            c.env("PATH", format!("{}:{path}", d.display()));
        }
        c.stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        // SAFETY: only async-signal-safe calls between fork and exec: setsid, and ioctl to
        // make the pty (now fd 0) the new session's controlling terminal.
        unsafe {
            c.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = c.spawn().unwrap();
        drop(c); // our copies of the slave: the master reads EIO once berth is gone
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = output.clone();
        let (done, read_all) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            let _ = done.send(());
        });
        Session {
            master,
            output,
            seen: 0,
            child,
            read_all,
            slave_name,
        }
    }

    /// Whether the terminal is in canonical mode with echo (as a shell leaves it), read from
    /// the terminal's own side.
    pub fn cooked(&self) -> bool {
        let slave = open_slave(&self.slave_name);
        // SAFETY: termios is plain data; tcgetattr writes one we own.
        let t = unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(slave.as_raw_fd(), &mut t), 0);
            t
        };
        t.c_lflag & (libc::ICANON | libc::ECHO) == (libc::ICANON | libc::ECHO)
    }

    /// berth's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Types `bytes` on the terminal.
    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    /// Waits until `text` appears in the output after what earlier expectations matched.
    pub fn expect(&mut self, text: &str) {
        let start = Instant::now();
        loop {
            {
                let out = self.output.lock().unwrap();
                let hay = String::from_utf8_lossy(&out[self.seen..]).into_owned();
                if let Some(i) = hay.find(text) {
                    // `hay` is lossy: count bytes of the matched prefix in the original.
                    self.seen += hay[..i + text.len()].len();
                    self.seen = self.seen.min(out.len());
                    return;
                }
            }
            if start.elapsed() > PATIENCE {
                panic!(
                    "{text:?} did not appear; the terminal shows {:?}",
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// All the output so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Asks the shell for `stty size` until it answers `rows cols` (a resize reaches the
    /// process through SIGWINCH, a moment later); panics after 100 tries.
    pub fn expect_size(&mut self, rows: u16, cols: u16) {
        let want = format!("{rows} {cols}\r\n");
        for _ in 0..100 {
            self.send(b"stty size\r");
            // Only the end of the echo: a SIGWINCH while it is typed makes the shell redraw
            // the line, with escape codes amid the command.
            self.expect("ize\r\n");
            self.expect("\r\n");
            if self.text().contains(&want) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the size {rows} {cols} was not seen inside: {:?}",
            self.text()
        );
    }

    /// Resizes the terminal (the kernel sends berth SIGWINCH).
    pub fn resize(&self, rows: u16, cols: u16) {
        set_size(self.master.as_raw_fd(), rows, cols);
    }

    /// berth's exit status.
    pub fn wait(&mut self) -> (i32, String) {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Everything berth wrote: the reader ends at EIO once it is gone.
                let _ = self.read_all.recv_timeout(PATIENCE);
                return (st.code().unwrap_or(-1), self.text());
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("berth did not end; the terminal shows {:?}", self.text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn open_slave(name: &str) -> File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(name)
        .unwrap()
}
