//! kill -9 in the middle of a pull leaves no half-written blob or snapshot under its name, and
//! the next pull succeeds.

use berth_testkit::{busybox_layout, push, FlakyProxy, Registry};
use std::process::{Command, Stdio};
use std::time::Duration;

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

#[test]
fn kill_9_mid_pull_then_pull_again_succeeds() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    push(
        layout.path(),
        &format!("127.0.0.1:{}/test/busybox:v1", reg.port),
    );
    let slow = FlakyProxy::slow(reg.port, Duration::from_millis(20));
    let name = format!("127.0.0.1:{}/test/busybox:v1", slow.port);
    let root = tempfile::tempdir().unwrap();
    let ingest = root.path().join("content/ingest");

    let mut child = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["pull", "-q", &name])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the layer download is under way, then kill -9.
    let started = std::time::Instant::now();
    while std::fs::read_dir(&ingest)
        .map(|d| {
            d.flatten()
                .all(|e| e.metadata().map(|m| m.len()).unwrap_or(0) < 64 << 10)
        })
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "download never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let blobs = root.path().join("content/blobs/sha256");
    for e in std::fs::read_dir(&blobs).unwrap().flatten() {
        // Every blob that is visible is complete: its name is its content's digest.
        let data = std::fs::read(e.path()).unwrap();
        assert_eq!(
            berth_image::Digest::sha256_of(&data).hex(),
            e.file_name().to_str().unwrap(),
            "half-written blob visible"
        );
    }
    assert_eq!(
        std::fs::read_dir(root.path().join("snapshots/snapshots"))
            .unwrap()
            .count(),
        0,
        "snapshot from a killed pull"
    );

    let direct = format!("127.0.0.1:{}/test/busybox:v1", reg.port);
    let o = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["pull", "-q", &direct])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_dir(&ingest).unwrap().count(),
        0,
        "the killed pull's partial download was not cleaned"
    );
    assert!(String::from_utf8_lossy(
        &Command::new(BERTH)
            .arg("--root")
            .arg(root.path())
            .arg("images")
            .output()
            .unwrap()
            .stdout
    )
    .contains("test/busybox"));
}
