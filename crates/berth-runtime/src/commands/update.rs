//! `update`: new resource limits from --resources or the runc flags.

use super::Result;
use crate::cli::UpdateArgs;
use berth_runtime::Runtime;
use oci_spec::runtime::{LinuxMemory, LinuxPids, LinuxResources};

/// "512m", "1g", "1024", "-1" (unlimited), as runc accepts them.
pub fn parse_size(s: &str) -> std::result::Result<i64, String> {
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mul) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    if n < 0.0 {
        return Err(format!("invalid size {s:?}"));
    }
    Ok((n * mul as f64) as i64)
}

pub fn update(rt: &Runtime, a: &UpdateArgs) -> Result<i32> {
    let mut r: LinuxResources = match &a.resources {
        Some(p) => {
            let data = if p.as_os_str() == "-" {
                let mut s = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut s)?;
                s
            } else {
                std::fs::read(p).map_err(|e| format!("read {}: {e}", p.display()))?
            };
            serde_json::from_slice(&data).map_err(|e| format!("resources {}: {e}", p.display()))?
        }
        None => LinuxResources::default(),
    };
    let mut mem = r.memory().unwrap_or_default();
    if let Some(m) = &a.memory {
        mem.set_limit(Some(parse_size(m)?));
    }
    if let Some(m) = &a.memory_reservation {
        mem.set_reservation(Some(parse_size(m)?));
    }
    if let Some(m) = &a.memory_swap {
        mem.set_swap(Some(parse_size(m)?));
    }
    if mem != LinuxMemory::default() {
        r.set_memory(Some(mem));
    }
    let mut cpu = r.cpu().clone().unwrap_or_default();
    let mut cpu_set = false;
    macro_rules! set {
        ($field:expr, $setter:ident) => {
            if let Some(v) = $field.clone() {
                cpu.$setter(Some(v));
                cpu_set = true;
            }
        };
    }
    set!(a.cpu_period, set_period);
    set!(a.cpu_quota, set_quota);
    set!(a.cpu_rt_period, set_realtime_period);
    set!(a.cpu_rt_runtime, set_realtime_runtime);
    set!(a.cpu_share, set_shares);
    set!(a.cpuset_cpus, set_cpus);
    set!(a.cpuset_mems, set_mems);
    if cpu_set {
        r.set_cpu(Some(cpu));
    }
    if let Some(p) = a.pids_limit {
        let mut pids = LinuxPids::default();
        pids.set_limit(p);
        r.set_pids(Some(pids));
    }
    if let Some(w) = a.blkio_weight {
        let mut b = r.block_io().clone().unwrap_or_default();
        b.set_weight(Some(w));
        r.set_block_io(Some(b));
    }
    rt.update(&a.id, &r)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("512m").unwrap(), 512 << 20);
        assert_eq!(super::parse_size("1g").unwrap(), 1 << 30);
        assert_eq!(super::parse_size("100").unwrap(), 100);
        assert_eq!(super::parse_size("-1").unwrap(), -1);
        assert!(super::parse_size("12x").is_err());
    }
}
