//! Advisory locks (flock) on files under a store's `locks/` directory, one per blob digest or
//! chain ID, so that two pulls of the same content, in one process or two, do the work once:
//! the second waits for the first and then finds the result in place. The kernel drops a
//! lock when its holder dies, so a kill -9 never leaves a layer locked.
//!
//! The holder removes the lock file when it is done, so `locks/` does not grow with every
//! layer ever pulled. A waiter may then hold the lock of a file that is no longer at its path:
//! it checks, after locking, that the path still names the file it locked, and starts over if
//! not, so two processes can never both believe they hold the same lock.

use crate::error::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Unlinked while still locked (the file is closed after this): see the module doc.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Take the exclusive lock named `name` under `dir`; `on_wait` is called once, before
/// blocking, when someone else holds it.
pub(crate) fn exclusive(dir: &Path, name: &str, on_wait: impl FnOnce()) -> Result<Lock> {
    let path = dir.join(name);
    let mut on_wait = Some(on_wait);
    loop {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open lock", &path, e))?;
        if !flock(&file, libc::LOCK_EX | libc::LOCK_NB).map_err(|e| Error::io("lock", &path, e))? {
            if let Some(f) = on_wait.take() {
                f();
            }
            while !flock(&file, libc::LOCK_EX).map_err(|e| Error::io("lock", &path, e))? {}
        }
        let locked = file.metadata().map_err(|e| Error::io("stat", &path, e))?;
        match std::fs::metadata(&path) {
            Ok(now) if now.ino() == locked.ino() && now.dev() == locked.dev() => {
                return Ok(Lock { _file: file, path })
            }
            // Its holder removed it when done: lock whatever is at the path now.
            _ => continue,
        }
    }
}

/// flock(2); false when it would block (with LOCK_NB) or was interrupted.
fn flock(file: &File, op: i32) -> std::io::Result<bool> {
    // SAFETY: flock on an fd we own; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => Ok(false),
        _ => Err(err),
    }
}

/// The store-wide lock between writers and garbage collection: pulls, loads and imports hold
/// it shared from their first write until their image is named; collection holds it alone,
/// so it never sees (and removes) content that is written but not yet referenced.
#[derive(Debug)]
pub struct StoreGuard {
    _file: File,
}

pub(crate) fn store_guard(dir: &Path, exclusive: bool) -> Result<StoreGuard> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let path = dir.join("gc.lock");
    // Never removed: every process must lock the same inode.
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open lock", &path, e))?;
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    while !flock(&file, op).map_err(|e| Error::io("lock", &path, e))? {}
    Ok(StoreGuard { _file: file })
}
