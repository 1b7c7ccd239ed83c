//! `--userns private`: container root is an unprivileged host uid, and the image's files,
//! seen through idmapped layers, belong to it; what it writes lands in the container's
//! upper dir owned by that host uid.

mod container_support;
use container_support::*;
use std::os::unix::fs::MetadataExt;

/// The default range when /etc/subuid has no `berth` line.
fn mapped_root() -> u32 {
    let line = std::fs::read_to_string("/etc/subuid")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("berth:"))
        .map(str::to_string);
    match line {
        Some(l) => l.split(':').nth(1).unwrap().parse().unwrap(),
        None => 1_000_000_000,
    }
}

#[test]
fn private_userns_root_owns_the_image_files_and_writes_them() {
    let root = Root::new();
    let id = root.ok(&["run", "-d", "--userns", "private", IMAGE, "sleep", "1000"]);
    let id = id.trim().to_string();
    let exec = |cmd: &str| root.ok(&["exec", &id, "sh", "-c", cmd]).trim().to_string();
    assert_eq!(exec("id -u"), "0");
    assert_eq!(exec("stat -c %u:%g /bin/busybox"), "0:0");
    assert_eq!(exec("stat -c %u /"), "0");
    let host = mapped_root();
    let map = exec("cat /proc/self/uid_map");
    let fields: Vec<&str> = map.split_whitespace().collect();
    assert_eq!(fields, ["0", &host.to_string(), "65536"], "{map}");
    assert_eq!(
        exec("echo hello > /etc/x && echo more >> /etc/passwd && cat /etc/x && stat -c %u /etc/x"),
        "hello\n0"
    );

    let dir = root.path().join("containers").join(&id);
    let upper = dir.join("upper/etc/x");
    assert_eq!(std::fs::read_to_string(&upper).unwrap(), "hello\n");
    let on_disk = std::fs::metadata(&upper).unwrap();
    assert_eq!((on_disk.uid(), on_disk.gid()), (host, host));
    // Copied up from the image: the host uid too.
    let copied = std::fs::metadata(dir.join("upper/etc/passwd")).unwrap();
    assert_eq!(copied.uid(), host);
    let merged = std::fs::metadata(dir.join("rootfs/etc/x")).unwrap();
    assert_eq!(
        (merged.uid(), merged.gid()),
        (host, host),
        "seen from the host"
    );
    let bb = std::fs::metadata(dir.join("rootfs/bin/busybox")).unwrap();
    assert_eq!(bb.uid(), host);

    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);
}

#[test]
fn private_userns_root_survives_a_remount_and_the_default_is_unshifted() {
    let root = Root::new();
    let id = root.ok(&[
        "create",
        "--userns",
        "private",
        IMAGE,
        "sh",
        "-c",
        "touch /y; stat -c %u /bin/busybox /y",
    ]);
    let id = id.trim().to_string();
    // As after a reboot: start mounts the root again, idmapped from the stored options.
    let rootfs = root.path().join("containers").join(&id).join("rootfs");
    assert!(std::process::Command::new("umount")
        .arg(&rootfs)
        .status()
        .unwrap()
        .success());
    let out = root.ok(&["start", "-a", &id]);
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "0"],
        "{out}"
    );
    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);

    let out = root.ok(&[
        "run",
        "--rm",
        IMAGE,
        "sh",
        "-c",
        "id -u; stat -c %u /bin/busybox; cat /proc/self/uid_map",
    ]);
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(fields, ["0", "0", "0", "0", "4294967295"], "{out}");
}

/// As Docker's userns-remap: an empty volume is given to the mapped root, so container root
/// can write it; what it writes is stored with the host uid.
#[test]
fn private_userns_root_writes_named_and_anonymous_volumes() {
    let root = Root::new();
    let host = mapped_root();
    root.ok(&[
        "run",
        "--rm",
        "--userns",
        "private",
        "-v",
        "vol:/data",
        IMAGE,
        "sh",
        "-c",
        "echo x > /data/f && stat -c %u /data /data/f",
    ]);
    let data = root.path().join("volumes/vol/_data");
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "x\n");
    let f = std::fs::metadata(data.join("f")).unwrap();
    assert_eq!((f.uid(), f.gid()), (host, host));
    assert_eq!(std::fs::metadata(&data).unwrap().uid(), host);

    // An image VOLUME at a path the image lacks, and one where it has content (copied up
    // with the shifted owners it has in the container's root).
    let tgz = root.path().join("busybox.tgz");
    root.ok(&[
        "import",
        "-c",
        "VOLUME [\"/cache\", \"/etc\"]",
        tgz.to_str().unwrap(),
        "bbvol:latest",
    ]);
    let id = root.ok(&[
        "run",
        "-d",
        "--userns",
        "private",
        "bbvol:latest",
        "sh",
        "-c",
        "echo y > /cache/g && echo z > /etc/h && sleep 1000",
    ]);
    let id = id.trim().to_string();
    let spec = std::fs::read(root.path().join("containers").join(&id).join("config.json"));
    let spec: serde_json::Value = serde_json::from_slice(&spec.unwrap()).unwrap();
    let source = |dest: &str| {
        let m = spec["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["destination"] == dest)
            .unwrap_or_else(|| panic!("no mount at {dest}: {spec}"));
        std::path::PathBuf::from(m["source"].as_str().unwrap())
    };
    let (cache, etc) = (source("/cache"), source("/etc"));
    eventually("the writes", || {
        etc.join("h").exists() && cache.join("g").exists()
    });
    for f in [cache.join("g"), etc.join("h"), etc.join("passwd")] {
        let m = std::fs::metadata(&f).unwrap();
        assert_eq!((m.uid(), m.gid()), (host, host), "{}", f.display());
    }
    root.ok(&["rm", "-f", "-v", &id]);
    assert_nothing_left(&root, &id);

    // Without a private user namespace, a new volume stays host root's.
    root.ok(&[
        "run",
        "--rm",
        "-v",
        "plain:/data",
        IMAGE,
        "touch",
        "/data/f",
    ]);
    let plain = root.path().join("volumes/plain/_data");
    assert_eq!(std::fs::metadata(&plain).unwrap().uid(), 0);
}
