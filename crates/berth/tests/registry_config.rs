//! `berth login` and `berth pull` reaching registries the way registries.json and certs.d
//! say (config dir from BERTH_CONFIG_DIR): a TLS registry with Basic auth trusted through
//! certs.d, a mirror standing in for an unreachable registry, a broken registries.json.

use berth_testkit::{busybox_layout, push, push_with, Registry, Tls};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

/// Run berth with its own data root, Docker config dir and Berth config dir.
fn berth(dirs: &Dirs, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new(BERTH)
        .arg("--root")
        .arg(dirs.root.path())
        .args(args)
        .env("DOCKER_CONFIG", dirs.docker.path())
        .env("BERTH_CONFIG_DIR", dirs.config.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

struct Dirs {
    root: tempfile::TempDir,
    docker: tempfile::TempDir,
    config: tempfile::TempDir,
}

fn dirs() -> Dirs {
    Dirs {
        root: tempfile::tempdir().unwrap(),
        docker: tempfile::tempdir().unwrap(),
        config: tempfile::tempdir().unwrap(),
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn trust(config: &Path, registry: &str, ca: &Path) {
    let d = config.join("certs.d").join(registry);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(ca, d.join("ca.crt")).unwrap();
}

#[test]
fn login_and_pull_over_tls_with_the_ca_in_certs_d() {
    let tls = Tls::make();
    let reg = Registry::start_tls(&tls, Some(("berth", "s3cret")), false);
    let server = format!("127.0.0.1:{}", reg.port);
    let name = format!("{server}/private/busybox:v1");
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    push_with(
        layout.path(),
        &name,
        &["--dest-creds=berth:s3cret".to_string()],
    );
    let d = dirs();
    let login = |d: &Dirs| {
        berth(
            d,
            &["login", "-u", "berth", "--password-stdin", &server],
            "s3cret\n",
        )
    };

    let o = login(&d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let certs = d.config.path().join("certs.d").join(&server);
    assert!(
        text(&o).starts_with("Error: ")
            && text(&o).contains("unknown authority")
            && text(&o).contains(&certs.display().to_string()),
        "{}",
        text(&o)
    );

    trust(d.config.path(), &server, &tls.ca_cert());
    let o = login(&d);
    assert!(text(&o).contains("Login Succeeded"), "{}", text(&o));
    let o = berth(&d, &["pull", "-q", &name], "");
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn pull_through_a_mirror_of_an_unreachable_registry() {
    let mirror = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    push(
        layout.path(),
        &format!("127.0.0.1:{}/team/busybox:v1", mirror.port),
    );
    let d = dirs();
    std::fs::write(
        d.config.path().join("registries.json"),
        format!(
            r#"{{"mirrors": {{"registry.invalid:5000": ["http://127.0.0.1:{}"]}}}}"#,
            mirror.port
        ),
    )
    .unwrap();
    let o = berth(&d, &["pull", "registry.invalid:5000/team/busybox:v1"], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("registry.invalid:5000/team/busybox:v1"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_broken_registries_json_is_a_clear_error() {
    let d = dirs();
    let file = d.config.path().join("registries.json");
    std::fs::write(&file, r#"{"insecure-registries": "reg.lan:5000"}"#).unwrap();
    let o = berth(&d, &["pull", "registry.invalid:5000/x:v1"], "");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("Error: ")
            && err.contains(&format!(
                "{}: insecure-registries: must be a list",
                file.display()
            )),
        "{err}"
    );
    std::fs::write(&file, "{\"registry-mirrors\": [").unwrap();
    let o = berth(&d, &["login", "-u", "u", "-p", "p", "reg.lan:5000"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("registries.json: not valid JSON"),
        "{}",
        text(&o)
    );
}
