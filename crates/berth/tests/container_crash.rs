//! Crash safety: a container whose monitor was killed with SIGKILL is repaired by the next
//! command, and removing it leaves no mount, cgroup, process, dir or row.

mod container_support;
use container_support::*;

fn monitor_of(id: &str) -> i32 {
    let pids = processes_with(&format!("--id {id}").replace(' ', "\0"));
    assert_eq!(pids.len(), 1, "monitor of {id}: {pids:?}");
    pids[0]
}

#[test]
fn a_killed_monitor_is_repaired_and_rm_leaves_nothing() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", &id])).unwrap();
    let init = v[0]["State"]["Pid"].as_i64().unwrap() as i32;
    let monitor = monitor_of(&id);
    // SAFETY: signalling a process this test's berth started.
    assert_eq!(unsafe { libc::kill(monitor, libc::SIGKILL) }, 0);
    eventually("the monitor to die", || processes_with(&id).is_empty());

    let ps = root.ok(&["ps", "-a", "--format", "{{.ID}} {{.Status}}"]);
    assert!(
        ps.starts_with(&format!("{} Exited (255) ", &id[..12])),
        "{ps}"
    );
    let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", &id])).unwrap();
    assert_eq!(v[0]["State"]["Error"], "monitor died");
    assert_eq!(v[0]["State"]["Running"], false);
    // Its processes were killed by the repair, not left to run unwatched.
    eventually("the init to die", || !alive(init));
    root.ok(&["rm", &id]);
    assert_nothing_left(&root, &id);
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}
