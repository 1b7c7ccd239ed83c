//! Work left behind by processes that died mid-way (a kill -9 during a pull, a load, an
//! import or a commit): temp files in `content/ingest/` and unpack dirs in
//! `snapshots/staging/` are named `<what>.<pid>.<seq>`, so their owner is known; those whose
//! owner is gone are removed by the next command that looks (the engine's open, a pull,
//! `system prune`), and `system df` counts them while they are there.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where unfinished work lives in data root `root`.
pub(crate) fn dirs(root: &Path) -> [PathBuf; 2] {
    [root.join("content/ingest"), root.join("snapshots/staging")]
}

/// Is the process named in a leftover's name (`<what>.<pid>.<seq>`) alive? A pid reused
/// since keeps the leftover for a later look: only a provably dead owner loses it.
fn owner_alive(name: &str) -> bool {
    let pid: Option<i32> = name.split('.').nth(1).and_then(|p| p.parse().ok());
    pid.is_some_and(|p| p > 0 && !provably_dead(p))
}

/// No process has this pid (one we may not signal is alive).
fn provably_dead(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let failed = unsafe { libc::kill(pid, 0) } != 0;
    failed && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Remove the entries of `dir` whose owner is dead; returns how many and their bytes.
pub(crate) fn remove_dead_counted(dir: &Path) -> Result<(usize, u64)> {
    let mut removed = (0, 0);
    for e in std::fs::read_dir(dir)
        .map_err(|e| Error::io("read", dir, e))?
        .flatten()
    {
        if owner_alive(&e.file_name().to_string_lossy()) {
            continue;
        }
        let (gone, bytes) = if e.file_type().is_ok_and(|t| t.is_dir()) {
            let bytes = crate::gc::disk_usage(&e.path());
            (std::fs::remove_dir_all(e.path()), bytes)
        } else {
            let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
            (std::fs::remove_file(e.path()), bytes)
        };
        if gone.is_ok() {
            removed.0 += 1;
            removed.1 += bytes;
        }
    }
    Ok(removed)
}

pub(crate) fn remove_dead(dir: &Path) -> Result<usize> {
    remove_dead_counted(dir).map(|(n, _)| n)
}

/// Bytes held by unfinished work in `dir`: (all of it, the part whose owner is dead).
pub(crate) fn usage(dir: &Path) -> (u64, u64) {
    let mut out = (0, 0);
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let bytes = match e.file_type() {
            Ok(t) if t.is_dir() => crate::gc::disk_usage(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        };
        out.0 += bytes;
        if !owner_alive(&e.file_name().to_string_lossy()) {
            out.1 += bytes;
        }
    }
    out
}

/// Remove the files of `dir` named `<prefix><pid>` whose pid is dead (the temp files a
/// killed `save -o` leaves beside its output).
pub(crate) fn remove_dead_with_prefix(dir: &Path, prefix: &str) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid > 0 && provably_dead(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
