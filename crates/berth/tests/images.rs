//! The image commands against a real registry on loopback (see berth-testkit).

use berth_testkit::{busybox_layout, push, Registry};
use std::process::{Command, Output};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn berth(root: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BERTH)
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {} {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn pull_images_tag_and_rmi_work_like_docker() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    busybox_layout(layout.path());
    let name = format!("127.0.0.1:{}/test/busybox:v1", reg.port);
    push(layout.path(), &name);
    let root = tempfile::tempdir().unwrap();

    let first = out(&berth(root.path(), &["pull", &name]));
    assert!(
        first.starts_with("v1: Pulling from test/busybox"),
        "{first}"
    );
    assert!(
        first.contains("Digest: sha256:") && first.contains("Status: Downloaded newer image for"),
        "{first}"
    );
    assert!(
        first.trim_end().ends_with(&name),
        "last line is the full name: {first}"
    );
    let again = out(&berth(root.path(), &["pull", &name]));
    assert!(again.contains("Status: Image is up to date for"), "{again}");
    // -q: the digest only, the same digest as the full output's.
    let quiet = out(&berth(root.path(), &["pull", "-q", &name]));
    assert!(
        quiet.starts_with("sha256:") && again.contains(&format!("Digest: {}", quiet.trim())),
        "{quiet}"
    );

    let list = out(&berth(root.path(), &["images"]));
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with("REPOSITORY")
            && lines[0].contains("IMAGE ID")
            && lines[0].contains("SIZE"),
        "{list}"
    );
    let repo = format!("127.0.0.1:{}/test/busybox", reg.port);
    assert!(
        lines[1].starts_with(&repo) && lines[1].contains("v1"),
        "{list}"
    );
    let id = out(&berth(root.path(), &["images", "-q"]))
        .trim()
        .to_string();
    assert_eq!(id.len(), 12, "{id}");
    assert!(list.contains(&id));

    let inspect: serde_json::Value =
        serde_json::from_str(&out(&berth(root.path(), &["image", "inspect", &name]))).unwrap();
    let img = &inspect[0];
    assert!(
        img["Id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("sha256:{id}")),
        "{img}"
    );
    assert_eq!(img["RepoTags"][0], name.as_str());
    assert!(
        img["RepoDigests"][0].as_str().unwrap().contains("@sha256:"),
        "{img}"
    );
    assert_eq!(img["Os"], "linux");
    assert_eq!(img["Config"]["Cmd"][0], "sh");
    assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert!(
        img["Size"].as_u64().unwrap() > 500_000,
        "busybox alone is larger: {img}"
    );
    let o = berth(root.path(), &["image", "inspect", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));

    out(&berth(root.path(), &["tag", &name, "mine:latest"]));
    let list = out(&berth(root.path(), &["images"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("mine") && l.contains("latest") && l.contains(&id)),
        "{list}"
    );
    assert_eq!(
        out(&berth(root.path(), &["images", "-q"])).trim(),
        id,
        "one image, two names"
    );
    assert_eq!(
        out(&berth(root.path(), &["rmi", "mine"])).trim(),
        "Untagged: mine:latest"
    );
    assert!(!out(&berth(root.path(), &["images"])).contains("mine"));
}

#[test]
fn bad_input_is_one_clear_line_and_exit_1() {
    let root = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (vec!["pull", "Bad:Ref"], "invalid reference format"),
        (vec!["pull", "127.0.0.1:1/nothing:here"], "registry"),
        (vec!["rmi", "nosuch"], "No such image: nosuch"),
        (vec!["tag", "nosuch", "x"], "No such image: nosuch"),
        (
            vec!["pull", "--platform", "linux", "busybox"],
            "invalid platform",
        ),
        (vec!["frobnicate"], "unknown command"),
    ] {
        let o = berth(root.path(), &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(needle), "{args:?}: {e}");
        assert!(e.starts_with("Error"), "{args:?}: {e}");
    }
}
