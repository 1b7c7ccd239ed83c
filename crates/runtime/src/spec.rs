//! Loading and validating a bundle's config.json.
//!
//! Everything that can be checked without touching the system is checked here, before a
//! state dir, cgroup or process exists, and every message names the offending field.

use crate::error::{Error, Result};
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, Spec};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Parse config.json; serde errors carry the JSON path of the bad field.
pub fn load(path: &Path) -> Result<Spec> {
    load_with_bytes(path).map(|(s, _)| s)
}

/// The parsed config and the bytes it came from (kept in the state dir as is).
pub fn load_with_bytes(path: &Path) -> Result<(Spec, Vec<u8>)> {
    let data = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let spec = parse(&data).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    Ok((spec, data))
}

pub(crate) fn parse(data: &[u8]) -> std::result::Result<Spec, String> {
    let de = &mut serde_json::Deserializer::from_slice(data);
    serde_path_to_error::deserialize::<_, Spec>(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if field.is_empty() || field == "." {
            format!("invalid JSON: {inner}")
        } else {
            format!("field {field}: {inner}")
        }
    })
}

fn bad(field: impl std::fmt::Display, why: impl std::fmt::Display) -> Error {
    Error::Config(format!("config.json: {field}: {why}"))
}

/// The rootfs path made absolute against the bundle.
pub fn rootfs(spec: &Spec, bundle: &Path) -> Result<PathBuf> {
    let root = spec.root().as_ref().ok_or_else(|| bad("root", "missing"))?;
    let p = root.path();
    let p = if p.is_absolute() {
        p.clone()
    } else {
        bundle.join(p)
    };
    std::fs::canonicalize(&p).map_err(|e| bad("root.path", format!("{}: {e}", p.display())))
}

/// Checks a config for a container start (create/run).
pub fn validate(spec: &Spec) -> Result<()> {
    if spec.version().is_empty() {
        return Err(bad("ociVersion", "missing"));
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| bad("process", "missing"))?;
    let args = process.args().as_ref().map(|a| a.len()).unwrap_or(0);
    if args == 0 && process.command_line().is_none() {
        return Err(bad("process.args", "must not be empty"));
    }
    if !process.cwd().is_absolute() {
        return Err(bad(
            "process.cwd",
            format!("{:?} is not an absolute path", process.cwd()),
        ));
    }
    if let Some(rl) = process.rlimits() {
        let mut seen = HashSet::new();
        for (i, r) in rl.iter().enumerate() {
            if !seen.insert(format!("{:?}", r.typ())) {
                return Err(bad(
                    format!("process.rlimits[{i}]"),
                    format!("duplicate {:?}", r.typ()),
                ));
            }
            if r.soft() > r.hard() {
                return Err(bad(
                    format!("process.rlimits[{i}]"),
                    "soft limit is above hard limit",
                ));
            }
        }
    }
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| bad("linux", "missing"))?;
    let mut kinds = HashSet::new();
    let mut has_new_user = false;
    let mut has = |t: LinuxNamespaceType| kinds.contains(&t);
    let _ = &mut has;
    if let Some(nss) = linux.namespaces() {
        for (i, ns) in nss.iter().enumerate() {
            if !kinds.insert(ns.typ()) {
                return Err(bad(
                    format!("linux.namespaces[{i}]"),
                    format!("duplicate namespace type {:?}", ns.typ()),
                ));
            }
            if ns.typ() == LinuxNamespaceType::User && ns.path().is_none() {
                has_new_user = true;
            }
            if let Some(p) = ns.path() {
                if !p.is_absolute() {
                    return Err(bad(
                        format!("linux.namespaces[{i}].path"),
                        "must be absolute",
                    ));
                }
            }
        }
    }
    let has_ns = |t| kinds.contains(&t);
    let uid = linux.uid_mappings().as_deref().unwrap_or(&[]);
    let gid = linux.gid_mappings().as_deref().unwrap_or(&[]);
    if has_new_user {
        if uid.is_empty() || gid.is_empty() {
            return Err(bad(
                "linux.uidMappings",
                "user namespace enabled, but no uid/gid mappings given",
            ));
        }
    } else if !has_ns(LinuxNamespaceType::User) && (!uid.is_empty() || !gid.is_empty()) {
        return Err(bad(
            "linux.uidMappings",
            "mappings given without a user namespace",
        ));
    }
    check_mappings("linux.uidMappings", uid)?;
    check_mappings("linux.gidMappings", gid)?;
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty()) && !has_ns(LinuxNamespaceType::Uts)
    {
        return Err(bad(
            "hostname",
            "unable to set hostname without a private UTS namespace",
        ));
    }
    if spec.domainname().as_deref().is_some_and(|h| !h.is_empty())
        && !has_ns(LinuxNamespaceType::Uts)
    {
        return Err(bad(
            "domainname",
            "unable to set domainname without a private UTS namespace",
        ));
    }
    if let Some(sysctl) = linux.sysctl() {
        for key in sysctl.keys() {
            check_sysctl(key, &has_ns)?;
        }
    }
    if let Some(offsets) = linux.time_offsets() {
        if !offsets.is_empty() && !has_ns(LinuxNamespaceType::Time) {
            return Err(bad(
                "linux.timeOffsets",
                "time offsets given without a time namespace",
            ));
        }
    }
    if let Some(mounts) = spec.mounts() {
        for (i, m) in mounts.iter().enumerate() {
            if m.destination().as_os_str().is_empty() {
                return Err(bad(format!("mounts[{i}].destination"), "must not be empty"));
            }
            if !m.destination().is_absolute() {
                return Err(bad(
                    format!("mounts[{i}].destination"),
                    format!("{:?} is not an absolute path", m.destination()),
                ));
            }
        }
    }
    if let Some(seccomp) = linux.seccomp() {
        berth_seccomp::validate(seccomp).map_err(|e| bad("linux.seccomp", e))?;
    }
    if let Some(path) = linux.cgroups_path() {
        if path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(bad("linux.cgroupsPath", "must not contain '..'"));
        }
    }
    Ok(())
}

fn check_mappings(field: &str, maps: &[LinuxIdMapping]) -> Result<()> {
    for (i, m) in maps.iter().enumerate() {
        if m.size() == 0 {
            return Err(bad(format!("{field}[{i}].size"), "must be greater than 0"));
        }
        let end = |start: u32| start.checked_add(m.size());
        if end(m.container_id()).is_none() || end(m.host_id()).is_none() {
            return Err(bad(format!("{field}[{i}]"), "range overflows 32 bits"));
        }
        for (j, o) in maps.iter().enumerate().take(i) {
            let overlap = |a: u32, b: u32, sa: u32, sb: u32| {
                a < b.saturating_add(sb) && b < a.saturating_add(sa)
            };
            if overlap(m.container_id(), o.container_id(), m.size(), o.size()) {
                return Err(bad(
                    format!("{field}[{i}]"),
                    format!("containerID range overlaps {field}[{j}]"),
                ));
            }
            if overlap(m.host_id(), o.host_id(), m.size(), o.size()) {
                return Err(bad(
                    format!("{field}[{i}]"),
                    format!("hostID range overlaps {field}[{j}]"),
                ));
            }
        }
    }
    Ok(())
}

/// Sysctls are only allowed where a namespace makes them container-local (as runc checks).
fn check_sysctl(key: &str, has_ns: &dyn Fn(LinuxNamespaceType) -> bool) -> Result<()> {
    let ipc = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let field = format!("linux.sysctl[{key}]");
    if ipc.contains(&key) || key.starts_with("fs.mqueue.") {
        if !has_ns(LinuxNamespaceType::Ipc) {
            return Err(bad(field, "requires a private IPC namespace"));
        }
    } else if key.starts_with("net.") {
        if !has_ns(LinuxNamespaceType::Network) {
            return Err(bad(field, "requires a private network namespace"));
        }
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        if !has_ns(LinuxNamespaceType::Uts) {
            return Err(bad(field, "requires a private UTS namespace"));
        }
    } else {
        return Err(bad(field, "not allowed in a container (not namespaced)"));
    }
    if key.contains("..") || key.contains('/') && key.contains("..") {
        return Err(bad(field, "invalid key"));
    }
    Ok(())
}
