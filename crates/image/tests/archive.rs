//! Image archives through the library: OCI layouts and Docker archives (legacy and Docker
//! 25+) loaded into a fresh store, saved and loaded back to the same image, and hostile
//! archives refused with nothing left behind.

use berth_image::archive::{load, save, Saved};
use berth_image::manifest::Platform;
use berth_image::metadata::Metadata;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest};
use serde_json::json;
use std::path::Path;

struct Root {
    dir: tempfile::TempDir,
    store: ContentStore,
    snaps: Snapshotter,
    md: Metadata,
}

fn root() -> Root {
    let dir = tempfile::tempdir().unwrap();
    Root {
        store: ContentStore::open(dir.path().join("content")).unwrap(),
        snaps: Snapshotter::open(dir.path().join("snapshots")).unwrap(),
        md: Metadata::open(&dir.path().join("berth.db")).unwrap(),
        dir,
    }
}

fn count(p: &Path) -> usize {
    std::fs::read_dir(p).map(|r| r.count()).unwrap_or(0)
}

impl Root {
    fn load(&self, archive: &[u8]) -> berth_image::Result<Vec<berth_image::archive::Loaded>> {
        load(
            archive,
            &self.store,
            &self.snaps,
            &self.md,
            &Platform::host(),
        )
    }
    /// Nothing from a failed load: no blob, no snapshot, no image, no spool.
    fn assert_empty(&self) {
        assert_eq!(count(&self.dir.path().join("content/blobs/sha256")), 0);
        assert_eq!(count(&self.dir.path().join("content/ingest")), 0);
        assert_eq!(count(&self.dir.path().join("snapshots/snapshots")), 0);
        assert_eq!(count(&self.dir.path().join("snapshots/staging")), 0);
        assert!(self.md.images().unwrap().is_empty());
    }
}

/// A tar of (name, data) files, plus raw entries whose names tar::Builder would refuse.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn symlink_entry(b: &mut tar::Builder<Vec<u8>>, name: &str, target: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, name, target).unwrap();
}

/// A layer: an uncompressed tar with one file.
fn layer(file: &str, data: &[u8]) -> Vec<u8> {
    tar_of(&[(file, data)])
}

fn config(diff_ids: &[&[u8]]) -> Vec<u8> {
    let ids: Vec<String> = diff_ids
        .iter()
        .map(|l| Digest::sha256_of(l).to_string())
        .collect();
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ids},
        "history": [{"created_by": "one"}, {"created_by": "two"}]
    }))
    .unwrap()
}

/// A legacy `docker save` archive: `<id>/layer.tar`, `<config hex>.json`, manifest.json;
/// the second layer directory links to the first's tar, as docker writes shared layers.
fn legacy_docker_archive(tags: &[&str]) -> (Vec<u8>, Digest) {
    let l1 = layer("a.txt", b"first");
    let cfg = config(&[&l1, &l1]);
    let id = Digest::sha256_of(&cfg);
    let manifest = json!([{"Config": format!("{}.json", id.hex()), "RepoTags": tags,
        "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]);
    let mut b = tar::Builder::new(Vec::new());
    let add = |b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data).unwrap();
    };
    add(&mut b, "aaa/layer.tar", &l1);
    symlink_entry(&mut b, "bbb/layer.tar", "../aaa/layer.tar");
    add(&mut b, &format!("{}.json", id.hex()), &cfg);
    add(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    (b.into_inner().unwrap(), id)
}

/// The testkit's busybox OCI layout as a tar (an `oci-archive`), with index annotations.
fn oci_archive(annotations: serde_json::Value) -> (Vec<u8>, Digest) {
    let dir = tempfile::tempdir().unwrap();
    berth_testkit::busybox_layout(dir.path());
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["annotations"] = annotations;
    std::fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    let m: Digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", dir.path()).unwrap();
    (b.into_inner().unwrap(), m)
}

#[test]
fn oci_layout_archive_loads_with_its_names_and_saves_back_to_the_same_image() {
    let (tar, manifest) = oci_archive(json!({
        "io.containerd.image.name": "example.com/tools/busybox:1.36",
        "org.opencontainers.image.ref.name": "1.36"}));
    let a = root();
    let loaded = a.load(&tar).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].names, ["example.com/tools/busybox:1.36"]);
    let img = a.md.image(&loaded[0].id).unwrap().unwrap();
    assert_eq!(
        img.manifest, manifest,
        "the archive's manifest is kept as is"
    );
    assert_eq!(img.chain.len(), 1);
    assert!(a.snaps.path(&img.chain[0]).join("bin/busybox").is_file());

    // Saved and loaded again (gzip-compressed this time) into a fresh root: the same image.
    let mut out = Vec::new();
    save(
        &a.store,
        &[Saved {
            image: img.clone(),
            names: img.names.clone(),
        }],
        &mut out,
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &out).unwrap();
    let b = root();
    let again = b.load(&gz.finish().unwrap()).unwrap();
    assert_eq!(again, loaded);
    let img2 = b.md.image(&img.id).unwrap().unwrap();
    assert_eq!((img2.manifest, img2.chain), (img.manifest, img.chain));
}

#[test]
fn a_bare_tag_names_nothing_and_the_image_is_dangling() {
    let (tar, _) = oci_archive(json!({"org.opencontainers.image.ref.name": "v1"}));
    let a = root();
    let loaded = a.load(&tar).unwrap();
    assert!(loaded[0].names.is_empty());
    assert!(a.md.image(&loaded[0].id).unwrap().unwrap().dangling());
    // skopeo and podman write the whole reference into ref.name.
    let (tar, _) = oci_archive(json!({"org.opencontainers.image.ref.name": "localhost/bb:v2"}));
    assert_eq!(root().load(&tar).unwrap()[0].names, ["localhost/bb:v2"]);
}

#[test]
fn legacy_docker_archive_loads_with_a_built_manifest_and_zstd_input() {
    let (tar, id) = legacy_docker_archive(&["busybox:old", "team/app:1"]);
    let a = root();
    let loaded = a.load(&zstd::encode_all(&tar[..], 3).unwrap()).unwrap();
    assert_eq!(loaded[0].id, id);
    assert_eq!(
        loaded[0].names,
        ["docker.io/library/busybox:old", "docker.io/team/app:1"]
    );
    let img = a.md.image(&id).unwrap().unwrap();
    assert_eq!(img.chain.len(), 2);
    let m: serde_json::Value =
        serde_json::from_slice(&a.store.read(&img.manifest).unwrap()).unwrap();
    assert_eq!(m["config"]["digest"], id.to_string());
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        std::fs::read(a.snaps.path(&img.chain[0]).join("a.txt")).unwrap(),
        b"first"
    );
}

fn assert_refused(archive: &[u8], needle: &str) {
    let r = root();
    let e = r
        .load(archive)
        .expect_err("hostile archive loaded")
        .to_string();
    assert!(e.contains(needle), "{e:?} does not say {needle:?}");
    r.assert_empty();
}

#[test]
fn hostile_archives_are_refused_with_nothing_left_behind() {
    assert_refused(&tar_of(&[("../escape", b"x")]), "climbs out");
    assert_refused(&tar_of(&[("/etc/evil", b"x")]), "absolute path");
    // manifest.json pointing outside the archive.
    let m = json!([{"Config": "../../../etc/passwd", "RepoTags": ["x:1"], "Layers": []}]);
    assert_refused(
        &tar_of(&[("manifest.json", &serde_json::to_vec(&m).unwrap())]),
        "outside the archive",
    );
    // A symlink inside the archive that leads out of it.
    let mut b = tar::Builder::new(Vec::new());
    symlink_entry(&mut b, "cfg.json", "/etc/passwd");
    let m = json!([{"Config": "cfg.json", "RepoTags": ["x:1"], "Layers": []}]);
    let mut h = tar::Header::new_gnu();
    let mj = serde_json::to_vec(&m).unwrap();
    h.set_size(mj.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "manifest.json", &mj[..]).unwrap();
    assert_refused(&b.into_inner().unwrap(), "outside the archive");
    // A config whose name is not its digest.
    let cfg = config(&[]);
    let wrong = Digest::sha256_of(b"other");
    let m = json!([{"Config": format!("{}.json", wrong.hex()), "RepoTags": ["x:1"], "Layers": []}]);
    assert_refused(
        &tar_of(&[
            (&format!("{}.json", wrong.hex()), &cfg),
            ("manifest.json", &serde_json::to_vec(&m).unwrap()),
        ]),
        "digest mismatch",
    );
    // The second layer is not what the config's diff_ids say: the first layer's blob and
    // snapshot, already made, go again.
    let (l1, l2) = (layer("a", b"1"), layer("b", b"2"));
    let cfg = config(&[&l1, &l1]);
    let m = json!([{"Config": "c.json", "RepoTags": ["x:1"], "Layers": ["l1.tar", "l2.tar"]}]);
    assert_refused(
        &tar_of(&[
            ("l1.tar", &l1),
            ("l2.tar", &l2),
            ("c.json", &cfg),
            ("manifest.json", &serde_json::to_vec(&m).unwrap()),
        ]),
        "digest mismatch",
    );
    // A layer with a hostile entry of its own.
    let evil = tar_of(&[("../../outside", b"x")]);
    let cfg = config(&[&evil]);
    let m = json!([{"Config": "c.json", "RepoTags": ["x:1"], "Layers": ["evil.tar"]}]);
    assert_refused(
        &tar_of(&[
            ("evil.tar", &evil),
            ("c.json", &cfg),
            ("manifest.json", &serde_json::to_vec(&m).unwrap()),
        ]),
        "hostile layer",
    );
    // An OCI blob that does not hash to its name.
    let (mut tar, _) = oci_archive(json!({}));
    let at = tar
        .windows(7)
        .position(|w| w == b"\"amd64\"")
        .expect("a config in the archive");
    tar[at + 5] = b'5';
    assert_refused(&tar, "digest mismatch");
    assert_refused(
        b"this is not a tar archive at all, not even close to one.",
        "",
    );
}

#[test]
fn an_index_in_an_oci_archive_loads_the_host_platform() {
    let dir = tempfile::tempdir().unwrap();
    berth_testkit::two_platform_layout(dir.path());
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", dir.path()).unwrap();
    let a = root();
    let loaded = a.load(&b.into_inner().unwrap()).unwrap();
    let img = a.md.image(&loaded[0].id).unwrap().unwrap();
    let marker = a.snaps.path(&img.chain[0]).join("arch");
    assert_eq!(std::fs::read(marker).unwrap(), b"amd64");
    // The arm64 image was not unpacked.
    assert_eq!(count(&a.dir.path().join("snapshots/snapshots")), 1);
}
