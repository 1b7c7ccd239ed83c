//! Snapshots and overlay roots, with real overlayfs mounts (run as root).

use berth_image::snapshot::{chain_ids, Snapshotter};
use berth_image::unpack::Options;
use berth_image::Digest;
use tar::{EntryType, Header};

fn layer(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_entry_type(EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn chain_ids_follow_the_oci_formula() {
    let a = Digest::sha256_of(b"layer a");
    let b = Digest::sha256_of(b"layer b");
    let c = Digest::sha256_of(b"layer c");
    let ids = chain_ids(&[a.clone(), b.clone(), c.clone()]);
    assert_eq!(ids[0], a);
    assert_eq!(ids[1], Digest::sha256_of(format!("{a} {b}").as_bytes()));
    assert_eq!(
        ids[2],
        Digest::sha256_of(format!("{} {c}", ids[1]).as_bytes())
    );
}

struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let c = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: umount2 with a valid C string.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

#[test]
fn overlay_root_applies_whiteouts_and_opaque_dirs_and_writes_go_to_upper() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = Snapshotter::open(dir.path().join("store")).unwrap();
    let base = layer(&[
        ("keep.txt", b"keep"),
        ("gone.txt", b"gone"),
        ("dir/old.txt", b"old"),
    ]);
    let top = layer(&[
        (".wh.gone.txt", b""),
        ("dir/.wh..wh..opq", b""),
        ("dir/new.txt", b"new"),
    ]);
    let diffs = [Digest::sha256_of(&base), Digest::sha256_of(&top)];
    let chain = chain_ids(&diffs);
    snaps
        .ensure(&chain[0], &diffs[0], &base[..], &Options::default())
        .unwrap();
    snaps
        .ensure(&chain[1], &diffs[1], &top[..], &Options::default())
        .unwrap();
    let root = dir.path().join("rootfs");
    snaps
        .mount(
            &chain,
            &dir.path().join("upper"),
            &dir.path().join("work"),
            &root,
        )
        .unwrap();
    let _u = Unmount(root.clone());
    assert_eq!(std::fs::read(root.join("keep.txt")).unwrap(), b"keep");
    assert!(
        !root.join("gone.txt").exists(),
        "whiteout did not hide the file"
    );
    assert!(root.join("dir/new.txt").exists());
    assert!(
        !root.join("dir/old.txt").exists(),
        "opaque dir still shows the lower's file"
    );
    std::fs::write(root.join("keep.txt"), b"changed").unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("upper/keep.txt")).unwrap(),
        b"changed"
    );
    assert_eq!(
        std::fs::read(snaps.path(&chain[0]).join("keep.txt")).unwrap(),
        b"keep",
        "a shared snapshot was modified"
    );
}

struct MustNotRead;
impl std::io::Read for MustNotRead {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        panic!("an existing snapshot was unpacked again");
    }
}

#[test]
fn a_layer_is_unpacked_once_and_shared() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = Snapshotter::open(dir.path()).unwrap();
    let data = layer(&[("f", b"x")]);
    let d = Digest::sha256_of(&data);
    let first = snaps
        .ensure(&d, &d, &data[..], &Options::default())
        .unwrap();
    let again = snaps
        .ensure(&d, &d, MustNotRead, &Options::default())
        .unwrap();
    assert_eq!(first, again);
}

#[test]
fn a_layer_whose_content_does_not_match_its_diff_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = Snapshotter::open(dir.path()).unwrap();
    let data = layer(&[("f", b"x")]);
    let claimed = Digest::sha256_of(b"something else");
    let e = snaps
        .ensure(&claimed, &claimed, &data[..], &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("digest mismatch"), "{e}");
    assert!(!snaps.exists(&claimed));
    assert_eq!(
        std::fs::read_dir(dir.path().join("staging"))
            .unwrap()
            .count(),
        0,
        "staging left behind"
    );
}
