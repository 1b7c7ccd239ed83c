//! The client side of a container terminal (`run -it`, `start -ai`, `attach`, `exec -it`):
//! our terminal in raw mode (so Ctrl-C reaches the container as a character), its size
//! passed on at the start and on SIGWINCH, and the detach keys (ctrl-p ctrl-q by default)
//! watched for in our input.

use super::{fail, Failure};
use berth_engine::monitor_client::{self, Streams};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// How a terminal session ended.
pub enum Outcome {
    Exited(i32),
    Detached,
}

/// Docker's default detach keys: ctrl-p ctrl-q.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// Parses docker's `--detach-keys` format: comma-separated `ctrl-X` or single characters.
pub fn parse_detach_keys(s: &str) -> Result<Vec<u8>, Failure> {
    let bad = || {
        fail(format!(
            "invalid detach keys ({s:?}): expected e.g. ctrl-p,ctrl-q"
        ))
    };
    let mut keys = Vec::new();
    for part in s.split(',') {
        let key = match part.strip_prefix("ctrl-") {
            Some(c) if c.len() == 1 => {
                let b = c.as_bytes()[0].to_ascii_lowercase();
                match b {
                    b'a'..=b'z' => b - b'a' + 1,
                    b'@' => 0,
                    b'[' => 27,
                    b'\\' => 28,
                    b']' => 29,
                    b'^' => 30,
                    b'_' => 31,
                    _ => return Err(bad()),
                }
            }
            Some(_) => return Err(bad()),
            None if part.len() == 1 => part.as_bytes()[0],
            None => return Err(bad()),
        };
        keys.push(key);
    }
    Ok(keys)
}

/// Finds the detach sequence in a stream of input; bytes held while a prefix matched are
/// passed on when the sequence breaks off, as docker does.
pub struct Detector {
    keys: Vec<u8>,
    matched: usize,
}

impl Detector {
    pub fn new(keys: Vec<u8>) -> Detector {
        Detector { keys, matched: 0 }
    }

    /// Appends to `out` what goes to the container; true when the sequence was typed.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        if self.keys.is_empty() {
            out.extend_from_slice(input);
            return false;
        }
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return true;
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
            } else {
                out.push(b);
            }
        }
        false
    }
}

/// Our terminal's settings before raw mode, for the restore on any exit path (including
/// the signal thread's).
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

fn restore_terminal() {
    let saved = SAVED.lock().map(|mut s| s.take()).unwrap_or(None);
    if let Some(t) = saved {
        // SAFETY: tcsetattr reads a termios we saved from tcgetattr.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
    }
}

/// Our stdin in raw mode while this lives (nothing when it is not a terminal).
pub struct RawMode;

impl RawMode {
    pub fn enter() -> RawMode {
        // SAFETY: termios is plain data; tcgetattr/tcsetattr on fd 0 read and write locals.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::isatty(0) == 1 && libc::tcgetattr(0, &mut t) == 0 {
                if let Ok(mut s) = SAVED.lock() {
                    *s = Some(t);
                }
                let mut raw = t;
                libc::cfmakeraw(&mut raw);
                libc::tcsetattr(0, libc::TCSANOW, &raw);
            }
        }
        RawMode
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// The size of our terminal (rows, cols), if stdin or stdout is one.
pub fn window_size() -> Option<(u16, u16)> {
    for fd in [0, 1] {
        // SAFETY: winsize is plain data; TIOCGWINSZ writes one we own.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_row > 0 {
                return Some((ws.ws_row, ws.ws_col));
            }
        }
    }
    None
}

/// Blocks SIGWINCH, SIGTERM and SIGHUP in this thread (threads made afterwards inherit the
/// mask) and takes them in a thread: SIGWINCH calls `on_winch`; the others restore the
/// terminal and end berth, as the default action would but without a raw terminal left.
fn watch_signals(on_winch: impl Fn() + Send + 'static) {
    // SAFETY: the set is a local initialised by sigemptyset; masks take no other pointers.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGWINCH, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || loop {
        let mut sig = 0;
        // SAFETY: sigwait reads the set we own and writes the signal number into `sig`.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            return;
        }
        if sig == libc::SIGWINCH {
            on_winch();
        } else {
            restore_terminal();
            std::process::exit(128 + sig);
        }
    });
}

/// Ends the blocking of [`watch_signals`] in this thread once the session is over: what it
/// starts next (an `--rm` removal may start a network's DNS server) must not inherit blocked
/// signals. Our terminal is restored by then, so their default actions do.
pub fn unwatch_signals() {
    // SAFETY: as in `watch_signals`: a local set, no other pointer.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGWINCH, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// Copies our stdin to `sink` through the detach-key detector; `on_detach` runs when the
/// keys are typed, `on_eof` at the end of our input.
fn copy_input(
    keys: Vec<u8>,
    mut sink: impl Write + Send + 'static,
    on_detach: impl FnOnce() + Send + 'static,
    on_eof: impl FnOnce() + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut det = Detector::new(keys);
        let mut buf = [0u8; 4096];
        let mut out = Vec::with_capacity(4096);
        let mut stdin = std::io::stdin().lock();
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            out.clear();
            let detach = det.feed(&buf[..n], &mut out);
            if sink.write_all(&out).and_then(|_| sink.flush()).is_err() {
                return;
            }
            if detach {
                return on_detach();
            }
        }
        on_eof();
    });
}

/// A terminal session with a container's monitor (the container was made with -t):
/// `stdin` when it was also made with -i (and not `--no-stdin`).
pub fn attach_monitor(dir: &Path, stdin: bool, keys: &[u8]) -> Result<Outcome, Failure> {
    attach_monitor_held(dir, stdin, keys).map(|(outcome, _)| outcome)
}

/// [`attach_monitor`], the connection kept open by the caller (an `--rm` container's
/// monitor waits for its attached clients to hang up before it removes it itself).
pub fn attach_monitor_held(
    dir: &Path,
    stdin: bool,
    keys: &[u8],
) -> Result<(Outcome, UnixStream), Failure> {
    let streams = Streams {
        stdin,
        stdout: true,
        stderr: true,
    };
    session(dir, monitor_client::open_attach(dir, streams)?, stdin, keys)
}

fn session(
    dir: &Path,
    mut sock: UnixStream,
    stdin: bool,
    keys: &[u8],
) -> Result<(Outcome, UnixStream), Failure> {
    let resize_dir: PathBuf = dir.to_path_buf();
    let resize = move || {
        if let Some((rows, cols)) = window_size() {
            // A container that has just ended cannot be resized: nothing to do about it.
            let _ = monitor_client::resize(&resize_dir, rows, cols);
        }
    };
    watch_signals(resize.clone());
    resize();
    // As docker: raw only when our input goes to the container (without -i, Ctrl-C ends
    // berth, not the container).
    let _raw = stdin.then(RawMode::enter);
    let detached = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if stdin {
        let io = |e| fail(format!("attach: {e}"));
        let writer = sock.try_clone().map_err(io)?;
        let closer = sock.try_clone().map_err(io)?;
        let eof_closer = sock.try_clone().map_err(io)?;
        let flag = detached.clone();
        copy_input(
            keys.to_vec(),
            writer,
            move || {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = closer.shutdown(std::net::Shutdown::Both);
            },
            move || {
                let _ = eof_closer.shutdown(std::net::Shutdown::Write);
            },
        );
    }
    let mut out = std::io::stdout();
    let mut out2 = std::io::stdout();
    let got = monitor_client::read_frames(&mut sock, &mut out, &mut out2);
    if detached.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok((Outcome::Detached, sock));
    }
    let outcome = match got {
        Ok(Some(code)) => Outcome::Exited(code),
        _ => match monitor_client::exit_record(dir)? {
            Some(x) => Outcome::Exited(x.exit_code),
            None => return Err(fail("the container's monitor ended without an exit status")),
        },
    };
    Ok((outcome, sock))
}

enum Event {
    Exited(i32),
    Detached,
}

/// A terminal session with an exec'd process whose pty master we hold: its status is
/// waited for here (we are its subreaper).
pub fn proxy_master(
    master: OwnedFd,
    pid: i32,
    stdin: bool,
    keys: &[u8],
) -> Result<Outcome, Failure> {
    let size_fd = master.as_raw_fd();
    let resize = move || {
        if let Some((rows, cols)) = window_size() {
            let ws = libc::winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ reads a winsize we own; the master outlives this session.
            unsafe { libc::ioctl(size_fd, libc::TIOCSWINSZ, &ws) };
        }
    };
    watch_signals(resize);
    resize();
    let raw = stdin.then(RawMode::enter);
    let (tx, rx) = mpsc::channel();
    let dup = || {
        master
            .try_clone()
            .map_err(|e| fail(format!("dup the pty master: {e}")))
    };
    let mut reader = std::fs::File::from(dup()?);
    let (out_tx, out_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut out = std::io::stdout();
        // EIO once every holder of the pty's other side has closed it.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                break;
            }
        }
        let _ = out_tx.send(());
    });
    if stdin {
        let detach_tx = tx.clone();
        copy_input(
            keys.to_vec(),
            std::fs::File::from(dup()?),
            move || {
                let _ = detach_tx.send(Event::Detached);
            },
            || {},
        );
    }
    std::thread::spawn(move || {
        let code = berth_engine::container::exec::wait_pid(pid);
        let _ = tx.send(Event::Exited(code));
    });
    let outcome = match rx.recv() {
        Ok(Event::Exited(code)) => {
            // The rest of its output; a process it left behind may hold the pty open.
            let _ = out_rx.recv_timeout(Duration::from_secs(1));
            Outcome::Exited(code)
        }
        Ok(Event::Detached) | Err(_) => {
            hold_master(&master);
            Outcome::Detached
        }
    };
    drop(raw);
    drop(master);
    Ok(outcome)
}

/// `exec -dt`, or a detach from `exec -it`: the pty master must outlive us (its close would
/// hang up the process), as a docker shim keeps it. A detached child holds it and drops the
/// output until the terminal's other side is gone.
pub fn hold_master(master: &OwnedFd) {
    // SAFETY: the child only makes async-signal-safe calls (setsid, dup2, close_range,
    // read, _exit), so forking while other threads run is sound.
    let pid = unsafe { libc::fork() };
    if pid != 0 {
        // The parent (or a failed fork: the process then gets a hangup, as if detached).
        return;
    }
    // SAFETY: as above; the only pointer is to our own stack buffer.
    unsafe {
        libc::setsid();
        libc::dup2(master.as_raw_fd(), 3);
        // Nothing of our caller's (a `$(berth exec -dt ...)` pipe) may be held.
        libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
        for fd in 0..3 {
            libc::close(fd);
        }
        let mut buf = [0u8; 4096];
        while libc::read(3, buf.as_mut_ptr().cast(), buf.len()) > 0 {}
        libc::_exit(0);
    }
}

/// What berth prints when the detach keys were typed (docker's words), then exits 0.
pub fn detached_message() {
    eprintln!("read escape sequence");
}

/// A session's end as berth's status: the container's, or 0 after a detach.
pub fn finish(outcome: Outcome) -> Result<i32, Failure> {
    match outcome {
        Outcome::Exited(code) => Ok(code),
        Outcome::Detached => {
            detached_message();
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_as_docker() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("a,ctrl-@").unwrap(), vec![b'a', 0]);
        assert!(parse_detach_keys("ctrl-").is_err());
        assert!(parse_detach_keys("ctrl-pq").is_err());
    }

    #[test]
    fn detector_holds_a_prefix_and_passes_it_on_when_broken() {
        let mut d = Detector::new(vec![16, 17]);
        let mut out = Vec::new();
        assert!(!d.feed(b"ab\x10", &mut out));
        assert_eq!(out, b"ab");
        assert!(!d.feed(b"c", &mut out));
        assert_eq!(out, b"ab\x10c");
        out.clear();
        assert!(!d.feed(b"\x10\x10", &mut out));
        assert_eq!(out, b"\x10");
        assert!(d.feed(b"\x11rest", &mut out));
    }
}
