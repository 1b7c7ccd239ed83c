//! Mirrors from registries.json: asked first, in order, serving manifest and blobs of what
//! they have; a dead mirror or one without the image falls back to the next, then to the
//! registry itself. Real docker-registry instances on loopback stand in for mirror and
//! registry; `registry.invalid` stands for a registry that cannot be reached.

use berth_image::manifest::Platform;
use berth_image::pull::pull;
use berth_image::registry::client::Client;
use berth_image::registry::config::RegistryConfig;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Reference};
use berth_testkit::{busybox_layout, push, FlakyProxy, Registry};

fn local() -> (tempfile::TempDir, ContentStore, Snapshotter) {
    let data = tempfile::tempdir().unwrap();
    let store = ContentStore::open(data.path().join("content")).unwrap();
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    (data, store, snaps)
}

/// A registry holding busybox at `repo:v1`.
fn registry_with(repo: &str) -> Registry {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    push(layout.path(), &format!("127.0.0.1:{}/{repo}:v1", reg.port));
    reg
}

fn client(registries_json: &str) -> (tempfile::TempDir, Client) {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("registries.json"), registries_json).unwrap();
    let c = Client::from_config(RegistryConfig::load_from(d.path()).unwrap(), None);
    (d, c)
}

fn try_pull(client: &Client, name: &str) -> Result<(), String> {
    let (_data, store, snaps) = local();
    let r: Reference = name.parse().unwrap();
    pull(client, &r, &store, &snaps, &Platform::host())
        .map(|p| assert!(store.contains(&p.manifest)))
        .map_err(|e| e.to_string())
}

fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn seen(p: &FlakyProxy, what: &str) -> usize {
    p.requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.contains(what))
        .count()
}

#[test]
fn a_mirror_serves_an_image_whose_registry_is_unreachable() {
    let mirror = registry_with("x/busybox");
    let relay = FlakyProxy::start(mirror.port, 0);
    let (_d, c) = client(&format!(
        r#"{{"mirrors": {{"registry.invalid:5000": ["http://127.0.0.1:{}"]}}}}"#,
        relay.port
    ));
    try_pull(&c, "registry.invalid:5000/x/busybox:v1").unwrap();
    assert_eq!(seen(&relay, "GET /v2/x/busybox/manifests/v1"), 1);
    assert!(
        seen(&relay, "GET /v2/x/busybox/blobs/sha256:") >= 2,
        "config and layer from the mirror that answered: {:?}",
        relay.requests.lock().unwrap()
    );
}

#[test]
fn without_a_mirror_the_unreachable_registry_is_an_error() {
    let (_d, c) = client("{}");
    let e = try_pull(&c, "registry.invalid:5000/x/busybox:v1").unwrap_err();
    assert!(e.contains("registry.invalid:5000"), "{e}");
}

#[test]
fn a_dead_mirror_falls_back_to_the_registry() {
    let reg = registry_with("x/busybox");
    let host = format!("127.0.0.1:{}", reg.port);
    let (_d, c) = client(&format!(
        r#"{{"mirrors": {{"{host}": ["http://127.0.0.1:{}"]}}}}"#,
        dead_port()
    ));
    try_pull(&c, &format!("{host}/x/busybox:v1")).unwrap();
}

#[test]
fn mirrors_are_tried_in_order_and_one_without_the_image_is_skipped() {
    let empty = Registry::start();
    let full = registry_with("x/busybox");
    let (first, second) = (
        FlakyProxy::start(empty.port, 0),
        FlakyProxy::start(full.port, 0),
    );
    let (_d, c) = client(&format!(
        r#"{{"mirrors": {{"registry.invalid:5000": ["http://127.0.0.1:{}", "http://127.0.0.1:{}"]}}}}"#,
        first.port, second.port
    ));
    try_pull(&c, "registry.invalid:5000/x/busybox:v1").unwrap();
    assert_eq!(seen(&first, "GET /v2/x/busybox/manifests/v1"), 1);
    assert_eq!(seen(&first, "/blobs/"), 0);
    assert!(seen(&second, "GET /v2/x/busybox/blobs/") >= 2);
}

#[test]
fn docker_hub_pulls_use_registry_mirrors() {
    let mirror = registry_with("library/busybox");
    let (_d, c) = client(&format!(
        r#"{{"registry-mirrors": ["http://127.0.0.1:{}/"]}}"#,
        mirror.port
    ));
    try_pull(&c, "busybox:v1").unwrap();
}
