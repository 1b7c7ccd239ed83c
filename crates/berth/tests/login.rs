//! Registries that need credentials: 401 without them, a wrong password refused, `login`
//! storing them in Docker's config.json (under DOCKER_CONFIG here), `logout` removing them.

use berth_testkit::{busybox_layout, push_as, Registry};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn berth(root: &std::path::Path, cfg: &std::path::Path, args: &[&str], stdin: &str) -> Output {
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
fn basic_auth_registry_needs_login_and_refuses_a_wrong_password() {
    let reg = Registry::start_with_htpasswd("berth", "s3cret");
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let server = format!("127.0.0.1:{}", reg.port);
    let name = format!("{server}/private/busybox:v1");
    push_as(layout.path(), &name, Some("berth:s3cret"));
    let root = tempfile::tempdir().unwrap();
    let cfg = tempfile::tempdir().unwrap();

    let o = berth(root.path(), cfg.path(), &["pull", &name], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("credentials needed"), "{}", text(&o));

    let o = berth(
        root.path(),
        cfg.path(),
        &["login", "-u", "berth", "--password-stdin", &server],
        "wrong\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("wrong username or password"),
        "{}",
        text(&o)
    );
    assert!(
        !cfg.path().join("config.json").exists(),
        "a refused login stored credentials"
    );

    let o = berth(
        root.path(),
        cfg.path(),
        &["login", "-u", "berth", "--password-stdin", &server],
        "s3cret\n",
    );
    assert!(
        o.status.success() && text(&o).contains("Login Succeeded"),
        "{}",
        text(&o)
    );
    let stored = std::fs::read_to_string(cfg.path().join("config.json")).unwrap();
    assert!(stored.contains(&server), "{stored}");

    let o = berth(root.path(), cfg.path(), &["pull", "-q", &name], "");
    assert!(o.status.success(), "{}", text(&o));

    let o = berth(root.path(), cfg.path(), &["logout", &server], "");
    assert!(
        text(&o).contains("Removing login credentials"),
        "{}",
        text(&o)
    );
    let o = berth(root.path(), cfg.path(), &["pull", &name], "");
    assert_eq!(
        o.status.code(),
        Some(1),
        "pull still authorized after logout: {}",
        text(&o)
    );
}
