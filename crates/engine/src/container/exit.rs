//! What the monitor reports when a container's init exits (`exit.json`), applied to the row.
//! Any command that reads a container applies it, so the row never needs the monitor to
//! write the database.

use super::{monitor_alive, options_of, Engine, EXIT_FILE, STOPPED_BY_USER};
use crate::options::RestartPolicy;
use crate::store::{Row, State};
use crate::Result;
pub use berth_monitor_proto::ExitRecord;

pub fn read(e: &Engine, id: &str) -> Option<ExitRecord> {
    let b = std::fs::read(e.dir(id).join(EXIT_FILE)).ok()?;
    serde_json::from_slice(&b).ok()
}

/// Would the monitor restart after this exit?
pub fn will_restart(e: &Engine, r: &Row, code: i32) -> bool {
    if e.dir(&r.id).join(STOPPED_BY_USER).exists() {
        return false;
    }
    match options_of(r).restart {
        RestartPolicy::No => false,
        RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        RestartPolicy::OnFailure(max) => code != 0 && (max == 0 || r.restart_count < max as i64),
    }
}

/// Bring `r` up to date with `exit.json` when its init has exited since it started.
pub fn refresh(e: &Engine, r: &mut Row) -> Result<()> {
    if !matches!(r.state, State::Running | State::Paused | State::Restarting) {
        return Ok(());
    }
    let Some(x) = read(e, &r.id) else {
        return Ok(());
    };
    // An exit.json from before the current start is stale (the restart removes it first).
    if !x.finished_at.is_empty() && !r.started_at.is_empty() && x.finished_at < r.started_at {
        return Ok(());
    }
    let (state, started) = (r.state, r.started_at.clone());
    let mut n = r.clone();
    n.exit_code = x.exit_code;
    n.finished_at = if x.finished_at.is_empty() {
        super::now()
    } else {
        x.finished_at
    };
    n.pid = 0;
    n.state = if monitor_alive(r) && will_restart(e, r, x.exit_code) {
        State::Restarting
    } else {
        State::Exited
    };
    if n.state == state {
        return Ok(());
    }
    if e.store.record_exit(&n, state, &started)? {
        *r = n;
    } else if let Some(fresh) = e.store.get(&r.id)? {
        *r = fresh;
    }
    Ok(())
}
