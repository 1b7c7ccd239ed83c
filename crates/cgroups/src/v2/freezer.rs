//! cgroup.freeze, waiting on cgroup.events until "frozen 1".

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::files;
use crate::FreezerState;

/// How long to wait for every task to stop before giving up (and thawing back).
const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) fn set(dir: &Path, state: FreezerState) -> Result<()> {
    match state {
        FreezerState::Thawed => files::write_in(dir, "cgroup.freeze", "0"),
        FreezerState::Frozen => {
            files::write_in(dir, "cgroup.freeze", "1")?;
            match wait_frozen(dir) {
                Ok(()) => Ok(()),
                Err(e) => {
                    // Never leave a half-frozen cgroup behind.
                    let _ = files::write_in(dir, "cgroup.freeze", "0");
                    Err(e)
                }
            }
        }
    }
}

fn wait_frozen(dir: &Path) -> Result<()> {
    let events = dir.join("cgroup.events");
    let deadline = Instant::now() + FREEZE_TIMEOUT;
    let mut delay = Duration::from_micros(50);
    loop {
        let content = files::read(&events)?;
        if files::keyed_value(&content, "frozen") == Some(1) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Freezer {
                path: dir.to_path_buf(),
                reason: format!("not frozen after {FREEZE_TIMEOUT:?}"),
            });
        }
        sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(10));
    }
}

/// The requested state (cgroup.freeze); Thawed when the file does not exist (root cgroup).
pub(crate) fn state(dir: &Path) -> Result<FreezerState> {
    match files::read_opt(dir, "cgroup.freeze")? {
        Some(s) if s.trim() == "1" => Ok(FreezerState::Frozen),
        Some(_) => Ok(FreezerState::Thawed),
        None if dir.is_dir() => Ok(FreezerState::Thawed),
        None => Err(Error::io(
            "read",
            dir.join("cgroup.freeze"),
            std::io::Error::from_raw_os_error(libc::ENOENT),
        )),
    }
}
