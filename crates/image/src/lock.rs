//! Advisory locks (flock) on files under a store's `locks/` directory, one per blob digest or
//! chain ID, so that two pulls of the same content, in one process or two, do the work once:
//! the second waits for the first and then finds the result in place. The kernel drops a
//! lock when its holder dies, so a kill -9 never leaves a layer locked.

use crate::error::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Take the exclusive lock named `name` under `dir`; `on_wait` is called once, before
/// blocking, when someone else holds it.
pub(crate) fn exclusive(dir: &Path, name: &str, on_wait: impl FnOnce()) -> Result<Lock> {
    let path = dir.join(name);
    // Lock files are never removed: removing one while another process waits on it would
    // let a third lock a new file of the same name and both would go ahead.
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open lock", &path, e))?;
    // SAFETY: flock on an fd we own; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(Lock { _file: file });
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
        return Err(Error::io("lock", &path, err));
    }
    on_wait();
    loop {
        // SAFETY: as above.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(Lock { _file: file });
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::io("lock", &path, err));
        }
    }
}
