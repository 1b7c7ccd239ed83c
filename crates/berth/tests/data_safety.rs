//! No silent loss of data: a state database that is missing, empty or unreadable beside
//! containers, volumes or images is an error that says how to recover (never a silent fresh
//! start); a volume made again by name keeps its data; on a full disk whose database lost its
//! WAL file, reading and removing still work; `stop` of a container it had to kill succeeds.

mod container_support;
use container_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn db_files(root: &Path) -> Vec<PathBuf> {
    ["berth.db", "berth.db-wal", "berth.db-shm"]
        .iter()
        .map(|f| root.join(f))
        .collect()
}

/// Moves the database files aside and back.
struct Aside {
    root: PathBuf,
}

impl Aside {
    fn new(root: &Path) -> Aside {
        for f in db_files(root) {
            if f.exists() {
                std::fs::rename(&f, f.with_extension(format!("aside-{}", ext(&f)))).unwrap();
            }
        }
        Aside {
            root: root.to_path_buf(),
        }
    }

    fn restore(self) {
        for f in db_files(&self.root) {
            let _ = std::fs::remove_file(&f);
            let aside = f.with_extension(format!("aside-{}", ext(&f)));
            if aside.exists() {
                std::fs::rename(&aside, &f).unwrap();
            }
        }
    }
}

fn ext(f: &Path) -> String {
    f.extension().unwrap().to_string_lossy().into_owned()
}

fn assert_lost(o: &std::process::Output, problem: &str) {
    assert_eq!(o.status.code(), Some(125), "{}", stderr(o));
    let e = stderr(o);
    assert!(e.contains(problem), "{e}");
    assert!(e.contains("berth.db"), "names the file: {e}");
    assert!(
        e.contains("Restore") && e.contains("aside"),
        "says how to recover: {e}"
    );
    assert_eq!(e.lines().count(), 1, "one line: {e}");
}

#[test]
fn a_missing_empty_or_unreadable_database_beside_data_is_an_error_with_advice() {
    let root = Root::new();
    root.ok(&["volume", "create", "keep"]);
    let data = root.path().join("volumes/keep/_data/precious");
    std::fs::write(&data, "x").unwrap();
    let id = root
        .ok(&["create", "--network", "none", IMAGE, "true"])
        .trim()
        .to_string();

    let aside = Aside::new(root.path());
    for args in [
        &["ps", "-a"][..],
        &["images"],
        &["volume", "ls"],
        &["volume", "create", "keep"],
        &["run", "--rm", "--network", "none", IMAGE, "true"],
    ] {
        assert_lost(&root.berth(args), "missing");
    }
    assert!(
        !root.path().join("berth.db").exists(),
        "no empty database was made"
    );
    std::fs::write(root.path().join("berth.db"), b"").unwrap();
    assert_lost(&root.berth(&["ps"]), "empty");
    assert_lost(&root.berth(&["volume", "create", "keep"]), "empty");
    std::fs::write(root.path().join("berth.db"), b"not a database at all").unwrap();
    assert_lost(&root.berth(&["ps"]), "cannot be used");
    assert_lost(&root.berth(&["images"]), "cannot be used");
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "x");

    // Restored, everything is there again.
    aside.restore();
    assert!(root.ok(&["ps", "-aq", "--no-trunc"]).contains(&id));
    assert!(root.ok(&["volume", "ls", "-q"]).contains("keep"));
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "x");
}

#[test]
fn a_fresh_data_root_starts_silently() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("new");
    for args in [&["ps", "-a"][..], &["images"], &["volume", "ls"]] {
        let o = berth(&root, args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "");
    }
    ok(&berth(&root, &["volume", "create", "first"]));
    // An empty data root whose database file is an empty file (made by hand) is fresh too.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("berth.db"), b"").unwrap();
    ok(&berth(&other, &["ps"]));
    assert_eq!(ok(&berth(&other, &["volume", "ls", "-q"])), "");
}

#[test]
fn volume_create_of_an_existing_name_keeps_its_data_and_returns_it() {
    let root = Root::new();
    assert_eq!(root.ok(&["volume", "create", "vol"]).trim(), "vol");
    let inspect = || -> serde_json::Value {
        serde_json::from_str(&root.ok(&["volume", "inspect", "vol"])).unwrap()
    };
    let before = inspect();
    std::fs::write(root.path().join("volumes/vol/_data/file"), "data").unwrap();
    assert_eq!(root.ok(&["volume", "create", "vol"]).trim(), "vol");
    assert_eq!(
        std::fs::read_to_string(root.path().join("volumes/vol/_data/file")).unwrap(),
        "data"
    );
    assert_eq!(inspect()[0]["CreatedAt"], before[0]["CreatedAt"]);
    // A container sees the data too.
    let out = root.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        "vol:/v",
        IMAGE,
        "cat",
        "/v/file",
    ]);
    assert_eq!(out, "data");
}

#[test]
fn stop_of_a_container_it_had_to_kill_exits_0() {
    let root = Root::new();
    // PID 1 with no handler: SIGTERM does nothing, the timeout's SIGKILL ends it.
    let id = root
        .ok(&["run", "-d", "--network", "none", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let o = root.berth(&["stop", "-t", "1", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), id);
    assert_eq!(root.inspect(&id)["State"]["ExitCode"], 137);
    // And one that a trap makes ignore the stop signal.
    let id = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "trap '' TERM; while true; do sleep 1; done",
        ])
        .trim()
        .to_string();
    let o = root.berth(&["stop", "-t", "1", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(root.inspect(&id)["State"]["Status"], "exited");
}

/// A tmpfs of `size` mounted at a new directory; unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .ok()?;
        st.success().then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .args(["-l"])
            .arg(self.dir.path())
            .status();
    }
}

/// Fill the filesystem of `dir` until a write fails.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0x5au8; 64 << 10];
    while f.write_all(&block).is_ok() {}
    let _ = f.flush();
    // Small files take what is left between the blocks.
    for i in 0.. {
        if std::fs::write(dir.join(format!("filler.{i}")), [1u8; 512]).is_err() {
            break;
        }
    }
}

#[test]
fn reading_and_removing_work_on_a_full_disk_whose_database_lost_its_wal_file() {
    let Some(disk) = Tmpfs::mount("48m") else {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    };
    let root = Root::new();
    let r = disk.path().join("root");
    assert!(Command::new("cp")
        .arg("-a")
        .arg(root.path())
        .arg(&r)
        .status()
        .unwrap()
        .success());
    let b = |args: &[&str]| berth(&r, args);
    let _cleanup = RemoveAll(r.clone());
    let running = ok(&b(&[
        "run",
        "-d",
        "--network",
        "none",
        IMAGE,
        "sh",
        "-c",
        "echo hello; exec sleep 1000",
    ]))
    .trim()
    .to_string();
    let created = ok(&b(&["create", "--network", "none", IMAGE, "true"]))
        .trim()
        .to_string();
    eventually("the log line", || {
        b(&["logs", &running]).stdout.starts_with(b"hello")
    });
    // Everything in the database file itself, then no WAL and no index beside it.
    let db = rusqlite::Connection::open(r.join("berth.db")).unwrap();
    db.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(db);
    fill(disk.path());
    for f in ["berth.db-wal", "berth.db-shm"] {
        let _ = std::fs::remove_file(r.join(f));
    }

    let ps = ok(&b(&["ps", "-a", "--no-trunc"]));
    assert!(ps.contains(&running) && ps.contains(&created), "{ps}");
    let v: serde_json::Value = serde_json::from_str(&ok(&b(&["inspect", &running]))).unwrap();
    assert_eq!(v[0]["State"]["Running"], true);
    assert_eq!(ok(&b(&["logs", &running])), "hello\n");
    assert_eq!(ok(&b(&["rm", &created])).trim(), created);
    let o = b(&["stop", "-t", "1", &running]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(ok(&b(&["rm", "-f", &running])).trim(), running);
    assert_eq!(ok(&b(&["ps", "-aq"])), "");
    for e in std::fs::read_dir(disk.path()).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("filler") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    // With room again, it all goes on as before.
    let id = ok(&b(&["create", "--network", "none", IMAGE, "true"]));
    ok(&b(&["rm", id.trim()]));
}

/// Removes every container of a data root when dropped (also when the test fails).
struct RemoveAll(PathBuf);

impl Drop for RemoveAll {
    fn drop(&mut self) {
        let o = berth(&self.0, &["ps", "-aq", "--no-trunc"]);
        for id in String::from_utf8_lossy(&o.stdout).lines() {
            let _ = berth(&self.0, &["rm", "-f", id]);
        }
    }
}
