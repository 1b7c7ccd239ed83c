//! `top`: the pids of a running container's processes (its cgroup), which the CLI shows
//! through the host's `ps`, as docker does.

use super::{exit, Engine};
use crate::store::{Row, State};
use crate::{Error, Result};

impl Engine {
    /// The container `arg` names, which must be running (or paused).
    pub fn running(&self, arg: &str) -> Result<Row> {
        let mut r = self.find(arg)?;
        exit::refresh(self, &mut r)?;
        if !matches!(r.state, State::Running | State::Paused | State::Restarting) {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                r.id
            )));
        }
        Ok(r)
    }

    /// Every process in the container's cgroup.
    pub fn top_pids(&self, r: &Row) -> Result<Vec<i32>> {
        let mut pids = self.runtime().pids(&r.id)?;
        pids.sort_unstable();
        Ok(pids)
    }
}
