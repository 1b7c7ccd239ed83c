//! v1 freezer.state: FROZEN / THAWED, retrying while FREEZING (as runc does).

use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::files;
use crate::FreezerState;

const STATE: &str = "freezer.state";

pub(super) fn set(dir: &Path, state: FreezerState) -> Result<()> {
    match state {
        FreezerState::Thawed => files::write_in(dir, STATE, "THAWED"),
        FreezerState::Frozen => match freeze(dir) {
            Ok(()) => Ok(()),
            Err(e) => {
                // Never leave the cgroup FREEZING or half frozen.
                let _ = files::write_in(dir, STATE, "THAWED");
                Err(e)
            }
        },
    }
}

fn freeze(dir: &Path) -> Result<()> {
    // New tasks appearing while freezing can keep a v1 cgroup in FREEZING: re-request,
    // with an occasional thaw and short sleep in between.
    for i in 0..1000 {
        if i % 50 == 49 {
            files::write_in(dir, STATE, "THAWED")?;
            sleep(Duration::from_millis(10));
        }
        files::write_in(dir, STATE, "FROZEN")?;
        if i % 25 == 24 {
            sleep(Duration::from_micros(10));
        }
        let s = files::read(&dir.join(STATE))?;
        match s.trim() {
            "FROZEN" => return Ok(()),
            "FREEZING" => continue,
            other => {
                return Err(Error::Freezer {
                    path: dir.to_path_buf(),
                    reason: format!("unexpected state {other} after writing FROZEN"),
                })
            }
        }
    }
    Err(Error::Freezer {
        path: dir.to_path_buf(),
        reason: "stuck in FREEZING".into(),
    })
}

pub(super) fn state(dir: &Path) -> Result<FreezerState> {
    for _ in 0..100 {
        let s = files::read(&dir.join(STATE))?;
        match s.trim() {
            "THAWED" => return Ok(FreezerState::Thawed),
            "FROZEN" => return Ok(FreezerState::Frozen),
            _ => sleep(Duration::from_millis(1)), // FREEZING: transient
        }
    }
    Ok(FreezerState::Frozen)
}
