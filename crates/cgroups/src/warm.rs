//! Warming the kernel's cgroup attach lock ahead of a container start.
//!
//! Moving a process between cgroups (a write to `cgroup.procs`) takes a global lock whose
//! write side waits for a whole RCU grace period, unless another move finished within the
//! last grace period (the kernel's `rcu_sync`). On the development VM that wait was 4.6 ms
//! of a 16 ms `berth run` (median of 40, measured with timestamps), against 0.8 ms for the
//! bare runtime, whose previous container's deletion had just started a grace period.
//!
//! An engine knows a container start is coming milliseconds before the runtime moves the
//! container's init into its cgroup. [`warm_attach`] has a helper process make a no-op move
//! into its own cgroup right then: the grace period runs while the engine works, and the
//! runtime's move finds the lock warm (measured: 4.6 -> 0.8 ms).

use std::ffi::CString;
use std::path::{Path, PathBuf};

use crate::layout::{Layout, CGROUP_ROOT, HYBRID_UNIFIED_ROOT};

/// Starts the no-op move described in the module doc and returns at once. Best effort:
/// nothing happens when the calling process's cgroup cannot be found. Call it only when a
/// container start follows.
///
/// The move is made by a helper process that shares our memory (CLONE_VM) but is neither a
/// thread of ours nor known to glibc: the lock is global, so any process's move warms it.
/// A thread would do the same, but a thread stays in glibc's thread list, and a process
/// raw-cloned from our memory while it runs (a container's init, cloned from a start child
/// that shares our memory) would inherit that list and wait forever for the thread in
/// setgroups() (seen with `perf record` slowing the start down). The helper makes raw
/// system calls only (rustix: no errno, no allocation), so it holds none of our locks; it
/// exits by itself when its write returns, and does not keep us from exiting before that.
pub fn warm_attach() {
    let Some(procs) = own_procs_file(Path::new("/proc/self/cgroup")) else {
        return;
    };
    let Ok(path) = CString::new(procs.into_os_string().into_encoded_bytes()) else {
        return;
    };
    // SAFETY: a fresh private anonymous mapping, nothing else refers to it.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return;
    }
    // The path and the stack are the helper's until it has ended: freed when it is reaped
    // ([`reap_helpers`]), else left to our exit (the helper may outlive us).
    let path = path.into_raw();
    // SAFETY: the helper runs `warm_helper` on the top of its own stack with the path;
    // sharing our memory and descriptor table, it touches nothing but those.
    let pid = unsafe {
        libc::clone(
            warm_helper,
            stack.cast::<u8>().add(STACK).cast(),
            libc::CLONE_VM | libc::CLONE_FILES,
            path.cast(),
        )
    };
    if pid < 0 {
        // SAFETY: no helper got them: the path from `into_raw` above, our own mapping.
        unsafe {
            drop(CString::from_raw(path));
            libc::munmap(stack, STACK);
        }
        return;
    }
    reap_helpers();
    if let Ok(mut helpers) = HELPERS.lock() {
        helpers.push(Helper {
            pid,
            stack: stack as usize,
            path: path as usize,
        });
    }
}

/// A helper and what it uses (addresses, so that the list may live in a static).
struct Helper {
    pid: libc::pid_t,
    stack: usize,
    path: usize,
}

const STACK: usize = 16 << 10;

/// Helpers this process started and has not reaped yet. A short-lived command leaves its
/// last one to its reaper (the kernel gives a reparented child SIGCHLD as its exit signal,
/// so any init reaps it); a long-lived caller reaps the earlier ones at each new start.
static HELPERS: std::sync::Mutex<Vec<Helper>> = std::sync::Mutex::new(Vec::new());

/// Reaps the helpers that have ended and frees their stacks and paths.
fn reap_helpers() {
    let Ok(mut helpers) = HELPERS.lock() else {
        return;
    };
    helpers.retain(|h| {
        // SAFETY: waitpid on a clone child of ours (__WCLONE: it has no exit signal); it
        // writes nothing when the status pointer is null.
        let r =
            unsafe { libc::waitpid(h.pid, std::ptr::null_mut(), libc::WNOHANG | libc::__WCLONE) };
        let ended = r > 0
            || (r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD));
        if !ended {
            return true;
        }
        // SAFETY: the helper has ended (reaped now, or by someone else: ECHILD), so nothing
        // uses its stack or path any more; both came from `warm_attach`.
        unsafe {
            libc::munmap(h.stack as *mut libc::c_void, STACK);
            drop(CString::from_raw(h.path as *mut libc::c_char));
        }
        false
    });
}

/// The helper of [`warm_attach`]: its no-op move, then it returns, which exits it (glibc's
/// clone ends the child with the exit system call). No exit signal: nobody waits for it,
/// and `waitpid(-1)` without `__WCLONE` does not report it.
extern "C" fn warm_helper(path: *mut libc::c_void) -> libc::c_int {
    use rustix::fs::{Mode, OFlags};
    // SAFETY: `path` is the NUL-terminated string `warm_attach` leaked for us.
    let path = unsafe { std::ffi::CStr::from_ptr(path as *const libc::c_char) };
    if let Ok(fd) = rustix::fs::open(path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty()) {
        // "0" names the writing process itself, already in that cgroup.
        let _ = rustix::io::write(&fd, b"0");
        // Dropping the fd closes it; close(2) cannot fail on a descriptor we own.
    }
    0
}

/// The `cgroup.procs` of the calling process's own cgroup, from `proc_cgroup` (the format
/// of /proc/self/cgroup): on the cgroup2 mount when there is one, else on the first v1
/// hierarchy.
fn own_procs_file(proc_cgroup: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(proc_cgroup).ok()?;
    let layout = Layout::detect().ok()?;
    procs_file_in(&text, layout)
}

fn procs_file_in(text: &str, layout: Layout) -> Option<PathBuf> {
    let mut lines = text.lines().filter_map(|l| {
        let mut parts = l.splitn(3, ':');
        Some((parts.next()?, parts.next()?, parts.next()?))
    });
    let under = |root: &str, path: &str| {
        Some(
            Path::new(root)
                .join(path.trim_start_matches('/'))
                .join("cgroup.procs"),
        )
    };
    match layout {
        Layout::Unified => lines
            .find(|(id, _, _)| *id == "0")
            .and_then(|(_, _, p)| under(CGROUP_ROOT, p)),
        Layout::Hybrid => lines
            .find(|(id, ctrls, _)| *id == "0" && ctrls.is_empty())
            .and_then(|(_, _, p)| under(HYBRID_UNIFIED_ROOT, p)),
        Layout::Legacy => lines
            .find(|(id, ctrls, _)| *id != "0" && !ctrls.is_empty())
            .and_then(|(_, ctrls, p)| {
                let first = ctrls.split(',').next()?;
                let dir = first.strip_prefix("name=").unwrap_or(first);
                under(&format!("{CGROUP_ROOT}/{dir}"), p)
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str =
        "9:name=systemd:/user.slice\n8:pids:/a/b\n1:cpu,cpuacct:/a\n0::/init.scope\n";

    #[test]
    fn the_procs_file_follows_the_layout() {
        assert_eq!(
            procs_file_in("0::/system.slice/x.service\n", Layout::Unified),
            Some(PathBuf::from(
                "/sys/fs/cgroup/system.slice/x.service/cgroup.procs"
            ))
        );
        assert_eq!(
            procs_file_in(HYBRID, Layout::Hybrid),
            Some(PathBuf::from(
                "/sys/fs/cgroup/unified/init.scope/cgroup.procs"
            ))
        );
        assert_eq!(
            procs_file_in(HYBRID, Layout::Legacy),
            Some(PathBuf::from(
                "/sys/fs/cgroup/systemd/user.slice/cgroup.procs"
            ))
        );
        assert_eq!(
            procs_file_in("0::/\n", Layout::Unified),
            Some(PathBuf::from("/sys/fs/cgroup/cgroup.procs"))
        );
        assert_eq!(procs_file_in("", Layout::Unified), None);
    }

    /// On this host: the file exists and the move of the test process is accepted.
    #[test]
    fn warming_moves_this_process_into_its_own_cgroup() {
        let before = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let procs = own_procs_file(Path::new("/proc/self/cgroup")).expect("a cgroup.procs");
        assert!(procs.exists(), "{}", procs.display());
        if nix::unistd::geteuid().is_root() {
            std::fs::write(&procs, "0").unwrap();
        }
        warm_attach();
        assert_eq!(
            std::fs::read_to_string("/proc/self/cgroup").unwrap(),
            before
        );
    }

    /// The helper really runs and ends by itself; the next start reaps it. (A test running
    /// alongside may start a helper too, and reap ours first: gone counts as ended.)
    #[test]
    fn a_helper_ends_and_the_next_start_reaps_it() {
        warm_attach();
        let first = HELPERS
            .lock()
            .unwrap()
            .last()
            .expect("a helper was started")
            .pid;
        let stat = format!("/proc/{first}/stat");
        let ended = (0..500).any(|_| {
            let Ok(s) = std::fs::read_to_string(&stat) else {
                return true;
            };
            if s.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
            {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            false
        });
        assert!(ended, "helper {first} did not end within 5 s");
        warm_attach();
        assert!(!HELPERS.lock().unwrap().iter().any(|h| h.pid == first));
        assert!(!Path::new(&stat).exists(), "helper {first} left a zombie");
    }
}
