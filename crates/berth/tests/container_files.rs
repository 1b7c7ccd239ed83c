//! Files in and out of real containers: `cp` both ways with docker's archive rules and
//! symlinks that must stay inside the container, `diff`, `export` (re-imported and run),
//! `commit` (the new image runs with the changes and has a history entry).

mod container_support;
use container_support::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn run_d(root: &Root, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    root.ok(&all).trim().to_string()
}

fn berth_stdin(root: &Root, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut c = Command::new(BERTH);
    c.arg("--root").arg(root.path()).args(args);
    if let Some(d) = monitor_dir_for_path() {
        c.env(
            "PATH",
            format!("{}:{}", d.display(), std::env::var("PATH").unwrap()),
        );
    }
    let mut ch = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    ch.stdin.take().unwrap().write_all(input).unwrap();
    ch.wait_with_output().unwrap()
}

/// The content of `path` in the container, read with `cp CTR:PATH -` (None: no such file).
fn cat(root: &Root, ctr: &str, path: &str) -> Option<String> {
    let o = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["cp", "-L", &format!("{ctr}:{path}"), "-"])
        .output()
        .unwrap();
    if !o.status.success() {
        return None;
    }
    let mut a = tar::Archive::new(&o.stdout[..]);
    let mut e = a.entries().unwrap().next()?.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut e, &mut text).unwrap();
    Some(text)
}

fn tar_names(bytes: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(bytes);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn cp_follows_docker_archive_rules_both_ways_on_running_and_stopped_containers() {
    let root = Root::new();
    let host = tempfile::tempdir().unwrap();
    let id = run_d(
        &root,
        &[
            "--name",
            "box",
            IMAGE,
            "sh",
            "-c",
            "mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b; sleep 1000",
        ],
    );
    eventually("the files", || cat(&root, "box", "/data/sub/b").is_some());

    // A directory into a missing path takes its name; into an existing dir, goes inside.
    let out = host.path().join("copy");
    root.ok(&["cp", "box:/data", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(out.join("sub/b")).unwrap(), "two\n");
    root.ok(&["cp", "box:/data", out.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(out.join("data/a")).unwrap(),
        "one\n"
    );
    // DIR/. copies the contents.
    let flat = host.path().join("flat");
    std::fs::create_dir(&flat).unwrap();
    root.ok(&["cp", "box:/data/.", flat.to_str().unwrap()]);
    assert!(flat.join("a").is_file() && flat.join("sub/b").is_file());
    // A file onto a file replaces it; a dir onto a file is refused.
    let f = host.path().join("f");
    std::fs::write(&f, "old").unwrap();
    root.ok(&["cp", "box:/data/a", f.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\n");
    let o = root.berth(&["cp", "box:/data", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A file to a missing "dir/" is refused; a missing source is docker's error.
    let o = root.berth(&[
        "cp",
        "box:/data/a",
        &format!("{}/nodir/", host.path().display()),
    ]);
    assert_ne!(o.status.code(), Some(0));
    let o = root.berth(&["cp", "box:/nope", host.path().to_str().unwrap()]);
    assert!(
        stderr(&o).contains("Could not find the file /nope in container box"),
        "{}",
        stderr(&o)
    );

    // Host -> container: a file into a dir, a dir to a new name, and back out through `-`.
    let src = host.path().join("src");
    std::fs::create_dir_all(src.join("deep")).unwrap();
    std::fs::write(src.join("deep/x"), "x!").unwrap();
    std::fs::write(host.path().join("note"), "hello").unwrap();
    root.ok(&[
        "cp",
        host.path().join("note").to_str().unwrap(),
        "box:/data",
    ]);
    root.ok(&["cp", src.to_str().unwrap(), "box:/newdir"]);
    assert_eq!(cat(&root, "box", "/data/note").unwrap(), "hello");
    assert_eq!(cat(&root, "box", "/newdir/deep/x").unwrap(), "x!");
    // Owned by root without -a, as docker does; kept with -a.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let upper = root.path().join("containers").join(&id).join("upper");
    let note = host.path().join("note");
    std::fs::set_permissions(&note, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&note, Some(1234), Some(5678)).unwrap();
    root.ok(&["cp", note.to_str().unwrap(), "box:/data/"]);
    let m = std::fs::metadata(upper.join("data/note")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (0, 0, 0o640));
    root.ok(&["cp", "-a", note.to_str().unwrap(), "box:/data/"]);
    let m = std::fs::metadata(upper.join("data/note")).unwrap();
    assert_eq!((m.uid(), m.gid()), (1234, 5678));

    let o = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["cp", "box:/data/sub", "-"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(tar_names(&o.stdout), ["sub/", "sub/b"]);

    // A tar on stdin into a dir; stopped container too.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o600);
    b.append_data(&mut h, "fromtar", &b"tar"[..]).unwrap();
    let archive = b.into_inner().unwrap();
    root.ok(&["stop", "-t", "0", "box"]);
    ok(&berth_stdin(&root, &["cp", "-", "box:/data"], &archive));
    root.ok(&[
        "cp",
        "box:/data/fromtar",
        host.path().join("ft").to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(host.path().join("ft")).unwrap(),
        "tar"
    );
    let o = berth_stdin(&root, &["cp", "-", "box:/data/a"], &archive);
    assert!(stderr(&o).contains("must be a directory"), "{}", stderr(&o));
    root.ok(&["rm", &id]);
}

#[test]
fn cp_through_a_container_symlink_stays_inside_the_container() {
    let root = Root::new();
    let host = tempfile::tempdir().unwrap();
    let id = run_d(
        &root,
        &[
            "--name",
            "evil",
            IMAGE,
            "sh",
            "-c",
            "ln -s /etc /evil; ln -s /etc/passwd /pw; sleep 1000",
        ],
    );
    let upper = root.path().join("containers").join(&id).join("upper");
    eventually("the symlinks", || {
        upper.join("pw").symlink_metadata().is_ok()
    });
    let marker = host.path().join("berth-cp-escape-test");
    std::fs::write(&marker, "planted").unwrap();
    root.ok(&["cp", marker.to_str().unwrap(), "evil:/evil/x"]);
    assert!(
        !std::path::Path::new("/etc/x").exists(),
        "wrote into the host's /etc"
    );
    assert_eq!(
        std::fs::read_to_string(upper.join("etc/x")).unwrap(),
        "planted"
    );
    assert_eq!(cat(&root, "evil", "/evil/x").unwrap(), "planted");

    // A tar on stdin whose symlink points out and whose next entry goes through it.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "out", "/etc").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    h.set_mode(0o644);
    b.append_data(&mut h, "out/berth-cp-escape-test-2", &b"tar!"[..])
        .unwrap();
    ok(&berth_stdin(
        &root,
        &["cp", "-", "evil:/"],
        &b.into_inner().unwrap(),
    ));
    assert!(!std::path::Path::new("/etc/berth-cp-escape-test-2").exists());
    assert_eq!(
        std::fs::read_to_string(upper.join("etc/berth-cp-escape-test-2")).unwrap(),
        "tar!"
    );

    // Reading through the symlink gives the container's passwd, not the host's.
    let o = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["cp", "evil:/evil/passwd", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut a = tar::Archive::new(&o.stdout[..]);
    let mut e = a.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut e, &mut text).unwrap();
    assert!(
        text.starts_with("root:x:0:0:root:/root:/bin/sh\nnobody"),
        "{text}"
    );
    // Without -L a symlink is copied as a link; with -L its target inside the container.
    let l = host.path().join("pw-link");
    root.ok(&["cp", "evil:/pw", l.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_link(&l).unwrap(),
        std::path::Path::new("/etc/passwd")
    );
    let f = host.path().join("pw-file");
    root.ok(&["cp", "-L", "evil:/pw", f.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&f)
        .unwrap()
        .contains("nobody:x:65534"));
}

#[test]
fn cp_into_a_volume_path_writes_to_the_volume() {
    let root = Root::new();
    let host = tempfile::tempdir().unwrap();
    run_d(
        &root,
        &[
            "--name",
            "vol",
            "-v",
            "cpvol:/mnt/v",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    std::fs::write(host.path().join("n"), "in volume").unwrap();
    root.ok(&["cp", host.path().join("n").to_str().unwrap(), "vol:/mnt/v/"]);
    assert_eq!(cat(&root, "vol", "/mnt/v/n").unwrap(), "in volume");
    let data = root.path().join("volumes/cpvol/_data/n");
    assert_eq!(std::fs::read_to_string(data).unwrap(), "in volume");
    root.ok(&["rm", "-f", "vol"]);
    root.ok(&["volume", "rm", "cpvol"]);
    // Read-only places are refused as docker refuses them.
    run_d(
        &root,
        &[
            "--name",
            "ro",
            "--read-only",
            "-v",
            "rovol:/mnt/ro:ro",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    let n = host.path().join("n");
    let o = root.berth(&["cp", n.to_str().unwrap(), "ro:/mnt/ro/"]);
    assert!(
        stderr(&o).contains("mounted volume is marked read-only"),
        "{}",
        stderr(&o)
    );
    let o = root.berth(&["cp", n.to_str().unwrap(), "ro:/"]);
    assert!(
        stderr(&o).contains("container rootfs is marked read-only"),
        "{}",
        stderr(&o)
    );
    assert!(cat(&root, "ro", "/n").is_none());
}

#[test]
fn diff_lists_added_changed_and_deleted_paths_sorted() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            IMAGE,
            "sh",
            "-c",
            "echo x > /etc/newfile; rm /etc/group; mkdir /made; echo >> /etc/passwd; sleep 1000",
        ],
    );
    // The shell's last change is to /etc/passwd; waiting on an earlier one
    // raced with it (seen in CI).
    eventually("the changes", || {
        root.ok(&["diff", &id]).contains("C /etc/passwd")
    });
    assert_eq!(
        root.ok(&["diff", &id[..8]]),
        "C /etc\nD /etc/group\nA /etc/newfile\nC /etc/passwd\nA /made\n"
    );
    assert_eq!(
        root.ok(&["container", "diff", &id]),
        root.ok(&["diff", &id])
    );
    let o = root.berth(&["diff", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No such container: nosuch"));
}

#[test]
fn export_is_the_containers_filesystem_and_runs_when_imported() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[IMAGE, "sh", "-c", "echo exported > /marker; rm /etc/group"],
    );
    root.ok(&["wait", &id]);
    let tarfile = root.path().join("out.tar");
    root.ok(&["export", "-o", tarfile.to_str().unwrap(), &id]);
    let bytes = std::fs::read(&tarfile).unwrap();
    let names = tar_names(&bytes);
    assert!(
        names.contains(&"marker".to_string()) && names.contains(&"bin/busybox".to_string()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n == "etc/group"));
    // To stdout (a pipe here) the same bytes.
    let o = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["export", &id])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(tar_names(&o.stdout), names);
    // Never to a terminal.
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two fds; null name/termios/winsize are allowed.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0);
    // SAFETY: `slave` is ours; the Stdio owns it from here.
    let tty = unsafe { <Stdio as std::os::fd::FromRawFd>::from_raw_fd(slave) };
    let o = Command::new(BERTH)
        .arg("--root")
        .arg(root.path())
        .args(["export", &id])
        .stdout(tty)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    // SAFETY: closing our own master fd.
    unsafe { libc::close(master) };
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cowardly refusing to save to a terminal"));
    root.ok(&["import", tarfile.to_str().unwrap(), "reimported:1"]);
    assert_eq!(
        root.ok(&["run", "--rm", "reimported:1", "cat", "/marker"]),
        "exported\n"
    );
}

#[test]
fn commit_makes_an_image_with_the_containers_changes() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            IMAGE,
            "sh",
            "-c",
            "echo committed > /added; rm /etc/group; mkdir -p /d; touch /d/f; sleep 1000",
        ],
    );
    eventually("the changes", || root.ok(&["diff", &id]).contains("A /d/f"));
    let out = root.ok(&[
        "commit",
        "-a",
        "Tester <t@example.com>",
        "-m",
        "my change",
        "-c",
        "ENV FOO=bar",
        &id,
        "committed:v1",
    ]);
    assert!(
        out.trim().starts_with("sha256:") && out.trim().len() == 71,
        "{out}"
    );
    // The container kept running (paused only while its files were read).
    let j: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", &id])).unwrap();
    assert_eq!(j[0]["State"]["Status"], "running");
    let o = root.ok(&[
        "run",
        "--rm",
        "committed:v1",
        "sh",
        "-c",
        "cat /added; test -e /etc/group || echo gone; echo $FOO",
    ]);
    assert_eq!(o, "committed\ngone\nbar\n");
    let h = root.ok(&["history", "--no-trunc", "committed:v1"]);
    assert!(h.contains("my change"), "{h}");
    assert_eq!(h.lines().count(), 3, "{h}");
    // A container of the new image diffs against it: nothing changed yet.
    let c2 = root
        .ok(&["create", "committed:v1", "true"])
        .trim()
        .to_string();
    assert_eq!(root.ok(&["diff", &c2]), "");
}

#[test]
fn commit_keeps_a_replaced_directory_opaque() {
    let root = Root::new();
    // An image with a directory of two files (not /etc: its hosts, hostname and
    // resolv.conf are mount points in every container, which `rm -rf` cannot remove).
    let base = run_d(
        &root,
        &[IMAGE, "sh", "-c", "mkdir /data && touch /data/a /data/b"],
    );
    root.ok(&["wait", &base]);
    root.ok(&["commit", &base, "withdata:v1"]);
    let id = run_d(
        &root,
        &[
            "withdata:v1",
            "sh",
            "-c",
            "rm -rf /data && mkdir /data && echo only > /data/only",
        ],
    );
    assert_eq!(root.ok(&["wait", &id]).trim(), "0");
    let out = root.ok(&["commit", &id]);
    let image = out.trim();
    // The new layer hides the image's /data entirely: only the new file is there.
    let o = root.ok(&["run", "--rm", image, "ls", "-A", "/data"]);
    assert_eq!(o, "only\n");
    // Without a name the image is dangling but listed by ID.
    assert!(root
        .ok(&["images", "-a", "-q", "--no-trunc"])
        .contains(image));
}

/// `-v /host/file:/etc/x`: the file in the container's root is only the mount point, so
/// `cp` reads and writes the host file, in place (the mount holds its inode), as docker
/// reads and writes through the mount.
#[test]
fn cp_onto_a_single_file_bind_writes_through_to_the_host_file() {
    use std::os::unix::fs::MetadataExt;
    let root = Root::new();
    let host = tempfile::tempdir().unwrap();
    let (conf, ro) = (host.path().join("conf"), host.path().join("ro"));
    std::fs::write(&conf, "old\n").unwrap();
    std::fs::write(&ro, "fixed\n").unwrap();
    let ino = std::fs::metadata(&conf).unwrap().ino();
    let bind = format!("{}:/etc/x", conf.display());
    let bind_ro = format!("{}:/etc/y:ro", ro.display());
    run_d(
        &root,
        &[
            "--name", "fb", "-v", &bind, "-v", &bind_ro, IMAGE, "sleep", "1000",
        ],
    );
    let src = host.path().join("new");
    std::fs::write(&src, "new content\n").unwrap();
    root.ok(&["cp", src.to_str().unwrap(), "fb:/etc/x"]);
    assert_eq!(root.ok(&["exec", "fb", "cat", "/etc/x"]), "new content\n");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "new content\n");
    assert_eq!(std::fs::metadata(&conf).unwrap().ino(), ino, "replaced");
    // Read back through the mount too.
    assert_eq!(cat(&root, "fb", "/etc/x").unwrap(), "new content\n");

    // Into the directory that holds it, under its own name.
    let named = tempfile::tempdir().unwrap();
    std::fs::write(named.path().join("x"), "third\n").unwrap();
    let x = named.path().join("x");
    root.ok(&["cp", x.to_str().unwrap(), "fb:/etc/"]);
    assert_eq!(root.ok(&["exec", "fb", "cat", "/etc/x"]), "third\n");

    // A read-only one is refused; a directory cannot replace one.
    let o = root.berth(&["cp", src.to_str().unwrap(), "fb:/etc/y"]);
    assert!(
        stderr(&o).contains("mounted volume is marked read-only"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), "fixed\n");
    let o = root.berth(&["cp", named.path().to_str().unwrap(), "fb:/etc/x"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    // Stopped, the host file is still what the path names.
    root.ok(&["stop", "-t", "0", "fb"]);
    std::fs::write(&src, "while stopped\n").unwrap();
    root.ok(&["cp", src.to_str().unwrap(), "fb:/etc/x"]);
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "while stopped\n");
    assert_eq!(std::fs::metadata(&conf).unwrap().ino(), ino);
}
