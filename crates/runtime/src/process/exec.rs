//! Stage 1 and the process of `exec`: join the init's namespaces, then run the process.

use super::channel::{Channel, Msg};
use super::finalize::{self, Finish};
use super::namespaces;
use super::{attrs, clone, console, exit_now, Forked};
use crate::error::{Error, Result, SysContext};
use nix::sched::setns;
use oci_spec::runtime::{LinuxNamespaceType as T, Process, Spec};
use std::convert::Infallible;
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};

pub struct ExecArgs {
    pub init_pid: i32,
    pub process: Process,
    pub spec: Spec,
    pub console_fd: Option<RawFd>,
    pub keep_below: RawFd,
    pub state: serde_json::Value,
    pub filter: Option<berth_seccomp::Filter>,
    /// The seccomp listener, connected by the parent in the host's mount namespace (its path
    /// is a host path). When set, the parent also sends this process its host pid.
    pub notify_sock: Option<RawFd>,
}

pub fn stage1(chan: &mut Channel, a: &ExecArgs) -> Result<Infallible> {
    // As the init's (see `init::close_inherited`): a threaded caller's other fds go now.
    finalize::close_fds(
        a.keep_below,
        &[Some(chan.fd().as_raw_fd()), a.console_fd, a.notify_sock],
    );
    chan.expect(Msg::Continue)?;
    // Open them all first: after joining the mount namespace, /proc is the container's.
    let mut files = Vec::new();
    for t in [
        T::User,
        T::Mount,
        T::Uts,
        T::Ipc,
        T::Network,
        T::Cgroup,
        T::Pid,
        T::Time,
    ] {
        if namespaces::differs(a.init_pid, t) {
            let p = format!("/proc/{}/ns/{}", a.init_pid, namespaces::proc_name(t));
            let f = File::open(&p).map_err(|e| Error::io("open namespace", p, e))?;
            files.push((t, f));
        }
    }
    // As root in the host's user namespace we may join any namespace, and a namespace the
    // container shares with the host's user namespace (a network namespace its engine made)
    // can only be joined from here, not after joining the container's user namespace:
    // that goes last. Without those rights (rootless) it must come first.
    if nix::unistd::geteuid().is_root() {
        files.sort_by_key(|(t, _)| *t == T::User);
    }
    for (t, f) in &files {
        setns(f, namespaces::flag(*t)).ctx(|| {
            format!(
                "join the container's {} namespace",
                namespaces::proc_name(*t)
            )
        })?;
    }
    drop(files);
    match clone(libc::CLONE_PARENT as libc::c_ulong)? {
        Forked::Child => super::child_main(chan, |c| run(c, a)),
        Forked::Parent(pid) => {
            chan.send(&Msg::Pid(pid))?;
            exit_now(0)
        }
    }
}

fn run(chan: &mut Channel, a: &ExecArgs) -> Result<Infallible> {
    // First, so the parent's message is never left unread if a later step fails (a unix
    // socket closed with unread data resets the peer and our error report would be lost).
    let mut state = a.state.clone();
    if a.notify_sock.is_some() {
        // The listener is told which process the notify fd belongs to: this one, as the
        // host sees it (inside the container's pid namespace we only know our local pid).
        match chan.recv()? {
            Some(Msg::Pid(p)) => state["pid"] = p.into(),
            other => {
                return Err(Error::State(format!(
                    "protocol: expected our pid, got {other:?}"
                )))
            }
        }
    }
    // SAFETY: prctl with integer arguments (CVE-2019-5736: keep our exe out of reach).
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let linux = a
        .spec
        .linux()
        .as_ref()
        .ok_or_else(|| Error::Config("linux missing".into()))?;
    if a.process.terminal().unwrap_or(false) {
        let fd = a
            .console_fd
            .ok_or_else(|| Error::Config("--tty requires --console-socket".into()))?;
        let size = a
            .process
            .console_size()
            .as_ref()
            .map(|b| (b.height() as u16, b.width() as u16));
        console::setup(fd, size)?;
    }
    attrs::apply_rlimits(&a.process)?;
    attrs::apply_oom_score_adj(&a.process)?;
    attrs::apply_scheduler(&a.process)?;
    attrs::apply_io_priority(&a.process)?;
    let exec = finalize::resolve(&a.process)?;
    let filter = a.filter.clone();
    finalize::finish(Finish {
        process: &a.process,
        linux,
        exec,
        keep_below: a.keep_below,
        report_fd: Some(chan.fd().as_raw_fd()),
        notify_sock: a.notify_sock,
        filter,
        setgroups_allowed: true,
        state,
    })
}
