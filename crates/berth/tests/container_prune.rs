//! `berth container prune` (stopped containers go, running ones stay, docker's output and
//! prompt, `--filter until=`/`label=`), and the `container` group reaching every container
//! command under docker's names.

mod container_support;
use container_support::*;
use std::io::Write;
use std::process::Stdio;

fn exited(root: &Root, extra: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--network", "none"];
    args.extend(extra);
    args.extend([IMAGE, "true"]);
    let id = root.ok(&args).trim().to_string();
    eventually("the container to exit", || {
        root.inspect(&id)["State"]["Status"] == "exited"
    });
    id
}

fn running(root: &Root) -> String {
    root.ok(&["run", "-d", "--network", "none", IMAGE, "sleep", "600"])
        .trim()
        .to_string()
}

/// `berth container prune ARGS` with `answer` on its standard input.
fn prune_answering(root: &Root, args: &[&str], answer: &str) -> std::process::Output {
    let mut child = berth_command()
        .arg("--root")
        .arg(root.path())
        .args(["container", "prune"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn prune_removes_stopped_containers_and_keeps_running_ones() {
    let root = Root::new();
    let up = running(&root);
    let done = exited(&root, &[]);
    let made = root
        .ok(&["create", "--network", "none", IMAGE, "true"])
        .trim()
        .to_string();
    let out = root.ok(&["container", "prune", "-f"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Deleted Containers:", "{out}");
    let mut deleted: Vec<&str> = lines[1..3].to_vec();
    deleted.sort();
    let mut want = vec![done.as_str(), made.as_str()];
    want.sort();
    assert_eq!(deleted, want, "{out}");
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("Total reclaimed space: "), "{out}");
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(root.ids(), vec![up.as_str()]);
    assert_nothing_left(&root, &done);
    // Nothing left to prune: only the total.
    assert_eq!(
        root.ok(&["container", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    // Each removal is a destroy event, and the prune is one too.
    let ev = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "event=destroy",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(ev.lines().count(), 2);
    root.ok(&["rm", "-f", &up]);
}

#[test]
fn prune_asks_first_and_a_no_keeps_everything() {
    let root = Root::new();
    let done = exited(&root, &[]);
    let o = prune_answering(&root, &[], "n\n");
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("WARNING! This will remove all stopped containers.")
            && out.contains("Are you sure you want to continue? [y/N]"),
        "{out}"
    );
    assert_eq!(root.ids(), vec![done.as_str()]);
    let o = prune_answering(&root, &[], "y\n");
    assert!(String::from_utf8_lossy(&o.stdout).contains(&done));
    assert!(root.ids().is_empty());
}

#[test]
fn prune_filters_by_label_and_until() {
    let root = Root::new();
    let a = exited(&root, &["--label", "tier=a"]);
    let b = exited(&root, &["--label", "tier=b"]);
    let plain = exited(&root, &[]);
    // Created less than an hour ago: kept.
    let out = root.ok(&["container", "prune", "-f", "--filter", "until=1h"]);
    assert!(!out.contains("Deleted"), "{out}");
    assert_eq!(root.ids().len(), 3);
    let out = root.ok(&["container", "prune", "-f", "--filter", "label=tier=a"]);
    assert!(
        out.contains(&a) && !out.contains(&b) && !out.contains(&plain),
        "{out}"
    );
    let out = root.ok(&["container", "prune", "-f", "--filter", "label!=tier"]);
    assert!(out.contains(&plain) && !out.contains(&b), "{out}");
    let out = root.ok(&[
        "container",
        "prune",
        "-f",
        "--filter",
        "label=tier",
        "--filter",
        "until=0s",
    ]);
    assert!(out.contains(&b), "{out}");
    assert!(root.ids().is_empty());
    let bad = root.berth(&["container", "prune", "-f", "--filter", "colour=red"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("Invalid filter 'colour'"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn the_container_group_names_every_container_command() {
    let root = Root::new();
    let help = root.ok(&["container", "--help"]);
    for cmd in [
        "run", "create", "start", "stop", "restart", "kill", "rm", "ls", "logs", "attach", "exec",
        "inspect", "wait", "rename", "pause", "unpause", "top", "stats", "port", "diff", "commit",
        "export", "cp", "update", "prune",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "container {cmd} missing from:\n{help}"
        );
    }
    let id = root
        .ok(&[
            "container",
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "grp",
            IMAGE,
            "sleep",
            "600",
        ])
        .trim()
        .to_string();
    assert_eq!(root.ok(&["container", "ls", "-q", "--no-trunc"]).trim(), id);
    assert_eq!(root.ok(&["container", "ps", "-q", "--no-trunc"]).trim(), id);
    assert!(root.ok(&["container", "list", "-a"]).contains("grp"));
    let v: serde_json::Value =
        serde_json::from_str(&root.ok(&["container", "inspect", "grp"])).unwrap();
    assert_eq!(v[0]["Id"], id.as_str());
    assert_eq!(root.ok(&["container", "exec", "grp", "echo", "hi"]), "hi\n");
    root.ok(&["container", "update", "--pids-limit", "20", "grp"]);
    assert_eq!(root.inspect(&id)["HostConfig"]["PidsLimit"], 20);
    root.ok(&["container", "stop", "-t", "1", "grp"]);
    assert_eq!(root.ok(&["container", "wait", "grp"]).trim(), "137");
    root.ok(&["container", "rm", "grp"]);
    assert!(root.ids().is_empty());
}
