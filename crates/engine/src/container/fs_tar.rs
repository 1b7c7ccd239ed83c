//! Tar streams of a tree inside a container's filesystem, read through file descriptors
//! only: the top is opened with `openat2(RESOLVE_IN_ROOT)` by the caller and everything
//! below by name relative to its parent's fd with `O_NOFOLLOW`, so a symlink (or a rename
//! race) inside the container never makes Berth read a host file. Used by `cp`, `export`
//! and `commit` (which turns overlay whiteouts back into OCI `.wh.` entries).

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr};
use std::io::Write;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// How to write the tree.
#[derive(Debug, Clone, Copy, Default)]
pub struct TarOpts {
    /// The tree is an overlay upper dir: a char device 0:0 becomes `.wh.NAME`, an opaque
    /// directory gets a `.wh..wh..opq` entry.
    pub overlay_whiteouts: bool,
    /// Paths (relative to the top) left out of the tree: the runtime's mount points and
    /// the engine's /etc placeholders, for `commit`.
    pub skip: &'static [&'static str],
}

pub(crate) fn cstr(name: &OsStr) -> std::io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
}

pub(crate) fn stat_at(dir: BorrowedFd, name: &CStr) -> std::io::Result<libc::stat> {
    // SAFETY: stat is plain old data, filled in by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let flags = libc::AT_SYMLINK_NOFOLLOW
        | if name.is_empty() {
            libc::AT_EMPTY_PATH
        } else {
            0
        };
    // SAFETY: valid fd, NUL-terminated name, and a stat buffer we own.
    if unsafe { libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut st, flags) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st)
}

pub(crate) fn open_at(dir: BorrowedFd, name: &CStr, flags: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: valid fd and NUL-terminated name; a new fd or -1 comes back.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn readlink_at(dir: BorrowedFd, name: &CStr) -> std::io::Result<PathBuf> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: valid fd, NUL-terminated name, and a buffer of the length passed.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(PathBuf::from(OsStr::from_bytes(&buf)))
}

fn is_opaque_fd(fd: BorrowedFd) -> bool {
    let mut buf = [0u8; 4];
    for name in [c"trusted.overlay.opaque", c"user.overlay.opaque"] {
        // SAFETY: valid fd, NUL-terminated name, buffer of the length passed.
        let n = unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n == 1 && buf[0] == b'y' {
            return true;
        }
    }
    false
}

/// The names in the directory `fd`, sorted (a stable archive).
fn names_of(fd: BorrowedFd) -> std::io::Result<Vec<std::ffi::OsString>> {
    // The magic link names exactly this directory; only the names are read through it.
    let rd = std::fs::read_dir(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
    let mut v: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
    v.sort();
    Ok(v)
}

/// Writes a tree into a tar builder.
pub struct TreeWriter<'a, W: Write> {
    pub b: &'a mut tar::Builder<W>,
    pub opts: TarOpts,
    /// (dev, ino) of files with several links -> the first name written, for hard links.
    links: HashMap<(u64, u64), PathBuf>,
}

impl<'a, W: Write> TreeWriter<'a, W> {
    pub fn new(b: &'a mut tar::Builder<W>, opts: TarOpts) -> Self {
        TreeWriter {
            b,
            opts,
            links: HashMap::new(),
        }
    }

    fn header(st: &libc::stat, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(st.st_mode & 0o7777);
        h.set_uid(u64::from(st.st_uid));
        h.set_gid(u64::from(st.st_gid));
        h.set_mtime(st.st_mtime.max(0) as u64);
        h.set_size(0);
        h
    }

    /// Write the entry `name` of directory `parent` as `tar_name` (and all below it).
    /// An empty `tar_name` writes only the children of a directory (`export`, `cp DIR/.`).
    pub fn append(
        &mut self,
        parent: BorrowedFd,
        name: &OsStr,
        tar_name: &Path,
    ) -> std::io::Result<()> {
        let c = cstr(name)?;
        let st = stat_at(parent, &c)?;
        self.append_stat(parent, &c, &st, tar_name)
    }

    /// As [`Self::append`] for the object `fd` itself (opened `O_PATH` by the caller).
    pub fn append_fd(&mut self, fd: BorrowedFd, tar_name: &Path) -> std::io::Result<()> {
        let st = stat_at(fd, c"")?;
        self.append_stat(fd, c"", &st, tar_name)
    }

    fn append_stat(
        &mut self,
        parent: BorrowedFd,
        c: &CStr,
        st: &libc::stat,
        tar_name: &Path,
    ) -> std::io::Result<()> {
        let fmt = st.st_mode & libc::S_IFMT;
        let top = tar_name.as_os_str().is_empty();
        match fmt {
            libc::S_IFDIR => {
                // An O_PATH fd cannot be listed: reopen (through the magic link of exactly
                // that fd when `c` is empty).
                let dir = if c.is_empty() {
                    let p = cstr(OsStr::new(&format!("/proc/self/fd/{}", parent.as_raw_fd())))?;
                    // SAFETY: valid NUL-terminated path; a new fd or -1.
                    let fd = unsafe {
                        libc::open(
                            p.as_ptr(),
                            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
                        )
                    };
                    if fd < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // SAFETY: fresh fd.
                    unsafe { OwnedFd::from_raw_fd(fd) }
                } else {
                    open_at(parent, c, libc::O_RDONLY | libc::O_DIRECTORY)?
                };
                use std::os::fd::AsFd;
                if !top {
                    let mut h = Self::header(st, tar::EntryType::Directory);
                    self.b
                        .append_data(&mut h, dir_name(tar_name), std::io::empty())?;
                    if self.opts.overlay_whiteouts && is_opaque_fd(dir.as_fd()) {
                        let mut h = Self::header(st, tar::EntryType::Regular);
                        h.set_mode(0o644);
                        self.b.append_data(
                            &mut h,
                            tar_name.join(".wh..wh..opq"),
                            std::io::empty(),
                        )?;
                    }
                }
                for n in names_of(dir.as_fd())? {
                    let child = tar_name.join(&n);
                    if self.opts.skip.iter().any(|s| Path::new(s) == child) {
                        continue;
                    }
                    self.append(dir.as_fd(), &n, &child)?;
                }
            }
            libc::S_IFREG => {
                if st.st_nlink > 1 {
                    let key = (st.st_dev, st.st_ino);
                    if let Some(first) = self.links.get(&key) {
                        let mut h = Self::header(st, tar::EntryType::Link);
                        let first = first.clone();
                        return self.b.append_link(&mut h, tar_name, first);
                    }
                    self.links.insert(key, tar_name.to_path_buf());
                }
                let f = if c.is_empty() {
                    let p = format!("/proc/self/fd/{}", parent.as_raw_fd());
                    std::fs::File::open(p)?
                } else {
                    // O_NONBLOCK: a FIFO swapped in since the stat must not block the open.
                    let f =
                        std::fs::File::from(open_at(parent, c, libc::O_RDONLY | libc::O_NONBLOCK)?);
                    let m = f.metadata()?;
                    if !m.is_file() || std::os::unix::fs::MetadataExt::ino(&m) != st.st_ino {
                        return Err(std::io::Error::other(format!(
                            "{} changed while it was read",
                            tar_name.display()
                        )));
                    }
                    f
                };
                let mut h = Self::header(st, tar::EntryType::Regular);
                h.set_size(st.st_size as u64);
                // A file that changes size while read would corrupt the stream: take exactly
                // the size announced (padding with zeros if it shrank).
                let r = std::io::Read::chain(
                    std::io::Read::take(f, st.st_size as u64),
                    std::io::repeat(0),
                );
                self.b
                    .append_data(&mut h, tar_name, std::io::Read::take(r, st.st_size as u64))?;
            }
            libc::S_IFLNK => {
                let target = readlink_at(parent, c)?;
                let mut h = Self::header(st, tar::EntryType::Symlink);
                self.b.append_link(&mut h, tar_name, target)?;
            }
            libc::S_IFCHR if self.opts.overlay_whiteouts && st.st_rdev == 0 => {
                let name = tar_name.file_name().unwrap_or_default();
                let mut wh = std::ffi::OsString::from(".wh.");
                wh.push(name);
                let mut h = Self::header(st, tar::EntryType::Regular);
                h.set_mode(0o644);
                self.b
                    .append_data(&mut h, tar_name.with_file_name(wh), std::io::empty())?;
            }
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                let kind = match fmt {
                    libc::S_IFCHR => tar::EntryType::Char,
                    libc::S_IFBLK => tar::EntryType::Block,
                    _ => tar::EntryType::Fifo,
                };
                let mut h = Self::header(st, kind);
                h.set_device_major(libc::major(st.st_rdev))?;
                h.set_device_minor(libc::minor(st.st_rdev))?;
                self.b.append_data(&mut h, tar_name, std::io::empty())?;
            }
            // Sockets have no tar form; docker skips them too.
            _ => {}
        }
        Ok(())
    }
}

fn dir_name(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push("/");
    PathBuf::from(s)
}
