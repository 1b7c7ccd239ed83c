//! A `commit` killed part-way (SIGKILL at each of `COMMIT_CRASH_POINTS`) leaves temp files
//! named after its pid in `content/ingest` and `snapshots/staging`: `system df` counts them
//! with the images while they are there, and the next command (or `system prune`) removes
//! them, since their owner is provably dead. Repeated, nothing accumulates.

mod container_support;
use berth_engine::crash_point::COMMIT_CRASH_POINTS;
use container_support::*;
use std::path::Path;

/// Bytes in the dirs where unfinished work lives.
fn unfinished(root: &Path) -> u64 {
    ["content/ingest", "snapshots/staging"]
        .iter()
        .map(|d| berth_image::gc::disk_usage(&root.join(d)))
        .sum()
}

/// `12.3MB` as docker's df prints sizes (decimal units) -> bytes.
fn parse_size(s: &str) -> f64 {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let mult = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => panic!("unit {other:?} in {s:?}"),
    };
    n.parse::<f64>().unwrap() * mult
}

/// `system df`'s Images row: (size, reclaimable) in bytes.
fn df_images(root: &Root) -> (f64, f64) {
    for line in root.ok(&["system", "df", "--format", "json"]).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["Type"] == "Images" {
            let free = v["Reclaimable"].as_str().unwrap();
            let free = free.split(' ').next().unwrap();
            return (parse_size(v["Size"].as_str().unwrap()), parse_size(free));
        }
    }
    panic!("no Images row");
}

/// A stopped container with 6 MB of incompressible data in its upper dir.
fn container_with_data(root: &Root, name: &str) {
    root.ok(&[
        "run",
        "--name",
        name,
        "--network",
        "none",
        IMAGE,
        "dd",
        "if=/dev/urandom",
        "of=/big",
        "bs=1M",
        "count=6",
    ]);
}

#[test]
fn a_killed_commit_leaves_temp_files_that_df_counts_and_the_next_command_removes() {
    let root = Root::new();
    container_with_data(&root, "src");
    let (base_size, _) = df_images(&root);
    for (round, point) in COMMIT_CRASH_POINTS.iter().cycle().take(6).enumerate() {
        let o = berth_crashing_at(&root, point, &["commit", "src", "crashed:latest"]);
        assert_killed(&o, point, "commit");
        let left = unfinished(root.path());
        assert!(left > 5_000_000, "{point}: only {left} bytes left behind");
        // Counted while there: in the images' size, all of it reclaimable.
        let (size, free) = df_images(&root);
        assert!(
            size >= base_size + left as f64 * 0.95,
            "{point}: df says {size}, base {base_size} + left {left}"
        );
        assert!(free >= left as f64 * 0.95, "{point}: reclaimable {free}");
        if round % 2 == 0 {
            // Any next command cleans.
            root.ok(&["ps", "-a"]);
        } else {
            let out = root.ok(&["system", "prune", "-f"]);
            let total = out
                .lines()
                .find_map(|l| l.strip_prefix("Total reclaimed space: "))
                .unwrap();
            assert!(
                parse_size(total) >= left as f64 * 0.95,
                "{point}: prune reclaimed {total} of {left}"
            );
            // The prune took the container too: make it again.
            container_with_data(&root, "src");
        }
        assert_eq!(unfinished(root.path()), 0, "{point}: temp files left");
    }
    // The commit works after all that, and its image runs.
    let id = root.ok(&["commit", "src", "done:latest"]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let out = root.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "done:latest",
        "wc",
        "-c",
        "/big",
    ]);
    assert_eq!(out.split_whitespace().next(), Some("6291456"));
    assert_eq!(unfinished(root.path()), 0);
}

/// The pid of a process that has exited (and been reaped).
fn dead_pid() -> u32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

#[test]
fn a_save_killed_before_its_rename_leaves_a_temp_file_the_next_save_removes() {
    let root = Root::new();
    let out = tempfile::tempdir().unwrap();
    let dead = out
        .path()
        .join(format!(".img.tar.berth-save.{}", dead_pid()));
    std::fs::write(&dead, vec![0u8; 1 << 20]).unwrap();
    // One of a save still running (our own pid) stays.
    let live = out
        .path()
        .join(format!(".img.tar.berth-save.{}", std::process::id()));
    std::fs::write(&live, b"x").unwrap();
    let file = out.path().join("img.tar");
    root.ok(&["save", "-o", file.to_str().unwrap(), IMAGE]);
    assert!(file.metadata().unwrap().len() > 0);
    assert!(!dead.exists(), "the killed save's temp file is left");
    assert!(live.exists(), "a live save's temp file was taken");
}
