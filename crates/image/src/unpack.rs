//! Layer unpack: a (compressed) tar stream written into a snapshot directory, with OCI
//! whiteouts turned into overlayfs form, and hostile archives refused.
//!
//! Every path is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` relative to
//! the snapshot's directory fd: a `..` entry, an absolute path, or a symlink (made by this or
//! an earlier entry) that would lead a write or a hard link outside the snapshot fails with
//! EXDEV and the whole layer is refused. `unpack_new` removes the half-made snapshot then.
//!
//! Parent directories a layer has no entries for are made 0755 and root's (a later entry for
//! one sets its own metadata); GNU sparse files are written out in full; an entry of a kind
//! that makes nothing known (a volume label, a dumpdir) is refused rather than left out.
//!
//! Written for a slow disk: no fsync per file, parent directories resolved once and
//! remembered, a file's owner, mode and times set through its open fd, large writes.

use crate::error::{Error, Result};
use std::ffi::{CString, OsStr};
use std::io::Read;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// OCI whiteout prefix and the opaque-directory marker.
const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

#[derive(Clone, Debug)]
pub struct Options {
    /// Refuse a layer whose entries add up to more than this many bytes.
    pub max_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_bytes: 64 << 30,
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
}

fn hostile(why: impl Into<String>) -> Error {
    Error::HostileLayer(why.into())
}

/// The stream's compression, from its first bytes.
pub fn decompress<'a, R: Read + 'a>(mut r: R) -> Result<Box<dyn Read + 'a>> {
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < 4 {
        match r
            .read(&mut magic[n..])
            .map_err(|e| Error::io("read layer", "", e))?
        {
            0 => break,
            k => n += k,
        }
    }
    let head = std::io::Cursor::new(magic[..n].to_vec()).chain(r);
    if n >= 2 && magic[..2] == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::GzDecoder::new(head)))
    } else if n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        let d = zstd::stream::read::Decoder::new(head)
            .map_err(|e| Error::io("start zstd decoder", "", e))?;
        Ok(Box::new(d))
    } else {
        Ok(Box::new(head))
    }
}

/// Unpack into a directory that must not exist yet; on any error it is removed again.
pub fn unpack_new(layer: impl Read, dir: &Path, opts: &Options) -> Result<Stats> {
    std::fs::create_dir(dir).map_err(|e| Error::io("create snapshot", dir, e))?;
    let res = unpack(layer, dir, opts);
    if res.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    res
}

/// Unpack `layer` (plain, gzip or zstd) into the existing directory `dir`.
pub fn unpack(layer: impl Read, dir: &Path, opts: &Options) -> Result<Stats> {
    unpack_hashed(layer, dir, opts).map(|(s, _)| s)
}

/// As [`unpack`], also returning the digest of the uncompressed tar (the layer's diff ID),
/// computed in the same pass.
pub fn unpack_hashed(
    layer: impl Read,
    dir: &Path,
    opts: &Options,
) -> Result<(Stats, crate::Digest)> {
    let mut hashing = HashingReader {
        inner: decompress(layer)?,
        verifier: crate::digest::Verifier::new(crate::digest::Algorithm::Sha256),
    };
    let stats = unpack_tar(&mut hashing, dir, opts)?;
    // The tar end-of-archive padding belongs to the diff ID too.
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| Error::io("read layer", dir, e))?;
    Ok((stats, hashing.verifier.finish()))
}

struct HashingReader<R> {
    inner: R,
    verifier: crate::digest::Verifier,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.verifier.update(&buf[..n]);
        Ok(n)
    }
}

/// Parent directories already resolved beneath the root, by path: entries of a layer come
/// grouped by directory, and resolving every parent again (one openat2 per component) was
/// most of the unpack's system time. Adding entries never changes where an existing
/// directory path leads; removing one can (a directory or symlink replaced), so any
/// removal empties the cache.
struct Parents {
    fds: std::collections::HashMap<PathBuf, std::rc::Rc<OwnedFd>>,
}

impl Parents {
    /// Bounded, so that a layer with many directories cannot run out of file descriptors.
    const MAX: usize = 256;

    fn get(&mut self, root: BorrowedFd, parent: &Path) -> Result<std::rc::Rc<OwnedFd>> {
        if let Some(fd) = self.fds.get(parent) {
            return Ok(fd.clone());
        }
        let fd = std::rc::Rc::new(mkdir_parents(root, parent)?);
        if self.fds.len() >= Self::MAX {
            self.fds.clear();
        }
        self.fds.insert(parent.to_path_buf(), fd.clone());
        Ok(fd)
    }

    /// Remove whatever is at `name` in `dir`, forgetting cached paths if anything went.
    fn remove(&mut self, dir: BorrowedFd, name: &OsStr) -> Result<()> {
        if remove_any(dir, name)? {
            self.fds.clear();
        }
        Ok(())
    }
}

/// Make `name` in `dir` with `make`; if something is in the way, remove it and try again
/// (a later layer entry replaces an earlier one).
fn create(
    parents: &mut Parents,
    dir: BorrowedFd,
    name: &OsStr,
    mut make: impl FnMut() -> std::io::Result<()>,
) -> std::io::Result<()> {
    match make() {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            parents.remove(dir, name).map_err(std::io::Error::other)?;
            make()
        }
        r => r,
    }
}

fn unpack_tar(tar_stream: impl Read, dir: &Path, opts: &Options) -> Result<Stats> {
    let root = open_dir(dir)?;
    let mut archive = tar::Archive::new(tar_stream);
    let mut stats = Stats::default();
    let mut dir_times = Vec::new();
    let mut parents = Parents {
        fds: Default::default(),
    };
    let mut buf = vec![0u8; 256 << 10];
    for entry in archive
        .entries()
        .map_err(|e| Error::io("read layer", dir, e))?
    {
        let mut entry = entry.map_err(|e| Error::io("read layer entry", dir, e))?;
        use tar::EntryType as T;
        let kind = entry.header().entry_type();
        // Records about other entries: `tar` applies pax and GNU long-name records to the
        // entry they describe; a pax global header (git archive writes one) makes no file.
        if matches!(
            kind,
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink
        ) {
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        let rel = clean_path(&raw)?;
        let Some(rel) = rel else { continue }; // the root itself ("./")
        stats.entries += 1;
        // The entry's real size: a GNU sparse file's is more than what the archive holds.
        stats.bytes += entry.size();
        if stats.bytes > opts.max_bytes {
            return Err(hostile(format!(
                "layer is larger than the limit of {} bytes",
                opts.max_bytes
            )));
        }
        let name = rel
            .file_name()
            .expect("cleaned paths have a last component")
            .to_owned();
        let parent = rel.parent().unwrap_or(Path::new(""));
        let pfd = parents.get(root.as_fd_ref(), parent)?;
        let name_b = name.as_bytes();
        if name_b == OPAQUE.as_bytes() {
            set_xattr(pfd.as_fd_ref(), None, "trusted.overlay.opaque", b"y")?;
            continue;
        }
        if let Some(hidden) = name_b.strip_prefix(WHITEOUT.as_bytes()) {
            let hidden = OsStr::from_bytes(hidden);
            parents.remove(pfd.as_fd_ref(), hidden)?;
            // overlayfs whiteout: a 0:0 character device with no permissions.
            mknod(pfd.as_fd_ref(), hidden, libc::S_IFCHR, 0)?;
            continue;
        }
        let h = entry.header().clone();
        let mode = h.mode().unwrap_or(0o644) & 0o7777;
        match kind {
            T::Directory => {
                match mkdirat(pfd.as_fd_ref(), &name, 0o700) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                        if !is_dir(pfd.as_fd_ref(), &name) {
                            parents.remove(pfd.as_fd_ref(), &name)?;
                            mkdirat(pfd.as_fd_ref(), &name, 0o700)
                                .map_err(|e| Error::io("mkdir", &rel, e))?;
                        }
                    }
                    Err(e) => return Err(Error::io("mkdir", &rel, e)),
                }
                dir_times.push((rel.clone(), h.mtime().unwrap_or(0)));
            }
            // A GNU sparse file is read with its holes as zeros (the tar crate writes one for
            // any file with holes, such as a linker's output).
            T::Regular | T::Continuous | T::GNUSparse => {
                let mut fd = None;
                create(&mut parents, pfd.as_fd_ref(), &name, || {
                    fd = Some(openat(
                        pfd.as_fd_ref(),
                        &name,
                        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
                        0o600,
                    )?);
                    Ok(())
                })
                .map_err(|e| Error::io("create", &rel, e))?;
                let mut f = std::fs::File::from(fd.expect("created"));
                copy(&mut entry, &mut f, &mut buf).map_err(|e| Error::io("write", &rel, e))?;
                // Owner, mode and times through the open file: no path lookups.
                set_file_meta(&f, &h, mode, &rel)?;
                set_xattrs(&mut entry, pfd.as_fd_ref(), &name)?;
                continue;
            }
            T::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| hostile(format!("symlink {} without a target", rel.display())))?
                    .into_owned();
                let t = CString::new(target).map_err(|_| hostile("NUL in a symlink target"))?;
                let n = cstr(&name)?;
                create(&mut parents, pfd.as_fd_ref(), &name, || {
                    // SAFETY: valid C strings and a directory fd we own.
                    if unsafe { libc::symlinkat(t.as_ptr(), pfd.as_raw_fd(), n.as_ptr()) } != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                })
                .map_err(|e| Error::io("symlink", &rel, e))?;
            }
            T::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| {
                        hostile(format!("hard link {} without a target", rel.display()))
                    })?
                    .into_owned();
                let trel = clean_path(&target)?
                    .ok_or_else(|| hostile(format!("hard link {} to the root", rel.display())))?;
                let tparent =
                    parents.get(root.as_fd_ref(), trel.parent().unwrap_or(Path::new("")))?;
                let tname = cstr(trel.file_name().expect("cleaned"))?;
                parents.remove(pfd.as_fd_ref(), &name)?;
                let n = cstr(&name)?;
                // SAFETY: linkat between directory fds we own, names are C strings; no
                // AT_SYMLINK_FOLLOW, so a symlink target is linked itself, not followed.
                if unsafe {
                    libc::linkat(
                        tparent.as_raw_fd(),
                        tname.as_ptr(),
                        pfd.as_raw_fd(),
                        n.as_ptr(),
                        0,
                    )
                } != 0
                {
                    return Err(Error::io(
                        "hard link",
                        &rel,
                        std::io::Error::last_os_error(),
                    ));
                }
                continue; // a hard link shares the target's metadata
            }
            T::Char | T::Block | T::Fifo => {
                let node = match kind {
                    T::Char => libc::S_IFCHR,
                    T::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                let dev = libc::makedev(
                    h.device_major().ok().flatten().unwrap_or(0),
                    h.device_minor().ok().flatten().unwrap_or(0),
                );
                parents.remove(pfd.as_fd_ref(), &name)?;
                mknod(pfd.as_fd_ref(), &name, node | 0o600, dev)?;
            }
            // Skipping it would leave a file out of the image without a word: refuse, as
            // docker and containerd do (GNU volume labels, dumpdirs, multi-volume parts).
            _ => {
                return Err(Error::Unsupported(format!(
                    "tar entry {} of type '{}' in a layer",
                    rel.display(),
                    kind.as_byte().escape_ascii()
                )))
            }
        }
        let is_link = kind == T::Symlink;
        chown(
            pfd.as_fd_ref(),
            &name,
            h.uid().unwrap_or(0) as u32,
            h.gid().unwrap_or(0) as u32,
            &rel,
        )?;
        if !is_link {
            chmod(pfd.as_fd_ref(), &name, mode, &rel)?;
        }
        set_xattrs(&mut entry, pfd.as_fd_ref(), &name)?;
        if kind != T::Directory {
            set_mtime(pfd.as_fd_ref(), &name, h.mtime().unwrap_or(0) as i64, &rel)?;
        }
    }
    // Directory times last: creating their entries changed them.
    for (rel, mtime) in dir_times.iter().rev() {
        let parent = rel.parent().unwrap_or(Path::new(""));
        let pfd = parents.get(root.as_fd_ref(), parent)?;
        set_mtime(
            pfd.as_fd_ref(),
            rel.file_name().expect("cleaned"),
            *mtime as i64,
            rel,
        )?;
    }
    Ok(stats)
}

/// Pax `SCHILY.xattr.*` records of the entry, set on `name` in `dir`.
fn set_xattrs<R: Read>(entry: &mut tar::Entry<R>, dir: BorrowedFd, name: &OsStr) -> Result<()> {
    if let Ok(Some(exts)) = entry.pax_extensions() {
        for ext in exts.flatten() {
            if let Some(key) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                let key = String::from_utf8_lossy(key).into_owned();
                set_xattr(dir, Some(name), &key, ext.value_bytes())?;
            }
        }
    }
    Ok(())
}

/// Copy with a large buffer: fewer, bigger writes than `io::copy`'s 8 KiB.
fn copy(from: &mut impl Read, to: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<()> {
    loop {
        match from.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => std::io::Write::write_all(to, &buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Owner, then mode (a chown clears set-id bits), then times, of a file just written.
fn set_file_meta(f: &std::fs::File, h: &tar::Header, mode: u32, rel: &Path) -> Result<()> {
    let fd = f.as_raw_fd();
    let (uid, gid) = (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32);
    // SAFETY: fchown on an fd we own.
    if unsafe { libc::fchown(fd, uid, gid) } != 0 {
        return Err(Error::io("chown", rel, std::io::Error::last_os_error()));
    }
    // SAFETY: fchmod on an fd we own.
    if unsafe { libc::fchmod(fd, mode) } != 0 {
        return Err(Error::io("chmod", rel, std::io::Error::last_os_error()));
    }
    let t = libc::timespec {
        tv_sec: h.mtime().unwrap_or(0) as i64,
        tv_nsec: 0,
    };
    // SAFETY: futimens with two timespecs we own.
    if unsafe { libc::futimens(fd, [t, t].as_ptr()) } != 0 {
        return Err(Error::io(
            "set times of",
            rel,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// An entry's path relative to the layer root; `None` for the root itself. Absolute paths
/// and `..` are refused outright (OCI layers never need them).
fn clean_path(raw: &[u8]) -> Result<Option<PathBuf>> {
    let p = Path::new(OsStr::from_bytes(raw));
    if p.is_absolute() {
        return Err(hostile(format!("absolute path {}", p.display())));
    }
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(hostile(format!("path with '..': {}", p.display())))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(hostile(format!("absolute path {}", p.display())))
            }
        }
    }
    Ok(if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    })
}

trait FdRef {
    fn as_fd_ref(&self) -> BorrowedFd<'_>;
}

impl FdRef for OwnedFd {
    fn as_fd_ref(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.as_fd()
    }
}

fn cstr(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| hostile("NUL in a path"))
}

fn open_dir(p: &Path) -> Result<OwnedFd> {
    let c = cstr(p.as_os_str())?;
    // SAFETY: open with a valid C string; a new fd or -1.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::io("open", p, std::io::Error::last_os_error()));
    }
    // SAFETY: fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// openat2 beneath `dir`: EXDEV whenever resolution would leave it.
fn openat(dir: BorrowedFd, name: &OsStr, flags: i32, mode: u32) -> std::io::Result<OwnedFd> {
    let c = CString::new(name.as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: open_how is plain old data; zero is its default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = if flags & libc::O_CREAT != 0 {
        mode as u64
    } else {
        0
    };
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: valid C string and open_how with its size.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn mkdirat(dir: BorrowedFd, name: &OsStr, mode: u32) -> std::io::Result<()> {
    let c = CString::new(name.as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: valid C string and directory fd.
    if unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Each parent component is made (as a directory) or resolved beneath the root; a symlink
/// that leads out is refused rather than followed. A parent the layer has no entry for (yet)
/// is made as docker and containerd make it: 0755 and owned by root, whatever the umask; a
/// later entry for it gives it its own metadata.
fn mkdir_parents(root: BorrowedFd, parent: &Path) -> Result<OwnedFd> {
    let mut cur = PathBuf::new();
    for c in parent.components() {
        cur.push(c);
        match openat(root, cur.as_os_str(), libc::O_PATH | libc::O_DIRECTORY, 0) {
            Ok(_) => continue,
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                return Err(hostile(format!(
                    "{} leads outside the layer through a symlink",
                    cur.display()
                )))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                let up = cur.parent().unwrap_or(Path::new(""));
                let ufd = if up.as_os_str().is_empty() {
                    dup(root)?
                } else {
                    openat(root, up.as_os_str(), libc::O_PATH | libc::O_DIRECTORY, 0)
                        .map_err(|e| Error::io("open", up, e))?
                };
                let name = cur.file_name().expect("component");
                match mkdirat(ufd.as_fd_ref(), name, 0o755) {
                    Ok(()) => {
                        chown(ufd.as_fd_ref(), name, 0, 0, &cur)?;
                        chmod(ufd.as_fd_ref(), name, 0o755, &cur)?;
                    }
                    // A dangling symlink sits there: refuse rather than guess where it points.
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                        return Err(hostile(format!(
                            "{} is a symlink that does not stay inside the layer",
                            cur.display()
                        )))
                    }
                    Err(e) => return Err(Error::io("mkdir", &cur, e)),
                }
            }
            Err(e) => return Err(Error::io("open", &cur, e)),
        }
    }
    if cur.as_os_str().is_empty() {
        return dup(root);
    }
    openat(root, cur.as_os_str(), libc::O_PATH | libc::O_DIRECTORY, 0).map_err(|e| {
        match e.raw_os_error() {
            Some(libc::EXDEV) => hostile(format!(
                "{} leads outside the layer through a symlink",
                cur.display()
            )),
            _ => Error::io("open", &cur, e),
        }
    })
}

fn dup(fd: BorrowedFd) -> Result<OwnedFd> {
    fd.try_clone_to_owned().map_err(|e| Error::io("dup", "", e))
}

fn is_dir(dir: BorrowedFd, name: &OsStr) -> bool {
    let Ok(c) = CString::new(name.as_bytes()) else {
        return false;
    };
    // SAFETY: stat buffer we own; valid C string.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstatat(
            dir.as_raw_fd(),
            c.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        ) == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFDIR
    }
}

/// Remove whatever is at `name` (file, link, or a whole directory tree), if anything;
/// true when something was removed.
fn remove_any(dir: BorrowedFd, name: &OsStr) -> Result<bool> {
    let c = cstr(name)?;
    // SAFETY: unlinkat on a directory fd with a valid C string.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) } == 0 {
        return Ok(true);
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ENOENT) => Ok(false),
        Some(libc::EISDIR) => {
            // Through /proc/self/fd of our O_PATH fd: the tree is inside the layer.
            let p = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
            std::fs::remove_dir_all(&p)
                .map(|()| true)
                .map_err(|e| Error::io("remove", p, e))
        }
        _ => Err(Error::io(
            "remove",
            Path::new(name),
            std::io::Error::last_os_error(),
        )),
    }
}

fn mknod(dir: BorrowedFd, name: &OsStr, mode: u32, dev: libc::dev_t) -> Result<()> {
    let c = cstr(name)?;
    // SAFETY: mknodat on a directory fd with a valid C string.
    if unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), mode, dev) } != 0 {
        return Err(Error::io(
            "mknod",
            Path::new(name),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

fn chown(dir: BorrowedFd, name: &OsStr, uid: u32, gid: u32, rel: &Path) -> Result<()> {
    let c = cstr(name)?;
    // SAFETY: fchownat without following symlinks, valid C string.
    if unsafe {
        libc::fchownat(
            dir.as_raw_fd(),
            c.as_ptr(),
            uid,
            gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    } != 0
    {
        return Err(Error::io("chown", rel, std::io::Error::last_os_error()));
    }
    Ok(())
}

fn chmod(dir: BorrowedFd, name: &OsStr, mode: u32, rel: &Path) -> Result<()> {
    let c = cstr(name)?;
    // SAFETY: fchmodat on a non-symlink entry we just made; valid C string.
    if unsafe { libc::fchmodat(dir.as_raw_fd(), c.as_ptr(), mode, 0) } != 0 {
        return Err(Error::io("chmod", rel, std::io::Error::last_os_error()));
    }
    Ok(())
}

fn set_mtime(dir: BorrowedFd, name: &OsStr, secs: i64, rel: &Path) -> Result<()> {
    let c = cstr(name)?;
    let ts = [
        libc::timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
    ];
    // SAFETY: utimensat with two timespecs we own, not following symlinks.
    if unsafe {
        libc::utimensat(
            dir.as_raw_fd(),
            c.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    } != 0
    {
        return Err(Error::io(
            "set times of",
            rel,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Set an xattr on `name` in `dir` (or on `dir` itself), never following a symlink.
fn set_xattr(dir: BorrowedFd, name: Option<&OsStr>, key: &str, value: &[u8]) -> Result<()> {
    let mut p = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    if let Some(n) = name {
        p.push(n);
    }
    let cp = cstr(p.as_os_str())?;
    let ck = CString::new(key).map_err(|_| hostile("NUL in an xattr name"))?;
    // On the directory itself the path is our fd's /proc link, which must be followed (it
    // is an fd we resolved beneath the root); on an entry, the entry itself is never followed.
    let set = if name.is_some() {
        libc::lsetxattr
    } else {
        libc::setxattr
    };
    // SAFETY: (l)setxattr with valid C strings and a value slice we own.
    if unsafe {
        set(
            cp.as_ptr(),
            ck.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    } != 0
    {
        return Err(Error::io(
            "set xattr",
            PathBuf::from(key),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}
