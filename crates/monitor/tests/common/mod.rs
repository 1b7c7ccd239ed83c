//! Starts `berth-monitor` as the engine does, without the engine: a shell starts the
//! "container" (a busybox or /bin/sh command) on fresh pipes in the background, then execs
//! the monitor with the contract's arguments, so the container is the monitor's child.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub struct Setup {
    pub root: tempfile::TempDir,
    pub dir: PathBuf,
    /// The shell command line of the container.
    pub command: String,
    pub stdin: bool,
    pub args: Vec<String>,
    pub berth: PathBuf,
}

pub struct Started {
    pub setup: Setup,
    /// The monitor (the exec'd launcher shell).
    pub monitor: Child,
}

impl Setup {
    pub fn new(command: &str) -> Setup {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("containers").join(ID);
        std::fs::create_dir_all(&dir).unwrap();
        let berth = fake_berth(root.path(), "true");
        Setup {
            root,
            dir,
            command: command.into(),
            stdin: false,
            args: Vec::new(),
            berth,
        }
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn stdin(mut self) -> Self {
        self.stdin = true;
        self
    }

    /// A fake `berth` that records its arguments in `calls` and, for
    /// `container-restart-from-monitor`, starts `restarted` (a shell command) on its own stdio
    /// in the background, as the real command leaves the new init behind.
    pub fn berth_restarts(mut self, restarted: &str) -> Self {
        self.berth = fake_berth(self.root.path(), restarted);
        self
    }

    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.root.path().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!("{ID}-json.log"))
    }

    pub fn start(self) -> Started {
        let monitor = env!("CARGO_BIN_EXE_berth-monitor");
        let (out_r, out_w) = pipe();
        let (err_r, err_w) = pipe();
        let (in_r, in_w) = pipe();
        let mut script = String::new();
        if self.stdin {
            script.push_str(&format!(
                "{} <&8 >&6 2>&7 3<&- 4<&- 5>&- 6>&- 7>&- 8<&- &\n",
                self.command
            ));
        } else {
            script.push_str(&format!(
                "{} </dev/null >&6 2>&7 3<&- 4<&- 5>&- 6>&- 7>&- 8<&- &\n",
                self.command
            ));
        }
        script.push_str("echo $! > \"$DIR/container.pid\"\n");
        script.push_str("exec 6>&- 7>&- 8<&- \"$MON\" --id \"$ID\" --dir \"$DIR\" --pid $! --stdout-fd 3 --stderr-fd 4 ");
        if self.stdin {
            script.push_str("--stdin-fd 5 ");
        } else {
            script.push_str("5>&- ");
        }
        script.push_str("--berth \"$BERTH\" --root \"$ROOT\" \"$@\"");
        let fds: Vec<RawFd> = [&out_r, &err_r, &in_w, &out_w, &err_w, &in_r]
            .iter()
            .map(|f| high_dup(f.as_raw_fd()))
            .collect();
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&script)
            .arg("launcher")
            .args(&self.args)
            .env("MON", monitor)
            .env("ID", ID)
            .env("DIR", &self.dir)
            .env("BERTH", &self.berth)
            .env("ROOT", self.root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let targets = [3, 4, 5, 6, 7, 8];
        // SAFETY: only dup2 (async-signal-safe) runs between fork and exec.
        unsafe {
            let sources = fds.clone();
            cmd.pre_exec(move || {
                for (from, to) in sources.iter().zip(targets) {
                    if libc::dup2(*from, to) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let monitor = cmd.spawn().unwrap();
        for fd in fds {
            // SAFETY: our own duplicates, closed once.
            unsafe { libc::close(fd) };
        }
        Started {
            setup: self,
            monitor,
        }
    }
}

impl Started {
    pub fn dir(&self) -> &Path {
        &self.setup.dir
    }

    pub fn container_pid(&self) -> i32 {
        let path = self.setup.dir.join("container.pid");
        wait_until(|| {
            std::fs::read_to_string(&path)
                .ok()
                .filter(|s| s.ends_with('\n'))
        })
        .trim()
        .parse()
        .unwrap()
    }

    /// Waits for the monitor to end and returns exit.json.
    pub fn finish(&mut self) -> serde_json::Value {
        let status = self.monitor.wait().unwrap();
        assert!(
            status.success(),
            "monitor: {status:?} {:?}",
            std::fs::read_to_string(self.setup.dir.join("monitor.error"))
        );
        exit_json(&self.setup.dir).expect("exit.json")
    }

    pub fn connect(&self) -> UnixStream {
        let sock = self.setup.dir.join("monitor.sock");
        wait_until(|| UnixStream::connect(&sock).ok())
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.monitor.kill();
        let _ = self.monitor.wait();
    }
}

pub fn exit_json(dir: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(dir.join("exit.json")).ok()?).ok()
}

pub fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// Polls `f` until it gives a value (the thing waited for is made by another process); a
/// minute without it fails the test.
pub fn wait_until<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads attach frames until the exit frame: (stdout, stderr, exit status).
pub fn read_frames(sock: &mut UnixStream) -> (Vec<u8>, Vec<u8>, i32) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    loop {
        let mut head = [0u8; 5];
        sock.read_exact(&mut head).expect("frame header");
        let len = u32::from_be_bytes(head[1..].try_into().unwrap()) as usize;
        let mut body = vec![0u8; len];
        sock.read_exact(&mut body).unwrap();
        match head[0] {
            1 => out.extend(body),
            2 => err.extend(body),
            3 => return (out, err, i32::from_be_bytes(body.try_into().unwrap())),
            s => panic!("stream {s}"),
        }
    }
}

pub fn request(sock: &mut UnixStream, line: &str) {
    sock.write_all(line.as_bytes()).unwrap();
    sock.write_all(b"\n").unwrap();
}

pub fn read_line(sock: &mut UnixStream) -> String {
    let mut line = String::new();
    BufReader::new(sock).read_line(&mut line).unwrap();
    line
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the array we own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A close-on-exec copy above the numbers the launcher uses, so dup2 onto 3..8 in the child
/// never overwrites a source it still needs.
fn high_dup(fd: RawFd) -> RawFd {
    // SAFETY: F_DUPFD_CLOEXEC makes a new fd.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100) };
    assert!(new >= 100);
    new
}

fn fake_berth(root: &Path, restarted: &str) -> PathBuf {
    let path = root.join(format!(
        "fake-berth-{}",
        std::process::id() as u64 ^ restarted.len() as u64
    ));
    let calls = root.join("calls");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$3\" in\ncontainer-restart-from-monitor) {restarted} <&0 >&1 2>&2 & ;;\nesac\nexit 0\n",
        calls.display()
    );
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

pub fn busybox() -> &'static str {
    if Path::new("/bin/busybox").exists() {
        "/bin/busybox"
    } else {
        panic!("busybox-static is needed: apt-get install busybox-static")
    }
}
