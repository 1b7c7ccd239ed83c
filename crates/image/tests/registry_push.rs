//! Push to a real registry (Debian's docker-registry on 127.0.0.1): an image pulled into a
//! local store goes up under another name and comes back identical; the counting proxy of
//! testkit shows which requests were made (HEAD only on a second push, a mount across
//! repositories, PATCH chunks when forced).

use berth_image::manifest::Platform;
use berth_image::metadata::{ImageRecord, Metadata};
use berth_image::pull::{pull, Pulled};
use berth_image::registry::client::{Client, Credentials};
use berth_image::registry::push::{mount_sources, push, LayerPushed, PushOptions};
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest, Reference};
use berth_testkit::{busybox_layout, FlakyProxy, Registry};
use std::collections::HashMap;
use std::process::Command;

struct Local {
    _dir: tempfile::TempDir,
    store: ContentStore,
    snaps: Snapshotter,
    md: Metadata,
}

fn local() -> Local {
    let dir = tempfile::tempdir().unwrap();
    Local {
        store: ContentStore::open(dir.path().join("content")).unwrap(),
        snaps: Snapshotter::open(dir.path().join("snapshots")).unwrap(),
        md: Metadata::open(&dir.path().join("berth.db")).unwrap(),
        _dir: dir,
    }
}

fn r(s: &str) -> Reference {
    s.parse().unwrap()
}

/// A registry with busybox at `test/busybox:v1` (by skopeo), pulled into a local store and
/// named there.
fn pulled(reg_host: &str, creds: Option<Credentials>) -> (Local, Pulled) {
    let l = local();
    let src = r(&format!("{reg_host}/test/busybox:v1"));
    let p = pull(
        &Client::new(vec![], creds),
        &src,
        &l.store,
        &l.snaps,
        &Platform::host(),
    )
    .unwrap();
    l.md.tag(&ImageRecord {
        name: src.to_string(),
        manifest: p.manifest.clone(),
        config: p.config.clone(),
        chain: p.chain.clone(),
        created: 0,
    })
    .unwrap();
    (l, p)
}

fn registry_with_busybox() -> Registry {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    berth_testkit::push(
        layout.path(),
        &format!("127.0.0.1:{}/test/busybox:v1", reg.port),
    );
    reg
}

fn push_plain(
    client: &Client,
    l: &Local,
    to: &Reference,
    manifest: &Digest,
    mounts: &HashMap<Digest, String>,
    opts: &PushOptions,
) -> (Digest, Vec<LayerPushed>) {
    let mut seen = Vec::new();
    let p = push(
        client,
        to,
        &l.store,
        manifest,
        mounts,
        opts,
        &mut |_, how| seen.push(how.clone()),
    )
    .unwrap();
    (p.digest, seen)
}

fn since(proxy: &FlakyProxy, from: usize) -> Vec<String> {
    proxy.requests.lock().unwrap()[from..].to_vec()
}

#[test]
fn a_pushed_image_pulls_back_identical_and_skopeo_sees_it() {
    let reg = registry_with_busybox();
    let host = format!("127.0.0.1:{}", reg.port);
    let (l, p) = pulled(&host, None);
    let to = r(&format!("{host}/pushed/busybox:v2"));
    let client = Client::new(vec![], None);
    let (digest, layers) = push_plain(
        &client,
        &l,
        &to,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
    );
    assert_eq!(
        digest, p.manifest,
        "the registry keeps the manifest byte for byte"
    );
    assert_eq!(layers, vec![LayerPushed::Uploaded]);

    let fresh = local();
    let back = pull(&client, &to, &fresh.store, &fresh.snaps, &Platform::host()).unwrap();
    assert_eq!(
        (back.manifest, back.config, back.chain),
        (p.manifest.clone(), p.config, p.chain)
    );

    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false"])
        .arg(format!("docker://{to}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Digest"], p.manifest.to_string());
}

#[test]
fn a_second_push_only_asks_and_sends_no_blob_data() {
    let reg = registry_with_busybox();
    let proxy = FlakyProxy::start(reg.port, 0);
    let host = format!("127.0.0.1:{}", proxy.port);
    let (l, p) = pulled(&host, None);
    let to = r(&format!("{host}/again/busybox:v1"));
    let client = Client::new(vec![], None);
    push_plain(
        &client,
        &l,
        &to,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
    );
    let first = proxy.requests.lock().unwrap().len();
    let (_, layers) = push_plain(
        &client,
        &l,
        &to,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
    );
    assert_eq!(layers, vec![LayerPushed::Exists]);
    let again = since(&proxy, first);
    assert!(
        again
            .iter()
            .all(|q| q.starts_with("HEAD /v2/again/busybox/blobs/")
                || q == "PUT /v2/again/busybox/manifests/v1"),
        "{again:?}"
    );
    assert_eq!(again.len(), 3, "layer, config, manifest: {again:?}");
}

#[test]
fn pushing_under_another_repository_mounts_the_blobs() {
    let reg = registry_with_busybox();
    let proxy = FlakyProxy::start(reg.port, 0);
    let host = format!("127.0.0.1:{}", proxy.port);
    let (l, p) = pulled(&host, None);
    let to = r(&format!("{host}/elsewhere/busybox:v1"));
    let mounts = mount_sources(&l.md, &l.store, &to).unwrap();
    assert_eq!(mounts.len(), 2, "layer and config: {mounts:?}");
    let first = proxy.requests.lock().unwrap().len();
    let (digest, layers) = push_plain(
        &Client::new(vec![], None),
        &l,
        &to,
        &p.manifest,
        &mounts,
        &PushOptions::default(),
    );
    assert_eq!(digest, p.manifest);
    assert_eq!(layers, vec![LayerPushed::Mounted("test/busybox".into())]);
    let reqs = since(&proxy, first);
    let mounted: Vec<&String> = reqs
        .iter()
        .filter(|q| {
            q.starts_with("POST /v2/elsewhere/busybox/blobs/uploads/?mount=sha256:")
                && q.ends_with("&from=test/busybox")
        })
        .collect();
    assert_eq!(mounted.len(), 2, "{reqs:?}");
    assert!(
        !reqs
            .iter()
            .any(|q| q.starts_with("PATCH") || q.contains("digest=")),
        "blob data was sent: {reqs:?}"
    );
}

#[test]
fn a_mount_the_registry_cannot_do_falls_back_to_an_upload() {
    let reg = registry_with_busybox();
    let host = format!("127.0.0.1:{}", reg.port);
    let (l, p) = pulled(&host, None);
    let to = r(&format!("{host}/fallback/busybox:v1"));
    let mounts: HashMap<Digest, String> = mount_sources(&l.md, &l.store, &to)
        .unwrap()
        .into_keys()
        .map(|d| (d, "nowhere/at-all".to_string()))
        .collect();
    let client = Client::new(vec![], None);
    let (d, layers) = push_plain(
        &client,
        &l,
        &to,
        &p.manifest,
        &mounts,
        &PushOptions::default(),
    );
    assert_eq!(layers, vec![LayerPushed::Uploaded]);
    assert_eq!(d, p.manifest);
    let fresh = local();
    pull(&client, &to, &fresh.store, &fresh.snaps, &Platform::host()).unwrap();
}

#[test]
fn a_registry_that_fails_twice_during_a_push_is_retried() {
    let reg = registry_with_busybox();
    let (l, p) = pulled(&format!("127.0.0.1:{}", reg.port), None);
    let flaky = FlakyProxy::start(reg.port, 2);
    let to = r(&format!("127.0.0.1:{}/retried/busybox:v1", flaky.port));
    let (d, _) = push_plain(
        &Client::new(vec![], None),
        &l,
        &to,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
    );
    assert_eq!(d, p.manifest);
    let reqs = flaky.requests.lock().unwrap().clone();
    assert_eq!(
        flaky
            .served_errors
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    assert!(
        reqs[..3].iter().all(|q| q.starts_with("HEAD ")),
        "the failed HEAD was asked again: {reqs:?}"
    );
}

#[test]
fn chunked_upload_forced_on_a_small_image_works() {
    let reg = registry_with_busybox();
    let proxy = FlakyProxy::start(reg.port, 0);
    let host = format!("127.0.0.1:{}", proxy.port);
    let (l, p) = pulled(&host, None);
    let to = r(&format!("{host}/chunked/busybox:v1"));
    let first = proxy.requests.lock().unwrap().len();
    let opts = PushOptions {
        chunk_size: 100_000,
    };
    let client = Client::new(vec![], None);
    push_plain(&client, &l, &to, &p.manifest, &HashMap::new(), &opts);
    let reqs = since(&proxy, first);
    let patches = reqs.iter().filter(|q| q.starts_with("PATCH ")).count();
    assert!(patches >= 5, "busybox (~1 MB) in 100 kB chunks: {reqs:?}");

    let fresh = local();
    let back = pull(&client, &to, &fresh.store, &fresh.snaps, &Platform::host()).unwrap();
    assert_eq!(back.chain, p.chain);
}

#[test]
fn push_to_a_basic_auth_registry_needs_credentials() {
    let plain = registry_with_busybox();
    let (l, p) = pulled(&format!("127.0.0.1:{}", plain.port), None);
    let reg = Registry::start_with_htpasswd("berth", "s3cret");
    let to = r(&format!("127.0.0.1:{}/private/busybox:v1", reg.port));
    let e = push(
        &Client::new(vec![], None),
        &to,
        &l.store,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("401") && e.contains("credentials needed"), "{e}");
    let creds = Credentials {
        username: "berth".into(),
        password: "s3cret".into(),
        identity_token: None,
    };
    let (d, _) = push_plain(
        &Client::new(vec![], Some(creds)),
        &l,
        &to,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
    );
    assert_eq!(d, p.manifest);
}

#[test]
fn push_to_a_token_registry_with_credentials_works() {
    let plain = registry_with_busybox();
    let (l, p) = pulled(&format!("127.0.0.1:{}", plain.port), None);
    let tokens =
        berth_testkit::TokenServer::start(berth_testkit::TokenOptions::user("berth", "s3cret"));
    let reg = Registry::start_with_token(&tokens);
    let to = r(&format!("127.0.0.1:{}/team/busybox:v1", reg.port));
    let creds = Credentials {
        username: "berth".into(),
        password: "s3cret".into(),
        identity_token: None,
    };
    let client = Client::new(vec![], Some(creds));
    let (d, _) = push_plain(
        &client,
        &l,
        &to,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
    );
    assert_eq!(d, p.manifest);
    let fresh = local();
    let back = pull(&client, &to, &fresh.store, &fresh.snaps, &Platform::host()).unwrap();
    assert_eq!(back.manifest, p.manifest);
}

#[test]
fn push_with_a_read_only_token_is_refused_as_access_denied() {
    let plain = registry_with_busybox();
    let (l, p) = pulled(&format!("127.0.0.1:{}", plain.port), None);
    let mut opts = berth_testkit::TokenOptions::user("berth", "s3cret");
    opts.pull_only = true;
    let tokens = berth_testkit::TokenServer::start(opts);
    let reg = Registry::start_with_token(&tokens);
    let to = r(&format!("127.0.0.1:{}/team/busybox:v1", reg.port));
    let creds = Credentials {
        username: "berth".into(),
        password: "s3cret".into(),
        identity_token: None,
    };
    let e = push(
        &Client::new(vec![], Some(creds)),
        &to,
        &l.store,
        &p.manifest,
        &HashMap::new(),
        &PushOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("access denied") && e.contains("repository:team/busybox"),
        "{e}"
    );
}
