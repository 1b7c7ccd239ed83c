//! The body of `POST /containers/{id}/update` (`UpdateConfig`: the resources and the restart
//! policy) to the engine's [`Update`]. Zero means "leave as it is", as dockerd reads it.

use super::{config, HostConfig};
use crate::container::update::Update;
use crate::{Error, Result};

pub fn update_request(body: &[u8]) -> Result<Update> {
    let hc: HostConfig = if body.iter().all(u8::is_ascii_whitespace) {
        HostConfig::default()
    } else {
        let mut de = serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            Error::InvalidArgument(format!("invalid JSON at {}: {}", e.path(), e.inner()))
        })?
    };
    let set = |v: Option<i64>| v.filter(|n| *n != 0);
    let restart = match hc.restart_policy.as_ref().and_then(|p| p.name.as_deref()) {
        Some(n) if !n.is_empty() => Some(config::restart(&hc)?),
        _ => None,
    };
    let blkio_weight = match set(hc.blkio_weight) {
        Some(w) => Some(u16::try_from(w).map_err(|_| {
            Error::invalid("BlkioWeight", &w.to_string(), "must be between 10 and 1000")
        })?),
        None => None,
    };
    Ok(Update {
        memory: set(hc.memory),
        memory_swap: set(hc.memory_swap),
        memory_reservation: set(hc.memory_reservation),
        nano_cpus: set(hc.nano_cpus),
        cpu_shares: set(hc.cpu_shares).map(|n| n.max(0) as u64),
        cpu_period: set(hc.cpu_period),
        cpu_quota: set(hc.cpu_quota),
        cpuset_cpus: hc.cpuset_cpus.filter(|s| !s.is_empty()),
        cpuset_mems: hc.cpuset_mems.filter(|s| !s.is_empty()),
        pids_limit: set(hc.pids_limit),
        blkio_weight,
        restart,
    })
}
