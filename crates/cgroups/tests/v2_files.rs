//! cgroup v2 file formats checked against a temporary directory laid out like a cgroup2
//! mount (files pre-created), for controllers this host binds to v1 (memory, cpu, io, ...).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use berth_cgroups::{CgroupManager, Error, Manager};
use common::resources;

const ALL: &str = "cpuset cpu io memory hugetlb pids";

const LEAF_FILES: &[(&str, &str)] = &[
    ("cgroup.controllers", ALL),
    ("cgroup.procs", ""),
    ("memory.max", "max"),
    ("memory.low", "0"),
    ("memory.swap.max", "max"),
    ("cpu.weight", "100"),
    ("cpu.max", "max 100000"),
    ("cpu.idle", "0"),
    ("cpu.max.burst", "0"),
    ("io.weight", "default 100"),
    ("io.max", ""),
    ("pids.max", "max"),
    ("cpuset.cpus", ""),
    ("cpuset.mems", ""),
    ("hugetlb.2MB.max", "max"),
];

/// tmp/{cgroup.controllers, cgroup.subtree_control} and tmp/c/<LEAF_FILES>.
fn fake_mount() -> (tempfile::TempDir, Manager, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("cgroup.controllers"), ALL).unwrap();
    fs::write(tmp.path().join("cgroup.subtree_control"), ALL).unwrap();
    let leaf = tmp.path().join("c");
    fs::create_dir(&leaf).unwrap();
    for (f, v) in LEAF_FILES {
        fs::write(leaf.join(f), v).unwrap();
    }
    let m = Manager::v2_at(tmp.path(), Path::new("/c"));
    (tmp, m, leaf)
}

fn read(dir: &Path, f: &str) -> String {
    fs::read_to_string(dir.join(f)).unwrap()
}

#[test]
fn v2_memory_files_format() {
    let (_t, m, d) = fake_mount();
    m.apply(&resources(
        r#"{"memory": {"limit": 104857600, "reservation": 52428800, "swap": 157286400}}"#,
    ))
    .unwrap();
    assert_eq!(read(&d, "memory.max"), "104857600");
    assert_eq!(read(&d, "memory.low"), "52428800");
    // OCI swap is memory+swap; memory.swap.max is swap alone.
    assert_eq!(read(&d, "memory.swap.max"), "52428800");

    m.apply(&resources(r#"{"memory": {"limit": 1000, "swap": 1000}}"#))
        .unwrap();
    assert_eq!(
        read(&d, "memory.swap.max"),
        "0",
        "equal limits disable swap"
    );

    m.apply(&resources(r#"{"memory": {"limit": -1}}"#)).unwrap();
    assert_eq!(read(&d, "memory.max"), "max");
    assert_eq!(read(&d, "memory.swap.max"), "max");

    let err = m
        .apply(&resources(r#"{"memory": {"limit": 1000, "swap": 10}}"#))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
}

#[test]
fn v2_memory_without_swap_file_accepts_unlimited_swap_only() {
    let (_t, m, d) = fake_mount();
    fs::remove_file(d.join("memory.swap.max")).unwrap();
    m.apply(&resources(r#"{"memory": {"limit": -1}}"#)).unwrap();
    assert_eq!(read(&d, "memory.max"), "max");
    let err = m
        .apply(&resources(r#"{"memory": {"limit": 1000, "swap": 3000}}"#))
        .unwrap_err();
    assert!(err.to_string().contains("memory.swap.max"), "{err}");
}

#[test]
fn v2_cpu_files_format() {
    let (_t, m, d) = fake_mount();
    m.apply(&resources(
        r#"{"cpu": {"shares": 1024, "quota": 50000, "period": 200000, "idle": 1, "burst": 1000}}"#,
    ))
    .unwrap();
    assert_eq!(read(&d, "cpu.weight"), "39");
    assert_eq!(read(&d, "cpu.max"), "50000 200000");
    assert_eq!(read(&d, "cpu.idle"), "1");
    assert_eq!(read(&d, "cpu.max.burst"), "1000");

    // Only the period: the quota is kept.
    m.apply(&resources(r#"{"cpu": {"period": 100000}}"#))
        .unwrap();
    assert_eq!(read(&d, "cpu.max"), "50000 100000");
    // Only the quota: written alone (the kernel keeps the period).
    m.apply(&resources(r#"{"cpu": {"quota": 20000}}"#)).unwrap();
    assert_eq!(read(&d, "cpu.max"), "20000");
    // Negative quota: unlimited.
    m.apply(&resources(r#"{"cpu": {"quota": -1, "period": 100000}}"#))
        .unwrap();
    assert_eq!(read(&d, "cpu.max"), "max 100000");

    m.apply(&resources(r#"{"cpu": {"cpus": "0-1", "mems": "0"}}"#))
        .unwrap();
    assert_eq!(read(&d, "cpuset.cpus"), "0-1");
    assert_eq!(read(&d, "cpuset.mems"), "0");

    let err = m
        .apply(&resources(r#"{"cpu": {"realtimeRuntime": 1000}}"#))
        .unwrap_err();
    assert!(err.to_string().contains("realtime"), "{err}");
}

#[test]
fn v2_io_files_format() {
    let (_t, m, d) = fake_mount();
    m.apply(&resources(r#"{"blockIO": {"weight": 500}}"#))
        .unwrap();
    assert_eq!(read(&d, "io.weight"), "4950");
    m.apply(&resources(
        r#"{"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]}}"#,
    ))
    .unwrap();
    assert_eq!(read(&d, "io.max"), "8:0 rbps=1048576");
    m.apply(&resources(
        r#"{"blockIO": {"throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 0}]}}"#,
    ))
    .unwrap();
    assert_eq!(read(&d, "io.max"), "8:16 wiops=max");
    m.apply(&resources(
        r#"{"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 10}]}}"#,
    ))
    .unwrap();
    assert_eq!(read(&d, "io.weight"), "8:0 1");

    // With BFQ the v1 weight goes to io.bfq.weight unchanged.
    fs::write(d.join("io.bfq.weight"), "100").unwrap();
    m.apply(&resources(r#"{"blockIO": {"weight": 300}}"#))
        .unwrap();
    assert_eq!(read(&d, "io.bfq.weight"), "300");
}

#[test]
fn v2_pids_and_hugetlb_files_format() {
    let (_t, m, d) = fake_mount();
    for (limit, want) in [(5, "5"), (0, "max"), (-1, "max")] {
        m.apply(&resources(&format!(r#"{{"pids": {{"limit": {limit}}}}}"#)))
            .unwrap();
        assert_eq!(read(&d, "pids.max"), want, "limit {limit}");
    }
    m.apply(&resources(
        r#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]}"#,
    ))
    .unwrap();
    assert_eq!(read(&d, "hugetlb.2MB.max"), "2097152");
}

#[test]
fn v2_controllers_are_enabled_in_every_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("cgroup.controllers"), ALL).unwrap();
    fs::write(root.join("cgroup.subtree_control"), "").unwrap();
    let m = Manager::v2_at(root, Path::new("a/b"));
    m.create().unwrap();
    let (a, b) = (root.join("a"), root.join("a/b"));
    assert!(b.is_dir());
    // Hybrid-style manager: nothing is enabled until a resource needs it.
    assert_eq!(read(root, "cgroup.subtree_control"), "");
    fs::write(a.join("cgroup.subtree_control"), "").unwrap();
    fs::write(b.join("cgroup.controllers"), "").unwrap();
    fs::write(b.join("pids.max"), "max").unwrap();
    fs::write(b.join("memory.max"), "max").unwrap();
    m.apply(&resources(
        r#"{"pids": {"limit": 3}, "memory": {"limit": 4096}}"#,
    ))
    .unwrap();
    assert_eq!(read(root, "cgroup.subtree_control"), "+pids +memory");
    assert_eq!(read(&a, "cgroup.subtree_control"), "+pids +memory");
    assert_eq!(read(&b, "pids.max"), "3");
}

#[test]
fn v2_missing_controller_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("cgroup.controllers"), "cpu memory").unwrap();
    fs::create_dir(tmp.path().join("c")).unwrap();
    let m = Manager::v2_at(tmp.path(), Path::new("c"));
    let err = m
        .apply(&resources(r#"{"blockIO": {"weight": 100}}"#))
        .unwrap_err();
    match err {
        Error::MissingController { controller, .. } => assert_eq!(controller, "io"),
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn v2_stats_are_parsed() {
    let (_t, m, d) = fake_mount();
    let files = [
        (
            "cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 30\n",
        ),
        ("memory.stat", "anon 4096\nfile 8192\n"),
        ("memory.current", "12288"),
        ("memory.peak", "20000"),
        ("memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"),
        ("memory.swap.current", "100"),
        ("pids.current", "3"),
        ("io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"),
    ];
    for (f, v) in files {
        fs::write(d.join(f), v).unwrap();
    }
    let s = m.stats().unwrap();
    assert_eq!(s.cpu.usage.total, 1_500_000);
    assert_eq!(s.cpu.usage.user, 1_000_000);
    assert_eq!(s.cpu.usage.kernel, 500_000);
    assert_eq!(s.cpu.throttling.throttled_periods, 2);
    assert_eq!(s.cpu.throttling.throttled_time, 30_000);
    assert_eq!(s.memory.cache, 8192);
    assert_eq!(s.memory.raw["anon"], 4096);
    assert_eq!(s.memory.usage.usage, 12288);
    assert_eq!(s.memory.usage.limit, u64::MAX);
    assert_eq!(s.memory.usage.max, 20000);
    assert_eq!(s.memory.usage.failcnt, 4);
    assert_eq!(s.memory.swap.usage, 12388, "swap is reported as mem+swap");
    assert_eq!(s.pids.current, 3);
    assert_eq!(s.pids.limit, 0, "max means no limit");
    assert_eq!(s.blkio.io_service_bytes_recursive.len(), 2);
    assert_eq!(s.blkio.io_serviced_recursive[1].value, 2);
}
