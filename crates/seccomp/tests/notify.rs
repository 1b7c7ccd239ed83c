//! SCMP_ACT_NOTIFY: the listener fd from load() and its hand-off to the seccomp agent.

mod common;

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use berth_seccomp::{compile, send_notify_fd};
use common::{run_filtered_with_fd, seccomp, Outcome};
use libseccomp::{ScmpNotifReq, ScmpNotifResp, ScmpNotifRespFlags, ScmpSyscall};
use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use serde_json::json;

/// Value the parent makes the intercepted getpgid() return.
const ANSWER: i64 = 4242;

fn notify_getpgid(flags: serde_json::Value) -> berth_seccomp::Filter {
    compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/run/agent.sock",
        "flags": flags,
        "syscalls": [{ "names": ["getpgid"], "action": "SCMP_ACT_NOTIFY" }]
    })))
    .expect("compile")
}

fn send_fd(sock: &OwnedFd, fd: RawFd) -> nix::Result<usize> {
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(b"x")],
        &[ControlMessage::ScmRights(&[fd])],
        MsgFlags::empty(),
        None,
    )
}

/// Receive one message; returns its bytes and the first fd passed with it.
fn recv_with_fd(sock: RawFd, buf: &mut [u8]) -> (usize, Option<OwnedFd>) {
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)
        .expect("recvmsg");
    let fd = msg.cmsgs().expect("cmsgs").find_map(|c| match c {
        // SAFETY: SCM_RIGHTS installed this fd in our table just now; we are its only owner.
        ControlMessageOwned::ScmRights(fds) => {
            fds.first().map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) })
        }
        _ => None,
    });
    (msg.bytes, fd)
}

#[test]
fn notify_fd_is_returned_and_receives_events() {
    let filter = notify_getpgid(json!([]));
    assert!(filter.wants_notify());
    let (parent_sock, child_sock) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .unwrap();

    let agent = std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        let (_, fd) = recv_with_fd(parent_sock.as_raw_fd(), &mut byte);
        let fd = fd.expect("child sent the notify fd");
        let mut pfd = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        assert_eq!(
            poll(&mut pfd, 5000u16).expect("poll"),
            1,
            "no notification within 5s"
        );
        let req = ScmpNotifReq::receive(fd.as_raw_fd()).expect("receive notification");
        assert_eq!(req.data.syscall, ScmpSyscall::from_name("getpgid").unwrap());
        ScmpNotifResp::new_val(req.id, ANSWER, ScmpNotifRespFlags::empty())
            .respond(fd.as_raw_fd())
            .expect("respond");
    });

    let outcome = run_filtered_with_fd(filter, move |fd| {
        let Some(fd) = fd else { return 10 };
        if send_fd(&child_sock, fd.as_raw_fd()).is_err() {
            return 11;
        }
        // Blocks until the agent answers.
        match nix::unistd::getpgid(None) {
            Ok(pgid) if i64::from(pgid.as_raw()) == ANSWER => 0,
            _ => 12,
        }
    });
    assert_eq!(outcome, Outcome::Exited(0));
    agent.join().expect("agent thread");
}

#[test]
fn wait_killable_recv_flag_loads_with_a_listener() {
    let filter = notify_getpgid(json!(["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]));
    let outcome = run_filtered_with_fd(filter, |fd| i32::from(fd.is_none()));
    assert_eq!(outcome, Outcome::Exited(0));
}

#[test]
fn filters_without_notify_rules_return_no_fd() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "syscalls": [{ "names": ["getpgid"], "action": "SCMP_ACT_ERRNO" }]
    })))
    .unwrap();
    assert!(!filter.wants_notify());
    let outcome = run_filtered_with_fd(filter, |fd| i32::from(fd.is_some()));
    assert_eq!(outcome, Outcome::Exited(0));
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "berth-seccomp-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Listen on a socket in a temp dir, run `send_notify_fd` with a pipe's write end and
/// return the JSON the listener read and the fd it received.
fn receive_from_runtime(metadata: Option<&'static str>) -> (serde_json::Value, OwnedFd, OwnedFd) {
    let dir = TempDir::new("listener");
    let path = dir.0.join("agent.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let (pipe_read, pipe_write) = nix::unistd::pipe().unwrap();

    let state = json!({ "ociVersion": "1.2.0", "id": "ctr", "status": "creating", "pid": 4321, "bundle": "/b" });
    let sender = std::thread::spawn(move || {
        send_notify_fd(&path, metadata, 4321, &state, pipe_write.as_fd()).expect("send_notify_fd");
    });

    let (mut conn, _) = listener.accept().unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let (n, fd) = recv_with_fd(conn.as_raw_fd(), &mut buf);
    buf.truncate(n);
    conn.read_to_end(&mut buf).unwrap();
    sender.join().unwrap();
    let json = serde_json::from_slice(&buf).expect("agent receives valid JSON");
    (json, fd.expect("agent receives an fd"), pipe_read)
}

#[test]
fn send_notify_fd_passes_fd_and_state() {
    let (msg, fd, pipe_read) = receive_from_runtime(Some("MKNOD=/dev/null"));
    assert_eq!(msg["ociVersion"], "1.2.0");
    assert_eq!(msg["fds"], json!(["seccompFd"]));
    assert_eq!(msg["pid"], 4321);
    assert_eq!(msg["metadata"], "MKNOD=/dev/null");
    assert_eq!(msg["state"]["id"], "ctr");
    assert_eq!(msg["state"]["status"], "creating");

    // The received fd is the very pipe write end that was sent.
    std::fs::File::from(fd).write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    std::fs::File::from(pipe_read).read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
}

#[test]
fn send_notify_fd_omits_absent_metadata() {
    let (msg, _, _) = receive_from_runtime(None);
    assert!(msg.get("metadata").is_none(), "{msg}");
}

#[test]
fn send_notify_fd_names_the_path_when_nobody_listens() {
    let dir = TempDir::new("nolistener");
    let path = dir.0.join("missing.sock");
    let (_, w) = nix::unistd::pipe().unwrap();
    let err = send_notify_fd(&path, None, 1, &json!({}), w.as_fd()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(path.to_str().unwrap()) && msg.contains("connect"),
        "{msg}"
    );
}
