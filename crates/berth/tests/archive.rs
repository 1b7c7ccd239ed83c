//! `berth save` / `berth load` against real peers: images pulled from a real registry,
//! archives written by skopeo (docker-archive and oci-archive) loaded, archives written by
//! berth read by skopeo, and hostile archives refused with nothing left behind.

use berth_testkit::{busybox_layout, push, Registry};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn berth(root: &Path, args: &[&str]) -> Output {
    Command::new(BERTH)
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {} {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn inspect(root: &Path, image: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&out(&berth(root, &["image", "inspect", image]))).unwrap();
    v[0].clone()
}

fn skopeo(args: &[&str]) -> String {
    let o = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A registry holding the busybox test image, and its name there.
fn registry_with_busybox() -> (Registry, String) {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let name = format!("127.0.0.1:{}/test/busybox:v1", reg.port);
    push(layout.path(), &name);
    (reg, name)
}

#[test]
fn save_then_load_into_a_fresh_root_gives_the_same_image() {
    let (_reg, name) = registry_with_busybox();
    let a = tempfile::tempdir().unwrap();
    out(&berth(a.path(), &["pull", "-q", &name]));
    out(&berth(a.path(), &["tag", &name, "mine:2"]));
    let before = inspect(a.path(), &name);
    let file = a.path().join("images.tar");
    out(&berth(
        a.path(),
        &["save", "-o", file.to_str().unwrap(), &name, "mine:2"],
    ));

    // The archive is an OCI layout and a Docker archive at once, as Docker 25+ writes it.
    let listing = Command::new("tar").arg("tf").arg(&file).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for f in ["oci-layout", "index.json", "manifest.json", "repositories"] {
        assert!(listing.lines().any(|l| l == f), "{f} missing: {listing}");
    }
    let b = tempfile::tempdir().unwrap();
    let loaded = out(&berth(b.path(), &["load", "-i", file.to_str().unwrap()]));
    assert_eq!(
        loaded,
        format!("Loaded image: {name}\nLoaded image: mine:2\n"),
        "{loaded}"
    );
    let after = inspect(b.path(), "mine:2");
    for k in ["Id", "RootFS", "Config", "Architecture", "Os", "Size"] {
        assert_eq!(after[k], before[k], "{k}");
    }
    // Through a pipe and gzip-compressed: standard output and standard input.
    let saved = Command::new(BERTH)
        .arg("--root")
        .arg(a.path())
        .args(["save", "mine:2"])
        .output()
        .unwrap();
    assert!(saved.status.success());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &saved.stdout).unwrap();
    let c = tempfile::tempdir().unwrap();
    let mut load = Command::new(BERTH)
        .arg("--root")
        .arg(c.path())
        .args(["load", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(load.stdin.as_mut().unwrap(), &gz.finish().unwrap()).unwrap();
    drop(load.stdin.take());
    let o = load.wait_with_output().unwrap();
    assert_eq!(out(&o), "Loaded image: mine:2\n");
    assert_eq!(inspect(c.path(), "mine:2")["Id"], before["Id"]);
    // By ID: no name goes into the archive, and the load says so.
    let id = before["Id"].as_str().unwrap();
    let by_id = a.path().join("by-id.tar");
    out(&berth(
        a.path(),
        &["save", "-o", by_id.to_str().unwrap(), &id[7..19]],
    ));
    let d = tempfile::tempdir().unwrap();
    assert_eq!(
        out(&berth(d.path(), &["load", "-i", by_id.to_str().unwrap()])),
        format!("Loaded image ID: {id}\n")
    );
}

#[test]
fn skopeo_archives_load_as_the_same_image() {
    let (_reg, name) = registry_with_busybox();
    let pulled = tempfile::tempdir().unwrap();
    out(&berth(pulled.path(), &["pull", "-q", &name]));
    let want = inspect(pulled.path(), &name);
    let dir = tempfile::tempdir().unwrap();
    for kind in ["docker-archive", "oci-archive"] {
        let file = dir.path().join(format!("{kind}.tar"));
        skopeo(&[
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            &format!("docker://{name}"),
            &format!("{kind}:{}:localhost/from-skopeo:{kind}", file.display()),
        ]);
        let root = tempfile::tempdir().unwrap();
        let o = out(&berth(root.path(), &["load", "-i", file.to_str().unwrap()]));
        assert_eq!(o, format!("Loaded image: localhost/from-skopeo:{kind}\n"));
        let got = inspect(root.path(), &format!("localhost/from-skopeo:{kind}"));
        assert_eq!(got["Id"], want["Id"], "{kind}");
        assert_eq!(got["RootFS"], want["RootFS"], "{kind}");
        assert_eq!(got["Size"], want["Size"], "{kind}");
    }
}

#[test]
fn skopeo_reads_what_berth_saves() {
    let (_reg, name) = registry_with_busybox();
    let root = tempfile::tempdir().unwrap();
    out(&berth(root.path(), &["pull", "-q", &name]));
    let img = inspect(root.path(), &name);
    let file = root.path().join("saved.tar");
    out(&berth(
        root.path(),
        &["save", "-o", file.to_str().unwrap(), &name],
    ));
    for src in ["docker-archive", "oci-archive"] {
        let v: serde_json::Value =
            serde_json::from_str(&skopeo(&["inspect", &format!("{src}:{}", file.display())]))
                .unwrap();
        assert_eq!(v["Architecture"], "amd64", "{src}: {v}");
        assert_eq!(v["Os"], "linux", "{src}: {v}");
        assert_eq!(v["Layers"].as_array().unwrap().len(), 1, "{src}: {v}");
        assert_eq!(v["Env"], img["Config"]["Env"], "{src}: {v}");
    }
    // A pulled image has its repository digest, and history rows from its layers (the
    // test image records no history).
    let digests = out(&berth(root.path(), &["images", "--digests"]));
    let digest = img["RepoDigests"][0]
        .as_str()
        .unwrap()
        .split('@')
        .nth(1)
        .unwrap();
    assert!(
        digests.lines().nth(1).unwrap().contains(digest),
        "{digests}"
    );
    let h = out(&berth(root.path(), &["history", &name]));
    assert_eq!(h.lines().count(), 2, "{h}");
    // The OCI side is the very manifest that was pulled.
    let v: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        &format!("oci-archive:{}", file.display()),
    ]))
    .unwrap();
    let digest = img["RepoDigests"][0]
        .as_str()
        .unwrap()
        .split('@')
        .nth(1)
        .unwrap();
    assert_eq!(v["Digest"], digest);
}

fn tar_with_raw_names(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn hostile_archives_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest_out =
        br#"[{"Config":"../../../../etc/passwd","RepoTags":["evil:1"],"Layers":[]}]"#;
    for (what, bytes, needle) in [
        (
            "dotdot",
            tar_with_raw_names(&[("../x", b"x")]),
            "climbs out",
        ),
        (
            "absolute",
            tar_with_raw_names(&[("/tmp/x", b"x")]),
            "absolute path",
        ),
        (
            "manifest-outside",
            tar_with_raw_names(&[("manifest.json", manifest_out)]),
            "outside the archive",
        ),
        ("empty", Vec::new(), "refusing image archive"),
    ] {
        let file = dir.path().join(format!("{what}.tar"));
        std::fs::write(&file, bytes).unwrap();
        let root = tempfile::tempdir().unwrap();
        let o = berth(root.path(), &["load", "-i", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{what}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.starts_with("Error: ") && e.contains(needle),
            "{what}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{what}: {e}");
        assert_eq!(out(&berth(root.path(), &["images", "-q"])), "", "{what}");
        for sub in [
            "content/blobs",
            "content/ingest",
            "snapshots/snapshots",
            "snapshots/staging",
        ] {
            let n = std::fs::read_dir(root.path().join(sub))
                .map(|r| r.count())
                .unwrap_or(0);
            assert_eq!(n, 0, "{what}: {sub} not empty");
        }
    }
    let o = berth(
        dir.path(),
        &["save", "-o", "/nonexistent/dir/x.tar", "nosuch"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("No such image: nosuch"));
}

/// A one-file root filesystem tarball.
fn rootfs_tar(dir: &Path, marker: &str) -> std::path::PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(marker.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "marker", marker.as_bytes()).unwrap();
    let p = dir.join(format!("{marker}.tar"));
    std::fs::write(&p, b.into_inner().unwrap()).unwrap();
    p
}

#[test]
fn a_repository_name_saves_every_tag_and_load_reports_renamed_images() {
    let dir = tempfile::tempdir().unwrap();
    let a = tempfile::tempdir().unwrap();
    for (m, name) in [("one", "app:1"), ("two", "app:2"), ("three", "other:1")] {
        let f = rootfs_tar(dir.path(), m);
        out(&berth(a.path(), &["import", f.to_str().unwrap(), name]));
    }
    let file = dir.path().join("app.tar");
    out(&berth(
        a.path(),
        &["save", "-o", file.to_str().unwrap(), "app"],
    ));
    let b = tempfile::tempdir().unwrap();
    let f = rootfs_tar(dir.path(), "older");
    let old = out(&berth(b.path(), &["import", f.to_str().unwrap(), "app:1"]));
    let o = out(&berth(b.path(), &["load", "-i", file.to_str().unwrap()]));
    assert!(
        o.contains(&format!(
            "The image app:1 already exists, renaming the old one with ID {} to empty string",
            old.trim()
        )),
        "{o}"
    );
    assert!(
        o.contains("Loaded image: app:1\n") && o.contains("Loaded image: app:2\n"),
        "{o}"
    );
    assert!(!o.contains("other"), "{o}");
    let dangling = out(&berth(
        b.path(),
        &["images", "-q", "--no-trunc", "-f", "dangling=true"],
    ));
    assert_eq!(dangling.trim(), old.trim(), "the old image lost its name");
}
