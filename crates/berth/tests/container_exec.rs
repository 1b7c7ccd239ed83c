//! `berth exec`: a process in a running container with the container's environment and
//! user, the exec's overrides, our stdio (or a pty with -t), and its status as ours; 126/127
//! when it cannot be run or is not there; -d returns at once; a stopped container is refused.

mod container_support;
mod pty_support;
use container_support::*;
use pty_support::Session;
use std::io::Write;
use std::process::{Command, Stdio};

fn sleeper(root: &Root) -> String {
    root.ok(&["run", "-d", "-e", "FROM_RUN=r", IMAGE, "sleep", "1000"])
        .trim()
        .to_string()
}

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
}

#[test]
fn exec_has_the_containers_env_and_the_overrides() {
    let root = Root::new();
    let id = sleeper(&root);
    let script = "echo $FROM_RUN $A $B; pwd; id -u; id -g";
    let out = root.ok(&["exec", &id, "sh", "-c", script]);
    assert_eq!(out, "r\n/\n0\n0\n");
    let envs = root.path().join("env.list");
    std::fs::write(&envs, "B=from-file\nA=overridden\n").unwrap();
    let out = root.ok(&[
        "exec",
        "--env-file",
        envs.to_str().unwrap(),
        "-e",
        "A=a",
        "-w",
        "/etc",
        "-u",
        "nobody",
        &id,
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(out, "r a from-file\n/etc\n65534\n65534\n");
    let out = root.ok(&["exec", "-u", "65534:0", &id, "sh", "-c", "id -u; id -g"]);
    assert_eq!(out, "65534\n0\n");
    let bad = root.berth(&["exec", "-u", "nosuchuser", &id, "true"]);
    assert_eq!(code(&bad), Some(126));
    assert!(
        stderr(&bad).contains("unable to find user nosuchuser"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn exec_status_is_the_commands_and_126_127_as_docker() {
    let root = Root::new();
    let id = sleeper(&root);
    assert_eq!(
        code(&root.berth(&["exec", &id, "sh", "-c", "exit 9"])),
        Some(9)
    );
    assert_eq!(
        code(&root.berth(&["exec", &id, "sh", "-c", "kill -TERM $$"])),
        Some(128 + 15)
    );
    let missing = root.berth(&["exec", &id, "nosuchcommand"]);
    assert_eq!(code(&missing), Some(127));
    assert!(
        stderr(&missing).contains("executable file not found"),
        "{}",
        stderr(&missing)
    );
    let not_runnable = root.berth(&["exec", &id, "/etc"]);
    assert_eq!(code(&not_runnable), Some(126), "{}", stderr(&not_runnable));
}

#[test]
fn exec_i_passes_stdin_and_without_i_stdin_is_empty() {
    let root = Root::new();
    let id = sleeper(&root);
    let mut c = Command::new(BERTH);
    c.arg("--root")
        .arg(root.path())
        .args(["exec", "-i", &id, "sh", "-c", "cat; echo end"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\nend\n");

    // Without -i the command's stdin is /dev/null even when ours is open.
    let mut c = Command::new(BERTH);
    c.arg("--root")
        .arg(root.path())
        .args(["exec", &id, "sh", "-c", "cat; echo end"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let child = c.spawn().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "end\n");
}

#[test]
fn exec_d_returns_at_once_and_leaves_the_process_running() {
    let root = Root::new();
    let id = sleeper(&root);
    let out = root.berth(&[
        "exec",
        "-d",
        &id,
        "sh",
        "-c",
        "echo up > /mark; exec sleep 999",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    eventually("the detached process to run", || {
        root.berth(&["exec", &id, "cat", "/mark"]).stdout == b"up\n"
    });
    eventually("sleep 999 in ps", || {
        root.ok(&["exec", &id, "ps"]).contains("sleep 999")
    });

    // -dt: the process keeps its terminal (no hangup when berth is gone).
    let out = root.berth(&[
        "exec",
        "-dt",
        &id,
        "sh",
        "-c",
        "tty > /tty-name; exec sleep 998",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    eventually("the detached terminal process to run", || {
        String::from_utf8_lossy(&root.berth(&["exec", &id, "cat", "/tty-name"]).stdout)
            .starts_with("/dev/pts/")
    });
    eventually("sleep 998 in ps", || {
        root.ok(&["exec", &id, "ps"]).contains("sleep 998")
    });
}

#[test]
fn exec_in_a_container_that_is_not_running_is_refused() {
    let root = Root::new();
    let id = root
        .ok(&["create", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let out = root.berth(&["exec", &id, "true"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        stderr(&out).contains(&format!("container {id} is not running")),
        "{}",
        stderr(&out)
    );
    let out = root.berth(&["exec", "nosuchcontainer", "true"]);
    assert_eq!(code(&out), Some(1));
}

#[test]
fn exec_privileged_gets_every_capability() {
    let root = Root::new();
    let id = sleeper(&root);
    let caps = |extra: &[&str]| {
        let mut args = vec!["exec"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[&id, "grep", "CapEff", "/proc/self/status"]);
        root.ok(&args)
    };
    let plain = caps(&[]);
    let privileged = caps(&["--privileged"]);
    let bits = |s: &str| u64::from_str_radix(s.split_whitespace().nth(1).unwrap(), 16).unwrap();
    // docker's default set lacks CAP_SYS_ADMIN (21); --privileged has it and more.
    assert_eq!(bits(&plain) & (1 << 21), 0, "{plain}");
    assert_ne!(bits(&privileged) & (1 << 21), 0, "{privileged}");
    assert!(bits(&privileged).count_ones() > bits(&plain).count_ones());
}

#[test]
fn exec_it_gives_a_terminal_with_resizes_and_its_status() {
    let root = Root::new();
    let id = sleeper(&root);
    let mut s = Session::start(&root, &["exec", "-it", &id, "sh"]);
    s.send(b"tty\r");
    s.expect("/dev/pts/");
    s.send(b"stty size\r");
    s.expect("24 80");
    s.resize(40, 100);
    s.expect_size(40, 100);
    s.send(b"sh -c 'echo sta\"\"rted; sleep 1000'\r");
    s.expect("started");
    s.send(b"\x03");
    s.send(b"echo after$((1+1))\r");
    s.expect("after2");
    s.send(b"exit 4\r");
    let (status, text) = s.wait();
    assert_eq!(status, 4, "{text:?}");
    // The container goes on.
    assert_eq!(root.ok(&["exec", &id, "echo", "alive"]), "alive\n");
}

#[test]
fn exec_it_detach_keys_leave_the_process_running() {
    let root = Root::new();
    let id = sleeper(&root);
    let mut s = Session::start(&root, &["exec", "-it", &id, "sh"]);
    s.send(b"echo $$ > /shell-pid; echo wr\"\"ote\r");
    s.expect("wrote");
    s.send(b"\x10\x11");
    let (status, text) = s.wait();
    assert_eq!(status, 0, "{text:?}");
    assert!(text.contains("read escape sequence"), "{text:?}");
    let alive = root.berth(&["exec", &id, "sh", "-c", "kill -0 $(cat /shell-pid)"]);
    assert_eq!(code(&alive), Some(0), "{}", stderr(&alive));
}
