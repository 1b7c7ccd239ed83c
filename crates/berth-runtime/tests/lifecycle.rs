//! Lifecycle and state: created -> running -> stopped, kill in every state,
//! delete cleaning everything, serialized concurrent commands.

mod common;
use common::*;

#[test]
fn create_leaves_init_waiting_and_start_releases_it() {
    let b = Bundle::new(&["sh", "-c", "echo started > /tmp/marker; sleep 30"]);
    ok(&b.create());
    let st = b.state();
    assert_eq!(st["status"], "created");
    let pid = st["pid"].as_i64().unwrap();
    assert!(pid > 0);
    // The user process has not run yet.
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        !b.rootfs().join("tmp/marker").exists(),
        "user process ran before start"
    );
    ok(&b.rt(&["start", &b.id]));
    assert!(
        eventually(|| b.rootfs().join("tmp/marker").exists()),
        "user process never ran"
    );
    assert_eq!(b.status(), "running");
}

#[test]
fn state_is_stopped_after_init_dies() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    ok(&b.rt(&["kill", &b.id, "KILL"]));
    assert!(eventually(|| b.status() == "stopped"));
    assert_eq!(b.state()["pid"], 0);
}

#[test]
fn state_reports_stopped_when_process_exits_by_itself() {
    let b = Bundle::new(&["true"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    assert!(eventually(|| b.status() == "stopped"));
}

#[test]
fn kill_works_on_created_container() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["kill", &b.id, "9"]));
    assert!(eventually(|| b.status() == "stopped"));
}

#[test]
fn pause_resume_and_kill_of_paused_container() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    ok(&b.rt(&["pause", &b.id]));
    assert_eq!(b.status(), "paused");
    ok(&b.rt(&["resume", &b.id]));
    assert_eq!(b.status(), "running");
    ok(&b.rt(&["pause", &b.id]));
    ok(&b.rt(&["kill", &b.id, "SIGKILL"]));
    assert!(eventually(|| b.status() == "stopped"));
}

#[test]
fn delete_removes_cgroups_and_state_dir() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    assert!(!cgroup_dirs(&b.id).is_empty(), "no cgroup was created");
    ok(&b.rt(&["start", &b.id]));
    ok(&b.rt(&["kill", &b.id, "KILL"]));
    assert!(eventually(|| b.status() == "stopped"));
    ok(&b.rt(&["delete", &b.id]));
    assert!(
        cgroup_dirs(&b.id).is_empty(),
        "cgroup outlived delete: {:?}",
        cgroup_dirs(&b.id)
    );
    assert!(!b.root.join(&b.id).exists(), "state dir outlived delete");
}

#[test]
fn delete_force_kills_a_running_container() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let pid = b.state()["pid"].as_i64().unwrap();
    ok(&b.rt(&["delete", "--force", &b.id]));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.contains(") Z"))
                .unwrap_or(true)
    );
    assert!(cgroup_dirs(&b.id).is_empty());
}

#[test]
fn delete_of_running_container_without_force_fails() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let o = b.rt(&["delete", &b.id]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot delete container") && stderr(&o).contains("running"),
        "{}",
        stderr(&o)
    );
    assert_eq!(b.status(), "running");
}

#[test]
fn run_returns_the_process_exit_code_and_cleans_up() {
    let b = Bundle::new(&["sh", "-c", "exit 7"]);
    let o = b.run();
    assert_eq!(o.status.code(), Some(7), "stderr: {}", stderr(&o));
    assert!(!b.root.join(&b.id).exists());
    assert!(cgroup_dirs(&b.id).is_empty());
}

#[test]
fn run_reports_death_by_signal_as_128_plus_signal() {
    // Without a pid namespace, since pid 1 of one cannot be killed from inside.
    let b = Bundle::with(&["sh", "-c", "kill -9 $$"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "pid")
    });
    assert_eq!(b.run().status.code(), Some(137));
}

#[test]
fn run_detach_leaves_container_running() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.rt(&[
        "run",
        "--detach",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]));
    assert_eq!(b.status(), "running");
}

#[test]
fn start_of_running_container_fails() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let o = b.rt(&["start", &b.id]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot start an already running container"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn concurrent_commands_on_one_id_are_serialized() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    // Many parallel starts: exactly one may succeed.
    let kids: Vec<_> = (0..6)
        .map(|_| {
            b.cmd()
                .args(["start", &b.id])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let oks = kids
        .into_iter()
        .map(|k| k.wait_with_output().unwrap())
        .filter(|o| o.status.success())
        .count();
    assert_eq!(oks, 1);
    assert_eq!(b.status(), "running");
}

#[test]
fn ps_and_list_show_the_container() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let pid = b.state()["pid"].as_i64().unwrap();
    let pids: Vec<i64> =
        serde_json::from_str(&ok(&b.rt(&["ps", "--format", "json", &b.id]))).unwrap();
    assert!(pids.contains(&pid), "{pids:?} lacks {pid}");
    let list = ok(&b.rt(&["list"]));
    assert!(
        list.starts_with("ID") && list.contains(&b.id) && list.contains("running"),
        "{list}"
    );
    assert_eq!(ok(&b.rt(&["list", "-q"])).trim(), b.id);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&b.rt(&["list", "--format", "json"]))).unwrap();
    assert_eq!(json[0]["id"], b.id.as_str());
}

#[test]
fn exec_runs_in_the_container_and_returns_its_exit_code() {
    let b = Bundle::with(&["sleep", "30"], |c| c["hostname"] = "inside".into());
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let o = b.rt(&["exec", &b.id, "hostname"]);
    assert_eq!(ok(&o).trim(), "inside");
    let o = b.rt(&["exec", &b.id, "sh", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3));
    let o = b.rt(&["exec", &b.id, "nonexistent-binary"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("executable file not found"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn exec_detach_writes_pid_file_and_process_file_works() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let pidfile = b.path().join("exec.pid");
    let proc_json = b.path().join("process.json");
    std::fs::write(&proc_json, serde_json::to_vec(&serde_json::json!({"args": ["sleep", "20"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]})).unwrap()).unwrap();
    ok(&b.rt(&[
        "exec",
        "--detach",
        "--pid-file",
        pidfile.to_str().unwrap(),
        "--process",
        proc_json.to_str().unwrap(),
        &b.id,
    ]));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pids: Vec<i32> =
        serde_json::from_str(&ok(&b.rt(&["ps", "--format", "json", &b.id]))).unwrap();
    assert!(
        pids.contains(&pid),
        "exec'd pid {pid} not in container cgroup {pids:?}"
    );
}

#[test]
fn the_state_root_holds_only_containers_so_runc_sees_no_stray_entry() {
    // The root may be shared with runc (containerd and dockerd pass one --root to whichever
    // runtime they run): `runc list` must see containers only, not our caches.
    let b = Bundle::with(&["sleep", "30"], |c| {
        c["linux"]["seccomp"] = serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mknodat"], "action": "SCMP_ACT_ERRNO"}]
        });
    });
    ok(&b.create());
    let entries: Vec<String> = std::fs::read_dir(&b.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec![b.id.clone()], "state root: {entries:?}");
    if !std::path::Path::new("/usr/sbin/runc").exists() {
        eprintln!("skipped the runc half: runc is not installed");
        return;
    }
    let o = capture(
        std::process::Command::new("/usr/sbin/runc")
            .arg("--root")
            .arg(&b.root)
            .args(["list", "-q"]),
    );
    let listed = stdout(&o);
    assert!(!listed.contains('@'), "runc list: {listed} {}", stderr(&o));
    ok(&b.rt(&["delete", "--force", &b.id]));
    let left: Vec<_> = std::fs::read_dir(&b.root).unwrap().collect();
    assert!(left.is_empty(), "left in the state root: {left:?}");
}
