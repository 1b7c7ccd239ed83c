//! How the client reaches registries: HTTPS to a real docker-registry with a CA the test
//! makes (trusted only through certs.d), client certificates, Basic auth over TLS, and plain
//! HTTP only for loopback registries and those in insecure-registries.

use berth_image::manifest::Platform;
use berth_image::pull::pull;
use berth_image::registry::client::{Client, Credentials};
use berth_image::registry::config::RegistryConfig;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Reference};
use berth_testkit::{busybox_layout, non_loopback_ip, push, push_with, FlakyProxy, Registry, Tls};

fn local() -> (tempfile::TempDir, ContentStore, Snapshotter) {
    let data = tempfile::tempdir().unwrap();
    let store = ContentStore::open(data.path().join("content")).unwrap();
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    (data, store, snaps)
}

/// A config dir with `registries.json` (if given) and, for `registry`, `files` copied into
/// `certs.d/<registry>/` under the given names.
fn config_dir(
    registries_json: Option<&str>,
    registry: &str,
    files: &[(&std::path::Path, &str)],
) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    if let Some(j) = registries_json {
        std::fs::write(d.path().join("registries.json"), j).unwrap();
    }
    let certs = d.path().join("certs.d").join(registry);
    std::fs::create_dir_all(&certs).unwrap();
    for (from, name) in files {
        std::fs::copy(from, certs.join(name)).unwrap();
    }
    d
}

fn busybox_in(reg_host: &str, extra: &[String]) -> String {
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let name = format!("{reg_host}/tls/busybox:v1");
    push_with(layout.path(), &name, extra);
    name
}

fn try_pull(client: &Client, name: &str) -> Result<(), String> {
    let (_data, store, snaps) = local();
    let r: Reference = name.parse().unwrap();
    pull(client, &r, &store, &snaps, &Platform::host())
        .map(|p| assert!(store.contains(&p.manifest)))
        .map_err(|e| e.to_string())
}

#[test]
fn tls_registry_with_an_unknown_ca_is_a_clear_error_naming_certs_d() {
    let tls = Tls::make();
    let reg = Registry::start_tls(&tls, None, false);
    let host = format!("127.0.0.1:{}", reg.port);
    let name = busybox_in(&host, &[]);
    let dir = config_dir(None, &host, &[]);
    let client = Client::from_config(RegistryConfig::load_from(dir.path()).unwrap(), None);
    let e = try_pull(&client, &name).unwrap_err();
    let certs = dir.path().join("certs.d").join(&host);
    assert!(e.contains(&host), "{e}");
    assert!(e.contains("unknown authority"), "{e}");
    assert!(
        e.contains(&format!("{}/ca.crt", certs.display())),
        "names where the CA goes: {e}"
    );
}

#[test]
fn tls_registry_with_its_ca_in_certs_d_pulls_over_https() {
    let tls = Tls::make();
    let reg = Registry::start_tls(&tls, None, false);
    let host = format!("127.0.0.1:{}", reg.port);
    let name = busybox_in(&host, &[]);
    let dir = config_dir(None, &host, &[(&tls.ca_cert(), "ca.crt")]);
    let client = Client::from_config(RegistryConfig::load_from(dir.path()).unwrap(), None);
    try_pull(&client, &name).unwrap();
    // `localhost` is in the certificate too, and has its own certs.d directory.
    let by_name = name.replace("127.0.0.1", "localhost");
    let e = try_pull(&client, &by_name).unwrap_err();
    assert!(e.contains("unknown authority"), "{e}");
}

#[test]
fn basic_auth_over_tls() {
    let tls = Tls::make();
    let reg = Registry::start_tls(&tls, Some(("berth", "s3cret")), false);
    let host = format!("127.0.0.1:{}", reg.port);
    let name = busybox_in(&host, &["--dest-creds=berth:s3cret".to_string()]);
    let dir = config_dir(None, &host, &[(&tls.ca_cert(), "ca.crt")]);
    let cfg = || RegistryConfig::load_from(dir.path()).unwrap();
    let e = try_pull(&Client::from_config(cfg(), None), &name).unwrap_err();
    assert!(e.contains("credentials needed"), "{e}");
    let creds = |p: &str| {
        Some(Credentials {
            username: "berth".into(),
            password: p.into(),
            identity_token: None,
        })
    };
    let e = Client::from_config(cfg(), creds("wrong"))
        .ping(&host)
        .unwrap_err()
        .to_string();
    assert!(e.contains("wrong username or password"), "{e}");
    let client = Client::from_config(cfg(), creds("s3cret"));
    client.ping(&host).unwrap();
    try_pull(&client, &name).unwrap();
}

#[test]
fn client_certificate_from_certs_d_is_presented() {
    let tls = Tls::make();
    let reg = Registry::start_tls(&tls, None, true);
    let host = format!("127.0.0.1:{}", reg.port);
    // skopeo reads client.cert/client.key from --dest-cert-dir, like certs.d.
    let skopeo_certs = tempfile::tempdir().unwrap();
    std::fs::copy(tls.client_cert(), skopeo_certs.path().join("client.cert")).unwrap();
    std::fs::copy(tls.client_key(), skopeo_certs.path().join("client.key")).unwrap();
    let name = busybox_in(
        &host,
        &[format!("--dest-cert-dir={}", skopeo_certs.path().display())],
    );

    let without = config_dir(None, &host, &[(&tls.ca_cert(), "ca.crt")]);
    let client = Client::from_config(RegistryConfig::load_from(without.path()).unwrap(), None);
    let e = try_pull(&client, &name).unwrap_err();
    assert!(
        e.contains(&format!("certs.d/{host}/client.cert")),
        "a client certificate is required: {e}"
    );

    let with = config_dir(
        None,
        &host,
        &[
            (&tls.ca_cert(), "ca.crt"),
            (&tls.client_cert(), "client.cert"),
            (&tls.client_key(), "client.key"),
        ],
    );
    let client = Client::from_config(RegistryConfig::load_from(with.path()).unwrap(), None);
    try_pull(&client, &name).unwrap();
}

#[test]
fn a_client_certificate_without_its_key_is_a_clear_error() {
    let tls = Tls::make();
    let reg = Registry::start_tls(&tls, None, false);
    let host = format!("127.0.0.1:{}", reg.port);
    let dir = config_dir(
        None,
        &host,
        &[
            (&tls.ca_cert(), "ca.crt"),
            (&tls.client_cert(), "client.cert"),
        ],
    );
    let client = Client::from_config(RegistryConfig::load_from(dir.path()).unwrap(), None);
    let e = try_pull(&client, &format!("{host}/tls/busybox:v1")).unwrap_err();
    assert!(e.contains("client.cert") && e.contains("client.key"), "{e}");
}

#[test]
fn insecure_registry_takes_an_unverified_certificate() {
    let tls = Tls::make();
    let reg = Registry::start_tls(&tls, None, false);
    let host = format!("127.0.0.1:{}", reg.port);
    let name = busybox_in(&host, &[]);
    let json = format!(r#"{{"insecure-registries": ["{host}"]}}"#);
    let dir = config_dir(Some(&json), &host, &[]);
    let client = Client::from_config(RegistryConfig::load_from(dir.path()).unwrap(), None);
    try_pull(&client, &name).unwrap();
}

#[test]
fn loopback_registry_without_tls_is_reached_over_http() {
    let reg = Registry::start();
    let proxy = FlakyProxy::start(reg.port, 0);
    let name = busybox_in(&format!("127.0.0.1:{}", reg.port), &[]);
    let name = name.replace(&reg.port.to_string(), &proxy.port.to_string());
    let dir = tempfile::tempdir().unwrap();
    let client = Client::from_config(RegistryConfig::load_from(dir.path()).unwrap(), None);
    try_pull(&client, &name).unwrap();
    assert!(proxy
        .requests
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.starts_with("GET /v2/tls/busybox/manifests/v1")));
}

#[test]
fn plain_http_only_for_registries_listed_as_insecure() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("skipped: this host has no non-loopback address");
        return;
    };
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    push(
        layout.path(),
        &format!("127.0.0.1:{}/tls/busybox:v1", reg.port),
    );
    // The same registry, seen at an address that is not loopback.
    let relay = FlakyProxy::relay_on(ip, reg.port);
    let host = format!("{ip}:{}", relay.port);
    let name = format!("{host}/tls/busybox:v1");

    let none = tempfile::tempdir().unwrap();
    let client = Client::from_config(RegistryConfig::load_from(none.path()).unwrap(), None);
    let e = try_pull(&client, &name).unwrap_err();
    assert!(
        e.contains("does not speak HTTPS") && e.contains("insecure-registries"),
        "{e}"
    );
    assert!(
        relay.requests.lock().unwrap().is_empty(),
        "no plain HTTP request may reach a registry that is not insecure: {:?}",
        relay.requests.lock().unwrap()
    );

    for entry in [host.clone(), format!("{ip}/32")] {
        let json = format!(r#"{{"insecure-registries": ["{entry}"]}}"#);
        let dir = config_dir(Some(&json), &host, &[]);
        let client = Client::from_config(RegistryConfig::load_from(dir.path()).unwrap(), None);
        try_pull(&client, &name).unwrap_or_else(|e| panic!("insecure by {entry}: {e}"));
    }
    assert!(!relay.requests.lock().unwrap().is_empty());
}
