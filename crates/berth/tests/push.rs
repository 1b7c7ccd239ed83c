//! `berth push` against a real registry: docker push's lines, a mount from the repository
//! the image was pulled from, `Layer already exists` on a second push, forced chunked
//! uploads, and a Basic-auth registry refusing the push until `berth login`.

use berth_testkit::{busybox_layout, FlakyProxy, Registry};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn berth(root: &Path, cfg: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut c = Command::new(BERTH)
        .arg("--root")
        .arg(root)
        .args(args)
        .env("DOCKER_CONFIG", cfg)
        .envs(env.iter().copied())
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

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
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

fn digest_line(out: &str) -> (String, String) {
    let line = out
        .lines()
        .find(|l| l.contains(": digest: sha256:"))
        .unwrap_or_else(|| panic!("no digest line: {out}"));
    let mut w = line.split_whitespace();
    let tag = w.next().unwrap().trim_end_matches(':').to_string();
    assert_eq!(w.next(), Some("digest:"));
    let digest = w.next().unwrap().to_string();
    assert_eq!(w.next(), Some("size:"), "{line}");
    assert!(w.next().unwrap().parse::<u64>().is_ok(), "{line}");
    (tag, digest)
}

#[test]
fn push_mounts_from_the_source_repository_then_finds_layers_present_and_pulls_back() {
    let reg = registry_with_busybox();
    let proxy = FlakyProxy::start(reg.port, 0);
    let host = format!("127.0.0.1:{}", proxy.port);
    let (root, cfg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = |args: &[&str]| berth(root.path(), cfg.path(), args, &[], "");
    let src = format!("{host}/test/busybox:v1");
    let dst = format!("{host}/team/app:2.0");
    ok(b(&["pull", "-q", &src]));
    ok(b(&["tag", &src, &dst]));

    let out = ok(b(&["push", &dst]));
    assert!(
        out.contains(&format!("The push refers to repository [{host}/team/app]")),
        "{out}"
    );
    assert!(out.contains(": Mounted from test/busybox"), "{out}");
    let (tag, digest) = digest_line(&out);
    assert_eq!(tag, "2.0");
    let mounts = proxy
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|q| q.contains("?mount=") && q.ends_with("&from=test/busybox"))
        .count();
    assert_eq!(mounts, 2, "layer and config mounted");

    let out = ok(b(&["push", &dst]));
    assert!(out.contains(": Layer already exists"), "{out}");
    assert_eq!(digest_line(&out).1, digest);

    let fresh = tempfile::tempdir().unwrap();
    let back = ok(berth(fresh.path(), cfg.path(), &["pull", &dst], &[], ""));
    assert!(back.contains(&format!("Digest: {digest}")), "{back}");
}

#[test]
fn push_in_forced_chunks_prints_pushed_and_the_registry_keeps_the_image() {
    let reg = registry_with_busybox();
    let proxy = FlakyProxy::start(reg.port, 0);
    let host = format!("127.0.0.1:{}", proxy.port);
    let (root, cfg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let src = format!("127.0.0.1:{}/test/busybox:v1", reg.port);
    let dst = format!("{host}/chunked/busybox:v1");
    ok(berth(
        root.path(),
        cfg.path(),
        &["pull", "-q", &src],
        &[],
        "",
    ));
    ok(berth(
        root.path(),
        cfg.path(),
        &["tag", &src, &dst],
        &[],
        "",
    ));
    let out = ok(berth(
        root.path(),
        cfg.path(),
        &["push", &dst],
        &[("BERTH_PUSH_CHUNK_SIZE", "65536")],
        "",
    ));
    assert!(out.contains(": Pushed"), "{out}");
    let (_, digest) = digest_line(&out);
    let patches = proxy
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|q| q.starts_with("PATCH /v2/chunked/busybox/blobs/uploads/"))
        .count();
    assert!(
        patches >= 10,
        "about 1 MB in 64 KiB chunks: {patches} PATCHes"
    );
    let o = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false"])
        .arg(format!(
            "docker://127.0.0.1:{}/chunked/busybox:v1",
            reg.port
        ))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["Digest"], digest.as_str());

    let o = berth(
        root.path(),
        cfg.path(),
        &["push", &dst],
        &[("BERTH_PUSH_CHUNK_SIZE", "lots")],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).starts_with("Error: BERTH_PUSH_CHUNK_SIZE"),
        "{}",
        text(&o)
    );
}

#[test]
fn push_to_a_basic_auth_registry_fails_clearly_until_login() {
    let plain = registry_with_busybox();
    let reg = Registry::start_with_htpasswd("berth", "s3cret");
    let server = format!("127.0.0.1:{}", reg.port);
    let (root, cfg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let src = format!("127.0.0.1:{}/test/busybox:v1", plain.port);
    let dst = format!("{server}/private/busybox:v1");
    ok(berth(
        root.path(),
        cfg.path(),
        &["pull", "-q", &src],
        &[],
        "",
    ));
    ok(berth(
        root.path(),
        cfg.path(),
        &["tag", &src, &dst],
        &[],
        "",
    ));

    let o = berth(root.path(), cfg.path(), &["push", &dst], &[], "");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("Error: ")
            && err.contains("401")
            && err.contains("credentials needed")
            && err.lines().count() == 1,
        "{err}"
    );

    ok(berth(
        root.path(),
        cfg.path(),
        &["login", "-u", "berth", "--password-stdin", &server],
        &[],
        "s3cret\n",
    ));
    let out = ok(berth(root.path(), cfg.path(), &["push", &dst], &[], ""));
    assert!(out.contains(": Pushed"), "{out}");
    digest_line(&out);
}

#[test]
fn push_of_an_unknown_image_is_a_clear_error() {
    let (root, cfg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = berth(
        root.path(),
        cfg.path(),
        &["push", "127.0.0.1:1/no/such:v1"],
        &[],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "Error: No such image: 127.0.0.1:1/no/such:v1"
    );
}
