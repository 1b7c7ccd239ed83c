//! `inspect` as Docker shapes it: every HostConfig key Docker prints, with Docker's values for
//! options left unset and the user's values for those set; NetworkSettings filled as Docker
//! fills it on the default bridge and on a user network.

mod container_support;
use container_support::*;
use serde_json::{json, Value};

/// Docker's HostConfig keys (API 1.41), in its order.
const HOST_CONFIG_KEYS: &[&str] = &[
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
];

fn subnet(tag: u8) -> String {
    format!("10.{}.{}.0/24", 170 + tag, std::process::id() % 250)
}

#[test]
fn every_host_config_key_is_there_with_dockers_defaults() {
    let root = Root::new();
    let id = root.ok(&["create", IMAGE, "true"]);
    let h = root.inspect(id.trim())["HostConfig"].clone();
    let keys = h.as_object().unwrap();
    let missing: Vec<&&str> = HOST_CONFIG_KEYS
        .iter()
        .filter(|k| !keys.contains_key(**k))
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in {h:#}");
    assert_eq!(HOST_CONFIG_KEYS.len(), 65);
    assert_eq!(h["NetworkMode"], "bridge");
    assert_eq!(
        h["RestartPolicy"],
        json!({"Name": "no", "MaximumRetryCount": 0})
    );
    assert_eq!(h["LogConfig"], json!({"Type": "json-file", "Config": {}}));
    assert_eq!(h["Memory"], 0);
    assert_eq!(h["MemorySwap"], 0);
    assert_eq!(h["Ulimits"], Value::Null);
    assert_eq!(h["Binds"], Value::Null);
    assert_eq!(h["SecurityOpt"], Value::Null);
    assert_eq!(h["PortBindings"], json!({}));
    assert_eq!(h["Devices"], json!([]));
    assert_eq!(h["ShmSize"], 67108864);
    assert_eq!(h["ConsoleSize"], json!([0, 0]));
    assert!(h.get("Tmpfs").is_none(), "Tmpfs only when set: {h:#}");
    assert!(
        h["MaskedPaths"].as_array().is_some_and(|a| !a.is_empty()),
        "{h:#}"
    );
}

#[test]
fn set_options_fill_binds_ports_network_ulimits_devices_security_and_tmpfs() {
    let root = Root::new();
    let host_dir = tempfile::tempdir().unwrap();
    let bind = format!("{}:/data:ro", host_dir.path().display());
    let id = root.ok(&[
        "create",
        "-v",
        &bind,
        "-p",
        "127.0.0.1:18080:80",
        "-p",
        "53/udp",
        "--network",
        "none",
        "--ulimit",
        "nofile=100:200",
        "--device",
        "/dev/null:/dev/mynull",
        "--security-opt",
        "no-new-privileges",
        "--tmpfs",
        "/scratch:size=1m",
        "-m",
        "100m",
        "--restart",
        "on-failure:3",
        IMAGE,
        "true",
    ]);
    let h = root.inspect(id.trim())["HostConfig"].clone();
    assert_eq!(h["Binds"], json!([bind]), "{h:#}");
    assert_eq!(
        h["PortBindings"],
        json!({
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}],
            "53/udp": [{"HostIp": "", "HostPort": ""}],
        })
    );
    assert_eq!(h["NetworkMode"], "none");
    assert_eq!(
        h["Ulimits"],
        json!([{"Name": "nofile", "Hard": 200, "Soft": 100}])
    );
    assert_eq!(
        h["Devices"],
        json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "rwm"}])
    );
    assert_eq!(h["SecurityOpt"], json!(["no-new-privileges"]));
    // The size is kept in bytes (Docker keeps it as typed).
    assert_eq!(h["Tmpfs"]["/scratch"], "size=1048576", "{h:#}");
    assert_eq!(h["Memory"], 104857600);
    assert_eq!(h["MemorySwap"], 209715200, "twice -m without --memory-swap");
    assert_eq!(
        h["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );

    let unlimited = root.ok(&["create", "-m", "100m", "--memory-swap", "-1", IMAGE, "true"]);
    let h = root.inspect(unlimited.trim())["HostConfig"].clone();
    assert_eq!(h["MemorySwap"], -1);
}

fn is_hex64(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn network_settings_are_filled_on_the_default_bridge_and_on_a_user_network() {
    let root = Root::new();
    let id = root.ok(&["run", "-d", IMAGE, "sleep", "1000"]);
    let n = root.inspect(id.trim())["NetworkSettings"].clone();
    let ip = n["IPAddress"].as_str().unwrap().to_string();
    assert!(ip.starts_with("10."), "{n:#}");
    assert_eq!(n["IPPrefixLen"], 24);
    assert!(!n["Gateway"].as_str().unwrap().is_empty(), "{n:#}");
    assert_eq!(n["MacAddress"].as_str().unwrap().len(), 17, "{n:#}");
    assert!(
        is_hex64(&n["SandboxID"]) && is_hex64(&n["EndpointID"]),
        "{n:#}"
    );
    assert!(!n["SandboxKey"].as_str().unwrap().is_empty());
    assert_eq!(n["HairpinMode"], false);
    let b = &n["Networks"]["bridge"];
    assert_eq!(b["IPAddress"], ip.as_str());
    assert_eq!(b["Gateway"], n["Gateway"]);
    assert_eq!(b["MacAddress"], n["MacAddress"]);
    assert_eq!(b["EndpointID"], n["EndpointID"]);
    assert_eq!(b["Aliases"], Value::Null);
    for k in [
        "IPAMConfig",
        "Links",
        "Aliases",
        "NetworkID",
        "EndpointID",
        "Gateway",
        "IPAddress",
        "IPPrefixLen",
        "IPv6Gateway",
        "GlobalIPv6Address",
        "GlobalIPv6PrefixLen",
        "MacAddress",
        "DriverOpts",
    ] {
        assert!(b.get(k).is_some(), "{k} missing: {b:#}");
    }

    let net_id = root.ok(&["network", "create", "--subnet", &subnet(1), "inspnet"]);
    let user = root.ok(&[
        "run",
        "-d",
        "--network",
        "inspnet",
        "--network-alias",
        "db",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let user = user.trim();
    let n = root.inspect(user)["NetworkSettings"].clone();
    let e = &n["Networks"]["inspnet"];
    assert!(e["IPAddress"].as_str().unwrap().starts_with("10."), "{n:#}");
    assert_eq!(e["NetworkID"], net_id.trim());
    assert_eq!(e["Aliases"], json!([&user[..12], "db"]));
    assert!(is_hex64(&e["EndpointID"]), "{n:#}");
    // As in Docker, the top-level fields belong to the default bridge network only.
    assert_eq!(n["IPAddress"], "");
    assert!(n["Networks"].get("bridge").is_none(), "{n:#}");

    // Once stopped, the endpoint is gone and the addresses are empty.
    root.ok(&["stop", "-t", "0", user]);
    let n = root.inspect(user)["NetworkSettings"].clone();
    assert_eq!(n["Networks"]["inspnet"]["IPAddress"], "", "{n:#}");
    assert_eq!(n["SandboxKey"], "");
}
