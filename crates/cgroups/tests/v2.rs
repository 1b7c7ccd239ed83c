//! cgroup v2 tests on the real cgroup2 mount (/sys/fs/cgroup/unified on hybrid hosts,
//! /sys/fs/cgroup on unified ones). Only core files, hugetlb and eBPF device programs are
//! used, which work on any cgroup2 mount.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use berth_cgroups::v2::devices_bpf::attached_programs;
use berth_cgroups::{CgroupManager, Error, FreezerState, Manager};
use common::*;

fn v2_manager(tag: &str) -> Manager {
    Manager::v2_at(&v2_root(), &unique(tag))
}

fn dir(m: &Manager) -> std::path::PathBuf {
    m.paths()[""].clone()
}

#[test]
fn v2_add_task_and_pids_are_recursive() {
    let m = v2_manager("procs");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let d = dir(&m);
    assert!(d.starts_with(v2_root()) && d.is_dir(), "{}", d.display());
    // Both shells stay blocked in `read` (no forks) while we look.
    let a = Proc::sh("sleep 30");
    let b = Proc::sh("sleep 30");
    m.add_task(a.pid()).unwrap();
    // A nested cgroup, as a container with its own cgroup namespace could make.
    let nested = d.join("inner");
    std::fs::create_dir(&nested).unwrap();
    std::fs::write(nested.join("cgroup.procs"), b.pid().to_string()).unwrap();
    let mut pids = m.pids().unwrap();
    pids.sort();
    let mut want = vec![a.pid(), b.pid()];
    want.sort();
    assert_eq!(pids, want);
    // destroy must remove the nested cgroup first, once its process is gone.
    m.kill_all(libc::SIGKILL).unwrap();
    let (mut a, mut b) = (a, b);
    a.wait_timeout(Duration::from_secs(5)).expect("a killed");
    b.wait_timeout(Duration::from_secs(5)).expect("b killed");
    m.destroy().unwrap();
    assert!(!d.exists());
    m.destroy().expect("destroy of an absent cgroup is Ok");
}

#[test]
fn v2_freeze_and_thaw_a_real_process() {
    let m = v2_manager("freeze");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let mut p = Proc::sh("echo ready; while read l; do echo \"got $l\"; done");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    assert_eq!(p.line(Duration::from_secs(5)).as_deref(), Some("ready"));

    m.freeze(FreezerState::Frozen).unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Frozen);
    assert!(read(dir(&m).join("cgroup.events")).contains("frozen 1"));
    p.send("a");
    assert_eq!(
        p.line(Duration::from_millis(300)),
        None,
        "frozen shell answered"
    );

    m.freeze(FreezerState::Thawed).unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);
    assert_eq!(p.line(Duration::from_secs(5)).as_deref(), Some("got a"));
}

#[test]
fn v2_kill_all_via_cgroup_kill() {
    let m = v2_manager("kill");
    let _c = Cleanup(&m);
    m.create().unwrap();
    assert!(
        dir(&m).join("cgroup.kill").exists(),
        "kernel without cgroup.kill"
    );
    // The shell forks a background child: both must die, frozen or not.
    let mut p = Proc::sh("sleep 60 & echo $!; wait");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    let child: i32 = p
        .line(Duration::from_secs(5))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(m.pids().unwrap().contains(&child));
    m.freeze(FreezerState::Frozen).unwrap();
    m.kill_all(libc::SIGKILL).unwrap();
    let status = p
        .wait_timeout(Duration::from_secs(5))
        .expect("shell killed");
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    // The background child is gone too (not ours to reap: it was reparented).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while m.pids().unwrap().contains(&child) {
        assert!(
            std::time::Instant::now() < deadline,
            "child {child} survived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn v2_kill_all_other_signals_reach_every_process() {
    let m = v2_manager("term");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let mut p = Proc::sh("trap 'echo term; exit 0' TERM; echo armed; while :; do sleep 0.05; done");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    assert_eq!(p.line(Duration::from_secs(5)).as_deref(), Some("armed"));
    m.kill_all(libc::SIGTERM).unwrap();
    assert_eq!(p.line(Duration::from_secs(5)).as_deref(), Some("term"));
}

/// Rules allowing only /dev/zero (c 1:5).
const ONLY_ZERO: &str = r#"{"devices": [
    {"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"}
]}"#;

const PROBE: &str = "(exec 3</dev/null) 2>&- && echo null-ok || echo null-denied; \
                     (exec 3</dev/zero) 2>&- && echo zero-ok || echo zero-denied";

fn probe(m: &Manager) -> (String, String) {
    let mut p = Proc::sh(PROBE);
    m.add_task(p.pid()).unwrap();
    p.send("go");
    let t = Duration::from_secs(5);
    (p.line(t).unwrap_or_default(), p.line(t).unwrap_or_default())
}

#[test]
fn v2_device_bpf_denies_dev_null() {
    let m = v2_manager("bpf");
    let _c = Cleanup(&m);
    m.create().unwrap();
    // Without a program both are accessible (the control case).
    assert_eq!(probe(&m), ("null-ok".into(), "zero-ok".into()));
    m.apply(&resources(ONLY_ZERO)).unwrap();
    assert_eq!(attached_programs(&dir(&m)).unwrap().len(), 1);
    assert_eq!(probe(&m), ("null-denied".into(), "zero-ok".into()));
}

#[test]
fn v2_device_bpf_is_replaced_on_update() {
    let m = v2_manager("bpf-update");
    let _c = Cleanup(&m);
    m.create().unwrap();
    m.apply(&resources(ONLY_ZERO)).unwrap();
    let first = attached_programs(&dir(&m)).unwrap();
    // Later rules win: deny /dev/zero again, allow /dev/null.
    m.apply(&resources(
        r#"{"devices": [
            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": false, "type": "c", "major": 1, "minor": 5, "access": "rwm"}
        ]}"#,
    ))
    .unwrap();
    let second = attached_programs(&dir(&m)).unwrap();
    assert_eq!(second.len(), 1, "old program not detached: {second:?}");
    assert_ne!(first, second);
    assert_eq!(probe(&m), ("null-ok".into(), "zero-denied".into()));
}

#[test]
fn v2_unified_keys_written() {
    let m = v2_manager("unified");
    let _c = Cleanup(&m);
    m.create().unwrap();
    m.apply(&resources(
        r#"{"unified": {"cgroup.max.descendants": "7", "cgroup.max.depth": "3"}}"#,
    ))
    .unwrap();
    assert_eq!(read(dir(&m).join("cgroup.max.descendants")), "7");
    assert_eq!(read(dir(&m).join("cgroup.max.depth")), "3");

    for bad in ["../cgroup.max.depth", "x/cgroup.max.depth", ".."] {
        let err = m
            .apply(&resources(&format!(
                r#"{{"unified": {{"cgroup.max.depth": "1", "{bad}": "1"}}}}"#
            )))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidValue { .. }), "{bad}: {err}");
    }
    // Nothing was written for the rejected maps.
    assert_eq!(read(dir(&m).join("cgroup.max.depth")), "3");

    // An unknown controller is reported as such.
    let err = m
        .apply(&resources(r#"{"unified": {"nosuchctl.max": "1"}}"#))
        .unwrap_err();
    assert!(matches!(err, Error::MissingController { .. }), "{err}");
}

#[test]
fn v2_from_paths_finds_the_mount_root() {
    let m = v2_manager("frompaths");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let again = Manager::from_paths(&m.paths()).unwrap();
    match &again {
        Manager::V2(v) => assert_eq!(v.mount_root(), v2_root().as_path()),
        Manager::V1(_) => panic!("expected v2"),
    }
    let p = Proc::sh("sleep 30");
    again.add_task(p.pid()).unwrap();
    assert_eq!(m.pids().unwrap(), vec![p.pid()]);
    assert!(Manager::from_paths(&[(String::new(), Path::new("rel").into())].into()).is_err());
}

#[test]
fn v2_stats_on_real_cgroup() {
    let m = v2_manager("stats");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let mut p =
        Proc::sh("i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; sleep 30 & echo done; wait");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    assert_eq!(p.line(Duration::from_secs(20)).as_deref(), Some("done"));
    // cpu.stat is a core file: usage is accounted even without the cpu controller.
    let s = m.stats().unwrap();
    assert!(s.cpu.usage.total > 0, "{:?}", s.cpu);
    assert!(s.cpu.usage.user + s.cpu.usage.kernel > 0, "{:?}", s.cpu);
    m.destroy().unwrap_err(); // still populated
    drop(p);
}
