//! Files that several berth processes rewrite (a network's DNS hosts file and its server's
//! pid file): replaced whole by a rename, from a temporary file whose name no other process
//! uses at the same time (`.<name>.<pid>.<counter>.tmp` beside it), so one writer never
//! renames or truncates another's. Callers serialize writers of one file with the
//! network's lock, so the last rename is also the newest content.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_prefix(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    format!(".{name}.")
}

fn temp_for(p: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    p.with_file_name(format!("{}{}.{n}.tmp", temp_prefix(p), std::process::id()))
}

/// Replace `p` with `data` at once: readers see the old file or the new one, never a part.
pub fn write(p: &Path, data: &[u8]) -> Result<()> {
    let tmp = temp_for(p);
    let done = std::fs::write(&tmp, data)
        .map_err(|e| Error::io("write", &tmp, e))
        .and_then(|()| std::fs::rename(&tmp, p).map_err(|e| Error::io("rename", p, e)));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Remove temporary files of `p` that writers killed before their rename left. Only for a
/// caller that holds the lock every writer of `p` takes: no temporary file is live then.
pub fn remove_leftovers(p: &Path) {
    let (Some(dir), prefix) = (p.parent(), temp_prefix(p)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_at_once_never_fail_and_leave_one_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("net.hosts");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let text = format!("{t} {i}\n").repeat(50);
                        write(&p, text.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let first = text.lines().next().unwrap().to_string();
        assert!(text.lines().all(|l| l == first), "a mixed file: {text}");
        assert_eq!(text.lines().count(), 50);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("net.hosts")]);
    }

    #[test]
    fn leftovers_of_a_killed_writer_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("net.hosts");
        std::fs::write(dir.path().join(".net.hosts.123.4.tmp"), "x").unwrap();
        std::fs::write(dir.path().join(".other.hosts.123.4.tmp"), "x").unwrap();
        write(&p, b"a\n").unwrap();
        remove_leftovers(&p);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".other.hosts.123.4.tmp", "net.hosts"]);
    }
}
