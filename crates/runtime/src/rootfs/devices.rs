//! /dev: the default device nodes every container gets, configured `linux.devices`, and the
//! standard symlinks. In a user namespace, mknod is not allowed, so (as runc does) the
//! host's node is bind-mounted onto an empty file instead.

use super::resolve::{fd_path, mkdir_all, Kind};
use crate::error::{Error, Result};
use nix::mount::{mount, MsFlags};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

pub struct Node {
    pub path: PathBuf,
    pub kind: libc::mode_t,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

pub fn defaults() -> Vec<Node> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .into_iter()
    .map(|(n, ma, mi)| Node {
        path: PathBuf::from("/dev").join(n),
        kind: libc::S_IFCHR,
        major: ma,
        minor: mi,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

pub fn from_spec(d: &LinuxDevice) -> Node {
    let kind = match d.typ() {
        LinuxDeviceType::B => libc::S_IFBLK,
        LinuxDeviceType::P => libc::S_IFIFO,
        _ => libc::S_IFCHR,
    };
    Node {
        path: d.path().clone(),
        kind,
        major: d.major() as u64,
        minor: d.minor() as u64,
        mode: d.file_mode().unwrap_or(0o666),
        uid: d.uid().unwrap_or(0),
        gid: d.gid().unwrap_or(0),
    }
}

pub fn create(root: BorrowedFd, n: &Node, in_userns: bool) -> Result<()> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Error::Child(format!("create device {}: {what}: {e}", n.path.display()))
    };
    let parent = n.path.parent().unwrap_or(Path::new("/"));
    let name = n
        .path
        .file_name()
        .ok_or_else(|| fail("path", &"no file name"))?;
    let dir = mkdir_all(root, parent, Kind::Dir)?;
    if in_userns {
        let target = mkdir_all(root, &n.path, Kind::File)?;
        let host = n.path.to_string_lossy().into_owned();
        return mount(
            Some(host.as_str()),
            &fd_path(target.as_fd()),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| fail("bind from host", &e));
    }
    let cname = CString::new(name.as_encoded_bytes()).map_err(|_| fail("path", &"NUL byte"))?;
    // The parent is an O_PATH fd; mknodat needs a real directory fd, reached through it.
    let real = nix::fcntl::open(
        &fd_path(dir.as_fd()),
        nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| fail("open parent", &e))?;
    let dev = libc::makedev(n.major as u32, n.minor as u32);
    // SAFETY: mknodat/fchownat on a directory fd we own with a valid C string name.
    unsafe {
        if libc::mknodat(
            real.as_raw_fd(),
            cname.as_ptr(),
            n.kind | (n.mode & 0o7777),
            dev,
        ) != 0
        {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EEXIST) {
                return Err(fail("mknod", &e));
            }
            // An existing node is kept only if it is the requested device (config-linux.md:
            // a file at the path that does not match MUST be an error).
            let st = nix::sys::stat::fstatat(
                &real,
                cname.as_c_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(|e| fail("stat existing", &e))?;
            let same_kind = st.st_mode & libc::S_IFMT == n.kind;
            let same_dev = n.kind == libc::S_IFIFO || st.st_rdev == dev;
            if !same_kind || !same_dev {
                return Err(fail("exists", &"a different file is already at this path"));
            }
            return Ok(());
        }
        // mknod is subject to the umask; set the exact mode asked for.
        libc::fchmodat(real.as_raw_fd(), cname.as_ptr(), n.mode & 0o7777, 0);
        if libc::fchownat(
            real.as_raw_fd(),
            cname.as_ptr(),
            n.uid,
            n.gid,
            libc::AT_SYMLINK_NOFOLLOW,
        ) != 0
        {
            return Err(fail("chown", &std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// /dev/fd, stdin, stdout, stderr, ptmx and core, as every runtime makes them.
pub fn symlinks(root: BorrowedFd) -> Result<()> {
    let dev = mkdir_all(root, Path::new("/dev"), Kind::Dir)?;
    let dir = nix::fcntl::open(
        &fd_path(dev.as_fd()),
        nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| Error::Child(format!("open /dev: {e}")))?;
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
        ("pts/ptmx", "ptmx"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    for (target, name) in links {
        match nix::unistd::symlinkat(target, &dir, name) {
            Ok(()) | Err(nix::Error::EEXIST) => {}
            Err(e) => {
                return Err(Error::Child(format!(
                    "symlink /dev/{name} -> {target}: {e}"
                )))
            }
        }
    }
    Ok(())
}

/// With `process.terminal`: bind the container's pty (already its stdin) onto /dev/console,
/// as config-linux.md requires. Run after pivot_root; the target is resolved inside the root
/// so an image's /dev/console symlink cannot redirect the mount.
pub fn mount_console() -> Result<()> {
    let root = nix::fcntl::open(
        "/",
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| Error::sys("open container root", e))?;
    let target = mkdir_all(root.as_fd(), Path::new("/dev/console"), Kind::File)?;
    mount(
        Some("/proc/self/fd/0"),
        &fd_path(target.as_fd()),
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| Error::sys("bind pty to /dev/console", e))
}
