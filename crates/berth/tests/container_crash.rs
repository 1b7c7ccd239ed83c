//! Crash safety: a container whose monitor was killed with SIGKILL is repaired by the next
//! command, and removing it leaves no mount, cgroup, process, dir or row.

mod container_support;
use container_support::*;

fn kill_monitor(id: &str) -> i32 {
    let monitor = monitor_of(id);
    // SAFETY: signalling a process this test's berth started.
    assert_eq!(unsafe { libc::kill(monitor, libc::SIGKILL) }, 0);
    eventually("the monitor to die", || !alive(monitor));
    monitor
}

/// The events file holds the repair's `die` event of `id`: only a repair writes one with
/// exit code 255 (a monitor records the init's real status).
fn repair_recorded_death(root: &Root, id: &str) -> bool {
    let events = std::fs::read_to_string(root.path().join("events.jsonl")).unwrap_or_default();
    events.lines().any(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
        v["Action"] == "die"
            && v["Actor"]["ID"] == id
            && v["Actor"]["Attributes"]["exitCode"] == "255"
    })
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
    kill_monitor(&id);
    // Noticed with no berth command run: the monitor's watcher repairs at once.
    eventually("the repair to kill the init", || !alive(init));
    eventually("the repair to record the end", || {
        repair_recorded_death(&root, &id)
    });

    let ps = root.ok(&["ps", "-a", "--format", "{{.ID}} {{.Status}}"]);
    assert!(
        ps.starts_with(&format!("{} Exited (255) ", &id[..12])),
        "{ps}"
    );
    let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", &id])).unwrap();
    assert_eq!(v[0]["State"]["Error"], "monitor died");
    assert_eq!(v[0]["State"]["Running"], false);
    // The watcher's repair, which nobody watched, is logged in the data root.
    let log = std::fs::read_to_string(root.path().join("repairs.log")).unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l.contains(&id) && l.contains("its monitor is gone")),
        "{log}"
    );
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
        berth_command()
            .arg("--root")
            .arg(root.path())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    for delay_ms in [0u64, 1, 3, 6, 10, 15, 25, 40] {
        // On the root's bridge with a published port: network setup is cut short too.
        let mut child = spawn(&["run", "-d", "-p", "80", IMAGE, "sleep", "1000"]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    // Every command repairs first; whatever is listed can then be removed, some removals
    // themselves being killed part-way and finished by the next command.
    let ids = root.ids();
    // No row says created while a monitor runs its container (the repair adopts it).
    // A killed `run -d` may leave its detached start finishing, holding the container's
    // lock: each `ps` repairs what it can lock, so the row is adopted once that start ends.
    eventually("no created row with a monitor", || {
        root.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"])
            .lines()
            .filter_map(|l| l.split_once(' '))
            .all(|(id, state)| state != "created" || processes_with(id).is_empty())
    });
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
    let rt = root.runtime_state();
    assert!(rt.is_empty(), "runtime state left: {rt:?}");
    // No veth left on the root's bridge, no namespace pinned, no port rule to its subnet.
    let on_bridge = std::process::Command::new("ip")
        .args(["-o", "link", "show", "master", &root.bridge()])
        .output()
        .unwrap();
    let on_bridge = String::from_utf8_lossy(&on_bridge.stdout).into_owned();
    assert!(on_bridge.trim().is_empty(), "veths left: {on_bridge}");
    let ns: Vec<_> = std::fs::read_dir(root.path().join("netns"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name())
                .filter(|n| !n.to_string_lossy().starts_with(".net-"))
                .collect()
        })
        .unwrap_or_default();
    assert!(ns.is_empty(), "netns left: {ns:?}");
    let net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.path().join("network.json")).unwrap())
            .unwrap();
    let prefix = net["bip"]
        .as_str()
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0
        .to_string();
    let table = std::process::Command::new("nft")
        .args(["list", "chain", "ip", "berth", "ports"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(
        !table.contains(&format!("dnat to {prefix}.")),
        "port rules left: {table}"
    );
}

/// Whether the cgroup of `pid` is frozen (v1 freezer, else v2 `cgroup.freeze`).
fn frozen(pid: i32) -> bool {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    if let Some(path) = cg
        .lines()
        .find_map(|l| l.split_once(":freezer:").map(|x| x.1))
    {
        let state = std::fs::read_to_string(format!("/sys/fs/cgroup/freezer{path}/freezer.state"));
        return state.unwrap().trim() == "FROZEN";
    }
    let path = cg.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
    let state = std::fs::read_to_string(format!("/sys/fs/cgroup{path}/cgroup.freeze"));
    state.unwrap().trim() == "1"
}

/// `commit` (which freezes the container while it reads its files) killed with SIGKILL
/// while the container is frozen: the next command thaws it.
#[test]
fn a_commit_killed_while_the_container_is_frozen_is_thawed_by_the_next_command() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            IMAGE,
            "sh",
            "-c",
            // Random bytes: slow to gzip, so the commit stays frozen long enough to be caught.
            "head -c 64000000 /dev/urandom > /big && touch /ready; sleep 1000",
        ])
        .trim()
        .to_string();
    let dir = root.path().join("containers").join(&id);
    eventually("the big file", || dir.join("upper/ready").exists());
    let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", &id])).unwrap();
    let init = v[0]["State"]["Pid"].as_i64().unwrap() as i32;
    assert!(!frozen(init));

    let mut commit = std::process::Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["commit", &id, "big:v1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("the commit to freeze the container", || frozen(init));
    commit.kill().unwrap();
    let status = commit.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL),
        "the commit ended before it was killed"
    );
    assert!(frozen(init), "nothing thawed it yet");

    root.ok(&["ps"]);
    assert!(!frozen(init), "the repair did not thaw it");
    assert!(!dir.join("commit-paused").exists());
    assert_eq!(root.ok(&["exec", &id, "echo", "ok"]), "ok\n");
    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);
}

/// A detached `--rm` container whose monitor was killed is removed by the repair (its monitor
/// would have removed it), not left behind as `Exited (255)`.
#[test]
fn a_killed_monitor_of_an_rm_container_is_removed_by_the_repair() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--rm",
            "--network",
            "none",
            IMAGE,
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    kill_monitor(&id);
    // Removed with no berth command run: the monitor's watcher repairs at once.
    let dir = root.path().join("containers").join(&id);
    eventually("the container's removal", || !dir.exists());
    let ps = root.ok(&["ps", "-a", "-q", "--no-trunc"]);
    assert!(!ps.contains(&id), "the --rm container is left: {ps}");
    assert_nothing_left(&root, &id);
}

/// A container whose monitor was killed gets its restart policy from the repair, as Docker's
/// daemon applies it when a container's shim dies: `always` runs it again, under a new
/// monitor, and counts the restart; `no` leaves it exited.
#[test]
fn a_killed_monitor_of_a_restart_always_container_is_restarted_by_the_repair() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--restart",
            "always",
            "--network",
            "none",
            IMAGE,
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    let first = root.inspect(&id)["State"]["Pid"].as_i64().unwrap();
    let monitor = kill_monitor(&id);
    // Restarted with no berth command run: the monitor's watcher repairs at once.
    eventually("a new monitor", || {
        monitors_of(&id).iter().any(|&m| m != monitor)
    });
    let ps = root.ok(&["ps", "--format", "{{.ID}} {{.Status}}"]);
    assert!(ps.starts_with(&format!("{} Up", &id[..12])), "{ps}");
    let v = root.inspect(&id);
    assert_eq!(v["State"]["Running"], true, "{v}");
    assert_eq!(v["RestartCount"], 1, "{v}");
    let pid = v["State"]["Pid"].as_i64().unwrap();
    assert_ne!(pid, first);
    let again = monitor_of(&id);
    assert_ne!(again, monitor);
    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);
}

/// An attached `run --rm` whose monitor is killed ends with status 255 and the container
/// removed, whoever repairs first (the client or the monitor's watcher, which leaves the
/// removal to the client that still has to read the status).
#[test]
fn an_attached_rm_run_whose_monitor_dies_ends_255_and_leaves_nothing() {
    let root = Root::new();
    let child = berth_command()
        .arg("--root")
        .arg(root.path())
        .args([
            "run",
            "--rm",
            "--name",
            "att",
            "--network",
            "none",
            IMAGE,
            "sleep",
            "1000",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut id = String::new();
    eventually("the container to run", || {
        id = root
            .ok(&["ps", "-q", "--no-trunc", "--filter", "name=att"])
            .trim()
            .to_string();
        !id.is_empty() && monitors_of(&id).len() == 1
    });
    kill_monitor(&id);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(255),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_nothing_left(&root, &id);
}
