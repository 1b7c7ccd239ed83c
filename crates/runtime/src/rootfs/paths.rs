//! After pivot_root: masked paths, read-only paths, a read-only root, and sysctls.

use super::mounts::remount;
use super::resolve::{fd_path, open_in_root};
use crate::error::{Error, Result};
use nix::mount::{mount, MsFlags};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

fn root_fd() -> Result<OwnedFd> {
    nix::fcntl::open(
        "/",
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| Error::sys("open container root", e))
}

/// The container's /dev/null, checked to really be the 1:3 character device before it is
/// used to hide files: an image could make it a symlink or a regular file to turn masking
/// into a writable bind of something else (CVE-2025-31133).
pub fn verified_dev_null(root: BorrowedFd) -> Result<OwnedFd> {
    let fd = open_in_root(
        root,
        Path::new("/dev/null"),
        libc::O_PATH | libc::O_NOFOLLOW,
    )
    .map_err(|e| Error::io("open", "/dev/null", e))?;
    let st = nix::sys::stat::fstat(&fd).map_err(|e| Error::sys("stat /dev/null", e))?;
    let is_chr = st.st_mode & libc::S_IFMT == libc::S_IFCHR;
    if !is_chr || libc::major(st.st_rdev) != 1 || libc::minor(st.st_rdev) != 3 {
        return Err(Error::Child("/dev/null in the container is not the null device (1:3); refusing to mask paths with it".into()));
    }
    Ok(fd)
}

pub fn mask(paths: &[String]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let root = root_fd()?;
    let mut null: Option<OwnedFd> = None;
    for p in paths {
        let target = match open_in_root(root.as_fd(), Path::new(p), libc::O_PATH | libc::O_NOFOLLOW)
        {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(Error::io("mask", p, e)),
        };
        let st = nix::sys::stat::fstat(&target).map_err(|e| Error::sys(format!("stat {p}"), e))?;
        let res = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            mount(
                Some("tmpfs"),
                &fd_path(target.as_fd()),
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None::<&str>,
            )
        } else {
            if null.is_none() {
                null = Some(verified_dev_null(root.as_fd())?);
            }
            let n = null.as_ref().expect("set above");
            mount(
                Some(&fd_path(n.as_fd())),
                &fd_path(target.as_fd()),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        };
        res.map_err(|e| Error::sys(format!("mask {p}"), e))?;
    }
    Ok(())
}

pub fn readonly(paths: &[String], in_userns: bool) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let root = root_fd()?;
    for p in paths {
        let target = match open_in_root(root.as_fd(), Path::new(p), libc::O_PATH | libc::O_NOFOLLOW)
        {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(Error::io("make read-only", p, e)),
        };
        mount(
            Some(&fd_path(target.as_fd())),
            &fd_path(target.as_fd()),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| Error::sys(format!("bind {p} for read-only"), e))?;
        let top = open_in_root(root.as_fd(), Path::new(p), libc::O_PATH | libc::O_NOFOLLOW)
            .map_err(|e| Error::io("reopen", p, e))?;
        remount(
            &fd_path(top.as_fd()),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            in_userns,
        )
        .or_else(|_| remount(&fd_path(top.as_fd()), MsFlags::MS_RDONLY, in_userns))
        .map_err(|e| Error::sys(format!("remount {p} read-only"), e))?;
    }
    Ok(())
}

pub fn readonly_root(in_userns: bool) -> Result<()> {
    remount(Path::new("/"), MsFlags::MS_RDONLY, in_userns)
        .map_err(|e| Error::sys("remount / read-only", e))
}

pub fn sysctl(values: &std::collections::HashMap<String, String>) -> Result<()> {
    for (k, v) in values {
        let p = format!("/proc/sys/{}", k.replace('.', "/"));
        std::fs::write(&p, v).map_err(|e| Error::io("write sysctl", p, e))?;
    }
    Ok(())
}
