//! A `berth serve` of its own for each test: a fresh data root holding `busybox:latest` (made
//! from busybox-static with `berth import`), its own default bridge, the API on a socket in
//! the root; and the real clients (the docker CLI) pointed at it.

#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The workspace's binaries: berth-serve's, with berth and berth-monitor beside it (a
/// workspace build makes all three).
pub fn bin(name: &str) -> PathBuf {
    let serve = PathBuf::from(env!("CARGO_BIN_EXE_berth-serve"));
    let p = serve.parent().unwrap().join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the workspace first (cargo build)",
        p.display()
    );
    p
}

/// A busybox-static root filesystem tarball: the binary plus one symlink per applet.
fn busybox_tar(dir: &Path) -> PathBuf {
    let fs = dir.join("bbfs");
    std::fs::create_dir_all(fs.join("bin")).unwrap();
    std::fs::create_dir_all(fs.join("etc")).unwrap();
    std::fs::copy("/bin/busybox", fs.join("bin/busybox")).expect("busybox-static is needed");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", fs.join("bin").join(applet)).unwrap();
        }
    }
    std::fs::write(fs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(fs.join("etc/group"), "root:x:0:\n").unwrap();
    let tar = dir.join("busybox.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&fs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_dir_all(&fs).unwrap();
    tar
}

pub struct Server {
    pub dir: tempfile::TempDir,
    child: Child,
    bridge: String,
}

static SERVERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let tar = busybox_tar(dir.path());
        let o = Command::new(bin("berth"))
            .arg("--root")
            .arg(&root)
            .args(["import", tar.to_str().unwrap(), "busybox:latest"])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "import: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // Its own default bridge and subnet: tests run in parallel.
        let n = std::process::id().wrapping_mul(2654435761)
            ^ SERVERS
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                .wrapping_mul(40503);
        let bridge = format!("bs{:x}", n & 0xfffff);
        let bip = format!("10.{}.{}.1/24", 150 + (n >> 8) % 40, n % 250);
        std::fs::write(
            root.join("network.json"),
            format!("{{\"bridge\": \"{bridge}\", \"bip\": \"{bip}\"}}"),
        )
        .unwrap();
        let child = spawn(dir.path());
        let s = Server { dir, child, bridge };
        s.wait_listening();
        s
    }

    fn wait_listening(&self) {
        for _ in 0..2000 {
            if UnixStream::connect(self.socket()).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("berth serve did not listen: {}", self.log());
    }

    /// Stops the server with `signal` and starts another on the same root and socket.
    pub fn restart_after(&mut self, signal: i32) {
        // SAFETY: signalling the server this test started.
        unsafe { libc::kill(self.child.id() as i32, signal) };
        let _ = self.child.wait();
        self.child = spawn(self.dir.path());
        self.wait_listening();
    }

    pub fn restart(&mut self) {
        self.restart_after(libc::SIGTERM)
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("api.sock")
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The docker CLI at `docker` pointed at this server, with a config dir of its own.
    pub fn cli(&self, docker: &str) -> Command {
        let mut c = Command::new(docker);
        c.env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_CONTEXT");
        c
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        self.cli(DOCKER).args(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.docker(args);
        assert!(
            o.status.success(),
            "docker {args:?} failed ({:?}): {}{}\nserver log:\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `berth` on the same root (the CLI and the server share it).
    pub fn berth(&self, args: &[&str]) -> Output {
        Command::new(bin("berth"))
            .arg("--root")
            .arg(self.root())
            .args(args)
            .output()
            .unwrap()
    }

    /// One raw HTTP/1.1 request on the socket (`Connection: close` in it); the whole answer.
    pub fn raw(&self, request: &[u8]) -> String {
        use std::io::{Read, Write};
        let mut s = UnixStream::connect(self.socket()).unwrap();
        s.write_all(request).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: signalling the server this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        if let Ok(o) = Command::new(bin("berth"))
            .arg("--root")
            .arg(self.root())
            .args(["ps", "-aq", "--no-trunc"])
            .output()
        {
            for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                let _ = Command::new(bin("berth"))
                    .arg("--root")
                    .arg(self.root())
                    .args(["rm", "-f", "-v", id])
                    .output();
            }
        }
        berth_testkit::remove_test_bridge(&self.bridge);
    }
}

fn spawn(dir: &Path) -> Child {
    let sock = dir.join("api.sock");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("serve.log"))
        .unwrap();
    Command::new(bin("berth-serve"))
        .arg("--root")
        .arg(dir.join("root"))
        .arg("-H")
        .arg(format!("unix://{}", sock.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Debian's docker CLI (docker.io, 20.10).
pub const DOCKER: &str = "/usr/bin/docker";
/// A newer docker CLI, when the machine has one.
pub const NEW_DOCKER: &str = "/usr/local/bin/docker";

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
