//! `berth update`: new limits reach a running container's cgroup at once, show in inspect and
//! survive a restart; a new restart policy is applied by the monitor; bad values are refused
//! with docker's messages and change nothing.

mod container_support;
use container_support::*;
use std::path::PathBuf;

/// The cgroup v1 directory of `controller` for process `pid` (None when the controller is
/// not mounted as v1 here).
fn v1_dir(pid: i64, controller: &str) -> Option<PathBuf> {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    cg.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == controller)
            .then(|| PathBuf::from(format!("/sys/fs/cgroup/{controllers}{path}")))
            .filter(|d| d.is_dir())
    })
}

fn read(dir: &std::path::Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
        .trim()
        .to_string()
}

const LOOP: &[&str] = &[
    "sh",
    "-c",
    "trap 'exit 0' TERM; while true; do sleep 0.1; done",
];

fn run_looping(root: &Root, extra: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--network", "none"];
    args.extend(extra);
    args.push(IMAGE);
    args.extend(LOOP);
    root.ok(&args).trim().to_string()
}

fn pid_of(root: &Root, id: &str) -> i64 {
    root.inspect(id)["State"]["Pid"].as_i64().unwrap()
}

#[test]
fn update_changes_the_limits_of_a_running_container_and_a_restart_keeps_them() {
    let root = Root::new();
    let id = run_looping(&root, &[]);
    let pid = pid_of(&root, &id);
    let Some(mem) = v1_dir(pid, "memory") else {
        println!("skipped: no v1 memory controller on this host");
        return;
    };
    let out = root.ok(&[
        "update",
        "-m",
        "64m",
        "--memory-swap",
        "128m",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "--pids-limit",
        "50",
        "--cpuset-cpus",
        "0",
        &id[..12],
    ]);
    assert_eq!(
        out,
        format!("{}\n", &id[..12]),
        "docker prints the name given"
    );
    let check = |pid: i64| {
        let mem = v1_dir(pid, "memory").unwrap();
        assert_eq!(
            read(&mem, "memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        if mem.join("memory.memsw.limit_in_bytes").exists() {
            assert_eq!(
                read(&mem, "memory.memsw.limit_in_bytes"),
                (128u64 << 20).to_string()
            );
        }
        let cpu = v1_dir(pid, "cpu").unwrap();
        assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&cpu, "cpu.shares"), "512");
        assert_eq!(read(&v1_dir(pid, "pids").unwrap(), "pids.max"), "50");
        assert_eq!(read(&v1_dir(pid, "cpuset").unwrap(), "cpuset.cpus"), "0");
    };
    check(pid);
    let _ = mem;
    let hc = root.inspect(&id)["HostConfig"].clone();
    assert_eq!(hc["Memory"], 64 << 20);
    assert_eq!(hc["MemorySwap"], 128 << 20);
    assert_eq!(hc["NanoCpus"], 500_000_000);
    assert_eq!(hc["CpuShares"], 512);
    assert_eq!(hc["PidsLimit"], 50);
    assert_eq!(hc["CpusetCpus"], "0");
    // A restart makes a new cgroup from the container's config: the limits stay.
    root.ok(&["restart", "-t", "5", &id]);
    let pid2 = pid_of(&root, &id);
    assert_ne!(pid, pid2);
    check(pid2);
    // Lifting the pids limit writes "max".
    root.ok(&["update", "--pids-limit", "-1", &id]);
    assert_eq!(read(&v1_dir(pid2, "pids").unwrap(), "pids.max"), "max");
    // The update is an event.
    let ev = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "event=update",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(ev, "update\nupdate\n");
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn memory_can_grow_within_the_swap_limit_set_at_run() {
    let root = Root::new();
    let id = run_looping(&root, &["-m", "32m"]);
    let pid = pid_of(&root, &id);
    // 32m at run stored a 64m memory+swap limit: 48m fits under it without --memory-swap.
    root.ok(&["update", "-m", "48m", &id]);
    if let Some(mem) = v1_dir(pid, "memory") {
        assert_eq!(
            read(&mem, "memory.limit_in_bytes"),
            (48u64 << 20).to_string()
        );
    } else {
        println!("skipped the cgroup check: no v1 memory controller on this host");
    }
    assert_eq!(root.inspect(&id)["HostConfig"]["Memory"], 48 << 20);
    // 100m does not.
    let o = root.berth(&["update", "-m", "100m", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Memory limit should be smaller than already set memoryswap limit"),
        "{}",
        stderr(&o)
    );
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn update_changes_the_restart_policy_the_monitor_applies() {
    let root = Root::new();
    // Exits 1 once /go exists (kept across restarts: same writable layer).
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "while [ ! -e /go ]; do sleep 0.1; done; exit 1",
        ])
        .trim()
        .to_string();
    root.ok(&["update", "--restart", "on-failure:2", &id]);
    let rp = root.inspect(&id)["HostConfig"]["RestartPolicy"].clone();
    assert_eq!(rp["Name"], "on-failure");
    assert_eq!(rp["MaximumRetryCount"], 2);
    root.ok(&["exec", &id, "touch", "/go"]);
    eventually("two restarts and a final exit", || {
        let v = root.inspect(&id);
        v["RestartCount"] == 2 && v["State"]["Status"] == "exited"
    });
    eventually("the monitor to exit", || processes_with(&id).is_empty());
    assert_eq!(root.inspect(&id)["State"]["ExitCode"], 1);
    root.ok(&["rm", &id]);
}

#[test]
fn a_stopped_container_is_updated_for_its_next_start() {
    let root = Root::new();
    let id = root
        .ok(&["create", "--network", "none", IMAGE, "sleep", "600"])
        .trim()
        .to_string();
    root.ok(&["update", "--pids-limit", "33", &id]);
    assert_eq!(root.inspect(&id)["HostConfig"]["PidsLimit"], 33);
    root.ok(&["start", &id]);
    let pid = pid_of(&root, &id);
    match v1_dir(pid, "pids") {
        Some(d) => assert_eq!(read(&d, "pids.max"), "33"),
        None => println!("skipped the cgroup check: no v1 pids controller on this host"),
    }
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn bad_values_are_refused_with_dockers_messages_and_change_nothing() {
    let root = Root::new();
    let id = run_looping(&root, &[]);
    let refused = |args: &[&str], code: i32, msg: &str| {
        let mut a = vec!["update"];
        a.extend(args);
        a.push(&id);
        let o = root.berth(&a);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
    };
    refused(
        &["-m", "1m", "--memory-swap", "-1"],
        1,
        "Minimum memory limit allowed is 6MB",
    );
    refused(
        &["-m", "64m"],
        1,
        "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
    );
    refused(
        &["-m", "64m", "--memory-swap", "32m"],
        1,
        "Minimum memoryswap limit should be larger than memory limit",
    );
    refused(&["--restart", "sometimes"], 1, "invalid restart policy");
    refused(&["--cpus", "abc"], 125, "--cpus");
    refused(
        &["--blkio-weight", "5"],
        1,
        "Range of blkio weight is from 10 to 1000",
    );
    refused(&[], 1, "you must provide one or more flags");
    let hc = root.inspect(&id)["HostConfig"].clone();
    assert_eq!(hc["Memory"], 0);
    assert_eq!(hc["NanoCpus"], 0);
    let o = root.berth(&["update", "--pids-limit", "5", "no-such-container"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No such container: no-such-container"));
    // --rm containers keep "no".
    let rm = root
        .ok(&[
            "run",
            "-d",
            "--rm",
            "--network",
            "none",
            IMAGE,
            "sleep",
            "600",
        ])
        .trim()
        .to_string();
    let o = root.berth(&["update", "--restart", "always", &rm]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("AutoRemove is enabled"),
        "{}",
        stderr(&o)
    );
    root.ok(&["rm", "-f", &id]);
    // Its monitor removes an --rm container too: whoever comes second finds nothing.
    let _ = root.berth(&["rm", "-f", &rm]);
    eventually("the --rm container to go", || root.ids().is_empty());
}

#[test]
fn a_runc_container_is_updated_through_runc() {
    let runc = ["/usr/bin/runc", "/usr/sbin/runc"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(runc) = runc else {
        println!("skipped: runc is not installed");
        return;
    };
    let root = Root::new();
    let id = run_looping(&root, &["--runtime", runc]);
    root.ok(&["update", "--pids-limit", "40", "--cpu-shares", "256", &id]);
    let pid = pid_of(&root, &id);
    match (v1_dir(pid, "pids"), v1_dir(pid, "cpu")) {
        (Some(p), Some(c)) => {
            assert_eq!(read(&p, "pids.max"), "40");
            assert_eq!(read(&c, "cpu.shares"), "256");
        }
        _ => println!("skipped the cgroup check: no v1 pids/cpu controllers on this host"),
    }
    assert_eq!(root.inspect(&id)["HostConfig"]["PidsLimit"], 40);
    root.ok(&["rm", "-f", &id]);
}
