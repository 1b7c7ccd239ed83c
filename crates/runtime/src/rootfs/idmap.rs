//! Idmapped mounts (`idmap` / `ridmap` options with `uidMappings`/`gidMappings`).
//!
//! Setting MOUNT_ATTR_IDMAP needs privilege over the source filesystem, which the container
//! (maybe in its own user namespace) does not have. So, as runc does, the runtime builds the
//! idmapped tree before the container exists: a throw-away process gets a user namespace
//! with the mount's mappings, the source is cloned with open_tree and given that mapping,
//! and the detached tree's fd is inherited by the init, which only moves it into place.

use super::options;
use crate::error::{Error, Result};
use crate::process::{clone, namespaces, Forked};
use oci_spec::runtime::{LinuxIdMapping, Spec};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

const OPEN_TREE_CLONE: u32 = 1;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// One detached, idmapped tree per mount that asks for one (index = position in `mounts`).
pub fn prepare(spec: &Spec, bundle: &Path) -> Result<Vec<Option<OwnedFd>>> {
    let mounts = spec.mounts().as_deref().unwrap_or(&[]);
    let mut out = Vec::with_capacity(mounts.len());
    for (i, m) in mounts.iter().enumerate() {
        let o = options::parse(m.options().as_deref().unwrap_or(&[]));
        if !o.idmap {
            out.push(None);
            continue;
        }
        let field = format!("mounts[{i}]");
        let linux = spec.linux().as_ref();
        let uid = m
            .uid_mappings()
            .clone()
            .or_else(|| linux.and_then(|l| l.uid_mappings().clone()))
            .unwrap_or_default();
        let gid = m
            .gid_mappings()
            .clone()
            .or_else(|| linux.and_then(|l| l.gid_mappings().clone()))
            .unwrap_or_default();
        if uid.is_empty() || gid.is_empty() {
            return Err(Error::Config(format!(
                "config.json: {field}: idmap needs uidMappings and gidMappings"
            )));
        }
        let src = m
            .source()
            .as_ref()
            .ok_or_else(|| Error::Config(format!("config.json: {field}.source: missing")))?;
        let src = if src.is_absolute() {
            src.clone()
        } else {
            bundle.join(src)
        };
        let userns = userns_with(&uid, &gid)?;
        let tree = idmapped_tree(&src, userns.as_raw_fd(), o.recursive_idmap).map_err(|e| {
            Error::Child(format!(
                "idmapped mount of {} ({field}): {e}",
                src.display()
            ))
        })?;
        out.push(Some(tree));
    }
    Ok(out)
}

/// A user namespace holding the given mappings, kept alive by its fd only.
pub fn userns_with(uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> Result<OwnedFd> {
    // CLOEXEC: a threaded caller's other threads may spawn processes meanwhile.
    let (r, w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    match clone(libc::CLONE_NEWUSER as libc::c_ulong)? {
        Forked::Child => {
            drop(w);
            let mut b = [0u8; 1];
            // Wait until the parent has what it needs, then vanish.
            let _ = nix::unistd::read(&r, &mut b);
            crate::process::exit_now(0)
        }
        Forked::Parent(pid) => {
            drop(r);
            let res = namespaces::write_id_maps(pid, uid, gid).and_then(|_| {
                let p = format!("/proc/{pid}/ns/user");
                std::fs::File::open(&p)
                    .map(OwnedFd::from)
                    .map_err(|e| Error::io("open", p, e))
            });
            drop(w);
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
            res
        }
    }
}

fn idmapped_tree(src: &Path, userns: RawFd, recursive: bool) -> std::io::Result<OwnedFd> {
    let c = std::ffi::CString::new(src.as_os_str().as_encoded_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let rec = if recursive {
        libc::AT_RECURSIVE as u32
    } else {
        0
    };
    // SAFETY: open_tree reads a valid C string and returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as u32 | rec,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd owned by nobody else.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    set_attr(tree.as_fd(), MOUNT_ATTR_IDMAP, 0, Some(userns))?;
    Ok(tree)
}

/// mount_setattr(2) on a mount fd and everything below it (the `r*` options; for idmap, a
/// tree cloned without AT_RECURSIVE has nothing below it), optionally with the user namespace
/// of MOUNT_ATTR_IDMAP. Shared with mounts.rs.
pub(super) fn set_attr(
    fd: std::os::fd::BorrowedFd,
    set: u64,
    clr: u64,
    userns: Option<RawFd>,
) -> std::io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clr,
        propagation: 0,
        userns_fd: userns.map_or(0, |u| u as u64),
    };
    // SAFETY: mount_setattr reads `attr` (its size is passed) and an empty C string path.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// In the init: attach a prepared tree onto the resolved target fd (no path lookup, so no
/// symlink can redirect it).
pub fn attach(tree: RawFd, target: std::os::fd::BorrowedFd) -> std::io::Result<()> {
    // SAFETY: move_mount with two fds we own and empty C string paths.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree,
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
