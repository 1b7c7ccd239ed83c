//! The per-container flock (`R/containers/<id>.lock`): commands on one container run one at
//! a time. It sits outside the container's dir so `rm` can remove the dir while holding it.

use crate::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

pub struct ContainerLock {
    _file: File,
    path: PathBuf,
}

fn open(path: &Path) -> Result<File> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
    }
    // std opens with O_CLOEXEC: a started monitor never inherits the lock.
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open lock", path, e))
}

pub(crate) fn flock(f: &File, op: i32) -> std::io::Result<()> {
    loop {
        // SAFETY: flock on an fd we own; no memory is passed.
        if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Whether `path` still names the file `f` locked: a holder removes the file when its
/// container is gone, and whoever locked the old inode meanwhile must start over, or two
/// processes would both hold "the" lock (one on the unlinked file, one on a new one).
fn still_at(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

impl ContainerLock {
    /// Wait for the lock.
    pub fn acquire(path: &Path) -> Result<ContainerLock> {
        loop {
            let f = open(path)?;
            flock(&f, libc::LOCK_EX).map_err(|e| Error::io("lock", path, e))?;
            if still_at(&f, path) {
                return Ok(ContainerLock {
                    _file: f,
                    path: path.to_path_buf(),
                });
            }
        }
    }

    /// The lock if nobody holds it, else None.
    pub fn try_acquire(path: &Path) -> Result<Option<ContainerLock>> {
        loop {
            let f = open(path)?;
            match flock(&f, libc::LOCK_EX | libc::LOCK_NB) {
                Ok(()) if still_at(&f, path) => {
                    return Ok(Some(ContainerLock {
                        _file: f,
                        path: path.to_path_buf(),
                    }))
                }
                Ok(()) => continue,
                Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => return Ok(None),
                Err(e) => return Err(Error::io("lock", path, e)),
            }
        }
    }

    /// Remove the lock file (the container is gone); the lock is held until dropped.
    pub fn remove_file(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `<container dir>/attached.lock`, held shared by each client attached to the container
/// until it has read its status (and removed an `--rm` container itself): the repair run
/// for a dead monitor leaves the removal to such a client, which would otherwise find the
/// container gone before it could read how it ended.
pub struct AttachMark {
    _file: File,
}

const ATTACH_MARK: &str = "attached.lock";

impl AttachMark {
    pub fn hold(dir: &Path) -> Result<AttachMark> {
        let path = dir.join(ATTACH_MARK);
        let f = open(&path)?;
        flock(&f, libc::LOCK_SH).map_err(|e| Error::io("lock", &path, e))?;
        Ok(AttachMark { _file: f })
    }

    /// Whether some client holds the mark of the container in `dir`.
    pub fn held(dir: &Path) -> bool {
        let Ok(f) = File::open(dir.join(ATTACH_MARK)) else {
            return false;
        };
        match flock(&f, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => false,
            Err(e) => e.raw_os_error() == Some(libc::EWOULDBLOCK),
        }
    }
}
