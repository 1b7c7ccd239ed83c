//! `berth exec`: a command in a running container, started in this process by the runtime
//! library. Its stdio are ours (stdin only with -i), or with -t a pty we proxy in raw mode;
//! its status is ours. -d leaves it running and returns at once.

use super::tty;
use super::{engine, fail, Failure};
use crate::cli::ExecArgs;
use crate::commands::run_flags::client_env;
use crate::env::Env;
use berth_engine::container::exec::{self, ExecOptions};
use berth_engine::options::parse;
use std::os::fd::{AsRawFd, OwnedFd};

pub fn exec(env: &Env, a: &ExecArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let keys =
        tty::parse_detach_keys(a.detach_keys.as_deref().unwrap_or(tty::DEFAULT_DETACH_KEYS))?;
    let mut vars = Vec::new();
    for f in &a.env_file {
        vars.extend(parse::env_file(f, &client_env)?);
    }
    for v in &a.env {
        vars.extend(parse::env(v, &client_env)?);
    }
    let o = ExecOptions {
        cmd: a.cmd().to_vec(),
        tty: a.tty,
        env: vars,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        privileged: a.privileged,
    };
    if a.detach {
        // Its stdio must not be ours: we are gone at once.
        let _quiet = Redirect::all_to_null()?;
        let started = e.exec(a.container(), &o)?;
        if let Some(master) = started.master {
            tty::hold_master(&master);
        }
        return Ok(0);
    }
    exec::become_subreaper()?;
    let started = {
        // Without -i the command's stdin is /dev/null, as with docker.
        let _stdin = (!a.interactive && !a.tty)
            .then(Redirect::stdin_to_null)
            .transpose()?;
        e.exec(a.container(), &o)?
    };
    match started.master {
        Some(master) => tty::finish(tty::proxy_master(
            master,
            started.pid,
            a.interactive,
            &keys,
        )?),
        None => Ok(exec::wait_pid(started.pid)),
    }
}

/// Some of our stdio pointed at /dev/null while this lives (the exec'd process inherits
/// fds 0-2 from us), restored on drop.
struct Redirect {
    saved: Vec<(i32, OwnedFd)>,
}

impl Redirect {
    fn stdin_to_null() -> Result<Redirect, Failure> {
        Redirect::to_null(&[0])
    }

    fn all_to_null() -> Result<Redirect, Failure> {
        Redirect::to_null(&[0, 1, 2])
    }

    fn to_null(fds: &[i32]) -> Result<Redirect, Failure> {
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map_err(|e| fail(format!("open /dev/null: {e}")))?;
        let mut saved = Vec::new();
        for &fd in fds {
            // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor that we own from here on.
            let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
            if copy < 0 {
                continue;
            }
            // SAFETY: `copy` was just made for us and is wrapped once.
            saved.push((fd, unsafe {
                <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(copy)
            }));
            // SAFETY: dup2 onto one of our stdio descriptors.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
        Ok(Redirect { saved })
    }
}

impl Drop for Redirect {
    fn drop(&mut self) {
        for (fd, copy) in &self.saved {
            // SAFETY: dup2 of a descriptor we own back onto our stdio.
            unsafe { libc::dup2(copy.as_raw_fd(), *fd) };
        }
    }
}
