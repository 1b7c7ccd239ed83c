//! OCI runtime-spec 1.2, config.md `hooks` (when each runs, in which namespace, with the state
//! on stdin; timeouts; failures), `annotations`, and `process.terminal` through runc's
//! --console-socket. One test per MUST, named after the behaviour.

mod common;
use common::*;
use serde_json::{json, Value};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

/// A hook that stores its stdin (the state) in `<dir>/<name>.json` and its uts namespace in
/// `<dir>/<name>.ns`.
fn recorder(dir: &Path, name: &str) -> Value {
    let d = dir.display();
    json!({"path": "/bin/sh", "args": ["sh", "-c",
        format!("cat > {d}/{name}.json; readlink /proc/self/ns/uts > {d}/{name}.ns")]})
}

fn recorded(dir: &Path, name: &str) -> Option<(Value, String)> {
    let state = std::fs::read(dir.join(format!("{name}.json"))).ok()?;
    // The shell makes the file before readlink fills it: only a whole line counts.
    let ns = std::fs::read_to_string(dir.join(format!("{name}.ns")))
        .ok()
        .filter(|n| n.ends_with('\n'))?;
    Some((
        serde_json::from_slice(&state).unwrap_or_else(|e| panic!("{name}: bad state: {e}")),
        ns.trim().to_string(),
    ))
}

#[test]
fn every_hook_runs_at_its_step_with_the_state_on_stdin() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let b = Bundle::with(&["sleep", "30"], |c| {
        c["annotations"] = json!({"org.example.hooked": "yes"});
        c["hooks"] = json!({
            "prestart": [recorder(o, "prestart")],
            "createRuntime": [recorder(o, "createRuntime")],
            "createContainer": [recorder(o, "createContainer")],
            // Resolved and run inside the container: write under its /tmp.
            "startContainer": [recorder(Path::new("/tmp"), "startContainer")],
            "poststart": [recorder(o, "poststart")],
            "poststop": [recorder(o, "poststop")],
        });
    });
    let host_uts = ns_link("self", "uts");
    let check = |st: &Value, name: &str, status: &str| {
        assert_eq!(st["id"], b.id.as_str(), "{name}: {st}");
        assert_eq!(st["status"], status, "{name}: {st}");
        assert_eq!(
            st["annotations"]["org.example.hooked"], "yes",
            "{name}: {st}"
        );
        assert_eq!(
            Path::new(st["bundle"].as_str().unwrap()),
            std::fs::canonicalize(b.path()).unwrap(),
            "{name}"
        );
    };

    ok(&b.create());
    let pid = b.state()["pid"].as_i64().unwrap();
    let ctr_uts = ns_link(&pid.to_string(), "uts");
    for (name, in_container) in [
        ("prestart", false),
        ("createRuntime", false),
        ("createContainer", true),
    ] {
        let (st, ns) = recorded(o, name).unwrap_or_else(|| panic!("{name} did not run"));
        check(&st, name, "creating");
        assert_eq!(st["pid"], pid, "{name}: {st}");
        let want = if in_container { &ctr_uts } else { &host_uts };
        assert_eq!(&ns, want, "{name} ran in the wrong namespace");
    }
    let start_tmp = b.rootfs().join("tmp");
    assert!(
        recorded(&start_tmp, "startContainer").is_none(),
        "startContainer ran at create"
    );
    assert!(
        recorded(o, "poststart").is_none(),
        "poststart ran at create"
    );

    ok(&b.rt(&["start", &b.id]));
    let (st, ns) = recorded(o, "poststart").expect("poststart did not run before start returned");
    check(&st, "poststart", "running");
    assert_eq!(st["pid"], pid);
    assert_eq!(ns, host_uts, "poststart ran in the wrong namespace");
    assert!(eventually(
        || recorded(&start_tmp, "startContainer").is_some()
    ));
    let (st, ns) = recorded(&start_tmp, "startContainer").unwrap();
    check(&st, "startContainer", "created");
    assert_eq!(st["pid"], pid);
    assert_eq!(ns, ctr_uts, "startContainer ran in the wrong namespace");

    ok(&b.rt(&["kill", &b.id, "KILL"]));
    assert!(eventually(|| b.status() == "stopped"));
    assert!(
        recorded(o, "poststop").is_none(),
        "poststop ran before delete"
    );
    ok(&b.rt(&["delete", &b.id]));
    let (st, ns) = recorded(o, "poststop").expect("poststop did not run on delete");
    check(&st, "poststop", "stopped");
    assert_eq!(ns, host_uts);
}

#[test]
fn hook_gets_its_args_and_env_and_nothing_of_the_runtime_env() {
    let out = tempfile::tempdir().unwrap();
    let marker = out.path().join("m");
    let b = Bundle::with(&["true"], |c| {
        c["hooks"] = json!({"createRuntime": [{"path": "/bin/sh",
            "args": ["custom-argv0", "-c", format!("echo \"$0\" > {m}; /usr/bin/env >> {m}", m = marker.display())],
            "env": ["HOOKVAR=from-config"]}]});
    });
    let mut c = b.cmd();
    c.env("BERTH_HOST_ONLY", "leak").args([
        "create",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]);
    ok(&capture(&mut c));
    let got = std::fs::read_to_string(&marker).unwrap();
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[0], "custom-argv0", "{got}");
    assert!(lines.contains(&"HOOKVAR=from-config"), "{got}");
    assert!(
        !got.contains("BERTH_HOST_ONLY"),
        "runtime env leaked into hook: {got}"
    );
}

#[test]
fn hook_timeout_kills_the_hook_and_fails_create() {
    let out = tempfile::tempdir().unwrap();
    let pidfile = out.path().join("hook.pid");
    let b = Bundle::with(&["true"], |c| {
        c["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "timeout": 1,
            "args": ["sh", "-c", format!("echo $$ > {}; exec sleep 30", pidfile.display())]}]});
    });
    let t = Instant::now();
    let o = b.create();
    assert!(!o.status.success(), "create succeeded with a hung hook");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "timeout not enforced: {:?}",
        t.elapsed()
    );
    assert!(stderr(&o).contains("createRuntime"), "{}", stderr(&o));
    assert!(stderr(&o).contains("timed out"), "{}", stderr(&o));
    let hook_pid = std::fs::read_to_string(&pidfile).unwrap();
    let alive = std::fs::read_to_string(format!("/proc/{}/cmdline", hook_pid.trim()))
        .map(|c| c.contains("sleep"))
        .unwrap_or(false);
    assert!(!alive, "hook still running after its timeout");
    assert!(!b.root.join(&b.id).exists(), "state left behind");
    assert!(cgroup_dirs(&b.id).is_empty(), "cgroup left behind");
}

#[test]
fn prestart_hook_failure_fails_create_and_leaves_nothing() {
    let b = Bundle::with(&["true"], |c| {
        c["hooks"] = json!({"prestart": [{"path": "/bin/false"}]})
    });
    let o = b.create();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("prestart"), "{}", stderr(&o));
    assert!(!b.root.join(&b.id).exists(), "state left behind");
    assert!(cgroup_dirs(&b.id).is_empty(), "cgroup left behind");
}

#[test]
fn start_container_hook_failure_stops_the_container_before_the_user_process() {
    let b = Bundle::with(&["touch", "/user-process-ran"], |c| {
        c["hooks"] = json!({"startContainer": [{"path": "/bin/false"}]})
    });
    ok(&b.create());
    let _ = b.rt(&["start", &b.id]);
    assert!(
        eventually(|| b.status() == "stopped"),
        "container kept running"
    );
    assert!(!b.rootfs().join("user-process-ran").exists());
}

#[test]
fn poststart_hook_failure_warns_and_the_remaining_hooks_still_run() {
    let out = tempfile::tempdir().unwrap();
    let b = Bundle::with(
        &["sleep", "30"],
        |c| {
            c["hooks"] =
                json!({"poststart": [{"path": "/bin/false"}, recorder(out.path(), "second")]})
        },
    );
    ok(&b.create());
    let o = b.rt(&["start", &b.id]);
    assert!(o.status.success(), "start failed: {}", stderr(&o));
    assert!(
        stderr(&o).contains("poststart"),
        "no warning: {}",
        stderr(&o)
    );
    assert!(
        recorded(out.path(), "second").is_some(),
        "second poststart hook skipped"
    );
    assert_eq!(b.status(), "running");
}

#[test]
fn poststop_hook_failure_warns_and_the_remaining_hooks_still_run() {
    let out = tempfile::tempdir().unwrap();
    let b =
        Bundle::with(
            &["true"],
            |c| {
                c["hooks"] =
                    json!({"poststop": [{"path": "/bin/false"}, recorder(out.path(), "second")]})
            },
        );
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    assert!(eventually(|| b.status() == "stopped"));
    let o = b.rt(&["delete", &b.id]);
    assert!(o.status.success(), "delete failed: {}", stderr(&o));
    assert!(
        stderr(&o).contains("poststop"),
        "no warning: {}",
        stderr(&o)
    );
    assert!(
        recorded(out.path(), "second").is_some(),
        "second poststop hook skipped"
    );
    assert!(!b.root.join(&b.id).exists());
}

#[test]
fn poststop_hook_runs_when_the_container_is_deleted() {
    let out = tempfile::tempdir().unwrap();
    let b = Bundle::with(&["true"], |c| {
        c["hooks"] = json!({"poststop": [recorder(out.path(), "poststop")]})
    });
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    assert!(eventually(|| b.status() == "stopped"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        recorded(out.path(), "poststop").is_none(),
        "ran before delete"
    );
    ok(&b.rt(&["delete", &b.id]));
    let (st, _) = recorded(out.path(), "poststop").expect("poststop did not run");
    assert_eq!(st["id"], b.id.as_str());
    assert_eq!(st["status"], "stopped");
}

#[test]
fn annotations_are_kept_in_the_state() {
    let b = Bundle::with(&["sleep", "30"], |c| {
        c["annotations"] = json!({"org.example.a": "1", "org.example.b": "two words"})
    });
    ok(&b.create());
    let st = b.state();
    assert_eq!(st["annotations"]["org.example.a"], "1");
    assert_eq!(st["annotations"]["org.example.b"], "two words");
}

/// Receive one fd sent with SCM_RIGHTS.
fn recv_fd(s: &std::os::unix::net::UnixStream) -> OwnedFd {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut buf = [0u8; 256];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(s.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty())
        .expect("recvmsg on the console socket");
    for c in msg.cmsgs().expect("control messages") {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel just installed this fd for us; nothing else owns it.
            return unsafe { OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("no fd received on the console socket");
}

/// Everything the pty master yields until the slave side is gone (EIO) or 10 s pass.
fn drain(master: &OwnedFd) -> String {
    use nix::poll::{poll, PollFd, PollFlags};
    use std::os::fd::AsFd;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, 200u16).unwrap_or(0) == 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        match nix::unistd::read(master, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).replace('\r', "")
}

#[test]
fn terminal_is_a_pty_whose_master_goes_to_the_console_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo TTY_STDIO; stty size; \
             [ \"$(stat -c %t:%T /dev/console)\" = \"$(stat -L -c %t:%T /proc/self/fd/0)\" ] && echo CONSOLE_IS_PTY",
        ],
        |c| {
            c["process"]["terminal"] = json!(true);
            c["process"]["consoleSize"] = json!({"height": 30, "width": 100});
        },
    );
    ok(&b.rt(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]));
    let (stream, _) = listener.accept().unwrap();
    let master = recv_fd(&stream);
    ok(&b.rt(&["start", &b.id]));
    let out = drain(&master);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("/dev/pts/")),
        "{out}"
    );
    assert!(
        lines.contains(&"TTY_STDIO"),
        "stdio is not the terminal: {out}"
    );
    assert!(lines.contains(&"30 100"), "console size not applied: {out}");
    assert!(
        lines.contains(&"CONSOLE_IS_PTY"),
        "/dev/console is not the pty: {out}"
    );
}

#[test]
fn hooks_of_one_kind_run_in_the_listed_order() {
    let out = tempfile::tempdir().unwrap();
    let log = out.path().join("order");
    let step = |n: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("echo {n} >> {}", log.display())]});
    let b = Bundle::with(&["true"], |c| {
        c["hooks"] = json!({"createRuntime": [step("1"), step("2"), step("3")]})
    });
    ok(&b.create());
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "1\n2\n3\n");
}

#[test]
fn start_container_hook_runs_before_the_user_process() {
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "[ -e /tmp/hook-ran ] && echo SAW_HOOK > /tmp/result",
        ],
        |c| {
            c["hooks"] = json!({"startContainer": [{"path": "/bin/touch",
                "args": ["touch", "/tmp/hook-ran"]}]})
        },
    );
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    assert!(eventually(|| b.status() == "stopped"));
    assert_eq!(
        std::fs::read_to_string(b.rootfs().join("tmp/result")).unwrap_or_default(),
        "SAW_HOOK\n"
    );
}
