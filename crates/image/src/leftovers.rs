//! Work left behind by processes that died mid-way (a kill -9 during a pull): temp files in
//! `ingest/` and unpack dirs in `staging/` are named `<digest>.<pid>.<seq>`; those whose pid
//! is gone are removed.

use crate::error::{Error, Result};
use std::path::Path;

pub(crate) fn remove_dead(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    for e in std::fs::read_dir(dir)
        .map_err(|e| Error::io("read", dir, e))?
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid: Option<i32> = name.split('.').nth(1).and_then(|p| p.parse().ok());
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = pid.is_some_and(|p| unsafe { libc::kill(p, 0) } == 0);
        if alive {
            continue;
        }
        let gone = if e.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(e.path())
        } else {
            std::fs::remove_file(e.path())
        };
        if gone.is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
