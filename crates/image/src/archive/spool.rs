//! An input archive unpacked into a private directory, so its files can be read in any
//! order (`docker save` writes manifest.json last) and from a pipe. Nothing in it is ever
//! followed out of it: entries are created without following symlinks (a `..` or absolute
//! path is refused), and files are read back with `openat2(RESOLVE_BENEATH)`, so a symlink
//! or a manifest path that leads outside fails. The directory is removed when dropped; a
//! kill -9 leaves it in `ingest/` named with the pid, where the next pull or load removes it.

use crate::error::{Error, Result};
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) struct Spool {
    dir: PathBuf,
    fd: OwnedFd,
}

pub(crate) fn refuse(why: impl Into<String>) -> Error {
    Error::BadArchive(why.into())
}

fn cstr(b: &[u8]) -> Result<CString> {
    CString::new(b).map_err(|_| refuse("a path holds a NUL byte"))
}

fn fd_or(ret: i32, what: &'static str, path: &Path) -> Result<OwnedFd> {
    if ret < 0 {
        return Err(Error::io(what, path, std::io::Error::last_os_error()));
    }
    // SAFETY: a fresh fd the kernel just returned to us.
    Ok(unsafe { OwnedFd::from_raw_fd(ret) })
}

/// The relative, `..`-free components of an entry name; anything else is refused.
pub(crate) fn clean(name: &Path) -> Result<Vec<&std::ffi::OsStr>> {
    let mut parts = Vec::new();
    for c in name.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(refuse(format!("entry {:?} climbs out with '..'", name)))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse(format!("entry {:?} is an absolute path", name)))
            }
        }
    }
    Ok(parts)
}

impl Spool {
    /// Unpack the (already decompressed) tar stream into a new directory under `parent`.
    pub(crate) fn extract(tar_stream: impl Read, parent: &Path) -> Result<Spool> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = parent.join(format!(
            "load.{}.{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let c = cstr(dir.as_os_str().as_bytes())?;
        // SAFETY: open with a valid C string.
        let ret = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        let fd = match fd_or(ret, "open", &dir) {
            Ok(fd) => fd,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let spool = Spool { dir, fd };
        spool.fill(tar_stream)?;
        Ok(spool)
    }

    fn fill(&self, tar_stream: impl Read) -> Result<()> {
        let mut archive = tar::Archive::new(tar_stream);
        let bad_tar = |e: std::io::Error| refuse(format!("not a tar archive: {e}"));
        let mut entries = 0u64;
        for entry in archive.entries().map_err(bad_tar)? {
            let mut entry = entry.map_err(bad_tar)?;
            let name = entry.path().map_err(bad_tar)?.into_owned();
            let parts = clean(&name)?;
            entries += 1;
            let Some((last, dirs)) = parts.split_last() else {
                continue; // "./"
            };
            let parent = self.dirs(dirs, &name)?;
            let leaf = cstr(last.as_bytes())?;
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                // SAFETY: mkdirat on a dir fd we own with a valid name.
                unsafe { libc::mkdirat(parent.as_raw_fd(), leaf.as_ptr(), 0o755) };
                continue;
            }
            // A later entry of the same name replaces the earlier one, as tar does.
            // SAFETY: unlinkat on a dir fd we own with a valid name; failure is fine.
            unsafe { libc::unlinkat(parent.as_raw_fd(), leaf.as_ptr(), 0) };
            if kind.is_symlink() {
                let target = entry
                    .link_name()
                    .map_err(bad_tar)?
                    .ok_or_else(|| refuse(format!("symlink {name:?} has no target")))?;
                let t = cstr(target.as_os_str().as_bytes())?;
                // SAFETY: valid C strings and a dir fd we own.
                if unsafe { libc::symlinkat(t.as_ptr(), parent.as_raw_fd(), leaf.as_ptr()) } != 0 {
                    return Err(Error::io(
                        "create symlink",
                        self.dir.join(&name),
                        std::io::Error::last_os_error(),
                    ));
                }
            } else if kind.is_file() || kind == tar::EntryType::Continuous {
                // SAFETY: openat on a dir fd we own; O_NOFOLLOW|O_EXCL never follows a link.
                let ret = unsafe {
                    libc::openat(
                        parent.as_raw_fd(),
                        leaf.as_ptr(),
                        libc::O_WRONLY
                            | libc::O_CREAT
                            | libc::O_EXCL
                            | libc::O_NOFOLLOW
                            | libc::O_CLOEXEC,
                        0o644,
                    )
                };
                let fd = fd_or(ret, "create", &self.dir.join(&name))?;
                let mut f = File::from(fd);
                std::io::copy(&mut entry, &mut f)
                    .map_err(|e| Error::io("write", self.dir.join(&name), e))?;
            } else if kind.is_pax_global_extensions()
                || kind.is_pax_local_extensions()
                || kind.is_gnu_longname()
                || kind.is_gnu_longlink()
            {
                continue;
            } else {
                return Err(refuse(format!(
                    "entry {name:?} is a {kind:?}; an image archive holds only files, directories and symlinks"
                )));
            }
        }
        if entries == 0 {
            return Err(refuse("the archive is empty"));
        }
        Ok(())
    }

    /// Open (creating) the directories `dirs` below the spool root, never following a symlink.
    fn dirs(&self, dirs: &[&std::ffi::OsStr], name: &Path) -> Result<OwnedFd> {
        // SAFETY: dup of an fd we own.
        let mut cur = fd_or(
            unsafe { libc::fcntl(self.fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) },
            "dup",
            &self.dir,
        )?;
        for d in dirs {
            let c = cstr(d.as_bytes())?;
            // SAFETY: mkdirat/openat on an fd we own with a valid name.
            unsafe { libc::mkdirat(cur.as_raw_fd(), c.as_ptr(), 0o755) };
            let ret = unsafe {
                libc::openat(
                    cur.as_raw_fd(),
                    c.as_ptr(),
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                )
            };
            cur = fd_or(ret, "open", &self.dir.join(name)).map_err(|_| {
                refuse(format!(
                    "entry {name:?} goes through {d:?}, which is not a directory of the archive"
                ))
            })?;
        }
        Ok(cur)
    }

    /// Open a file of the archive by its path inside it; symlinks are followed only while
    /// they stay inside the archive.
    pub(crate) fn open(&self, rel: &str) -> Result<File> {
        let parts = clean(Path::new(rel))
            .map_err(|_| refuse(format!("{rel:?} points outside the archive")))?;
        if parts.is_empty() {
            return Err(refuse(format!("{rel:?} is not a file of the archive")));
        }
        let c = cstr(rel.as_bytes())?;
        // SAFETY: open_how is plain old data; zero is its default.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (libc::O_RDONLY | libc::O_CLOEXEC) as u64;
        how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
        // SAFETY: openat2 with a valid C string and an open_how of the size passed.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        } as i32;
        if ret < 0 {
            let e = std::io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::EXDEV) | Some(libc::ELOOP) => {
                    refuse(format!("{rel:?} points outside the archive"))
                }
                Some(libc::ENOENT) | Some(libc::ENOTDIR) => refuse(format!(
                    "{rel:?} is named in the archive's index but missing"
                )),
                _ => Error::io("open", self.dir.join(rel), e),
            });
        }
        // SAFETY: a fresh fd from openat2.
        let f = File::from(unsafe { OwnedFd::from_raw_fd(ret) });
        match f.metadata() {
            Ok(m) if m.is_file() => Ok(f),
            _ => Err(refuse(format!("{rel:?} is not a regular file"))),
        }
    }

    pub(crate) fn exists(&self, rel: &str) -> bool {
        self.open(rel).is_ok()
    }

    pub(crate) fn read(&self, rel: &str) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.open(rel)?
            .read_to_end(&mut v)
            .map_err(|e| Error::io("read", self.dir.join(rel), e))?;
        Ok(v)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
