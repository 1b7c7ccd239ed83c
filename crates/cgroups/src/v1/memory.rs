//! v1 memory controller: limit_in_bytes, memsw.limit_in_bytes (ordered like runc),
//! soft_limit_in_bytes, swappiness, oom_control, kmem limits.

use std::path::Path;

use oci_spec::runtime::LinuxMemory;

use crate::error::{Error, Result};
use crate::files;
use crate::stats::{flat_keyed, MemoryEntry, MemoryStats};

const LIMIT: &str = "memory.limit_in_bytes";
const MEMSW: &str = "memory.memsw.limit_in_bytes";

pub(super) fn wanted(m: &LinuxMemory) -> bool {
    [
        m.limit(),
        m.reservation(),
        m.swap(),
        m.kernel(),
        m.kernel_tcp(),
    ]
    .iter()
    .any(|v| matches!(v, Some(n) if *n != 0))
        || m.swappiness().is_some()
        || m.disable_oom_killer() == Some(true)
}

pub(super) fn apply(dir: &Path, m: &LinuxMemory) -> Result<()> {
    let limit = m.limit().unwrap_or(0);
    let mut swap = m.swap().unwrap_or(0);
    // Unlimited memory with swap unset means unlimited memory+swap too.
    if limit == -1 && swap == 0 && files::exists(dir, MEMSW) {
        swap = -1;
    }
    set_memory_and_swap(dir, limit, swap)?;

    // Kernel memory limits are deprecated; set only where the kernel still has the file.
    if let Some(k) = m.kernel().filter(|k| *k != 0) {
        if files::exists(dir, "memory.kmem.limit_in_bytes") {
            files::write_in(dir, "memory.kmem.limit_in_bytes", &k.to_string())?;
        }
    }
    if let Some(k) = m.kernel_tcp().filter(|k| *k != 0) {
        if files::exists(dir, "memory.kmem.tcp.limit_in_bytes") {
            files::write_in(dir, "memory.kmem.tcp.limit_in_bytes", &k.to_string())?;
        }
    }
    if let Some(r) = m.reservation().filter(|r| *r != 0) {
        files::write_in(dir, "memory.soft_limit_in_bytes", &r.to_string())?;
    }
    if m.disable_oom_killer() == Some(true) {
        files::write_in(dir, "memory.oom_control", "1")?;
    }
    if let Some(s) = m.swappiness() {
        if s > 100 {
            return Err(Error::invalid(
                "memory.swappiness",
                s,
                "valid range is 0-100",
            ));
        }
        files::write_in(dir, "memory.swappiness", &s.to_string())?;
    }
    Ok(())
}

/// The kernel requires memsw >= limit at all times, so the write order depends on whether
/// memsw grows or shrinks relative to the current limit (runc's setMemoryAndSwap).
fn set_memory_and_swap(dir: &Path, limit: i64, swap: i64) -> Result<()> {
    if limit != 0 && swap != 0 {
        let cur = files::parse_u64(&dir.join(LIMIT), &files::read(&dir.join(LIMIT))?)?;
        if swap == -1 || cur < swap as u64 {
            set_swap(dir, swap)?;
            return set_limit(dir, limit);
        }
    }
    set_limit(dir, limit)?;
    set_swap(dir, swap)
}

fn set_limit(dir: &Path, limit: i64) -> Result<()> {
    if limit == 0 {
        return Ok(());
    }
    match files::write_in(dir, LIMIT, &limit.to_string()) {
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
            let usage = files::read_u64_or_zero(dir, "memory.usage_in_bytes").unwrap_or(0);
            let peak = files::read_u64_or_zero(dir, "memory.max_usage_in_bytes").unwrap_or(0);
            Err(Error::invalid(
                "memory.limit",
                limit,
                format!(
                    "below the current usage {usage} (peak {peak}) of {}",
                    dir.display()
                ),
            ))
        }
        r => r,
    }
}

fn set_swap(dir: &Path, swap: i64) -> Result<()> {
    if swap == 0 {
        return Ok(());
    }
    if swap == -1 && !files::exists(dir, MEMSW) {
        return Ok(()); // no swap accounting: unlimited is what we have
    }
    files::write_in(dir, MEMSW, &swap.to_string())
}

fn entry(dir: &Path, prefix: &str) -> Result<MemoryEntry> {
    Ok(MemoryEntry {
        usage: files::read_u64_or_zero(dir, &format!("{prefix}.usage_in_bytes"))?,
        max: files::read_u64_or_zero(dir, &format!("{prefix}.max_usage_in_bytes"))?,
        failcnt: files::read_u64_or_zero(dir, &format!("{prefix}.failcnt"))?,
        limit: files::read_u64_or_zero(dir, &format!("{prefix}.limit_in_bytes"))?,
    })
}

pub(super) fn stats(dir: &Path, out: &mut MemoryStats) -> Result<()> {
    if let Some(stat) = files::read_opt(dir, "memory.stat")? {
        out.raw = flat_keyed(&stat);
        out.cache = out.raw.get("cache").copied().unwrap_or(0);
    }
    out.usage = entry(dir, "memory")?;
    out.swap = entry(dir, "memory.memsw")?;
    out.kernel = entry(dir, "memory.kmem")?;
    out.kernel_tcp = entry(dir, "memory.kmem.tcp")?;
    Ok(())
}
