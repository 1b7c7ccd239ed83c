//! Clients that go away in the middle of a stream (`docker run -d` leaves its wait, a killed
//! `logs -f`, `events`, `attach`, `stats`, `wait`) leave nothing open in the server.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Waits until the server holds `want` fds or fewer; the count it has at the end.
fn settles_to(pid: u32, want: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = fds(pid);
        if n <= want || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn streams_of_clients_that_went_away_are_closed() {
    let s = Server::start();
    s.ok(&["version"]);
    std::thread::sleep(Duration::from_millis(300));
    let base = fds(s.pid());
    // `run -d` hangs up its wait once the start is done; the containers keep running.
    for i in 0..5 {
        s.ok(&[
            "run",
            "-d",
            "--name",
            &format!("c{i}"),
            "busybox",
            "sleep",
            "1000",
        ]);
    }
    let mut followers = Vec::new();
    for args in [
        vec!["logs", "-f", "c0"],
        vec!["events"],
        vec!["attach", "c1"],
        vec!["stats", "c2"],
        vec!["wait", "c3"],
    ] {
        followers.push(
            s.cli(DOCKER)
                .args(&args)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(fds(s.pid()) > base, "the streams are not open");
    for mut f in followers {
        f.kill().unwrap();
        f.wait().unwrap();
    }
    let left = settles_to(s.pid(), base);
    assert!(
        left <= base,
        "fds: {base} before, {left} after the clients left"
    );
    // The containers were left running.
    assert_eq!(s.ok(&["ps", "-q"]).lines().count(), 5);
}

/// The server's children that have ended and are not reaped (zombies) named `comm`.
fn zombies(pid: u32, comm: &str) -> usize {
    let mut n = 0;
    // Each thread lists the children it forked.
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in list.split_whitespace() {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            if stat.contains(&format!("({comm}) Z")) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn monitors_of_ended_containers_and_execs_leave_no_zombie() {
    let s = Server::start();
    for _ in 0..3 {
        assert_eq!(s.ok(&["run", "--rm", "busybox", "true"]), "");
    }
    s.ok(&["run", "-d", "--name", "busy", "busybox", "sleep", "1000"]);
    for _ in 0..3 {
        s.ok(&["exec", "busy", "true"]);
    }
    s.ok(&["rm", "-f", "busy"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while zombies(s.pid(), "berth-monitor") > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(zombies(s.pid(), "berth-monitor"), 0);
}
