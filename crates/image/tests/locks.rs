//! The per-blob and per-snapshot locks that let concurrent pulls share work: a second taker
//! is told it waits, gets the lock only after the first let go, and no lock file stays behind.

use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

#[test]
fn second_taker_waits_for_the_first_and_lock_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path().join("content")).unwrap();
    let d = Digest::sha256_of(b"layer");
    let first_done = AtomicBool::new(false);
    let (waiting_tx, waiting_rx) = mpsc::channel();
    std::thread::scope(|s| {
        let held = store.lock(&d, || panic!("nobody holds it yet")).unwrap();
        s.spawn(|| {
            let _second = store
                .lock(&d, move || waiting_tx.send(()).unwrap())
                .unwrap();
            assert!(
                first_done.load(Ordering::SeqCst),
                "got the lock while the first still held it"
            );
        });
        // The second taker said it waits: the first finishes, then lets go.
        waiting_rx.recv().unwrap();
        first_done.store(true, Ordering::SeqCst);
        drop(held);
    });
    assert_eq!(
        std::fs::read_dir(dir.path().join("content/locks"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn snapshot_locks_are_per_chain_id() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = Snapshotter::open(dir.path()).unwrap();
    let (a, b) = (Digest::sha256_of(b"a"), Digest::sha256_of(b"b"));
    let _la = snaps.lock(&a, || panic!("a is free")).unwrap();
    // Another chain ID is not blocked by it.
    let _lb = snaps.lock(&b, || panic!("b is free")).unwrap();
}
