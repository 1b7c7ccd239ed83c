//! `stop`, `kill`, `restart`, `pause`, `unpause`: signals through the runtime, with
//! `stopped-by-user` written first so the monitor's restart policy leaves the container down.

use super::{exit, monitor_alive, options_of, Engine, STOPPED_BY_USER};
use crate::crash_point::crash_point;
use crate::store::{Row, State};
use crate::{Error, Result};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// `SIGTERM`, `TERM`, `term` or `15`.
pub fn parse_signal(s: &str) -> Result<Signal> {
    let bad = || Error::InvalidArgument(format!("Invalid signal: {s}"));
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse::<Signal>().map_err(|_| bad())
}

fn not_running(r: &Row) -> Error {
    Error::Conflict(format!("Container {} is not running", r.id))
}

impl Engine {
    /// Wait until the monitor has recorded the exit (or is gone), then update the row.
    pub(crate) fn settle(&self, r: &mut Row, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            exit::refresh(self, r)?;
            if !r.state.is_live() || r.state == State::Restarting {
                return Ok(());
            }
            if !monitor_alive(r) || Instant::now() > deadline {
                // No record will come: the init was killed with the monitor, or hangs.
                r.state = State::Exited;
                r.exit_code = 137;
                r.finished_at = super::now();
                r.pid = 0;
                self.store.update(r)?;
                if !monitor_alive(r) {
                    // The monitor that would have recorded the die is gone.
                    self.container_event(r, "die", &[("exitCode", "137")]);
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stop a live container: its stop signal, `timeout` seconds, then SIGKILL. The caller
    /// holds the lock.
    pub fn stop_locked(&self, r: &mut Row, timeout: Option<i64>) -> Result<()> {
        exit::refresh(self, r)?;
        if !r.state.is_live() {
            return Ok(());
        }
        let o = options_of(r);
        let dir = self.dir(&r.id);
        std::fs::write(dir.join(STOPPED_BY_USER), b"").map_err(|e| Error::io("write", &dir, e))?;
        crash_point("ctr-stop:marked");
        let rt = self.runtime_for(r);
        if r.state == State::Paused {
            let _ = rt.resume(&r.id);
        }
        if r.state != State::Restarting {
            let sig = parse_signal(o.stop_signal.as_deref().unwrap_or("SIGTERM"))?;
            // Recorded first: the monitor records the die the signal may cause at once.
            self.container_event(r, "kill", &[("signal", &(sig as i32).to_string())]);
            let _ = rt.kill(&r.id, sig, false);
            let secs = timeout.or(o.stop_timeout).unwrap_or(10);
            let deadline = Instant::now() + Duration::from_secs(secs.max(0) as u64);
            while !rt.init_dead(&r.id) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if !rt.init_dead(&r.id) {
                self.container_event(r, "kill", &[("signal", "9")]);
                let _ = rt.kill(&r.id, Signal::SIGKILL, true);
            }
        }
        // The init is dead; the row still says running.
        crash_point("ctr-stop:signalled");
        if let Err(e) = self.settle(r, Duration::from_secs(10)) {
            // The container is stopped all the same, which is what was asked (a full disk
            // may refuse the row's update): the monitor's exit.json brings the row up to
            // date at the next command.
            if r.state == State::Restarting || !rt.init_dead(&r.id) {
                return Err(e);
            }
            r.state = State::Exited;
            r.pid = 0;
            let _ = self.network_down(&r.id);
            return Ok(());
        }
        crash_point("ctr-stop:settled");
        if r.state == State::Restarting {
            r.state = State::Exited;
            self.store.update(r)?;
        }
        // Its ports, addresses and names go now (the monitor's cleanup then finds nothing).
        self.network_down(&r.id)?;
        self.container_event(r, "stop", &[]);
        Ok(())
    }

    pub fn stop(&self, arg: &str, timeout: Option<i64>) -> Result<Row> {
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        self.stop_locked(&mut r, timeout)?;
        Ok(r)
    }

    pub fn restart(&self, arg: &str, timeout: Option<i64>) -> Result<Row> {
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        self.stop_locked(&mut r, timeout)?;
        self.start_locked(&mut r)?;
        self.container_event(&r, "restart", &[]);
        Ok(r)
    }

    pub fn kill(&self, arg: &str, signal: &str) -> Result<Row> {
        let sig = parse_signal(signal)?;
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        exit::refresh(self, &mut r)?;
        if !matches!(r.state, State::Running | State::Paused) {
            return Err(not_running(&r));
        }
        let o = options_of(&r);
        let stop_sig = parse_signal(o.stop_signal.as_deref().unwrap_or("SIGTERM"))?;
        if sig == Signal::SIGKILL || sig == stop_sig {
            let dir = self.dir(&r.id);
            std::fs::write(dir.join(STOPPED_BY_USER), b"")
                .map_err(|e| Error::io("write", &dir, e))?;
        }
        let rt = self.runtime_for(&r);
        // Recorded first: the monitor records the die the signal may cause at once.
        self.container_event(&r, "kill", &[("signal", &(sig as i32).to_string())]);
        rt.kill(&r.id, sig, false)?;
        if sig == Signal::SIGKILL {
            self.settle(&mut r, Duration::from_secs(10))?;
        }
        Ok(r)
    }

    pub fn pause(&self, arg: &str) -> Result<Row> {
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        exit::refresh(self, &mut r)?;
        match r.state {
            State::Running => {}
            State::Paused => {
                return Err(Error::Conflict(format!(
                    "Container {} is already paused",
                    r.id
                )))
            }
            _ => return Err(not_running(&r)),
        }
        self.runtime_for(&r).pause(&r.id)?;
        r.state = State::Paused;
        self.store.update(&r)?;
        self.container_event(&r, "pause", &[]);
        Ok(r)
    }

    pub fn unpause(&self, arg: &str) -> Result<Row> {
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        exit::refresh(self, &mut r)?;
        if r.state != State::Paused {
            return Err(Error::Conflict(format!("Container {} is not paused", r.id)));
        }
        self.runtime_for(&r).resume(&r.id)?;
        r.state = State::Running;
        self.store.update(&r)?;
        self.container_event(&r, "unpause", &[]);
        Ok(r)
    }

    /// `rename OLD NEW`
    pub fn rename(&self, arg: &str, new: &str) -> Result<Row> {
        let new = crate::names::validate(new)?;
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        if r.name == new {
            return Err(Error::Conflict(
                "Renaming a container with the same name as its current name".to_string(),
            ));
        }
        let old = std::mem::replace(&mut r.name, new);
        self.store.update(&r)?;
        self.write_event_actor(&r);
        self.container_event(&r, "rename", &[("oldName", &format!("/{old}"))]);
        Ok(r)
    }
}
