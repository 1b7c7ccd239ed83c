//! Devices in the container: docker's default device rules (the runtime adds the nodes every
//! container needs), `--device` nodes looked up on the host, and with `--privileged` every
//! host device and an allow-all rule.

use crate::options::{Device, RunOptions};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// One device node: its `linux.devices` entry, or None when `meta` is not a device.
fn node(path: &str, meta: &std::fs::Metadata) -> Option<Value> {
    let ft = meta.file_type();
    let typ = if ft.is_char_device() {
        "c"
    } else if ft.is_block_device() {
        "b"
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(json!({
        "path": path,
        "type": typ,
        "major": libc::major(rdev),
        "minor": libc::minor(rdev),
        "fileMode": meta.mode() & 0o7777,
        "uid": 0,
        "gid": 0,
    }))
}

fn custom(d: &Device) -> Result<(Value, Value)> {
    let bad = |why: String| {
        Error::InvalidArgument(format!(
            "error gathering device information while adding custom device {:?}: {why}",
            d.host_path
        ))
    };
    let meta = std::fs::metadata(&d.host_path).map_err(|e| bad(e.to_string()))?;
    let n = node(&d.container_path, &meta).ok_or_else(|| bad("not a device node".into()))?;
    let rule = json!({
        "allow": true, "type": n["type"], "major": n["major"], "minor": n["minor"],
        "access": d.permissions,
    });
    Ok((n, rule))
}

/// Every device node under `dir` (recursively), skipping what runc skips: the pty, shm and
/// mqueue mounts, fd links and the console.
pub fn host_devices(dir: &Path, out: &mut Vec<Value>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if !matches!(
                name.as_ref(),
                "pts" | "shm" | "fd" | "mqueue" | ".lxc" | ".lxd-mounts" | ".udev"
            ) {
                host_devices(&p, out);
            }
        } else if name != "console" {
            if let Some(n) = node(&p.to_string_lossy(), &meta) {
                out.push(n);
            }
        }
    }
}

/// (`linux.devices`, `linux.resources.devices`).
pub fn devices(o: &RunOptions) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut nodes = Vec::new();
    let mut rules = vec![json!({"allow": false, "access": "rwm"})];
    if o.privileged {
        host_devices(Path::new("/dev"), &mut nodes);
        rules.push(json!({"allow": true, "access": "rwm"}));
    }
    for d in &o.devices {
        let (n, r) = custom(d)?;
        nodes.retain(|x| x["path"] != n["path"]);
        nodes.push(n);
        rules.push(r);
    }
    Ok((nodes, rules))
}
