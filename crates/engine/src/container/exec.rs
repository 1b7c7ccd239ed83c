//! `exec`: a new process in a running container, started by the runtime library in this
//! process (or by the container's other runtime's `exec --detach`). Its stdio are the caller's (fds 0-2), or with `tty` a pty whose master comes back
//! through a console socket. The caller becomes a subreaper first so that it can wait for
//! the process (the runtime's intermediate process exits, the process is reparented to us).

use super::console::ConsoleSocket;
use super::runtimes::Rt;
use super::start::exec_error;
use super::Engine;
use crate::spec::user;
use crate::store::State;
use crate::{Error, Result};
use berth_runtime::ExecOpts;
use oci_spec::runtime::{Capability, LinuxCapabilities, Process};
use std::os::fd::OwnedFd;

/// `berth exec`'s options over the container's own process.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub cmd: Vec<String>,
    pub tty: bool,
    /// `K=V` (or `K`, taken from our environment as docker does), after --env-file's.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub privileged: bool,
}

/// A started exec: its host pid and, with `tty`, the pty master.
pub struct Started {
    pub pid: i32,
    pub master: Option<OwnedFd>,
}

impl Engine {
    /// Starts `o.cmd` in the running container `arg`. The caller waits for `pid` (it must
    /// be a subreaper, see [`become_subreaper`], unless it does not wait).
    pub fn exec(&self, arg: &str, o: &ExecOptions) -> Result<Started> {
        let r = self.exec_target(arg, o)?;
        self.exec_row(&r, o)
    }

    /// The running container `arg` names, checked for an exec of `o` (the database work of
    /// an exec, done before any fork).
    pub fn exec_target(&self, arg: &str, o: &ExecOptions) -> Result<crate::store::Row> {
        let mut r = self.find(arg)?;
        super::exit::refresh(self, &mut r)?;
        match r.state {
            State::Running => {}
            State::Paused => {
                return Err(Error::Conflict(format!(
                    "container {} is paused, unpause the container before exec",
                    r.id
                )))
            }
            _ => {
                return Err(Error::Conflict(format!(
                    "container {} is not running",
                    r.id
                )))
            }
        }
        if o.cmd.is_empty() {
            return Err(Error::InvalidArgument(
                "exec: no command given (args cannot be empty)".into(),
            ));
        }
        Ok(r)
    }

    /// [`Engine::exec`] in the container of row `r`, checked by [`Engine::exec_target`]: the
    /// runtime's work only, no database (a forked child may run it).
    pub fn exec_row(&self, r: &crate::store::Row, o: &ExecOptions) -> Result<Started> {
        let rt = self.runtime_for(r);
        let process = self.exec_process(&rt, &r.id, o)?;
        check_cwd(r.pid, process.cwd())?;
        let console = if o.tty {
            Some(ConsoleSocket::bind(&self.dir(&r.id))?)
        } else {
            None
        };
        let builtin = match &rt {
            Rt::Builtin(b) => b,
            Rt::Cli(c) => {
                let socket = console.as_ref().map(|c| (c.path(), c.dir_fd()));
                let pid = c.exec(
                    &r.id,
                    &process,
                    socket.as_ref().map(|(p, fd)| (p.as_path(), *fd)),
                )?;
                let master = console.map(ConsoleSocket::receive).transpose()?;
                return Ok(Started { pid, master });
            }
        };
        let pid = builtin
            .exec(
                &r.id,
                ExecOpts {
                    process: Some(process),
                    console_socket: console.as_ref().map(ConsoleSocket::path),
                    preserve_fds: 0,
                },
            )
            .map_err(|e| {
                let msg = e.to_string();
                match e {
                    berth_runtime::Error::State(_) => {
                        Error::Conflict(format!("container {} is not running", r.id))
                    }
                    e => match exec_error(e) {
                        Error::Exec { code, .. } => Error::Exec {
                            message: format!("OCI runtime exec failed: {msg}"),
                            code,
                        },
                        // The process failed inside the container before its command ran
                        // (its working directory, its user): docker's exec exits 126.
                        Error::Runtime(berth_runtime::Error::Child(_)) => Error::Exec {
                            message: format!("OCI runtime exec failed: {msg}"),
                            code: 126,
                        },
                        other => other,
                    },
                }
            })?;
        let master = console.map(ConsoleSocket::receive).transpose()?;
        Ok(Started { pid, master })
    }

    /// The container's process (env, user, capabilities, rlimits, no-new-privileges,
    /// AppArmor) with the exec's command and overrides.
    fn exec_process(&self, rt: &Rt, id: &str, o: &ExecOptions) -> Result<Process> {
        let spec = match rt {
            Rt::Builtin(b) => b.config(&b.load(id)?)?,
            // Another runtime keeps no config of ours: the bundle's is the one it was given.
            Rt::Cli(_) => berth_runtime::spec::load(&self.dir(id).join("config.json"))?,
        };
        let mut p = spec.process().clone().unwrap_or_default();
        p.set_args(Some(o.cmd.clone()));
        p.set_terminal(Some(o.tty));
        p.set_console_size(None);
        let env = merge_env(p.env().clone().unwrap_or_default(), &o.env);
        p.set_env(Some(env));
        if let Some(w) = o.workdir.as_deref().filter(|w| !w.is_empty()) {
            if !w.starts_with('/') {
                return Err(Error::InvalidArgument(format!(
                    "the working directory '{w}' is invalid, it needs to be an absolute path"
                )));
            }
            p.set_cwd(w.into());
        }
        if let Some(spec) = o.user.as_deref().filter(|u| !u.is_empty()) {
            // As docker: a user the container does not know is the exec's failure (126).
            let u = user::resolve(&self.rootfs(id), Some(spec)).map_err(|e| match e {
                Error::InvalidArgument(message) => Error::Exec { message, code: 126 },
                e => e,
            })?;
            let mut pu = p.user().clone();
            pu.set_uid(u.uid);
            pu.set_gid(u.gid);
            pu.set_additional_gids((!u.additional_gids.is_empty()).then_some(u.additional_gids));
            pu.set_umask(None);
            p.set_user(pu);
        }
        if o.privileged {
            let all: std::collections::HashSet<Capability> = crate::spec::caps::all()
                .iter()
                .filter_map(|c| serde_json::from_value(serde_json::Value::String(c.clone())).ok())
                .collect();
            let mut caps = LinuxCapabilities::default();
            caps.set_bounding(Some(all.clone()));
            caps.set_effective(Some(all.clone()));
            caps.set_permitted(Some(all));
            caps.set_inheritable(None);
            caps.set_ambient(None);
            p.set_capabilities(Some(caps));
        }
        Ok(p)
    }
}

/// The working directory must exist in the container (seen through its init's root, so in
/// its volumes too): docker's exec fails with 126 otherwise. The runtime would report it
/// too, from inside, but only as text.
fn check_cwd(init_pid: i32, cwd: &std::path::Path) -> Result<()> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::OpenOptionsExt;
    let root_path = format!("/proc/{init_pid}/root");
    let Ok(root) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(&root_path)
    else {
        // Gone meanwhile: the runtime reports the container as not running.
        return Ok(());
    };
    match berth_runtime::rootfs::resolve::open_in_root(
        root.as_fd(),
        cwd,
        libc::O_PATH | libc::O_DIRECTORY,
    ) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Exec {
            message: format!(
                "OCI runtime exec failed: exec failed: unable to start container process: chdir \
                 to cwd ({:?}) set in config.json failed: {}",
                cwd.display().to_string(),
                nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOENT))
                    .desc()
                    .to_lowercase()
            ),
            code: 126,
        }),
    }
}

/// `extra` over `base` by key, as dockerd merges an exec's Env: a bare `K` (the client
/// filled in those it could) unsets `K`; the engine never reads its own environment.
fn merge_env(mut base: Vec<String>, extra: &[String]) -> Vec<String> {
    for e in extra {
        let key = e.split('=').next().unwrap_or("");
        base.retain(|b| b.split('=').next() != Some(key));
        if e.contains('=') {
            base.push(e.clone());
        }
    }
    base
}

/// Makes the caller the reaper of the exec'd process (it is reparented to us when the
/// runtime's intermediate process exits).
pub fn become_subreaper() -> Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(Error::io(
            "prctl(PR_SET_CHILD_SUBREAPER)",
            "",
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Waits for `pid` (the caller's child, or reparented to it as a subreaper) and returns its
/// status as a shell gives it: the exit code, or 128+signal. Only `pid` is waited for: in a
/// process with other children (a server's), no other child's status is taken from its
/// owner.
pub fn wait_pid(pid: i32) -> i32 {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a local.
        let got = unsafe { libc::waitpid(pid, &mut status, 0) };
        if got < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return 125;
        }
        if got != pid {
            continue;
        }
        if libc::WIFEXITED(status) {
            return libc::WEXITSTATUS(status);
        }
        if libc::WIFSIGNALED(status) {
            return 128 + libc::WTERMSIG(status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_env_overrides_by_key() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        let got = merge_env(base, &["A=2".into(), "B=3".into()]);
        assert_eq!(got, vec!["PATH=/bin", "A=2", "B=3"]);
    }

    #[test]
    fn a_bare_exec_env_name_unsets_it_without_reading_our_environment() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        // PATH is set in this test process: it must not be filled from it.
        let got = merge_env(base, &["A".into(), "PATH".into(), "B=3".into()]);
        assert_eq!(got, vec!["B=3"]);
    }
}
