//! Idmapped mounts: a bind mount with `idmap` shows files through the mount's mapping.

mod common;
use common::*;
use serde_json::json;

#[test]
fn idmapped_bind_mount_shows_host_owner_through_the_mapping() {
    let host = tempfile::tempdir().unwrap();
    let f = host.path().join("owned-by-1000");
    std::fs::write(&f, "x").unwrap();
    std::os::unix::fs::chown(&f, Some(1000), Some(1000)).unwrap();
    let src = host.path().to_str().unwrap().to_string();
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "stat -c '%u:%g' /data/owned-by-1000; stat -c '%u' /plain/owned-by-1000",
        ],
        |c| {
            let mounts = c["mounts"].as_array_mut().unwrap();
            mounts.push(json!({
                "destination": "/data", "type": "bind", "source": src, "options": ["bind", "idmap"],
                // As for a user namespace: IDs on disk (containerID) are seen as hostID by a
                // container in the host's user namespace.
                "uidMappings": [{"containerID": 1000, "hostID": 0, "size": 1}],
                "gidMappings": [{"containerID": 1000, "hostID": 0, "size": 1}]
            }));
            mounts.push(json!({"destination": "/plain", "type": "bind", "source": src, "options": ["bind"]}));
        },
    );
    let o = b.run();
    let out = ok(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, vec!["0:0", "1000"], "idmapped view vs plain view");
    // The host file itself is untouched.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&f).unwrap().uid(), 1000);
}

#[test]
fn idmap_without_mappings_is_a_config_error() {
    let b = Bundle::with(&["true"], |c| {
        c["mounts"].as_array_mut().unwrap().push(json!({"destination": "/data", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"]}));
    });
    let o = b.create();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("idmap needs uidMappings"),
        "{}",
        stderr(&o)
    );
    assert!(!b.root.join(&b.id).exists());
}
