//! The shared SQLite metadata: names, records, concurrent writers.

use berth_image::metadata::{ImageRecord, Metadata};
use berth_image::Digest;

fn rec(name: &str, seed: &str) -> ImageRecord {
    ImageRecord {
        name: name.to_string(),
        manifest: Digest::sha256_of(format!("m{seed}").as_bytes()),
        config: Digest::sha256_of(format!("c{seed}").as_bytes()),
        chain: vec![
            Digest::sha256_of(b"base"),
            Digest::sha256_of(seed.as_bytes()),
        ],
        created: 1_700_000_000,
    }
}

#[test]
fn names_point_at_images_and_retag_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let md = Metadata::open(&dir.path().join("berth.db")).unwrap();
    md.tag(&rec("docker.io/library/busybox:latest", "1"))
        .unwrap();
    md.tag(&rec("docker.io/library/alpine:3", "2")).unwrap();
    assert_eq!(
        md.get("docker.io/library/busybox:latest").unwrap(),
        Some(rec("docker.io/library/busybox:latest", "1"))
    );
    md.tag(&rec("docker.io/library/busybox:latest", "3"))
        .unwrap();
    assert_eq!(
        md.get("docker.io/library/busybox:latest")
            .unwrap()
            .unwrap()
            .manifest,
        Digest::sha256_of(b"m3")
    );
    let names: Vec<String> = md.list().unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        vec![
            "docker.io/library/alpine:3",
            "docker.io/library/busybox:latest"
        ]
    );
    let (chains, blobs) = md.referenced().unwrap();
    assert_eq!(chains.len(), 3, "the shared base chain is counted once");
    assert_eq!(blobs.len(), 4);
    assert!(md.untag("docker.io/library/alpine:3").unwrap());
    assert!(!md.untag("docker.io/library/alpine:3").unwrap());
    assert_eq!(md.get("docker.io/library/alpine:3").unwrap(), None);
    // A second connection (another berth process) sees the same state.
    let other = Metadata::open(&dir.path().join("berth.db")).unwrap();
    assert_eq!(other.list().unwrap().len(), 1);
}

#[test]
fn concurrent_writers_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.db");
    Metadata::open(&path).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let md = Metadata::open(&path).unwrap();
                for i in 0..50 {
                    md.tag(&rec(&format!("reg/t{t}:v{i}"), &format!("{t}-{i}")))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(Metadata::open(&path).unwrap().list().unwrap().len(), 200);
}
