//! Arguments after the image belong to the container: the first word that is not one of
//! berth's options ends them, as docker parses `run`, `create` and `exec`.

mod container_support;
use container_support::*;

#[test]
fn entrypoint_sh_gets_dash_c_after_the_image() {
    let root = Root::new();
    let out = root.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        IMAGE,
        "-c",
        "echo hi",
    ]);
    assert_eq!(out, "hi\n");
}

/// An image whose entrypoint is `ls`, from the test busybox tarball.
fn ls_image(root: &Root) -> &'static str {
    let tgz = root.path().join("busybox.tgz");
    root.ok(&[
        "import",
        "--change",
        "ENTRYPOINT [\"ls\"]",
        tgz.to_str().unwrap(),
        "lsimg:latest",
    ]);
    "lsimg:latest"
}

#[test]
fn options_after_the_image_reach_its_entrypoint() {
    let root = Root::new();
    let img = ls_image(&root);
    // -d is ls's (list the directory itself), not berth's detach.
    let out = root.ok(&["run", "--rm", "--network", "none", img, "-d", "/etc"]);
    assert_eq!(out, "/etc\n");
    // -l is ls's long listing, not a label.
    let id = root
        .ok(&["create", "--network", "none", img, "-l", "/etc/passwd"])
        .trim()
        .to_string();
    let c = root.inspect(&id);
    assert_eq!(c["Config"]["Labels"], serde_json::json!({}), "{c}");
    assert_eq!(c["Args"], serde_json::json!(["-l", "/etc/passwd"]));
    let out = root.ok(&["start", "-a", &id]);
    assert!(
        out.contains("/etc/passwd") && out.starts_with('-'),
        "not a long listing: {out}"
    );
}

#[test]
fn help_and_double_dash_after_the_image_are_the_containers() {
    let root = Root::new();
    let out = root.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        IMAGE,
        "echo",
        "--help",
        "--",
        "-x",
    ]);
    assert_eq!(out, "--help -- -x\n");
    // `--` before the image ends berth's options too, and is not passed on.
    let out = root.ok(&["run", "--rm", "--network", "none", "--", IMAGE, "echo", "a"]);
    assert_eq!(out, "a\n");
    // After the image, `--` is the container's command, as docker hands it on.
    let o = root.berth(&["run", "--rm", "--network", "none", IMAGE, "--", "echo", "b"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert!(stderr(&o).contains("\"--\""), "{}", stderr(&o));
}

#[test]
fn exec_options_after_the_container_are_the_commands() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", "--network", "none", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let out = root.ok(&["exec", &id, "ls", "-d", "/etc"]);
    assert_eq!(out, "/etc\n");
    let out = root.ok(&["exec", &id, "sh", "-c", "echo -e x; echo $0", "-u"]);
    assert_eq!(out, "x\n-u\n");
}
