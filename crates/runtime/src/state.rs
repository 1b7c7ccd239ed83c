//! Container state on disk: `<root>/<id>/state.json`, written atomically, plus the status
//! computed from the live system (init alive? start fifo still there? cgroup frozen?).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";
pub const FIFO_FILE: &str = "exec.fifo";
/// The config.json the container was created from, byte for byte (hooks, exec defaults):
/// later edits of the bundle do not change a container. Parsed only by the commands that
/// need it, so `state` and `list` stay cheap.
pub const CONFIG_FILE: &str = "config.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// What Berth remembers about a container between commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    pub pid: i32,
    /// /proc/<pid>/stat start time, so a recycled pid is never mistaken for our init.
    pub start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// Cgroup directories by controller ("" = unified).
    #[serde(default)]
    pub cgroup_paths: BTreeMap<String, PathBuf>,
    /// Set by `start` once the user process has been released.
    #[serde(default)]
    pub started: bool,
}

impl State {
    pub fn save(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(".state.json.tmp");
        let data =
            serde_json::to_vec(self).map_err(|e| Error::State(format!("encode state: {e}")))?;
        let mut f = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        f.write_all(&data)
            .map_err(|e| Error::io("write", &tmp, e))?;
        let dst = dir.join(STATE_FILE);
        std::fs::rename(&tmp, &dst).map_err(|e| Error::io("rename", &dst, e))
    }

    pub fn config(&self, dir: &Path) -> Result<oci_spec::runtime::Spec> {
        crate::spec::load(&dir.join(CONFIG_FILE))
    }

    pub fn load(dir: &Path) -> Result<State> {
        let p = dir.join(STATE_FILE);
        let data = std::fs::read(&p).map_err(|e| Error::io("read", &p, e))?;
        serde_json::from_slice(&data).map_err(|e| Error::State(format!("{}: {e}", p.display())))
    }

    /// The live status, derived from the kernel rather than trusted from disk.
    pub fn status(&self, dir: &Path) -> Status {
        if !process_alive(self.pid, self.start_time) {
            return Status::Stopped;
        }
        if dir.join(FIFO_FILE).exists() {
            return Status::Created;
        }
        if let Ok(m) = berth_cgroups::Manager::from_paths(&self.cgroup_paths) {
            use berth_cgroups::CgroupManager;
            if matches!(m.freezer_state(), Ok(berth_cgroups::FreezerState::Frozen)) {
                return Status::Paused;
            }
        }
        Status::Running
    }

    /// The OCI state JSON, shaped like runc's `state` output.
    pub fn oci_json(&self, status: Status) -> serde_json::Value {
        let pid = if status == Status::Stopped {
            0
        } else {
            self.pid
        };
        serde_json::json!({
            "ociVersion": "1.2.0",
            "id": self.id,
            "pid": pid,
            "status": status.to_string(),
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": self.owner,
            "annotations": self.annotations,
        })
    }
}

/// Start time (field 22 of /proc/PID/stat) and whether the process is a zombie.
pub fn proc_stat(pid: i32) -> Option<(u64, char)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parens: split after the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let mut it = rest.split(' ');
    let state = it.next()?.chars().next()?;
    let start = it.nth(18)?.parse().ok()?;
    Some((start, state))
}

pub fn process_alive(pid: i32, start_time: u64) -> bool {
    match proc_stat(pid) {
        Some((st, state)) => st == start_time && state != 'Z' && state != 'X',
        None => false,
    }
}

/// An exclusive flock on the container's state dir, held for the whole command so that
/// concurrent commands on one id run one after another.
pub struct Lock(#[allow(dead_code)] File);

impl Lock {
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }

    pub fn acquire(dir: &Path) -> Result<Lock> {
        // std opens with O_CLOEXEC: no process another thread spawns keeps the lock. A fork
        // that does not exec (a container's init) closes it itself, see
        // `process::init::close_inherited`.
        let f = File::open(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotExist(dir.display().to_string()),
            _ => Error::io("open", dir, e),
        })?;
        // SAFETY: flock on an fd we own; no memory is involved.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(Error::io("lock", dir, std::io::Error::last_os_error()));
        }
        Ok(Lock(f))
    }
}

/// RFC 3339 UTC timestamp with nanoseconds, as runc prints `created`.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }
    #[test]
    fn own_process_is_alive_and_start_time_matters() {
        let me = std::process::id() as i32;
        let (st, _) = proc_stat(me).unwrap();
        assert!(process_alive(me, st));
        assert!(!process_alive(me, st + 1));
    }
}
