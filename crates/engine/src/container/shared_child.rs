//! A child process that shares our memory until it execs, vfork-style: the start child.
//!
//! fork() copies the page tables of berth's whole mapping, every page either process
//! writes afterwards is copied again, and the child's exec then tears its copy down.
//! Measured on the development VM: the start child's work from fork to the monitor's exec
//! took 0.45 ms longer than in a child that shares the parent's memory (median of 40
//! `run --rm`). The parent is suspended until the child execs or exits (CLONE_VFORK), so
//! the two never run on the same memory at once; the child has its own stack and its own
//! copy of the descriptor table, cwd and signal handlers.
//!
//! The child runs ordinary Rust code in the parent's heap and glibc state, so it must be
//! their only other user: [`can_share`] allows it only when the caller has no other thread
//! (a threaded caller gets a fork, which glibc makes safe for the child). The child
//! raw-clones the container's init from that memory: with another thread running, the init
//! could inherit a held allocator lock, or glibc's list of threads, which made its
//! setgroups() wait forever for a thread it does not have. (The cgroup warming of
//! [`berth_cgroups::warm_attach`] is a helper process for that reason, not a thread.)
//! What is still allocated at the child's exec (the monitor's arguments; the rest is freed
//! as the child goes) stays allocated in the caller: measured, `berth start` of ten
//! containers ended with the same heap (712 KiB) as of one.

/// Stack for the child and for what it clones before its exec (the container's init):
/// reserved, not committed; only the pages they touch are ever allocated.
const STACK: usize = 8 << 20;

/// Whether a shared-memory child is safe here: this process has no other thread.
/// `BERTH_TEST_FORK_START` makes it say no, so that tests drive the fork path through
/// the single-threaded CLI too.
pub fn can_share() -> bool {
    threads() == Some(1) && std::env::var_os("BERTH_TEST_FORK_START").is_none()
}

/// This process's thread count, field 20 of /proc/self/stat.
fn threads() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count from its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(17)?.parse().ok()
}

/// Run `body` in a child that shares our memory; returns its pid once it has exec'd or
/// exited. `body` must end in an exec or `_exit` (the child exits 127 if it returns).
pub fn spawn(body: &mut dyn FnMut()) -> std::io::Result<i32> {
    // SAFETY: a fresh private anonymous mapping, nothing else refers to it.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the lowest page of our own mapping becomes a guard against overflow.
    unsafe { libc::mprotect(stack, page_size(), libc::PROT_NONE) };
    let mut arg: &mut dyn FnMut() = body;
    // SAFETY: the child runs `entry` on the new stack (its top, which grows down) with a
    // pointer to `arg`, which lives in this frame: CLONE_VFORK keeps this thread suspended,
    // and so `arg`, `body` and the stack alive, until the child has exec'd or exited.
    let pid = unsafe {
        libc::clone(
            entry,
            stack.cast::<u8>().add(STACK).cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&mut arg as *mut &mut dyn FnMut()).cast(),
        )
    };
    let err = std::io::Error::last_os_error();
    // SAFETY: our mapping; the child no longer runs on it (its exec or exit released it).
    unsafe { libc::munmap(stack, STACK) };
    if pid < 0 {
        return Err(err);
    }
    Ok(pid)
}

extern "C" fn entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` points to the `&mut dyn FnMut` in `spawn`'s frame, which stays alive
    // and untouched while the parent is suspended.
    let body = unsafe { &mut *(arg as *mut &mut dyn FnMut()) };
    body();
    // SAFETY: _exit ends the child at once, as an exec would have.
    unsafe { libc::_exit(127) }
}

fn page_size() -> usize {
    // SAFETY: sysconf with a constant name has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The child writes into our memory and exits; `spawn` returns only after that, so the
    /// write is visible at once and the child is there to reap.
    #[test]
    fn the_child_shares_our_memory_and_we_wait_for_its_exit() {
        static SEEN: AtomicI32 = AtomicI32::new(0);
        let mut body = || {
            SEEN.store(std::process::id() as i32, Ordering::SeqCst);
            // SAFETY: ends the child at once.
            unsafe { libc::_exit(7) }
        };
        let pid = spawn(&mut body).unwrap();
        assert_eq!(
            SEEN.load(Ordering::SeqCst),
            pid,
            "the child's write, seen by us"
        );
        let mut status = 0;
        // SAFETY: reaping our own child into a local.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 7);
    }

    #[test]
    fn a_body_that_returns_exits_127() {
        let mut body = || {};
        let pid = spawn(&mut body).unwrap();
        let mut status = 0;
        // SAFETY: as above.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 127);
    }

    /// With another thread alive the start must fork instead (the test harness itself has a
    /// main thread besides this one, so a second one makes it certain).
    #[test]
    fn another_thread_rules_sharing_out() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || rx.recv());
        assert!(!can_share());
        assert!(threads().unwrap() >= 2);
        drop(tx);
        let _ = t.join();
    }
}
