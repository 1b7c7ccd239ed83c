//! The exit status of an attached `run --rm` is never lost, even on a loaded machine where
//! the container's end, its monitor's removal and the CLI's wait interleave every way:
//! hundreds of runs of failing commands beside two busy loops, every status checked.
//!
//! `BERTH_STRESS_RUNS=N` sets the number of runs (default 300).

mod container_support;
use container_support::*;

/// Busy loops on the host, killed when dropped.
struct Load(Vec<std::process::Child>);

impl Load {
    fn start(n: usize) -> Load {
        Load(
            (0..n)
                .map(|_| {
                    std::process::Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .unwrap()
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn every_run_rm_of_a_failing_command_returns_its_status_under_load() {
    let runs: usize = std::env::var("BERTH_STRESS_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let root = Root::new();
    let cases: [(&[&str], i32); 3] = [
        (&["false"], 1),
        (&["sh", "-c", "exit 3"], 3),
        (&["--read-only", IMAGE, "touch", "/x"], 1),
    ];
    let load = Load::start(2);
    let mut wrong = Vec::new();
    for i in 0..runs {
        let (cmd, want) = cases[i % cases.len()];
        let mut args = vec!["run", "--rm", "--network", "none"];
        if cmd[0] != "--read-only" {
            args.push(IMAGE);
        }
        args.extend_from_slice(cmd);
        let o = root.berth(&args);
        if o.status.code() != Some(want) {
            wrong.push(format!(
                "run {i} {cmd:?}: {:?} instead of {want} ({})",
                o.status.code(),
                stderr(&o).trim()
            ));
        }
    }
    drop(load);
    println!("{runs} runs under load, {} wrong statuses", wrong.len());
    assert!(
        wrong.is_empty(),
        "{} of {runs} statuses wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // And each run returned after its container was removed.
    assert_eq!(root.ids(), Vec::<String>::new(), "containers left");
}

/// The ID of the one container of `root` and the pid of its monitor, once both exist.
fn container_and_monitor(root: &Root) -> (String, i32) {
    let mut found = None;
    eventually("the container and its monitor", || {
        let Some(id) = root.ids().into_iter().next() else {
            return false;
        };
        let monitors = monitors_of(&id);
        found = (monitors.len() == 1).then(|| (id, monitors[0]));
        found.is_some()
    });
    found.unwrap()
}

fn attached_run(root: &Root, args: &[&str]) -> std::process::Child {
    berth_command()
        .arg("--root")
        .arg(root.path())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The monitor killed before it could tell the exit: the status comes from the repaired
/// row (255, "monitor died"), never a made-up 0, and the `--rm` container still goes.
#[test]
fn a_killed_monitor_gives_an_attached_run_rm_255_not_0() {
    let root = Root::new();
    let child = attached_run(
        &root,
        &["run", "--rm", "--network", "none", IMAGE, "sleep", "100"],
    );
    let (id, monitor) = container_and_monitor(&root);
    // SAFETY: kill takes no pointers.
    unsafe { libc::kill(monitor, libc::SIGKILL) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(255), "{}", stderr(&o));
    assert_eq!(
        root.ids(),
        Vec::<String>::new(),
        "the --rm container is left"
    );
    eventually("its processes to end", || processes_with(&id).is_empty());
    assert_nothing_left(&root, &id);
}

/// The monitor recorded the exit (`exit.json`) and died before its exit frame went out:
/// the attached run takes the recorded status.
#[test]
fn the_exit_record_answers_when_the_monitor_dies_before_telling() {
    let root = Root::new();
    let child = attached_run(
        &root,
        &["run", "--rm", "--network", "none", IMAGE, "sleep", "100"],
    );
    let (id, monitor) = container_and_monitor(&root);
    let dir = root.path().join("containers").join(&id);
    std::fs::write(
        dir.join(".exit.json.test"),
        r#"{"exit_code":42,"finished_at":"9999-12-31T23:59:59.999999999Z","oom_killed":false}"#,
    )
    .unwrap();
    std::fs::rename(dir.join(".exit.json.test"), dir.join("exit.json")).unwrap();
    // SAFETY: kill takes no pointers.
    unsafe { libc::kill(monitor, libc::SIGKILL) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(42), "{}", stderr(&o));
    assert_eq!(
        root.ids(),
        Vec::<String>::new(),
        "the --rm container is left"
    );
    eventually("its processes to end", || processes_with(&id).is_empty());
    assert_nothing_left(&root, &id);
}
