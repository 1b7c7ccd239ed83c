//! The monitors this process started (a container's, an exec's) stay its children until it
//! exits: a CLI command exits at once and its monitors go to init, but a long-lived caller
//! (the API server) must reap the ones that end, or each leaves a zombie. Only these pids are
//! waited for, never any other child's status.

use std::sync::Mutex;

static SPAWNED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Remember `pid`, a child this process started that nobody else waits for.
pub fn spawned(pid: i32) {
    let mut s = SPAWNED.lock().unwrap_or_else(|p| p.into_inner());
    s.push(pid);
}

/// Reap those of them that have ended (never blocks); returns how many are still running.
pub fn reap() -> usize {
    let mut s = SPAWNED.lock().unwrap_or_else(|p| p.into_inner());
    s.retain(|&pid| {
        // SAFETY: waitpid on a pid we started; a null status pointer is not written.
        let r = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG | libc::__WALL) };
        // 0: still running. ECHILD: reaped already (an error path waited for it).
        r == 0
    });
    s.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ended_children_are_reaped_and_running_ones_kept() {
        let quick = std::process::Command::new("true").spawn().unwrap();
        let slow = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        super::spawned(quick.id() as i32);
        super::spawned(slow.id() as i32);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while super::reap() > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(super::reap(), 1, "the quick one reaped, the slow one kept");
        assert!(!std::path::Path::new(&format!("/proc/{}", quick.id())).exists());
        let mut slow = slow;
        let _ = slow.kill();
        let _ = slow.wait();
        std::mem::forget(quick);
    }
}
