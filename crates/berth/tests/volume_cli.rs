//! `berth volume create/ls/inspect/rm/prune` as a docker user types them: flags, output
//! shapes, exit codes and messages.

use berth_engine::spec::Volumes;
use berth_engine::volume::VolumeStore;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");
const C1: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn berth(root: &Path, args: &[&str]) -> Output {
    Command::new(BERTH)
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
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

fn fails(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.starts_with("Error: ") && e.contains(needle), "{e}");
}

#[test]
fn create_ls_and_inspect() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    assert_eq!(
        out(&berth(
            r,
            &["volume", "create", "--label", "tier=db", "data"]
        )),
        "data\n"
    );
    // Idempotent, as docker.
    assert_eq!(out(&berth(r, &["volume", "create", "data"])), "data\n");
    let anon = out(&berth(r, &["volume", "create"]));
    let anon = anon.trim();
    assert!(
        anon.len() == 64 && anon.bytes().all(|b| b.is_ascii_hexdigit()),
        "{anon}"
    );

    let ls = out(&berth(r, &["volume", "ls"]));
    let mut names = [anon, "data"];
    names.sort();
    let want: String = std::iter::once("DRIVER    VOLUME NAME\n".to_string())
        .chain(names.iter().map(|n| format!("local     {n}\n")))
        .collect();
    assert_eq!(ls, want);
    assert_eq!(
        out(&berth(
            r,
            &["volume", "ls", "-q", "--filter", "label=tier=db"]
        )),
        "data\n"
    );
    assert_eq!(
        out(&berth(r, &["volume", "ls", "-q", "-f", "name=dat"])),
        "data\n"
    );
    let json = out(&berth(
        r,
        &["volume", "ls", "--format", "json", "-f", "name=data"],
    ));
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["Name"], "data");
    assert_eq!(row["Labels"], "tier=db");
    assert_eq!(row["Driver"], "local");
    let t = out(&berth(
        r,
        &[
            "volume",
            "ls",
            "--format",
            "table {{.Name}}\\t{{.Scope}}",
            "-f",
            "name=data",
        ],
    ));
    assert_eq!(t, "VOLUME NAME   SCOPE\ndata          local\n");
    fails(
        &berth(r, &["volume", "ls", "--filter", "colour=red"]),
        "invalid filter",
    );

    let inspect = out(&berth(r, &["volume", "inspect", "data"]));
    assert!(
        inspect.starts_with("[\n    {\n        \"CreatedAt\": "),
        "{inspect}"
    );
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let v = &v[0];
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "CreatedAt",
            "Driver",
            "Labels",
            "Mountpoint",
            "Name",
            "Options",
            "Scope"
        ]
    );
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"]["tier"], "db");
    assert_eq!(
        v["Mountpoint"].as_str().unwrap(),
        r.join("volumes/data/_data").to_str().unwrap()
    );
    assert!(r.join("volumes/data/_data").is_dir());
    assert_eq!(
        out(&berth(
            r,
            &["volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "data"]
        )),
        "data local\n"
    );
    // A missing volume: the others are still printed, and the exit code is 1.
    let o = berth(r, &["volume", "inspect", "data", "nope"]);
    fails(&o, "No such volume: nope");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn bad_names_and_drivers_are_one_line_errors() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    fails(
        &berth(r, &["volume", "create", "a/b"]),
        "includes invalid characters for a local volume name",
    );
    fails(
        &berth(r, &["volume", "create", "-d", "nfs", "x1"]),
        "plugin \"nfs\" not found",
    );
    assert_eq!(out(&berth(r, &["volume", "ls", "-q"])), "");
}

#[test]
fn rm_refuses_volumes_in_use_and_force_forgives_missing_ones() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    out(&berth(r, &["volume", "create", "keep"]));
    out(&berth(r, &["volume", "create", "gone"]));
    // A container uses `keep` (what `run -v keep:/data` records).
    VolumeStore::open(r)
        .unwrap()
        .for_container(C1)
        .source(Some("keep"), "/data")
        .unwrap();
    let o = berth(r, &["volume", "rm", "keep", "gone"]);
    fails(&o, &format!("remove keep: volume is in use - [{C1}]"));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "gone\n");
    fails(
        &berth(r, &["volume", "rm", "-f", "keep"]),
        "volume is in use",
    );
    fails(&berth(r, &["volume", "rm", "gone"]), "No such volume: gone");
    assert_eq!(out(&berth(r, &["volume", "rm", "-f", "gone"])), "gone\n");
    assert!(!r.join("volumes/gone").exists());
    // ls's dangling filter sees the use.
    assert_eq!(
        out(&berth(r, &["volume", "ls", "-q", "-f", "dangling=false"])),
        "keep\n"
    );
    VolumeStore::open(r).unwrap().release(C1, false).unwrap();
    assert_eq!(out(&berth(r, &["volume", "rm", "keep"])), "keep\n");
}

#[test]
fn prune_asks_then_takes_anonymous_volumes_or_all_with_a() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    out(&berth(r, &["volume", "create", "named"]));
    let vs = VolumeStore::open(r).unwrap();
    let anon = vs.for_container(C1).source(None, "/cache").unwrap();
    std::fs::write(anon.join("f"), vec![1u8; 2048]).unwrap();
    vs.release(C1, false).unwrap();
    let anon_name = anon
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();

    // No answer: nothing removed.
    let mut p = Command::new(BERTH)
        .args(["--root", r.to_str().unwrap(), "volume", "prune"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    p.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let o = p.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(
        "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
    ));
    assert!(anon.exists());

    assert_eq!(
        out(&berth(r, &["volume", "prune", "-f"])),
        format!("Deleted Volumes:\n{anon_name}\n\nTotal reclaimed space: 2.048kB\n")
    );
    assert_eq!(out(&berth(r, &["volume", "ls", "-q"])), "named\n");
    assert_eq!(
        out(&berth(r, &["volume", "prune", "-f"])),
        "Total reclaimed space: 0B\n"
    );
    out(&berth(
        r,
        &["volume", "create", "--label", "keep=yes", "labelled"],
    ));
    let filtered = [
        "volume",
        "prune",
        "-f",
        "--filter",
        "all=true",
        "--filter",
        "label=keep",
    ];
    assert_eq!(
        out(&berth(r, &filtered)),
        "Deleted Volumes:\nlabelled\n\nTotal reclaimed space: 0B\n"
    );
    assert_eq!(
        out(&berth(r, &["volume", "prune", "-a", "-f"])),
        "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n"
    );
    assert_eq!(out(&berth(r, &["volume", "ls", "-q"])), "");
}
