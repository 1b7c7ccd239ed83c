//! Restart policies as the monitor applies them through `container-restart-from-monitor`,
//! and `stop` winning over `always`.

mod container_support;
use container_support::*;

#[test]
fn on_failure_restarts_up_to_its_count_then_stays_exited() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--restart",
            "on-failure:2",
            IMAGE,
            "sh",
            "-c",
            "echo run; exit 1",
        ])
        .trim()
        .to_string();
    eventually("two restarts and a final exit", || {
        let v = root.inspect(&id);
        v["RestartCount"] == 2 && v["State"]["Status"] == "exited"
    });
    eventually("the monitor to exit", || processes_with(&id).is_empty());
    let v = root.inspect(&id);
    assert_eq!(v["State"]["ExitCode"], 1);
    let log = std::fs::read_to_string(root.path().join(format!("containers/{id}/{id}-json.log")))
        .unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    root.ok(&["rm", &id]);
    assert_nothing_left(&root, &id);
}

#[test]
fn stop_ends_an_always_container_for_good() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--restart",
            "always",
            IMAGE,
            "sh",
            "-c",
            "sleep 0.2; exit 2",
        ])
        .trim()
        .to_string();
    eventually("a restart", || {
        root.inspect(&id)["RestartCount"].as_i64() >= Some(1)
    });
    root.ok(&["stop", "-t", "1", &id]);
    assert_eq!(root.inspect(&id)["State"]["Status"], "exited");
    eventually("the monitor to exit", || processes_with(&id).is_empty());
    let count = root.inspect(&id)["RestartCount"].clone();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let v = root.inspect(&id);
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["RestartCount"], count, "restarted after stop");
    root.ok(&["rm", &id]);
    assert_nothing_left(&root, &id);
}
