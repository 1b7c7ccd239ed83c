//! Blob downloads that break off mid-way are resumed: a proxy in front of a real registry
//! cuts a layer's body half-way; the pull continues with a `Range` request (or, when the
//! server ignores ranges, skips what it already has) and still verifies the digest.

use berth_image::manifest::Platform;
use berth_image::pull::pull;
use berth_image::registry::client::Client;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Reference};
use berth_testkit::{busybox_layout, BreakingProxy, Registry};

fn registry_with_busybox() -> Registry {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    berth_testkit::push(
        layout.path(),
        &format!("127.0.0.1:{}/test/busybox:v1", reg.port),
    );
    reg
}

fn pull_via(
    port: u16,
) -> (
    tempfile::TempDir,
    berth_image::Result<berth_image::pull::Pulled>,
) {
    let data = tempfile::tempdir().unwrap();
    let store = ContentStore::open(data.path().join("content")).unwrap();
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    let r: Reference = format!("127.0.0.1:{port}/test/busybox:v1").parse().unwrap();
    let p = pull(
        &Client::new(vec![], None),
        &r,
        &store,
        &snaps,
        &Platform::host(),
    );
    (data, p)
}

#[test]
fn a_layer_body_cut_mid_way_is_resumed_with_a_range_request() {
    let reg = registry_with_busybox();
    // Only the layer (about 1 MB gzipped) is that big.
    let proxy = BreakingProxy::cut_bodies(reg.port, 100_000, 1);
    let (data, p) = pull_via(proxy.port);
    let p = p.unwrap();
    assert_eq!(proxy.cuts.load(std::sync::atomic::Ordering::SeqCst), 1);
    let ranges = proxy.ranges();
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    let from: u64 = ranges[0]
        .strip_prefix("bytes=")
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an open range: {}", ranges[0]));
    assert!(from > 0, "{ranges:?}");
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    assert_eq!(
        std::fs::read(snaps.path(&p.chain[0]).join("bin/busybox")).unwrap(),
        std::fs::read("/bin/busybox").unwrap()
    );
}

#[test]
fn a_server_that_ignores_ranges_resends_the_whole_blob_and_the_start_is_skipped() {
    let reg = registry_with_busybox();
    let proxy = BreakingProxy::cut_bodies_ignoring_ranges(reg.port, 100_000, 1);
    let (_data, p) = pull_via(proxy.port);
    p.unwrap();
    assert_eq!(proxy.cuts.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        proxy.ranges().len(),
        1,
        "the client still asked for a range"
    );
}
