//! `berth events`: the event log that every command and every container's monitor appends
//! to, read back with `--since`/`--until`, `--filter` and `--format`, and followed live.

mod container_support;
use container_support::*;
use serde_json::Value;
use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Every event of the root so far, as JSON objects (`--since 0 --until` now).
fn all_events(root: &Root, filters: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--format",
        "{{json .}}",
    ];
    for f in filters {
        args.extend(["--filter", f]);
    }
    root.ok(&args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["Action"].as_str().unwrap().to_string())
        .collect()
}

/// `T` as Unix seconds with nine decimals (one of docker's `--since` forms).
fn unix(nanos: i64) -> String {
    format!("{}.{:09}", nanos / 1_000_000_000, nanos % 1_000_000_000)
}

fn wait_exited(root: &Root, id: &str) {
    eventually("the container to exit", || {
        root.inspect(id)["State"]["Status"] == "exited"
    });
}

#[test]
fn a_containers_life_gives_create_start_die_destroy_in_order() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "life",
            "--label",
            "tier=web",
            IMAGE,
            "sh",
            "-c",
            "exit 3",
        ])
        .trim()
        .to_string();
    wait_exited(&root, &id);
    root.ok(&["rm", &id]);
    let evs = all_events(&root, &[&format!("container={id}")]);
    assert_eq!(
        actions(&evs),
        ["create", "start", "die", "destroy"],
        "{evs:?}"
    );
    for e in &evs {
        assert_eq!(e["Type"], "container");
        assert_eq!(e["Actor"]["ID"], id.as_str());
        assert_eq!(e["Actor"]["Attributes"]["name"], "life");
        assert_eq!(e["Actor"]["Attributes"]["image"], IMAGE);
        assert_eq!(e["Actor"]["Attributes"]["tier"], "web");
        assert_eq!(e["scope"], "local");
        assert_eq!(e["status"], e["Action"]);
        assert_eq!(
            e["time"].as_i64().unwrap(),
            e["timeNano"].as_i64().unwrap() / 1_000_000_000
        );
    }
    assert_eq!(evs[2]["Actor"]["Attributes"]["exitCode"], "3");
    // Docker's default line.
    let lines = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "event=die",
    ]);
    let line = lines.lines().next().unwrap();
    let (time, rest) = line.split_once(' ').unwrap();
    assert!(time.len() == 30 && time.ends_with('Z'), "{line}");
    assert_eq!(
        rest,
        format!("container die {id} (exitCode=3, image={IMAGE}, name=life, tier=web)")
    );
}

#[test]
fn stop_kill_pause_and_rename_are_recorded() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "calm",
            IMAGE,
            "sh",
            "-c",
            "trap 'exit 0' TERM; while true; do sleep 0.1; done",
        ])
        .trim()
        .to_string();
    root.ok(&["pause", &id]);
    root.ok(&["unpause", &id]);
    root.ok(&["rename", "calm", "quiet"]);
    root.ok(&["stop", "-t", "5", &id]);
    root.ok(&["start", &id]);
    root.ok(&["kill", "-s", "USR1", &id]);
    root.ok(&["rm", "-f", &id]);
    let evs = all_events(&root, &["type=container"]);
    let got = actions(&evs);
    assert_eq!(
        &got[..10],
        ["create", "start", "pause", "unpause", "rename", "kill", "die", "stop", "start", "kill"],
        "{got:?}"
    );
    assert_eq!(evs[4]["Actor"]["Attributes"]["oldName"], "/calm");
    assert_eq!(evs[4]["Actor"]["Attributes"]["name"], "quiet");
    assert_eq!(evs[5]["Actor"]["Attributes"]["signal"], "15");
    assert_eq!(
        evs[6]["Actor"]["Attributes"]["name"], "quiet",
        "the monitor sees the rename"
    );
    assert_eq!(evs[9]["Actor"]["Attributes"]["signal"], "10");
    // rm -f of the running container: kill (9), die, destroy.
    assert_eq!(&got[10..], ["kill", "die", "destroy"], "{got:?}");
    assert_eq!(evs[10]["Actor"]["Attributes"]["signal"], "9");
    assert_eq!(got.iter().filter(|a| *a == "die").count(), 2, "{got:?}");
}

#[test]
fn a_volume_is_created_mounted_unmounted_and_destroyed() {
    let root = Root::new();
    root.ok(&["volume", "create", "data"]);
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "-v",
            "data:/data:ro",
            IMAGE,
            "true",
        ])
        .trim()
        .to_string();
    wait_exited(&root, &id);
    root.ok(&["rm", &id]);
    root.ok(&["volume", "rm", "data"]);
    let evs = all_events(&root, &["type=volume", "volume=data"]);
    assert_eq!(
        actions(&evs),
        ["create", "mount", "unmount", "destroy"],
        "{evs:?}"
    );
    let mount = &evs[1]["Actor"]["Attributes"];
    assert_eq!(mount["container"], id.as_str());
    assert_eq!(mount["destination"], "/data");
    assert_eq!(mount["read/write"], "false");
    assert_eq!(evs[2]["Actor"]["Attributes"]["container"], id.as_str());
    // `container=` also finds a container's volume events.
    let of_ctr = all_events(&root, &["type=volume", &format!("container={id}")]);
    assert_eq!(actions(&of_ctr), ["mount", "unmount"]);
}

#[test]
fn since_and_until_bound_the_output() {
    let root = Root::new();
    root.ok(&["volume", "create", "first"]);
    root.ok(&["volume", "create", "second"]);
    root.ok(&["volume", "create", "third"]);
    let evs = all_events(&root, &["type=volume"]);
    assert_eq!(evs.len(), 3, "{evs:?}");
    let t: Vec<i64> = evs
        .iter()
        .map(|e| e["timeNano"].as_i64().unwrap())
        .collect();
    let names = |evs: &[Value]| -> Vec<String> {
        evs.iter()
            .map(|e| e["Actor"]["ID"].as_str().unwrap().to_string())
            .collect()
    };
    let window = |since: &str, until: &str| -> Vec<String> {
        let out = root.ok(&[
            "events",
            "--since",
            since,
            "--until",
            until,
            "--filter",
            "type=volume",
            "--format",
            "{{json .}}",
        ]);
        let evs: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        names(&evs)
    };
    assert_eq!(window(&unix(t[1]), &unix(t[1])), ["second"]);
    assert_eq!(window(&unix(t[0] + 1), &unix(t[2])), ["second", "third"]);
    assert_eq!(window("0", &unix(t[0])), ["first"]);
    // RFC 3339 and durations too.
    assert_eq!(window("1970-01-01T00:00:00Z", "0s").len(), 3);
    assert_eq!(window("10m", "0s").len(), 3);
    assert!(window("0", "1970-01-02T00:00:00Z").is_empty());
    let bad = root.berth(&["events", "--since", "yesterday-ish", "--until", "0s"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("--since"), "{}", stderr(&bad));
}

#[test]
fn filters_select_by_type_event_container_image_and_label() {
    let root = Root::new();
    let a = root
        .ok(&[
            "create",
            "--network",
            "none",
            "--name",
            "alpha",
            "--label",
            "team=x",
            IMAGE,
            "true",
        ])
        .trim()
        .to_string();
    let b = root
        .ok(&[
            "create",
            "--network",
            "none",
            "--name",
            "beta",
            IMAGE,
            "true",
        ])
        .trim()
        .to_string();
    root.ok(&["volume", "create", "data"]);
    root.ok(&["network", "create", "evnet"]);
    root.ok(&["network", "rm", "evnet"]);
    root.ok(&["commit", "alpha", "bb:committed"]);
    root.ok(&["tag", IMAGE, "bb:two"]);
    root.ok(&["rmi", "bb:two"]);
    root.ok(&["rm", &a, &b]);

    let kinds = |f: &[&str]| -> Vec<(String, String)> {
        all_events(&root, f)
            .iter()
            .map(|e| {
                (
                    e["Type"].as_str().unwrap().to_string(),
                    e["Action"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(kinds(&["type=volume"]), pairs(&[("volume", "create")]));
    assert_eq!(
        kinds(&["type=network"]),
        pairs(&[("network", "create"), ("network", "destroy")])
    );
    assert_eq!(
        kinds(&["type=image"]),
        pairs(&[("image", "import"), ("image", "tag"), ("image", "untag")])
    );
    assert_eq!(
        kinds(&["container=alpha"]),
        pairs(&[
            ("container", "create"),
            ("container", "commit"),
            ("container", "destroy")
        ])
    );
    // A unique ID prefix names the container too; two values of one key are either.
    assert_eq!(kinds(&[&format!("container={}", &b[..12])]).len(), 2);
    assert_eq!(kinds(&["container=alpha", "container=beta"]).len(), 5);
    // Keys together must all match.
    assert_eq!(
        kinds(&["type=container", "event=destroy"]),
        pairs(&[("container", "destroy"), ("container", "destroy")])
    );
    assert_eq!(kinds(&["label=team=x"]).len(), 3);
    assert_eq!(kinds(&["network=evnet"]).len(), 2);
    assert_eq!(kinds(&["volume=data"]).len(), 1);
    assert_eq!(kinds(&["image=bb", "type=container"]).len(), 5);
    let bad = root.berth(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "colour=red",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("invalid filter 'colour'"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn format_templates_render_each_event() {
    let root = Root::new();
    root.ok(&["volume", "create", "fmt"]);
    let out = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "type=volume",
        "--format",
        "{{.Type}} {{.Action}}",
    ]);
    assert_eq!(out, "volume create\n");
    let json = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "type=volume",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["Actor"]["ID"], "fmt");
    assert_eq!(v["Actor"]["Attributes"]["driver"], "local");
}

#[test]
fn events_appended_by_concurrent_commands_are_all_there_and_whole() {
    let root = Root::new();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let path = root.path().to_path_buf();
            std::thread::spawn(move || {
                for i in 0..6 {
                    let name = format!("v{t}-{i}-{}", "x".repeat(100));
                    ok(&berth(&path, &["volume", "create", &name]));
                    ok(&berth(&path, &["volume", "rm", &name]));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let raw = std::fs::read_to_string(root.path().join("events.jsonl")).unwrap();
    for line in raw.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
    }
    let evs = all_events(&root, &["type=volume"]);
    let creates = evs.iter().filter(|e| e["Action"] == "create").count();
    let destroys = evs.iter().filter(|e| e["Action"] == "destroy").count();
    assert_eq!((creates, destroys), (48, 48));
    for t in 0..8 {
        for i in 0..6 {
            let name = format!("v{t}-{i}-{}", "x".repeat(100));
            let mine: Vec<&Value> = evs
                .iter()
                .filter(|e| e["Actor"]["ID"] == name.as_str())
                .collect();
            assert_eq!(mine.len(), 2, "{name}");
            assert_eq!(mine[0]["Action"], "create");
        }
    }
}

/// Reads `berth events` lines on a thread; the test waits on the channel with a deadline.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn follow_mode_streams_new_events_until_it_is_killed() {
    let root = Root::new();
    // Something from before: not shown without --since.
    root.ok(&["volume", "create", "old"]);
    let mut child = berth_command()
        .arg("--root")
        .arg(root.path())
        .args([
            "events",
            "--filter",
            "type=container",
            "--format",
            "{{.Action}}",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    // The follower must be reading before the container runs: a run before it opened the
    // log would not be shown (no --since). Wait for it to have the log open.
    let pid = child.id();
    eventually("berth events to open the log", || {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| {
                d.flatten().any(|e| {
                    std::fs::read_link(e.path()).is_ok_and(|p| p.ends_with("events.jsonl"))
                })
            })
            .unwrap_or(false)
    });
    root.ok(&["run", "--rm", "--network", "none", IMAGE, "true"]);
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < 4 && Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            got.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, ["create", "start", "die", "destroy"]);
}

#[test]
fn follow_from_since_gives_the_past_then_the_new() {
    let root = Root::new();
    root.ok(&["volume", "create", "before"]);
    let mut child = berth_command()
        .arg("--root")
        .arg(root.path())
        .args([
            "events",
            "--since",
            "1h",
            "--filter",
            "type=volume",
            "--format",
            "{{.Action}}",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    let first = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    root.ok(&["volume", "rm", "before"]);
    let second = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((first.as_str(), second.as_str()), ("create", "destroy"));
}

#[test]
fn a_die_is_recorded_once_when_the_container_exits_with_no_command_running() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "sleep 1; exit 7",
        ])
        .trim()
        .to_string();
    // No berth command runs from here until the log has the die: only the monitor writes.
    let log = root.path().join("events.jsonl");
    let dies = || -> Vec<Value> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["Action"] == "die" && e["Actor"]["ID"] == id.as_str())
            .collect()
    };
    eventually("the monitor to record the die", || !dies().is_empty());
    assert_eq!(dies()[0]["Actor"]["Attributes"]["exitCode"], "7");
    // Commands that then see the exit do not record it again.
    root.ok(&["ps", "-a"]);
    root.ok(&["inspect", &id]);
    root.ok(&["rm", &id]);
    assert_eq!(dies().len(), 1);
}

#[test]
fn a_restarted_container_records_each_die_and_start() {
    let root = Root::new();
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--restart",
            "on-failure:2",
            IMAGE,
            "sh",
            "-c",
            "exit 1",
        ])
        .trim()
        .to_string();
    eventually("two restarts and a final exit", || {
        let v = root.inspect(&id);
        v["RestartCount"] == 2 && v["State"]["Status"] == "exited"
    });
    eventually("the monitor to exit", || processes_with(&id).is_empty());
    let got = actions(&all_events(&root, &[&format!("container={id}")]));
    assert_eq!(
        got,
        ["create", "start", "die", "start", "die", "start", "die"]
    );
}

#[test]
fn an_oom_kill_is_recorded_before_the_die() {
    let root = Root::new();
    // Doubling a shell variable until the 8 MB limit (no swap beyond it) kills it.
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "-m",
            "8m",
            "--memory-swap",
            "8m",
            IMAGE,
            "sh",
            "-c",
            "x=0123456789; while true; do x=$x$x; done",
        ])
        .trim()
        .to_string();
    wait_exited(&root, &id);
    if root.inspect(&id)["State"]["OOMKilled"] != true {
        println!("skipped: the kernel did not report an OOM kill in the container's cgroup");
        return;
    }
    let evs = all_events(&root, &[&format!("container={id}")]);
    let got = actions(&evs);
    assert_eq!(got, ["create", "start", "oom", "die"], "{evs:?}");
    assert_eq!(evs[3]["Actor"]["Attributes"]["exitCode"], "137");
}

#[test]
fn network_connect_and_disconnect_are_recorded() {
    let root = Root::new();
    root.ok(&["network", "create", "evlink"]);
    let id = root
        .ok(&["create", "--name", "linked", IMAGE, "true"])
        .trim()
        .to_string();
    root.ok(&["network", "connect", "evlink", "linked"]);
    root.ok(&["network", "disconnect", "evlink", "linked"]);
    root.ok(&["rm", &id]);
    root.ok(&["network", "rm", "evlink"]);
    let evs = all_events(&root, &["network=evlink"]);
    assert_eq!(
        actions(&evs),
        ["create", "connect", "disconnect", "destroy"],
        "{evs:?}"
    );
    assert_eq!(evs[1]["Actor"]["Attributes"]["container"], id.as_str());
    assert_eq!(evs[1]["Actor"]["Attributes"]["name"], "evlink");
    assert_eq!(evs[1]["Actor"]["Attributes"]["type"], "bridge");
}

#[test]
fn image_tag_untag_and_delete_are_recorded() {
    let root = Root::new();
    let tgz = root.path().join("busybox.tgz");
    root.ok(&["import", "-m", "another", tgz.to_str().unwrap(), "other:1"]);
    root.ok(&["tag", "other:1", "other:2"]);
    root.ok(&["rmi", "other:2"]);
    root.ok(&["rmi", "other:1"]);
    // The first is the import of the root's own image.
    let evs = all_events(&root, &["type=image"])[1..].to_vec();
    assert_eq!(
        actions(&evs),
        ["import", "tag", "untag", "untag", "delete"],
        "{evs:?}"
    );
    let id = evs[0]["Actor"]["ID"].as_str().unwrap();
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(evs[1]["Actor"]["ID"], id);
    assert_eq!(evs[4]["Actor"]["ID"], id);
    assert_eq!(evs[1]["Actor"]["Attributes"]["name"], "other:2");
    assert_eq!(evs[2]["Actor"]["ID"], "other:2");
    // An image filter by name finds its tag and untag events.
    assert_eq!(all_events(&root, &["image=other"]).len(), 4);
}
