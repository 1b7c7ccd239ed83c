//! The capability set of a container's process, computed as docker does: its 14 default
//! capabilities, `--cap-add`/`--cap-drop` (with `ALL`), every capability with
//! `--privileged`.

use crate::options::parse::kernel_capabilities;
use crate::options::RunOptions;

/// What docker grants a container by default.
pub const DOCKER_DEFAULT: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The capabilities "all" means: those this kernel knows that the engine's process still
/// holds in its bounding set (a container cannot get more than its creator: on a host
/// whose root lacks CAP_SYS_RESOURCE, `--privileged` goes without it, as docker does).
pub fn all() -> Vec<String> {
    let held = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX);
    kernel_capabilities()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 64 && held & (1u64 << i) != 0)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// The container's bounding set (names already normalized by `options::parse::capability`).
/// A `--cap-add` of a capability the engine does not hold is an error (the runtime could
/// not grant it); docker's defaults that it does not hold are left out.
pub fn bounding(o: &RunOptions) -> crate::Result<Vec<String>> {
    let held = all();
    if let Some(c) = o.cap_add.iter().find(|c| *c != "ALL" && !held.contains(c)) {
        return Err(crate::Error::InvalidArgument(format!(
            "--cap-add {c}: Berth itself does not hold this capability, so it cannot grant it"
        )));
    }
    let mut caps = bounding_unchecked(o);
    caps.retain(|c| held.contains(c));
    Ok(caps)
}

fn bounding_unchecked(o: &RunOptions) -> Vec<String> {
    if o.privileged {
        return all();
    }
    let has = |list: &[String], c: &str| list.iter().any(|x| x == c);
    let mut caps: Vec<String> = if has(&o.cap_add, "ALL") {
        all().into_iter().filter(|c| !has(&o.cap_drop, c)).collect()
    } else if has(&o.cap_drop, "ALL") {
        o.cap_add.clone()
    } else {
        DOCKER_DEFAULT
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !has(&o.cap_drop, c))
            .chain(o.cap_add.iter().cloned())
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    caps.retain(|c| c != "ALL" && seen.insert(c.clone()));
    caps
}
