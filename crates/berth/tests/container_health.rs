//! Healthchecks as docker runs them: from the flags or the image's HEALTHCHECK, run at the
//! interval; `State.Health` in inspect, `(healthy)` in ps, `--filter health=`, events.

mod container_support;
use container_support::*;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Polls `f` for up to two minutes (the checks run on a loaded machine).
fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn health(root: &Root, id: &str) -> Value {
    root.inspect(id)["State"]["Health"].clone()
}

fn status_of(root: &Root, id: &str) -> String {
    health(root, id)["Status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn run_d(root: &Root, args: &[&str]) -> String {
    let mut a = vec!["run", "-d"];
    a.extend_from_slice(args);
    root.ok(&a).trim().to_string()
}

#[test]
fn a_failing_check_makes_the_container_unhealthy_and_a_passing_one_healthy() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--health-cmd",
            "test -e /ok",
            "--health-interval",
            "200ms",
            "--health-retries",
            "2",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    wait_for("unhealthy", || status_of(&root, &id) == "unhealthy");
    let h = health(&root, &id);
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{h}");
    assert_ne!(log[0]["ExitCode"], 0, "{h}");
    wait_for("5 results kept at most", || {
        let h = health(&root, &id);
        h["FailingStreak"].as_i64().unwrap_or(0) > 5
    });
    assert!(health(&root, &id)["Log"].as_array().unwrap().len() <= 5);
    let ps = root.ok(&["ps", "--format", "{{.ID}} {{.Status}}"]);
    assert!(ps.contains("(unhealthy)"), "{ps}");
    let listed = root.ok(&["ps", "-q", "--no-trunc", "--filter", "health=unhealthy"]);
    assert_eq!(listed.trim(), id);
    let none = root.ok(&["ps", "-q", "--filter", "health=healthy"]);
    assert_eq!(none.trim(), "");

    root.ok(&["exec", &id, "touch", "/ok"]);
    wait_for("healthy", || status_of(&root, &id) == "healthy");
    assert_eq!(health(&root, &id)["FailingStreak"], 0);
    let ps = root.ok(&["ps", "--format", "{{.Status}}"]);
    assert!(ps.trim().ends_with("(healthy)"), "{ps}");
    let listed = root.ok(&["ps", "-q", "--no-trunc", "--filter", "health=healthy"]);
    assert_eq!(listed.trim(), id);

    let events = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--format",
        "{{.Action}}",
    ]);
    assert!(events.contains("health_status: unhealthy"), "{events}");
    assert!(events.contains("health_status: healthy"), "{events}");
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn failures_inside_the_start_period_keep_it_starting() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--health-cmd",
            "false",
            "--health-interval",
            "200ms",
            "--health-retries",
            "1",
            "--health-start-period",
            "1h",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    let ps = root.ok(&["ps", "--format", "{{.Status}}"]);
    assert!(ps.contains("(health: starting)"), "{ps}");
    wait_for("three failed results", || {
        health(&root, &id)["Log"].as_array().map_or(0, Vec::len) >= 3
    });
    let h = health(&root, &id);
    assert_eq!(h["Status"], "starting", "{h}");
    assert_eq!(h["FailingStreak"], 0, "{h}");
    let listed = root.ok(&["ps", "-q", "--no-trunc", "--filter", "health=starting"]);
    assert_eq!(listed.trim(), id);
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn a_check_that_outlives_its_timeout_fails() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--health-cmd",
            "sleep 60",
            "--health-interval",
            "200ms",
            "--health-timeout",
            "300ms",
            "--health-retries",
            "1",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    wait_for("unhealthy", || status_of(&root, &id) == "unhealthy");
    let h = health(&root, &id);
    assert_eq!(h["Log"][0]["ExitCode"], -1, "{h}");
    assert!(
        h["Log"][0]["Output"]
            .as_str()
            .unwrap()
            .contains("Health check exceeded timeout (300ms)"),
        "{h}"
    );
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn no_healthcheck_and_no_check_have_no_health() {
    let root = Root::new();
    let plain = run_d(&root, &[IMAGE, "sleep", "1000"]);
    assert!(health(&root, &plain).is_null());
    let ps = root.ok(&["ps", "--format", "{{.Status}}"]);
    assert!(!ps.contains('('), "{ps}");
    let listed = root.ok(&["ps", "-q", "--no-trunc", "--filter", "health=none"]);
    assert_eq!(listed.trim(), plain);
    let o = root.berth(&["ps", "--filter", "health=sick"]);
    assert!(!o.status.success());
    root.ok(&["rm", "-f", &plain]);
}

/// An image with `HEALTHCHECK` made by `import --change`.
fn image_with_check(root: &Root) -> Option<&'static str> {
    let tar = root.path().join("rootfs.tar");
    root.ok(&["create", "--name", "src", IMAGE, "true"]);
    root.ok(&["export", "-o", tar.to_str().unwrap(), "src"]);
    root.ok(&["rm", "src"]);
    let o = root.berth(&[
        "import",
        "--change",
        "HEALTHCHECK --interval=200ms --retries=1 CMD test -e /never",
        "--change",
        "CMD [\"sleep\", \"1000\"]",
        tar.to_str().unwrap(),
        "checked:latest",
    ]);
    if !o.status.success() {
        println!("skipped: import --change HEALTHCHECK: {}", stderr(&o));
        return None;
    }
    Some("checked:latest")
}

#[test]
fn an_image_healthcheck_is_used_unless_no_healthcheck() {
    let root = Root::new();
    let Some(image) = image_with_check(&root) else {
        return;
    };
    let id = run_d(&root, &[image]);
    let cfg = root.inspect(&id)["Config"]["Healthcheck"].clone();
    assert_eq!(cfg["Test"][0], "CMD-SHELL", "{cfg}");
    wait_for("unhealthy", || status_of(&root, &id) == "unhealthy");

    // A commit keeps the container's check in the new image, as docker's.
    root.ok(&["commit", &id, "recommitted:latest"]);
    let v: Value =
        serde_json::from_str(&root.ok(&["image", "inspect", "recommitted:latest"])).unwrap();
    assert_eq!(v[0]["Config"]["Healthcheck"]["Retries"], 1, "{v}");

    let off = run_d(&root, &["--no-healthcheck", image]);
    assert!(health(&root, &off).is_null());
    std::thread::sleep(Duration::from_millis(600));
    assert!(!root
        .path()
        .join("containers")
        .join(&off)
        .join("health.json")
        .exists());
    root.ok(&["rm", "-f", &id, &off]);
}

/// Whether every result in the container's health log started after its last start.
fn log_is_from_this_run(root: &Root, id: &str) -> bool {
    let v = root.inspect(id);
    let started = v["State"]["StartedAt"].as_str().unwrap().to_string();
    let log = v["State"]["Health"]["Log"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    !log.is_empty()
        && log
            .iter()
            .all(|r| r["Start"].as_str().unwrap_or("") >= started.as_str())
}

#[test]
fn each_start_begins_the_checks_again() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--health-cmd",
            "false",
            "--health-interval",
            "200ms",
            "--health-retries",
            "1",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    wait_for("unhealthy", || status_of(&root, &id) == "unhealthy");
    root.ok(&["stop", "-t", "0", &id]);
    // A stopped container keeps its last health, as docker's.
    assert_eq!(status_of(&root, &id), "unhealthy");
    root.ok(&["start", &id]);
    wait_for("results of the new run", || {
        log_is_from_this_run(&root, &id)
    });
    wait_for("unhealthy again", || status_of(&root, &id) == "unhealthy");
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn checks_go_on_after_the_monitor_restarts_the_container() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--restart",
            "on-failure",
            "--health-cmd",
            "true",
            "--health-interval",
            "200ms",
            IMAGE,
            "sh",
            "-c",
            "test -e /restarted || { touch /restarted; exit 1; }; sleep 1000",
        ],
    );
    wait_for("the restart", || root.inspect(&id)["RestartCount"] == 1);
    wait_for("results of the restarted run", || {
        log_is_from_this_run(&root, &id)
    });
    wait_for("healthy", || status_of(&root, &id) == "healthy");
    root.ok(&["rm", "-f", &id]);
}
