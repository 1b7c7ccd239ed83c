//! Docker's volume copy-up: when an empty volume is mounted at a path where the image has
//! content, that content is copied into the volume first (owner, mode and times too), so a
//! volume at `/var/lib/mysql` starts with what the image put there.
//!
//! The image is untrusted: the target is opened with `openat2(RESOLVE_IN_ROOT)` relative to
//! the container root (a symlink such as `data -> /etc` or `-> ../../..` resolves inside the
//! root, never to the host), and below it every entry is opened relative to its parent's fd
//! with `O_NOFOLLOW`; symlinks are copied as symlinks, never followed.

use crate::{Error, Result};
use berth_runtime::rootfs::resolve::open_in_root;
use nix::fcntl::{readlinkat, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

fn io(what: &'static str, path: &Path, e: impl Into<std::io::Error>) -> Error {
    Error::io(what, path, e.into())
}

fn open_dir(path: &Path) -> std::io::Result<OwnedFd> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)?;
    Ok(f.into())
}

/// Copy what the container root `rootfs` has at `target` into `dest` (a volume's `_data`)
/// when `dest` is empty. Returns whether anything was copied; a target that is missing or is
/// not a directory has nothing to copy.
pub fn copy_up(rootfs: &Path, target: &str, dest: &Path) -> Result<bool> {
    let root = open_dir(rootfs).map_err(|e| io("open container root", rootfs, e))?;
    let src = match open_in_root(
        root.as_fd(),
        Path::new(target),
        libc::O_RDONLY | libc::O_DIRECTORY,
    ) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            return Ok(false)
        }
        Err(e) => return Err(io("open in container root", &rootfs.join(target), e)),
    };
    let dst = open_dir(dest).map_err(|e| io("open volume", dest, e))?;
    if std::fs::read_dir(dest)
        .map_err(|e| io("read volume", dest, e))?
        .next()
        .is_some()
    {
        return Ok(false);
    }
    let st = nix::sys::stat::fstat(&src).map_err(|e| io("stat", dest, e))?;
    copy_dir(src.as_fd(), dst.as_fd(), dest)?;
    set_owner_mode(dst.as_fd(), &st, dest)?;
    Ok(true)
}

fn set_owner_mode(fd: BorrowedFd, st: &libc::stat, path: &Path) -> Result<()> {
    nix::unistd::fchown(fd, Some(st.st_uid.into()), Some(st.st_gid.into()))
        .map_err(|e| io("chown", path, e))?;
    // After chown, which clears set-id bits.
    nix::sys::stat::fchmod(fd, Mode::from_bits_truncate(st.st_mode & 0o7777))
        .map_err(|e| io("chmod", path, e))?;
    let times = [
        libc::timespec {
            tv_sec: st.st_atime,
            tv_nsec: st.st_atime_nsec,
        },
        libc::timespec {
            tv_sec: st.st_mtime,
            tv_nsec: st.st_mtime_nsec,
        },
    ];
    // SAFETY: `fd` is open and `times` is an array of two initialised timespecs.
    if unsafe { libc::futimens(fd.as_raw_fd(), times.as_ptr()) } != 0 {
        return Err(io("set times", path, std::io::Error::last_os_error()));
    }
    Ok(())
}

fn names(dir: BorrowedFd, path: &Path) -> Result<Vec<OsString>> {
    let dup = nix::unistd::dup(dir).map_err(|e| io("dup", path, e))?;
    let mut d = nix::dir::Dir::from_fd(dup).map_err(|e| io("read dir", path, e))?;
    let mut out = Vec::new();
    for e in d.iter() {
        let e = e.map_err(|e| io("read dir", path, e))?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            use std::os::unix::ffi::OsStrExt;
            out.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    Ok(out)
}

fn openat(dir: BorrowedFd, name: &OsStr, flags: OFlag, mode: Mode, path: &Path) -> Result<OwnedFd> {
    nix::fcntl::openat(
        dir,
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        mode,
    )
    .map_err(|e| io("open", path, e))
}

fn copy_dir(src: BorrowedFd, dst: BorrowedFd, dst_path: &Path) -> Result<()> {
    for name in names(src, dst_path)? {
        let path = dst_path.join(&name);
        let st = fstatat(
            src,
            name.as_os_str(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| io("stat", &path, e))?;
        let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
        match kind {
            SFlag::S_IFDIR => {
                let s = openat(
                    src,
                    &name,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                    Mode::empty(),
                    &path,
                )?;
                nix::sys::stat::mkdirat(dst, name.as_os_str(), Mode::from_bits_truncate(0o700))
                    .map_err(|e| io("create", &path, e))?;
                let d = openat(
                    dst,
                    &name,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                    Mode::empty(),
                    &path,
                )?;
                copy_dir(s.as_fd(), d.as_fd(), &path)?;
                set_owner_mode(d.as_fd(), &st, &path)?;
            }
            SFlag::S_IFREG => {
                let s = openat(src, &name, OFlag::O_RDONLY, Mode::empty(), &path)?;
                let d = openat(
                    dst,
                    &name,
                    OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
                    Mode::from_bits_truncate(0o600),
                    &path,
                )?;
                let (mut sf, mut df) = (File::from(s), File::from(d));
                std::io::copy(&mut sf, &mut df).map_err(|e| io("copy", &path, e))?;
                set_owner_mode(df.as_fd(), &st, &path)?;
            }
            SFlag::S_IFLNK => {
                let to =
                    readlinkat(src, name.as_os_str()).map_err(|e| io("read link", &path, e))?;
                nix::unistd::symlinkat(to.as_os_str(), dst, name.as_os_str())
                    .map_err(|e| io("create link", &path, e))?;
                link_owner_times(dst, &name, &st, &path)?;
            }
            SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => {
                nix::sys::stat::mknodat(
                    dst,
                    name.as_os_str(),
                    kind,
                    Mode::from_bits_truncate(st.st_mode & 0o7777),
                    st.st_rdev,
                )
                .map_err(|e| io("create node", &path, e))?;
                link_owner_times(dst, &name, &st, &path)?;
            }
            // Sockets are not content.
            _ => {}
        }
    }
    Ok(())
}

/// Owner and times of an entry that cannot be opened (a symlink, a device node), set without
/// following it.
fn link_owner_times(dir: BorrowedFd, name: &OsStr, st: &libc::stat, path: &Path) -> Result<()> {
    nix::unistd::fchownat(
        dir,
        name,
        Some(st.st_uid.into()),
        Some(st.st_gid.into()),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| io("chown", path, e))?;
    let (a, m) = (
        nix::sys::time::TimeSpec::new(st.st_atime, st.st_atime_nsec),
        nix::sys::time::TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
    );
    nix::sys::stat::utimensat(
        dir,
        name,
        &a,
        &m,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| io("set times", path, e))?;
    Ok(())
}
