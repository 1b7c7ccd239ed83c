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
    // Image 1 lost its name but stays, dangling, until pruned (as Docker keeps it).
    let (chains, blobs) = md.referenced().unwrap();
    assert_eq!(chains.len(), 4, "the shared base chain is counted once");
    assert_eq!(blobs.len(), 6);
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

#[test]
fn a_database_of_the_first_schema_opens_and_keeps_its_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.db");
    {
        // The schema as the first release wrote it, with one pulled image.
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "CREATE TABLE images (name TEXT PRIMARY KEY, manifest TEXT NOT NULL, config TEXT NOT NULL,
                 chain TEXT NOT NULL, created INTEGER NOT NULL);
             CREATE INDEX images_by_manifest ON images(manifest);",
        )
        .unwrap();
        let r = rec("127.0.0.1:5000/test/busybox:v1", "1");
        db.execute(
            "INSERT INTO images VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                r.name,
                r.manifest.to_string(),
                r.config.to_string(),
                format!("{} {}", r.chain[0], r.chain[1]),
                r.created
            ],
        )
        .unwrap();
    }
    let md = Metadata::open(&path).unwrap();
    let images = md.images().unwrap();
    assert_eq!(images.len(), 1);
    let img = &images[0];
    assert_eq!(img.id, Digest::sha256_of(b"c1"));
    assert_eq!(img.names, ["127.0.0.1:5000/test/busybox:v1"]);
    assert_eq!(
        img.repo_digests,
        [format!(
            "127.0.0.1:5000/test/busybox@{}",
            Digest::sha256_of(b"m1")
        )]
    );
    assert_eq!(img.last_tag, Some(1_700_000_000));
    // Opening again (migrated already) changes nothing.
    assert_eq!(Metadata::open(&path).unwrap().images().unwrap(), images);
}

#[test]
fn a_retagged_name_leaves_the_old_image_dangling_and_the_last_name_takes_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let md = Metadata::open(&dir.path().join("berth.db")).unwrap();
    md.tag(&rec("docker.io/library/app:latest", "old")).unwrap();
    md.tag(&rec("docker.io/library/app:latest", "new")).unwrap();
    let old = md.image(&Digest::sha256_of(b"cold")).unwrap().unwrap();
    assert!(old.dangling(), "{old:?}");
    assert_eq!(old.repo_digests.len(), 1, "a pulled image keeps its digest");
    let new = Digest::sha256_of(b"cnew");
    md.set_name("docker.io/library/other:1", &new).unwrap();
    assert_eq!(
        md.ids_with_prefix(&new.hex()[..6]).unwrap(),
        std::slice::from_ref(&new)
    );
    assert_eq!(
        md.by_repo_digest(&format!(
            "docker.io/library/app@{}",
            Digest::sha256_of(b"mnew")
        ))
        .unwrap(),
        Some(new.clone())
    );
    // The repository's last tag takes its digests along; the image stays for `other:1`.
    let r = md
        .remove_name("docker.io/library/app:latest")
        .unwrap()
        .unwrap();
    assert_eq!(r.untagged.len(), 2, "{r:?}");
    assert!(r.deleted.is_none());
    let r = md
        .remove_name("docker.io/library/other:1")
        .unwrap()
        .unwrap();
    assert_eq!(r.deleted.map(|i| i.id), Some(new.clone()));
    assert!(md.image(&new).unwrap().is_none());
    // An image without a name (a load, an import) is listed as dangling.
    md.add_image(&Digest::sha256_of(b"x"), &Digest::sha256_of(b"y"), &[])
        .unwrap();
    assert_eq!(
        md.images().unwrap().iter().filter(|i| i.dangling()).count(),
        2
    );
    assert!(md.remove_image(&Digest::sha256_of(b"x")).unwrap().is_some());
}
