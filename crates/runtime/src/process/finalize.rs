//! The last steps of every container process (init after `start`, and each `exec`): close
//! what must not leak, enter the cwd and verify it, become the user with the configured
//! capabilities, seccomp, and execve. Nothing here allocates after the filter is loaded
//! except the error path.

use crate::error::{Error, Result};
use oci_spec::runtime::{Linux, Process};
use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::{AsFd, RawFd};
use std::path::{Path, PathBuf};

pub struct Exec {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

fn c(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Config(format!("{s:?} contains a NUL byte")))
}

/// Find the executable as the container will see it; runc's wording on failure.
pub fn resolve(process: &Process) -> Result<Exec> {
    let args = process.args().as_deref().unwrap_or(&[]);
    let argv0 = args
        .first()
        .ok_or_else(|| Error::Config("process.args must not be empty".into()))?;
    let env = process.env().as_deref().unwrap_or(&[]);
    let path = if argv0.contains('/') {
        let p = if Path::new(argv0).is_absolute() {
            PathBuf::from(argv0)
        } else {
            process.cwd().join(argv0)
        };
        match std::fs::metadata(&p) {
            // Like runc (Go's exec.LookPath): a file without any x bit is EACCES up front.
            Ok(m) if m.is_file() && is_executable(&p) => PathBuf::from(argv0),
            Ok(_) => return Err(Error::Child(format!("exec: {argv0:?}: permission denied"))),
            Err(e) => {
                return Err(Error::Child(format!(
                    "exec: {argv0:?}: stat {argv0}: {}",
                    no_os_suffix(&e)
                )))
            }
        }
    } else {
        let search = env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        search
            .split(':')
            .map(|d| Path::new(if d.is_empty() { "." } else { d }).join(argv0))
            .find(|p| is_executable(p))
            .ok_or_else(|| {
                Error::Child(format!(
                    "exec: {argv0:?}: executable file not found in $PATH"
                ))
            })?
    };
    Ok(Exec {
        path: c(path.to_str().unwrap_or(argv0))?,
        argv: args.iter().map(|a| c(a)).collect::<Result<_>>()?,
        envp: env.iter().map(|e| c(e)).collect::<Result<_>>()?,
    })
}

fn no_os_suffix(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

pub struct Finish<'a> {
    pub process: &'a Process,
    pub linux: &'a Linux,
    pub exec: Exec,
    /// fds 3..keep_below stay open (preserved fds and LISTEN_FDS).
    pub keep_below: RawFd,
    /// One more fd that must survive to execve (CLOEXEC; used to report exec failure).
    pub report_fd: Option<RawFd>,
    /// The seccomp listener, connected before pivot_root (its path is a host path); used
    /// instead of connecting to `listenerPath` from inside the container.
    pub notify_sock: Option<RawFd>,
    pub filter: Option<berth_seccomp::Filter>,
    pub setgroups_allowed: bool,
    /// Container state, sent with a seccomp notify fd to the listener.
    pub state: serde_json::Value,
}

pub fn finish(mut f: Finish) -> Result<Infallible> {
    // Before seccomp, which may deny rt_sigaction; SIGPIPE stays ignored until the execve so
    // a report to a peer that went away is an error here, not a silent death.
    reset_signals(&[libc::SIGPIPE]);
    close_fds(f.keep_below, &[f.report_fd, f.notify_sock]);
    enter_cwd(f.process.cwd())?;
    let nnp = f.process.no_new_privileges().unwrap_or(false);
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before dropping caps.
    if !nnp {
        load_seccomp(&mut f)?;
    }
    if let Some(c) = f.process.capabilities() {
        super::identity::drop_bounding(c)?;
    }
    super::identity::set_user(f.process.user(), f.setgroups_allowed)?;
    if let Some(c) = f.process.capabilities() {
        super::identity::set_caps(c)?;
    } else {
        caps::clear(None, caps::CapSet::Effective).ok();
    }
    if nnp {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(Error::Child(format!(
                "set no_new_privs: {}",
                std::io::Error::last_os_error()
            )));
        }
        load_seccomp(&mut f)?;
    }
    // SAFETY: signal(2) with SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let mut argv: Vec<*const libc::c_char> = f.exec.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = f.exec.envp.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: path, argv and envp are NUL-terminated arrays of valid C strings that outlive
    // the call; execve only returns on failure.
    unsafe { libc::execve(f.exec.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let e = std::io::Error::last_os_error();
    Err(Error::Child(format!(
        "exec {:?}: {}",
        f.exec.path,
        no_os_suffix(&e)
    )))
}

fn load_seccomp(f: &mut Finish) -> Result<()> {
    let Some(filter) = f.filter.take() else {
        return Ok(());
    };
    if let Some(fd) = filter.load()? {
        let seccomp = f
            .linux
            .seccomp()
            .as_ref()
            .expect("filter implies seccomp config");
        if let Some(listener) = seccomp.listener_path() {
            // Our pid as the host sees it (inside a pid namespace getpid() is 1).
            let pid = f.state["pid"].as_i64().unwrap_or(0) as i32;
            // init and exec connect before leaving the host's mount namespace, where the
            // listener's path lives.
            let sock = f
                .notify_sock
                .ok_or_else(|| Error::State("seccomp listener was not connected".into()))?;
            berth_seccomp::send_notify_fd_on(
                // SAFETY: the socket stays open until finish() execs (kept by close_fds).
                unsafe { std::os::fd::BorrowedFd::borrow_raw(sock) },
                listener,
                seccomp.listener_metadata().as_deref(),
                pid,
                &f.state,
                fd.as_fd(),
            )?;
            // One state per connection, then the connection is closed (config-linux.md).
            if let Some(sock) = f.notify_sock.take() {
                // SAFETY: our own socket, not used after this.
                unsafe { libc::close(sock) };
            }
        }
    }
    Ok(())
}

/// Close every fd the caller did not ask to pass on, so no host file or directory can be
/// reached through /proc/self/fd by the container process (CVE-2024-21626 and its kin).
pub fn close_fds(keep_below: RawFd, keep: &[Option<RawFd>]) {
    let close = |lo: u32, hi: u32| {
        if lo <= hi {
            // SAFETY: close_range only closes descriptors in the range.
            unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0) };
        }
    };
    let first = keep_below.max(3) as u32;
    let mut kept: Vec<u32> = keep
        .iter()
        .flatten()
        .map(|&fd| fd as u32)
        .filter(|&fd| fd >= first)
        .collect();
    kept.sort_unstable();
    let mut lo = first;
    for fd in kept {
        if fd > lo {
            close(lo, fd - 1);
        }
        lo = fd + 1;
    }
    close(lo, u32::MAX);
}

/// chdir, then insist that the cwd is inside our root: a cwd reached through an fd of a host
/// directory shows up as "(unreachable)/..." or fails getcwd (CVE-2024-21626).
fn enter_cwd(cwd: &Path) -> Result<()> {
    nix::unistd::chdir(cwd).map_err(|e| {
        Error::Child(format!(
            "chdir to cwd ({:?}) set in config.json failed: {}",
            cwd,
            e.desc().to_lowercase()
        ))
    })?;
    match nix::unistd::getcwd() {
        Ok(p) if p.is_absolute() && !p.starts_with("(unreachable)") => Ok(()),
        _ => Err(Error::Child(format!(
            "current working directory {cwd:?} is outside of the container root"
        ))),
    }
}

/// The container's process starts with every signal at its default action and none
/// blocked, whatever its starter had (runc and crun do the same): a shell's background job or
/// script ignores SIGINT and SIGQUIT, Rust ignores SIGPIPE, and the runtime blocks the
/// signals it forwards. A handled signal is reset by execve, but an ignored one and the mask
/// are inherited, so Ctrl-C or `kill -QUIT` would never reach the container.
fn reset_signals(except: &[libc::c_int]) {
    // The raw system call, not sigaction(3): glibc refuses to touch the two real-time
    // signals it reserves for itself (32 and 33), and a starter may have ignored them too.
    // The kernel's struct sigaction all zero is SIG_DFL with no flags and an empty mask;
    // the buffer is larger than that struct on every architecture.
    let dfl = [0u64; 8];
    // The kernel's sigset_t: 64 signals.
    const KERNEL_SIGSET_SIZE: usize = 8;
    for sig in 1..=libc::SIGRTMAX() {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP && !except.contains(&sig) {
            // SAFETY: rt_sigaction only reads `dfl`, which outlives the call; an old-action
            // pointer of NULL asks for nothing back.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    dfl.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    KERNEL_SIGSET_SIZE,
                )
            };
        }
    }
    // SAFETY: sigprocmask reads a set we initialised with sigemptyset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}
