//! `cp`: docker's archive copy in and out of a container, running or stopped, through its
//! mounted root. Every path inside the container is resolved with
//! `openat2(RESOLVE_IN_ROOT)` relative to an fd of the root (or of the source of the
//! volume or bind mount the path lies in, as docker copies into a mount's source), and
//! every entry written is created relative to its parent's fd with `O_NOFOLLOW`: a symlink
//! in the container (`/evil -> /etc`) resolves inside the container, never on the host.

use super::fs_tar::{cstr, open_at, TarOpts, TreeWriter};
use super::Engine;
use crate::store::Row;
use crate::{Error, Result};
use berth_runtime::rootfs::resolve::{mkdir_all, open_in_root, Kind};
use std::ffi::{CStr, OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Where the entries of a copy go: the directory to extract in, and the name the copied
/// object takes there (`None`: the contents of a source directory, `SRC/.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    pub dir: PathBuf,
    pub top: Option<OsString>,
}

fn base_name(p: &str) -> OsString {
    Path::new(p)
        .file_name()
        .map(OsStr::to_os_string)
        .unwrap_or_else(|| OsString::from("."))
}

fn parent_of(p: &str) -> PathBuf {
    let t = p.trim_end_matches('/');
    match Path::new(t).parent() {
        Some(x) if !x.as_os_str().is_empty() => x.to_path_buf(),
        _ if t.starts_with('/') || t.is_empty() => PathBuf::from("/"),
        _ => PathBuf::from("."),
    }
}

/// Does the path ask for the contents of a directory (`DIR/.`)?
pub fn wants_contents(p: &str) -> bool {
    p == "." || p.ends_with("/.")
}

/// Docker's rules (`docker cp`): a directory copied into an existing directory lands in
/// it under its own name, `SRC/.` copies the contents, a missing destination takes the
/// source's place, a trailing `/` on a missing destination needs a directory source.
/// `dst_is_dir`: None when the destination does not exist.
pub fn plan(src: &str, src_is_dir: bool, dst: &str, dst_is_dir: Option<bool>) -> Result<Dest> {
    let name = base_name(src.trim_end_matches("/.").trim_end_matches('/'));
    match dst_is_dir {
        Some(true) => Ok(Dest {
            dir: PathBuf::from(dst),
            top: if src_is_dir && wants_contents(src) {
                None
            } else {
                Some(name)
            },
        }),
        Some(false) if src_is_dir => Err(Error::InvalidArgument(format!(
            "cannot copy a directory to a file: {dst}"
        ))),
        Some(false) => Ok(Dest {
            dir: parent_of(dst),
            top: Some(base_name(dst)),
        }),
        None if !src_is_dir && (dst.ends_with('/') || wants_contents(dst)) => {
            Err(Error::InvalidArgument(format!("no such directory: {dst}")))
        }
        None => Ok(Dest {
            dir: parent_of(dst),
            top: Some(base_name(dst.trim_end_matches('/'))),
        }),
    }
}

/// A container path opened for a copy: the root it was resolved in, and the object.
pub struct Found {
    pub fd: OwnedFd,
    pub is_dir: bool,
}

/// A root to resolve container paths in: the container's root or a mount's source, with
/// the path relative to it.
pub struct InRoot {
    pub root: OwnedFd,
    pub rel: PathBuf,
    /// Docker's refusal to copy into it, if it is read-only (`--read-only`, a `:ro` mount).
    pub read_only: Option<&'static str>,
    /// Single-file binds (`-v /host/file:/etc/x`) below this root: the file in the root is
    /// only their mount point, so copies read and write their host file instead.
    pub file_binds: Vec<FileBind>,
}

/// A bind mount of one file, seen from the root a copy resolves paths in.
#[derive(Debug, Clone)]
pub struct FileBind {
    /// Its target, relative to the root (as [`InRoot::rel`]).
    pub rel: PathBuf,
    /// The host file.
    pub source: PathBuf,
    pub read_only: bool,
}

/// The path with `.` and `..` applied lexically (for matching mount targets).
fn clean(p: &str) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in Path::new(p).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

impl Engine {
    /// Where `path` of container `r` lives: inside a bind or volume mount's source
    /// directory when the path is below its target (longest target wins), else in its
    /// root (mounted if it is not).
    pub fn cp_root(&self, r: &Row, path: &str) -> Result<InRoot> {
        let want = clean(path);
        let spec: serde_json::Value = std::fs::read(self.dir(&r.id).join("config.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut best: Option<(PathBuf, PathBuf, bool)> = None;
        // (target, source, read-only) of binds of a single file.
        let mut files: Vec<(PathBuf, PathBuf, bool)> = Vec::new();
        for m in spec["mounts"].as_array().into_iter().flatten() {
            let is_bind = m["type"] == "bind"
                || m["options"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|x| x == "bind" || x == "rbind"));
            let (Some(dst), Some(src)) = (m["destination"].as_str(), m["source"].as_str()) else {
                continue;
            };
            let dst = clean(dst);
            let ro = m["options"]
                .as_array()
                .is_some_and(|o| o.iter().any(|x| x == "ro"));
            if is_bind && Path::new(src).is_file() {
                files.push((dst.clone(), PathBuf::from(src), ro));
            }
            if !is_bind || !Path::new(src).is_dir() || !want.starts_with(&dst) {
                continue;
            }
            if best
                .as_ref()
                .is_none_or(|(d, _, _)| dst.components().count() > d.components().count())
            {
                best = Some((dst, PathBuf::from(src), ro));
            }
        }
        let base = best
            .as_ref()
            .map_or_else(|| PathBuf::from("/"), |(dst, _, _)| dst.clone());
        let file_binds = files
            .into_iter()
            .filter_map(|(dst, source, read_only)| {
                Some(FileBind {
                    rel: dst.strip_prefix(&base).ok()?.to_path_buf(),
                    source,
                    read_only,
                })
            })
            .collect();
        let (root, rel, read_only) = match best {
            Some((dst, src, ro)) => (
                src,
                want.strip_prefix(&dst).unwrap_or(&want).to_path_buf(),
                ro.then_some("mounted volume is marked read-only"),
            ),
            None => {
                if !super::create::is_mounted(&self.rootfs(&r.id)) {
                    let _l = self.lock(&r.id)?;
                    self.ensure_mounted(&r.id, &self.image_chain(r)?)?;
                }
                (
                    self.rootfs(&r.id),
                    want.strip_prefix("/").unwrap_or(&want).to_path_buf(),
                    (spec["root"]["readonly"] == true)
                        .then_some("container rootfs is marked read-only"),
                )
            }
        };
        let f = std::fs::File::open(&root).map_err(|e| Error::io("open", &root, e))?;
        Ok(InRoot {
            root: f.into(),
            rel,
            read_only,
            file_binds,
        })
    }
}

impl InRoot {
    /// Open the object at the path; its last component is followed when it is a symlink
    /// only if `follow` (`-L`, or a trailing `/` or `/.`). None when it does not exist.
    pub fn find(&self, follow: bool) -> Result<Option<Found>> {
        let mut flags = libc::O_PATH;
        if !follow {
            flags |= libc::O_NOFOLLOW;
        }
        let opened = match self.file_bind(&self.rel) {
            // The user's host file, named by the user: opened as docker reads through the
            // mount.
            Some(b) => std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH)
                .open(&b.source)
                .map(OwnedFd::from),
            None => open_in_root(self.root.as_fd(), &self.rel, flags),
        };
        match opened {
            Ok(fd) => {
                let st = super::fs_tar::stat_at(fd.as_fd(), c"")
                    .map_err(|e| Error::io("stat", &self.rel, e))?;
                Ok(Some(Found {
                    fd,
                    is_dir: st.st_mode & libc::S_IFMT == libc::S_IFDIR,
                }))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(Error::io("open in container", &self.rel, e)),
        }
    }

    /// The single-file bind whose target is `rel` (relative to this root).
    fn file_bind(&self, rel: &Path) -> Option<&FileBind> {
        self.file_binds.iter().find(|b| b.rel == rel)
    }

    /// Write the object as a tar to `out`, its top entry named `top` (None: a directory's
    /// contents only).
    pub fn archive(&self, found: &Found, top: Option<&OsStr>, out: impl Write) -> Result<()> {
        let mut b = tar::Builder::new(out);
        let name = top.map(PathBuf::from).unwrap_or_default();
        TreeWriter::new(&mut b, TarOpts::default())
            .append_fd(found.fd.as_fd(), &name)
            .and_then(|_| b.finish())
            .map_err(|e| Error::io("archive", &self.rel, e))
    }

    /// Extract the tar `input` into the directory at this path (created if missing), every
    /// entry resolved inside the root. Owners are kept with `keep_owner` (`-a`), else the
    /// entries belong to root, as docker does.
    pub fn extract(&self, input: impl Read, keep_owner: bool) -> Result<()> {
        if let Some(why) = self.read_only {
            return Err(Error::Conflict(why.to_string()));
        }
        let mut a = tar::Archive::new(input);
        let entries = a
            .entries()
            .map_err(|e| Error::io("read archive for", &self.rel, e))?;
        for e in entries {
            let mut e = e.map_err(|e| Error::io("read archive for", &self.rel, e))?;
            let name = e
                .path()
                .map_err(|e| Error::io("read archive for", &self.rel, e))?
                .into_owned();
            let rel: PathBuf = name
                .components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .collect();
            let Some(leaf) = rel.file_name().map(OsStr::to_os_string) else {
                continue;
            };
            let full = self.rel.join(&rel);
            if let Some(b) = self.file_bind(&full) {
                write_through(b, &mut e, &full)?;
                continue;
            }
            let parent_path = full.parent().unwrap_or(Path::new(".")).to_path_buf();
            let parent = mkdir_all(self.root.as_fd(), &parent_path, Kind::Dir)
                .map_err(|e| Error::InvalidArgument(format!("{}: {e}", parent_path.display())))?;
            write_entry(
                parent.as_fd(),
                &leaf,
                &mut e,
                keep_owner,
                self.root.as_fd(),
                &self.rel,
            )
            .map_err(|err| Error::io("copy into container", &full, err))?;
        }
        Ok(())
    }
}

/// A copy onto the target of a single-file bind: the file in the container's root is only
/// the mount point: a new file there would stay hidden under the mount (or unlinking it
/// fails with EBUSY where the mount is in our namespace). So the content is written into the
/// host file, in place, as the mount keeps that inode; its owner and mode stay (the host's).
fn write_through<R: Read>(b: &FileBind, e: &mut tar::Entry<R>, full: &Path) -> Result<()> {
    let at = || Path::new("/").join(full);
    if b.read_only {
        return Err(Error::Conflict("mounted volume is marked read-only".into()));
    }
    let kind = e.header().entry_type();
    if !matches!(
        kind,
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse
    ) {
        return Err(Error::InvalidArgument(format!(
            "cannot replace {}: it is a bind-mounted file (only a file's content can be copied onto it)",
            at().display()
        )));
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&b.source)
        .map_err(|err| Error::io("copy into container", at(), err))?;
    std::io::copy(e, &mut f).map_err(|err| Error::io("copy into container", at(), err))?;
    Ok(())
}

fn errno<T: Into<i64>>(r: T) -> std::io::Result<()> {
    if r.into() < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Remove what is at `leaf` unless it is a directory and `keep_dir`.
fn clear(parent: BorrowedFd, leaf: &CStr, keep_dir: bool) -> std::io::Result<bool> {
    match super::fs_tar::stat_at(parent, leaf) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => {
            if keep_dir {
                return Ok(true);
            }
            // SAFETY: valid fd and name.
            errno(unsafe {
                libc::unlinkat(parent.as_raw_fd(), leaf.as_ptr(), libc::AT_REMOVEDIR)
            })?;
        }
        // SAFETY: valid fd and name; a symlink is removed itself, never followed.
        Ok(_) => errno(unsafe { libc::unlinkat(parent.as_raw_fd(), leaf.as_ptr(), 0) })?,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => return Err(e),
    }
    Ok(false)
}

fn write_entry<R: Read>(
    parent: BorrowedFd,
    leaf: &OsStr,
    e: &mut tar::Entry<R>,
    keep_owner: bool,
    root: BorrowedFd,
    base: &Path,
) -> std::io::Result<()> {
    let c = cstr(leaf)?;
    let h = e.header();
    let kind = h.entry_type();
    // Hand-made archives leave fields empty: docker's defaults then.
    let mode = h
        .mode()
        .unwrap_or(if kind.is_dir() { 0o755 } else { 0o644 })
        & 0o7777;
    let (uid, gid) = if keep_owner {
        (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32)
    } else {
        (0, 0)
    };
    let mtime = h.mtime().unwrap_or(0) as i64;
    // The object itself, opened without following, to set owner, mode and times on.
    let fd: Option<OwnedFd> = match kind {
        tar::EntryType::Directory => {
            if !clear(parent, &c, true)? {
                // SAFETY: valid fd and name.
                errno(unsafe { libc::mkdirat(parent.as_raw_fd(), c.as_ptr(), 0o700) })?;
            }
            Some(open_at(parent, &c, libc::O_RDONLY | libc::O_DIRECTORY)?)
        }
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            clear(parent, &c, false)?;
            let fd = open_at(parent, &c, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)?;
            let mut f = std::fs::File::from(fd);
            std::io::copy(e, &mut f)?;
            Some(f.into())
        }
        tar::EntryType::Symlink => {
            let target = e
                .link_name()?
                .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))?;
            let t = cstr(target.as_os_str())?;
            clear(parent, &c, false)?;
            // SAFETY: valid strings and fd.
            errno(unsafe { libc::symlinkat(t.as_ptr(), parent.as_raw_fd(), c.as_ptr()) })?;
            None
        }
        tar::EntryType::Link => {
            let target = e
                .link_name()?
                .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))?;
            let rel: PathBuf = target
                .components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .collect();
            let src = open_in_root(root, &base.join(rel), libc::O_PATH | libc::O_NOFOLLOW)?;
            clear(parent, &c, false)?;
            // SAFETY: valid fds and names; AT_EMPTY_PATH links the object of `src` itself.
            errno(unsafe {
                libc::linkat(
                    src.as_raw_fd(),
                    c"".as_ptr(),
                    parent.as_raw_fd(),
                    c.as_ptr(),
                    libc::AT_EMPTY_PATH,
                )
            })?;
            return Ok(());
        }
        tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
            let fmt = match kind {
                tar::EntryType::Char => libc::S_IFCHR,
                tar::EntryType::Block => libc::S_IFBLK,
                _ => libc::S_IFIFO,
            };
            let dev = libc::makedev(
                h.device_major()?.unwrap_or(0),
                h.device_minor()?.unwrap_or(0),
            );
            clear(parent, &c, false)?;
            // SAFETY: valid fd and name.
            errno(unsafe { libc::mknodat(parent.as_raw_fd(), c.as_ptr(), fmt | mode, dev) })?;
            None
        }
        // pax headers and the like carry no object.
        _ => return Ok(()),
    };
    match fd {
        Some(fd) => {
            // SAFETY: `fd` is the object just made (no path lookup).
            errno(unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) })?;
            // SAFETY: as above.
            errno(unsafe { libc::fchmod(fd.as_raw_fd(), mode) })?;
            let ts = [
                libc::timespec {
                    tv_sec: mtime,
                    tv_nsec: 0,
                },
                libc::timespec {
                    tv_sec: mtime,
                    tv_nsec: 0,
                },
            ];
            // SAFETY: valid fd and two timespecs.
            errno(unsafe { libc::futimens(fd.as_raw_fd(), ts.as_ptr()) })?;
        }
        None => {
            // SAFETY: valid fd and name; AT_SYMLINK_NOFOLLOW changes a symlink itself.
            errno(unsafe {
                libc::fchownat(
                    parent.as_raw_fd(),
                    c.as_ptr(),
                    uid,
                    gid,
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{plan, Dest};
    use std::path::PathBuf;

    fn into(dir: &str, top: Option<&str>) -> Dest {
        Dest {
            dir: PathBuf::from(dir),
            top: top.map(Into::into),
        }
    }

    #[test]
    fn dockers_copy_rules() {
        // A file: to a missing path (renamed), onto a file, into a dir.
        assert_eq!(
            plan("/a/f", false, "/b/g", None).unwrap(),
            into("/b", Some("g"))
        );
        assert_eq!(
            plan("/a/f", false, "/b/g", Some(false)).unwrap(),
            into("/b", Some("g"))
        );
        assert_eq!(
            plan("/a/f", false, "/b", Some(true)).unwrap(),
            into("/b", Some("f"))
        );
        // A file to a missing "dir/": the directory must exist.
        assert!(plan("/a/f", false, "/b/", None).is_err());
        // A directory: to a missing path (renamed), into a dir, onto a file (refused).
        assert_eq!(
            plan("/a/d", true, "/b/n", None).unwrap(),
            into("/b", Some("n"))
        );
        assert_eq!(
            plan("/a/d/", true, "/b", Some(true)).unwrap(),
            into("/b", Some("d"))
        );
        assert!(plan("/a/d", true, "/b/f", Some(false)).is_err());
        // DIR/. : its contents into an existing dir, or as a new dir.
        assert_eq!(
            plan("/a/d/.", true, "/b", Some(true)).unwrap(),
            into("/b", None)
        );
        assert_eq!(
            plan("/a/d/.", true, "/b/n", None).unwrap(),
            into("/b", Some("n"))
        );
        // Relative host paths.
        assert_eq!(
            plan("/a/f", false, "g", None).unwrap(),
            into(".", Some("g"))
        );
    }
}
