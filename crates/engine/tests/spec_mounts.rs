//! Mounts from -v, --mount, --tmpfs and the image's Volumes.

mod common;
use berth_engine::options::parse;
use berth_engine::options::RunOptions;
use common::*;
use serde_json::json;

fn opts(v: &[&str], m: &[&str], t: &[&str]) -> RunOptions {
    let mut mounts = Vec::new();
    mounts.extend(v.iter().map(|s| parse::volume(s).unwrap()));
    mounts.extend(m.iter().map(|s| parse::mount(s).unwrap()));
    mounts.extend(t.iter().map(|s| parse::tmpfs(s).unwrap()));
    RunOptions {
        mounts,
        ..Default::default()
    }
}

#[test]
fn binds_volumes_and_tmpfs() {
    let host = tempfile::tempdir().unwrap();
    let h = host.path().to_str().unwrap();
    let r = rootfs();
    let mut vols = DirVolumes::new();
    let o = opts(
        &[&format!("{h}:/data:ro"), "named:/vol", "/anon"],
        &[&format!(
            "type=bind,source={h},target=/b2,bind-propagation=rslave"
        )],
        &["/run:size=1m,exec"],
    );
    let s = build_in(r.path(), &o, &image(&["sh"]), &mut vols);
    assert_eq!(
        mount(&s, "/data").unwrap(),
        &json!({"destination": "/data", "type": "bind", "source": h, "options": ["rbind", "ro", "rprivate"]})
    );
    assert_eq!(
        strs(&mount(&s, "/b2").unwrap()["options"]),
        vec!["rbind", "rw", "rslave"]
    );
    let vol = mount(&s, "/vol").unwrap();
    assert_eq!(
        vol["source"],
        vols.dir.path().join("named/_data").to_str().unwrap()
    );
    assert!(mount(&s, "/anon").is_some());
    assert_eq!(
        vols.asked,
        vec![
            (Some("named".to_string()), "/vol".to_string()),
            (None, "/anon".to_string())
        ]
    );
    assert_eq!(
        mount(&s, "/run").unwrap(),
        &json!({"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=1048576", "exec"]})
    );
}

#[test]
fn a_mount_bind_source_that_does_not_exist_is_a_clear_error_and_v_makes_it() {
    let host = tempfile::tempdir().unwrap();
    let missing = host.path().join("no/such/dir");
    let o = opts(
        &[],
        &[&format!(
            "type=bind,source={},target=/data",
            missing.display()
        )],
        &[],
    );
    assert_eq!(
        try_build(&o).unwrap_err().to_string(),
        format!(
            "invalid mount config for type \"bind\": bind source path does not exist: {}",
            missing.display()
        )
    );
    assert!(!missing.exists());
    let o = opts(&[&format!("{}:/data", missing.display())], &[], &[]);
    try_build(&o).unwrap();
    assert!(
        missing.is_dir(),
        "-v makes a missing host directory, as docker does"
    );
}

#[test]
fn image_volumes_become_anonymous_volumes_unless_a_mount_covers_them() {
    let host = tempfile::tempdir().unwrap();
    let r = rootfs();
    let mut img = image(&["sh"]);
    img.volumes.insert("/var/lib/data/".into(), json!({}));
    img.volumes.insert("/cache".into(), json!({}));
    let mut vols = DirVolumes::new();
    let o = opts(&[&format!("{}:/cache", host.path().display())], &[], &[]);
    let s = build_in(r.path(), &o, &img, &mut vols);
    assert_eq!(vols.asked, vec![(None, "/var/lib/data".to_string())]);
    assert_eq!(
        mount(&s, "/cache").unwrap()["source"],
        host.path().to_str().unwrap()
    );
    assert!(mount(&s, "/var/lib/data").is_some());
}

#[test]
fn duplicate_targets_refused_defaults_replaced_parents_first() {
    let host = tempfile::tempdir().unwrap();
    let h = host.path().display();
    let o = opts(&[&format!("{h}:/a"), &format!("{h}:/a/")], &[], &[]);
    assert_eq!(
        try_build(&o).unwrap_err().to_string(),
        "Duplicate mount point: /a"
    );
    let o = opts(
        &[&format!("{h}:/a/b/c"), &format!("{h}:/a")],
        &[],
        &["/dev/shm:size=1g"],
    );
    let s = build(&o);
    let dests: Vec<&str> = s["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["destination"].as_str().unwrap())
        .collect();
    assert_eq!(dests.iter().filter(|d| **d == "/dev/shm").count(), 1);
    assert!(strs(&mount(&s, "/dev/shm").unwrap()["options"]).contains(&"size=1073741824".into()));
    let a = dests.iter().position(|d| *d == "/a").unwrap();
    let abc = dests.iter().position(|d| *d == "/a/b/c").unwrap();
    assert!(a < abc, "{dests:?}");
}
