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

/// The container's bounding set (names already normalized by `options::parse::capability`).
pub fn bounding(o: &RunOptions) -> Vec<String> {
    let all = || kernel_capabilities().iter().map(|c| c.to_string());
    if o.privileged {
        return all().collect();
    }
    let has = |list: &[String], c: &str| list.iter().any(|x| x == c);
    let mut caps: Vec<String> = if has(&o.cap_add, "ALL") {
        all().filter(|c| !has(&o.cap_drop, c)).collect()
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
