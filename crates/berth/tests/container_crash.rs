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

/// `berth run -d` and `berth rm -f` killed with SIGKILL at several points: the next
/// commands repair or remove what they left, and nothing stays behind.
#[test]
fn berth_killed_mid_run_or_rm_leaves_nothing_after_repair() {
    use std::time::Duration;
    let root = Root::new();
    let spawn = |args: &[&str]| {
        let mut c = std::process::Command::new(BERTH);
        c.arg("--root").arg(root.path()).args(args);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(p) = monitor_dir_for_path() {
            let path = std::env::var("PATH").unwrap_or_default();
            c.env("PATH", format!("{}:{path}", p.display()));
        }
        c.spawn().unwrap()
    };
    for delay_ms in [0u64, 1, 3, 6, 10, 15, 25, 40] {
        let mut child = spawn(&["run", "-d", IMAGE, "sleep", "1000"]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    // Every command repairs first; whatever is listed can then be removed, some removals
    // themselves being killed part-way and finished by the next command.
    let ids = root.ids();
    // No row says created while a monitor runs its container (the repair adopts it).
    let listed = root.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]);
    for line in listed.lines() {
        let (id, state) = line.split_once(' ').unwrap();
        if state == "created" {
            assert!(
                processes_with(id).is_empty(),
                "{id} is created but has a monitor"
            );
        }
    }
    for (i, id) in ids.iter().enumerate() {
        let mut child = spawn(&["rm", "-f", id]);
        std::thread::sleep(Duration::from_millis(i as u64 * 3));
        let _ = child.kill();
        let _ = child.wait();
    }
    for id in root.ids() {
        root.ok(&["rm", "-f", &id]);
    }
    for id in &ids {
        eventually("its processes to end", || processes_with(id).is_empty());
        assert_nothing_left(&root, id);
    }
    // Containers whose rows were undone by the repair left nothing either.
    let root_path = root.path().display().to_string();
    eventually("every monitor of this root to end", || {
        processes_with(&root_path).is_empty()
    });
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&root_path),
        "mounts left under {root_path}"
    );
    let left: Vec<_> = std::fs::read_dir(root.path().join("containers"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in containers/: {left:?}");
    let rt: Vec<_> = std::fs::read_dir(root.path().join("runtime"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name())
                .filter(|n| !n.to_string_lossy().starts_with('@'))
                .collect()
        })
        .unwrap_or_default();
    assert!(rt.is_empty(), "runtime state left: {rt:?}");
}
