//! Test fixtures: busybox bundles made from Debian's busybox-static, a private state root per
//! test, and helpers that run the real `berth-runtime` binary.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_berth-runtime");

static N: AtomicUsize = AtomicUsize::new(0);

/// A unique id for this test process and call.
pub fn uid(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub struct Bundle {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub id: String,
}

/// Build a busybox rootfs into `root`.
pub fn busybox_rootfs(root: &Path) {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox"))
        .expect("busybox-static must be installed (apt-get install busybox-static)");
    let out = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&out.stdout).lines() {
        if applet != "busybox" {
            let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
        }
    }
    for d in ["etc", "proc", "sys", "dev", "tmp", "root"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").unwrap();
}

/// runc's default spec (from `berth-runtime spec`) with terminal off and the given args.
pub fn default_config(args: &[&str]) -> Value {
    let d = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["spec", "--bundle"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "spec failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("config.json")).unwrap()).unwrap();
    v["process"]["terminal"] = json!(false);
    v["process"]["args"] = json!(args);
    v["root"]["readonly"] = json!(false);
    v
}

impl Bundle {
    pub fn new(args: &[&str]) -> Bundle {
        Self::with(args, |_| {})
    }

    pub fn with(args: &[&str], edit: impl FnOnce(&mut Value)) -> Bundle {
        let dir = tempfile::Builder::new()
            .prefix("berth-test-")
            .tempdir()
            .unwrap();
        Self::in_dir(dir, args, edit)
    }

    /// Like `with`, in a directory of the caller's choosing (e.g. one that a user
    /// namespace's root can traverse: /tmp may be 0700).
    pub fn in_dir(dir: tempfile::TempDir, args: &[&str], edit: impl FnOnce(&mut Value)) -> Bundle {
        busybox_rootfs(&dir.path().join("rootfs"));
        let mut cfg = default_config(args);
        edit(&mut cfg);
        std::fs::write(
            dir.path().join("config.json"),
            serde_json::to_vec_pretty(&cfg).unwrap(),
        )
        .unwrap();
        let root = dir.path().join("state");
        Bundle {
            dir,
            root,
            id: uid("c"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--root").arg(&self.root);
        c
    }

    /// Run a sub-command with the state root set; stdin closed. Output goes through files,
    /// not pipes: a container init inherits the runtime's stdio and would hold a pipe open.
    pub fn rt(&self, args: &[&str]) -> Output {
        capture(self.cmd().args(args))
    }

    pub fn create(&self) -> Output {
        self.rt(&[
            "create",
            "--bundle",
            self.path().to_str().unwrap(),
            &self.id,
        ])
    }

    pub fn run(&self) -> Output {
        self.rt(&["run", "--bundle", self.path().to_str().unwrap(), &self.id])
    }

    pub fn state(&self) -> Value {
        let o = self.rt(&["state", &self.id]);
        assert!(o.status.success(), "state failed: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    pub fn status(&self) -> String {
        self.state()["status"].as_str().unwrap().to_string()
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = self.rt(&["delete", "--force", &self.id]);
    }
}

/// Run to exit with stdout/stderr in temp files (see `Bundle::rt`).
pub fn capture(c: &mut Command) -> Output {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let status = c
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .status()
        .unwrap();
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    };
    Output {
        status,
        stdout: read(out),
        stderr: read(err),
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "command failed ({:?}): stdout={} stderr={}",
        o.status,
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Poll until `f` is true (up to 5 s); for states that other processes reach.
pub fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

/// Every cgroup dir berth made for this container id, on any hierarchy.
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for e in rd.flatten() {
            let p = e.path().join("berth").join(id);
            if p.exists() {
                out.push(p);
            }
        }
    }
    out
}

/// Add a namespace to a config: a new one, or (with `path`) one to join.
pub fn add_ns(cfg: &mut Value, typ: &str, path: Option<&str>) {
    let nss = cfg["linux"]["namespaces"].as_array_mut().unwrap();
    nss.retain(|n| n["type"] != typ);
    match path {
        Some(p) => nss.push(json!({"type": typ, "path": p})),
        None => nss.push(json!({"type": typ})),
    }
}

/// Remove a namespace type from a config (the container then shares the runtime's).
pub fn drop_ns(cfg: &mut Value, typ: &str) {
    cfg["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n["type"] != typ);
}

/// A host helper process, killed and reaped when dropped.
pub struct Helper(pub std::process::Child);

impl Helper {
    pub fn spawn(c: &mut Command) -> Helper {
        Helper(
            c.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The namespace link (e.g. "net:[4026531840]") of a host process ("self" for this one).
pub fn ns_link(pid: &str, ns: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Run a one-shot container with `sh -c script` and return its stdout (must succeed).
#[track_caller]
pub fn sh_run(script: &str, edit: impl FnOnce(&mut Value)) -> String {
    let b = Bundle::with(&["sh", "-c", script], edit);
    ok(&b.run())
}

/// Accept one seccomp-listener connection and return the state JSON and the notify fd.
pub fn receive_notify(
    listener: &std::os::unix::net::UnixListener,
) -> (serde_json::Value, std::os::fd::OwnedFd) {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    listener.set_nonblocking(true).unwrap();
    let mut conn = None;
    assert!(
        eventually(|| {
            conn = listener.accept().ok().map(|(s, _)| s);
            conn.is_some()
        }),
        "nobody connected to the listener"
    );
    let conn = conn.unwrap();
    conn.set_nonblocking(false).unwrap();
    let mut buf = vec![0u8; 8192];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .unwrap();
    let n = msg.bytes;
    let fd = msg
        .cmsgs()
        .unwrap()
        .find_map(|c| match c {
            ControlMessageOwned::ScmRights(f) => f.first().copied(),
            _ => None,
        })
        .expect("no fd attached");
    // SAFETY: the fd was just received and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    (serde_json::from_slice(&buf[..n]).unwrap(), fd)
}
