//! Shared by the container_* tests: a data root with a busybox image made offline with
//! `berth import`, the monitor binary, the CLI, and the checks that nothing is left behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");
pub const IMAGE: &str = "bb:latest";

/// `berth-monitor` is a separate binary: next to `berth` when the workspace was built, else
/// built here into its own target dir (no wait on the target dir cargo holds for us) and
/// put on PATH, where the engine looks second.
fn monitor_path_dir() -> &'static Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let next_to_berth = Path::new(BERTH).with_file_name("berth-monitor");
        if next_to_berth.is_file() {
            return None;
        }
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = manifest.join("../../target/monitor-for-tests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = Command::new(cargo)
            .args(["build", "-q", "-p", "berth-monitor", "--target-dir"])
            .arg(&target)
            .env("CARGO_BUILD_JOBS", "1")
            .current_dir(manifest)
            .status()
            .expect("cargo build berth-monitor");
        assert!(st.success(), "building berth-monitor failed");
        let bin = std::fs::read_dir(&target)
            .unwrap()
            .flatten()
            .map(|e| e.path().join("debug"))
            .chain([target.join("debug")])
            .find(|d| d.join("berth-monitor").is_file())
            .expect("berth-monitor built");
        Some(bin)
    })
}

/// The directory to put on PATH for the engine to find `berth-monitor` (None: next to berth).
pub fn monitor_dir_for_path() -> Option<PathBuf> {
    monitor_path_dir().clone()
}

/// `berth` with `berth-monitor` findable (see [`monitor_dir_for_path`]), no arguments yet.
pub fn berth_command() -> Command {
    let mut c = Command::new(BERTH);
    if let Some(d) = monitor_path_dir() {
        let path = std::env::var("PATH").unwrap_or_default();
        c.env("PATH", format!("{}:{path}", d.display()));
    }
    c
}

/// `c` as an interactive shell starts a foreground job: SIGINT and SIGQUIT at their default
/// actions, whatever this test process inherited (a background job or a script ignores
/// them, and that survives execve). For tests that stand for a Ctrl-C at a terminal.
pub fn as_foreground_job(c: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure only calls signal(2), which is
    // async-signal-safe, with SIG_DFL (no handler code).
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            Ok(())
        })
    }
}

pub fn berth(root: &Path, args: &[&str]) -> Output {
    berth_command()
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

/// `berth ARGS` told to kill itself at crash point `point` (`berth_engine::crash_point`).
pub fn berth_crashing_at(root: &Root, point: &str, args: &[&str]) -> Output {
    berth_command()
        .arg("--root")
        .arg(root.path())
        .args(args)
        .env(berth_engine::crash_point::ENV, point)
        .output()
        .unwrap()
}

/// The command died by SIGKILL: it reached `point`.
pub fn assert_killed(o: &Output, point: &str, what: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGKILL),
        "{what} was not killed at {point} (the point was never reached): {:?} {}",
        o.status,
        stderr(o)
    );
}

pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed ({:?}): {} {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A busybox-static root filesystem tarball: the binary plus one symlink per applet.
fn busybox_tgz(dir: &Path) -> PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    b.append_path_with_name("/bin/busybox", "bin/busybox")
        .unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet == "busybox" {
            continue;
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox")
            .unwrap();
    }
    for (name, text) in [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, text.as_bytes()).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    let p = dir.join("busybox.tgz");
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    p
}

/// A data root holding the image `bb:latest`. Removes its containers when dropped.
pub struct Root {
    pub dir: tempfile::TempDir,
}

impl Root {
    pub fn new() -> Root {
        let dir = tempfile::tempdir().unwrap();
        let tgz = busybox_tgz(dir.path());
        ok(&berth(
            dir.path(),
            &["import", tgz.to_str().unwrap(), IMAGE],
        ));
        // Its own default bridge and subnet: tests run in parallel, each with its own root,
        // and must not share one bridge's addresses.
        let n: u32 = std::process::id().wrapping_mul(2654435761)
            ^ ROOTS
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                .wrapping_mul(40503);
        let bridge = format!("bt{:x}", n & 0xfffff);
        let bip = format!("10.{}.{}.1/24", 200 + (n >> 8) % 50, n % 250);
        std::fs::write(
            dir.path().join("network.json"),
            format!("{{\"bridge\": \"{bridge}\", \"bip\": \"{bip}\"}}"),
        )
        .unwrap();
        Root { dir }
    }

    /// The Linux bridge of this root's default network.
    pub fn bridge(&self) -> String {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(self.path().join("network.json")).unwrap(),
        )
        .unwrap();
        v["bridge"].as_str().unwrap().to_string()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn berth(&self, args: &[&str]) -> Output {
        berth(self.path(), args)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        ok(&self.berth(args))
    }

    /// The runtime's state dirs under this root (its `@` lock files left out).
    pub fn runtime_state(&self) -> Vec<String> {
        std::fs::read_dir(self.path().join("runtime"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('@'))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `inspect ID`'s one object.
    pub fn inspect(&self, id: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["inspect", id])).unwrap();
        v[0].clone()
    }

    /// All container IDs (full).
    pub fn ids(&self) -> Vec<String> {
        self.ok(&["ps", "-aq", "--no-trunc"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

static ROOTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

impl Drop for Root {
    fn drop(&mut self) {
        for id in self.ids() {
            let _ = self.berth(&["rm", "-f", &id]);
        }
        let nets = self.berth(&["network", "ls", "-q", "--no-trunc"]);
        for n in String::from_utf8_lossy(&nets.stdout).lines() {
            let _ = self.berth(&["network", "rm", n]);
        }
        remove_bridge(&self.bridge());
    }
}

/// A test bridge and the rules Berth made for it in its table.
pub fn remove_bridge(bridge: &str) {
    berth_testkit::remove_test_bridge(bridge)
}

/// Processes whose command line mentions `needle` (a container ID): monitors, inits.
pub fn processes_with(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&c).contains(needle) {
                out.push(pid);
            }
        }
    }
    out
}

fn comm_is(pid: i32, name: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == name)
}

fn parent_of(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s[s.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()
}

/// The live monitors of container `id`. Its watcher, a fork of the monitor with the same
/// command line, is left out: it renames itself `berth-watcher` just after the fork, and
/// until then its parent is the monitor.
pub fn monitors_of(id: &str) -> Vec<i32> {
    let needle = format!("--id\0{id}\0");
    let live = |p: i32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| !s.contains(") Z "))
    };
    let mine = processes_with(&needle);
    mine.iter()
        .copied()
        .filter(|&p| {
            comm_is(p, "berth-monitor")
                && live(p)
                && !parent_of(p).is_some_and(|pp| mine.contains(&pp))
        })
        .collect()
}

/// The one monitor of container `id`, once it is there.
pub fn monitor_of(id: &str) -> i32 {
    let mut found = 0;
    eventually("the container's monitor", || {
        let m = monitors_of(id);
        found = m.first().copied().unwrap_or(0);
        m.len() == 1
    });
    found
}

fn cgroup_dirs_named(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![(PathBuf::from("/sys/fs/cgroup"), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            if e.file_name().to_string_lossy().contains(id) {
                found.push(e.path());
            } else if depth < 3 {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    found
}

/// After `rm`: no mount, cgroup, process, runtime state, container dir or row of `id`.
pub fn assert_nothing_left(root: &Root, id: &str) {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(id), "a mount of {id} is left");
    assert_eq!(
        cgroup_dirs_named(id),
        Vec::<PathBuf>::new(),
        "cgroups of {id} are left"
    );
    assert_eq!(
        processes_with(id),
        Vec::<i32>::new(),
        "processes of {id} are left"
    );
    assert!(
        !root.path().join("runtime").join(id).exists(),
        "runtime state left"
    );
    assert!(
        !root.path().join("containers").join(id).exists(),
        "container dir left"
    );
    assert!(!root.ids().contains(&id.to_string()), "row left");
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&links.stdout).contains(&format!("vb{}", &id[..6])),
        "a veth of {id} is left"
    );
    assert!(
        !root.path().join("netns").join(id).exists(),
        "the network namespace of {id} is left"
    );
}

/// Poll (the monitor and `--rm` work after the CLI returns) for up to 20 s.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Berth's nftables table as `nft list` prints it (empty when there is none).
pub fn nft_table() -> String {
    let o = Command::new("nft")
        .args(["list", "table", "ip", "berth"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}
