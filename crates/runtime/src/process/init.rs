//! Stage 1 and the container init of `create` (see the module doc of `process`).

use super::channel::{Channel, Msg};
use super::finalize::{self, Finish};
use super::namespaces::{self, Plan};
use super::{attrs, clone, console, exit_now, Forked};
use crate::error::{Error, Result, SysContext};
use crate::hooks;
use crate::rootfs::Rootfs;
use nix::sched::{unshare, CloneFlags};
use oci_spec::runtime::Spec;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

/// Everything the children need; they are forks, so this is simply inherited memory.
pub struct InitArgs {
    pub id: String,
    pub spec: Spec,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub plan: Plan,
    pub cgroup_paths: BTreeMap<String, PathBuf>,
    pub fifo_fd: RawFd,
    pub console_fd: Option<RawFd>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// fds 3..keep_below are passed to the container (preserved fds, LISTEN_FDS).
    pub keep_below: RawFd,
    pub annotations: serde_json::Value,
    /// Parent-only fds (the state dir lock) that the children must drop at once: an
    /// inherited flock would keep the container locked for its whole life.
    pub parent_only: Vec<RawFd>,
    /// Compiled by the parent (from the cache when it can), loaded last by the init.
    pub filter: Option<berth_seccomp::Filter>,
    /// Idmapped trees made by the parent (see rootfs::idmap), by mount index.
    pub idmapped: Vec<Option<RawFd>>,
}

impl InitArgs {
    pub fn hook_state(&self, status: &str, pid: i32) -> serde_json::Value {
        serde_json::json!({
            "ociVersion": "1.2.0", "id": self.id, "status": status, "pid": pid,
            "bundle": self.bundle, "annotations": self.annotations,
        })
    }
}

pub fn can_clone_directly(p: &Plan) -> bool {
    p.join.is_empty()
        && !p.new.intersects(
            CloneFlags::CLONE_NEWUSER | CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
        )
}

/// The cgroup namespace is left out: it must be made after the parent moved us into our
/// cgroup, or the container would see the runtime's cgroup as its root.
pub fn direct_clone_flags(p: &Plan) -> libc::c_ulong {
    (p.new - CloneFlags::CLONE_NEWCGROUP).bits() as libc::c_ulong
}

/// The init of the fast path: already in its namespaces but the cgroup one. It builds its
/// mounts while the parent moves it into its cgroup (the first cgroup.procs write waits for an
/// RCU grace period, milliseconds on a small VM), and waits for that only before anything
/// that depends on the cgroup.
pub fn direct(chan: &mut Channel, a: &InitArgs) -> Result<Infallible> {
    close_inherited(chan, a);
    init(chan, a, true)
}

fn joined_cgroup(chan: &mut Channel, a: &InitArgs) -> Result<()> {
    chan.expect(Msg::Continue)?;
    if a.plan.new.contains(CloneFlags::CLONE_NEWCGROUP) {
        unshare(CloneFlags::CLONE_NEWCGROUP).ctx(|| "unshare cgroup namespace".into())?;
    }
    Ok(())
}

/// First thing after the clone: keep only the fds this process needs (the preserved ones
/// below `keep_below`, the channel, the start fifo, the console socket, the idmapped
/// trees). We are a fork of a possibly threaded caller: we hold copies of whatever its
/// other threads had open at that instant, such as another container's state dir lock (an
/// flock stays held while any copy is open), start fifo or channel. Kept until our exec,
/// which waits for `start`, they would block that container's commands, or hide its
/// init's death from its creator; CLOEXEC does not help before an exec.
fn close_inherited(chan: &Channel, a: &InitArgs) {
    for fd in &a.parent_only {
        // SAFETY: closing our inherited copy of a descriptor nothing else in this process uses.
        unsafe { libc::close(*fd) };
    }
    let mut keep = vec![Some(chan.fd().as_raw_fd()), Some(a.fifo_fd), a.console_fd];
    keep.extend(a.idmapped.iter().copied());
    finalize::close_fds(a.keep_below, &keep);
}

pub fn stage1(chan: &mut Channel, a: &InitArgs) -> Result<Infallible> {
    close_inherited(chan, a);
    chan.expect(Msg::Continue)?;
    namespaces::join_all(&a.plan.join)?;
    if a.plan.new.contains(CloneFlags::CLONE_NEWUSER) {
        unshare(CloneFlags::CLONE_NEWUSER).ctx(|| "unshare user namespace".into())?;
        chan.send(&Msg::MapIds)?;
        chan.expect(Msg::Continue)?;
        become_root()?;
    }
    let rest = a.plan.new - CloneFlags::CLONE_NEWUSER;
    if !rest.is_empty() {
        unshare(rest).ctx(|| format!("unshare namespaces {rest:?}"))?;
    }
    if let Some(offsets) = a
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.time_offsets().as_ref())
    {
        let text: String = offsets
            .iter()
            .map(|(clock, o)| {
                format!(
                    "{clock} {} {}\n",
                    o.secs().unwrap_or(0),
                    o.nanosecs().unwrap_or(0)
                )
            })
            .collect();
        std::fs::write("/proc/self/timens_offsets", text)
            .map_err(|e| Error::io("write", "/proc/self/timens_offsets", e))?;
    }
    match clone(libc::CLONE_PARENT as libc::c_ulong)? {
        Forked::Child => super::child_main(chan, |c| init(c, a, false)),
        Forked::Parent(pid) => {
            chan.send(&Msg::Pid(pid))?;
            exit_now(0)
        }
    }
}

fn become_root() -> Result<()> {
    use nix::unistd::{setresgid, setresuid, Gid, Uid};
    setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
        .ctx(|| "setgid 0 in user namespace".into())?;
    setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
        .ctx(|| "setuid 0 in user namespace".into())
}

fn init(chan: &mut Channel, a: &InitArgs, cgroup_pending: bool) -> Result<Infallible> {
    use oci_spec::runtime::LinuxNamespaceType as T;
    // Our host pid, read before /proc is replaced by the container's.
    let host_pid: i32 = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str()?.parse().ok())
        .unwrap_or(0);
    let spec = &a.spec;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::Config("process missing".into()))?;
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| Error::Config("linux missing".into()))?;
    let in_userns = a.plan.has(T::User);
    let root = Rootfs {
        spec,
        rootfs: &a.rootfs,
        bundle: &a.bundle,
        in_userns,
        new_cgroupns: a.plan.new.contains(CloneFlags::CLONE_NEWCGROUP),
        cgroup_paths: &a.cgroup_paths,
        idmapped: &a.idmapped,
    };
    let has_mntns = a.plan.has(T::Mount);
    let prepared = if a.plan.new.contains(CloneFlags::CLONE_NEWNET) {
        namespaces::loopback_up()
    } else {
        Ok(())
    }
    .and_then(|()| if has_mntns { root.prepare() } else { Ok(()) });
    // Take the parent's Continue even when the mounts failed: a unix socket closed with an
    // unread message makes the parent's read fail with ECONNRESET, losing our error report.
    if cgroup_pending {
        joined_cgroup(chan, a)?;
    }
    prepared?;
    let hooks = spec.hooks().as_ref();
    #[allow(deprecated)]
    let runtime_hooks = hooks.is_some_and(|h| {
        h.prestart().as_ref().is_some_and(|v| !v.is_empty())
            || h.create_runtime().as_ref().is_some_and(|v| !v.is_empty())
    });
    if runtime_hooks {
        chan.send(&Msg::RunRuntimeHooks)?;
        chan.expect(Msg::Continue)?;
    }
    if let Some(h) = hooks {
        hooks::run_all(
            "createContainer",
            h.create_container().as_ref(),
            // Still inside the create operation: "creating", as for createRuntime (and runc).
            &a.hook_state("creating", host_pid),
        )?;
    }
    // listenerPath is a path of the runtime's mount namespace: connect while it is reachable.
    let notify_sock = match linux
        .seccomp()
        .as_ref()
        .and_then(|s| s.listener_path().as_ref())
    {
        Some(p) if a.filter.as_ref().is_some_and(|f| f.wants_notify()) => {
            Some(berth_seccomp::connect_listener(p)?)
        }
        _ => None,
    };
    if has_mntns {
        root.enter(a.no_pivot)?;
        root.finish()?;
    } else {
        nix::unistd::chroot(&a.rootfs).ctx(|| format!("chroot {}", a.rootfs.display()))?;
        nix::unistd::chdir("/").ctx(|| "chdir /".into())?;
    }
    if let Some(h) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        nix::unistd::sethostname(h).ctx(|| format!("sethostname {h}"))?;
    }
    if let Some(d) = spec.domainname().as_deref().filter(|h| !h.is_empty()) {
        // setdomainname(2), not /proc/sys/kernel/domainname: /proc/sys is read-only by now.
        // SAFETY: setdomainname reads `d.len()` bytes of a valid buffer.
        if unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::io("set domainname", d, e));
        }
    }
    if !a.no_new_keyring {
        join_session_keyring(&a.id);
    }
    if process.terminal().unwrap_or(false) {
        let fd = a.console_fd.ok_or_else(|| {
            Error::Config("process.terminal is set but no --console-socket was given".into())
        })?;
        let size = process
            .console_size()
            .as_ref()
            .map(|b| (b.height() as u16, b.width() as u16));
        console::setup(fd, size)?;
        if has_mntns {
            crate::rootfs::devices::mount_console()?;
        }
    }
    attrs::apply_rlimits(process)?;
    attrs::apply_oom_score_adj(process)?;
    attrs::apply_personality(linux)?;
    attrs::apply_scheduler(process)?;
    attrs::apply_io_priority(process)?;
    if let Some(c) = process.capabilities() {
        super::identity::check_caps(c)?;
    }
    let exec = finalize::resolve(process)?;
    let filter = a.filter.clone();
    // From here on no container process may open our /proc/<pid>/exe (CVE-2019-5736).
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    chan.send(&Msg::Ready)?;
    // Wait for `start`: it writes one byte into the fifo we hold open read-write.
    let mut b = [0u8; 1];
    loop {
        // SAFETY: fifo_fd is open for our whole life (inherited from the parent).
        match nix::unistd::read(
            unsafe { std::os::fd::BorrowedFd::borrow_raw(a.fifo_fd) },
            &mut b,
        ) {
            Ok(_) => break,
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(Error::sys("wait for start", e)),
        }
    }
    let run = || -> Result<Infallible> {
        if let Some(h) = hooks {
            hooks::run_all(
                "startContainer",
                h.start_container().as_ref(),
                &a.hook_state("created", host_pid),
            )?;
        }
        finalize::finish(Finish {
            process,
            linux,
            exec,
            keep_below: a.keep_below,
            report_fd: None,
            notify_sock: notify_sock.as_ref().map(std::os::fd::AsRawFd::as_raw_fd),
            filter,
            setgroups_allowed: true,
            state: a.hook_state("running", host_pid),
        })
    };
    // The creating process is gone; errors now go to the container's stderr.
    let Err(e) = run();
    eprintln!("berth-runtime: {e}");
    exit_now(127)
}

/// A fresh session keyring per container, so containers do not share the host's keys.
fn join_session_keyring(id: &str) {
    let name = std::ffi::CString::new(format!("_ses.{id}")).unwrap_or_default();
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, name) reads a valid C string. Kernels or
    // seccomp setups without keyrings return an error, which is not fatal (as in runc).
    unsafe { libc::syscall(libc::SYS_keyctl, 1, name.as_ptr()) };
}
