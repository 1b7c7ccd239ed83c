//! `exec`: a new process in a running container's namespaces and cgroup.

use super::create::listen_fds;
use super::Runtime;
use crate::error::{Error, Result};
use crate::process::channel::{self, Msg};
use crate::process::exec::{self, ExecArgs};
use crate::process::{clone, Forked};
use crate::state::Status;
use berth_cgroups::{CgroupManager, Manager};
use oci_spec::runtime::Process;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

#[derive(Default)]
pub struct ExecOpts {
    pub process: Option<Process>,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: i32,
}

impl Runtime {
    /// Start the process and return its host pid once it has exec'd (or the reason it could not).
    pub fn exec(&self, id: &str, o: ExecOpts) -> Result<i32> {
        let s = self.load(id)?;
        match self.status(&s) {
            Status::Running | Status::Created => {}
            Status::Paused => return Err(Error::State("cannot exec in a paused container".into())),
            st => return Err(Error::State(format!("cannot exec in a {st} container"))),
        }
        let process = o
            .process
            .ok_or_else(|| Error::Config("exec: no process given".into()))?;
        let cg = Manager::from_paths(&s.cgroup_paths)?;
        let console = match &o.console_socket {
            Some(p) => Some(crate::process::console::connect(p)?),
            None => None,
        };
        let config = s.config(&self.dir(id))?;
        let filter = self.seccomp_filter(&config)?;
        let listener = config
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
            .and_then(|s| s.listener_path().clone());
        let notify_sock = match &listener {
            Some(p) if filter.as_ref().is_some_and(|f| f.wants_notify()) => {
                Some(berth_seccomp::connect_listener(p)?)
            }
            _ => None,
        };
        let args = ExecArgs {
            init_pid: s.pid,
            process,
            spec: config,
            console_fd: console.as_ref().map(|c| c.as_raw_fd()),
            keep_below: 3 + o.preserve_fds + listen_fds(),
            state: s.oci_json(Status::Running),
            filter,
            notify_sock: notify_sock.as_ref().map(|s| s.as_raw_fd()),
        };
        let (mut parent, mut child) = channel::pair()?;
        let stage1 = match clone(0)? {
            Forked::Child => {
                drop(parent);
                crate::process::child_main(&mut child, |c| exec::stage1(c, &args))
            }
            Forked::Parent(pid) => pid,
        };
        drop(child);
        let reap = |pid: i32| {
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        };
        if let Err(e) = cg.add_task(stage1) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(stage1),
                nix::sys::signal::Signal::SIGKILL,
            );
            reap(stage1);
            return Err(e.into());
        }
        parent.send(&Msg::Continue)?;
        let pid = match parent.recv()? {
            Some(Msg::Pid(p)) => p,
            Some(Msg::Error(e)) => {
                reap(stage1);
                return Err(Error::Child(format!("exec failed: {e}")));
            }
            other => {
                reap(stage1);
                return Err(Error::Child(format!("exec failed: unexpected {other:?}")));
            }
        };
        reap(stage1);
        if notify_sock.is_some() {
            // It waits for its host pid to tell the seccomp listener (see process::exec).
            parent.send(&Msg::Pid(pid))?;
        }
        // The process holds its end until execve succeeds (CLOEXEC): EOF means it is running.
        match parent.recv()? {
            None => Ok(pid),
            Some(Msg::Error(e)) => {
                reap(pid);
                Err(Error::Child(format!(
                    "exec failed: unable to start container process: {e}"
                )))
            }
            Some(m) => Err(Error::State(format!("protocol: unexpected {m:?}"))),
        }
    }
}
