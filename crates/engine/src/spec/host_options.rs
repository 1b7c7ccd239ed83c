//! The parts of the spec that `--pid`, `--ipc`, `--uts`, `--shm-size`, `--sysctl`,
//! `--group-add` and `--oom-score-adj` change in Docker's defaults.

use super::user::read_in_root;
use crate::container::shared::Joined;
use crate::options::{IpcMode, NamespaceMode, RunOptions};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::path::Path;

/// The pid, ipc and uts namespaces: the host's (none in the spec), another container's (a
/// path) or a new one (Docker's default).
pub fn namespaces(ns: &mut Vec<Value>, o: &RunOptions, joined: &Joined) {
    let mut set = |kind: &str, host: bool, path: Option<&Path>| {
        ns.retain(|n| n["type"] != kind);
        if !host {
            let mut n = json!({"type": kind});
            if let Some(p) = path {
                n["path"] = json!(p);
            }
            ns.push(n);
        }
    };
    set(
        "pid",
        o.pid_mode == NamespaceMode::Host,
        joined.pid.as_deref(),
    );
    set(
        "ipc",
        o.ipc_mode == IpcMode::Host,
        joined.ipc.as_ref().map(|(ns, _)| ns.as_path()),
    );
    set("uts", o.uts_mode == NamespaceMode::Host, None);
}

/// /dev/shm: `--shm-size`, the host's with `--ipc host`, the other container's with
/// `--ipc container:X`, none with `--ipc none`.
pub fn shm(mounts: &mut Vec<Value>, o: &RunOptions, joined: &Joined) {
    let Some(i) = mounts.iter().position(|m| m["destination"] == "/dev/shm") else {
        return;
    };
    let bind = |src: &Path| json!({"destination": "/dev/shm", "type": "bind", "source": src, "options": ["rbind", "rprivate"]});
    let shared = match (&o.ipc_mode, &joined.ipc, &joined.own_shm) {
        (IpcMode::None, ..) => {
            mounts.remove(i);
            return;
        }
        (IpcMode::Host, ..) => Some(Path::new("/dev/shm")),
        (IpcMode::Container(_), Some((_, shm)), _) => Some(shm.as_path()),
        // Sized when it was mounted on the host.
        (IpcMode::Shareable, _, Some(own)) => Some(own.as_path()),
        _ => None,
    };
    match (shared, o.shm_size) {
        (Some(src), _) => mounts[i] = bind(src),
        (None, Some(size)) => {
            let opts = mounts[i]["options"].as_array_mut();
            for opt in opts.into_iter().flatten() {
                if opt.as_str().is_some_and(|s| s.starts_with("size=")) {
                    *opt = json!(format!("size={size}"));
                }
            }
        }
        (None, None) => {}
    }
}

/// `--sysctl` over Docker's own defaults.
pub fn sysctls(defaults: Option<Value>, o: &RunOptions) -> Option<Value> {
    let mut all = defaults.unwrap_or_else(|| json!({}));
    for (k, v) in &o.sysctls {
        all[k] = json!(v);
    }
    (all.as_object().is_some_and(|m| !m.is_empty())).then_some(all)
}

/// `--group-add`: group names resolved in the container's /etc/group, numbers as they are.
pub fn added_groups(rootfs: &Path, o: &RunOptions) -> Result<Vec<u32>> {
    if o.group_add.is_empty() {
        return Ok(vec![]);
    }
    let group = read_in_root(rootfs, "/etc/group")?.unwrap_or_default();
    let mut gids = Vec::new();
    for g in &o.group_add {
        let by_name = group.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3 && f[0] == g).then(|| f[2].parse::<u32>().ok())?
        });
        let gid = match by_name.or_else(|| g.parse::<u32>().ok()) {
            Some(n) => n,
            None => {
                return Err(Error::InvalidArgument(format!(
                    "Unable to find group {g}: no matching entries in group file"
                )))
            }
        };
        if !gids.contains(&gid) {
            gids.push(gid);
        }
    }
    Ok(gids)
}
