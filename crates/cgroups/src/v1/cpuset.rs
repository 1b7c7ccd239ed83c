//! v1 cpuset: a new cpuset cgroup starts with empty cpus/mems (unless clone_children), and
//! no task can join it; copy them from the parent at every level we create.

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use crate::error::Result;
use crate::files;

const CPUS: &str = "cpuset.cpus";
const MEMS: &str = "cpuset.mems";

/// mkdir -p `dir` in the cpuset hierarchy, filling empty cpus/mems from the parent on the
/// way down (only the first existing ancestor and the created levels are looked at).
pub(super) fn create(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    // The hierarchy root (whose parent has no cpuset files) is never empty.
    if !files::exists(parent, CPUS) && dir.join(CPUS).exists() {
        return Ok(());
    }
    if dir.is_dir() {
        if !is_empty(dir)? {
            return Ok(());
        }
        create(parent)?;
    } else {
        create(parent)?;
        files::create_dir_all(dir)?;
    }
    copy_if_empty(parent, dir)
}

fn is_empty(dir: &Path) -> Result<bool> {
    Ok(files::read_opt(dir, CPUS)?
        .unwrap_or_default()
        .trim()
        .is_empty()
        || files::read_opt(dir, MEMS)?
            .unwrap_or_default()
            .trim()
            .is_empty())
}

fn copy_if_empty(parent: &Path, dir: &Path) -> Result<()> {
    for f in [CPUS, MEMS] {
        let cur = files::read(&dir.join(f))?;
        if cur.trim().is_empty() {
            let from = files::read(&parent.join(f))?;
            files::write_in(dir, f, from.trim())?;
        }
    }
    Ok(())
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn wanted(c: &LinuxCpu) -> bool {
    non_empty(c.cpus()).is_some() || non_empty(c.mems()).is_some()
}

pub(super) fn apply(dir: &Path, c: &LinuxCpu) -> Result<()> {
    if let Some(cpus) = non_empty(c.cpus()) {
        files::write_in(dir, CPUS, cpus)?;
    }
    if let Some(mems) = non_empty(c.mems()) {
        files::write_in(dir, MEMS, mems)?;
    }
    Ok(())
}
