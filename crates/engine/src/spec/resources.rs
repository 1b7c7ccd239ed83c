//! `linux.resources` from the limits flags, with docker's checks and defaults: memory at
//! least 6 MB, swap = twice the memory when only `-m` is given (and the kernel accounts
//! swap), `--cpus` as a CFS quota over a 100 ms period, pids limit only when positive.

use crate::options::RunOptions;
use crate::{Error, Result};
use serde_json::{json, Map, Value};

const MIN_MEMORY: i64 = 6 * 1024 * 1024;
pub const CPU_PERIOD: u64 = 100_000;

/// Docker's consistency checks of the memory flags.
pub fn validate(o: &RunOptions) -> Result<()> {
    let e = |m: &str| Err(Error::InvalidArgument(m.into()));
    if o.memory.is_some_and(|m| m > 0 && m < MIN_MEMORY) {
        return e("Minimum memory limit allowed is 6MB");
    }
    if o.memory_reservation
        .is_some_and(|m| m > 0 && m < MIN_MEMORY)
    {
        return e("Minimum memory reservation allowed is 6MB");
    }
    let mem = o.memory.filter(|m| *m > 0);
    match (mem, o.memory_swap.filter(|s| *s != 0)) {
        (None, Some(s)) if s > 0 => {
            return e(
                "You should always set the Memory limit when using Memoryswap limit, see usage",
            )
        }
        (Some(m), Some(s)) if s > 0 && s < m => {
            return e("Minimum memoryswap limit should be larger than memory limit, see usage")
        }
        _ => {}
    }
    if let (Some(m), Some(r)) = (mem, o.memory_reservation.filter(|r| *r > 0)) {
        if m < r {
            return e(
                "Minimum memory limit can not be less than memory reservation limit, see usage",
            );
        }
    }
    Ok(())
}

/// Whether the memory cgroup can limit swap here (docker silently drops the swap limit when
/// it cannot).
pub fn swap_limit_supported() -> bool {
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists();
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.split_whitespace().any(|x| x == "memory"))
        && std::path::Path::new("/proc/swaps").exists();
    v1 || v2
}

/// memory / cpu / pids sections (devices are added by `devices`).
pub fn linux_resources(o: &RunOptions) -> Result<Map<String, Value>> {
    validate(o)?;
    let mut r = Map::new();
    let mut mem = Map::new();
    if let Some(m) = o.memory.filter(|m| *m > 0) {
        mem.insert("limit".into(), json!(m));
        if swap_limit_supported() {
            let swap = match o.memory_swap {
                None | Some(0) => m * 2,
                Some(s) => s,
            };
            mem.insert("swap".into(), json!(swap));
        }
    }
    if let Some(res) = o.memory_reservation.filter(|m| *m > 0) {
        mem.insert("reservation".into(), json!(res));
    }
    if o.oom_kill_disable {
        mem.insert("disableOOMKiller".into(), json!(true));
    }
    if !mem.is_empty() {
        r.insert("memory".into(), Value::Object(mem));
    }
    let mut cpu = Map::new();
    if let Some(n) = o.nano_cpus.filter(|n| *n > 0) {
        let quota = (n as i128 * CPU_PERIOD as i128 / 1_000_000_000) as i64;
        cpu.insert("quota".into(), json!(quota.max(1000)));
        cpu.insert("period".into(), json!(CPU_PERIOD));
    }
    if let Some(s) = o.cpu_shares.filter(|s| *s > 0) {
        cpu.insert("shares".into(), json!(s));
    }
    if let Some(c) = o.cpuset_cpus.as_ref().filter(|c| !c.is_empty()) {
        cpu.insert("cpus".into(), json!(c));
    }
    if let Some(m) = o.cpuset_mems.as_ref().filter(|m| !m.is_empty()) {
        cpu.insert("mems".into(), json!(m));
    }
    if let Some(p) = o.cpu_period.filter(|p| *p > 0) {
        cpu.insert("period".into(), json!(p));
    }
    if let Some(q) = o.cpu_quota.filter(|q| *q > 0) {
        cpu.insert("quota".into(), json!(q));
    }
    if !cpu.is_empty() {
        r.insert("cpu".into(), Value::Object(cpu));
    }
    if let Some(p) = o.pids_limit.filter(|p| *p > 0) {
        r.insert("pids".into(), json!({"limit": p}));
    }
    if let Some(w) = o.blkio_weight.filter(|w| *w > 0) {
        r.insert("blockIO".into(), json!({"weight": w}));
    }
    Ok(r)
}

/// `--ulimit` as `process.rlimits` (docker sets none by default: the container keeps the
/// limits of whoever starts it).
pub fn rlimits(o: &RunOptions) -> Vec<Value> {
    o.ulimits
        .iter()
        .map(|u| json!({"type": format!("RLIMIT_{}", u.name.to_ascii_uppercase()), "soft": u.soft, "hard": u.hard}))
        .collect()
}
