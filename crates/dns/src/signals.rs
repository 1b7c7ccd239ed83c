//! SIGTERM and SIGINT as a readable file descriptor, so the poll loop sees them like any
//! other event and shuts down between requests, never inside one.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct Signals {
    fd: OwnedFd,
}

impl Signals {
    /// Blocks the signals (the process has one thread, so the mask covers it all) and opens
    /// a signalfd that reports them. Their dispositions go back to the default once they are
    /// blocked: a signal ignored by whoever started the engine (a script ignores SIGINT, and
    /// the disposition survives execve) is discarded before it could reach the signalfd.
    pub fn open() -> io::Result<Signals> {
        // SAFETY: sigset_t is plain data; sigemptyset initialises it before any other use.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid sigset_t owned by this frame; the null old-mask pointer is
        // allowed by sigprocmask.
        let fd = unsafe {
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGINT);
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            // Blocked first, so none arriving now is lost or kills us.
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK)
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd just returned this descriptor, and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Signals { fd })
    }
}

impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
