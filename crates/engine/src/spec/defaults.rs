//! Docker's defaults for every container: the kernel filesystems it mounts, the /proc and
//! /sys paths it hides or makes read-only, and the namespaces it creates.

use crate::options::{Network, RunOptions, Userns};
use crate::{Error, Result};
use serde_json::{json, Value};

pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    // Links to every block device of the host, with their size and partition table
    // location; Podman hides it as well.
    "/sys/dev/block",
];

pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// /dev/shm's size (docker's `--shm-size` default).
pub const SHM_SIZE: u64 = 64 << 20;

/// The kernel filesystems. `--privileged` makes /sys and the cgroup tree writable. Without a
/// network namespace of its own and inside a user namespace, sysfs cannot be mounted: the
/// host's /sys is bound read-only instead, as docker does.
pub fn mounts(o: &RunOptions) -> Vec<Value> {
    let ro = if o.privileged { "rw" } else { "ro" };
    let own_netns = !matches!(o.network, Network::Host);
    let in_userns = matches!(o.userns, Userns::Private { .. });
    let sys = if !own_netns && in_userns {
        json!({"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
    } else {
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", ro]})
    };
    vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        sys,
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", ro]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={SHM_SIZE}")]}),
    ]
}

/// Namespaces, with the network one as `--network` asks (`netns`: the namespace the engine
/// made or found for a bridge network or `container:NAME`) and a user namespace for
/// `--userns private`.
pub fn namespaces(o: &RunOptions, netns: Option<&std::path::Path>) -> Result<Vec<Value>> {
    let mut ns = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
        json!({"type": "cgroup"}),
    ];
    match (&o.network, netns) {
        (Network::Host, _) => {}
        (Network::Path(p), _) => ns.push(json!({"type": "network", "path": p})),
        (Network::None, _) => ns.push(json!({"type": "network"})),
        (_, Some(p)) => ns.push(json!({"type": "network", "path": p})),
        (Network::Container(c), None) => {
            return Err(Error::InvalidArgument(format!(
                "--network container:{c}: no network namespace to join"
            )))
        }
        // Outside the engine (spec tests): a namespace of its own.
        (Network::Default | Network::Named(_), None) => ns.push(json!({"type": "network"})),
    }
    if matches!(o.userns, Userns::Private { .. }) {
        ns.push(json!({"type": "user"}));
    }
    Ok(ns)
}

/// uid/gid mappings for `--userns private`: container ids 0..size on host_id.. .
pub fn id_mappings(o: &RunOptions) -> Option<Value> {
    match o.userns {
        Userns::Private { host_id, size } => {
            Some(json!([{"containerID": 0, "hostID": host_id, "size": size}]))
        }
        Userns::Host => None,
    }
}

/// Docker's sysctls for a container with a network namespace of its own: any user may bind
/// low ports and send ICMP echo (ping without CAP_NET_RAW), as these only reach the
/// container's own network. As the host's user namespace writes them.
pub const NETNS_SYSCTLS: &[(&str, &str)] = &[
    ("net.ipv4.ip_unprivileged_port_start", "0"),
    ("net.ipv4.ping_group_range", "0 2147483647"),
];

/// [`NETNS_SYSCTLS`] in config.json, for a namespace the runtime makes (`--network none`).
///
/// A namespace the engine made (a bridge network's) gets them from the engine when it makes
/// it, from the host, where a user-namespaced container could not write them; another
/// container's (`netns`) is left as it is.
pub fn sysctls(o: &RunOptions, netns: Option<&std::path::Path>) -> Option<Value> {
    // Written from inside a user namespace, the range may only name mapped gids.
    let last_gid = match o.userns {
        Userns::Private { size, .. } => size.saturating_sub(1),
        Userns::Host => 2147483647,
    };
    (netns.is_none()
        && matches!(
            o.network,
            Network::Default | Network::None | Network::Named(_)
        ))
    .then(|| {
        let mut m: serde_json::Map<String, Value> = NETNS_SYSCTLS
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        m["net.ipv4.ping_group_range"] = json!(format!("0 {last_gid}"));
        Value::Object(m)
    })
}
