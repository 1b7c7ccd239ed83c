//! HostConfig's resources (0 is "unset" for each) and the keys Berth refuses when set.

use super::*;

/// The HostConfig keys whose every non-empty value is beyond Berth.
pub(super) fn refused_host_config(hc: &HostConfig) -> Result<()> {
    let set = |s: &String| !s.is_empty();
    let any = |v: &Vec<Value>| !v.is_empty();
    let nonzero = |n: &i64| *n != 0;
    refuse("HostConfig.VolumeDriver", &hc.volume_driver, |d| {
        !d.is_empty() && d != "local"
    })?;
    refuse("HostConfig.Annotations", &hc.annotations, |a| !a.is_empty())?;
    refuse("HostConfig.Cgroup", &hc.cgroup, set)?;
    refuse("HostConfig.CgroupParent", &hc.cgroup_parent, set)?;
    // Berth gives every container a cgroup namespace of its own.
    refuse("HostConfig.CgroupnsMode", &hc.cgroupns_mode, |m| {
        !m.is_empty() && m != "private"
    })?;
    refuse("HostConfig.Links", &hc.links, |l| !l.is_empty())?;
    refuse("HostConfig.StorageOpt", &hc.storage_opt, |s| !s.is_empty())?;
    refuse("HostConfig.Isolation", &hc.isolation, |i| {
        !i.is_empty() && i != "default"
    })?;
    refuse("HostConfig.MaskedPaths", &hc.masked_paths, |_| true)?;
    refuse("HostConfig.ReadonlyPaths", &hc.readonly_paths, |_| true)?;
    refuse("HostConfig.BlkioWeightDevice", &hc.blkio_weight_device, any)?;
    refuse(
        "HostConfig.BlkioDeviceReadBps",
        &hc.blkio_device_read_bps,
        any,
    )?;
    refuse(
        "HostConfig.BlkioDeviceWriteBps",
        &hc.blkio_device_write_bps,
        any,
    )?;
    refuse(
        "HostConfig.BlkioDeviceReadIOps",
        &hc.blkio_device_read_iops,
        any,
    )?;
    refuse(
        "HostConfig.BlkioDeviceWriteIOps",
        &hc.blkio_device_write_iops,
        any,
    )?;
    refuse(
        "HostConfig.CpuRealtimePeriod",
        &hc.cpu_realtime_period,
        nonzero,
    )?;
    refuse(
        "HostConfig.CpuRealtimeRuntime",
        &hc.cpu_realtime_runtime,
        nonzero,
    )?;
    refuse(
        "HostConfig.DeviceCgroupRules",
        &hc.device_cgroup_rules,
        |r| !r.is_empty(),
    )?;
    refuse("HostConfig.DeviceRequests", &hc.device_requests, any)?;
    refuse("HostConfig.KernelMemory", &hc.kernel_memory, nonzero)?;
    refuse("HostConfig.KernelMemoryTCP", &hc.kernel_memory_tcp, nonzero)?;
    refuse("HostConfig.CpuCount", &hc.cpu_count, nonzero)?;
    refuse("HostConfig.CpuPercent", &hc.cpu_percent, nonzero)?;
    refuse("HostConfig.IOMaximumIOps", &hc.io_maximum_iops, |n| *n != 0)?;
    refuse(
        "HostConfig.IOMaximumBandwidth",
        &hc.io_maximum_bandwidth,
        |n| *n != 0,
    )?;
    match hc.memory_swappiness {
        None | Some(-1) => Ok(()),
        Some(n @ 0..=100) => Err(unsupported("HostConfig.MemorySwappiness", n)),
        Some(n) => Err(Error::InvalidArgument(format!(
            "Invalid value: {n}, valid memory swappiness range is 0-100"
        ))),
    }
}

/// The limits; 0 is "unset" for each.
pub(super) fn resources(hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    let set = |v: Option<i64>| v.filter(|n| *n != 0);
    if hc.memory.is_some_and(|m| m < 0) {
        return Err(Error::InvalidArgument(
            "Minimum memory limit allowed is 6MB".into(),
        ));
    }
    if hc.memory_reservation.is_some_and(|m| m < 0) {
        return Err(Error::InvalidArgument(
            "Minimum memory reservation allowed is 6MB".into(),
        ));
    }
    o.memory = set(hc.memory);
    o.memory_reservation = set(hc.memory_reservation);
    o.memory_swap = match set(hc.memory_swap) {
        Some(n) if n < -1 => {
            return Err(Error::invalid(
                "HostConfig.MemorySwap",
                &n.to_string(),
                "must be -1 (unlimited), 0 (unset) or a size in bytes",
            ))
        }
        s => s,
    };
    if let Some(n) = set(hc.nano_cpus) {
        // Through `--cpus`' parser as a decimal, for its range check and wording.
        let text = match n < 0 {
            true => format!("-{}", n.unsigned_abs() as f64 / 1e9),
            false => format!("{}.{:09}", n / 1_000_000_000, n % 1_000_000_000),
        };
        at("HostConfig.NanoCpus", parse::cpus(&text))?;
        o.nano_cpus = Some(n);
    }
    if let Some(n) = set(hc.cpu_shares) {
        o.cpu_shares = Some(at(
            "HostConfig.CpuShares",
            parse::cpu_shares(&n.to_string()),
        )?);
    }
    if let Some(p) = set(hc.cpu_period) {
        if !(1000..=1_000_000).contains(&p) {
            return Err(Error::InvalidArgument(
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
                    .into(),
            ));
        }
        o.cpu_period = Some(p);
    }
    // -1 (and any negative quota) is "no quota".
    if let Some(q) = set(hc.cpu_quota).filter(|q| *q > 0) {
        if q < 1000 {
            return Err(Error::InvalidArgument(
                "CPU cfs quota can not be less than 1ms (i.e. 1000)".into(),
            ));
        }
        o.cpu_quota = Some(q);
    }
    if o.nano_cpus.is_some() && (o.cpu_period.is_some() || o.cpu_quota.is_some()) {
        return Err(Error::InvalidArgument(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set".into(),
        ));
    }
    if let Some(c) = non_empty(&hc.cpuset_cpus) {
        o.cpuset_cpus = Some(at("HostConfig.CpusetCpus", parse::cpuset(&c))?);
    }
    if let Some(m) = non_empty(&hc.cpuset_mems) {
        if parse::cpu_list(&m).is_none() {
            return Err(Error::invalid(
                "HostConfig.CpusetMems",
                &m,
                format!("invalid value {m} for cpuset mems"),
            ));
        }
        o.cpuset_mems = Some(m);
    }
    if let Some(w) = set(hc.blkio_weight) {
        if !(10..=1000).contains(&w) {
            return Err(Error::InvalidArgument(
                "Range of blkio weight is from 10 to 1000".into(),
            ));
        }
        o.blkio_weight = Some(w as u16);
    }
    // 0 and -1 (any value below 1, as dockerd reads it) are "unlimited".
    o.pids_limit = hc.pids_limit.filter(|n| *n > 0);
    o.oom_kill_disable = hc.oom_kill_disable.unwrap_or(false);
    if let Some(n) = set(hc.oom_score_adj) {
        o.oom_score_adj = Some(host_config::oom_score_adj(n)?);
    }
    match set(hc.shm_size) {
        Some(n) if n < 0 => {
            return Err(Error::InvalidArgument(
                "SHM size can not be less than 0".into(),
            ))
        }
        s => o.shm_size = s,
    }
    for u in hc.ulimits.iter().flatten() {
        let name = u.name.clone().unwrap_or_default();
        let spec = format!("{name}={}:{}", u.soft.unwrap_or(0), u.hard.unwrap_or(0));
        let u = at("HostConfig.Ulimits", parse::ulimit(&spec))?;
        o.ulimits.retain(|x| x.name != u.name);
        o.ulimits.push(u);
    }
    Ok(())
}
