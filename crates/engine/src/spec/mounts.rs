//! The container's mounts from `-v`, `--mount`, `--tmpfs` and the image's Volumes.
//!
//! A bind source must exist (a clear error otherwise; `-v` makes a missing one); a volume's host directory comes from
//! [`super::Volumes`]; an image volume not covered by a mount becomes an anonymous volume.
//! Targets are container paths: the runtime resolves each inside the root with
//! openat2(RESOLVE_IN_ROOT), so a symlink in the image that points outside the root is
//! followed only within it (crates/engine/tests/spec_runtime.rs checks this end to end).

use super::Volumes;
use crate::image_config::ImageConfig;
use crate::options::{Mount, MountKind, RunOptions};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::os::unix::fs::DirBuilderExt;

const PROPAGATIONS: &[&str] = &[
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

fn bind_options(m: &Mount) -> Vec<String> {
    let recursive = !m.options.iter().any(|o| o == "bind");
    let mut opts = vec![if recursive { "rbind" } else { "bind" }.to_string()];
    opts.push(if m.read_only { "ro" } else { "rw" }.into());
    let prop = m
        .options
        .iter()
        .find(|o| PROPAGATIONS.contains(&o.as_str()))
        .cloned()
        .unwrap_or_else(|| "rprivate".into());
    opts.push(prop);
    opts
}

fn tmpfs_options(m: &Mount) -> Vec<String> {
    let mut opts: Vec<String> = vec!["nosuid".into(), "nodev".into(), "noexec".into()];
    for o in &m.options {
        // `exec`, `suid`, `dev` undo the defaults.
        if let Some(no) = ["exec", "suid", "dev"].iter().find(|x| **x == o.as_str()) {
            opts.retain(|x| x != &format!("no{no}"));
        }
        if !opts.contains(o) {
            opts.push(o.clone());
        }
    }
    if m.read_only {
        opts.push("ro".into());
    }
    opts
}

/// Docker's image Volumes keys may carry a trailing slash; the mount targets do not.
fn clean(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.into()
    }
}

/// The OCI mounts, parents before children (by path depth, as docker sorts them).
pub fn user_mounts(
    o: &RunOptions,
    img: &ImageConfig,
    volumes: &mut dyn Volumes,
) -> Result<Vec<Value>> {
    let mut seen = std::collections::HashSet::new();
    for m in &o.mounts {
        if !seen.insert(clean(&m.target)) {
            return Err(Error::InvalidArgument(format!(
                "Duplicate mount point: {}",
                m.target
            )));
        }
    }
    let mut out: Vec<(String, Value)> = Vec::new();
    for m in &o.mounts {
        let target = clean(&m.target);
        let v = match m.kind {
            MountKind::Bind => {
                let src = m.source.as_deref().unwrap_or_default();
                // `-v /host:/ctr` makes a missing host directory (root's, 0755) as docker
                // does; `--mount type=bind` refuses it, as docker's does.
                if m.create_source && std::fs::symlink_metadata(src).is_err() {
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o755)
                        .create(src)
                        .map_err(|e| Error::io("create bind source", src, e))?;
                }
                if std::fs::metadata(src).is_err() {
                    return Err(Error::InvalidArgument(format!(
                        "invalid mount config for type \"bind\": bind source path does not exist: {src}"
                    )));
                }
                json!({"destination": target, "type": "bind", "source": src, "options": bind_options(m)})
            }
            MountKind::Volume => {
                let src = volumes.source(m.source.as_deref(), &target)?;
                json!({"destination": target, "type": "bind", "source": src, "options": bind_options(m)})
            }
            MountKind::Tmpfs => {
                json!({"destination": target, "type": "tmpfs", "source": "tmpfs", "options": tmpfs_options(m)})
            }
        };
        out.push((target, v));
    }
    for t in img.volumes.keys() {
        let target = clean(t);
        if !target.starts_with('/') || target == "/" || seen.contains(&target) {
            continue;
        }
        seen.insert(target.clone());
        let src = volumes.source(None, &target)?;
        let anon = Mount {
            kind: MountKind::Volume,
            source: None,
            target: target.clone(),
            read_only: false,
            create_source: false,
            options: vec![],
        };
        out.push((
            target.clone(),
            json!({"destination": target, "type": "bind", "source": src, "options": bind_options(&anon)}),
        ));
    }
    out.sort_by_key(|(t, _)| t.split('/').filter(|c| !c.is_empty()).count());
    Ok(out.into_iter().map(|(_, v)| v).collect())
}
