//! A container's `HostConfig` as Docker's ContainerInspect reports it: every key Docker
//! prints, filled from [`RunOptions`] where Berth models the option and with Docker's value
//! for an unset option otherwise (so a template or a script reading any key finds what it
//! would find under Docker). This is the one place options map to these keys: a new `run`
//! flag is wired here. `Sysctls`, like `Tmpfs`, is printed only when set.

use crate::options::{
    IpcMode, LogDriver, MountKind, NamespaceMode, Network, RestartPolicy, RunOptions, Seccomp,
    Userns,
};
use crate::spec::defaults::SHM_SIZE;
use serde_json::{json, Map, Value};

/// `--pid`/`--uts` as Docker's `PidMode`/`UTSMode` (empty for the container's own).
fn namespace_mode(m: &NamespaceMode) -> String {
    match m {
        NamespaceMode::Private => String::new(),
        NamespaceMode::Host => "host".into(),
        NamespaceMode::Container(c) => format!("container:{c}"),
    }
}

fn ipc_mode(m: &IpcMode) -> String {
    match m {
        IpcMode::Private => "private".into(),
        IpcMode::Shareable => "shareable".into(),
        IpcMode::None => "none".into(),
        IpcMode::Host => "host".into(),
        IpcMode::Container(c) => format!("container:{c}"),
    }
}

/// A list Docker prints as null when it is empty.
fn list_or_null(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        json!(items)
    }
}

fn restart_policy(p: &RestartPolicy) -> Value {
    let (name, n) = match p {
        RestartPolicy::No => ("no", 0),
        RestartPolicy::OnFailure(n) => ("on-failure", *n),
        RestartPolicy::Always => ("always", 0),
        RestartPolicy::UnlessStopped => ("unless-stopped", 0),
    };
    json!({"Name": name, "MaximumRetryCount": n})
}

/// Docker's `NetworkMode`: `bridge` for the default network (what API 1.44+ reports),
/// else the mode or the network's name as given.
pub fn network_mode(n: &Network) -> String {
    match n {
        Network::Default => "bridge".into(),
        Network::None => "none".into(),
        Network::Host => "host".into(),
        Network::Container(c) => format!("container:{c}"),
        Network::Path(p) => format!("ns:{}", p.display()),
        Network::Named(name) => name.clone(),
    }
}

/// `-v` binds and named volumes as Docker lists them (`src:dst[:ro][,opts]`); anonymous
/// volumes and tmpfs mounts are not binds. Null when there are none, as in Docker.
fn binds(o: &RunOptions) -> Value {
    let list: Vec<String> = o
        .mounts
        .iter()
        .filter(|m| m.kind != MountKind::Tmpfs)
        .filter_map(|m| {
            let src = m.source.as_ref()?;
            let mut opts: Vec<&str> = Vec::new();
            if m.read_only {
                opts.push("ro");
            }
            opts.extend(m.options.iter().map(String::as_str));
            Some(if opts.is_empty() {
                format!("{src}:{}", m.target)
            } else {
                format!("{src}:{}:{}", m.target, opts.join(","))
            })
        })
        .collect();
    if list.is_empty() {
        Value::Null
    } else {
        json!(list)
    }
}

/// `--tmpfs` mounts: target to options (`size=64m,mode=1777`), present only when set.
fn tmpfs(o: &RunOptions) -> Option<Value> {
    let map: Map<String, Value> = o
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Tmpfs)
        .map(|m| {
            let mut opts = m.options.clone();
            if m.read_only {
                opts.insert(0, "ro".into());
            }
            (m.target.clone(), Value::String(opts.join(",")))
        })
        .collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

/// `-p`: `"80/tcp": [{"HostIp": "", "HostPort": "8080"}]`, an empty host port when it is
/// chosen at start, `8000-8010` for a range.
fn port_bindings(o: &RunOptions) -> Value {
    let mut map = Map::new();
    for p in &o.ports {
        let host_port = match (p.host_port, p.host_port_last) {
            (Some(a), Some(b)) if b != a => format!("{a}-{b}"),
            (Some(a), _) => a.to_string(),
            (None, _) => String::new(),
        };
        let entry = json!({
            "HostIp": p.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            "HostPort": host_port,
        });
        let key = format!("{}/{}", p.container_port, p.proto);
        match map.get_mut(&key).and_then(Value::as_array_mut) {
            Some(list) => list.push(entry),
            None => {
                map.insert(key, json!([entry]));
            }
        }
    }
    Value::Object(map)
}

fn ulimits(o: &RunOptions) -> Value {
    if o.ulimits.is_empty() {
        return Value::Null;
    }
    o.ulimits
        .iter()
        .map(|u| json!({"Name": u.name, "Hard": u.hard, "Soft": u.soft}))
        .collect()
}

fn devices(o: &RunOptions) -> Value {
    o.devices
        .iter()
        .map(|d| {
            json!({
                "PathOnHost": d.host_path,
                "PathInContainer": d.container_path,
                "CgroupPermissions": d.permissions,
            })
        })
        .collect()
}

/// `--security-opt` values as Docker keeps them; null when none.
fn security_opt(o: &RunOptions) -> Value {
    let mut list = Vec::new();
    match &o.seccomp {
        Seccomp::Default => {}
        Seccomp::Unconfined => list.push("seccomp=unconfined".to_string()),
        Seccomp::Profile(p) => list.push(format!("seccomp={}", p.display())),
        Seccomp::Inline(j) => list.push(format!("seccomp={j}")),
    }
    if o.no_new_privileges {
        list.push("no-new-privileges".into());
    }
    list.extend(o.security_labels.iter().cloned());
    if list.is_empty() {
        Value::Null
    } else {
        json!(list)
    }
}

/// Docker's `MemorySwap`: the `--memory-swap` value (-1 for unlimited); twice `-m` when only
/// `-m` is set, as the daemon fills it; 0 without a memory limit.
pub fn memory_swap(o: &RunOptions) -> i64 {
    match (o.memory.filter(|m| *m > 0), o.memory_swap) {
        (_, Some(s)) if s != 0 => s,
        (Some(m), _) => m * 2,
        (None, _) => 0,
    }
}

fn null_if_empty(list: &[String]) -> Value {
    if list.is_empty() {
        Value::Null
    } else {
        json!(list)
    }
}

/// `host` on a cgroup v1 (or hybrid) host, `private` on cgroup v2: Docker's default.
fn cgroupns_mode() -> &'static str {
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "private"
    } else {
        "host"
    }
}

/// Docker's HostConfig keys in its order (its struct's), then those it prints only when set.
pub const KEYS: &[&str] = &[
    "Binds",
    "ContainerIDFile",
    "LogConfig",
    "NetworkMode",
    "PortBindings",
    "RestartPolicy",
    "AutoRemove",
    "VolumeDriver",
    "VolumesFrom",
    "ConsoleSize",
    "CapAdd",
    "CapDrop",
    "CgroupnsMode",
    "Dns",
    "DnsOptions",
    "DnsSearch",
    "ExtraHosts",
    "GroupAdd",
    "IpcMode",
    "Cgroup",
    "Links",
    "OomScoreAdj",
    "PidMode",
    "Privileged",
    "PublishAllPorts",
    "ReadonlyRootfs",
    "SecurityOpt",
    "UTSMode",
    "UsernsMode",
    "ShmSize",
    "Runtime",
    "Isolation",
    "CpuShares",
    "Memory",
    "NanoCpus",
    "CgroupParent",
    "BlkioWeight",
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "CpuPeriod",
    "CpuQuota",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
    "CpusetCpus",
    "CpusetMems",
    "Devices",
    "DeviceCgroupRules",
    "DeviceRequests",
    "KernelMemory",
    "KernelMemoryTCP",
    "MemoryReservation",
    "MemorySwap",
    "MemorySwappiness",
    "OomKillDisable",
    "PidsLimit",
    "Ulimits",
    "CpuCount",
    "CpuPercent",
    "IOMaximumIOps",
    "IOMaximumBandwidth",
    "MaskedPaths",
    "ReadonlyPaths",
    "Tmpfs",
    "Init",
];

/// The `HostConfig` object. `spec` is the container's OCI config (for the masked and
/// read-only paths it was made with), `Value::Null` if it is gone.
pub fn host_config(o: &RunOptions, spec: &Value) -> Value {
    let paths = |key: &str| match &spec["linux"][key] {
        Value::Array(a) if !o.privileged => Value::Array(a.clone()),
        _ => Value::Null,
    };
    let log_type = match o.log.driver {
        LogDriver::JsonFile => "json-file",
        LogDriver::None => "none",
    };
    let mut log_config = Map::new();
    if let Some(s) = o.log.max_size {
        log_config.insert("max-size".into(), json!(s.to_string()));
    }
    if let Some(n) = o.log.max_file {
        log_config.insert("max-file".into(), json!(n.to_string()));
    }
    let userns_mode = match o.userns {
        Userns::Host => "",
        Userns::Private { .. } => "private",
    };
    // In Docker's order (its struct's), each key with its value.
    let fields: Vec<(&str, Value)> = vec![
        ("Binds", json!(binds(o))),
        ("ContainerIDFile", json!("")),
        ("LogConfig", json!({"Type": log_type, "Config": log_config})),
        ("NetworkMode", json!(network_mode(&o.network))),
        ("PortBindings", json!(port_bindings(o))),
        ("RestartPolicy", json!(restart_policy(&o.restart))),
        ("AutoRemove", json!(o.auto_remove)),
        ("VolumeDriver", json!("")),
        ("VolumesFrom", list_or_null(&o.volumes_from)),
        ("ConsoleSize", json!([0, 0])),
        ("CapAdd", json!(null_if_empty(&o.cap_add))),
        ("CapDrop", json!(null_if_empty(&o.cap_drop))),
        ("CgroupnsMode", json!(cgroupns_mode())),
        (
            "Dns",
            json!(o.dns.iter().map(|ip| ip.to_string()).collect::<Vec<_>>()),
        ),
        ("DnsOptions", json!(o.dns_options)),
        ("DnsSearch", json!(o.dns_search)),
        ("ExtraHosts", list_or_null(&o.extra_hosts)),
        ("GroupAdd", list_or_null(&o.group_add)),
        ("IpcMode", json!(ipc_mode(&o.ipc_mode))),
        ("Cgroup", json!("")),
        ("Links", json!(Value::Null)),
        ("OomScoreAdj", json!(o.oom_score_adj.unwrap_or(0))),
        ("PidMode", json!(namespace_mode(&o.pid_mode))),
        ("Privileged", json!(o.privileged)),
        ("PublishAllPorts", json!(o.publish_all)),
        ("ReadonlyRootfs", json!(o.read_only)),
        ("SecurityOpt", json!(security_opt(o))),
        ("UTSMode", json!(namespace_mode(&o.uts_mode))),
        ("UsernsMode", json!(userns_mode)),
        ("ShmSize", json!(o.shm_size.unwrap_or(SHM_SIZE as i64))),
        (
            "Runtime",
            json!(o
                .runtime
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "berth".into())),
        ),
        ("Isolation", json!("")),
        ("CpuShares", json!(o.cpu_shares.unwrap_or(0))),
        ("Memory", json!(o.memory.unwrap_or(0))),
        ("NanoCpus", json!(o.nano_cpus.unwrap_or(0))),
        ("CgroupParent", json!("")),
        ("BlkioWeight", json!(o.blkio_weight.unwrap_or(0))),
        ("BlkioWeightDevice", json!([])),
        ("BlkioDeviceReadBps", json!(Value::Null)),
        ("BlkioDeviceWriteBps", json!(Value::Null)),
        ("BlkioDeviceReadIOps", json!(Value::Null)),
        ("BlkioDeviceWriteIOps", json!(Value::Null)),
        ("CpuPeriod", json!(o.cpu_period.unwrap_or(0))),
        ("CpuQuota", json!(o.cpu_quota.unwrap_or(0))),
        ("CpuRealtimePeriod", json!(0)),
        ("CpuRealtimeRuntime", json!(0)),
        (
            "CpusetCpus",
            json!(o.cpuset_cpus.clone().unwrap_or_default()),
        ),
        (
            "CpusetMems",
            json!(o.cpuset_mems.clone().unwrap_or_default()),
        ),
        ("Devices", json!(devices(o))),
        ("DeviceCgroupRules", json!(Value::Null)),
        ("DeviceRequests", json!(Value::Null)),
        ("KernelMemory", json!(0)),
        ("KernelMemoryTCP", json!(0)),
        (
            "MemoryReservation",
            json!(o.memory_reservation.unwrap_or(0)),
        ),
        ("MemorySwap", json!(memory_swap(o))),
        ("MemorySwappiness", json!(Value::Null)),
        ("OomKillDisable", json!(o.oom_kill_disable)),
        ("PidsLimit", json!(o.pids_limit)),
        ("Ulimits", json!(ulimits(o))),
        ("CpuCount", json!(0)),
        ("CpuPercent", json!(0)),
        ("IOMaximumIOps", json!(0)),
        ("IOMaximumBandwidth", json!(0)),
        ("MaskedPaths", json!(paths("maskedPaths"))),
        ("ReadonlyPaths", json!(paths("readonlyPaths"))),
    ];
    let mut obj: Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    // Keys Docker prints only when set.
    if let Some(t) = tmpfs(o) {
        obj.insert("Tmpfs".into(), t);
    }
    if o.init {
        obj.insert("Init".into(), Value::Bool(true));
    }
    if !o.sysctls.is_empty() {
        obj.insert("Sysctls".into(), json!(o.sysctls));
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{Mount, PortSpec, Ulimit};

    #[test]
    fn memory_swap_is_twice_the_limit_unless_given() {
        let mut o = RunOptions::default();
        assert_eq!(memory_swap(&o), 0);
        o.memory = Some(100 << 20);
        assert_eq!(memory_swap(&o), 200 << 20);
        o.memory_swap = Some(-1);
        assert_eq!(memory_swap(&o), -1);
        o.memory_swap = Some(300 << 20);
        assert_eq!(memory_swap(&o), 300 << 20);
    }

    #[test]
    fn every_docker_key_is_present_and_set_options_fill_theirs() {
        let mut o = RunOptions::default();
        let h = host_config(&o, &Value::Null);
        let keys: Vec<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 65);
        let mut always = KEYS[..65].to_vec();
        always.sort();
        assert_eq!(keys, always);
        assert_eq!(h["NetworkMode"], "bridge");
        assert_eq!(h["Ulimits"], Value::Null);
        assert_eq!(h["Binds"], Value::Null);
        o.mounts.push(Mount {
            kind: MountKind::Bind,
            source: Some("/h".into()),
            target: "/c".into(),
            read_only: true,
            options: vec![],
            create_source: true,
        });
        o.mounts.push(Mount {
            kind: MountKind::Tmpfs,
            source: None,
            target: "/t".into(),
            read_only: false,
            options: vec!["size=1m".into()],
            create_source: false,
        });
        o.ports.push(PortSpec {
            host_ip: None,
            host_port: Some(8080),
            host_port_last: None,
            container_port: 80,
            proto: "tcp".into(),
        });
        o.ulimits.push(Ulimit {
            name: "nofile".into(),
            soft: 10,
            hard: 20,
        });
        let h = host_config(&o, &Value::Null);
        assert_eq!(h["Binds"], json!(["/h:/c:ro"]));
        assert_eq!(h["Tmpfs"], json!({"/t": "size=1m"}));
        assert_eq!(
            h["PortBindings"],
            json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]})
        );
        assert_eq!(
            h["Ulimits"],
            json!([{"Name": "nofile", "Hard": 20, "Soft": 10}])
        );
    }
}
