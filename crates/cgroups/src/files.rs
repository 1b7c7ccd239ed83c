//! Small helpers to read and write cgroup files with path context in errors.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Write `value` to an existing file (no O_CREAT: cgroup files are never created by us).
pub(crate) fn write(path: &Path, value: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| Error::io("write", path, e))?;
    f.write_all(value.as_bytes())
        .map_err(|e| Error::io("write", path, e))
}

/// `write(dir/file, value)`.
pub(crate) fn write_in(dir: &Path, file: &str, value: &str) -> Result<()> {
    write(&dir.join(file), value)
}

/// Whole content of a file.
pub(crate) fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io("read", path, e))
}

/// Content of dir/file, `None` when the file does not exist.
pub(crate) fn read_opt(dir: &Path, file: &str) -> Result<Option<String>> {
    let path = dir.join(file);
    match fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Parse a single number; "max" means unlimited (u64::MAX).
pub(crate) fn parse_u64(path: &Path, s: &str) -> Result<u64> {
    let t = s.trim();
    if t == "max" {
        return Ok(u64::MAX);
    }
    t.parse::<u64>()
        .map_err(|e| Error::parse(path, t, e.to_string()))
}

/// Number held by dir/file; 0 when the file does not exist.
pub(crate) fn read_u64_or_zero(dir: &Path, file: &str) -> Result<u64> {
    match read_opt(dir, file)? {
        Some(s) => parse_u64(&dir.join(file), &s),
        None => Ok(0),
    }
}

/// Value of `key` in a flat keyed file ("key value" lines, e.g. cpu.stat, memory.events).
pub(crate) fn keyed_value(content: &str, key: &str) -> Option<u64> {
    content.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        if k == key {
            v.trim().parse().ok()
        } else {
            None
        }
    })
}

pub(crate) fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

/// Host pids listed in `cgroup.procs` of `dir` and of every descendant cgroup.
pub(crate) fn procs_recursive(dir: &Path, out: &mut Vec<i32>) -> Result<()> {
    let path = dir.join("cgroup.procs");
    let content = read(&path)?;
    for line in content.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let pid = t
            .parse::<i32>()
            .map_err(|e| Error::parse(&path, t, e.to_string()))?;
        out.push(pid);
    }
    for child in child_dirs(dir)? {
        procs_recursive(&child, out)?;
    }
    Ok(())
}

/// Sub-directories (child cgroups) of `dir`.
fn child_dirs(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io("read directory", dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// How long `remove_cgroup` keeps retrying rmdir on EBUSY (processes still exiting).
const RMDIR_PATIENCE: Duration = Duration::from_millis(100);

/// rmdir a cgroup directory, its child cgroups first. Absent is fine. Retries on EBUSY for
/// up to ~100 ms while the last processes exit.
pub(crate) fn remove_cgroup(path: &Path) -> Result<()> {
    let deadline = Instant::now() + RMDIR_PATIENCE;
    let mut delay = Duration::from_micros(200);
    let mut children_removed = false;
    loop {
        match fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                if !children_removed {
                    // Child cgroups (e.g. created inside the container) must go first.
                    children_removed = true;
                    let children = child_dirs(path)?;
                    if !children.is_empty() {
                        for c in children {
                            remove_cgroup(&c)?;
                        }
                        continue;
                    }
                }
                if Instant::now() >= deadline {
                    return Err(Error::io("rmdir", path, e));
                }
                sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(10));
            }
            Err(e) => return Err(Error::io("rmdir", path, e)),
        }
    }
}

/// mkdir -p; returns Ok if it exists already.
pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::create_dir_all(path).map_err(|e| Error::io("mkdir", path, e))
        }
        Err(e) => Err(Error::io("mkdir", path, e)),
    }
}
