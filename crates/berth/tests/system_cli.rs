//! `berth system df`, `system prune`, `info` and `version`: docker's shapes, with counts
//! from the image store, the volume store and the engine's containers table (absent until
//! a container exists, which must read as none).

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

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

/// A busybox root filesystem tarball (gzip) made here, imported as an image: its ID.
fn import(root: &Path, name: &str) -> String {
    let mut b = tar::Builder::new(Vec::new());
    b.append_path_with_name("/bin/busybox", "bin/busybox")
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    let file = root.join("rootfs.tgz");
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    let id = out(&berth(root, &["import", file.to_str().unwrap(), name]));
    std::fs::remove_file(file).unwrap();
    id.trim().to_string()
}

/// Rows in the engine's containers table (made by the first command that opens the engine,
/// else here with the columns these commands read), every column without a default given.
fn add_containers(root: &Path, rows: &[(&str, &str, &str)]) {
    let db = rusqlite::Connection::open(root.join("berth.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY, name TEXT UNIQUE, image TEXT,
         image_id TEXT, created TEXT, options TEXT, state TEXT)",
    )
    .unwrap();
    for (id, image_id, state) in rows {
        db.execute(
            "INSERT INTO containers(id, name, image, image_id, created, options, state)
             VALUES (?1, ?1, ?2, ?2, '', '{}', ?3)",
            [id, image_id, state],
        )
        .unwrap();
    }
}

fn df_rows(root: &Path) -> Vec<Vec<String>> {
    out(&berth(
        root,
        &[
            "system",
            "df",
            "--format",
            "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}",
        ],
    ))
    .lines()
    .map(|l| l.split('|').map(String::from).collect())
    .collect()
}

#[test]
fn df_counts_images_containers_and_volumes() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let empty = out(&berth(r, &["system", "df"]));
    assert_eq!(
        empty,
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
         Images          0         0         0B        0B\n\
         Containers      0         0         0B        0B\n\
         Local Volumes   0         0         0B        0B\n\
         Build Cache     0         0         0B        0B\n"
    );
    let id = import(r, "tool:1");
    out(&berth(r, &["volume", "create", "v1"]));
    std::fs::write(r.join("volumes/v1/_data/f"), vec![0u8; 5000]).unwrap();
    let rows = df_rows(r);
    assert_eq!(rows[0][..3], ["Images", "1", "0"]);
    assert!(rows[0][4].ends_with("(100%)"), "{rows:?}");
    assert_ne!(rows[0][3], "0B");
    assert_eq!(rows[1], ["Containers", "0", "0", "0B", "0B"]);
    assert_eq!(rows[2], ["Local Volumes", "1", "0", "5kB", "5kB (100%)"]);
    assert_eq!(rows[3], ["Build Cache", "0", "0", "0B", "0B"]);

    // A running container made from the image, and a stopped one with 3000 bytes written.
    let (c1, c2) = ("a".repeat(64), "b".repeat(64));
    add_containers(r, &[(&c1, &id, "running"), (&c2, &id, "exited")]);
    std::fs::create_dir_all(r.join("containers").join(&c2).join("upper")).unwrap();
    std::fs::write(
        r.join("containers").join(&c2).join("upper/x"),
        vec![0u8; 3000],
    )
    .unwrap();
    let rows = df_rows(r);
    assert_eq!(rows[0][..3], ["Images", "1", "1"]);
    assert_eq!(rows[0][4], "0B (0%)");
    assert_eq!(rows[1], ["Containers", "2", "1", "3kB", "3kB (100%)"]);
}

#[test]
fn system_prune_keeps_what_containers_use() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let id = import(r, "tool:1");
    out(&berth(r, &["volume", "create", "named"]));
    // Declined: nothing goes.
    let o = berth(r, &["system", "prune", "-a"]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all images without at least one container associated to them\n"
    ));
    assert_eq!(out(&berth(r, &["images", "-q"])).lines().count(), 1);

    // A running container keeps its image; a stopped one is pruned first, as docker does.
    let running = out(&berth(
        r,
        &["run", "-d", "tool:1", "/bin/busybox", "sleep", "1000"],
    ));
    let stopped = out(&berth(r, &["create", "tool:1", "/bin/busybox", "true"]));
    out(&berth(
        r,
        &["network", "create", "--subnet", "10.176.77.0/24", "unused"],
    ));
    let o = out(&berth(r, &["system", "prune", "-a", "-f", "--volumes"]));
    assert!(o.contains("Deleted Networks:\nunused\n"), "{o}");
    assert!(
        o.starts_with(&format!("Deleted Containers:\n{stopped}")),
        "{o}"
    );
    assert!(o.contains("Total reclaimed space: "), "{o}");
    assert_eq!(out(&berth(r, &["images", "-q"])).lines().count(), 1);
    assert_eq!(out(&berth(r, &["ps", "-aq", "--no-trunc"])), running);
    // Named volumes are not pruned by system prune --volumes (docker 23+).
    assert_eq!(out(&berth(r, &["volume", "ls", "-q"])), "named\n");

    out(&berth(r, &["rm", "-f", running.trim()]));
    let o = out(&berth(r, &["system", "prune", "-a", "-f"]));
    assert!(
        o.starts_with("Deleted Images:\nuntagged: tool:1\ndeleted: sha256:"),
        "{o}"
    );
    assert_eq!(out(&berth(r, &["images", "-q"])), "");
    let _ = id;
}

#[test]
fn info_reports_counts_drivers_and_the_host() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    import(r, "tool:1");
    let text = out(&berth(r, &["info"]));
    let unified = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some("/sys/fs/cgroup") && l.contains(" - cgroup2 "));
    for want in [
        "Server:\n Containers: 0\n  Running: 0\n  Paused: 0\n  Stopped: 0\n Images: 1\n"
            .to_string(),
        format!(" Server Version: {}\n", env!("CARGO_PKG_VERSION")),
        " Storage Driver: overlayfs\n".into(),
        " Cgroup Driver: cgroupfs\n".into(),
        format!(" Cgroup Version: {}\n", if unified { 2 } else { 1 }),
        " Default Runtime: berth\n".into(),
        format!(" Docker Root Dir: {}\n", r.display()),
        format!(" CPUs: {}\n", std::thread::available_parallelism().unwrap()),
    ] {
        assert!(text.contains(&want), "{want:?} not in:\n{text}");
    }
    let runtimes = text.lines().find(|l| l.starts_with(" Runtimes: ")).unwrap();
    assert!(runtimes.starts_with(" Runtimes: berth"), "{runtimes}");
    if Path::new("/usr/sbin/runc").exists() {
        assert!(runtimes.contains("runc"), "{runtimes}");
    }

    add_containers(
        r,
        &[
            (&"1".repeat(64), "x", "running"),
            (&"2".repeat(64), "x", "paused"),
            (&"3".repeat(64), "x", "exited"),
            (&"4".repeat(64), "x", "created"),
        ],
    );
    let f = out(&berth(r, &["info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}}"]));
    assert_eq!(f, "4 1 1 2 1\n");
    let j: serde_json::Value =
        serde_json::from_str(&out(&berth(r, &["system", "info", "--format", "json"]))).unwrap();
    assert_eq!(j["DockerRootDir"], r.to_str().unwrap());
    assert_eq!(j["Driver"], "overlayfs");
    assert!(j["MemTotal"].as_u64().unwrap() > 0);
    assert!(j["Runtimes"]["berth"].is_object());
}

#[test]
fn version_prints_client_and_server_blocks() {
    let root = tempfile::tempdir().unwrap();
    let v = out(&berth(root.path(), &["version"]));
    let ver = env!("CARGO_PKG_VERSION");
    assert!(
        v.starts_with(&format!("Client:\n Version:           {ver}\n")),
        "{v}"
    );
    assert!(
        v.contains("\nServer: Berth Engine\n Engine:\n  Version:          "),
        "{v}"
    );
    assert!(v.contains(" OS/Arch:           linux/"), "{v}");
}
