//! The config.json a plain `docker run IMAGE` gets: docker's capabilities, seccomp profile,
//! masked paths, kernel mounts, devices and namespaces; and what --privileged,
//! --cap-add/--cap-drop and --security-opt change.

mod common;
use berth_engine::options::parse;
use berth_engine::options::{RunOptions, Seccomp};
use berth_engine::spec::{caps::DOCKER_DEFAULT, seccomp::allows};
use common::*;

#[test]
fn default_container_gets_dockers_14_capabilities_for_root() {
    let s = build(&RunOptions::default());
    let c = &s["process"]["capabilities"];
    let mut want: Vec<String> = DOCKER_DEFAULT.iter().map(|s| s.to_string()).collect();
    want.sort();
    for set in ["bounding", "effective", "permitted"] {
        let mut got = strs(&c[set]);
        got.sort();
        assert_eq!(got, want, "{set}");
    }
    assert!(c.get("ambient").is_none() && c.get("inheritable").is_none());
    assert_eq!(want.len(), 14);
    assert_eq!(s["process"]["noNewPrivileges"], false);
    assert!(
        s["process"].get("rlimits").is_none(),
        "docker sets no rlimits by default"
    );
}

#[test]
fn default_seccomp_denies_the_dangerous_calls_and_allows_ordinary_ones() {
    let s = build(&RunOptions::default());
    let p = &s["linux"]["seccomp"];
    assert_eq!(p["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(p["defaultErrnoRet"], 1);
    for denied in [
        "keyctl",
        "add_key",
        "request_key",
        "mount",
        "umount2",
        "unshare",
        "setns",
        "bpf",
        "perf_event_open",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "open_by_handle_at",
        "name_to_handle_at",
        "reboot",
        "swapon",
        "swapoff",
        "clock_settime",
        "settimeofday",
        "acct",
        "pivot_root",
        "userfaultfd",
        "io_uring_setup",
        "personality",
        "clone",
        "clone3",
        "iopl",
        "syslog",
    ] {
        assert!(!allows(p, denied), "{denied} allowed unconditionally");
    }
    for ok in [
        "read", "openat", "execve", "socket", "futex", "chroot", "ptrace", "statx",
    ] {
        assert!(allows(p, ok), "{ok} not allowed");
    }
    let text = p.to_string();
    assert!(
        text.contains("\"clone3\"") && text.contains("\"errnoRet\":38"),
        "clone3 -> ENOSYS"
    );
    assert!(
        text.contains("SCMP_CMP_MASKED_EQ"),
        "clone without namespace flags"
    );
}

#[test]
fn added_capabilities_bring_back_their_syscalls() {
    let o = RunOptions {
        cap_add: vec!["CAP_SYS_ADMIN".into(), "CAP_SYS_TIME".into()],
        ..Default::default()
    };
    let s = build(&o);
    let p = &s["linux"]["seccomp"];
    for call in [
        "mount",
        "unshare",
        "setns",
        "clone",
        "clone3",
        "settimeofday",
        "clock_settime",
    ] {
        assert!(allows(p, call), "{call}");
    }
    assert!(!allows(p, "reboot") && !allows(p, "init_module"));
    assert!(strs(&s["process"]["capabilities"]["bounding"]).contains(&"CAP_SYS_ADMIN".into()));
}

#[test]
fn cap_drop_and_all() {
    let caps = |add: &[&str], drop: &[&str]| {
        let o = RunOptions {
            cap_add: add
                .iter()
                .map(|c| parse::capability("--cap-add", c).unwrap())
                .collect(),
            cap_drop: drop
                .iter()
                .map(|c| parse::capability("--cap-drop", c).unwrap())
                .collect(),
            ..Default::default()
        };
        strs(&build(&o)["process"]["capabilities"]["bounding"])
    };
    let c = caps(&[], &["chown", "NET_RAW"]);
    assert_eq!(c.len(), 12);
    assert!(!c.contains(&"CAP_CHOWN".into()) && !c.contains(&"CAP_NET_RAW".into()));
    assert_eq!(caps(&["chown"], &["all"]), vec!["CAP_CHOWN"]);
    assert!(caps(&[], &["ALL"]).is_empty());
    let held = berth_engine::spec::caps::all();
    if let Some(missing) = parse::kernel_capabilities()
        .iter()
        .find(|c| !held.contains(&c.to_string()))
    {
        // This host's root lacks some capability (CAP_SYS_RESOURCE here): asking for it is
        // a clear error, not a runtime capset failure.
        let o = RunOptions {
            cap_add: vec![missing.to_string()],
            ..Default::default()
        };
        assert!(try_build(&o)
            .unwrap_err()
            .to_string()
            .contains("does not hold"));
    }
    let all = caps(&["ALL"], &["sys_admin"]);
    assert_eq!(all.len(), berth_engine::spec::caps::all().len() - 1);
    assert!(!all.contains(&"CAP_SYS_ADMIN".into()));
}

#[test]
fn masked_readonly_paths_and_kernel_mounts_as_docker() {
    let s = build(&RunOptions::default());
    let masked = strs(&s["linux"]["maskedPaths"]);
    for p in [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/sys/firmware",
        "/proc/scsi",
        "/proc/acpi",
        "/sys/dev/block",
    ] {
        assert!(masked.contains(&p.to_string()), "{p}");
    }
    assert_eq!(
        strs(&s["linux"]["readonlyPaths"]),
        vec![
            "/proc/bus",
            "/proc/fs",
            "/proc/irq",
            "/proc/sys",
            "/proc/sysrq-trigger"
        ]
    );
    assert!(strs(&mount(&s, "/sys").unwrap()["options"]).contains(&"ro".into()));
    assert!(strs(&mount(&s, "/sys/fs/cgroup").unwrap()["options"]).contains(&"ro".into()));
    assert!(strs(&mount(&s, "/dev/shm").unwrap()["options"]).contains(&"size=67108864".into()));
    assert_eq!(mount(&s, "/dev/mqueue").unwrap()["type"], "mqueue");
    assert_eq!(mount(&s, "/dev/pts").unwrap()["type"], "devpts");
    let ns: Vec<&str> = s["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    for t in ["pid", "ipc", "uts", "mount", "cgroup", "network"] {
        assert!(ns.contains(&t), "{t}");
    }
    assert!(!ns.contains(&"user"));
    let rules = &s["linux"]["resources"]["devices"];
    assert_eq!(
        rules[0],
        serde_json::json!({"allow": false, "access": "rwm"})
    );
    assert_eq!(s["root"]["readonly"], false);
}

#[test]
fn privileged_has_every_cap_no_seccomp_no_masks_host_devices_rw_sysfs() {
    let o = RunOptions {
        privileged: true,
        ..Default::default()
    };
    let s = build(&o);
    assert_eq!(
        strs(&s["process"]["capabilities"]["effective"]).len(),
        berth_engine::spec::caps::all().len()
    );
    assert!(s["linux"].get("seccomp").is_none());
    assert!(s["linux"].get("maskedPaths").is_none());
    assert!(s["linux"].get("readonlyPaths").is_none());
    assert!(strs(&mount(&s, "/sys").unwrap()["options"]).contains(&"rw".into()));
    assert!(strs(&mount(&s, "/sys/fs/cgroup").unwrap()["options"]).contains(&"rw".into()));
    let devs = s["linux"]["devices"].as_array().unwrap();
    assert!(devs
        .iter()
        .any(|d| d["path"] == "/dev/null" && d["major"] == 1 && d["minor"] == 3));
    assert!(!devs
        .iter()
        .any(|d| d["path"].as_str().unwrap().starts_with("/dev/pts/")));
    assert!(s["linux"]["resources"]["devices"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"allow": true, "access": "rwm"})));
}

#[test]
fn seccomp_unconfined_and_profile_files() {
    let o = RunOptions {
        seccomp: Seccomp::Unconfined,
        ..Default::default()
    };
    assert!(build(&o)["linux"].get("seccomp").is_none());
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("p.json");
    std::fs::write(
        &f,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1},{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}"#,
    )
    .unwrap();
    let o = RunOptions {
        seccomp: Seccomp::Profile(f.clone()),
        ..Default::default()
    };
    let s = build(&o);
    assert_eq!(s["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
    assert_eq!(
        s["linux"]["seccomp"]["syscalls"].as_array().unwrap().len(),
        1
    );
    std::fs::write(&f, "not json").unwrap();
    assert!(try_build(&o)
        .unwrap_err()
        .to_string()
        .contains("seccomp profile"));
}

#[test]
fn seccomp_profile_given_inline_as_the_engine_api_carries_it() {
    let o = RunOptions {
        seccomp: Seccomp::Inline(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#.into(),
        ),
        ..Default::default()
    };
    let s = build(&o);
    assert_eq!(s["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
    assert_eq!(s["linux"]["seccomp"]["syscalls"][0]["names"][0], "mkdir");
    let bad = RunOptions {
        seccomp: Seccomp::Inline("{".into()),
        ..Default::default()
    };
    assert!(try_build(&bad)
        .unwrap_err()
        .to_string()
        .contains("decoding seccomp profile failed"));
}

#[test]
fn devices_from_the_host_with_their_permissions() {
    let o = RunOptions {
        devices: vec![parse::device("/dev/null:/dev/mynull:r").unwrap()],
        ..Default::default()
    };
    let s = build(&o);
    let d = &s["linux"]["devices"][0];
    assert_eq!(
        (
            d["path"].as_str(),
            d["type"].as_str(),
            d["major"].as_u64(),
            d["minor"].as_u64()
        ),
        (Some("/dev/mynull"), Some("c"), Some(1), Some(3))
    );
    let rules = s["linux"]["resources"]["devices"].as_array().unwrap();
    assert!(rules
        .iter()
        .any(|r| r["access"] == "r" && r["major"] == 1 && r["minor"] == 3));
    let o = RunOptions {
        devices: vec![parse::device("/dev/berth-no-such-device").unwrap()],
        ..Default::default()
    };
    assert_eq!(
        try_build(&o).unwrap_err().to_string(),
        "error gathering device information while adding custom device \"/dev/berth-no-such-device\": No such file or directory (os error 2)"
    );
}
