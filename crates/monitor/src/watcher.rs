//! The monitor's watcher: a child that sleeps until the monitor dies without finishing its
//! work (SIGKILL, a crash, the OOM killer), then becomes `berth --root R
//! container-monitor-died ID`, which records the container's end and applies its `--rm` and
//! restart policy as the monitor would have. Without it a dead monitor would only be noticed
//! by the next berth command.
//!
//! The kernel tells it of its parent's death (PR_SET_PDEATHSIG), so it costs no polling; it
//! is forked, so it shares the monitor's pages until either writes them, and it holds none
//! of the monitor's fds (an attached client must see EOF when the monitor dies). A monitor
//! that ends normally kills it first ([`Watcher::dismiss`]).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub struct Watcher {
    pid: libc::pid_t,
}

impl Watcher {
    pub fn spawn(berth: &Path, root: &Path, id: &str) -> io::Result<Watcher> {
        let cstr = |b: &[u8]| CString::new(b).map_err(|_| io::ErrorKind::InvalidInput);
        // Everything the child needs is made before the fork: it only makes system calls.
        let prog = cstr(berth.as_os_str().as_bytes())?;
        let args = [
            cstr(b"berth")?,
            cstr(b"--root")?,
            cstr(root.as_os_str().as_bytes())?,
            cstr(b"container-monitor-died")?,
            cstr(id.as_bytes())?,
        ];
        let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        // A crash point set for the command that started us names a step of that command,
        // not of the repair.
        let env: Vec<CString> = std::env::vars_os()
            .filter(|(k, _)| k != "BERTH_TEST_CRASH_AT")
            .filter_map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).ok()
            })
            .collect();
        let mut envp: Vec<*const libc::c_char> = env.iter().map(|a| a.as_ptr()).collect();
        envp.push(std::ptr::null());
        let devnull = c"/dev/null";
        // SAFETY: getpid has no memory effects.
        let monitor = unsafe { libc::getpid() };
        // SAFETY: the monitor is single-threaded (no thread can hold a lock the child would
        // need), and the child below makes only async-signal-safe system calls on memory
        // prepared above before it execs or exits.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: only system calls on the pointers made above, which live until the
            // exec (this process never returns from this block).
            unsafe { watch(monitor, devnull.as_ptr(), prog.as_ptr(), &argv, &envp) };
        }
        Ok(Watcher { pid })
    }

    /// The monitor ends normally: its watcher must not report a death.
    pub fn dismiss(self) {
        // SAFETY: signalling and reaping our own child have no memory effects beyond the
        // status we pass a local for.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(self.pid, &mut status, 0);
        }
    }
}

/// The child's side. SAFETY (for callers): the pointers are valid NUL-terminated strings and
/// NULL-terminated arrays of them.
unsafe fn watch(
    monitor: libc::pid_t,
    devnull: *const libc::c_char,
    prog: *const libc::c_char,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> ! {
    // SAFETY: all of these are plain system calls on valid pointers (the caller's promise)
    // and on locals.
    unsafe {
        // SIGHUP is blocked before it is asked for, so its default action cannot end us.
        let mut hup: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut hup);
        libc::sigaddset(&mut hup, libc::SIGHUP);
        libc::sigprocmask(libc::SIG_BLOCK, &hup, std::ptr::null_mut());
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGHUP as libc::c_ulong,
            0,
            0,
            0,
        );
        // Not taken for the monitor by whoever looks for it by name.
        libc::prctl(libc::PR_SET_NAME, c"berth-watcher".as_ptr(), 0, 0, 0);
        // No fd of the monitor's stays open here: not its clients' sockets, not its pipes.
        let null = libc::open(devnull, libc::O_RDWR | libc::O_CLOEXEC);
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        // The monitor may have died before the prctl: then no signal comes.
        while libc::getppid() == monitor {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::sigwaitinfo(&hup, &mut info);
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::execve(prog, argv.as_ptr(), envp.as_ptr());
        libc::_exit(127)
    }
}
