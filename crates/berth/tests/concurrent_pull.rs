//! Two `berth pull`s of the same image at once, into the same data root, both succeed and
//! share the work: every layer blob crosses the network once. A layer that fails fails the
//! whole (parallel) pull and leaves no half-made blob or snapshot.

use berth_testkit::{layered_layout, push, FlakyProxy, Registry};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn pull(root: &Path, name: &str) -> std::process::Child {
    Command::new(BERTH)
        .arg("--root")
        .arg(root)
        .args(["pull", name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn two_pulls_at_once_both_succeed_and_fetch_each_layer_once() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    layered_layout(layout.path(), 4, 512 << 10, None);
    push(
        layout.path(),
        &format!("127.0.0.1:{}/test/layers:v1", reg.port),
    );
    // A slow link, so that the two pulls are downloading at the same time.
    let proxy = FlakyProxy::slow(reg.port, Duration::from_millis(5));
    let name = format!("127.0.0.1:{}/test/layers:v1", proxy.port);
    let root = tempfile::tempdir().unwrap();

    let (a, b) = (pull(root.path(), &name), pull(root.path(), &name));
    let mut outputs = Vec::new();
    for child in [a, b] {
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(out.trim_end().ends_with(&name), "{out}");
        outputs.push(out);
    }

    let manifest: serde_json::Value = {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.path().join("index.json")).unwrap())
                .unwrap();
        let d = index["manifests"][0]["digest"].as_str().unwrap();
        let hex = d.strip_prefix("sha256:").unwrap();
        serde_json::from_slice(
            &std::fs::read(layout.path().join("blobs/sha256").join(hex)).unwrap(),
        )
        .unwrap()
    };
    let requests = proxy.requests.lock().unwrap().clone();
    for layer in manifest["layers"].as_array().unwrap() {
        let d = layer["digest"].as_str().unwrap();
        let fetched = requests
            .iter()
            .filter(|r| r.starts_with("GET ") && r.ends_with(&format!("/blobs/{d}")))
            .count();
        assert_eq!(
            fetched, 1,
            "layer {d} fetched {fetched} times: {requests:#?}"
        );
        // One pull fetched it, the other found it made (at once or after waiting).
        let id = &d["sha256:".len()..][..12];
        let said = |what: &str| {
            outputs
                .iter()
                .filter(|o| o.contains(&format!("{id}: {what}")))
                .count()
        };
        assert_eq!(
            (said("Pull complete"), said("Already exists")),
            (1, 1),
            "{outputs:#?}"
        );
    }
    assert_eq!(names(&root.path().join("snapshots/snapshots")).len(), 4);
    for dir in [
        "snapshots/staging",
        "content/ingest",
        "snapshots/locks",
        "content/locks",
    ] {
        assert!(names(&root.path().join(dir)).is_empty(), "{dir} left over");
    }
}

#[test]
fn a_bad_layer_fails_the_parallel_pull_and_leaves_nothing_half_made() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    // Layer 2 of 4 unpacks to something other than the config says.
    layered_layout(layout.path(), 4, 256 << 10, Some(2));
    let name = format!("127.0.0.1:{}/test/bad:v1", reg.port);
    push(layout.path(), &name);
    let root = tempfile::tempdir().unwrap();

    let o = pull(root.path(), &name).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("Error: ") && err.contains("digest mismatch"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let bad_chain = {
        let cfg = names(&root.path().join("content/blobs/sha256"));
        assert!(!cfg.is_empty());
        // The bad layer's snapshot is never published; those published are verified layers.
        names(&root.path().join("snapshots/snapshots"))
    };
    assert!(bad_chain.len() < 4, "{bad_chain:?}");
    assert!(names(&root.path().join("snapshots/staging")).is_empty());
    assert!(names(&root.path().join("content/ingest")).is_empty());
    // Every visible blob is whole: its name is its content's digest.
    for e in std::fs::read_dir(root.path().join("content/blobs/sha256"))
        .unwrap()
        .flatten()
    {
        let data = std::fs::read(e.path()).unwrap();
        assert_eq!(
            berth_image::Digest::sha256_of(&data).hex(),
            e.file_name().to_str().unwrap()
        );
    }
    let images = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["images", "-q"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&images.stdout).trim().is_empty(),
        "a failed pull left an image name"
    );
}
