//! A three-layer image made here (a whiteout, an opaque directory, a hard link and a symlink
//! across layers), pushed to the real docker-registry with skopeo, pulled, and mounted as a
//! container root: what a container sees is what `docker run` of that image would show.

use berth_image::manifest::Platform;
use berth_image::pull::pull;
use berth_image::registry::client::Client;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest, Reference};
use berth_testkit::{push, Registry};
use serde_json::json;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use tar::{EntryType, Header};

enum E<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

/// A layer tar and its gzip form.
fn layer(entries: &[E]) -> (Vec<u8>, Vec<u8>) {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = Header::new_gnu();
        let (path, typ, data, link): (&str, EntryType, &[u8], Option<&str>) = match e {
            E::Dir(p) => (p, EntryType::Directory, b"", None),
            E::File(p, d) => (p, EntryType::Regular, d, None),
            E::Link(p, t) => (p, EntryType::Symlink, b"", Some(t)),
            E::Hard(p, t) => (p, EntryType::Link, b"", Some(t)),
        };
        h.set_path(path).unwrap();
        h.set_entry_type(typ);
        h.set_mode(if typ == EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    (tar.clone(), gz.finish().unwrap())
}

fn put(dir: &Path, data: &[u8]) -> Digest {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let d = Digest::sha256_of(data);
    std::fs::write(blobs.join(d.hex()), data).unwrap();
    d
}

/// An OCI layout (tag `v1`) of the given layers, bottom first.
fn layout(dir: &Path, layers: &[(Vec<u8>, Vec<u8>)]) {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|(t, _)| Digest::sha256_of(t).to_string())
        .collect();
    let descs: Vec<_> = layers
        .iter()
        .map(|(_, gz)| {
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": put(dir, gz).to_string(), "size": gz.len()})
        })
        .collect();
    let config = serde_json::to_vec(
        &json!({"architecture": Platform::host().arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}}),
    )
    .unwrap();
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": put(dir, &config).to_string(), "size": config.len()},
        "layers": descs}))
    .unwrap();
    let m = put(dir, &manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": m.to_string(), "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Unmounts the container root when the test ends, however it ends.
struct Mounted<'a>(&'a Path);
impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn whiteouts_opaque_dirs_and_links_survive_a_registry_round_trip() {
    let base = layer(&[
        E::Dir("etc/"),
        E::File("etc/motd", b"hello"),
        E::File("etc/removed", b"bye"),
        E::Dir("usr/"),
        E::Dir("usr/share/"),
        E::Dir("usr/share/doc/"),
        E::File("usr/share/doc/old-a", b"a"),
        E::File("usr/share/doc/old-b", b"b"),
    ]);
    let middle = layer(&[
        E::Dir("etc/"),
        E::File("etc/.wh.removed", b""),
        E::Dir("usr/share/doc/"),
        E::File("usr/share/doc/.wh..wh..opq", b""),
        E::File("usr/share/doc/new", b"new"),
        E::File("etc/data", b"shared inode"),
        E::Hard("etc/data-link", "etc/data"),
    ]);
    let top = layer(&[E::Dir("etc/"), E::Link("etc/motd-link", "motd")]);

    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path(), &[base, middle, top]);
    let name = format!("127.0.0.1:{}/test/layers:v1", reg.port);
    push(dir.path(), &name);

    let data = tempfile::tempdir().unwrap();
    let store = ContentStore::open(data.path().join("content")).unwrap();
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    let r: Reference = name.parse().unwrap();
    let p = pull(
        &Client::new(vec![], None),
        &r,
        &store,
        &snaps,
        &Platform::host(),
    )
    .unwrap();
    assert_eq!(p.chain.len(), 3);

    // The hard link is a hard link in its snapshot, not a copy.
    let mid = snaps.path(&p.chain[1]);
    let (a, b) = (
        std::fs::metadata(mid.join("etc/data")).unwrap(),
        std::fs::metadata(mid.join("etc/data-link")).unwrap(),
    );
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));

    let c = data.path().join("ctr");
    let target = c.join("rootfs");
    snaps
        .mount(&p.chain, &c.join("upper"), &c.join("work"), &target)
        .unwrap();
    let _m = Mounted(&target);
    let mut doc: Vec<String> = std::fs::read_dir(target.join("usr/share/doc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    doc.sort();
    assert_eq!(doc, ["new"], "the opaque dir hides the base layer's files");
    assert!(
        !target.join("etc/removed").exists(),
        "the whiteout hides it"
    );
    assert!(!target.join("etc/.wh.removed").exists());
    assert_eq!(std::fs::read(target.join("etc/motd")).unwrap(), b"hello");
    assert_eq!(
        std::fs::read_link(target.join("etc/motd-link")).unwrap(),
        Path::new("motd")
    );
    assert_eq!(
        std::fs::read(target.join("etc/motd-link")).unwrap(),
        b"hello"
    );
    assert_eq!(
        std::fs::read(target.join("etc/data-link")).unwrap(),
        b"shared inode"
    );

    // Writes land in the container's upper dir; the shared snapshots are untouched.
    std::fs::write(target.join("etc/motd"), b"changed").unwrap();
    assert_eq!(std::fs::read(c.join("upper/etc/motd")).unwrap(), b"changed");
    assert_eq!(
        std::fs::read(snaps.path(&p.chain[0]).join("etc/motd")).unwrap(),
        b"hello"
    );
}
