//! memory.max / memory.low / memory.swap.max, and memory statistics.

use std::path::Path;

use oci_spec::runtime::LinuxMemory;

use super::convert::{memory_swap_to_v2, num_to_str};
use crate::error::Result;
use crate::files;
use crate::stats::{flat_keyed, MemoryEntry, MemoryStats};

pub(super) fn wanted(m: &LinuxMemory) -> bool {
    [m.limit(), m.reservation(), m.swap()]
        .iter()
        .any(|v| matches!(v, Some(n) if *n != 0))
}

/// swappiness, disableOOMKiller and kernel limits have no v2 equivalent and are ignored.
pub(super) fn apply(dir: &Path, m: &LinuxMemory) -> Result<()> {
    let limit = m.limit().unwrap_or(0);
    let swap = m.swap().unwrap_or(0);
    let v2_swap = memory_swap_to_v2(swap, limit)?;
    let mut swap_str = num_to_str(v2_swap);
    if swap_str.is_none() && v2_swap == 0 && swap > 0 {
        // memory and memory+swap equal: no swap at all.
        swap_str = Some("0".to_string());
    }
    if let Some(s) = swap_str {
        if let Err(e) = files::write_in(dir, "memory.swap.max", &s) {
            // Without swap accounting, "max" and "0" are what we have anyway.
            if !(e.is_not_found() && (s == "max" || s == "0")) {
                return Err(e);
            }
        }
    }
    if let Some(s) = num_to_str(limit) {
        files::write_in(dir, "memory.max", &s)?;
    }
    if let Some(s) = num_to_str(m.reservation().unwrap_or(0)) {
        files::write_in(dir, "memory.low", &s)?;
    }
    Ok(())
}

fn entry(dir: &Path, prefix: &str) -> Result<MemoryEntry> {
    Ok(MemoryEntry {
        usage: files::read_u64_or_zero(dir, &format!("{prefix}.current"))?,
        limit: files::read_u64_or_zero(dir, &format!("{prefix}.max"))?,
        max: files::read_u64_or_zero(dir, &format!("{prefix}.peak"))?,
        failcnt: 0,
    })
}

pub(super) fn stats(dir: &Path, out: &mut MemoryStats) -> Result<()> {
    let Some(stat) = files::read_opt(dir, "memory.stat")? else {
        return Ok(()); // controller not enabled here
    };
    out.raw = flat_keyed(&stat);
    out.cache = out.raw.get("file").copied().unwrap_or(0);
    out.usage = entry(dir, "memory")?;
    if let Some(ev) = files::read_opt(dir, "memory.events")? {
        out.usage.failcnt = files::keyed_value(&ev, "max").unwrap_or(0);
    }
    // Like runc: report memory+swap for v1 compatibility.
    let mut swap = entry(dir, "memory.swap")?;
    swap.usage += out.usage.usage;
    if swap.limit != u64::MAX {
        swap.limit = swap.limit.saturating_add(out.usage.limit);
    }
    swap.max = 0;
    out.swap = swap;
    Ok(())
}
