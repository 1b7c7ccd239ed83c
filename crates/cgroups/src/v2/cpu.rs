//! cpu.weight / cpu.max / cpu.idle / cpu.max.burst, and cpu.stat.

use std::path::Path;

use oci_spec::runtime::LinuxCpu;

use super::convert::cpu_shares_to_weight;
use crate::error::{Error, Result};
use crate::files;
use crate::stats::CpuStats;

pub(super) fn wanted(c: &LinuxCpu) -> bool {
    matches!(c.shares(), Some(s) if s != 0)
        || matches!(c.quota(), Some(q) if q != 0)
        || matches!(c.period(), Some(p) if p != 0)
        || c.idle().is_some()
        || c.burst().is_some()
        // Not supported on v2: apply() reports them.
        || matches!(c.realtime_runtime(), Some(v) if v != 0)
        || matches!(c.realtime_period(), Some(v) if v != 0)
}

pub(super) fn apply(dir: &Path, c: &LinuxCpu) -> Result<()> {
    if let Some(rt) = c.realtime_runtime().filter(|v| *v != 0) {
        return Err(Error::invalid(
            "cpu.realtimeRuntime",
            rt,
            "real-time scheduling is not supported on cgroup v2",
        ));
    }
    if let Some(rt) = c.realtime_period().filter(|v| *v != 0) {
        return Err(Error::invalid(
            "cpu.realtimePeriod",
            rt,
            "real-time scheduling is not supported on cgroup v2",
        ));
    }
    if let Some(idle) = c.idle() {
        files::write_in(dir, "cpu.idle", &idle.to_string())?;
    }
    if let Some(shares) = c.shares().filter(|s| *s != 0) {
        files::write_in(dir, "cpu.weight", &cpu_shares_to_weight(shares).to_string())?;
    }
    let quota = c.quota().filter(|q| *q != 0);
    let period = c.period().filter(|p| *p != 0);
    if quota.is_some() || period.is_some() {
        let q = match quota {
            Some(q) if q > 0 => q.to_string(),
            Some(_) => "max".to_string(),
            // Only the period changes: keep the current quota.
            None => files::read_opt(dir, "cpu.max")?
                .and_then(|s| s.split_whitespace().next().map(str::to_string))
                .unwrap_or_else(|| "max".to_string()),
        };
        let line = match period {
            Some(p) => format!("{q} {p}"),
            None => q,
        };
        files::write_in(dir, "cpu.max", &line)?;
    }
    if let Some(burst) = c.burst() {
        files::write_in(dir, "cpu.max.burst", &burst.to_string())?;
    }
    Ok(())
}

/// cpu.stat is a core file on v2 (present even without the cpu controller).
pub(super) fn stats(dir: &Path, out: &mut CpuStats) -> Result<()> {
    let Some(stat) = files::read_opt(dir, "cpu.stat")? else {
        return Ok(());
    };
    let v = |k| files::keyed_value(&stat, k).unwrap_or(0);
    out.usage.total = v("usage_usec") * 1000;
    out.usage.user = v("user_usec") * 1000;
    out.usage.kernel = v("system_usec") * 1000;
    out.throttling.periods = v("nr_periods");
    out.throttling.throttled_periods = v("nr_throttled");
    out.throttling.throttled_time = v("throttled_usec") * 1000;
    Ok(())
}
