//! The docker CLI's commands that look into a container through `berth serve`: cp both
//! ways, diff, export, top, stats, events.

mod common;
use common::*;

#[test]
fn cp_both_ways_diff_and_export() {
    let s = Server::start();
    s.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    let f = s.dir.path().join("in.txt");
    std::fs::write(&f, b"hello\x00binary\xff").unwrap();
    s.ok(&["cp", f.to_str().unwrap(), "box:/etc/"]);
    let out = s.docker(&["exec", "box", "cat", "/etc/in.txt"]);
    assert_eq!(out.stdout, b"hello\x00binary\xff");
    let back = s.dir.path().join("back.txt");
    s.ok(&["cp", "box:/etc/in.txt", back.to_str().unwrap()]);
    assert_eq!(std::fs::read(&back).unwrap(), b"hello\x00binary\xff");
    // A directory, whole.
    let d = s.dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    s.ok(&["cp", "box:/etc", d.to_str().unwrap()]);
    assert!(d.join("etc/passwd").is_file());
    let o = s.docker(&["cp", "box:/no/such", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("No such container:path"),
        "{}",
        stderr(&o)
    );
    let diff = s.ok(&["diff", "box"]);
    assert!(diff.contains("A /etc/in.txt"), "{diff}");
    let tar = s.cli(DOCKER).args(["export", "box"]).output().unwrap();
    assert!(tar.status.success());
    let list = std::process::Command::new("tar")
        .arg("-t")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&tar.stdout)?;
            c.wait_with_output()
        })
        .unwrap();
    let names = String::from_utf8_lossy(&list.stdout);
    assert!(
        names
            .lines()
            .any(|l| l.trim_start_matches("./") == "etc/in.txt"),
        "{names}"
    );
    s.ok(&["rm", "-f", "box"]);
}

#[test]
fn top_stats_and_events() {
    let s = Server::start();
    s.ok(&["run", "-d", "--name", "busy", "busybox", "sleep", "1000"]);
    let top = s.ok(&["top", "busy"]);
    assert!(top.lines().next().unwrap().contains("PID"), "{top}");
    assert!(top.contains("sleep 1000"), "{top}");
    let stats = s.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.PIDs}}",
        "busy",
    ]);
    assert_eq!(stats, "busy 1\n");
    s.ok(&["rm", "-f", "busy"]);
    let until = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1)
    .to_string();
    let ev = s.ok(&[
        "events",
        "--since",
        "5m",
        "--until",
        &until,
        "--filter",
        "container=busy",
        "--format",
        "{{.Action}}",
    ]);
    let actions: Vec<&str> = ev.lines().collect();
    for a in ["create", "start", "kill", "die", "destroy"] {
        assert!(actions.contains(&a), "{a} missing: {actions:?}");
    }
}
