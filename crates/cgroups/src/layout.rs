//! Which cgroup layout the host uses, from statfs of /sys/fs/cgroup.

use std::path::Path;

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};

use crate::error::{Error, Result};

/// Where cgroup file systems are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The cgroup2 mount of a hybrid host.
pub const HYBRID_UNIFIED_ROOT: &str = "/sys/fs/cgroup/unified";

/// The host's cgroup layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Only v1 hierarchies (tmpfs at /sys/fs/cgroup with one mount per controller).
    Legacy,
    /// v1 hierarchies plus a cgroup2 mount at /sys/fs/cgroup/unified.
    Hybrid,
    /// /sys/fs/cgroup is itself cgroup2.
    Unified,
}

impl Layout {
    /// Detect from statfs of /sys/fs/cgroup (and /sys/fs/cgroup/unified).
    pub fn detect() -> Result<Layout> {
        Self::detect_at(Path::new(CGROUP_ROOT))
    }

    /// Detect with `root` in place of /sys/fs/cgroup.
    pub fn detect_at(root: &Path) -> Result<Layout> {
        if is_cgroup2(root)? {
            return Ok(Layout::Unified);
        }
        let unified = root.join("unified");
        match is_cgroup2(&unified) {
            Ok(true) => Ok(Layout::Hybrid),
            _ => Ok(Layout::Legacy),
        }
    }
}

/// True if `path` is the mount point (or inside) of a cgroup2 file system.
pub(crate) fn is_cgroup2(path: &Path) -> Result<bool> {
    let fs = statfs(path).map_err(|e| Error::io("statfs", path, e.into()))?;
    Ok(fs.filesystem_type() == CGROUP2_SUPER_MAGIC)
}
