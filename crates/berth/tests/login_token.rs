//! `berth login` to a registry with Bearer token auth: the token server's refresh token is
//! stored as `identitytoken` (not the password) in Docker's config.json, and later pulls and
//! pushes get their tokens with it.

use berth_testkit::{busybox_layout, push_as, Registry, TokenOptions, TokenServer};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn berth(root: &Path, cfg: &Path, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new(BERTH)
        .arg("--root")
        .arg(root)
        .args(args)
        .env("DOCKER_CONFIG", cfg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn login_to_a_token_registry_stores_the_refresh_token_and_pulls_use_it() {
    let tokens = TokenServer::start(TokenOptions::user("berth", "s3cret"));
    let reg = Registry::start_with_token(&tokens);
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let server = format!("127.0.0.1:{}", reg.port);
    let name = format!("{server}/private/busybox:v1");
    push_as(layout.path(), &name, Some("berth:s3cret"));
    let (root, cfg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let o = berth(root.path(), cfg.path(), &["pull", &name], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("credentials needed"), "{}", text(&o));

    let o = berth(
        root.path(),
        cfg.path(),
        &["login", "-u", "berth", "--password-stdin", &server],
        "wrong\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("wrong username or password"),
        "{}",
        text(&o)
    );

    let o = berth(
        root.path(),
        cfg.path(),
        &["login", "-u", "berth", "--password-stdin", &server],
        "s3cret\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.path().join("config.json")).unwrap()).unwrap();
    let entry = &stored["auths"][&server];
    assert!(
        entry["identitytoken"]
            .as_str()
            .is_some_and(|t| t.starts_with("refresh-")),
        "{stored}"
    );
    let raw = std::fs::read_to_string(cfg.path().join("config.json")).unwrap();
    assert!(!raw.contains("s3cret"), "password stored: {raw}");

    tokens.requests.lock().unwrap().clear();
    let o = berth(root.path(), cfg.path(), &["pull", "-q", &name], "");
    assert!(o.status.success(), "{}", text(&o));
    let log = tokens.log();
    assert!(
        !log.is_empty() && log.iter().all(|l| l == "POST refresh_token berth"),
        "{log:?}"
    );

    let dst = format!("{server}/private/copy:v1");
    let o = berth(root.path(), cfg.path(), &["tag", &name, &dst], "");
    assert!(o.status.success(), "{}", text(&o));
    let o = berth(root.path(), cfg.path(), &["push", &dst], "");
    assert!(
        o.status.success() && text(&o).contains("Mounted from private/busybox"),
        "{}",
        text(&o)
    );
}
