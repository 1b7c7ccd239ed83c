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
    /// A cgroup directory the container joins before it execs (as the runtime puts it in
    /// its own).
    pub cgroup: Option<PathBuf>,
    /// One pipe for stdout and stderr (as a terminal would be), given as both fds.
    pub one_pipe: bool,
    /// A pty instead of pipes: the container gets the terminal as its controlling one on
    /// 0/1/2, the monitor the master as stdout, stderr and stdin.
    pub pty: bool,
}

pub struct Started {
    pub setup: Setup,
    /// The monitor, or with `start_under_parent` its stand-in parent.
    pub monitor: Child,
    under_parent: bool,
    monitor_pid: std::cell::OnceCell<i32>,
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
            cgroup: None,
            one_pipe: false,
            pty: false,
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
        self.launch(false)
    }

    /// Starts the monitor below a stand-in parent (a `sleep`, the `Started::monitor` child)
    /// that the test can kill, as a `berth` command can be killed.
    pub fn start_under_parent(self) -> Started {
        // The orphaned monitor comes back to this process, which reaps it (the machine's
        // pid 1 may not).
        // SAFETY: prctl takes no pointers here.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        self.launch(true)
    }

    /// What the engine's start child does, between fork and exec (async-signal-safe calls
    /// only): fork the container on its pipe ends, then exec the monitor with the read ends
    /// and the container's pid.
    fn launch(mut self, under_parent: bool) -> Started {
        let (out_r, out_w) = pipe();
        let (err_r, err_w) = pipe();
        let (in_r, in_w) = pipe();
        let high = |f: &OwnedFd| high_dup(f.as_raw_fd());
        let (out_r, err_r, in_w) = (high(&out_r), high(&err_r), high(&in_w));
        let (out_w, err_w, in_r) = (high(&out_w), high(&err_w), high(&in_r));
        let stdin_r = if self.stdin { in_r } else { high_dup_null() };
        let pty = self.pty.then(openpty);
        let (out_r, err_r, in_w, out_w, err_w, in_r, stdin_r) = match pty {
            Some((m, t)) => (m, m, m, t, t, t, t),
            None => (out_r, err_r, in_w, out_w, err_w, in_r, stdin_r),
        };
        if pty.is_some() {
            self.stdin = true;
        }

        let container = Argv::new(&["/bin/sh", "-c", &self.command]);
        let mut margs: Vec<String> = [
            env!("CARGO_BIN_EXE_berth-monitor"),
            "--id",
            ID,
            "--dir",
            self.dir.to_str().unwrap(),
            "--stdout-fd",
            &out_r.to_string(),
            "--stderr-fd",
            &if self.one_pipe { out_r } else { err_r }.to_string(),
            "--berth",
            self.berth.to_str().unwrap(),
            "--root",
            self.root.path().to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if self.stdin {
            margs.extend(["--stdin-fd".to_string(), in_w.to_string()]);
        }
        margs.extend(self.args.iter().cloned());
        margs.extend(["--pid".to_string(), "0000000000".to_string()]);
        let mut monitor = Argv::new(&margs.iter().map(String::as_str).collect::<Vec<_>>());
        let sleeper = Argv::new(&["/bin/sleep", "1000"]);
        let keep = [out_r, err_r, in_w];
        // The container has joined its cgroup before the monitor starts, as with the engine.
        let (joined_r, joined_w) = pipe();
        let (joined_r, joined_w) = (high(&joined_r), high(&joined_w));
        let procs = self.cgroup.as_ref().map(|c| {
            let mut p = c.join("cgroup.procs").into_os_string().into_encoded_bytes();
            p.push(0);
            p
        });
        let stdin_wanted = self.stdin;
        let container_err = if self.one_pipe { out_w } else { err_w };

        let mut cmd = Command::new("/bin/true");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only fork, dup2, fcntl, write into memory allocated
        // before the fork, execve and _exit run (all async-signal-safe).
        unsafe {
            cmd.pre_exec(move || {
                if under_parent && libc::fork() != 0 {
                    sleeper.exec();
                }
                let pid = libc::fork();
                if pid == 0 {
                    if let Some(procs) = &procs {
                        // "0" moves the writer itself.
                        let fd = libc::open(procs.as_ptr().cast(), libc::O_WRONLY);
                        if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                            libc::_exit(126);
                        }
                        libc::close(fd);
                    }
                    libc::write(joined_w, b"j".as_ptr().cast(), 1);
                    if pty.is_some() {
                        libc::setsid();
                        libc::ioctl(stdin_r, libc::TIOCSCTTY, 0);
                    }
                    libc::dup2(stdin_r, 0);
                    libc::dup2(out_w, 1);
                    libc::dup2(container_err, 2);
                    // The engine's child makes everything else close-on-exec; here the
                    // test harness's own inherited fds are closed.
                    libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                    container.exec();
                }
                let mut byte = 0u8;
                libc::close(joined_w);
                libc::read(joined_r, (&mut byte as *mut u8).cast(), 1);
                for (i, fd) in keep.iter().enumerate() {
                    if i < 2 || stdin_wanted {
                        libc::fcntl(*fd, libc::F_SETFD, 0);
                    }
                }
                // A stray inherited fd (not close-on-exec), which the monitor must not pass
                // on to what it runs.
                libc::dup2(0, 77);
                monitor.set_last_number(pid);
                monitor.exec();
            });
        }
        let child = cmd.spawn().unwrap();
        let mut ours = vec![
            out_r, err_r, in_w, out_w, err_w, in_r, stdin_r, joined_r, joined_w,
        ];
        ours.dedup();
        for fd in ours {
            // SAFETY: our own duplicates, each closed once.
            unsafe { libc::close(fd) };
        }
        Started {
            setup: self,
            monitor: child,
            under_parent,
            monitor_pid: Default::default(),
        }
    }
}

/// An argv made before a fork, so that the child only reads it (and writes digits into the
/// last argument's reserved space).
struct Argv {
    strings: Vec<Vec<u8>>,
    ptrs: Vec<*const libc::c_char>,
}

// SAFETY: the pointers point into `strings`, owned by the same value.
unsafe impl Send for Argv {}
// SAFETY: as above; the child process writes only into its own copy.
unsafe impl Sync for Argv {}

impl Argv {
    fn new(args: &[&str]) -> Argv {
        let strings: Vec<Vec<u8>> = args
            .iter()
            .map(|a| {
                let mut v = a.as_bytes().to_vec();
                v.push(0);
                v
            })
            .collect();
        let mut ptrs: Vec<*const libc::c_char> =
            strings.iter().map(|s| s.as_ptr().cast()).collect();
        ptrs.push(std::ptr::null());
        Argv { strings, ptrs }
    }

    fn set_last_number(&mut self, mut n: i32) {
        let last = self.strings.last_mut().unwrap();
        let len = last.len() - 1;
        let mut i = len;
        last[..len].fill(b'0');
        while n > 0 && i > 0 {
            i -= 1;
            last[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }

    fn exec(&self) -> ! {
        extern "C" {
            static environ: *const *const libc::c_char;
        }
        // SAFETY: a null-terminated argv of NUL-terminated strings we own; environ is the
        // process environment.
        unsafe {
            libc::execve(self.ptrs[0], self.ptrs.as_ptr(), environ);
            libc::_exit(127)
        }
    }
}

impl Started {
    pub fn dir(&self) -> &Path {
        &self.setup.dir
    }

    pub fn monitor_pid(&self) -> i32 {
        let pid = self.monitor.id() as i32;
        if !self.under_parent {
            return pid;
        }
        *self.monitor_pid.get_or_init(|| {
            wait_until(|| {
                children(pid)
                    .into_iter()
                    .find(|&c| comm(c) == "berth-monitor")
            })
        })
    }

    /// The container's first process (the monitor's first child).
    pub fn container_pid(&self) -> i32 {
        let monitor = self.monitor_pid();
        wait_until(|| {
            (comm(monitor) == "berth-monitor").then_some(())?;
            children(monitor).into_iter().min()
        })
    }

    /// Waits for the monitor to end and returns exit.json.
    pub fn finish(&mut self) -> serde_json::Value {
        if self.under_parent {
            let monitor = self.monitor_pid();
            let mut status = 0;
            // SAFETY: waitpid writes into our local; the monitor is our child once its
            // parent is gone (this process is a subreaper).
            let r = unsafe { libc::waitpid(monitor, &mut status, 0) };
            assert_eq!(r, monitor, "the monitor was not reparented to the test");
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "{status:#x}"
            );
            return exit_json(&self.setup.dir).expect("exit.json");
        }
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
    /// A failed test leaves no process behind: the container's processes, the monitor, and
    /// its stand-in parent are killed.
    fn drop(&mut self) {
        let monitor = self
            .monitor_pid
            .get()
            .copied()
            .unwrap_or(self.monitor.id() as i32);
        if comm(monitor) == "berth-monitor" {
            for c in children(monitor) {
                // SAFETY: kill takes no pointers.
                unsafe { libc::kill(c, libc::SIGKILL) };
            }
            // SAFETY: as above.
            unsafe { libc::kill(monitor, libc::SIGKILL) };
        }
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

pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The command name of a process ("" once it is gone or a zombie).
pub fn comm(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    if stat.contains(") Z ") {
        return String::new();
    }
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A pty pair as close-on-exec fds above 100: (master, terminal).
fn openpty() -> (RawFd, RawFd) {
    let (mut master, mut term) = (0, 0);
    // SAFETY: openpty writes two fds into our locals; the name, termios and winsize are null.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut term,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0);
    let (m, t) = (high_dup(master), high_dup(term));
    // SAFETY: the originals are ours and closed once.
    unsafe {
        libc::close(master);
        libc::close(term);
    }
    (m, t)
}

fn high_dup_null() -> RawFd {
    let null = std::fs::File::open("/dev/null").unwrap();
    high_dup(null.as_raw_fd())
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
