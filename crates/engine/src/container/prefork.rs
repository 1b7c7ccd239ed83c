//! The start child, forked before the engine's work instead of at the start.
//!
//! `berth run` knows from its first line that it will start a container. Forking the child
//! that runs the runtime and becomes the monitor right then, while berth is still small,
//! takes the fork off the start's path (the child waits on a pipe while the engine looks up
//! the image, mounts the rootfs and writes the spec) and leaves the child, and the
//! container's init cloned from it, with less of berth's memory to share copy-on-write.
//!
//! The job comes down the pipe as one JSON line (the container, its options, the monitor,
//! the start's flags) followed by the config.json bytes; the child then does exactly what a
//! child forked at the start does ([`super::start`]), and reports on its own pipe the same
//! way. A child that gets no job (the command failed before its start, or exited) reads EOF
//! and exits at once.

use super::start::{child, exit_now, pipe, report, StartFlags};
use super::{options_of, Engine};
use crate::store::{Row, State};
use crate::{Error, Result};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// A start child waiting for its job.
pub(super) struct Preforked {
    pub pid: i32,
    job: OwnedFd,
    /// The read end of the child's report pipe.
    pub report: OwnedFd,
}

thread_local! {
    static PREFORKED: RefCell<Option<Preforked>> = const { RefCell::new(None) };
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Job {
    id: String,
    options: String,
    monitor: PathBuf,
    flags: StartFlags,
}

impl Engine {
    /// Forks the start child of the container this command is about to start (see the
    /// module doc). Best effort: when the fork fails, the start forks as usual.
    pub fn prefork(&self) {
        if PREFORKED.with(|p| p.borrow().is_some()) {
            return;
        }
        let (Ok((job_r, job_w)), Ok((rep_r, rep_w))) = (pipe(), pipe()) else {
            return;
        };
        // SAFETY: as for the start's own fork: the only other thread berth may have is the
        // cgroup warming one, which makes raw system calls only, and glibc's fork keeps the
        // allocator consistent for the child, which runs our own code and execs or _exits.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return;
        }
        if pid == 0 {
            drop((job_w, rep_r));
            // Out of the terminal's process group at once: a Ctrl-C during a pull is for
            // berth, which then exits, and this child with it (EOF on the job pipe).
            let _ = nix::unistd::setsid();
            self.run_job(job_r, rep_w);
        }
        drop((job_r, rep_w));
        PREFORKED.with(|p| {
            *p.borrow_mut() = Some(Preforked {
                pid,
                job: job_w,
                report: rep_r,
            })
        });
    }

    /// In the child: wait for the job, then start the container as [`super::start`] does.
    fn run_job(&self, job: OwnedFd, rep: OwnedFd) -> ! {
        let mut buf = Vec::new();
        if std::fs::File::from(job).read_to_end(&mut buf).is_err() || buf.is_empty() {
            exit_now(0);
        }
        let w = rep.as_raw_fd();
        let msg = match self.take_job(&buf) {
            Ok((row, monitor, flags)) => {
                let o = options_of(&row);
                match child(self, &row, &o, &monitor, flags, w) {
                    Err(err) => format!("E{}:{}", err.exit_code(), err),
                    Ok(never) => match never {},
                }
            }
            Err(err) => format!("E{}:{}", err.exit_code(), err),
        };
        report(w, &msg);
        exit_now(1);
    }

    fn take_job(&self, buf: &[u8]) -> Result<(Row, PathBuf, StartFlags)> {
        let bad = |e: serde_json::Error| Error::InvalidArgument(format!("start job: {e}"));
        let nl = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
        let job: Job = serde_json::from_slice(&buf[..nl]).map_err(bad)?;
        let config = buf.get(nl + 1..).unwrap_or_default();
        if !config.is_empty() {
            let spec = serde_json::from_slice(config).map_err(bad)?;
            *self.prepared.borrow_mut() = Some((job.id.clone(), spec, config.to_vec()));
        }
        let row = Row {
            id: job.id,
            name: String::new(),
            image: String::new(),
            image_id: String::new(),
            created: String::new(),
            options: job.options,
            state: State::Created,
            pid: 0,
            monitor_pid: 0,
            exit_code: 0,
            started_at: String::new(),
            finished_at: String::new(),
            restart_count: 0,
            error: String::new(),
        };
        Ok((row, job.monitor, job.flags))
    }
}

/// The waiting start child, given its job: (its pid, the read end of its report pipe).
/// None when this process forked none (or it was used).
pub(super) fn hand_job(
    e: &Engine,
    r: &Row,
    monitor: &std::path::Path,
    flags: StartFlags,
) -> Option<Result<(i32, OwnedFd)>> {
    let p = PREFORKED.with(|p| p.borrow_mut().take())?;
    let job = Job {
        id: r.id.clone(),
        options: r.options.clone(),
        monitor: monitor.to_path_buf(),
        flags,
    };
    let mut msg = match serde_json::to_vec(&job) {
        Ok(m) => m,
        Err(er) => return Some(Err(Error::InvalidArgument(format!("start job: {er}")))),
    };
    msg.push(b'\n');
    if let Some((_, bytes)) = e.take_prepared(&r.id) {
        msg.extend_from_slice(&bytes);
    }
    let mut f = std::fs::File::from(p.job);
    if let Err(er) = f.write_all(&msg) {
        return Some(Err(Error::io("send the start job", "", er)));
    }
    drop(f);
    Some(Ok((p.pid, p.report)))
}
