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

#[test]
fn prune_takes_dangling_images_and_only_their_content() {
    use berth_image::gc::prune;
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path().join("content")).unwrap();
    let snaps = Snapshotter::open(dir.path().join("snapshots")).unwrap();
    let md = Metadata::open(&dir.path().join("berth.db")).unwrap();
    let put = |data: &[u8]| {
        let d = Digest::sha256_of(data);
        store.put(&d, data).unwrap();
        d
    };
    let shared = put(b"shared layer");
    let image = |seed: &str, name: Option<&str>| {
        let own = put(format!("own layer {seed}").as_bytes());
        let config = put(format!("{{\"seed\":\"{seed}\"}}").as_bytes());
        let manifest = put(
            &serde_json::to_vec(&json!({"config": {"digest": config.to_string()},
                "layers": [{"digest": shared.to_string()}, {"digest": own.to_string()}]}))
            .unwrap(),
        );
        let chain = vec![
            Digest::sha256_of(b"base"),
            Digest::sha256_of(seed.as_bytes()),
        ];
        for c in &chain {
            std::fs::create_dir_all(snaps.path(c)).unwrap();
            std::fs::write(snaps.path(c).join("f"), seed).unwrap();
        }
        md.add_image(&config, &manifest, &chain).unwrap();
        if let Some(n) = name {
            md.set_name(n, &config).unwrap();
        }
        (config, own, chain)
    };
    let (named, named_own, named_chain) = image("a", Some("docker.io/library/a:1"));
    let (dangling, dangling_own, dangling_chain) = image("b", None);
    let p = prune(&md, &store, &snaps, false, &|_| false).unwrap();
    assert_eq!(p.removals.len(), 1);
    assert_eq!(
        p.removals[0].deleted.as_ref().map(|i| &i.id),
        Some(&dangling)
    );
    assert_eq!(p.freed.snapshots, [dangling_chain[1].clone()]);
    assert!(p.freed.bytes > 0);
    assert!(!store.contains(&dangling_own) && !store.contains(&dangling));
    assert!(!snaps.exists(&dangling_chain[1]));
    assert!(store.contains(&shared) && snaps.exists(&dangling_chain[0]));
    // -a: every image the hook does not claim.
    let p = prune(&md, &store, &snaps, true, &|i| i.id == named).unwrap();
    assert!(p.removals.is_empty());
    let p = prune(&md, &store, &snaps, true, &|_| false).unwrap();
    assert_eq!(p.removals[0].untagged, ["docker.io/library/a:1"]);
    assert!(!store.contains(&named_own) && !store.contains(&shared));
    assert!(named_chain.iter().all(|c| !snaps.exists(c)));
}

#[test]
fn collection_waits_for_a_writer_that_has_not_named_its_image_yet() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path().join("content")).unwrap();
    let snaps = Snapshotter::open(dir.path().join("snapshots")).unwrap();
    let db = dir.path().join("berth.db");
    // The database first, as every berth command opens it before storing anything (one
    // made later, beside content, would be a lost database).
    drop(Metadata::open(&db).unwrap());
    let writing = store.write_guard().unwrap();
    let d = Digest::sha256_of(b"pulled, not yet tagged");
    store.put(&d, b"pulled, not yet tagged").unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let gc = s.spawn(|| {
            let md = Metadata::open(&db).unwrap();
            started_tx.send(()).unwrap();
            collect(&md, &store, &snaps, Duration::ZERO).unwrap()
        });
        started_rx.recv().unwrap();
        // Collection is running (or about to): while the writer holds on, the blob stays.
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            store.contains(&d),
            "collected while a writer held the store"
        );
        drop(writing);
        // The writer let go without naming it: now it is garbage.
        assert_eq!(gc.join().unwrap().blobs, 1);
    });
    assert!(!store.contains(&d));
}
