//! `stats`: one sample of a container's resource use from its cgroup (through the runtime,
//! v1, v2 or hybrid alike), its network namespace's counters and the host's CPU time, for
//! the CLI to turn into docker's table (CPU % from two samples).

use super::Engine;
use crate::store::{Row, State};

/// Figures at one instant; everything in bytes, CPU times in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// CPU time used by the container.
    pub cpu: u64,
    /// CPU time the whole host has used (all CPUs), from /proc/stat.
    pub system: u64,
    pub online_cpus: u32,
    /// Memory used, the page cache that can be dropped left out (as docker's CLI does).
    pub mem_usage: u64,
    /// The memory limit, or the host's memory when there is none.
    pub mem_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub blk_read: u64,
    pub blk_write: u64,
    pub pids: u64,
}

fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn clock_ticks() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100, |t| t as u64)
}

/// The host's total CPU time, as docker's daemon reads it.
fn system_cpu() -> u64 {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = s
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(7)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    ticks * (1_000_000_000 / clock_ticks())
}

fn online_cpus() -> u32 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::_NPROCESSORS_ONLN)
        .ok()
        .flatten()
        .map_or(1, |n| n.max(1) as u32)
}

/// Received and sent bytes of the network namespace of `pid`, loopback left out (docker
/// counts the container's interfaces; `--network none` has only `lo`, `--network host`
/// none of its own).
pub fn net_io(pid: i32) -> (u64, u64) {
    // `--network host`: the host's interfaces are not the container's (docker shows none).
    let ns = |p: &str| std::fs::metadata(p).map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    if let (Ok(a), Ok(b)) = (ns(&format!("/proc/{pid}/ns/net")), ns("/proc/self/ns/net")) {
        if a == b {
            return (0, 0);
        }
    }
    let s = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    let mut rx = 0;
    let mut tx = 0;
    for l in s.lines().skip(2) {
        let Some((name, rest)) = l.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if f.len() >= 9 {
            rx += f[0];
            tx += f[8];
        }
    }
    (rx, tx)
}

impl Engine {
    /// A sample of a running container; `None` for one that is not running (docker shows
    /// zeros for those with `-a`).
    pub fn stats_sample(&self, r: &Row) -> Option<Sample> {
        if !matches!(r.state, State::Running | State::Paused | State::Restarting) {
            return None;
        }
        let st = self.runtime_for(r).stats(&r.id).ok()?;
        let raw = &st.memory.raw;
        let inactive = raw
            .get("total_inactive_file")
            .or_else(|| raw.get("inactive_file"))
            .copied()
            .unwrap_or(0);
        let usage = st.memory.usage.usage;
        let host = host_memory();
        let limit = match st.memory.usage.limit {
            0 => host,
            l if host > 0 && l >= host => host,
            l => l,
        };
        let (mut blk_read, mut blk_write) = (0, 0);
        for e in &st.blkio.io_service_bytes_recursive {
            match e.op.to_ascii_lowercase().as_str() {
                "read" => blk_read += e.value,
                "write" => blk_write += e.value,
                _ => {}
            }
        }
        let (net_rx, net_tx) = net_io(r.pid);
        Some(Sample {
            cpu: st.cpu.usage.total,
            system: system_cpu(),
            online_cpus: match st.cpu.usage.percpu.len() {
                0 => online_cpus(),
                n => n as u32,
            },
            mem_usage: if inactive < usage {
                usage - inactive
            } else {
                usage
            },
            mem_limit: limit,
            net_rx,
            net_tx,
            blk_read,
            blk_write,
            pids: st.pids.current,
        })
    }
}

/// Docker's CPU %: the container's share of the host's CPU time between two samples,
/// times the number of CPUs (100% = one CPU busy).
pub fn cpu_percent(prev: &Sample, now: &Sample) -> f64 {
    let dc = now.cpu.saturating_sub(prev.cpu) as f64;
    let ds = now.system.saturating_sub(prev.system) as f64;
    if dc > 0.0 && ds > 0.0 {
        dc / ds * f64::from(now.online_cpus) * 100.0
    } else {
        0.0
    }
}
