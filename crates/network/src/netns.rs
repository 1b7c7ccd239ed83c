//! Pinned network namespaces: a new netns kept alive by a bind mount of its nsfs file on a
//! plain file, and work done inside one. `unshare` and `setns` change only the calling
//! thread's netns, so both happen in a short-lived thread and the caller's thread never moves.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::error::{Error, Result};
use crate::link::Netlink;

/// The loopback device's index in every new network namespace.
const LOOPBACK_INDEX: u32 = 1;

/// Makes a new network namespace with loopback up and `sysctls` (names as under
/// /proc/sys, dotted) set in it, and pins it on a new file at `path`. A sysctl the kernel
/// does not have is skipped. Fails if `path` exists (a leftover must go through
/// [`delete_pinned`] first); on failure nothing is left behind.
pub fn create_pinned(path: &Path, sysctls: &[(&str, &str)]) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(path)
        .map_err(|e| Error::io("create netns file", path.display(), e))?;
    let made = std::thread::scope(|s| {
        s.spawn(|| {
            unshare(CloneFlags::CLONE_NEWNET)
                .map_err(|e| Error::io("unshare netns for", path.display(), e.into()))?;
            Netlink::open()?.set_up(LOOPBACK_INDEX, "lo")?;
            for (name, value) in sysctls {
                set_sysctl(name, value)?;
            }
            // /proc/self would name the main thread's netns, not this thread's.
            mount(
                Some("/proc/thread-self/ns/net"),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| Error::io("bind-mount netns on", path.display(), e.into()))
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    if made.is_err() {
        let _ = std::fs::remove_file(path);
    }
    made
}

/// Written from the thread that is in the namespace: /proc/sys/net is the caller's
/// thread's network namespace, and from the host's user namespace the value may name any
/// id (a container's user namespace could not write it at all in a namespace we own).
fn set_sysctl(name: &str, value: &str) -> Result<()> {
    let path = Path::new("/proc/sys").join(name.replace('.', "/"));
    match std::fs::write(&path, value) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        r => r.map_err(|e| Error::io("write sysctl", path.display(), e)),
    }
}

/// Unpins and removes the netns file at `path`; the namespace (and every interface in it)
/// goes away once nothing else holds it. Nothing at `path` is not an error.
pub fn delete_pinned(path: &Path) -> Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (a crash between create and mount).
        Ok(()) | Err(Errno::ENOENT) | Err(Errno::EINVAL) => {}
        Err(e) => return Err(Error::io("unmount netns", path.display(), e.into())),
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(Error::io("remove netns file", path.display(), e))
        }
        _ => Ok(()),
    }
}

/// Runs `f` in a new thread that has joined the network namespace pinned at `path`, and
/// returns its result. Sockets `f` opens stay in that namespace after it returns.
pub fn in_netns<T: Send>(path: &Path, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let ns = File::open(path).map_err(|e| Error::io("open netns", path.display(), e))?;
    std::thread::scope(|s| {
        s.spawn(move || {
            setns(&ns, CloneFlags::CLONE_NEWNET)
                .map_err(|e| Error::io("enter netns", path.display(), e.into()))?;
            drop(ns);
            f()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
