//! Pulls from a real registry: Debian's docker-registry on 127.0.0.1, filled by skopeo from
//! an OCI layout these tests build from busybox-static. Offline; every process is stopped.

use berth_image::manifest::Platform;
use berth_image::pull::pull;
use berth_image::registry::client::Client;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Reference};
use berth_testkit::{busybox_layout, push, Registry};
use std::path::Path;

/// An empty content store and snapshotter in a temp dir (kept alive by the returned guard).
fn local() -> (tempfile::TempDir, ContentStore, Snapshotter) {
    let data = tempfile::tempdir().unwrap();
    let store = ContentStore::open(data.path().join("content")).unwrap();
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    (data, store, snaps)
}

#[test]
fn pull_from_a_real_registry_fills_the_store_and_a_snapshot() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let name = format!("127.0.0.1:{}/test/busybox:v1", reg.port);
    push(layout.path(), &name);

    let (_data, store, snaps) = local();
    let client = Client::new(vec![], None);
    let r: Reference = name.parse().unwrap();
    let p = pull(&client, &r, &store, &snaps, &Platform::host()).unwrap();
    assert_eq!(p.chain.len(), 1);
    let root = snaps.path(&p.chain[0]);
    assert_eq!(
        std::fs::read(root.join("bin/busybox")).unwrap(),
        std::fs::read("/bin/busybox").unwrap()
    );
    assert_eq!(
        std::fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert!(store.contains(&p.manifest) && store.contains(&p.config));

    // Pulling again finds every layer's snapshot and downloads no layer.
    let again = pull(&client, &r, &store, &snaps, &Platform::host()).unwrap();
    assert_eq!(again.chain, p.chain);
}

#[test]
fn pull_of_an_unknown_tag_or_repository_is_a_clear_error() {
    let reg = Registry::start();
    let (_data, store, snaps) = local();
    let client = Client::new(vec![], None);
    let r: Reference = format!("127.0.0.1:{}/no/such:tag", reg.port)
        .parse()
        .unwrap();
    let e = pull(&client, &r, &store, &snaps, &Platform::host())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("404") && e.contains("/v2/no/such/manifests/tag"),
        "{e}"
    );
}

#[test]
fn a_registry_that_fails_twice_then_recovers_is_retried() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    push(
        layout.path(),
        &format!("127.0.0.1:{}/test/busybox:v1", reg.port),
    );
    let proxy = berth_testkit::FlakyProxy::start(reg.port, 2);
    let (_data, store, snaps) = local();
    let r: Reference = format!("127.0.0.1:{}/test/busybox:v1", proxy.port)
        .parse()
        .unwrap();
    let p = pull(
        &Client::new(vec![], None),
        &r,
        &store,
        &snaps,
        &Platform::host(),
    )
    .unwrap();
    assert_eq!(p.chain.len(), 1);
    assert_eq!(
        proxy
            .served_errors
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );

    let broken = berth_testkit::FlakyProxy::start(reg.port, usize::MAX);
    let r: Reference = format!("127.0.0.1:{}/test/busybox:v1", broken.port)
        .parse()
        .unwrap();
    let e = pull(
        &Client::new(vec![], None),
        &r,
        &store,
        &snaps,
        &Platform::host(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("HTTP 500"), "{e}");
}

#[test]
fn platform_is_chosen_from_a_pushed_index() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    berth_testkit::two_platform_layout(layout.path());
    let name = format!("127.0.0.1:{}/test/multi:v1", reg.port);
    berth_testkit::push_with(layout.path(), &name, &["--all".to_string()]);
    let (_data, store, snaps) = local();
    let client = Client::new(vec![], None);
    let r: Reference = name.parse().unwrap();
    let arch_of = |p: &str| {
        let pulled = pull(&client, &r, &store, &snaps, &p.parse().unwrap()).unwrap();
        std::fs::read_to_string(snaps.path(&pulled.chain[0]).join("arch")).unwrap()
    };
    assert_eq!(arch_of("linux/arm64"), "arm64");
    assert_eq!(arch_of("linux/amd64"), "amd64");
    let e = pull(&client, &r, &store, &snaps, &"linux/s390x".parse().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("linux/s390x") && e.contains("linux/arm64"),
        "{e}"
    );
}

#[test]
fn docker_media_types_pull_like_oci_ones() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let name = format!("127.0.0.1:{}/test/docker-format:v1", reg.port);
    berth_testkit::push_with(
        layout.path(),
        &name,
        &["--format".to_string(), "v2s2".to_string()],
    );
    let (_data, store, snaps) = local();
    let r: Reference = name.parse().unwrap();
    let p = pull(
        &Client::new(vec![], None),
        &r,
        &store,
        &snaps,
        &Platform::host(),
    )
    .unwrap();
    let manifest = String::from_utf8(store.read(&p.manifest).unwrap()).unwrap();
    assert!(
        manifest.contains("application/vnd.docker.distribution.manifest.v2+json"),
        "{manifest}"
    );
    assert!(snaps.path(&p.chain[0]).join("bin/busybox").exists());
}

#[test]
fn pulling_an_image_already_present_makes_one_manifest_request_and_no_blob_request() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    berth_testkit::two_platform_layout(layout.path());
    berth_testkit::push_with(
        layout.path(),
        &format!("127.0.0.1:{}/test/multi:v1", reg.port),
        &["--all".to_string()],
    );
    let proxy = berth_testkit::FlakyProxy::start(reg.port, 0);
    let (_data, store, snaps) = local();
    let r: Reference = format!("127.0.0.1:{}/test/multi:v1", proxy.port)
        .parse()
        .unwrap();
    let client = Client::new(vec![], None);
    pull(&client, &r, &store, &snaps, &Platform::host()).unwrap();
    let first = proxy.requests.lock().unwrap().len();
    assert!(
        first >= 4,
        "index, manifest, config and a layer: {:?}",
        proxy.requests.lock().unwrap()
    );
    pull(&client, &r, &store, &snaps, &Platform::host()).unwrap();
    let again: Vec<String> = proxy.requests.lock().unwrap()[first..].to_vec();
    assert_eq!(
        again,
        vec!["GET /v2/test/multi/manifests/v1".to_string()],
        "{again:?}"
    );
}
