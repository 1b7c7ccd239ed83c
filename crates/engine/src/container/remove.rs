//! `rm`: the runtime state (processes and cgroup), the monitor, the overlay mount, the
//! container dir and the row, in that order, so a crash part-way leaves a row in `removing`
//! that the next command finishes ([`crate::reconcile`]).

use super::{exit, monitor_alive, options_of, Engine, STOPPED_BY_USER};
use crate::store::{Row, State};
use crate::{Error, Result};
use std::time::{Duration, Instant};

impl Engine {
    /// `rm [-f] [-v]`: `volumes` removes the container's anonymous volumes too.
    pub fn remove(&self, arg: &str, force: bool, volumes: bool) -> Result<Row> {
        let found = self.find(arg)?;
        let lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        exit::refresh(self, &mut r)?;
        if r.state.is_live() && !force {
            return Err(Error::Conflict(format!(
                "You cannot remove a {} container {}. Stop the container before attempting removal or force remove",
                r.state.as_str(),
                r.id
            )));
        }
        self.remove_locked(&mut r, volumes)?;
        lock.remove_file();
        Ok(r)
    }

    /// Remove a container whatever its state. The caller holds the lock.
    pub fn remove_locked(&self, r: &mut Row, volumes: bool) -> Result<()> {
        let dir = self.dir(&r.id);
        if dir.is_dir() {
            let _ = std::fs::write(dir.join(STOPPED_BY_USER), b"");
        }
        if r.state != State::Removing {
            r.state = State::Removing;
            self.store.update(r)?;
        }
        let rt = self.runtime_for(r);
        if rt.exists(&r.id) {
            // Kills whatever is in the container's cgroup and removes the cgroup.
            rt.delete(&r.id, true)?;
        }
        // A monitor that is not removing the container itself goes before its dir does;
        // an --auto-remove one waits for our lock and then finds nothing to do.
        if !options_of(r).auto_remove {
            let deadline = Instant::now() + Duration::from_secs(5);
            while monitor_alive(r) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if monitor_alive(r) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(r.monitor_pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        self.network_forget(&r.id)?;
        super::create::unmount(&dir.join("rootfs"))?;
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &dir, e)),
        }
        self.store.delete(&r.id)?;
        // Its volumes are no longer in use by it (and its anonymous ones go with -v).
        crate::volume::VolumeStore::open(&self.root)?.release(&r.id, volumes)?;
        Ok(())
    }
}
