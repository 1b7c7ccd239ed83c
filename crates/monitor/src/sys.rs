//! The few system calls the monitor needs, over libc, each with its reason for `unsafe`.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn set_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd number has no memory effects; a bad fd is an error return.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) })?;
    Ok(())
}

pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd number has no memory effects; a bad fd is an error return.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

/// Moves `fd` to a number >= 3 (close-on-exec) if it sits on 0, 1 or 2, so the monitor's
/// own stdio can be pointed at /dev/null.
pub fn above_stdio(fd: RawFd) -> io::Result<RawFd> {
    if fd > 2 {
        set_cloexec(fd)?;
        return Ok(fd);
    }
    dup(fd)
}

/// A close-on-exec copy of `fd` numbered 3 or above.
pub fn dup(fd: RawFd) -> io::Result<RawFd> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new fd; no memory is touched.
    check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) })
}

/// Points 0, 1 and 2 at /dev/null: the monitor must not hold the terminal or the pipes of
/// the `berth` command that started it (a `$(berth run -d ...)` would never end).
pub fn stdio_to_null() -> io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    use std::os::fd::AsRawFd;
    for target in 0..3 {
        // SAFETY: dup2 onto 0..2 replaces the monitor's stdio; nothing in the process
        // holds those numbers as Rust-owned fds (std's stdio handles only use the numbers).
        check(unsafe { libc::dup2(null.as_raw_fd(), target) })?;
    }
    Ok(())
}

/// Marks every open fd close-on-exec: whatever the monitor inherited must not reach the
/// commands it runs (and through them a container).
pub fn cloexec_all() {
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        let fds: Vec<RawFd> = dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        for fd in fds.into_iter().filter(|&fd| fd > 2) {
            let _ = set_cloexec(fd);
        }
    }
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two fds into the array we own.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both fds were just made and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Blocks SIGCHLD and returns a signalfd for it (close-on-exec, non-blocking). std's
/// `Command` empties the signal mask of the processes it starts. SIGCHLD goes back to its
/// default action once blocked: ignored by whoever started `berth` (it survives execve), the
/// kernel would reap the container's init itself and its exit status would be lost.
pub fn sigchld_fd() -> io::Result<OwnedFd> {
    // SAFETY: the sigset is a local we initialise with sigemptyset before use; SIG_DFL
    // installs no handler code.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        check(libc::sigprocmask(
            libc::SIG_BLOCK,
            &set,
            std::ptr::null_mut(),
        ))?;
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        let fd = check(libc::signalfd(
            -1,
            &set,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        ))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

pub fn ignore_sigpipe() {
    // SAFETY: setting a disposition to SIG_IGN installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// The monitor becomes the reaper of every orphan below it (the container's init after a
/// restart command exits, processes left by `exec`), and leads its own session so that the
/// `berth` command's terminal and process group signals never reach it.
pub fn detach_and_subreap() {
    // SAFETY: setsid and prctl take no pointers; failure (already a leader) is harmless.
    unsafe {
        libc::setsid();
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// One reaped child: its pid and the shell-style status (128 + signal when killed).
pub fn reap_one() -> Option<(libc::pid_t, i32)> {
    let mut status = 0;
    // SAFETY: waitpid writes the status into our local.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
        return None;
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        return Some((pid, -1));
    };
    Some((pid, code))
}

/// Live children of this process (it is single-threaded: its tid is its pid).
pub fn children() -> Vec<libc::pid_t> {
    let me = std::process::id();
    std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// poll(2) over `fds`, `timeout_ms` < 0 waits forever. EINTR counts as "nothing ready".
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<()> {
    // SAFETY: the pointer and length describe the slice we own for the duration of the call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// Sets the window size of the terminal `fd` (a pty master); false when it is no terminal.
pub fn set_window_size(fd: RawFd, rows: u16, cols: u16) -> bool {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads the winsize we pass; on a non-terminal it fails with ENOTTY.
    unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) == 0 }
}

/// A connected pair of unix stream sockets (CLOEXEC): the restart command of a tty
/// container sends the new pty master back over one as its stdout.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: socketpair writes two fds into the array we own.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: both fds were just made and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// One fd passed over `sock` with SCM_RIGHTS, if one is waiting (non-blocking).
pub fn receive_fd(sock: RawFd) -> Option<OwnedFd> {
    let mut byte = [0u8; 64];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: byte.len(),
    };
    // Room for one fd's control message (CMSG_SPACE(sizeof(int)) = 24 on 64-bit Linux).
    let mut control = [0u64; 4];
    // SAFETY: msghdr is plain data; it points at our iovec and control buffer, which outlive
    // the recvmsg call; the cmsg walk stays inside the control buffer's reported length.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return None;
        }
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const RawFd);
                return Some(OwnedFd::from_raw_fd(fd));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    None
}
