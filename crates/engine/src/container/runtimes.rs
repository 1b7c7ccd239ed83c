//! Which OCI runtime a container runs under: the built-in one, called in-process (state under
//! `R/runtime`), or another runtime's CLI given with `--runtime PATH` (runc, crun, ...:
//! `PATH --root R/runtime-<name> create|start|state|kill|delete|pause|resume`). The choice is
//! in the container's options (its row), so every later command drives the same runtime.

use super::Engine;
use crate::store::Row;
use crate::{Error, Result};
use berth_runtime::state::Status;
use berth_runtime::{CreateOpts, Runtime};
use nix::sys::signal::Signal;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The OCI version written for another runtime: crun 1.8 refuses the newest (1.2.0), and
/// nothing Berth writes needs more than 1.0.2.
pub const EXTERNAL_OCI_VERSION: &str = "1.0.2";

/// A container's runtime.
pub enum Rt {
    Builtin(Runtime),
    Cli(CliRuntime),
}

/// Another OCI runtime, driven through its runc-compatible CLI.
pub struct CliRuntime {
    pub binary: PathBuf,
    pub root: PathBuf,
    /// The container's bundle (its dir): the config.json the runtime was given.
    pub bundle: PathBuf,
}

/// What a start produced: the container's init pid.
pub struct Started {
    pub pid: i32,
}

impl Engine {
    /// The runtime of container `r` (from its options).
    pub fn runtime_for(&self, r: &Row) -> Rt {
        match super::options_of(r).runtime {
            Some(binary) => Rt::Cli(CliRuntime {
                root: self.root.join(format!("runtime-{}", runtime_name(&binary))),
                binary,
                bundle: self.dir(&r.id),
            }),
            None => Rt::Builtin(self.runtime()),
        }
    }
}

/// `R/runtime-<name>`'s name: the binary's file name, safe as one path component.
fn runtime_name(binary: &Path) -> String {
    binary
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || "-_.".contains(c) {
            true => c,
            false => '_',
        })
        .collect()
}

/// `--runtime PATH` made absolute and checked (a bare name is looked up on PATH), at create.
pub fn resolve_binary(given: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let found = if given.components().count() > 1 || given.is_absolute() {
        Some(given.to_path_buf())
    } else {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(given))
                .find(|p| p.is_file())
        })
    };
    let path = found
        .and_then(|p| std::fs::canonicalize(p).ok())
        .filter(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        });
    path.ok_or_else(|| {
        Error::invalid(
            "--runtime",
            &given.display().to_string(),
            "not an executable file",
        )
    })
}

impl Rt {
    /// Does the runtime hold state for `id` (a container created and not deleted)?
    pub fn exists(&self, id: &str) -> bool {
        match self {
            Rt::Builtin(rt) => rt.dir(id).exists(),
            Rt::Cli(c) => c.root.join(id).exists(),
        }
    }

    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        match self {
            Rt::Builtin(rt) => Ok(rt.delete(id, force)?),
            Rt::Cli(c) => {
                let mut a = vec!["delete"];
                if force {
                    a.push("--force");
                }
                c.run(&a, id)
            }
        }
    }

    pub fn kill(&self, id: &str, sig: Signal, all: bool) -> Result<()> {
        match self {
            Rt::Builtin(rt) => Ok(rt.kill(id, sig, all)?),
            Rt::Cli(c) => {
                let n = (sig as i32).to_string();
                let mut a = vec!["kill"];
                if all {
                    a.push("--all");
                }
                c.run_then(&a, id, &[&n])
            }
        }
    }

    pub fn pause(&self, id: &str) -> Result<()> {
        match self {
            Rt::Builtin(rt) => Ok(rt.pause(id)?),
            Rt::Cli(c) => c.run(&["pause"], id),
        }
    }

    pub fn resume(&self, id: &str) -> Result<()> {
        match self {
            Rt::Builtin(rt) => Ok(rt.resume(id)?),
            Rt::Cli(c) => c.run(&["resume"], id),
        }
    }

    /// Apply new cgroup limits to a running container (`runc update --resources -`).
    pub fn update(&self, id: &str, r: &oci_spec::runtime::LinuxResources) -> Result<()> {
        match self {
            Rt::Builtin(rt) => Ok(rt.update(id, r)?),
            Rt::Cli(c) => {
                use std::io::Write;
                let json = serde_json::to_vec(r)
                    .map_err(|e| Error::InvalidArgument(format!("resources: {e}")))?;
                let mut child = c
                    .command()
                    .args(["update", "--resources", "-", id])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| Error::io("run", &c.binary, e))?;
                if let Some(mut stdin) = child.stdin.take() {
                    let _ = stdin.write_all(&json);
                }
                let out = child
                    .wait_with_output()
                    .map_err(|e| Error::io("run", &c.binary, e))?;
                if out.status.success() {
                    return Ok(());
                }
                Err(c.failed("update", &String::from_utf8_lossy(&out.stderr)))
            }
        }
    }

    /// The init's pid and creation time while it lives; None once it stopped or is unknown.
    pub fn live_init(&self, id: &str) -> Option<(i32, String)> {
        match self {
            Rt::Builtin(rt) => rt
                .load(id)
                .ok()
                .filter(|s| rt.status(s) != Status::Stopped)
                .map(|s| (s.pid, s.created.clone())),
            Rt::Cli(c) => {
                let v = c.state(id)?;
                let pid = v["pid"].as_i64().filter(|p| *p > 0)? as i32;
                (v["status"].as_str() != Some("stopped")).then(|| {
                    let created = v["created"].as_str().unwrap_or_default().to_string();
                    (pid, created)
                })
            }
        }
    }

    /// The processes in the container's cgroup. Another runtime made that cgroup from the
    /// config.json's `cgroupsPath`, as the built-in runtime would have: it is found the same
    /// way.
    pub fn pids(&self, id: &str) -> Result<Vec<i32>> {
        use berth_cgroups::CgroupManager;
        match self {
            Rt::Builtin(rt) => Ok(rt.pids(id)?),
            Rt::Cli(_) => Ok(self
                .cgroup_of_init(id)?
                .pids()
                .map_err(berth_runtime::Error::from)?),
        }
    }

    /// The container's cgroup figures (`stats`), while it runs.
    pub fn stats(&self, id: &str) -> Result<berth_cgroups::Stats> {
        use berth_cgroups::CgroupManager;
        match self {
            Rt::Builtin(rt) => Ok(rt.stats(id)?),
            Rt::Cli(_) => Ok(self
                .cgroup_of_init(id)?
                .stats()
                .map_err(berth_runtime::Error::from)?),
        }
    }

    /// Another runtime's container's cgroup: where its init is (the runtime chose the path,
    /// from the config.json's `cgroupsPath` or its own default).
    fn cgroup_of_init(&self, id: &str) -> Result<berth_cgroups::Manager> {
        let (pid, _) = self
            .live_init(id)
            .ok_or_else(|| Error::Conflict(format!("container {id} is not running")))?;
        Ok(berth_cgroups::Manager::of_process(pid).map_err(berth_runtime::Error::from)?)
    }

    pub fn init_dead(&self, id: &str) -> bool {
        self.live_init(id).is_none()
    }

    /// Create and start container `id` from its bundle `dir`, the container's stdio being
    /// this process's 0, 1 and 2. For another runtime its init is the child of the runtime's
    /// process, which exits: the init is reparented to us when we are a subreaper (the
    /// start child, or the monitor for a restart). `err_fd`, the read end of the container's
    /// stderr, gives back what a failing runtime printed. With `console` (`-t`), the runtime
    /// makes the container's pty and sends its master to that socket.
    /// `config`: the container's config.json, parsed and as bytes, when this process has
    /// just written it (see [`Engine::take_prepared`]).
    pub fn create_and_start(
        &self,
        id: &str,
        dir: &Path,
        err_fd: Option<RawFd>,
        console: Option<&Path>,
        config: Option<(oci_spec::runtime::Spec, Vec<u8>)>,
    ) -> Result<Started> {
        match self {
            Rt::Builtin(rt) => {
                let created = rt
                    .create(&CreateOpts {
                        id: id.to_string(),
                        bundle: dir.to_path_buf(),
                        console_socket: console.map(Path::to_path_buf),
                        config,
                        start: true,
                        ..Default::default()
                    })
                    .map_err(super::start::exec_error)?;
                Ok(Started { pid: created.pid })
            }
            Rt::Cli(c) => c.create_and_start(id, dir, err_fd, console),
        }
    }
}

impl CliRuntime {
    /// `PATH exec --detach --process FILE --pid-file FILE ID`: the process runs with our
    /// stdio (the runtime hands its own on), its parent the runtime until that exits, then
    /// us (the caller is a subreaper). The runtime's error, if any, is read from its log.
    ///
    /// `console`: the console socket's path and the fd of the directory that path goes
    /// through (`/proc/self/fd/N/...`, as a long data root needs): the runtime inherits that
    /// fd at the same number, so the path means the same to it.
    pub fn exec(
        &self,
        id: &str,
        process: &oci_spec::runtime::Process,
        console: Option<(&Path, RawFd)>,
    ) -> Result<i32> {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = self
            .bundle
            .join(format!(".exec-{}-{n}", std::process::id()));
        let (json, pid_file, log) = (
            base.with_extension("json"),
            base.with_extension("pid"),
            base.with_extension("log"),
        );
        let cleanup = || {
            for f in [&json, &pid_file, &log] {
                let _ = std::fs::remove_file(f);
            }
        };
        let bytes = serde_json::to_vec(process)
            .map_err(|e| Error::InvalidArgument(format!("exec process: {e}")))?;
        std::fs::write(&json, bytes).map_err(|e| Error::io("write", &json, e))?;
        let mut cmd = self.command();
        cmd.arg("--log")
            .arg(&log)
            .arg("--log-format")
            .arg("json")
            .args(["exec", "--detach", "--process"])
            .arg(&json)
            .arg("--pid-file")
            .arg(&pid_file);
        if let Some((path, dir_fd)) = console {
            use std::os::unix::process::CommandExt;
            cmd.arg("--console-socket").arg(path);
            // SAFETY: between fork and exec the closure only calls fcntl, which is
            // async-signal-safe, on a descriptor this process owns.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::fcntl(dir_fd, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let status = cmd.arg(id).status();
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        cleanup();
        match (status, pid) {
            (Ok(st), Some(pid)) if st.success() => Ok(pid),
            (Err(e), _) => Err(Error::io("run", &self.binary, e)),
            _ => {
                // The log holds JSON lines; the last error's `msg` says why.
                let why = said
                    .lines()
                    .rev()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .filter(|v| v["level"] == "error")
                    .find_map(|v| v["msg"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "no error message".into());
                let e = cli_error(self.failed("exec", &why));
                Err(match e {
                    Error::Exec { .. } => e,
                    other => Error::Exec {
                        message: other.to_string(),
                        code: 126,
                    },
                })
            }
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--root").arg(&self.root);
        cmd
    }

    fn run(&self, args: &[&str], id: &str) -> Result<()> {
        self.run_then(args, id, &[])
    }

    /// `PATH --root ROOT ARGS... ID AFTER...`, its stderr in the error when it fails.
    fn run_then(&self, args: &[&str], id: &str, after: &[&str]) -> Result<()> {
        let out = self
            .command()
            .args(args)
            .arg(id)
            .args(after)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io("run", &self.binary, e))?;
        if out.status.success() {
            return Ok(());
        }
        Err(self.failed(args[0], &String::from_utf8_lossy(&out.stderr)))
    }

    fn failed(&self, what: &str, stderr: &str) -> Error {
        Error::InvalidArgument(format!(
            "{} {what} failed: {}",
            self.binary.display(),
            stderr.trim().lines().last().unwrap_or("no error message")
        ))
    }

    fn state(&self, id: &str) -> Option<serde_json::Value> {
        let out = self
            .command()
            .args(["state", id])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    }

    fn create_and_start(
        &self,
        id: &str,
        dir: &Path,
        err_fd: Option<RawFd>,
        console: Option<&Path>,
    ) -> Result<Started> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io("create", &self.root, e))?;
        let pid_file = dir.join("runtime.pid");
        let _ = std::fs::remove_file(&pid_file);
        // The runtime's own stdio is the container's: its init inherits it.
        let mut create = self.command();
        create
            .arg("create")
            .arg("--bundle")
            .arg(dir)
            .arg("--pid-file")
            .arg(&pid_file);
        if let Some(c) = console {
            create.arg("--console-socket").arg(c);
        }
        let status = create
            .arg(id)
            .status()
            .map_err(|e| Error::io("run", &self.binary, e))?;
        if !status.success() {
            let said = err_fd.map(drain).unwrap_or_default();
            let _ = self.run(&["delete", "--force"], id);
            return Err(cli_error(self.failed("create", &said)));
        }
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| self.failed("create", "no pid file"))?;
        let out = self
            .command()
            .args(["start", id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .map_err(|e| Error::io("run", &self.binary, e))?;
        if !out.status.success() {
            let _ = self.run(&["delete", "--force"], id);
            return Err(cli_error(
                self.failed("start", &String::from_utf8_lossy(&out.stderr)),
            ));
        }
        Ok(Started { pid })
    }
}

/// Docker's 127/126 for a command not found / not executable, as the runtime words it.
fn cli_error(e: Error) -> Error {
    let msg = e.to_string();
    let low = msg.to_ascii_lowercase();
    let code = if low.contains("not found") || low.contains("no such file") {
        127
    } else if low.contains("permission denied") {
        126
    } else {
        return e;
    };
    Error::Exec { message: msg, code }
}

/// What is waiting in the pipe `fd` (non-blocking: the writers may still be open).
fn drain(fd: RawFd) -> String {
    // SAFETY: fcntl on a descriptor the caller owns; only its status flags change.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
    let mut buf = vec![0u8; 65536];
    // SAFETY: reading into our own buffer of the given length.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(n.max(0) as usize);
    String::from_utf8_lossy(&buf).into_owned()
}
