//! seccomp notify for `exec`: the exec'd process's notify fd reaches the listener, with that
//! process's host pid, through a socket the runtime connected on the host side.

mod common;
use common::*;
use serde_json::json;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn receive(listener: &std::os::unix::net::UnixListener) -> (serde_json::Value, OwnedFd) {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    listener.set_nonblocking(true).unwrap();
    let mut conn = None;
    assert!(
        eventually(|| {
            conn = listener.accept().ok().map(|(s, _)| s);
            conn.is_some()
        }),
        "nobody connected to the listener"
    );
    let conn = conn.unwrap();
    conn.set_nonblocking(false).unwrap();
    let mut buf = vec![0u8; 8192];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .unwrap();
    let n = msg.bytes;
    let fd = msg
        .cmsgs()
        .unwrap()
        .find_map(|c| match c {
            ControlMessageOwned::ScmRights(f) => f.first().copied(),
            _ => None,
        })
        .expect("no fd attached");
    // SAFETY: the fd was just received and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    (serde_json::from_slice(&buf[..n]).unwrap(), fd)
}

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
    let (init_state, _init_fd) = receive(&listener);
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
    let (st, exec_fd) = receive(&listener);
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
