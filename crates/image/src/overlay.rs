//! The overlayfs mount of a container root. mount(2) takes all options in one page, so a
//! `lowerdir=a:b:c...` of long snapshot paths stops fitting at a few dozen layers, while
//! images may have up to 127. Kernels since 6.8 take lower directories one at a time
//! (`lowerdir+` through fsconfig(2), each path up to 256 bytes); that is used when the kernel
//! has it, and the single-string mount(2) otherwise.

use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

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
