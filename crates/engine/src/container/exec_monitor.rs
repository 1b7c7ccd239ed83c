//! An exec under a monitor of its own (as containerd's shim or conmon run one): for a
//! long-lived caller such as the API server, which must not be the parent of the exec's
//! process. A child of the caller starts the process (it is the child's, a subreaper), then
//! becomes `berth-monitor --exec`, which serves the exec's stdio on its `monitor.sock`
//! (the container's protocol, `berth_monitor_proto`) and writes its `exit.json`, both in
//! `R/containers/<id>/execs/<exec id>/`. The caller attaches and waits through that
//! socket like any monitor client; nothing in the caller waits for a process.

use super::exec::ExecOptions;
use super::start::{
    berth_binary, bind_monitor_socket, cloexec_from, exit_now, keep_open, monitor_binary, pipe,
    read_report, report, with_stdio_pipes,
};
use super::Engine;
use crate::store::Row;
use crate::{Error, Result};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

/// A started exec: its own dir (its `monitor.sock` and `exit.json`), its process and its
/// monitor.
#[derive(Debug, Clone)]
pub struct MonitoredExec {
    pub dir: PathBuf,
    pub pid: i32,
    pub monitor_pid: i32,
}

impl Engine {
    /// `R/containers/<id>/execs/<exec id>`: where an exec's monitor keeps its socket and
    /// exit record (removed with the container).
    pub fn exec_dir(&self, container: &str, exec_id: &str) -> PathBuf {
        self.dir(container).join("execs").join(exec_id)
    }

    /// Starts `o.cmd` in the running container `arg` under a monitor of its own, in
    /// `exec_dir(container, exec_id)`; `stdin`: the process gets a stdin the monitor feeds
    /// (else /dev/null; a terminal is always both ways). With `wait_attach` the monitor
    /// holds the output until a client attaches (the caller attaches next).
    pub fn exec_monitored(
        &self,
        arg: &str,
        exec_id: &str,
        o: &ExecOptions,
        stdin: bool,
        wait_attach: bool,
    ) -> Result<MonitoredExec> {
        let r = self.exec_target(arg, o)?;
        let monitor = monitor_binary()?;
        let (rd, wr) = pipe()?;
        let w = wr.as_raw_fd();
        let dir = self.exec_dir(&r.id, exec_id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        // SAFETY: glibc's fork keeps the allocator's locks consistent for the child, which
        // runs only our own code (no database: the row was read above) and then execs the
        // monitor or _exits.
        let child = match unsafe { libc::fork() } {
            n if n < 0 => {
                let err = std::io::Error::last_os_error();
                let _ = std::fs::remove_dir_all(&dir);
                return Err(Error::io("fork", "", err));
            }
            0 => {
                let how = How {
                    stdin,
                    wait_attach,
                    report_fd: w,
                };
                let msg = match exec_child(self, &r, o, &dir, &monitor, how) {
                    Err(err) => format!("E{}:{}", err.exit_code(), err),
                    Ok(never) => match never {},
                };
                report(w, &msg);
                exit_now(1)
            }
            n => n,
        };
        // It becomes the exec's monitor: a long-lived caller reaps it when it ends.
        super::children::spawned(child);
        drop(wr);
        let (pid, monitor_pid) = match read_report(child, rd, "exec")? {
            Ok(pids) => pids,
            Err((code, message)) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(Error::Exec {
                    message,
                    code: code.unwrap_or(126),
                });
            }
        };
        Ok(MonitoredExec {
            dir,
            pid,
            monitor_pid,
        })
    }
}

/// How the child sets the exec up.
struct How {
    stdin: bool,
    wait_attach: bool,
    /// The write end of the report pipe.
    report_fd: RawFd,
}

/// In the forked child: start the process with pipes (or a pty) for its stdio, then exec
/// the monitor with the other ends.
fn exec_child(
    e: &Engine,
    r: &Row,
    o: &ExecOptions,
    dir: &Path,
    monitor: &Path,
    how: How,
) -> Result<std::convert::Infallible> {
    nix::unistd::setsid().map_err(|e| Error::io("setsid", "", e.into()))?;
    cloexec_from(3)?;
    super::exec::become_subreaper()?;
    let (pid, fds) = if o.tty {
        let started = e.exec_row(r, o)?;
        let master = started
            .master
            .ok_or_else(|| Error::InvalidArgument("exec: no terminal was made".into()))?;
        let fd = master.as_raw_fd();
        keep_open(fd)?;
        std::mem::forget(master);
        (started.pid, (fd, fd, Some(fd)))
    } else {
        with_stdio_pipes(how.stdin, |_| Ok(e.exec_row(r, o)?.pid))?
    };
    let listener = bind_monitor_socket(dir)?;
    keep_open(listener.as_raw_fd())?;
    let mut args: Vec<String> = vec!["berth-monitor".into(), "--exec".into()];
    let mut kv = |k: &str, v: String| {
        args.push(k.into());
        args.push(v);
    };
    kv("--id", r.id.clone());
    kv("--dir", dir.display().to_string());
    kv("--pid", pid.to_string());
    kv("--stdout-fd", fds.0.to_string());
    kv("--stderr-fd", fds.1.to_string());
    if let Some(k) = fds.2 {
        kv("--stdin-fd", k.to_string());
    }
    kv("--listen-fd", listener.as_raw_fd().to_string());
    kv("--log-driver", "none".into());
    kv("--restart", "no".into());
    kv("--berth", berth_binary().display().to_string());
    kv("--root", e.root.display().to_string());
    if how.wait_attach {
        args.push("--wait-attach".into());
    }
    let cargs: Vec<std::ffi::CString> = args
        .iter()
        .map(|a| std::ffi::CString::new(a.as_str()).unwrap_or_default())
        .collect();
    let prog = std::ffi::CString::new(monitor.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::InvalidArgument("monitor path has a NUL byte".into()))?;
    report(how.report_fd, &format!("P{} {}\n", pid, std::process::id()));
    let err = nix::unistd::execv(&prog, &cargs).unwrap_err();
    Err(Error::io("exec", monitor, err.into()))
}
