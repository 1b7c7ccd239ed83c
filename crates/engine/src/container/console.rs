//! A console socket (as runc's `--console-socket`): the runtime makes a pty inside the
//! container and sends its master here over SCM_RIGHTS. Bound in the container dir through
//! `/proc/self/fd/DIR/`, so a long data root still fits a socket address (108 bytes); the
//! runtime connects from this same process.

use crate::{Error, Result};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

pub struct ConsoleSocket {
    listener: UnixListener,
    /// Keeps the `/proc/self/fd/N` of `path` valid.
    _dir: std::fs::File,
    name: PathBuf,
    path: PathBuf,
}

impl ConsoleSocket {
    /// A fresh socket in `dir` (one per caller: a start and several execs may overlap).
    pub fn bind(dir: &Path) -> Result<ConsoleSocket> {
        let handle = std::fs::File::open(dir).map_err(|e| Error::io("open", dir, e))?;
        let file = format!("console-{}.sock", std::process::id());
        let name = dir.join(&file);
        let _ = std::fs::remove_file(&name);
        let path = PathBuf::from(format!("/proc/self/fd/{}/{file}", handle.as_raw_fd()));
        let listener = UnixListener::bind(&path).map_err(|e| Error::io("bind", &name, e))?;
        Ok(ConsoleSocket {
            listener,
            _dir: handle,
            name,
            path,
        })
    }

    /// What the runtime connects to (valid in this process only).
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The descriptor of the directory [`ConsoleSocket::path`] goes through.
    pub fn dir_fd(&self) -> std::os::fd::RawFd {
        self._dir.as_raw_fd()
    }

    /// The pty master the runtime sent (its connection is already queued).
    pub fn receive(self) -> Result<OwnedFd> {
        let io = |e: std::io::Error| Error::io("receive the pty master from", &self.name, e);
        let (conn, _) = self.listener.accept().map_err(io)?;
        let mut buf = [0u8; 256];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg = recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(|e| io(e.into()))?;
        for c in msg.cmsgs().map_err(|e| io(e.into()))? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                if let Some(fd) = fds.first() {
                    // SAFETY: the kernel has just installed this fd for us alone.
                    return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
                }
            }
        }
        Err(io(std::io::Error::other("no pty master received")))
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.name);
    }
}
