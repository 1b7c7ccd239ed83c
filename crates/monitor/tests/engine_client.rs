//! berth-engine's side of the contract against the real monitor: `monitor_client::attach`
//! and `wait`, and `logs::write_logs` following a live log until the exit.

mod common;
use berth_engine::{logs, monitor_client};
use common::*;

#[test]
fn engine_attach_forwards_stdin_and_returns_the_exit_code() {
    let bb = busybox();
    let mut started = Setup::new(&format!(
        "{bb} sh -c '{bb} tr a-z A-Z; echo bye >&2; exit 3'"
    ))
    .stdin()
    .arg("--wait-attach")
    .start();
    drop(started.connect());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let input = std::io::Cursor::new(b"shout\n".to_vec());
    let code = monitor_client::attach(started.dir(), Some(input), &mut out, &mut err).unwrap();
    assert_eq!(
        (code, out.as_slice(), err.as_slice()),
        (3, &b"SHOUT\n"[..], &b"bye\n"[..])
    );
    assert_eq!(started.finish()["exit_code"], 3);
    // The monitor is gone: wait answers from exit.json, attach refuses.
    assert_eq!(monitor_client::wait(started.dir()).unwrap(), 3);
    let none: Option<std::io::Empty> = None;
    let refused = monitor_client::attach(started.dir(), none, &mut out, &mut err);
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("stopped container"));
}

#[test]
fn engine_wait_blocks_until_the_exit() {
    let bb = busybox();
    let mut setup = Setup::new("");
    let go = setup.root.path().join("go");
    setup.command = format!(
        "while [ ! -e {} ]; do {bb} sleep 0.05; done; exit 12",
        go.display()
    );
    let mut started = setup.start();
    drop(started.connect());
    let dir = started.dir().to_path_buf();
    let waiter = std::thread::spawn(move || monitor_client::wait(&dir).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!waiter.is_finished());
    std::fs::write(go, "").unwrap();
    assert_eq!(waiter.join().unwrap(), 12);
    started.finish();
}

#[test]
fn engine_logs_follow_a_live_container_through_rotations_until_it_exits() {
    let bb = busybox();
    let mut started = Setup::new(&format!(
        "i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); [ $((i % 50)) = 0 ] && {bb} usleep 200000; done; echo gone >&2"
    ))
    .arg("--max-size")
    .arg("2000")
    .arg("--max-file")
    .arg("20")
    .start();
    drop(started.connect());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let opts = logs::LogOptions {
        follow: true,
        ..Default::default()
    };
    logs::write_logs(started.dir(), ID, &opts, &mut out, &mut err).unwrap();
    started.finish();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    // Bursts of 50 lines rotate the log (2000 bytes) more than once between two looks of
    // the follower; with 20 files kept nothing is deleted, and nothing may be missing or
    // doubled from the first line it read on.
    let first: usize = lines[0][4..].parse().unwrap();
    let expected: Vec<String> = (first..200).map(|i| format!("line{i}")).collect();
    assert_eq!(lines, expected);
    assert_eq!(err, b"gone\n");
}

#[test]
fn engine_logs_follow_ends_when_the_monitor_is_killed() {
    let bb = busybox();
    let started = Setup::new(&format!("echo up; exec {bb} sleep 1000")).start();
    drop(started.connect());
    let monitor = started.monitor_pid();
    let container = started.container_pid();
    let dir = started.dir().to_path_buf();
    let follower = std::thread::spawn(move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let opts = logs::LogOptions {
            follow: true,
            monitor_pid: Some(monitor),
            ..Default::default()
        };
        logs::write_logs(&dir, ID, &opts, &mut out, &mut err).unwrap();
        out
    });
    wait_until(|| {
        std::fs::read_to_string(started.setup.log_path())
            .ok()
            .filter(|l| l.contains("up"))
    });
    // SAFETY: kill takes no pointers.
    unsafe { libc::kill(monitor, libc::SIGKILL) };
    assert_eq!(follower.join().unwrap(), b"up\n");
    assert!(exit_json(started.dir()).is_none());
    // SAFETY: as above.
    unsafe { libc::kill(container, libc::SIGKILL) };
}

#[test]
fn a_resize_reaches_the_containers_terminal() {
    let bb = busybox();
    let mut setup = Setup::new("");
    let go = setup.root.path().join("go");
    setup.command = format!(
        "while [ ! -e {} ]; do {bb} sleep 0.02; done; {bb} stty size; [ -t 0 ] && echo tty",
        go.display()
    );
    setup.pty = true;
    let mut started = setup.start();
    drop(started.connect());
    monitor_client::resize(started.dir(), 33, 101).unwrap();
    std::fs::write(&go, "").unwrap();
    assert_eq!(started.finish()["exit_code"], 0);
    let text: String = log_lines(&started.setup.log_path())
        .iter()
        .map(|l| l["log"].as_str().unwrap().to_string())
        .collect();
    // A terminal turns \n into \r\n.
    assert_eq!(text, "33 101\r\ntty\r\n");
}

#[test]
fn a_resize_without_a_terminal_is_refused() {
    let bb = busybox();
    let mut setup = Setup::new("");
    let go = setup.root.path().join("go");
    setup.command = format!("while [ ! -e {} ]; do {bb} sleep 0.02; done", go.display());
    let mut started = setup.start();
    drop(started.connect());
    let e = monitor_client::resize(started.dir(), 10, 10).unwrap_err();
    assert!(e.to_string().contains("no terminal"), "{e}");
    std::fs::write(&go, "").unwrap();
    started.finish();
}
