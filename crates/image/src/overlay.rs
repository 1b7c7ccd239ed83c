//! The overlayfs mount of a container root. mount(2) takes all options in one page, so a
//! `lowerdir=a:b:c...` of long snapshot paths stops fitting at a few dozen layers, while
//! images may have up to 127. Kernels since 6.8 take lower directories one at a time
//! (`lowerdir+` through fsconfig(2), each path up to 256 bytes); that is used when the kernel
//! has it, and the single-string mount(2) otherwise.

use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Unsupported(format!("NUL byte in {s:?}")))
}

/// Mount an overlay of `lowers` (top first) with `upper` and `work` at `target`.
pub fn mount(lowers: &[&Path], upper: &Path, work: &Path, target: &Path) -> Result<()> {
    match mount_one_by_one(lowers, upper, work, target) {
        Ok(()) => Ok(()),
        Err(Failed::OldKernel) => mount_legacy(lowers, upper, work, target),
        Err(Failed::Call(what, e)) => Err(Error::io(what, target, e)),
    }
}

enum Failed {
    /// No new mount API (ENOSYS) or no `lowerdir+` (EINVAL on the first one, before 6.8).
    OldKernel,
    Call(&'static str, std::io::Error),
}

fn last(what: &'static str) -> Failed {
    Failed::Call(what, std::io::Error::last_os_error())
}

fn mount_one_by_one(
    lowers: &[&Path],
    upper: &Path,
    work: &Path,
    target: &Path,
) -> std::result::Result<(), Failed> {
    let fstype = c"overlay";
    // SAFETY: fsopen with a valid C string; the result is checked before use.
    let fd = unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) };
    if fd < 0 {
        return Err(match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ENOSYS) => Failed::OldKernel,
            _ => last("fsopen overlay for"),
        });
    }
    // SAFETY: fsopen returned a new fd that nothing else owns.
    let fs = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let set = |key: &'static str, value: &Path| -> std::result::Result<(), Failed> {
        let nul = || Failed::Call(key, std::io::ErrorKind::InvalidInput.into());
        let k = CString::new(key).map_err(|_| nul())?;
        let v = CString::new(value.as_os_str().as_encoded_bytes()).map_err(|_| nul())?;
        // SAFETY: fsconfig on our fs context fd with valid C strings that outlive the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                FSCONFIG_SET_STRING,
                k.as_ptr(),
                v.as_ptr(),
                0,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(last(key))
        }
    };
    for (i, l) in lowers.iter().enumerate() {
        match set("lowerdir+", l) {
            Err(Failed::Call(_, e)) if i == 0 && e.raw_os_error() == Some(libc::EINVAL) => {
                return Err(Failed::OldKernel)
            }
            r => r?,
        }
    }
    set("upperdir", upper)?;
    set("workdir", work)?;
    // SAFETY: fsconfig CMD_CREATE on our fs context fd; no pointers are passed.
    let created = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    };
    if created != 0 {
        return Err(last("create overlay for"));
    }
    // SAFETY: fsmount on a created fs context; the result is checked before use.
    let m = unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, 0) };
    if m < 0 {
        return Err(last("fsmount overlay for"));
    }
    // SAFETY: fsmount returned a new fd that nothing else owns.
    let mnt = unsafe { OwnedFd::from_raw_fd(m as i32) };
    let t = CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(|_| Failed::Call("mount at", std::io::ErrorKind::InvalidInput.into()))?;
    // SAFETY: move_mount of our detached mount fd onto a path given as a valid C string.
    let moved = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if moved != 0 {
        return Err(last("move overlay mount to"));
    }
    Ok(())
}

fn mount_legacy(lowers: &[&Path], upper: &Path, work: &Path, target: &Path) -> Result<()> {
    let lowers: Vec<String> = lowers
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowers.join(":"),
        upper.display(),
        work.display()
    );
    if data.len() >= 4096 {
        return Err(Error::Unsupported(format!(
            "{} layers are too many for this kernel's overlayfs mount options (Linux 6.8 or later takes them one by one)",
            lowers.len()
        )));
    }
    let (src, tgt, opts) = (
        cstr("overlay")?,
        cstr(&target.to_string_lossy())?,
        cstr(&data)?,
    );
    // SAFETY: mount(2) with valid C strings that outlive the call.
    if unsafe {
        libc::mount(
            src.as_ptr(),
            tgt.as_ptr(),
            src.as_ptr(),
            0,
            opts.as_ptr().cast(),
        )
    } != 0
    {
        return Err(Error::io(
            "mount overlay at",
            target,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A detached copy of the mount at `src` (that dir and below, not the mounts under it) whose
/// ids are shifted through the user namespace `userns`: a file owned by uid 0 on disk shows
/// as the host uid the namespace maps 0 to, and that host uid writes files owned by 0.
pub fn idmapped_tree(src: &Path, userns: BorrowedFd) -> Result<OwnedFd> {
    let c = CString::new(src.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::Unsupported(format!("NUL byte in {}", src.display())))?;
    // SAFETY: open_tree reads a valid C string; the result is checked before use.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(Error::io("open_tree", src, std::io::Error::last_os_error()));
    }
    // SAFETY: open_tree returned a new fd that nothing else owns.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    // SAFETY: mount_setattr on our detached mount fd; it reads `attr`, whose size is passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc != 0 {
        return Err(Error::io(
            "idmap mount of",
            src,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(tree)
}

/// Like [`mount`], over idmapped copies of the lower dirs. The upper and work dirs are not
/// idmapped: overlayfs makes its work dir and copies up with the mounter's (host root's)
/// ids, which the container's namespace does not map (EOVERFLOW); so what the container
/// writes lands in `upper` with host ids, and `upper` itself should belong to the host uid
/// the namespace maps 0 to. The overlay keeps its own references to the layers, so the
/// detached copies are dropped once it is mounted.
pub fn mount_idmapped(
    lowers: &[&Path],
    upper: &Path,
    work: &Path,
    target: &Path,
    userns: BorrowedFd,
) -> Result<()> {
    let mut trees = Vec::with_capacity(lowers.len());
    for l in lowers {
        trees.push(idmapped_tree(l, userns)?);
    }
    let lower_paths: Vec<PathBuf> = trees
        .iter()
        .map(|t| PathBuf::from(format!("/proc/self/fd/{}", t.as_raw_fd())))
        .collect();
    let lower_refs: Vec<&Path> = lower_paths.iter().map(PathBuf::as_path).collect();
    mount(&lower_refs, upper, work, target)
}
