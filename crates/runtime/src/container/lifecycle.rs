//! start, kill, delete, pause/resume, update, ps and stats.

use super::Runtime;
use crate::error::{Error, Result};
use crate::hooks;
use crate::state::{State, Status, FIFO_FILE};
use berth_cgroups::{CgroupManager, FreezerState, Manager};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

impl Runtime {
    pub fn start(&self, id: &str) -> Result<()> {
        let _lock = self.lock(id)?;
        let s = self.load(id)?;
        match self.status(&s) {
            Status::Created => {}
            Status::Stopped => {
                return Err(Error::State(
                    "cannot start a container that has stopped".into(),
                ))
            }
            st => {
                return Err(Error::State(format!(
                    "cannot start an already {st} container"
                )))
            }
        }
        let fifo = self.dir(id).join(FIFO_FILE);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&fifo)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENXIO) => {
                    Error::State("cannot start a container that has stopped".into())
                }
                _ => Error::io("open", &fifo, e),
            })?;
        use std::io::Write;
        (&f).write_all(&[0])
            .map_err(|e| Error::io("write", &fifo, e))?;
        let _ = std::fs::remove_file(&fifo);
        let config = self.config_for_hooks(&s);
        if let Some(h) = config.as_ref().and_then(|c| c.hooks().as_ref()) {
            // Poststart failures are reported but do not stop the container (OCI spec).
            hooks::run_all_warn(
                "poststart",
                h.poststart().as_ref(),
                &s.oci_json(Status::Running),
            );
        }
        Ok(())
    }

    pub fn kill(&self, id: &str, sig: Signal, all: bool) -> Result<()> {
        let s = self.load(id)?;
        let st = self.status(&s);
        if st == Status::Stopped && !all {
            return Err(Error::State("container not running".into()));
        }
        if all {
            let cg = Manager::from_paths(&s.cgroup_paths)?;
            cg.kill_all(sig as i32)?;
            return Ok(());
        }
        kill(Pid::from_raw(s.pid), sig)
            .map_err(|e| Error::sys(format!("kill container {id} (pid {})", s.pid), e))?;
        if st == Status::Paused && sig == Signal::SIGKILL {
            // A frozen task only dies once thawed (cgroup v1 freezer).
            let _ =
                Manager::from_paths(&s.cgroup_paths).and_then(|cg| cg.freeze(FreezerState::Thawed));
        }
        Ok(())
    }

    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let dir = self.dir(id);
        if !dir.exists() {
            return Err(Error::NotExist(id.into()));
        }
        let _lock = self.lock(id)?;
        let s = match self.load(id) {
            Ok(s) => s,
            // A state dir without a state file is the remains of a create that died:
            // nothing is running from it.
            Err(Error::NotExist(_)) if force => return remove_dir(&dir),
            Err(e) => return Err(e),
        };
        let st = self.status(&s);
        let cg = Manager::from_paths(&s.cgroup_paths)?;
        match st {
            Status::Stopped => {}
            Status::Created if !force => {
                // runc deletes a created container without --force: its init never ran user code.
                self.stop_init(&s, &cg)?;
            }
            _ if !force => {
                return Err(Error::State(format!(
                    "cannot delete container {id} that is not stopped: {st}"
                )))
            }
            _ => self.stop_init(&s, &cg)?,
        }
        // Whatever is still in the cgroup (processes that escaped init's death) goes too.
        let _ = cg.kill_all(libc::SIGKILL);
        let _ = cg.freeze(FreezerState::Thawed);
        cg.destroy()?;
        let config = self.config_for_hooks(&s);
        if let Some(h) = config.as_ref().and_then(|c| c.hooks().as_ref()) {
            hooks::run_all_warn(
                "poststop",
                h.poststop().as_ref(),
                &s.oci_json(Status::Stopped),
            );
        }
        remove_dir(&dir)
    }

    /// A missing or unreadable config must not strand the container: warn and skip hooks.
    fn config_for_hooks(&self, s: &State) -> Option<oci_spec::runtime::Spec> {
        self.config(s)
            .map_err(|e| eprintln!("berth-runtime: warning: hooks skipped: {e}"))
            .ok()
    }

    fn stop_init(&self, s: &State, cg: &Manager) -> Result<()> {
        let _ = kill(Pid::from_raw(s.pid), Signal::SIGKILL);
        let _ = cg.freeze(FreezerState::Thawed);
        let deadline = Instant::now() + Duration::from_secs(10);
        while crate::state::process_alive(s.pid, s.start_time) {
            if Instant::now() > deadline {
                return Err(Error::State(format!(
                    "container init (pid {}) did not die after SIGKILL",
                    s.pid
                )));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        Ok(())
    }

    pub fn pause(&self, id: &str) -> Result<()> {
        let _lock = self.lock(id)?;
        let s = self.load(id)?;
        match self.status(&s) {
            Status::Running | Status::Created => {}
            st => return Err(Error::State(format!("container not running: {st}"))),
        }
        Manager::from_paths(&s.cgroup_paths)?.freeze(FreezerState::Frozen)?;
        Ok(())
    }

    pub fn resume(&self, id: &str) -> Result<()> {
        let _lock = self.lock(id)?;
        let s = self.load(id)?;
        if self.status(&s) != Status::Paused {
            return Err(Error::State("container not paused".into()));
        }
        Manager::from_paths(&s.cgroup_paths)?.freeze(FreezerState::Thawed)?;
        Ok(())
    }

    pub fn update(&self, id: &str, r: &oci_spec::runtime::LinuxResources) -> Result<()> {
        let _lock = self.lock(id)?;
        let s = self.load(id)?;
        if self.status(&s) == Status::Stopped {
            return Err(Error::State("container not running".into()));
        }
        Manager::from_paths(&s.cgroup_paths)?.apply(r)?;
        Ok(())
    }

    pub fn pids(&self, id: &str) -> Result<Vec<i32>> {
        let s = self.load(id)?;
        Ok(Manager::from_paths(&s.cgroup_paths)?.pids()?)
    }

    pub fn stats(&self, id: &str) -> Result<berth_cgroups::Stats> {
        let s = self.load(id)?;
        if self.status(&s) == Status::Stopped {
            return Err(Error::State("container not running".into()));
        }
        Ok(Manager::from_paths(&s.cgroup_paths)?.stats()?)
    }
}

use std::os::unix::fs::OpenOptionsExt;

fn remove_dir(dir: &std::path::Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove state dir", dir, e)),
    }
}
