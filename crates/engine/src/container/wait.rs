//! `wait`: block until a container stops and give its exit status.

use super::{exit, Engine};
use crate::store::State;
use crate::{Error, Result};
use std::time::Duration;

impl Engine {
    /// The container's exit status once it is not running (a restart counts as an exit).
    pub fn wait(&self, arg: &str) -> Result<i32> {
        let id = self.find(arg)?.id;
        let mut delay = Duration::from_millis(2);
        loop {
            let Some(mut r) = self.store.get(&id)? else {
                return Err(Error::NotFound {
                    kind: "container",
                    name: arg.to_string(),
                });
            };
            exit::refresh(self, &mut r)?;
            match r.state {
                State::Running | State::Paused => {}
                State::Removing => {}
                _ => return Ok(r.exit_code),
            }
            if crate::reconcile::needs_repair(&r) {
                crate::reconcile::repair_row(self, &r);
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(50));
        }
    }
}
