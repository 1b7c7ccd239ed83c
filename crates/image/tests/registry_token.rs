//! Registries with Bearer token auth: Debian's docker-registry in `auth: token:` mode, trusting
//! the tests' own token server (testkit), which logs how each token was asked for.

use berth_image::manifest::Platform;
use berth_image::pull::pull;
use berth_image::registry::client::{Client, Credentials};
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Reference};
use berth_testkit::{busybox_layout, push_as, Registry, TokenOptions, TokenServer};

fn local() -> (tempfile::TempDir, ContentStore, Snapshotter) {
    let data = tempfile::tempdir().unwrap();
    let store = ContentStore::open(data.path().join("content")).unwrap();
    let snaps = Snapshotter::open(data.path().join("snapshots")).unwrap();
    (data, store, snaps)
}

/// A token registry holding busybox as `private/busybox:v1` (pushed by skopeo with the
/// user's credentials); the token log starts empty.
fn token_registry(opts: TokenOptions) -> (TokenServer, Registry, Reference) {
    let tokens = TokenServer::start(opts);
    let reg = Registry::start_with_token(&tokens);
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let name = format!("127.0.0.1:{}/private/busybox:v1", reg.port);
    push_as(layout.path(), &name, Some("berth:s3cret"));
    tokens.requests.lock().unwrap().clear();
    (tokens, reg, name.parse().unwrap())
}

fn creds(password: &str) -> Option<Credentials> {
    Some(Credentials {
        username: "berth".into(),
        password: password.into(),
        identity_token: None,
    })
}

fn pull_with(c: Option<Credentials>, r: &Reference) -> berth_image::Result<()> {
    let (_data, store, snaps) = local();
    pull(
        &Client::new(vec![], c),
        r,
        &store,
        &snaps,
        &Platform::host(),
    )
    .map(|_| ())
}

#[test]
fn anonymous_pull_is_refused_when_the_token_server_denies_anonymous_access() {
    let (tokens, _reg, r) = token_registry(TokenOptions::user("berth", "s3cret"));
    let e = pull_with(None, &r).unwrap_err().to_string();
    assert!(
        e.contains("credentials needed") && e.contains(&tokens.realm()),
        "{e}"
    );
    assert_eq!(tokens.log(), vec!["GET anonymous denied".to_string()]);
}

#[test]
fn anonymous_pull_works_when_the_token_server_allows_it() {
    let mut opts = TokenOptions::user("berth", "s3cret");
    opts.anonymous_pull = true;
    let (tokens, _reg, r) = token_registry(opts);
    pull_with(None, &r).unwrap();
    assert!(
        tokens.log().iter().all(|l| l == "GET anonymous"),
        "{:?}",
        tokens.log()
    );
}

#[test]
fn credentials_go_by_get_when_the_token_server_takes_no_post() {
    let mut opts = TokenOptions::user("berth", "s3cret");
    opts.offer_post = false;
    let (tokens, _reg, r) = token_registry(opts);
    pull_with(creds("s3cret"), &r).unwrap();
    let log = tokens.log();
    assert_eq!(log[..2], ["POST 405", "GET basic berth"], "{log:?}");
}

#[test]
fn credentials_go_by_oauth2_post_with_grant_type_password() {
    let (tokens, _reg, r) = token_registry(TokenOptions::user("berth", "s3cret"));
    pull_with(creds("s3cret"), &r).unwrap();
    let log = tokens.log();
    assert!(!log.is_empty(), "no token asked for");
    assert!(log.iter().all(|l| l == "POST password berth"), "{log:?}");
    // One token for the repository's pull scope serves every request of the pull.
    assert_eq!(log.len(), 1, "{log:?}");
}

#[test]
fn login_gets_a_refresh_token_that_later_pulls_use() {
    let (tokens, _reg, r) = token_registry(TokenOptions::user("berth", "s3cret"));
    let refresh = Client::new(vec![], creds("s3cret"))
        .login(r.domain())
        .unwrap()
        .expect("the token server gives a refresh token at login");
    let stored = Some(Credentials {
        username: "berth".into(),
        password: String::new(),
        identity_token: Some(refresh),
    });
    pull_with(stored, &r).unwrap();
    let log = tokens.log();
    assert_eq!(log[0], "POST password berth", "{log:?}");
    assert!(
        log[1..].iter().all(|l| l == "POST refresh_token berth") && log.len() > 1,
        "{log:?}"
    );

    let forged = Some(Credentials {
        username: "berth".into(),
        password: String::new(),
        identity_token: Some("refresh-forged".into()),
    });
    let e = pull_with(forged, &r).unwrap_err().to_string();
    assert!(e.contains("refresh token was refused"), "{e}");
}

#[test]
fn a_wrong_password_is_a_clear_error() {
    let (_tokens, _reg, r) = token_registry(TokenOptions::user("berth", "s3cret"));
    let e = pull_with(creds("wrong"), &r).unwrap_err().to_string();
    assert!(e.contains("wrong username or password"), "{e}");
    let e = Client::new(vec![], creds("wrong"))
        .login(r.domain())
        .unwrap_err()
        .to_string();
    assert!(e.contains("wrong username or password"), "{e}");
}
