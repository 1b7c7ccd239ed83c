//! Shared helpers: build configs from JSON and run code under a real filter in a child.
#![allow(dead_code)] // each test binary uses a different subset

use std::os::fd::OwnedFd;

use berth_seccomp::Filter;
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::LinuxSeccomp;

/// Exit codes the child uses when the setup itself fails.
pub const NNP_FAILED: i32 = 200;
pub const LOAD_FAILED: i32 = 201;

/// Deserialize a `linux.seccomp` object.
pub fn seccomp(json: serde_json::Value) -> LinuxSeccomp {
    serde_json::from_value(json).expect("test config must deserialize")
}

/// How the child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signaled(Signal),
}

/// Fork; the child sets no_new_privs, loads `filter`, runs `body` and exits with its result.
/// `filter` is compiled by the caller so the child does as little as possible.
pub fn run_filtered(filter: Filter, body: impl FnOnce() -> i32) -> Outcome {
    run_filtered_with_fd(filter, |_| body())
}

/// Like [`run_filtered`], handing `body` the notify fd returned by `load()`.
pub fn run_filtered_with_fd(filter: Filter, body: impl FnOnce(Option<OwnedFd>) -> i32) -> Outcome {
    // SAFETY: the child only performs syscalls through nix wrappers (plus whatever `body`
    // does, kept to the same) and leaves through _exit, never returning into the test
    // harness, so no other thread's state is relied upon.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = if nix::sys::prctl::set_no_new_privs().is_err() {
                NNP_FAILED
            } else {
                match filter.load() {
                    Ok(fd) => body(fd),
                    Err(_) => LOAD_FAILED,
                }
            };
            // SAFETY: _exit ends the child at once, skipping the harness's atexit
            // handlers and destructors, which must not run in a forked copy.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, code) => Outcome::Exited(code),
            WaitStatus::Signaled(_, signal, _) => Outcome::Signaled(signal),
            other => panic!("unexpected wait status {other:?}"),
        },
    }
}

/// 0 for success, else the errno, as an exit code.
pub fn errno_of<T>(result: nix::Result<T>) -> i32 {
    match result {
        Ok(_) => 0,
        Err(errno) => errno as i32,
    }
}

/// Path of a directory that does not exist; mkdir() on it would fail with ENOENT unfiltered.
pub const MISSING_PARENT: &std::ffi::CStr = c"/nonexistent-berth-seccomp-test/dir";

/// mkdir() under a missing parent: ENOENT without a filter, the filter's errno with one.
pub fn try_mkdir() -> i32 {
    errno_of(nix::unistd::mkdir(
        MISSING_PARENT,
        nix::sys::stat::Mode::from_bits_truncate(0o755),
    ))
}

/// getpgid() of a pid beyond any pid_max: ESRCH without a filter.
pub fn try_getpgid(pid: i32) -> i32 {
    errno_of(nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(pid))))
}

pub const ENOENT: i32 = Errno::ENOENT as i32;
pub const ESRCH: i32 = Errno::ESRCH as i32;
