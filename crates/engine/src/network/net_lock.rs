//! Per-network exclusive flocks (`R/netns/.net-<key>.lock`): whatever several berth
//! processes may do to one network at once is done by one of them at a time: making its
//! bridge and rules, rewriting its DNS hosts file and starting its DNS server, removing it
//! (key: the network ID), and choosing host ports (key `ports`). Kept in `R/netns`, whose
//! other entries are container IDs (repair skips names that are not).

use crate::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Held until dropped. Never take a second one of the same key in one process: flock
/// locks open files, so the second would wait for the first forever.
pub struct NetLock {
    _file: File,
}

pub fn path(root: &Path, key: &str) -> PathBuf {
    root.join("netns").join(format!(".net-{key}.lock"))
}

/// Wait for the lock of `key`.
pub fn lock(root: &Path, key: &str) -> Result<NetLock> {
    let p = path(root, key);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    // std opens with O_CLOEXEC: a DNS server started under the lock does not inherit it.
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map_err(|e| Error::io("open", &p, e))?;
    loop {
        // SAFETY: flock on an fd we own; no memory is passed.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(NetLock { _file: f });
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::io("lock", &p, e));
        }
    }
}
