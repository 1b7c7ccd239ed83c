//! A real registry serving bad things, each refused with a clear error and nothing left
//! behind: a blob whose bytes do not match its digest (damaged in the registry's storage), a
//! truncated blob (in storage, or a connection that breaks every time), a manifest that is
//! not JSON and one of an unknown media type (rewritten by a proxy: the registry itself
//! refuses to store either), 401 without credentials and a wrong password.

use berth_image::manifest::Platform;
use berth_image::pull::pull;
use berth_image::registry::client::{Client, Credentials};
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest, Reference};
use berth_testkit::{busybox_layout, BreakingProxy, Registry};
use std::path::Path;

struct Image {
    reg: Registry,
    config: Digest,
    layer: Digest,
}

/// busybox at `test/busybox:v1`, with the digests of its config and layer.
fn registry_with_busybox() -> Image {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    berth_testkit::push(
        layout.path(),
        &format!("127.0.0.1:{}/test/busybox:v1", reg.port),
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.path().join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        let d: Digest = d.parse().unwrap();
        std::fs::read(layout.path().join("blobs/sha256").join(d.hex())).unwrap()
    };
    let m: serde_json::Value =
        serde_json::from_slice(&blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap();
    Image {
        reg,
        config: m["config"]["digest"].as_str().unwrap().parse().unwrap(),
        layer: m["layers"][0]["digest"].as_str().unwrap().parse().unwrap(),
    }
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Pull `port`'s busybox into an empty data dir; the error, once nothing is found left over.
fn failed_pull(port: u16, creds: Option<Credentials>, not_stored: &[&Digest]) -> String {
    let data = tempfile::tempdir().unwrap();
    let store = ContentStore::open(data.path().join("content")).unwrap();
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    let r: Reference = format!("127.0.0.1:{port}/test/busybox:v1").parse().unwrap();
    let e = pull(
        &Client::new(vec![], creds),
        &r,
        &store,
        &snaps,
        &Platform::host(),
    )
    .expect_err("the pull should fail")
    .to_string();
    for d in not_stored {
        assert!(!store.contains(d), "{d} stored after: {e}");
    }
    for dir in ["content/ingest", "snapshots/snapshots", "snapshots/staging"] {
        assert_eq!(
            entries(&data.path().join(dir)),
            Vec::<String>::new(),
            "{dir} after: {e}"
        );
    }
    e
}

/// Flip one byte in the middle of a file, keeping its length.
fn damage(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x20;
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_config_whose_bytes_do_not_match_its_digest_is_refused() {
    let img = registry_with_busybox();
    damage(&img.reg.blob_data_path(&img.config));
    let e = failed_pull(img.reg.port, None, &[&img.config, &img.layer]);
    assert!(
        e.contains("digest mismatch") && e.contains(&img.config.to_string()),
        "{e}"
    );
}

#[test]
fn a_layer_whose_bytes_do_not_match_its_digest_is_refused() {
    let img = registry_with_busybox();
    damage(&img.reg.blob_data_path(&img.layer));
    let e = failed_pull(img.reg.port, None, &[&img.layer]);
    assert!(e.starts_with(&format!("layer {}: ", img.layer)), "{e}");
}

#[test]
fn a_layer_truncated_in_the_registry_is_refused() {
    let img = registry_with_busybox();
    let path = img.reg.blob_data_path(&img.layer);
    let b = std::fs::read(&path).unwrap();
    std::fs::write(&path, &b[..b.len() / 2]).unwrap();
    let e = failed_pull(img.reg.port, None, &[&img.layer]);
    assert!(e.starts_with(&format!("layer {}: ", img.layer)), "{e}");
}

#[test]
fn a_download_that_breaks_off_every_time_gives_up_clearly() {
    let img = registry_with_busybox();
    let proxy = BreakingProxy::cut_bodies(img.reg.port, 1_000, usize::MAX);
    let e = failed_pull(proxy.port, None, &[&img.layer]);
    assert!(
        e.contains("broke off") && e.contains(&img.layer.to_string()),
        "{e}"
    );
    assert!(proxy.ranges().len() >= 2, "resumed before giving up");
}

#[test]
fn a_manifest_that_is_not_json_is_refused() {
    let img = registry_with_busybox();
    let proxy = BreakingProxy::rewrite(
        img.reg.port,
        "/manifests/",
        None,
        Some(b"<html>502 Bad Gateway</html>"),
    );
    let e = failed_pull(proxy.port, None, &[]);
    assert!(e.contains("invalid manifest: not JSON"), "{e}");
}

#[test]
fn a_manifest_of_an_unknown_media_type_is_refused() {
    let img = registry_with_busybox();
    let proxy = BreakingProxy::rewrite(
        img.reg.port,
        "/manifests/",
        Some("application/vnd.example.thing.v1+json"),
        None,
    );
    let e = failed_pull(proxy.port, None, &[]);
    assert!(
        e.contains("unknown manifest media type")
            && e.contains("application/vnd.example.thing.v1+json"),
        "{e}"
    );
}

#[test]
fn no_credentials_and_a_wrong_password_are_clear_errors() {
    let reg = Registry::start_with_htpasswd("berth", "s3cret");
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    berth_testkit::push_as(
        layout.path(),
        &format!("127.0.0.1:{}/test/busybox:v1", reg.port),
        Some("berth:s3cret"),
    );
    let e = failed_pull(reg.port, None, &[]);
    assert!(e.contains("401") && e.contains("credentials needed"), "{e}");
    let wrong = Credentials {
        username: "berth".into(),
        password: "nope".into(),
        identity_token: None,
    };
    let e = failed_pull(reg.port, Some(wrong), &[]);
    assert!(
        e.contains("401") && e.contains("wrong username or password"),
        "{e}"
    );
}
