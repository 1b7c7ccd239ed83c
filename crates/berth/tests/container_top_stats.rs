//! Looking into running containers: `top` (the host's ps, filtered to the container's
//! cgroup), `stats` (docker's table from cgroup figures), `port` (nothing published yet).

mod container_support;
use container_support::*;
use std::process::{Command, Stdio};

fn run_d(root: &Root, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    root.ok(&all).trim().to_string()
}

#[test]
fn top_shows_the_containers_processes_with_ps_options() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--name",
            "tp",
            IMAGE,
            "sh",
            "-c",
            "sleep 1001 & sleep 1002; true",
        ],
    );
    // Both sleeps as processes of their own: the shell's own command line also names them.
    eventually("both sleeps", || {
        root.ok(&["top", "tp"])
            .lines()
            .filter(|l| l.ends_with(" sleep 1001") || l.ends_with(" sleep 1002"))
            .count()
            == 2
    });
    let out = root.ok(&["top", "tp"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("UID") && lines[0].contains("PID") && lines[0].ends_with("CMD"),
        "{out}"
    );
    assert_eq!(lines.len(), 4, "sh and two sleeps: {out}");
    assert!(out.contains("sleep 1001") && out.contains("sh -c"));
    // Nothing of the host (this test's own process) is listed.
    assert!(!out.contains("container_top_stats"));
    // ps options are passed through.
    let out = root.ok(&["container", "top", &id[..12], "-o", "pid,comm"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].split_whitespace().eq(["PID", "COMMAND"]), "{out}");
    assert_eq!(lines.len(), 4);
    // Not running: docker's error and 1.
    root.ok(&["stop", "-t", "0", "tp"]);
    let o = root.berth(&["top", "tp"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
    let o = root.berth(&["top", "nosuch"]);
    assert!(stderr(&o).contains("No such container: nosuch"));
}

#[test]
fn stats_no_stream_prints_dockers_table_from_the_cgroup() {
    let root = Root::new();
    let busy = run_d(
        &root,
        &[
            "--name",
            "busy",
            "--network",
            "none",
            "-m",
            "64m",
            IMAGE,
            "sh",
            "-c",
            "while :; do :; done",
        ],
    );
    let idle = run_d(&root, &["--name", "idle", IMAGE, "sleep", "1000"]);
    let stopped = root
        .ok(&["create", "--name", "off", IMAGE, "true"])
        .trim()
        .to_string();
    let out = root.ok(&["stats", "--no-stream"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0]
            .split("  ")
            .filter(|c| !c.is_empty())
            .map(str::trim)
            .eq([
                "CONTAINER ID",
                "NAME",
                "CPU %",
                "MEM USAGE / LIMIT",
                "MEM %",
                "NET I/O",
                "BLOCK I/O",
                "PIDS"
            ]),
        "{out}"
    );
    assert_eq!(lines.len(), 3, "running containers only: {out}");
    let line = |name: &str| lines.iter().find(|l| l.contains(name)).unwrap().to_string();
    let b = line("busy");
    assert!(b.starts_with(&busy[..12]));
    let cells: Vec<&str> = b
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    // A spinning shell uses a good part of a CPU; its limit is the -m value.
    let cpu: f64 = cells[2].trim_end_matches('%').parse().unwrap();
    assert!(cpu > 10.0, "{b}");
    assert!(cells[3].ends_with("/ 64MiB"), "{b}");
    // --network none: no interface but lo.
    assert_eq!(cells[5], "0B / 0B");
    assert_eq!(cells[7], "1");
    let i = line("idle");
    assert!(i.starts_with(&idle[..12]));
    assert!(i.contains("0.00%"), "{i}");

    // -a adds the stopped one with zeros; --no-trunc full IDs; a template.
    let out = root.ok(&["stats", "--no-stream", "-a", "--no-trunc"]);
    assert!(out.contains(&stopped), "{out}");
    let out = root.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.PIDs}}",
        "idle",
        "off",
    ]);
    assert_eq!(out, "idle 1\noff 0\n");
    // The host's network is not the container's: no traffic counted.
    run_d(
        &root,
        &[
            "--name",
            "hostnet",
            "--network",
            "host",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    let out = root.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.NetIO}}",
        "hostnet",
    ]);
    assert_eq!(out, "hostnet 0B / 0B\n");
    let o = root.berth(&["stats", "--no-stream", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No such container: nosuch"));
}

#[test]
fn stats_streams_until_interrupted() {
    let root = Root::new();
    run_d(&root, &["--name", "s1", IMAGE, "sleep", "1000"]);
    let mut c = Command::new(BERTH);
    c.arg("--root").arg(root.path()).args(["stats", "s1"]);
    let mut ch = as_foreground_job(&mut c)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = ch.stdout.take().unwrap();
    // Two redraws come (each starts by clearing the screen), then Ctrl-C ends it.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while seen.windows(4).filter(|w| w == b"\x1b[2J").count() < 2 {
        let n = std::io::Read::read(&mut out, &mut buf).unwrap();
        assert!(n > 0, "stats ended on its own");
        seen.extend_from_slice(&buf[..n]);
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(ch.id() as i32, libc::SIGINT) };
    let st = ch.wait().unwrap();
    assert!(!st.success());
    assert!(String::from_utf8_lossy(&seen).contains("s1"));
}

#[test]
fn port_lists_nothing_and_refuses_unpublished_ports() {
    let root = Root::new();
    run_d(&root, &["--name", "pp", IMAGE, "sleep", "1000"]);
    assert_eq!(root.ok(&["port", "pp"]), "");
    let o = root.berth(&["port", "pp", "80"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        "Error: No public port '80/tcp' published for pp"
    );
    let o = root.berth(&["container", "port", "pp", "53/udp"]);
    assert!(stderr(&o).contains("'53/udp'"));
    let o = root.berth(&["port", "nosuch"]);
    assert!(stderr(&o).contains("No such container: nosuch"));
}
