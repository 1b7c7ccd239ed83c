//! Docker's volume copy-up: a new empty volume receives what the image has at the mount
//! target (content, owners, modes, symlinks as symlinks), and a symlink planted in the image
//! never leads the copy out of the container root.

use berth_engine::spec::Volumes;
use berth_engine::volume::VolumeStore;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

const C1: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn rootfs_with_data(root: &Path) {
    std::fs::create_dir_all(root.join("var/lib/app/sub")).unwrap();
    std::fs::write(root.join("var/lib/app/conf"), "image content").unwrap();
    std::fs::write(root.join("var/lib/app/sub/deep"), "deep").unwrap();
    std::fs::set_permissions(
        root.join("var/lib/app/conf"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::os::unix::fs::chown(root.join("var/lib/app/conf"), Some(1234), Some(5678)).unwrap();
    std::os::unix::fs::chown(root.join("var/lib/app"), Some(999), Some(999)).unwrap();
    std::fs::set_permissions(
        root.join("var/lib/app"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    symlink("/etc/passwd", root.join("var/lib/app/link")).unwrap();
}

#[test]
fn an_empty_new_volume_gets_the_image_content_at_its_target() {
    let data_root = tempfile::tempdir().unwrap();
    let rootfs = tempfile::tempdir().unwrap();
    rootfs_with_data(rootfs.path());
    let vs = VolumeStore::open(data_root.path()).unwrap();
    let src = vs
        .for_container(C1)
        .copy_up_from(rootfs.path())
        .source(Some("appdata"), "/var/lib/app")
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(src.join("conf")).unwrap(),
        "image content"
    );
    assert_eq!(
        std::fs::read_to_string(src.join("sub/deep")).unwrap(),
        "deep"
    );
    let m = std::fs::metadata(src.join("conf")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1234, 5678, 0o640));
    let d = std::fs::metadata(&src).unwrap();
    assert_eq!((d.uid(), d.mode() & 0o7777), (999, 0o750));
    // A symlink stays a symlink (pointing where it did, to be resolved in the container).
    assert_eq!(
        std::fs::read_link(src.join("link")).unwrap(),
        Path::new("/etc/passwd")
    );

    // A volume with data is never overwritten by a later mount.
    std::fs::write(src.join("conf"), "changed").unwrap();
    std::fs::remove_file(src.join("sub/deep")).unwrap();
    vs.for_container(C1)
        .copy_up_from(rootfs.path())
        .source(Some("appdata"), "/var/lib/app")
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(src.join("conf")).unwrap(),
        "changed"
    );
    assert!(!src.join("sub/deep").exists());

    // Nothing at the target: an empty volume.
    let empty = vs
        .for_container(C1)
        .copy_up_from(rootfs.path())
        .source(None, "/no/such/dir")
        .unwrap();
    assert_eq!(std::fs::read_dir(empty).unwrap().count(), 0);
}

/// The image plants `/data -> <a host directory>` (absolute) and `/rel -> ../../..` chains:
/// the copy resolves them inside the root, so host files never reach the volume.
#[test]
fn a_hostile_symlink_at_the_target_does_not_lead_out_of_the_root() {
    let data_root = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("host-secret"), "secret").unwrap();
    let rootfs = tempfile::tempdir().unwrap();
    let r = rootfs.path();
    // Absolute: what the host path would mean, inside the root, does not exist.
    symlink(host.path(), r.join("data")).unwrap();
    // Relative with enough ../ to climb out of the root from where it sits.
    let up = "../".repeat(r.components().count() + 2);
    symlink(format!("{up}{}", host.path().display()), r.join("rel")).unwrap();
    // A link below the target that points out: copied as a link, never followed.
    std::fs::create_dir(r.join("lib")).unwrap();
    symlink(host.path().join("host-secret"), r.join("lib/escape")).unwrap();
    symlink(host.path(), r.join("lib/escape-dir")).unwrap();

    let vs = VolumeStore::open(data_root.path()).unwrap();
    for target in ["/data", "/rel"] {
        let src = vs
            .for_container(C1)
            .copy_up_from(r)
            .source(None, target)
            .unwrap();
        assert_eq!(
            std::fs::read_dir(&src).unwrap().count(),
            0,
            "{target}: the host directory was copied"
        );
    }
    // The same host path made inside the root is what a link resolves to.
    let inside = r.join(host.path().strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::write(inside.join("inside-file"), "inside").unwrap();
    let src = vs
        .for_container(C1)
        .copy_up_from(r)
        .source(None, "/data")
        .unwrap();
    let names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("inside-file")]);

    let src = vs
        .for_container(C1)
        .copy_up_from(r)
        .source(None, "/lib")
        .unwrap();
    assert!(std::fs::symlink_metadata(src.join("escape"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::symlink_metadata(src.join("escape-dir"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!src.join("host-secret").exists());
    // The host file is untouched.
    assert_eq!(
        std::fs::read_to_string(host.path().join("host-secret")).unwrap(),
        "secret"
    );
}
