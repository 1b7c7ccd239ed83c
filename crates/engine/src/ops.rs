//! Marks of the engine handles at work on a data root (`R/ops/<boot id>/`): they tell a
//! command, without looking at every container, whether anything can need repair.
//!
//! Every handle made by [`crate::Engine::open`] makes a mark `<pid>-<n>` and holds an
//! flock on it while it lives; dropping the handle removes it. A mark nobody holds is what
//! a killed command left (or what a process that could not make a repair left on purpose,
//! [`request_repair`]): the next command to open the root takes its lock, runs the full
//! repair ([`crate::reconcile`]) and removes it. The directory is per boot: the first
//! command after a reboot finds none and repairs everything, since no monitor survives a
//! reboot and no watcher saw them go.
//!
//! A dead monitor is otherwise repaired by its watcher at once, and a row read for a
//! command is checked on its own ([`crate::Engine::find`], [`crate::Engine::list`]), so a
//! command's cost does not grow with the number of containers.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes the marks of one process (a server holds one per request).
static SEQ: AtomicU64 = AtomicU64::new(0);

/// A mark in progress of being made is named with this prefix: not yet locked, so not
/// taken for a killed command's; one older than a minute is garbage of a process killed
/// while making it.
const MAKING: &str = ".making-";
/// A mark left on purpose by a process that could not finish a repair.
const REQUEST: &str = "repair-";

/// The held mark of one engine handle; removed when dropped by the process that made it.
pub struct Mark {
    _file: File,
    path: PathBuf,
    pid: u32,
}

impl Drop for Mark {
    fn drop(&mut self) {
        // A forked child that drops a copy of its parent's handle must not remove the
        // parent's mark (it shares the lock, not the ownership).
        if std::process::id() == self.pid {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What opening found: the handle's mark (none when it could not be made, on a full disk
/// or a read-only root) and whether the full repair must run.
pub struct Begun {
    pub mark: Option<Mark>,
    pub stale: Vec<Stale>,
    pub new_boot: bool,
}

impl Begun {
    pub fn needs_repair(&self) -> bool {
        self.mark.is_none() || self.new_boot || !self.stale.is_empty()
    }
}

/// A mark nobody held, locked by us until the repair is over (so concurrent openers do not
/// all repair for it), then removed.
pub struct Stale {
    _file: File,
    path: PathBuf,
}

impl Stale {
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn boot_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown-boot".into())
    })
}

fn ops_dir(root: &Path) -> PathBuf {
    root.join("ops")
}

fn boot_dir(root: &Path) -> PathBuf {
    ops_dir(root).join(boot_id())
}

fn try_flock(f: &File) -> bool {
    crate::lock::flock(f, libc::LOCK_EX | libc::LOCK_NB).is_ok()
}

fn unique_name() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Make a locked mark in `dir`: made under a name nobody reads as a mark, locked, then
/// renamed, so no reader ever sees it unlocked.
fn make_mark(dir: &Path) -> std::io::Result<Mark> {
    let name = unique_name();
    let making = dir.join(format!("{MAKING}{name}"));
    // std opens with O_CLOEXEC: a monitor or container started by this process never
    // holds the mark.
    let file = File::options().create_new(true).write(true).open(&making)?;
    if !try_flock(&file) {
        let _ = std::fs::remove_file(&making);
        return Err(std::io::Error::other("cannot lock a fresh mark"));
    }
    let path = dir.join(name);
    if let Err(e) = std::fs::rename(&making, &path) {
        let _ = std::fs::remove_file(&making);
        return Err(e);
    }
    Ok(Mark {
        _file: file,
        path,
        pid: std::process::id(),
    })
}

/// Make this handle's mark and find the marks of killed commands.
pub fn begin(root: &Path) -> Begun {
    let dir = boot_dir(root);
    let mut new_boot = false;
    let mark = match make_mark(&dir) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            new_boot = true;
            forget_other_boots(root);
            std::fs::create_dir_all(&dir)
                .ok()
                .and_then(|_| make_mark(&dir).ok())
        }
        Err(_) => None,
    };
    let own = mark.as_ref().map(|m| m.path.clone());
    Begun {
        stale: stale_marks(&dir, own.as_deref()),
        mark,
        new_boot,
    }
}

/// The marks in `dir` nobody holds, each locked by us now.
fn stale_marks(dir: &Path, own: Option<&Path>) -> Vec<Stale> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if Some(path.as_path()) == own {
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(MAKING) {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 60);
            if old {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        // Gone since the listing (its holder finished): nothing to do.
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if try_flock(&file) {
            out.push(Stale { _file: file, path });
        }
    }
    out
}

fn forget_other_boots(root: &Path) {
    let Ok(entries) = std::fs::read_dir(ops_dir(root)) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_str() != Some(boot_id()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Leave a mark nobody holds, so the next command runs the full repair: for a process that
/// found something to repair but could not (its container locked by another command).
pub fn request_repair(root: &Path) {
    let dir = boot_dir(root);
    let _ = std::fs::create_dir_all(&dir);
    let _ = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{REQUEST}{}", unique_name())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_mark_is_not_stale_and_a_dropped_one_is_gone() {
        let root = tempfile::tempdir().unwrap();
        let first = begin(root.path());
        assert!(
            first.new_boot,
            "no boot dir yet: the first handle repairs everything"
        );
        assert!(first.mark.is_some());
        let second = begin(root.path());
        assert!(!second.new_boot);
        assert!(second.stale.is_empty(), "the first handle's mark is held");
        drop(first);
        drop(second);
        let third = begin(root.path());
        assert!(!third.needs_repair(), "dropped marks are removed");
    }

    #[test]
    fn a_mark_nobody_holds_is_stale_until_removed() {
        let root = tempfile::tempdir().unwrap();
        drop(begin(root.path()));
        request_repair(root.path());
        let found = begin(root.path());
        assert_eq!(found.stale.len(), 1);
        // While we hold it for our repair, another opener does not repair for it too.
        let meanwhile = begin(root.path());
        assert!(meanwhile.stale.is_empty());
        for s in found.stale {
            s.remove();
        }
        assert!(!begin(root.path()).needs_repair());
    }

    #[test]
    fn marks_of_another_boot_are_forgotten() {
        let root = tempfile::tempdir().unwrap();
        let old = root.path().join("ops/some-earlier-boot");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("123-0"), "").unwrap();
        let b = begin(root.path());
        assert!(b.new_boot);
        assert!(!old.exists());
    }
}
