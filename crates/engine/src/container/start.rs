//! `start`: the container's init is created in-process by the runtime library inside a
//! detached process (setsid, child subreaper) that then becomes `berth-monitor` (see
//! docs/engine-design.md, "Starting a container"). The init pid, or the reason it could not
//! start, comes back through a CLOEXEC pipe: EOF after a pid means the monitor exec'ed.

use super::{options_of, Engine, EXIT_FILE, STOPPED_BY_USER};
use crate::crash_point::crash_point;
use crate::options::{LogDriver, RunOptions};
use crate::store::{Row, State};
use crate::{Error, Result};
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// Docker's status for a command that is not there (127) or cannot be run (126).
pub fn exec_error(e: berth_runtime::Error) -> Error {
    let msg = e.to_string();
    let code = if msg.contains("executable file not found")
        || msg.contains("no such file or directory") && msg.contains("exec")
    {
        127
    } else if msg.contains("permission denied") && msg.contains("exec") {
        126
    } else {
        return Error::Runtime(e);
    };
    Error::Exec {
        message: format!("failed to create task for container: OCI runtime create failed: {msg}"),
        code,
    }
}

pub(super) fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::io("pipe", "", e.into()))
}

/// The `berth` CLI, which the monitor runs for restarts, healthchecks and cleanups: this
/// process when it is berth, else (the API server) the one next to it or on PATH.
pub(super) fn berth_binary() -> PathBuf {
    match std::env::current_exe() {
        Ok(p) if p.file_name().is_some_and(|n| n == "berth") => p,
        _ => find_binary("berth").unwrap_or_else(|_| PathBuf::from("berth")),
    }
}

/// `berth-monitor` next to the running `berth`, else on PATH.
pub fn monitor_binary() -> Result<PathBuf> {
    find_binary("berth-monitor")
}

pub fn find_binary(name: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .filter(|p| p.is_file())
    {
        return Ok(p);
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| Error::InvalidArgument(format!("{name} not found next to berth or in PATH")))
}

fn monitor_args(
    e: &Engine,
    r: &Row,
    o: &RunOptions,
    fds: (RawFd, RawFd, Option<RawFd>),
    listen_fd: RawFd,
    pid: i32,
    wait_attach: bool,
) -> Vec<String> {
    let mut a: Vec<String> = vec!["berth-monitor".into()];
    let mut kv = |k: &str, v: String| {
        a.push(k.into());
        a.push(v);
    };
    kv("--id", r.id.clone());
    kv("--dir", e.dir(&r.id).display().to_string());
    kv("--pid", pid.to_string());
    kv("--stdout-fd", fds.0.to_string());
    kv("--stderr-fd", fds.1.to_string());
    if let Some(k) = fds.2 {
        kv("--stdin-fd", k.to_string());
    }
    kv("--listen-fd", listen_fd.to_string());
    kv(
        "--log-driver",
        match o.log.driver {
            LogDriver::JsonFile => "json-file",
            LogDriver::None => "none",
        }
        .into(),
    );
    if let Some(n) = o.log.max_size {
        kv("--max-size", n.to_string());
    }
    if let Some(n) = o.log.max_file {
        kv("--max-file", n.to_string());
    }
    kv("--restart", super::update::policy_arg(&o.restart));
    if let Some(h) = super::health::check_of(o) {
        kv(
            "--health-interval-ms",
            super::health::interval(h).as_millis().max(1).to_string(),
        );
    }
    let auto_remove = o.auto_remove;
    kv("--berth", berth_binary().display().to_string());
    kv("--root", e.root.display().to_string());
    if auto_remove {
        a.push("--auto-remove".into());
    } else if crate::network::lifecycle::uses_bridge(o) {
        // Its ports, addresses and names go when it ends for good.
        a.push("--cleanup".into());
    }
    if wait_attach {
        a.push("--wait-attach".into());
    }
    a
}

/// A container start follows: have the kernel's cgroup attach lock warm by the time the
/// runtime moves the init into its cgroup ([`berth_cgroups::warm_attach`]; its first move
/// after a quiet spell waits for an RCU grace period, measured 4.6 ms of a 16 ms `run`).
/// Call it first thing in a command that starts a container.
pub fn warm_start() {
    berth_cgroups::warm_attach();
}

/// The runtime's words for an init that died during setup without telling why.
const INIT_VANISHED: &str = "container init exited during setup";

impl Engine {
    /// Clear what a previous run left (runtime state, exit record) so the runtime can create
    /// the container again under the same ID.
    fn prepare_start(&self, r: &Row) -> Result<()> {
        let rt = self.runtime_for(r);
        if rt.exists(&r.id) {
            rt.delete(&r.id, true)?;
        }
        crash_point("ctr-start:runtime-deleted");
        let dir = self.dir(&r.id);
        let _ = std::fs::remove_file(dir.join(EXIT_FILE));
        let _ = std::fs::remove_file(dir.join(STOPPED_BY_USER));
        crash_point("ctr-start:exit-removed");
        let chain: Vec<berth_image::Digest> = self.chain_of(r)?;
        self.ensure_mounted(&r.id, &chain)?;
        // A shareable /dev/shm lost to a reboot (made at create: its dir says so).
        if dir.join(super::shared::SHM_DIR).is_dir() {
            let size = super::options_of(r)
                .shm_size
                .unwrap_or(crate::spec::defaults::SHM_SIZE as i64);
            super::shared::ensure_shm(&dir, size as u64)?;
        }
        crash_point("ctr-start:mounted");
        Ok(())
    }

    /// The image's chain IDs, from the image metadata (the row keeps only the image ID).
    fn chain_of(&self, r: &Row) -> Result<Vec<berth_image::Digest>> {
        if super::create::is_mounted(&self.rootfs(&r.id)) {
            return Ok(Vec::new());
        }
        let md = berth_image::metadata::Metadata::open(&self.root.join("berth.db"))?;
        let id: berth_image::Digest = r.image_id.parse()?;
        md.image(&id)?
            .map(|i| i.chain)
            .ok_or_else(|| Error::NotFound {
                kind: "image",
                name: r.image_id.clone(),
            })
    }

    /// Start a created or exited container under its monitor. The caller holds its lock.
    pub fn start_locked(&self, r: &mut Row) -> Result<()> {
        self.start_locked_for(r, false)
    }

    /// [`Engine::start_locked`]; with `wait_attach` its monitor holds the output (and the
    /// exit) until a client attaches, so that client gets every byte even of a container
    /// that ends at once.
    fn start_locked_for(&self, r: &mut Row, wait_attach: bool) -> Result<()> {
        if matches!(r.state, State::Running | State::Restarting) {
            return Ok(());
        }
        if r.state == State::Paused {
            return Err(Error::Conflict(
                "cannot start a paused container, try unpause instead".to_string(),
            ));
        }
        self.prepare_start(r)?;
        let o = options_of(r);
        if super::health::check_of(&o).is_some() {
            super::health::reset(self, &r.id);
        }
        let monitor = monitor_binary()?;
        self.network_up(r)?;
        crash_point("ctr-start:network");
        // Taken before the init exists: a quick init's exit.json is never older than this.
        let mut started = super::now();
        let mut spawned = spawn(self, r, &o, &monitor, wait_attach);
        if matches!(&spawned, Err(e) if e.to_string().contains(INIT_VANISHED)) {
            // Seen once in CI among 50 concurrent bridge starts (not reproduced since): the
            // init died without a word during setup. One clean retry; the cause is still
            // to be found.
            let _ = self.runtime_for(r).delete(&r.id, true);
            self.network_down(&r.id)?;
            self.network_up(r)?;
            started = super::now();
            spawned = spawn(self, r, &o, &monitor, wait_attach);
        }
        match spawned {
            Ok((pid, monitor_pid)) => {
                // The monitor runs; the row still says created.
                crash_point("ctr-start:spawned");
                r.state = State::Running;
                r.pid = pid;
                r.monitor_pid = monitor_pid;
                r.started_at = started;
                r.error.clear();
                r.exit_code = 0;
                self.store.update(r)?;
                Ok(())
            }
            Err(e) => {
                r.error = e.to_string();
                r.exit_code = e.exit_code();
                let _ = self.store.update(r);
                let _ = self.runtime_for(r).delete(&r.id, true);
                let _ = self.network_down(&r.id);
                Err(e)
            }
        }
    }

    /// `berth start ARG`: lock, reload, start.
    pub fn start(&self, arg: &str) -> Result<Row> {
        self.start_for(arg, false)
    }

    fn start_for(&self, arg: &str, wait_attach: bool) -> Result<Row> {
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        super::exit::refresh(self, &mut r)?;
        self.start_locked_for(&mut r, wait_attach)?;
        Ok(r)
    }

    /// [`Engine::start`] for a client that attaches right after (`run` without -d, `start
    /// -a`): the monitor holds the output (and the exit) until it has attached, so the
    /// client gets every byte even of a container that ends at once.
    pub fn start_attached(&self, arg: &str) -> Result<Row> {
        self.start_for(arg, true)
    }

    /// The hidden `container-restart-from-monitor ID`: run the container again in this
    /// process, its stdio being ours (the monitor's pipes). The new init is reparented to the
    /// monitor (a subreaper) when we exit.
    pub fn restart_from_monitor(&self, id: &str) -> Result<i32> {
        let _lock = self.lock(id)?;
        let mut r = self.reload(id, id)?;
        if self.dir(id).join(STOPPED_BY_USER).exists() {
            return Err(Error::Conflict(format!(
                "container {id} was stopped by the user"
            )));
        }
        let count = r.restart_count;
        let rt = self.runtime_for(&r);
        if rt.exists(id) {
            rt.delete(id, true)?;
        }
        let _ = std::fs::remove_file(self.dir(id).join(EXIT_FILE));
        if super::health::check_of(&options_of(&r)).is_some() {
            super::health::reset(self, id);
        }
        let chain = self.chain_of(&r)?;
        self.ensure_mounted(id, &chain)?;
        self.network_up(&r)?;
        let started = super::now();
        let console = if options_of(&r).tty {
            Some(super::console::ConsoleSocket::bind(&self.dir(id))?)
        } else {
            None
        };
        let socket = console.as_ref().map(|c| c.path());
        let created = rt.create_and_start(id, &self.dir(id), None, socket.as_deref(), None)?;
        if let Some(c) = console {
            hand_terminal_to_monitor(c.receive()?)?;
        }
        r.state = State::Running;
        r.pid = created.pid;
        r.started_at = started;
        r.restart_count = count + 1;
        r.error.clear();
        self.store.update(&r)?;
        self.volume_mount_events(&r.id);
        self.container_event(&r, "start", &[]);
        Ok(created.pid)
    }
}

/// What the detached child tells the parent.
pub(super) fn report(fd: RawFd, msg: &str) {
    // SAFETY: `fd` is the write end of our report pipe, still open in this process.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    let _ = f.write_all(msg.as_bytes());
    std::mem::forget(f);
}

pub(super) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process without running the parent's atexit handlers or
    // flushing buffers it shares with the parent; that is what a forked child needs.
    unsafe { libc::_exit(code) }
}

/// Start the container in a child and exec the monitor there: a child that shares our
/// memory until its exec ([`super::shared_child`]) when no other thread may allocate, else
/// a fork. The monitor is our child only while we live: it is in a session of its own, and
/// when we exit it goes to the nearest subreaper (init), as a double fork's grandchild
/// would; one fork less on every start. Returns (init pid, monitor pid).
fn spawn(
    e: &Engine,
    r: &Row,
    o: &RunOptions,
    monitor: &Path,
    wait_attach: bool,
) -> Result<(i32, i32)> {
    let (rd, wr) = pipe()?;
    let w = wr.as_raw_fd();
    // Our read end stays open in the child until its exec (CLOEXEC) or exit.
    let mut body = || {
        let msg = match child(e, r, o, monitor, w, wait_attach) {
            Err(err) => format!("E{}:{}", err.exit_code(), err),
            Ok(never) => match never {},
        };
        report(w, &msg);
        exit_now(1)
    };
    let pid = if super::shared_child::can_share() {
        super::shared_child::spawn(&mut body)
            .map_err(|err| Error::io("clone the start child", "", err))?
    } else {
        // SAFETY: glibc's fork keeps the allocator's locks consistent for the child, which
        // only runs `body` (our own code) and execs or _exits.
        match unsafe { libc::fork() } {
            n if n < 0 => return Err(Error::io("fork", "", std::io::Error::last_os_error())),
            0 => {
                body();
                exit_now(1)
            }
            n => n,
        }
    };
    // It becomes the monitor: a long-lived caller reaps it when it ends.
    super::children::spawned(pid);
    drop(wr);
    match read_report(pid, rd, "container start")? {
        Ok(pids) => Ok(pids),
        Err((code, why)) => Err(match code.unwrap_or(125) {
            code @ (126 | 127) => Error::Exec { message: why, code },
            _ => Error::InvalidArgument(why),
        }),
    }
}

/// The report of a child that starts a process and then execs its monitor, read to its end
/// (the exec closes it): "P<process> <monitor>\n", then "E<code>:<why>" if it failed before
/// its exec. A failed child is reaped and the process it started killed (it must not run
/// unwatched); its code (when it gave one) and reason come back as the inner error.
#[allow(clippy::type_complexity)]
pub(super) fn read_report(
    child: i32,
    rd: OwnedFd,
    what: &str,
) -> Result<std::result::Result<(i32, i32), (Option<i32>, String)>> {
    let mut buf = String::new();
    std::fs::File::from(rd)
        .read_to_string(&mut buf)
        .map_err(|e| Error::io("read the start report", "", e))?;
    let mut pids = None;
    for part in buf.split_inclusive('\n') {
        if let Some(p) = part.strip_prefix('P') {
            let mut it = p.trim().split(' ').filter_map(|x| x.parse::<i32>().ok());
            pids = it.next().zip(it.next());
        }
    }
    if let Some(err) = buf.find('E').map(|i| &buf[i + 1..]) {
        // SAFETY: reaping our own child, which _exits right after its report.
        unsafe { libc::waitpid(child, std::ptr::null_mut(), 0) };
        if let Some((started, _)) = pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(started),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let (code, why) = match err.split_once(':') {
            Some((code, why)) => (code.parse().ok(), why),
            None => (None, err),
        };
        return Ok(Err((code, why.to_string())));
    }
    pids.map(Ok).ok_or_else(|| {
        Error::InvalidArgument(format!("{what}: no report from the starting process"))
    })
}

pub(super) fn dup_onto(fd: RawFd, target: RawFd) -> Result<()> {
    // SAFETY: dup2 on descriptors this process owns; the target is replaced atomically.
    if unsafe { libc::dup2(fd, target) } < 0 {
        return Err(Error::io("dup2", "", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Nothing our caller left open (a shell's pipe, a test harness's fds) may reach the
/// monitor: it would hold it for the container's lifetime.
pub(super) fn cloexec_from(first: u32) -> Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags on our own descriptors.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return Ok(());
    }
    // Kernels before 5.11: one by one.
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map_err(|e| Error::io("read", "/proc/self/fd", e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd >= first as RawFd)
        .collect();
    for fd in fds {
        // SAFETY: fcntl on a descriptor number; a closed one just fails with EBADF.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Let `fd` through the monitor's exec.
pub(super) fn keep_open(fd: RawFd) -> Result<()> {
    // SAFETY: fcntl(F_SETFD) on a descriptor we own; no memory is passed.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
        return Err(Error::io("fcntl", "", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// The detached child: new session, subreaper, stdio pipes, the runtime, the monitor.
fn child(
    e: &Engine,
    r: &Row,
    o: &RunOptions,
    monitor: &Path,
    report_fd: RawFd,
    wait_attach: bool,
) -> Result<std::convert::Infallible> {
    nix::unistd::setsid().map_err(|e| Error::io("setsid", "", e.into()))?;
    cloexec_from(3)?;
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(Error::io(
            "prctl(PR_SET_CHILD_SUBREAPER)",
            "",
            std::io::Error::last_os_error(),
        ));
    }
    let (pid, fds) = if o.tty {
        start_with_pty(e, r)?
    } else {
        start_with_pipes(e, r, o)?
    };
    // The init runs, no monitor watches it and the parent has no pid yet.
    crash_point("ctr-start:child-created");
    let listener = bind_monitor_socket(&e.dir(&r.id))?;
    keep_open(listener.as_raw_fd())?;
    let args = monitor_args(e, r, o, fds, listener.as_raw_fd(), pid, wait_attach);
    let cargs: Vec<CString> = args
        .iter()
        .map(|a| CString::new(a.as_str()).unwrap_or_default())
        .collect();
    let prog = CString::new(monitor.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::InvalidArgument("monitor path has a NUL byte".into()))?;
    // Recorded here, before the monitor exists: the monitor records the container's die,
    // which must never come before its start in the log.
    e.volume_mount_events(&r.id);
    e.container_event(r, "start", &[]);
    report(report_fd, &format!("P{} {}\n", pid, std::process::id()));
    // The parent has this process's pid as the monitor's, which never comes.
    crash_point("ctr-start:child-reported");
    let err = nix::unistd::execv(&prog, &cargs).unwrap_err();
    Err(Error::io("exec", monitor, err.into()))
}

/// `monitor.sock`, bound here for the monitor: once the start returns, a client's connect
/// succeeds at once (it waits in the backlog while the monitor starts up) instead of polling
/// for the socket to appear. Bound by a relative name from inside the directory: the full
/// path can be longer than a socket address holds (108 bytes).
pub(super) fn bind_monitor_socket(dir: &Path) -> Result<std::os::unix::net::UnixListener> {
    let sock = dir.join(crate::monitor_client::SOCKET);
    let _ = std::fs::remove_file(&sock);
    std::env::set_current_dir(dir).map_err(|e| Error::io("chdir", dir, e))?;
    let listener = std::os::unix::net::UnixListener::bind(crate::monitor_client::SOCKET);
    // This process execs the monitor next, which goes to / itself.
    let _ = std::env::set_current_dir("/");
    listener.map_err(|e| Error::io("bind", &sock, e))
}

/// The monitor's ends of the container's stdio: (stdout, stderr, stdin), kept open across
/// the monitor's exec.
pub(super) type MonitorFds = (RawFd, RawFd, Option<RawFd>);

/// Pipes for the container's stdio (stdin only with -i); the monitor gets the other ends.
fn start_with_pipes(e: &Engine, r: &Row, o: &RunOptions) -> Result<(i32, MonitorFds)> {
    with_stdio_pipes(o.interactive, |err_r| {
        let created = e.runtime_for(r).create_and_start(
            &r.id,
            &e.dir(&r.id),
            Some(err_r),
            None,
            e.take_prepared(&r.id),
        )?;
        Ok(created.pid)
    })
}

/// Pipes for a process's stdio (stdin only when asked): `make` starts the process with
/// their ends as this process's 0/1/2 (it inherits them from the runtime's caller) and gets
/// the stderr pipe's read end (a runtime's words when it fails); the monitor gets the other
/// ends, kept open across its exec.
pub(super) fn with_stdio_pipes(
    stdin: bool,
    make: impl FnOnce(RawFd) -> Result<i32>,
) -> Result<(i32, MonitorFds)> {
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let stdin = if stdin { Some(pipe()?) } else { None };
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| Error::io("open", "/dev/null", e))?;
    match &stdin {
        Some((rd, _)) => dup_onto(rd.as_raw_fd(), 0)?,
        None => dup_onto(null.as_raw_fd(), 0)?,
    }
    dup_onto(out_w.as_raw_fd(), 1)?;
    dup_onto(err_w.as_raw_fd(), 2)?;
    let pid = make(err_r.as_raw_fd())?;
    // Our own ends only: the monitor must see EOF when the process's side closes.
    for fd in [0, 1, 2] {
        dup_onto(null.as_raw_fd(), fd)?;
    }
    drop((out_w, err_w));
    let stdin_w = stdin.map(|(rd, wr)| {
        drop(rd);
        wr
    });
    let fds = (
        out_r.as_raw_fd(),
        err_r.as_raw_fd(),
        stdin_w.as_ref().map(|w| w.as_raw_fd()),
    );
    for fd in [Some(fds.0), Some(fds.1), fds.2].into_iter().flatten() {
        keep_open(fd)?;
    }
    // Ours until the monitor's exec: they must outlive this function.
    std::mem::forget((out_r, err_r, stdin_w));
    Ok((pid, fds))
}

/// `-t`: the runtime makes a pty inside the container and hands its master to our console
/// socket; the monitor gets the master as stdout, stderr and stdin (one stream, as docker).
fn start_with_pty(e: &Engine, r: &Row) -> Result<(i32, MonitorFds)> {
    let console = super::console::ConsoleSocket::bind(&e.dir(&r.id))?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| Error::io("open", "/dev/null", e))?;
    for fd in [0, 1, 2] {
        dup_onto(null.as_raw_fd(), fd)?;
    }
    let created = e.runtime_for(r).create_and_start(
        &r.id,
        &e.dir(&r.id),
        None,
        Some(&console.path()),
        e.take_prepared(&r.id),
    )?;
    let master = console.receive()?;
    let fd = master.as_raw_fd();
    keep_open(fd)?;
    std::mem::forget(master);
    Ok((created.pid, (fd, fd, Some(fd))))
}

/// A restarted tty container's new pty master goes to the monitor over our stdout, a unix
/// socket it made for this (docs/engine-design.md).
fn hand_terminal_to_monitor(master: OwnedFd) -> Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [master.as_raw_fd()];
    let iov = [std::io::IoSlice::new(b"pty")];
    sendmsg::<()>(
        1,
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| Error::io("send the pty master to the monitor", "", e.into()))?;
    Ok(())
}
