//! Scale: 50 containers started at once from 50 threads, and many `run --rm` in a row
//! (`BERTH_SCALE_RUNS`, default 500, about 15 s here; `scripts/stress-engine.sh N` for more) leaving no mount,
//! cgroup, process, file, runtime state or database row behind.

mod container_support;
use container_support::*;

#[test]
fn fifty_containers_started_concurrently_then_removed() {
    let root = Root::new();
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let p = root.path().to_path_buf();
            std::thread::spawn(move || berth(&p, &["run", "-d", IMAGE, "sleep", "1000"]))
        })
        .collect();
    let ids: Vec<String> = threads
        .into_iter()
        .map(|t| ok(&t.join().unwrap()).trim().to_string())
        .collect();
    let running = root.ok(&["ps", "-q", "--no-trunc"]);
    assert_eq!(running.lines().count(), 50, "{running}");
    for id in &ids {
        assert!(running.contains(id.as_str()), "{id} not running");
    }
    let threads: Vec<_> = ids
        .chunks(10)
        .map(|ids| {
            let (p, ids) = (root.path().to_path_buf(), ids.to_vec());
            std::thread::spawn(move || {
                let mut args = vec!["rm", "-f"];
                args.extend(ids.iter().map(String::as_str));
                berth(&p, &args)
            })
        })
        .collect();
    for t in threads {
        ok(&t.join().unwrap());
    }
    for id in &ids {
        assert_nothing_left(&root, id);
    }
}

fn runs() -> usize {
    std::env::var("BERTH_SCALE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500)
}

/// Names of the directories under /sys/fs/cgroup (a few levels down) that contain `needle`.
fn cgroups_containing(needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![(std::path::PathBuf::from("/sys/fs/cgroup"), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            if needles.iter().any(|n| name.contains(n.as_str())) {
                found.push(e.path().display().to_string());
            } else if depth < 4 {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    found
}

#[test]
fn sequential_run_rm_leaves_nothing_behind() {
    let root = Root::new();
    let n = runs();
    // The hostname is the short container ID: what to look for afterwards.
    let mut short_ids = Vec::with_capacity(n);
    for i in 0..n {
        let out = root.berth(&["run", "--rm", "--network", "none", IMAGE, "hostname"]);
        let id = ok(&out).trim().to_string();
        assert_eq!(id.len(), 12, "run {i}: {id:?}");
        short_ids.push(id);
    }
    // Each run returned once its container was removed; the polling below is for what a
    // regression would leave to the monitors.
    let containers = root.path().join("containers");
    let left = || -> Vec<String> {
        std::fs::read_dir(&containers)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for _ in 0..6000 {
        if left().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(left().is_empty(), "left in containers/: {:?}", left());
    assert!(root.ids().is_empty(), "rows left: {:?}", root.ids());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root_str = root.path().display().to_string();
    let left: Vec<&str> = mounts
        .lines()
        .filter(|l| l.contains(&root_str) || short_ids.iter().any(|s| l.contains(s.as_str())))
        .collect();
    assert!(left.is_empty(), "mounts left: {left:#?}");
    assert_eq!(cgroups_containing(&short_ids), Vec::<String>::new());
    // The monitors' `rm` removes the lock file just before it exits.
    let procs = || -> Vec<i32> { short_ids.iter().flat_map(|s| processes_with(s)).collect() };
    for _ in 0..500 {
        if procs().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(procs().is_empty(), "processes left: {:?}", procs());
    let runtime_left = root.runtime_state();
    assert!(
        runtime_left.is_empty(),
        "runtime state left: {runtime_left:?}"
    );
}
