//! OCI runtime-spec 1.2, config-linux.md `cgroupsPath` and `resources` through the runtime:
//! limits written on create, `update`, `events --stats`, an absolute cgroupsPath, and a
//! container run by a runtime that sees a pure cgroup2 hierarchy. The host is hybrid: v1
//! controllers under /sys/fs/cgroup/<ctrl>, cgroup2 at /sys/fs/cgroup/unified.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const V1: &str = "/sys/fs/cgroup";
const UNIFIED: &str = "/sys/fs/cgroup/unified";

fn read(p: impl AsRef<Path>) -> String {
    let p = p.as_ref();
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .to_string()
}

fn procs(dir: &Path) -> Vec<i64> {
    read(dir.join("cgroup.procs"))
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

fn limited(args: &[&str], mem: i64, pids: i64) -> Bundle {
    Bundle::with(args, |c| {
        c["linux"]["resources"]["memory"] = json!({"limit": mem});
        c["linux"]["resources"]["pids"] = json!({"limit": pids});
    })
}

#[test]
fn memory_and_pids_limits_from_resources_are_applied_on_create() {
    let b = limited(&["sleep", "30"], 100 << 20, 50);
    ok(&b.create());
    let pid = b.state()["pid"].as_i64().unwrap();
    let mem = Path::new(V1).join("memory/berth").join(&b.id);
    let pids = Path::new(V1).join("pids/berth").join(&b.id);
    assert_eq!(
        read(mem.join("memory.limit_in_bytes")),
        (100i64 << 20).to_string()
    );
    assert_eq!(read(pids.join("pids.max")), "50");
    assert!(procs(&mem).contains(&pid), "init not in the memory cgroup");
    assert!(procs(&pids).contains(&pid), "init not in the pids cgroup");
}

#[test]
fn pids_limit_is_enforced_inside() {
    let b = limited(
        &[
            "sh",
            "-c",
            "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done 2>&1; wait",
        ],
        256 << 20,
        4,
    );
    // The shell gives up (non-zero exit) at the first failed fork.
    let out = stdout(&b.run());
    assert!(
        out.contains("Resource temporarily unavailable") || out.contains("can't fork"),
        "8 children under pids.max=4: {out}"
    );
}

#[test]
fn update_changes_memory_and_pids_limits() {
    let b = limited(&["sleep", "30"], 100 << 20, 50);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    ok(&b.rt(&["update", "--memory", "64m", "--pids-limit", "20", &b.id]));
    let mem = Path::new(V1).join("memory/berth").join(&b.id);
    let pids = Path::new(V1).join("pids/berth").join(&b.id);
    assert_eq!(
        read(mem.join("memory.limit_in_bytes")),
        (64i64 << 20).to_string()
    );
    assert_eq!(read(pids.join("pids.max")), "20");
}

#[test]
fn events_stats_prints_one_json_line_with_memory_usage() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let out = ok(&b.rt(&["events", "--stats", &b.id]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let v: Value = serde_json::from_str(lines[0]).expect("not JSON");
    assert_eq!(v["type"], "stats");
    assert_eq!(v["id"], b.id.as_str());
    let usage = v["data"]["memory"]["usage"]["usage"].as_u64().unwrap_or(0);
    assert!(usage > 0, "no memory usage: {out}");
    assert!(
        v["data"]["pids"]["current"].as_u64().unwrap_or(0) >= 1,
        "{out}"
    );
}

/// Removes the parent directories an absolute cgroupsPath made (the runtime removes only
/// the container's own leaf).
struct CgroupParent(String);

impl Drop for CgroupParent {
    fn drop(&mut self) {
        if let Ok(rd) = std::fs::read_dir(V1) {
            for e in rd.flatten() {
                let _ = std::fs::remove_dir(e.path().join(&self.0));
            }
        }
    }
}

#[test]
fn absolute_cgroups_path_is_honoured_and_removed_on_delete() {
    let parent = uid("berth-test-cg");
    let _cleanup = CgroupParent(parent.clone());
    let b = Bundle::with(&["sleep", "30"], |c| {
        c["linux"]["cgroupsPath"] = json!(format!("/{parent}/x"));
        c["linux"]["resources"]["memory"] = json!({"limit": 100 << 20});
    });
    ok(&b.create());
    let pid = b.state()["pid"].as_i64().unwrap();
    let leaf = |ctrl: &str| Path::new(V1).join(ctrl).join(&parent).join("x");
    for ctrl in ["memory", "pids", "freezer", "devices", "unified"] {
        assert!(
            procs(&leaf(ctrl)).contains(&pid),
            "init not in {}",
            leaf(ctrl).display()
        );
    }
    assert_eq!(
        read(leaf("memory").join("memory.limit_in_bytes")),
        (100i64 << 20).to_string()
    );
    assert!(cgroup_dirs(&b.id).is_empty(), "default path used too");
    ok(&b.rt(&["delete", "--force", &b.id]));
    let left: Vec<PathBuf> = std::fs::read_dir(V1)
        .unwrap()
        .flatten()
        .map(|e| e.path().join(&parent).join("x"))
        .filter(|p| p.exists())
        .collect();
    assert!(left.is_empty(), "cgroup outlived delete: {left:?}");
}

/// Runs berth-runtime in a private mount namespace whose /sys/fs/cgroup is a cgroup2 mount,
/// so the runtime sees a pure v2 host (the hierarchy is the host's /sys/fs/cgroup/unified).
fn v2(b: &Bundle, args: &[&str]) -> Output {
    let mut c = Command::new("unshare");
    c.args([
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount -t cgroup2 none /sys/fs/cgroup && exec \"$@\"",
        "sh",
        BIN,
        "--root",
    ])
    .arg(&b.root)
    .args(args);
    capture(&mut c)
}

/// Force-deletes through the v2 view (the host view cannot see that container's cgroup), and
/// gives back the controllers the runtime enabled on the way down: on a real v2 host that is
/// right, but here the hierarchy is the host's, and a controller left enabled in its
/// subtree_control can no longer be bound to a v1 hierarchy (as the benchmarks do for crun).
struct V2Cleanup<'a>(&'a Bundle, Vec<(std::path::PathBuf, String)>);

impl<'a> V2Cleanup<'a> {
    fn new(b: &'a Bundle) -> Self {
        let dirs = [
            Path::new(UNIFIED).join("berth"),
            Path::new(UNIFIED).to_path_buf(),
        ];
        V2Cleanup(
            b,
            dirs.into_iter()
                .map(|d| {
                    let before = std::fs::read_to_string(d.join("cgroup.subtree_control"))
                        .unwrap_or_default();
                    (d, before)
                })
                .collect(),
        )
    }
}

impl Drop for V2Cleanup<'_> {
    fn drop(&mut self) {
        let _ = v2(self.0, &["delete", "--force", &self.0.id]);
        // Leaf first: a parent cannot drop a controller its children still enable.
        for (dir, before) in &self.1 {
            let now =
                std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
            for c in now
                .split_whitespace()
                .filter(|c| !before.split_whitespace().any(|b| b == *c))
            {
                let _ = std::fs::write(dir.join("cgroup.subtree_control"), format!("-{c}"));
            }
        }
    }
}

#[test]
fn container_runs_on_a_pure_cgroup2_hierarchy() {
    let b = Bundle::new(&["sleep", "30"]);
    let _cleanup = V2Cleanup::new(&b);
    let state = || -> Value { serde_json::from_str(&ok(&v2(&b, &["state", &b.id]))).unwrap() };
    ok(&v2(
        &b,
        &[
            "run",
            "--detach",
            "--bundle",
            b.path().to_str().unwrap(),
            &b.id,
        ],
    ));
    let st = state();
    assert_eq!(st["status"], "running");
    let pid = st["pid"].as_i64().unwrap();
    let cg = Path::new(UNIFIED).join("berth").join(&b.id);
    assert!(procs(&cg).contains(&pid), "init not in {}", cg.display());
    assert!(
        !Path::new(V1).join("memory/berth").join(&b.id).exists(),
        "v1 cgroups used in a v2 view"
    );

    ok(&v2(&b, &["pause", &b.id]));
    assert_eq!(state()["status"], "paused");
    assert_eq!(read(cg.join("cgroup.freeze")), "1");
    ok(&v2(&b, &["resume", &b.id]));
    assert_eq!(state()["status"], "running");
    assert_eq!(read(cg.join("cgroup.freeze")), "0");

    ok(&v2(&b, &["kill", &b.id, "KILL"]));
    assert!(eventually(|| state()["status"] == "stopped"));
    ok(&v2(&b, &["delete", &b.id]));
    assert!(!cg.exists(), "cgroup outlived delete: {}", cg.display());
    assert!(!b.root.join(&b.id).exists(), "state dir outlived delete");
}

#[test]
fn cpu_limits_from_resources_are_applied() {
    let b = Bundle::with(&["sleep", "30"], |c| {
        c["linux"]["resources"]["cpu"] =
            json!({"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"});
    });
    ok(&b.create());
    let cpu = Path::new(V1).join("cpu/berth").join(&b.id);
    assert_eq!(read(cpu.join("cpu.shares")), "512");
    assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");
    let cpuset = Path::new(V1).join("cpuset/berth").join(&b.id);
    assert_eq!(read(cpuset.join("cpuset.cpus")), "0");
    let pid = b.state()["pid"].as_i64().unwrap();
    let allowed = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        allowed.contains("Cpus_allowed_list:\t0\n"),
        "init not confined to cpu 0: {allowed}"
    );
}
