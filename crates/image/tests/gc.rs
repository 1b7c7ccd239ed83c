//! Garbage collection keeps what named images need and removes the rest.

use berth_image::gc::collect;
use berth_image::metadata::{ImageRecord, Metadata};
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest};
use serde_json::json;
use std::time::Duration;

#[test]
fn unreferenced_blobs_and_snapshots_go_referenced_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path().join("content")).unwrap();
    let snaps = Snapshotter::open(dir.path().join("snapshots")).unwrap();
    let md = Metadata::open(&dir.path().join("berth.db")).unwrap();
    let put = |data: &[u8]| {
        let d = Digest::sha256_of(data);
        store.put(&d, data).unwrap();
        d
    };
    let layer = put(b"layer bytes");
    let config = put(b"{}");
    let manifest =
        put(&serde_json::to_vec(&json!({"layers": [{"digest": layer.to_string()}]})).unwrap());
    let orphan = put(b"nobody needs me");
    let kept_chain = Digest::sha256_of(b"kept chain");
    let dead_chain = Digest::sha256_of(b"dead chain");
    for c in [&kept_chain, &dead_chain] {
        std::fs::create_dir_all(snaps.path(c)).unwrap();
    }
    md.tag(&ImageRecord {
        name: "x/y:z".into(),
        manifest: manifest.clone(),
        config: config.clone(),
        chain: vec![kept_chain.clone()],
        created: 0,
    })
    .unwrap();

    // Within the grace period nothing goes (a pull may be about to tag it).
    assert_eq!(
        collect(&md, &store, &snaps, Duration::from_secs(3600))
            .unwrap()
            .blobs,
        0
    );
    let c = collect(&md, &store, &snaps, Duration::ZERO).unwrap();
    assert_eq!((c.blobs, c.snapshots), (1, 1));
    assert!(!store.contains(&orphan) && !snaps.exists(&dead_chain));
    for d in [&layer, &config, &manifest] {
        assert!(store.contains(d), "{d} was collected");
    }
    assert!(snaps.exists(&kept_chain));
    // Once the name is gone, everything goes.
    md.untag("x/y:z").unwrap();
    let c = collect(&md, &store, &snaps, Duration::ZERO).unwrap();
    assert_eq!((c.blobs, c.snapshots), (3, 1));
}
