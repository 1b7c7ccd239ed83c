//! CVE-2019-5736: a container process must never be able to open the host's runtime binary
//! for writing through /proc/<pid>/exe (or by making us exec `/proc/self/exe` as its
//! interpreter). Before a command that puts our code inside a container (create, run, exec)
//! we re-execute from a read-only view of our binary: a read-only bind mount of
//! /proc/self/exe, detached right after we open it (no copy: ~0.3 ms), or, where we may not
//! mount, a sealed memfd copy (~2 ms for our size). Nothing is done when the binary already
//! sits on a read-only mount. The init and exec processes are also made non-dumpable.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const NAME: &std::ffi::CStr = c"berth-runtime";

/// Re-exec from a sealed memfd if needed. Returns only when no re-exec was needed, or on an
/// error (reported to the caller, who refuses to go on).
pub fn ensure_sealed_exe() -> std::io::Result<()> {
    let exe = std::fs::read_link("/proc/self/exe")?;
    if exe.to_string_lossy().starts_with("/memfd:berth-runtime") {
        return Ok(());
    }
    if let Ok(st) = nix::sys::statvfs::statvfs("/proc/self/exe") {
        if st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY) {
            return Ok(());
        }
    }
    // Where we may not mount (rootless, seccomp), fall back to a copy.
    if let Ok(fd) = readonly_view() {
        return exec_fd(&fd);
    }
    let src = std::fs::File::open("/proc/self/exe")?;
    let len = src.metadata()?.len() as usize;
    // SAFETY: memfd_create with a valid C string name; returns a new fd or -1.
    let fd =
        unsafe { libc::memfd_create(NAME.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is fresh and ours.
    let mem = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut left = len;
    while left > 0 {
        // SAFETY: sendfile between two fds we own; the kernel copies page cache to page cache.
        let n =
            unsafe { libc::sendfile(mem.as_raw_fd(), src.as_raw_fd(), std::ptr::null_mut(), left) };
        if n <= 0 {
            return Err(std::io::Error::last_os_error());
        }
        left -= n as usize;
    }
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on our fd with integer arguments.
    if unsafe { libc::fcntl(mem.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    exec_fd(&mem)
}

/// Bind /proc/self/exe read-only onto a fresh empty file, open it, then detach the mount and
/// remove the file: the fd keeps the read-only mount alive for the exec.
fn readonly_view() -> std::io::Result<OwnedFd> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    let dir = std::path::Path::new("/run");
    let tmp = dir.join(format!(".berth-runtime-exe.{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let res = (|| -> std::io::Result<OwnedFd> {
        mount(
            Some("/proc/self/exe"),
            &tmp,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )?;
        let r = mount(
            None::<&str>,
            &tmp,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(std::io::Error::from)
        .and_then(|_| std::fs::File::open(&tmp).map(OwnedFd::from));
        let _ = umount2(&tmp, MntFlags::MNT_DETACH);
        r
    })();
    let _ = std::fs::remove_file(&tmp);
    res
}

fn exec_fd(fd: &OwnedFd) -> std::io::Result<()> {
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.into_encoded_bytes()).unwrap_or_default())
        .collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    // SAFETY: argv is a NUL-terminated array of valid C strings; environ is the process
    // environment maintained by libc. fexecve returns only on failure.
    unsafe { libc::fexecve(fd.as_raw_fd(), argv.as_ptr(), environ) };
    Err(std::io::Error::last_os_error())
}
