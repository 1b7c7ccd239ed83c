//! What `berth pull` prints when its output is not a terminal, as docker does: one line per
//! layer and status change, then the digest, the status and the name; `-q` prints only the
//! digest.

use berth_testkit::{layered_layout, push, Registry};
use std::process::Command;

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn pull(root: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new(BERTH)
        .arg("--root")
        .arg(root)
        .arg("pull")
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn layer_ids(layout: &std::path::Path) -> (String, Vec<String>) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).unwrap(),
    )
    .unwrap();
    let ids = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap()[7..19].to_string())
        .collect();
    (digest, ids)
}

#[test]
fn plain_output_has_a_line_per_layer_event_then_digest_status_and_name() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    layered_layout(layout.path(), 3, 64 << 10, None);
    let name = format!("127.0.0.1:{}/test/progress:v1", reg.port);
    push(layout.path(), &name);
    let (digest, ids) = layer_ids(layout.path());
    let root = tempfile::tempdir().unwrap();

    let out = pull(root.path(), &[&name]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "v1: Pulling from test/progress", "{out}");
    for id in &ids {
        let of_layer: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix(&format!("{id}: ")))
            .collect();
        assert_eq!(
            of_layer,
            ["Pulling fs layer", "Download complete", "Pull complete"],
            "{out}"
        );
    }
    // Each layer's lines are the only other lines before the summary.
    assert_eq!(lines.len(), 1 + 3 * ids.len() + 3, "{out}");
    let n = lines.len();
    assert_eq!(lines[n - 3], format!("Digest: {digest}"), "{out}");
    assert_eq!(
        lines[n - 2],
        format!("Status: Downloaded newer image for {name}"),
        "{out}"
    );
    assert_eq!(lines[n - 1], name, "{out}");
    assert!(
        !out.contains('\r') && !out.contains('\x1b'),
        "terminal codes: {out:?}"
    );

    // Present layers are not fetched again: docker says "Already exists".
    let again = pull(root.path(), &[&name]);
    for id in &ids {
        assert!(again.contains(&format!("{id}: Already exists")), "{again}");
    }
    assert!(
        again.contains(&format!("Status: Image is up to date for {name}")),
        "{again}"
    );
}

#[test]
fn quiet_prints_only_the_digest() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    layered_layout(layout.path(), 2, 16 << 10, None);
    let name = format!("127.0.0.1:{}/test/quiet:v1", reg.port);
    push(layout.path(), &name);
    let (digest, _) = layer_ids(layout.path());
    let root = tempfile::tempdir().unwrap();
    assert_eq!(pull(root.path(), &["-q", &name]), format!("{digest}\n"));
}

#[test]
fn on_a_terminal_each_layer_line_is_redrawn_in_place_and_ends_complete() {
    let reg = Registry::start();
    let layout = tempfile::tempdir().unwrap();
    layered_layout(layout.path(), 2, 256 << 10, None);
    let name = format!("127.0.0.1:{}/test/tty:v1", reg.port);
    push(layout.path(), &name);
    let (_, ids) = layer_ids(layout.path());
    let root = tempfile::tempdir().unwrap();
    // script(1) gives the pull a pseudo-terminal as its stdout.
    let o = Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "{BERTH} --root {} pull {name}",
            root.path().display()
        ))
        .arg("/dev/null")
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    // Lines are redrawn with cursor movements, not appended one per event.
    assert!(
        out.contains("\x1b["),
        "no terminal control sequences: {out:?}"
    );
    for id in &ids {
        assert!(out.contains(&format!("{id}: Pull complete")), "{out:?}");
        assert!(
            !out.contains(&format!("{id}: Pulling fs layer\r\n{id}")),
            "{out:?}"
        );
    }
    assert!(out.contains("Status: Downloaded newer image"), "{out:?}");
}
