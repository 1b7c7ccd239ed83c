//! `berth attach` to a running container: its output here, our stdin to it when it was
//! created with -i (our EOF closes its stdin), its exit status ours.

mod container_support;
use container_support::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn attach_cmd(root: &Root, args: &[&str]) -> Command {
    let mut c = Command::new(BERTH);
    c.arg("--root").arg(root.path()).arg("attach").args(args);
    if let Some(d) = monitor_dir_for_path() {
        c.env(
            "PATH",
            format!(
                "{}:{}",
                d.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    }
    c
}

#[test]
fn attach_sends_stdin_and_returns_the_exit_status() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "-i",
            IMAGE,
            "sh",
            "-c",
            "read x; echo got $x; echo warn >&2; exit 3",
        ])
        .trim()
        .to_string();
    let mut child = attach_cmd(&root, &[&id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "got hello\n");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "warn\n");
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn attach_stdin_eof_closes_the_containers_stdin() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", "-i", IMAGE, "sh", "-c", "cat; echo eof-seen"])
        .trim()
        .to_string();
    let o = attach_cmd(&root, &[&id])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "eof-seen\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn attach_to_a_stopped_container_is_refused() {
    let root = Root::new();
    let id = root.ok(&["run", "-d", IMAGE, "true"]).trim().to_string();
    root.ok(&["wait", &id]);
    let o = attach_cmd(&root, &[&id]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("You cannot attach to a stopped container, start it first"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn signals_to_attach_reach_the_container() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            IMAGE,
            "sh",
            "-c",
            "trap 'echo got-term; exit 7' TERM; echo ready; while true; do sleep 0.05; done",
        ])
        .trim()
        .to_string();
    let log = root.path().join(format!("containers/{id}/{id}-json.log"));
    eventually("the container to be ready", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("ready")
    });
    let child = attach_cmd(&root, &[&id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Signal once berth is connected to the monitor (it blocks the proxied signals before).
    let pid = child.id() as i32;
    eventually("attach to connect", || {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| {
                d.flatten().any(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                })
            })
            .unwrap_or(false)
    });
    // And until the monitor holds the accepted connection besides its listener (output it
    // reads before then only reaches the log).
    let monitor = monitor_of(&id);
    eventually("the monitor to accept", || {
        std::fs::read_dir(format!("/proc/{monitor}/fd"))
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        std::fs::read_link(e.path())
                            .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                    })
                    .count()
                    >= 2
            })
            .unwrap_or(false)
    });
    // SAFETY: kill takes no pointers.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "got-term\n");
    assert_eq!(o.status.code(), Some(7));
}
