//! pids.max.

use std::path::Path;

use oci_spec::runtime::LinuxPids;

use crate::error::Result;
use crate::files;

/// Value for pids.max: a limit <= 0 means unlimited ("max").
pub(crate) fn pids_max_value(p: &LinuxPids) -> String {
    if p.limit() > 0 {
        p.limit().to_string()
    } else {
        "max".to_string()
    }
}

pub(super) fn apply(dir: &Path, p: &LinuxPids) -> Result<()> {
    files::write_in(dir, "pids.max", &pids_max_value(p))
}
