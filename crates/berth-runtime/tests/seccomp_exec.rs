//! seccomp notify for `exec`: the exec'd process's notify fd reaches the listener, with that
//! process's host pid, through a socket the runtime connected on the host side.

mod common;
use common::*;
use serde_json::json;

#[test]
fn seccomp_notify_fd_of_an_exec_process_reaches_the_listener_with_its_pid() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("seccomp.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let b = Bundle::with(&["sleep", "30"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": sock,
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]});
    });
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let (init_state, _init_fd) = receive_notify(&listener);
    assert_eq!(init_state["pid"], b.state()["pid"]);
    let pidfile = b.path().join("exec.pid");
    ok(&b.rt(&[
        "exec",
        "--detach",
        "--pid-file",
        pidfile.to_str().unwrap(),
        &b.id,
        "sh",
        "-c",
        "mkdir /tmp/x",
    ]));
    let (st, exec_fd) = receive_notify(&listener);
    let pid: i64 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(st["pid"], pid, "the exec process's host pid: {st}");
    assert_eq!(st["state"]["id"], b.id.as_str(), "{st}");
    assert_ne!(st["pid"], init_state["pid"]);
    // Closing the notify fd lets the blocked mkdir fail, so the exec process ends.
    drop(exec_fd);
}
