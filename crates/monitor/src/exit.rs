//! `exit.json`: how the container's init ended, written atomically (temp file + rename) so a
//! reader never sees half of it, and made durable by [`sync`] once the waiting clients have
//! their answer (an fsync costs milliseconds here, on the path of every attached `run`). `oom_killed` comes from the memory cgroup's
//! `oom_kill` counter, read when the init starts and again when it ends.

use berth_monitor_proto::{ExitRecord, EXIT_FILE};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn write(
    dir: &Path,
    exit_code: i32,
    finished_at: &str,
    oom_killed: bool,
) -> std::io::Result<()> {
    let tmp = dir.join(".exit.json.tmp");
    let record = ExitRecord {
        exit_code,
        finished_at: finished_at.to_string(),
        oom_killed,
    };
    let mut body = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
    body.push(b'\n');
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&body)?;
    std::fs::rename(&tmp, dir.join(EXIT_FILE))
}

/// Flush `exit.json` and its directory entry to disk. Until then a killed process loses
/// nothing (the page cache holds it); a power loss may leave it empty, which readers treat
/// as no record.
pub fn sync(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir.join(EXIT_FILE)) {
        let _ = f.sync_all();
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(EXIT_FILE));
}

/// The memory cgroup counter of one init: the file to read and the count at its start.
pub struct OomWatch {
    file: PathBuf,
    v1: bool,
    start: u64,
}

impl OomWatch {
    /// The counter of `pid`'s memory cgroup. `fresh`: the cgroup was made for this run (the
    /// first one: the runtime creates it), so every kill in it counts, even one that came
    /// before the monitor looked.
    pub fn of(pid: libc::pid_t, fresh: bool) -> Option<OomWatch> {
        let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let mut candidates = Vec::new();
        for line in cgroups.lines() {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            if controllers.split(',').any(|c| c == "memory") {
                candidates.push((
                    format!("/sys/fs/cgroup/memory{path}/memory.oom_control"),
                    true,
                ));
            } else if controllers.is_empty() {
                candidates.push((format!("/sys/fs/cgroup{path}/memory.events"), false));
                candidates.push((format!("/sys/fs/cgroup/unified{path}/memory.events"), false));
            }
        }
        // v1 first: on a hybrid host the memory controller is there.
        candidates.sort_by_key(|(_, v1)| !v1);
        candidates.into_iter().find_map(|(file, v1)| {
            let file = PathBuf::from(file);
            let start = if fresh { 0 } else { read_count(&file, v1)? };
            if fresh && !file.exists() {
                return None;
            }
            Some(OomWatch { file, v1, start })
        })
    }

    pub fn killed(&self) -> bool {
        read_count(&self.file, self.v1).is_some_and(|n| n > self.start)
    }
}

fn read_count(file: &Path, _v1: bool) -> Option<u64> {
    // Both memory.oom_control (v1) and memory.events (v2) have an `oom_kill N` line.
    std::fs::read_to_string(file)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
}
