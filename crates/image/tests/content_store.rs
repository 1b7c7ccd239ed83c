//! The content store on a real filesystem: verified, atomic, clean after failures.

use berth_image::{ContentStore, Digest};
use std::io::Write;

fn entries(p: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(p)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn blob_is_stored_by_digest_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    let data = b"hello berth";
    let d = Digest::sha256_of(data);
    let p = store.put(&d, data).unwrap();
    assert_eq!(p, dir.path().join("blobs/sha256").join(d.hex()));
    assert!(store.contains(&d));
    assert_eq!(store.read(&d).unwrap(), data);
    assert!(
        entries(&dir.path().join("ingest")).is_empty(),
        "temp file left in ingest/"
    );
}

#[test]
fn streamed_blob_is_invisible_until_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    let data = vec![7u8; 300_000];
    let d = Digest::sha256_of(&data);
    let mut w = store.writer(&d, Some(data.len() as u64)).unwrap();
    w.write_all(&data[..100_000]).unwrap();
    assert!(
        !store.contains(&d),
        "half-written blob visible under its digest"
    );
    w.write_all(&data[100_000..]).unwrap();
    assert_eq!(w.written(), data.len() as u64);
    w.commit().unwrap();
    assert!(store.contains(&d));
}

#[test]
fn digest_mismatch_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    let claimed = Digest::sha256_of(b"what the manifest says");
    let mut w = store.writer(&claimed, None).unwrap();
    w.write_all(b"what the registry sent").unwrap();
    let e = w.commit().unwrap_err().to_string();
    assert!(
        e.contains("digest mismatch") && e.contains(&claimed.to_string()),
        "{e}"
    );
    assert!(!store.contains(&claimed));
    assert!(entries(&dir.path().join("ingest")).is_empty());
}

#[test]
fn truncated_or_oversized_blob_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    let data = b"0123456789";
    let d = Digest::sha256_of(data);
    let mut w = store.writer(&d, Some(10)).unwrap();
    w.write_all(&data[..6]).unwrap();
    let e = w.commit().unwrap_err().to_string();
    assert!(e.contains("expected 10 bytes, got 6"), "{e}");
    let mut w = store.writer(&d, Some(4)).unwrap();
    assert!(w.write_all(data).is_err(), "wrote past the announced size");
    drop(w);
    assert!(!store.contains(&d));
    assert!(entries(&dir.path().join("ingest")).is_empty());
}

#[test]
fn abandoned_writes_of_dead_processes_are_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    // As a writer killed with -9 would leave it: a temp file named after a dead pid.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let leftover = dir
        .path()
        .join("ingest")
        .join(format!("{}.{dead}.0", "a".repeat(64)));
    std::fs::write(&leftover, b"partial").unwrap();
    let d = Digest::sha256_of(b"live");
    let live = store.writer(&d, None).unwrap();
    assert_eq!(store.clean_ingest().unwrap(), 1);
    assert!(!leftover.exists());
    assert!(
        live.temp_path().exists(),
        "a live writer's file was removed"
    );
}

#[test]
fn two_writers_of_the_same_blob_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    let data = b"shared layer";
    let d = Digest::sha256_of(data);
    let mut a = store.writer(&d, None).unwrap();
    let mut b = store.writer(&d, None).unwrap();
    a.write_all(data).unwrap();
    b.write_all(data).unwrap();
    a.commit().unwrap();
    b.commit().unwrap();
    assert_eq!(store.read(&d).unwrap(), data);
}
