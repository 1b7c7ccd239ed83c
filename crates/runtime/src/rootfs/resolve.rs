//! Path resolution inside a container root that no symlink can escape (CVE-2021-30465).
//!
//! Every lookup is an `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative to an fd of
//! the root, so `..` and absolute symlinks are clamped to the root by the kernel. Mounts are
//! then made onto `/proc/self/fd/N` of the resolved fd, so the target cannot be swapped
//! between the check and the mount.

use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

fn cstr(p: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::Config(format!("path {p:?} contains a NUL byte")))
}

/// openat2 relative to `root` with the root as a hard boundary.
pub fn open_in_root(root: BorrowedFd, path: &Path, flags: i32) -> std::io::Result<OwnedFd> {
    let rel = strip_root(path);
    let c = CString::new(rel.as_os_str().as_encoded_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: open_how is plain old data; all-zero is its documented default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `c` is a valid NUL-terminated string and `how` a fully initialised open_how
    // whose size we pass; the kernel reads both and returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The path relative to the container root ("." for the root itself).
pub fn strip_root(path: &Path) -> PathBuf {
    let rel: PathBuf = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect();
    if rel.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rel
    }
}

/// What to create at a mount target that does not exist yet.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// Resolve `path` inside `root`, creating missing directories (and the final file when `kind`
/// is File), and return an O_PATH fd of the result. Each component is created relative to the
/// fd of its parent, resolved again through openat2, so a symlink planted by the image (or
/// raced in) is followed only within the root.
pub fn mkdir_all(root: BorrowedFd, path: &Path, kind: Kind) -> Result<OwnedFd> {
    mkdir_all_at_depth(root, path, kind, 0)
}

fn mkdir_all_at_depth(root: BorrowedFd, path: &Path, kind: Kind, depth: u32) -> Result<OwnedFd> {
    if depth > 40 {
        return Err(Error::io(
            "resolve in container root",
            path,
            std::io::Error::from_raw_os_error(libc::ELOOP),
        ));
    }
    let rel = strip_root(path);
    if let Ok(fd) = open_in_root(root, &rel, libc::O_PATH) {
        return Ok(fd);
    }
    let mut cur = PathBuf::new();
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps.iter().enumerate() {
        cur.push(c.as_os_str());
        match open_in_root(root, &cur, libc::O_PATH) {
            Ok(_) => continue,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(Error::io("resolve in container root", &cur, e)),
        }
        let parent = cur.parent().map(Path::to_path_buf).unwrap_or_default();
        let parent = if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent
        };
        let pfd = open_in_root(root, &parent, libc::O_PATH | libc::O_DIRECTORY)
            .map_err(|e| Error::io("resolve in container root", &parent, e))?;
        let name = cstr(Path::new(c.as_os_str()))?;
        let last = i + 1 == comps.len();
        // SAFETY: pfd is a valid directory fd and name a valid C string.
        let rc = unsafe {
            if last && kind == Kind::File {
                let fd = libc::openat(
                    pfd.as_raw_fd(),
                    name.as_ptr(),
                    libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_WRONLY
                        | libc::O_NOFOLLOW
                        | libc::O_CLOEXEC,
                    0o644,
                );
                if fd >= 0 {
                    libc::close(fd);
                    0
                } else {
                    -1
                }
            } else {
                libc::mkdirat(pfd.as_raw_fd(), name.as_ptr(), 0o755)
            }
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EEXIST) {
                return Err(Error::io("create in container root", &cur, e));
            }
            // It exists but did not resolve: a dangling symlink. Create its target instead,
            // still inside the root (an absolute target is taken from the root).
            if let Ok(target) = nix::fcntl::readlinkat(&pfd, Path::new(c.as_os_str())) {
                let mut next = if Path::new(&target).is_absolute() {
                    PathBuf::from(&target)
                } else {
                    parent.join(&target)
                };
                for rest in &comps[i + 1..] {
                    next.push(rest.as_os_str());
                }
                return mkdir_all_at_depth(root, &next, kind, depth + 1);
            }
        }
    }
    open_in_root(root, &rel, libc::O_PATH)
        .map_err(|e| Error::io("resolve in container root", &rel, e))
}

/// `/proc/self/fd/N`: the path through which a resolved fd is mounted on or read.
pub fn fd_path(fd: BorrowedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn symlink_out_of_root_is_clamped_inside() {
        let dir = std::env::temp_dir().join(format!("berth-resolve-{}", std::process::id()));
        let root = dir.join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
        let rfd = std::fs::File::open(&root).unwrap();
        let fd = mkdir_all(rfd.as_fd(), Path::new("/escape/target"), Kind::Dir).unwrap();
        drop(fd);
        assert!(root.join("etc/target").is_dir(), "created inside the root");
        assert!(
            !Path::new("/etc/target").exists(),
            "nothing created on the host"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
