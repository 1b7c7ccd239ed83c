//! `rm`: the runtime state (processes and cgroup), the monitor, its networking, its volume
//! uses, the overlay mount, the container dir and the row, in that order, so a crash part-way
//! leaves a row in `removing` that the next command finishes ([`crate::reconcile`]).

use super::{exit, monitor_alive, options_of, Engine, STOPPED_BY_USER};
use crate::crash_point::crash_point;
use crate::store::{Row, State};
use crate::{Error, Result};
use std::time::{Duration, Instant};

/// In the container dir while an `rm -v` runs: a removal that a crash cut short is finished
/// with its anonymous volumes too, as asked (the dir goes after the volumes are released).
const REMOVE_VOLUMES: &str = "remove-volumes";

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
        let was_live = r.state.is_live();
        let volumes = volumes || dir.join(REMOVE_VOLUMES).exists();
        if dir.is_dir() {
            let _ = std::fs::write(dir.join(STOPPED_BY_USER), b"");
            if volumes {
                std::fs::write(dir.join(REMOVE_VOLUMES), b"")
                    .map_err(|e| Error::io("write", &dir, e))?;
            }
        }
        if r.state != State::Removing {
            r.state = State::Removing;
            self.store.update(r)?;
        }
        crash_point("ctr-rm:removing");
        let rt = self.runtime_for(r);
        if rt.exists(&r.id) {
            if was_live {
                // `rm -f` of a running container: the kill comes before its monitor's die.
                self.container_event(r, "kill", &[("signal", "9")]);
            }
            // Kills whatever is in the container's cgroup and removes the cgroup.
            rt.delete(&r.id, true)?;
        }
        crash_point("ctr-rm:runtime-deleted");
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
        crash_point("ctr-rm:monitor-gone");
        self.network_forget(&r.id)?;
        crash_point("ctr-rm:network-forgotten");
        // Its volumes are no longer in use by it (and its anonymous ones go with -v).
        crate::volume::VolumeStore::open(&self.root)?.release(&r.id, volumes)?;
        crash_point("ctr-rm:volumes-released");
        super::create::unmount(&dir.join("rootfs"))?;
        super::create::unmount(&dir.join(super::shared::SHM_DIR))?;
        crash_point("ctr-rm:unmounted");
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &dir, e)),
        }
        crash_point("ctr-rm:dir-removed");
        self.store.delete(&r.id)?;
        self.container_event(r, "destroy", &[]);
        Ok(())
    }
}
