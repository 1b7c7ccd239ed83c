//! v1 cpu controller (shares, CFS quota/period/burst, idle, RT) and cpuacct statistics.

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use crate::error::{Error, Result};
use crate::files;
use crate::stats::CpuStats;

pub(super) fn wanted(c: &LinuxCpu) -> bool {
    matches!(c.shares(), Some(s) if s != 0)
        || matches!(c.quota(), Some(q) if q != 0)
        || matches!(c.period(), Some(p) if p != 0)
        || matches!(c.realtime_runtime(), Some(v) if v != 0)
        || matches!(c.realtime_period(), Some(v) if v != 0)
        || c.idle().is_some()
        || c.burst().is_some()
}

pub(super) fn apply(dir: &Path, c: &LinuxCpu) -> Result<()> {
    if let Some(shares) = c.shares().filter(|s| *s != 0) {
        files::write_in(dir, "cpu.shares", &shares.to_string())?;
        // The kernel clamps out-of-range values silently; report it like runc.
        let path = dir.join("cpu.shares");
        let got = files::parse_u64(&path, &files::read(&path)?)?;
        if shares > got {
            return Err(Error::invalid(
                "cpu.shares",
                shares,
                format!("the maximum allowed cpu-shares is {got}"),
            ));
        } else if shares < got {
            return Err(Error::invalid(
                "cpu.shares",
                shares,
                format!("the minimum allowed cpu-shares is {got}"),
            ));
        }
    }
    let quota = c.quota().filter(|q| *q != 0);
    let mut period_later = None;
    if let Some(period) = c.period().filter(|p| *p != 0) {
        if let Err(e) = files::write_in(dir, "cpu.cfs_period_us", &period.to_string()) {
            // A smaller period can be refused (EINVAL) while the old quota/new period
            // ratio exceeds the parent's; retry after the quota is set.
            if e.raw_os_error() != Some(libc::EINVAL) || quota.is_none() {
                return Err(e);
            }
            period_later = Some(period);
        }
    }
    if let Some(burst) = c.burst() {
        files::write_in(dir, "cpu.cfs_burst_us", &burst.to_string())?;
    }
    if let Some(q) = quota {
        files::write_in(dir, "cpu.cfs_quota_us", &q.to_string())?;
        if let Some(p) = period_later {
            files::write_in(dir, "cpu.cfs_period_us", &p.to_string())?;
        }
    }
    if let Some(idle) = c.idle() {
        if idle != 0 || files::exists(dir, "cpu.idle") {
            files::write_in(dir, "cpu.idle", &idle.to_string())?;
        }
    }
    if let Some(p) = c.realtime_period().filter(|v| *v != 0) {
        files::write_in(dir, "cpu.rt_period_us", &p.to_string())?;
    }
    if let Some(r) = c.realtime_runtime().filter(|v| *v != 0) {
        files::write_in(dir, "cpu.rt_runtime_us", &r.to_string())?;
    }
    Ok(())
}

/// cpu.stat (throttling) from the cpu hierarchy.
pub(super) fn throttling(dir: &Path, out: &mut CpuStats) -> Result<()> {
    if let Some(stat) = files::read_opt(dir, "cpu.stat")? {
        let v = |k| files::keyed_value(&stat, k).unwrap_or(0);
        out.throttling.periods = v("nr_periods");
        out.throttling.throttled_periods = v("nr_throttled");
        out.throttling.throttled_time = v("throttled_time");
    }
    Ok(())
}

/// cpuacct.usage, usage_percpu, usage_all and stat (USER_HZ ticks converted to ns).
pub(super) fn usage(dir: &Path, out: &mut CpuStats) -> Result<()> {
    out.usage.total = files::read_u64_or_zero(dir, "cpuacct.usage")?;
    if let Some(s) = files::read_opt(dir, "cpuacct.usage_percpu")? {
        out.usage.percpu = s
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
    }
    if let Some(s) = files::read_opt(dir, "cpuacct.usage_all")? {
        // "cpu user system" header, then one line per cpu.
        for line in s.lines().skip(1) {
            let f: Vec<u64> = line
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            if f.len() == 3 {
                out.usage.percpu_user.push(f[1]);
                out.usage.percpu_kernel.push(f[2]);
            }
        }
    }
    if let Some(s) = files::read_opt(dir, "cpuacct.stat")? {
        let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|v| *v > 0)
            .unwrap_or(100) as u64;
        let ns = |k| files::keyed_value(&s, k).unwrap_or(0) * 1_000_000_000 / hz;
        out.usage.user = ns("user");
        out.usage.kernel = ns("system");
    }
    Ok(())
}
