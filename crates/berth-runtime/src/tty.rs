//! Foreground `run`/`exec` of a terminal process without --console-socket (as `runc run`
//! does): we are our own console socket, receive the pty master, and copy between it and
//! our stdio, with our terminal in raw mode and its size passed on.

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use nix::sys::termios::{self, SetArg, Termios};
use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

pub struct ConsoleSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleSocket {
    pub fn bind(dir: &Path) -> std::io::Result<ConsoleSocket> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!(".console-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        Ok(ConsoleSocket { listener, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pty master the container sent (its connection is already queued).
    pub fn receive(self) -> std::io::Result<OwnedFd> {
        let (conn, _) = self.listener.accept()?;
        let _ = std::fs::remove_file(&self.path);
        let mut buf = [0u8; 256];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg = recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(std::io::Error::from)?;
        for c in msg.cmsgs().map_err(std::io::Error::from)? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                if let Some(fd) = fds.first() {
                    // SAFETY: the kernel just installed this fd for us.
                    return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
                }
            }
        }
        Err(std::io::Error::other(
            "console socket: no pty master received",
        ))
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Our terminal in raw mode for as long as this lives.
pub struct RawMode(Option<Termios>);

impl RawMode {
    pub fn enter() -> RawMode {
        let stdin = std::io::stdin();
        match termios::tcgetattr(stdin.as_fd()) {
            Ok(orig) => {
                let mut raw = orig.clone();
                termios::cfmakeraw(&mut raw);
                let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
                RawMode(Some(orig))
            }
            Err(_) => RawMode(None),
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, t);
        }
    }
}

/// Copy our window size (when stdin is a terminal) onto the pty.
pub fn sync_size(master: &OwnedFd) {
    // SAFETY: winsize is plain old data; TIOCGWINSZ/TIOCSWINSZ read and write one we own.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Start the two copy threads; they end with the pty (EIO once the process is gone). The
/// returned handle is the output copier, joined so no output is lost at exit.
pub fn proxy(master: &OwnedFd) -> std::io::Result<std::thread::JoinHandle<()>> {
    let mut to_stdout = std::fs::File::from(master.try_clone()?);
    let mut from_stdin = std::fs::File::from(master.try_clone()?);
    let output = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut out = std::io::stdout();
        while let Ok(n) = to_stdout.read(&mut buf) {
            if n == 0 || out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut inp = std::io::stdin();
        while let Ok(n) = inp.read(&mut buf) {
            if n == 0 || from_stdin.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    Ok(output)
}
