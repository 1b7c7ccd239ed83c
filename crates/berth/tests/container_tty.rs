//! `-t`: the container gets a real pty. Driven through the CLI on a pty the test holds (as a
//! user's terminal): raw mode lets Ctrl-C reach the container as a character, the window
//! size follows the outer terminal, ctrl-p ctrl-q detaches and leaves the container running,
//! and the container's status is berth's.

mod container_support;
mod pty_support;
use container_support::*;
use pty_support::Session;

fn running(root: &Root, name: &str) -> bool {
    let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", name])).unwrap();
    v[0]["State"]["Running"] == true
}

#[test]
fn run_it_gives_a_terminal_that_follows_resizes_and_passes_ctrl_c() {
    let root = Root::new();
    let mut s = Session::start(&root, &["run", "-it", "--name", "tt", IMAGE, "sh"]);
    s.send(b"tty\r");
    s.expect("/dev/pts/");
    s.send(b"stty size\r");
    s.expect("24 80");
    s.resize(33, 111);
    // The resize reaches the container through SIGWINCH and the monitor's `resize`.
    s.expect_size(33, 111);
    // Ctrl-C is a character for the container's terminal: it interrupts the foreground
    // command (once it runs: it has printed), the shell lives on.
    s.send(b"sh -c 'echo sta\"\"rted; sleep 1000'\r");
    s.expect("started");
    s.send(b"\x03");
    s.send(b"echo after$((1+1))\r");
    s.expect("after2");
    s.send(b"exit 5\r");
    let (code, text) = s.wait();
    assert_eq!(code, 5, "{text:?}");
}

#[test]
fn detach_keys_leave_the_container_running_and_attach_takes_it_back() {
    let root = Root::new();
    let mut s = Session::start(&root, &["run", "-it", "--name", "dd", IMAGE, "sh"]);
    s.send(b"echo one$((0+1))\r");
    s.expect("one1");
    s.send(b"\x10\x11");
    let (code, text) = s.wait();
    assert_eq!(code, 0, "{text:?}");
    assert!(text.contains("read escape sequence"), "{text:?}");
    assert!(running(&root, "dd"));

    // Other keys with --detach-keys; a ctrl-p alone goes to the container.
    let mut s = Session::start(&root, &["attach", "--detach-keys", "ctrl-a,x", "dd"]);
    s.send(b"echo two$((1+1))\r");
    s.expect("two2");
    s.send(b"\x01x");
    let (code, text) = s.wait();
    assert_eq!(code, 0, "{text:?}");
    assert!(running(&root, "dd"));

    let mut s = Session::start(&root, &["attach", "dd"]);
    s.send(b"tty\r");
    s.expect("/dev/pts/");
    s.send(b"exit 7\r");
    let (code, text) = s.wait();
    assert_eq!(code, 7, "{text:?}");
    eventually("the container to stop", || !running(&root, "dd"));
}

#[test]
fn start_ai_attaches_a_terminal_to_a_created_tty_container() {
    let root = Root::new();
    root.ok(&["create", "-it", "--name", "cc", IMAGE, "sh"]);
    let mut s = Session::start(&root, &["start", "-ai", "cc"]);
    s.send(b"tty\r");
    s.expect("/dev/pts/");
    s.send(b"exit 3\r");
    let (code, text) = s.wait();
    assert_eq!(code, 3, "{text:?}");
}

#[test]
fn run_t_without_a_terminal_still_shows_all_output_and_logs_it() {
    let root = Root::new();
    // berth's own stdio are pipes here: no raw mode, the container still gets a pty, and
    // its output (printed at once, before any attach) all arrives.
    let out = root.berth(&[
        "run",
        "-t",
        "--name",
        "nn",
        IMAGE,
        "sh",
        "-c",
        "tty; echo done; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("/dev/pts/0\r\ndone\r\n"), "{text:?}");
    let logs = root.ok(&["logs", "nn"]);
    assert!(logs.contains("done"), "{logs:?}");
}

#[test]
fn bad_detach_keys_are_refused() {
    let root = Root::new();
    let out = root.berth(&["run", "-t", "--detach-keys", "ctrl-", IMAGE, "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("invalid detach keys"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_restarted_tty_container_gets_a_new_terminal() {
    let root = Root::new();
    root.ok(&[
        "run",
        "-dt",
        "--name",
        "rr",
        "--restart",
        "on-failure:2",
        IMAGE,
        "sh",
        "-c",
        "tty; exit 3",
    ]);
    let inspect =
        || -> serde_json::Value { serde_json::from_str(&root.ok(&["inspect", "rr"])).unwrap() };
    eventually("two restarts and the last exit", || {
        let v = inspect();
        v[0]["RestartCount"] == 2 && v[0]["State"]["Status"] == "exited"
    });
    assert_eq!(inspect()[0]["State"]["ExitCode"], 3);
    let logs = root.ok(&["logs", "rr"]);
    assert_eq!(logs.matches("/dev/pts/").count(), 3, "{logs:?}");
}

#[test]
fn our_terminal_is_restored_after_exit_and_after_sigterm() {
    let root = Root::new();
    let mut s = Session::start(&root, &["run", "-it", "--name", "rw", IMAGE, "sh"]);
    s.send(b"tty\r");
    s.expect("/dev/pts/");
    assert!(!s.cooked(), "berth left the terminal cooked while attached");
    s.send(b"exit 0\r");
    let (code, text) = s.wait();
    assert_eq!(code, 0, "{text:?}");
    assert!(s.cooked(), "raw mode left after the exit");

    let mut s = Session::start(&root, &["run", "-it", "--name", "rx", IMAGE, "sh"]);
    s.send(b"tty\r");
    s.expect("/dev/pts/");
    assert!(!s.cooked());
    // SAFETY: kill(2) of the berth process this test started.
    assert_eq!(unsafe { libc::kill(s.pid(), libc::SIGTERM) }, 0);
    let (code, text) = s.wait();
    assert_eq!(code, 128 + libc::SIGTERM, "{text:?}");
    assert!(s.cooked(), "raw mode left after SIGTERM");
}
