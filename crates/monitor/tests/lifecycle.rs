//! The monitor outlives whoever started it, leaks no fd, and applies the restart policy and
//! `--auto-remove` by running the `berth` binary it was given.

mod common;
use common::*;

#[test]
fn on_failure_2_runs_the_restart_command_twice_then_records_the_last_exit() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} sh -c 'echo first; exit 1'"))
        .berth_restarts(&format!("{bb} sh -c 'echo again; exit 2'"))
        .arg("--restart")
        .arg("on-failure:2")
        .start();
    let exit = started.finish();
    assert_eq!(exit["exit_code"], 2);
    let calls = started.setup.calls();
    let expected = format!(
        "--root {} container-restart-from-monitor {ID}",
        started.setup.root.path().display()
    );
    assert_eq!(calls, [expected.clone(), expected]);
    let logged: Vec<String> = log_lines(&started.setup.log_path())
        .iter()
        .map(|l| l["log"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, ["first\n", "again\n", "again\n"]);
}

#[test]
fn on_failure_does_not_restart_a_success_and_no_restart_after_a_user_stop() {
    let bb = busybox();
    let mut ok = Setup::new(&format!("{bb} true"))
        .arg("--restart")
        .arg("on-failure")
        .start();
    assert_eq!(ok.finish()["exit_code"], 0);
    assert!(ok.setup.calls().is_empty());

    let mut stopped = Setup::new(&format!("{bb} sh -c 'exit 1'"));
    std::fs::write(stopped.dir.join("stopped-by-user"), "").unwrap();
    stopped = stopped.arg("--restart").arg("always");
    let mut stopped = stopped.start();
    assert_eq!(stopped.finish()["exit_code"], 1);
    assert!(stopped.setup.calls().is_empty());
}

#[test]
fn always_restarts_until_the_user_stops_it() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} sh -c 'exit 0'"))
        .berth_restarts(&format!("{bb} sh -c 'echo run; exit 0'"))
        .arg("--restart")
        .arg("always")
        .start();
    let calls = started.setup.root.path().join("calls");
    // Three restarts with back-off 100, 200, 400 ms, then the user stops it.
    wait_until(|| {
        let n = std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .count();
        (n >= 3).then_some(())
    });
    std::fs::write(started.dir().join("stopped-by-user"), "").unwrap();
    started.finish();
    let n = started.setup.calls().len();
    assert!((3..=4).contains(&n), "{n} restarts");
}

#[test]
fn auto_remove_runs_berth_rm_f_v() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} sh -c 'exit 7'"))
        .arg("--auto-remove")
        .start();
    assert_eq!(started.finish()["exit_code"], 7);
    assert_eq!(
        started.setup.calls(),
        [format!(
            "--root {} rm -f -v {ID}",
            started.setup.root.path().display()
        )]
    );
}

#[test]
fn the_monitor_survives_the_sigkill_of_its_parent() {
    let bb = busybox();
    let mut setup = Setup::new("");
    let go = setup.root.path().join("go");
    setup.command = format!(
        "while [ ! -e {} ]; do {bb} sleep 0.05; done; echo after; exit 9",
        go.display()
    );
    let mut started = setup.start_under_parent();
    let monitor = started.monitor_pid();
    drop(started.connect());
    // The monitor leads its own session: the parent's terminal and group signals miss it.
    let stat = std::fs::read_to_string(format!("/proc/{monitor}/stat")).unwrap();
    let sid: i32 = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(sid, monitor);
    started.monitor.kill().unwrap();
    started.monitor.wait().unwrap();
    std::fs::write(go, "").unwrap();
    assert_eq!(started.finish()["exit_code"], 9);
    let logged = std::fs::read_to_string(started.setup.log_path()).unwrap();
    assert!(logged.contains("after"), "{logged}");
}

#[test]
fn no_fd_but_stdio_reaches_a_restarted_container() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} sh -c 'exit 1'"))
        .berth_restarts(&format!("{bb} sh -c 'ls /proc/$$/fd; exit 0'"))
        .stdin()
        .arg("--restart")
        .arg("on-failure:1")
        .start();
    assert_eq!(started.finish()["exit_code"], 0);
    let fds: Vec<String> = log_lines(&started.setup.log_path())
        .iter()
        .map(|l| l["log"].as_str().unwrap().trim().to_string())
        .collect();
    assert_eq!(fds, ["0", "1", "2"]);
}
