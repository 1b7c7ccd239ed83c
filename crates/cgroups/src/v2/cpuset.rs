//! cpuset.cpus / cpuset.mems.

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use crate::error::Result;
use crate::files;

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn wanted(c: &LinuxCpu) -> bool {
    non_empty(c.cpus()).is_some() || non_empty(c.mems()).is_some()
}

pub(super) fn apply(dir: &Path, c: &LinuxCpu) -> Result<()> {
    if let Some(cpus) = non_empty(c.cpus()) {
        files::write_in(dir, "cpuset.cpus", cpus)?;
    }
    if let Some(mems) = non_empty(c.mems()) {
        files::write_in(dir, "cpuset.mems", mems)?;
    }
    Ok(())
}
