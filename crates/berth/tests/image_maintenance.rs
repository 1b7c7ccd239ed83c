//! `import`, `history`, `images` filters and formats, `rmi -f`, `image prune` and
//! `image inspect`, as a docker user types them.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

fn berth(root: &Path, args: &[&str]) -> Output {
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

fn fails(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.starts_with("Error: ") && e.contains(needle), "{e}");
}

/// A busybox root filesystem tarball, gzip-compressed, with one marker file.
fn rootfs_tgz(dir: &Path, marker: &str) -> std::path::PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    b.append_path_with_name("/bin/busybox", "bin/busybox")
        .unwrap();
    h.set_size(marker.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "marker", marker.as_bytes()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    let p = dir.join(format!("{marker}.tgz"));
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    p
}

fn import(root: &Path, file: &Path, args: &[&str]) -> String {
    let mut a = vec!["import"];
    a.extend_from_slice(args);
    a.push(file.to_str().unwrap());
    let id = out(&berth(root, &a)).trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    id
}

#[test]
fn import_makes_a_one_layer_image_with_message_and_changes() {
    let root = tempfile::tempdir().unwrap();
    let tgz = rootfs_tgz(root.path(), "one");
    let o = berth(
        root.path(),
        &[
            "import",
            "-m",
            "first import",
            "-c",
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "-c",
            "ENTRYPOINT /bin/busybox",
            "-c",
            "ENV A=1 B=two",
            "-c",
            "WORKDIR /srv",
            "-c",
            "USER nobody",
            "-c",
            "LABEL team=berth",
            "-c",
            "EXPOSE 8080",
            tgz.to_str().unwrap(),
            "imported:v1",
        ],
    );
    let id = out(&o).trim().to_string();
    let v: serde_json::Value = serde_json::from_str(&out(&berth(
        root.path(),
        &["image", "inspect", "imported:v1"],
    )))
    .unwrap();
    let img = &v[0];
    assert_eq!(img["Id"], id.as_str());
    assert_eq!(img["RepoTags"], serde_json::json!(["imported:v1"]));
    assert_eq!(img["Comment"], "first import");
    let c = &img["Config"];
    assert_eq!(c["Cmd"], serde_json::json!(["sh", "-c", "echo hi"]));
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/bin/sh", "-c", "/bin/busybox"])
    );
    assert_eq!(c["Env"], serde_json::json!(["A=1", "B=two"]));
    assert_eq!(c["WorkingDir"], "/srv");
    assert_eq!(c["User"], "nobody");
    assert_eq!(c["Labels"]["team"], "berth");
    assert_eq!(c["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
    assert_eq!(img["Os"], "linux");
    assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert!(img["Size"].as_u64().unwrap() > 500_000);

    // From standard input, no name: a dangling image, printed by ID.
    let mut child = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        &std::fs::read(rootfs_tgz(root.path(), "two")).unwrap(),
    )
    .unwrap();
    drop(child.stdin.take());
    let id2 = out(&child.wait_with_output().unwrap()).trim().to_string();
    assert_ne!(id2, id);
    let dangling = out(&berth(
        root.path(),
        &["images", "--filter", "dangling=true", "--no-trunc", "-q"],
    ));
    assert_eq!(dangling.trim(), id2);

    fails(
        &berth(
            root.path(),
            &["import", "-c", "RUN rm -rf /", tgz.to_str().unwrap()],
        ),
        "RUN is not supported",
    );
    let junk = root.path().join("junk");
    std::fs::write(&junk, vec![7u8; 2000]).unwrap();
    fails(&berth(root.path(), &["import", junk.to_str().unwrap()]), "");
}

#[test]
fn history_shows_docker_table() {
    let root = tempfile::tempdir().unwrap();
    let tgz = rootfs_tgz(root.path(), "h");
    let id = import(root.path(), &tgz, &["-m", "a message", "-c", "CMD sh"]);
    out(&berth(root.path(), &["tag", &id, "hist:1"]));
    let h = out(&berth(root.path(), &["history", "hist:1"]));
    let lines: Vec<&str> = h.lines().collect();
    assert!(lines[0].starts_with("IMAGE          CREATED"), "{h}");
    for col in ["CREATED BY", "SIZE", "COMMENT"] {
        assert!(lines[0].contains(col), "{h}");
    }
    assert!(lines[1].starts_with(&id[7..19]), "{h}");
    assert!(
        lines[1].contains("a message") && lines[1].contains("MB"),
        "{h}"
    );
    assert_eq!(
        out(&berth(root.path(), &["image", "history", "-q", "hist:1"])).trim(),
        &id[7..19]
    );
    assert_eq!(
        out(&berth(
            root.path(),
            &["image", "history", "-q", "--no-trunc", "hist:1"]
        ))
        .trim(),
        id
    );
    let raw = out(&berth(root.path(), &["history", "--human=false", "hist:1"]));
    let row = raw.lines().nth(1).unwrap();
    assert!(
        row.contains('T') && row.contains('Z'),
        "RFC 3339 time: {raw}"
    );
    assert!(
        row.split_whitespace()
            .any(|w| w.parse::<u64>().is_ok_and(|n| n > 500_000)),
        "{raw}"
    );
    fails(
        &berth(root.path(), &["history", "nosuch"]),
        "No such image: nosuch",
    );
}

#[test]
fn images_filters_and_formats() {
    let root = tempfile::tempdir().unwrap();
    let a = import(
        root.path(),
        &rootfs_tgz(root.path(), "a"),
        &["-c", "LABEL tier=base"],
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = import(root.path(), &rootfs_tgz(root.path(), "b"), &[]);
    let r = root.path();
    out(&berth(r, &["tag", &a, "alpha:1"]));
    out(&berth(r, &["tag", &a, "team/alpha:2"]));
    out(&berth(r, &["tag", &b, "beta:1"]));
    let q = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["images"];
        a.extend_from_slice(args);
        out(&berth(r, &a)).lines().map(String::from).collect()
    };
    let (ida, idb) = (a[7..19].to_string(), b[7..19].to_string());
    assert_eq!(
        q(&["-q"]),
        [idb.clone(), ida.clone()],
        "newest first, one line per image"
    );
    assert_eq!(
        q(&["--filter", "reference=alpha"]).len(),
        2,
        "header and alpha:1"
    );
    assert_eq!(
        q(&[
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "--filter",
            "reference=*/*"
        ]),
        ["team/alpha:2"]
    );
    assert_eq!(q(&["--format", "{{.Repository}}", "beta"]), ["beta"]);
    assert_eq!(q(&["-q", "--filter", "label=tier=base"]), [ida.as_str()]);
    assert_eq!(q(&["-q", "--filter", "label=tier"]), [ida.as_str()]);
    assert_eq!(q(&["-q", "--filter", "since=alpha:1"]), [idb.as_str()]);
    assert_eq!(q(&["-q", "--filter", "before=beta:1"]), [ida.as_str()]);
    assert!(q(&["-q", "--filter", "dangling=true"]).is_empty());
    assert_eq!(q(&["-q", "-a", "--filter", "dangling=false"]).len(), 2);
    let table = q(&["--format", "table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}"]);
    assert_eq!(table[0], "IMAGE ID       REPOSITORY   TAG");
    assert_eq!(table.len(), 4);
    assert!(table[1].starts_with(&format!("{idb}   beta ")), "{table:?}");
    let json = q(&["--format", "json", "--no-trunc", "beta:1"]);
    let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    assert_eq!(v["ID"], b.as_str());
    assert_eq!(
        (v["Repository"].as_str(), v["Tag"].as_str()),
        (Some("beta"), Some("1"))
    );
    for k in ["CreatedAt", "CreatedSince", "Size", "Digest"] {
        assert!(v[k].is_string(), "{k}: {v}");
    }
    assert_eq!(q(&["--format", "{{json .Tag}}", "beta"]), ["\"1\""]);
    let digests = q(&["--digests"]);
    assert!(
        digests[0].contains("DIGEST") && digests[1].contains("<none>"),
        "{digests:?}"
    );
    fails(
        &berth(r, &["images", "--filter", "color=red"]),
        "invalid filter 'color'",
    );
    fails(
        &berth(r, &["images", "--format", "{{.Nope}}"]),
        "can't evaluate field",
    );
}

#[test]
fn rmi_by_id_with_several_names_needs_force_and_prune_reclaims_space() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let a = import(r, &rootfs_tgz(r, "a"), &[]);
    out(&berth(r, &["tag", &a, "one:1"]));
    out(&berth(r, &["tag", &a, "two:1"]));
    fails(&berth(r, &["rmi", &a[7..19]]), "must be forced");
    let o = out(&berth(r, &["rmi", "-f", &a[7..19]]));
    assert!(
        o.contains("Untagged: one:1") && o.contains("Untagged: two:1"),
        "{o}"
    );
    assert!(o.contains(&format!("Deleted: {a}")), "{o}");
    assert!(out(&berth(r, &["images", "-q"])).is_empty());
    assert_eq!(
        std::fs::read_dir(r.join("snapshots/snapshots"))
            .unwrap()
            .count(),
        0,
        "its layer went with it"
    );

    // A name's last tag takes the image; another name keeps it.
    let b = import(r, &rootfs_tgz(r, "b"), &[]);
    out(&berth(r, &["tag", &b, "keep:1"]));
    out(&berth(r, &["tag", &b, "keep:2"]));
    assert_eq!(out(&berth(r, &["rmi", "keep:1"])), "Untagged: keep:1\n");
    let o = out(&berth(r, &["rmi", "keep:2"]));
    assert!(
        o.starts_with(&format!("Untagged: keep:2\nDeleted: {b}\n")),
        "{o}"
    );

    // Dangling images go with prune; -a takes named ones too.
    let d = import(r, &rootfs_tgz(r, "d"), &[]);
    let n = import(r, &rootfs_tgz(r, "n"), &[]);
    out(&berth(r, &["tag", &n, "named:1"]));
    let o = out(&berth(r, &["image", "prune", "-f"]));
    assert!(
        o.starts_with(&format!("Deleted Images:\ndeleted: {d}\n")),
        "{o}"
    );
    assert!(
        o.contains("\n\nTotal reclaimed space: ") && o.contains("MB"),
        "{o}"
    );
    assert_eq!(out(&berth(r, &["images", "-q", "--no-trunc"])).trim(), n);
    assert_eq!(
        out(&berth(r, &["image", "prune", "-f"])),
        "Total reclaimed space: 0B\n"
    );
    // Without -f it asks, and a "no" keeps everything.
    let mut child = Command::new(BERTH)
        .arg("--root")
        .arg(r)
        .args(["image", "prune", "-a"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"n\n").unwrap();
    let o = out(&child.wait_with_output().unwrap());
    assert!(
        o.contains("Are you sure you want to continue? [y/N]"),
        "{o}"
    );
    assert!(!out(&berth(r, &["images", "-q"])).is_empty());
    let o = out(&berth(r, &["image", "prune", "-a", "-f"]));
    assert!(
        o.contains("untagged: named:1") && o.contains(&format!("deleted: {n}")),
        "{o}"
    );
    assert!(out(&berth(r, &["images", "-q"])).is_empty());
    assert_eq!(
        std::fs::read_dir(r.join("snapshots/snapshots"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(r.join("content/blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn inspect_has_the_engine_api_shape() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let id = import(r, &rootfs_tgz(r, "i"), &[]);
    out(&berth(r, &["tag", &id, "shape:1"]));
    let text = out(&berth(r, &["image", "inspect", &id[7..19]]));
    assert!(
        text.starts_with("[\n    {\n        \"Id\": "),
        "docker's indent: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let img = v[0].as_object().unwrap();
    let keys: Vec<&str> = img.keys().map(String::as_str).collect();
    for k in [
        "Id",
        "RepoTags",
        "RepoDigests",
        "Parent",
        "Comment",
        "Created",
        "DockerVersion",
        "Author",
        "Config",
        "Architecture",
        "Os",
        "Size",
        "GraphDriver",
        "RootFS",
        "Metadata",
    ] {
        assert!(keys.contains(&k), "{k} missing: {keys:?}");
    }
    assert_eq!(img["Id"], id.as_str());
    assert_eq!(img["Comment"], "Imported from -");
    assert_eq!(img["RootFS"]["Type"], "layers");
    let t = img["Metadata"]["LastTagTime"].as_str().unwrap();
    assert!(t.ends_with('Z') && t.starts_with("20"), "{t}");
    let both: serde_json::Value =
        serde_json::from_str(&out(&berth(r, &["image", "inspect", "shape:1", &id]))).unwrap();
    assert_eq!(both.as_array().unwrap().len(), 2);
    assert_eq!(both[0]["Id"], both[1]["Id"]);
}

mod container_support;

/// How a Rust program's rootfs tarball for [`tar_crate_rootfs`] names and orders its
/// entries; none has entries for the directories it needs, except `DirAfter`'s late one.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// `bin/busybox`, `bin/sh` a symlink to it; GNU headers.
    Gnu,
    /// `bin/busybox`, `bin/sh` a hard link to it; ustar headers.
    UstarHardLink,
    /// `./bin/busybox`, `./bin/sh` (raw names: the tar crate drops a leading `./`).
    DotSlash,
    /// `bin/busybox`, `bin/sh`, then the `bin/` entry (0750, mtime 1000).
    DirAfter,
    /// `busybox` at the top level, `bin/sh` a symlink to `/busybox`.
    TopLevel,
    /// `bin/busybox` with a hole, as `append_path` writes a file with holes (a linker's
    /// output often has some): a GNU sparse entry.
    Sparse,
}

/// A busybox root filesystem tarball (uncompressed) written with the `tar` crate.
fn tar_crate_rootfs(dir: &Path, shape: Shape) -> std::path::PathBuf {
    let busybox = std::fs::read("/bin/busybox").unwrap();
    let header = |path: &str, kind: tar::EntryType, size: usize, mode: u32| {
        let mut h = if shape == Shape::UstarHardLink {
            tar::Header::new_ustar()
        } else {
            tar::Header::new_gnu()
        };
        let name = &mut h.as_old_mut().name;
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_entry_type(kind);
        h.set_size(size as u64);
        h.set_mode(mode);
        h.set_mtime(1_000_000_000);
        h
    };
    let p = if shape == Shape::DotSlash { "./" } else { "" };
    let mut b = tar::Builder::new(Vec::new());
    match shape {
        Shape::Sparse => {
            // A trailing hole keeps the binary runnable.
            let f = dir.join("busybox-with-a-hole");
            std::fs::write(&f, &busybox).unwrap();
            let file = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
            let mut perms = file.metadata().unwrap().permissions();
            file.set_len((busybox.len() as u64).div_ceil(4096) * 4096 + (1 << 20))
                .unwrap();
            drop(file);
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            std::fs::set_permissions(&f, perms).unwrap();
            b.append_path_with_name(&f, "bin/busybox").unwrap();
        }
        _ => {
            let exe = if shape == Shape::TopLevel {
                "busybox"
            } else {
                "bin/busybox"
            };
            let mut h = header(
                &format!("{p}{exe}"),
                tar::EntryType::Regular,
                busybox.len(),
                0o755,
            );
            h.set_cksum();
            b.append(&h, &busybox[..]).unwrap();
        }
    }
    let (kind, target) = match shape {
        Shape::UstarHardLink => (tar::EntryType::Link, "bin/busybox"),
        Shape::TopLevel => (tar::EntryType::Symlink, "/busybox"),
        _ => (tar::EntryType::Symlink, "busybox"),
    };
    let mut h = header(&format!("{p}bin/sh"), kind, 0, 0o777);
    h.set_link_name(target).unwrap();
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
    if shape == Shape::DirAfter {
        let mut h = header("bin/", tar::EntryType::Directory, 0, 0o750);
        h.set_mtime(1000);
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }
    let data = b.into_inner().unwrap();
    if shape == Shape::Sparse {
        assert_eq!(data[156], b'S', "the tar crate wrote no sparse entry");
    }
    let path = dir.join(format!("{shape:?}.tar"));
    std::fs::write(&path, data).unwrap();
    path
}

#[test]
fn tar_crate_rootfs_without_directory_entries_imports_and_runs() {
    let root = container_support::Root::new();
    for shape in [
        Shape::Gnu,
        Shape::UstarHardLink,
        Shape::DotSlash,
        Shape::DirAfter,
        Shape::TopLevel,
        Shape::Sparse,
    ] {
        let tar = tar_crate_rootfs(root.path(), shape);
        let image = format!("tarcrate:{shape:?}").to_lowercase();
        // Under a umask that would make 0700 directories of what mkdir(0755) makes.
        let o = Command::new("sh")
            .arg("-c")
            .arg("umask 077 && exec \"$0\" \"$@\"")
            .arg(BERTH)
            .arg("--root")
            .arg(root.path())
            .args(["import", tar.to_str().unwrap(), &image])
            .output()
            .unwrap();
        out(&o);
        let exe = if shape == Shape::TopLevel {
            "/busybox"
        } else {
            "/bin/busybox"
        };
        let run = |args: &[&str]| {
            let mut a = vec!["run", "--rm", "--network", "none"];
            a.extend_from_slice(args);
            let o = root.berth(&a);
            assert!(
                o.status.success(),
                "{shape:?}: {a:?}: {}",
                container_support::stderr(&o)
            );
            String::from_utf8_lossy(&o.stdout).into_owned()
        };
        assert_eq!(run(&[&image, exe, "echo", "ok"]), "ok\n", "{shape:?}");
        assert_eq!(
            run(&[&image, "/bin/sh", "-c", "echo sh"]),
            "sh\n",
            "{shape:?}"
        );
        let bin = run(&[&image, exe, "stat", "-c", "%a %u:%g %Y", "/bin"]);
        if shape == Shape::DirAfter {
            // The late entry gives the directory its own metadata.
            assert_eq!(bin, "750 0:0 1000\n");
        } else {
            // Made as docker makes a missing parent: 0755, root's, whatever the umask.
            assert_eq!(
                bin.split(' ').take(2).collect::<Vec<_>>(),
                ["755", "0:0"],
                "{shape:?}"
            );
            assert_eq!(
                run(&["--user", "65534", &image, exe, "echo", "nobody"]),
                "nobody\n"
            );
        }
    }
}
