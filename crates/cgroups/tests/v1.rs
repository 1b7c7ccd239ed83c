//! cgroup v1 tests on the host's real hierarchies (legacy or hybrid hosts; run as root).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_cgroups::{CgroupManager, Error, FreezerState, Manager};
use common::*;

fn new_manager(tag: &str) -> Manager {
    let p = unique(tag);
    Manager::new(Some(&p), "unused").expect("manager")
}

fn v1(m: &Manager) -> &berth_cgroups::v1::Manager {
    match m {
        Manager::V1(v) => v,
        Manager::V2(_) => panic!("expected a v1 manager on this host"),
    }
}

fn dir(m: &Manager, subsystem: &str) -> PathBuf {
    v1(m)
        .path(subsystem)
        .unwrap_or_else(|| panic!("{subsystem} not mounted"))
        .to_path_buf()
}

#[test]
fn v1_memory_limit_is_written() {
    if !has_v1() {
        return;
    }
    let m = new_manager("mem");
    let _c = Cleanup(&m);
    m.create().unwrap();
    m.apply(&resources(
        r#"{"memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728,
            "swappiness": 10, "disableOOMKiller": true}}"#,
    ))
    .unwrap();
    let d = dir(&m, "memory");
    assert_eq!(read(d.join("memory.limit_in_bytes")), "67108864");
    assert_eq!(read(d.join("memory.soft_limit_in_bytes")), "33554432");
    if d.join("memory.memsw.limit_in_bytes").exists() {
        assert_eq!(read(d.join("memory.memsw.limit_in_bytes")), "134217728");
    }
    assert_eq!(read(d.join("memory.swappiness")), "10");
    assert!(read(d.join("memory.oom_control")).contains("oom_kill_disable 1"));

    // limit -1 with swap unset: both unlimited.
    m.apply(&resources(r#"{"memory": {"limit": -1}}"#)).unwrap();
    let unlimited = read(d.join("memory.limit_in_bytes"));
    assert!(unlimited.parse::<u64>().unwrap() > 1 << 60, "{unlimited}");
    if d.join("memory.memsw.limit_in_bytes").exists() {
        assert_eq!(read(d.join("memory.memsw.limit_in_bytes")), unlimited);
    }

    let err = m
        .apply(&resources(r#"{"memory": {"swappiness": 101}}"#))
        .unwrap_err();
    assert!(err.to_string().contains("swappiness"), "{err}");
}

#[test]
fn v1_memory_swap_update_order_both_directions() {
    if !has_v1() {
        return;
    }
    let m = new_manager("memsw");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let d = dir(&m, "memory");
    if !d.join("memory.memsw.limit_in_bytes").exists() {
        eprintln!("no swap accounting; test skipped");
        return;
    }
    const MIB: i64 = 1 << 20;
    // Shrink below the current (unlimited) limit: limit first, then memsw.
    m.apply(&resources(&format!(
        r#"{{"memory": {{"limit": {}, "swap": {}}}}}"#,
        64 * MIB,
        96 * MIB
    )))
    .unwrap();
    // Grow above the current limit: memsw first, then limit.
    m.apply(&resources(&format!(
        r#"{{"memory": {{"limit": {}, "swap": {}}}}}"#,
        256 * MIB,
        512 * MIB
    )))
    .unwrap();
    assert_eq!(
        read(d.join("memory.limit_in_bytes")),
        (256 * MIB).to_string()
    );
    assert_eq!(
        read(d.join("memory.memsw.limit_in_bytes")),
        (512 * MIB).to_string()
    );
    // Shrink again.
    m.apply(&resources(&format!(
        r#"{{"memory": {{"limit": {}, "swap": {}}}}}"#,
        32 * MIB,
        48 * MIB
    )))
    .unwrap();
    assert_eq!(
        read(d.join("memory.limit_in_bytes")),
        (32 * MIB).to_string()
    );
    assert_eq!(
        read(d.join("memory.memsw.limit_in_bytes")),
        (48 * MIB).to_string()
    );
    // Unlimited swap with a limit.
    m.apply(&resources(&format!(
        r#"{{"memory": {{"limit": {}, "swap": -1}}}}"#,
        16 * MIB
    )))
    .unwrap();
    assert_eq!(
        read(d.join("memory.limit_in_bytes")),
        (16 * MIB).to_string()
    );
    assert!(
        read(d.join("memory.memsw.limit_in_bytes"))
            .parse::<u64>()
            .unwrap()
            > 1 << 60
    );
}

#[test]
fn v1_cpu_shares_quota_and_period_are_written() {
    if !has_v1() {
        return;
    }
    let m = new_manager("cpu");
    let _c = Cleanup(&m);
    m.create().unwrap();
    m.apply(&resources(
        r#"{"cpu": {"shares": 512, "quota": 50000, "period": 200000}}"#,
    ))
    .unwrap();
    let d = dir(&m, "cpu");
    assert_eq!(read(d.join("cpu.shares")), "512");
    assert_eq!(read(d.join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(d.join("cpu.cfs_period_us")), "200000");
    if d.join("cpu.idle").exists() {
        m.apply(&resources(r#"{"cpu": {"idle": 1}}"#)).unwrap();
        assert_eq!(read(d.join("cpu.idle")), "1");
    }
    // Shorter period with a quota that fits: retried after the quota.
    m.apply(&resources(r#"{"cpu": {"quota": 5000, "period": 10000}}"#))
        .unwrap();
    assert_eq!(read(d.join("cpu.cfs_quota_us")), "5000");
    assert_eq!(read(d.join("cpu.cfs_period_us")), "10000");
}

#[test]
fn v1_write_error_names_the_file_and_reason() {
    if !has_v1() {
        return;
    }
    let m = new_manager("err");
    let _c = Cleanup(&m);
    m.create().unwrap();
    // cfs quota below 1ms is rejected by the kernel.
    let err = m
        .apply(&resources(r#"{"cpu": {"quota": 10}}"#))
        .unwrap_err();
    let want = format!(
        "write {}: Invalid argument",
        dir(&m, "cpu").join("cpu.cfs_quota_us").display()
    );
    assert_eq!(err.to_string(), want);
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    // cpu.shares out of range is reported, not silently clamped.
    let err = m
        .apply(&resources(r#"{"cpu": {"shares": 1}}"#))
        .unwrap_err();
    assert!(
        err.to_string().contains("minimum allowed cpu-shares"),
        "{err}"
    );
}

#[test]
fn v1_cpuset_copies_parent_values_at_every_level() {
    if !has_v1() {
        return;
    }
    let top = unique("cpuset");
    let leaf = top.join("a").join("b");
    let m = Manager::new(Some(&leaf), "x").unwrap();
    let top_m = Manager::new(Some(&top), "x").unwrap();
    let _c_top = Cleanup(&top_m);
    let _c = Cleanup(&m);
    m.create().unwrap();
    let d = dir(&m, "cpuset");
    let root_cpus = read("/sys/fs/cgroup/cpuset/cpuset.cpus");
    let root_mems = read("/sys/fs/cgroup/cpuset/cpuset.mems");
    for level in [
        d.parent().unwrap().parent().unwrap(),
        d.parent().unwrap(),
        &d,
    ] {
        assert_eq!(
            read(level.join("cpuset.cpus")),
            root_cpus,
            "{}",
            level.display()
        );
        assert_eq!(
            read(level.join("cpuset.mems")),
            root_mems,
            "{}",
            level.display()
        );
    }
    // A task can join, and the cpus can be narrowed.
    let p = Proc::sh("sleep 30");
    m.add_task(p.pid()).unwrap();
    m.apply(&resources(r#"{"cpu": {"cpus": "0", "mems": "0"}}"#))
        .unwrap();
    assert_eq!(read(d.join("cpuset.cpus")), "0");
    let allowed = std::fs::read_to_string(format!("/proc/{}/status", p.pid())).unwrap();
    assert!(
        allowed
            .lines()
            .any(|l| l.starts_with("Cpus_allowed_list:") && l.trim_end().ends_with('0')),
        "{allowed}"
    );
    drop(p);
}

#[test]
fn v1_pids_limit_applies_to_forked_children() {
    if !has_v1() {
        return;
    }
    let m = new_manager("pids");
    let _c = Cleanup(&m);
    m.create().unwrap();
    m.apply(&resources(r#"{"pids": {"limit": 1}}"#)).unwrap();
    let d = dir(&m, "pids");
    assert_eq!(read(d.join("pids.max")), "1");

    // With a limit of 1 the shell itself is the only task allowed: fork must fail.
    let mut p = Proc::sh("/bin/true && echo forked");
    m.add_task(p.pid()).unwrap();
    assert!(m.pids().unwrap().contains(&p.pid()));
    p.send("go");
    assert_eq!(
        p.line(Duration::from_secs(5)),
        None,
        "fork should have failed"
    );
    let (code, _, stderr) = p.wait();
    assert_ne!(code, Some(0), "stderr: {stderr}");
    assert!(read(d.join("pids.events")).contains("max 1") || !stderr.is_empty());

    // Raise the limit: forked children now work and are listed in the cgroup.
    m.apply(&resources(r#"{"pids": {"limit": 10}}"#)).unwrap();
    let mut p = Proc::sh("sleep 30 & echo $!; wait");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    let child: i32 = p
        .line(Duration::from_secs(5))
        .expect("child pid")
        .trim()
        .parse()
        .unwrap();
    let pids = m.pids().unwrap();
    assert!(pids.contains(&p.pid()) && pids.contains(&child), "{pids:?}");
    assert_eq!(read(d.join("pids.current")), "2");

    // -1 (and 0) mean unlimited.
    m.apply(&resources(r#"{"pids": {"limit": -1}}"#)).unwrap();
    assert_eq!(read(d.join("pids.max")), "max");
}

#[test]
fn v1_freeze_and_thaw_a_real_process() {
    if !has_v1() {
        return;
    }
    let m = new_manager("freezer");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let mut p = Proc::sh("echo ready; while read l; do echo \"got $l\"; done");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    assert_eq!(p.line(Duration::from_secs(5)).as_deref(), Some("ready"));

    m.freeze(FreezerState::Frozen).unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Frozen);
    assert_eq!(read(dir(&m, "freezer").join("freezer.state")), "FROZEN");
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
fn v1_kill_all_kills_frozen_processes() {
    if !has_v1() {
        return;
    }
    let m = new_manager("kill");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let mut p = Proc::sh("sleep 60");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    m.freeze(FreezerState::Frozen).unwrap();
    m.kill_all(libc::SIGKILL).unwrap();
    let status = p
        .wait_timeout(Duration::from_secs(5))
        .expect("process died");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);
}

fn devices_list(m: &Manager) -> BTreeSet<String> {
    read(dir(m, "devices").join("devices.list"))
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn v1_devices_rules_order() {
    if !has_v1() {
        return;
    }
    let m = new_manager("devices");
    let _c = Cleanup(&m);
    m.create().unwrap();
    m.apply(&resources(
        r#"{"devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "r"},
            {"allow": true, "type": "c", "major": 136, "access": "rwm"},
            {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}
        ]}"#,
    ))
    .unwrap();
    let want: BTreeSet<String> = ["c 1:3 rm", "c 1:5 r", "c 136:* rwm"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(devices_list(&m), want);

    // The rules hold for a real process: /dev/zero readable, /dev/full not, /dev/null not
    // writable (the later deny removed w).
    let mut p = Proc::sh(
        "(exec 3</dev/zero) 2>&- && echo zero-ok || echo zero-denied; \
         (exec 3</dev/full) 2>&- && echo full-ok || echo full-denied; \
         (exec 3>>/dev/null) 2>&- && echo nullw-ok || echo nullw-denied",
    );
    m.add_task(p.pid()).unwrap();
    p.send("go");
    let t = Duration::from_secs(5);
    let got: Vec<Option<String>> = (0..3).map(|_| p.line(t)).collect();
    assert_eq!(
        got,
        vec![
            Some("zero-ok".to_string()),
            Some("full-denied".to_string()),
            Some("nullw-denied".to_string())
        ]
    );

    // Re-applying replaces the rules (default deny again, then the new list).
    m.apply(&resources(
        r#"{"devices": [{"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"}]}"#,
    ))
    .unwrap();
    let want: BTreeSet<String> = ["c 1:9 rwm".to_string()].into();
    assert_eq!(devices_list(&m), want);

    // Allow-all.
    m.apply(&resources(
        r#"{"devices": [{"allow": true, "access": "rwm"}]}"#,
    ))
    .unwrap();
    let want: BTreeSet<String> = ["a *:* rwm".to_string()].into();
    assert_eq!(devices_list(&m), want);
}

#[test]
fn v1_blkio_throttle_is_written() {
    if !has_v1() {
        return;
    }
    let m = new_manager("blkio");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let Some(dev) = block_device() else {
        eprintln!("no block device; test skipped");
        return;
    };
    let (ma, mi) = dev.split_once(':').unwrap();
    m.apply(&resources(&format!(
        r#"{{"blockIO": {{
            "throttleReadBpsDevice": [{{"major": {ma}, "minor": {mi}, "rate": 1048576}}],
            "throttleWriteIOPSDevice": [{{"major": {ma}, "minor": {mi}, "rate": 100}}]
        }}}}"#
    )))
    .unwrap();
    let d = dir(&m, "blkio");
    assert_eq!(
        read(d.join("blkio.throttle.read_bps_device")),
        format!("{dev} 1048576")
    );
    assert_eq!(
        read(d.join("blkio.throttle.write_iops_device")),
        format!("{dev} 100")
    );

    // A weight without a weight file (no CFQ/BFQ) must fail naming the file.
    if !d.join("blkio.weight").exists() && !d.join("blkio.bfq.weight").exists() {
        let err = m
            .apply(&resources(r#"{"blockIO": {"weight": 500}}"#))
            .unwrap_err();
        assert!(err.to_string().contains("blkio.weight"), "{err}");
    } else {
        m.apply(&resources(r#"{"blockIO": {"weight": 500}}"#))
            .unwrap();
    }
}

/// "major:minor" of a real disk.
fn block_device() -> Option<String> {
    let mut names: Vec<_> = std::fs::read_dir("/sys/block")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort_by_key(|n| (n.starts_with("loop") || n.starts_with("zram"), n.clone()));
    let name = names.first()?;
    Some(read(format!("/sys/block/{name}/dev")))
}

#[test]
fn hugetlb_limit_is_written() {
    if !has_v1() {
        return;
    }
    let sizes = berth_cgroups::hugepage_sizes();
    let Some(size) = sizes.iter().find(|s| s.as_str() == "2MB").or(sizes.first()) else {
        eprintln!("no huge pages; test skipped");
        return;
    };
    let m = new_manager("hugetlb");
    let v = v1(&m);
    let (dir, file, restore) = match (v.path("hugetlb"), v.unified()) {
        (Some(d), _) => (
            d.to_path_buf(),
            format!("hugetlb.{size}.limit_in_bytes"),
            None,
        ),
        (None, Some(u)) => {
            let root = u.mount_root().join("cgroup.subtree_control");
            if !read(u.mount_root().join("cgroup.controllers")).contains("hugetlb") {
                eprintln!("hugetlb is neither in v1 nor in cgroup2; test skipped");
                return;
            }
            let was_enabled = read(&root).split_whitespace().any(|c| c == "hugetlb");
            (
                u.path().to_path_buf(),
                format!("hugetlb.{size}.max"),
                (!was_enabled).then_some(root),
            )
        }
        (None, None) => {
            let err = m
                .apply(&resources(&format!(
                    r#"{{"hugepageLimits": [{{"pageSize": "{size}", "limit": 4194304}}]}}"#
                )))
                .unwrap_err();
            assert!(matches!(err, Error::MissingController { .. }), "{err}");
            return;
        }
    };
    {
        let _c = Cleanup(&m);
        m.create().unwrap();
        m.apply(&resources(&format!(
            r#"{{"hugepageLimits": [{{"pageSize": "{size}", "limit": 4194304}}]}}"#
        )))
        .unwrap();
        assert_eq!(read(dir.join(&file)), "4194304");
        let stats = m.stats().unwrap();
        assert!(stats.hugetlb.contains_key(size.as_str()), "{stats:?}");
        let err = m
            .apply(&resources(
                r#"{"hugepageLimits": [{"pageSize": "../2MB", "limit": 1}]}"#,
            ))
            .unwrap_err();
        assert!(err.to_string().contains("pageSize"), "{err}");
    }
    // Leave hugetlb free to be bound to a v1 hierarchy again.
    if let Some(root) = restore {
        let _ = std::fs::write(root, "-hugetlb");
    }
}

#[test]
fn destroy_removes_every_hierarchy() {
    if !has_v1() {
        return;
    }
    let m = new_manager("destroy");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let paths = m.paths();
    assert!(
        paths.contains_key("memory") && paths.contains_key("freezer"),
        "{paths:?}"
    );
    for p in paths.values() {
        assert!(p.is_dir(), "{} not created", p.display());
    }
    // A nested cgroup (as a container could create) and a process that is exiting.
    let nested = paths["memory"].join("inner");
    std::fs::create_dir(&nested).unwrap();
    let mut p = Proc::sh("sleep 60");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    m.kill_all(libc::SIGKILL).unwrap();
    p.wait_timeout(Duration::from_secs(5)).expect("killed");
    m.destroy().unwrap();
    for p in paths.values() {
        assert!(!p.exists(), "{} still exists", p.display());
    }
    m.destroy().expect("destroy of an absent cgroup is Ok");
}

#[test]
fn relative_path_resolves_under_own_cgroup() {
    if !has_v1() {
        return;
    }
    let rel = format!("berth-test-{}-relative", std::process::id());
    let m = Manager::new(Some(Path::new(&rel)), "x").unwrap();
    let _c = Cleanup(&m);
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let paths = m.paths();
    let mut checked = 0;
    for line in own.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrls, cg) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let key = if ctrls.is_empty() {
            ""
        } else {
            ctrls.split(',').next().unwrap()
        };
        let Some(got) = paths.get(key) else { continue };
        let mount = if key.is_empty() {
            PathBuf::from(UNIFIED)
        } else {
            got.ancestors()
                .find(|a| a.parent() == Some(Path::new("/sys/fs/cgroup")))
                .unwrap()
                .to_path_buf()
        };
        let want = mount.join(cg.trim_start_matches('/')).join(&rel);
        assert_eq!(got, &want, "{key}");
        checked += 1;
    }
    assert!(checked >= 2, "{paths:?}");
    m.create().unwrap();
    let mut p = Proc::sh("sleep 30");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    assert!(m.pids().unwrap().contains(&p.pid()));
    drop(p);
}

#[test]
fn from_paths_round_trip() {
    if !has_v1() {
        return;
    }
    let m = new_manager("roundtrip");
    let _c = Cleanup(&m);
    m.create().unwrap();
    let p = Proc::sh("sleep 30");
    m.add_task(p.pid()).unwrap();
    let again = Manager::from_paths(&m.paths()).unwrap();
    assert_eq!(again.paths(), m.paths());
    assert_eq!(again.pids().unwrap(), vec![p.pid()]);
    again
        .apply(&resources(r#"{"pids": {"limit": 7}}"#))
        .unwrap();
    assert_eq!(read(dir(&m, "pids").join("pids.max")), "7");
    if let Some(u) = m.paths().get("") {
        assert_eq!(read(u.join("cgroup.procs")), p.pid().to_string());
    }
}

#[test]
fn missing_controller_is_an_error() {
    if !has_v1() {
        return;
    }
    let m = new_manager("missing");
    let mem = m.paths()["memory"].clone();
    let only_memory = Manager::from_paths(&[("memory".to_string(), mem)].into()).unwrap();
    let err = only_memory
        .apply(&resources(r#"{"pids": {"limit": 5}}"#))
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingController { controller, .. } if controller == "pids"),
        "{err}"
    );
}

#[test]
fn v1_stats_report_cpu_memory_and_pids() {
    if !has_v1() {
        return;
    }
    let m = new_manager("stats");
    let _c = Cleanup(&m);
    m.create().unwrap();
    m.apply(&resources(
        r#"{"memory": {"limit": 268435456}, "pids": {"limit": 20}}"#,
    ))
    .unwrap();
    let mut p =
        Proc::sh("i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; sleep 30 & echo done; wait");
    m.add_task(p.pid()).unwrap();
    p.send("go");
    assert_eq!(p.line(Duration::from_secs(20)).as_deref(), Some("done"));
    let s = m.stats().unwrap();
    assert_eq!(s.pids.current, 2);
    assert_eq!(s.pids.limit, 20);
    assert_eq!(s.memory.usage.limit, 268435456);
    assert!(s.memory.usage.usage > 0, "{:?}", s.memory);
    assert!(!s.memory.raw.is_empty());
    assert!(s.cpu.usage.total > 0, "{:?}", s.cpu);
    assert!(!s.cpu.usage.percpu.is_empty());
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["pids"]["current"], 2);
    assert_eq!(json["memory"]["usage"]["limit"], 268435456u64);
}
