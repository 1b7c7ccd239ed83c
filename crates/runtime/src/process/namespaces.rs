//! Namespace plumbing: which to create, which to join by path, and uid/gid maps.

use crate::error::{Error, Result, SysContext};
use nix::sched::{setns, CloneFlags};
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespace, LinuxNamespaceType};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::PathBuf;

pub fn flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

pub fn proc_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

/// The namespace plan of a config: flags to unshare and (type, path) pairs to join.
#[derive(Clone)]
pub struct Plan {
    pub new: CloneFlags,
    pub join: Vec<(LinuxNamespaceType, PathBuf)>,
}

impl Plan {
    pub fn from_spec(nss: &[LinuxNamespace]) -> Plan {
        let mut p = Plan {
            new: CloneFlags::empty(),
            join: Vec::new(),
        };
        for ns in nss {
            match ns.path() {
                Some(path) => p.join.push((ns.typ(), path.clone())),
                None => p.new |= flag(ns.typ()),
            }
        }
        // The user namespace is joined first: the others are usually owned by it.
        p.join.sort_by_key(|(t, _)| *t != LinuxNamespaceType::User);
        p
    }

    pub fn has(&self, t: LinuxNamespaceType) -> bool {
        self.new.contains(flag(t)) || self.join.iter().any(|(k, _)| *k == t)
    }
}

/// Open every namespace file first (paths may live in namespaces we leave), then setns.
pub fn join_all(join: &[(LinuxNamespaceType, PathBuf)]) -> Result<()> {
    let mut files = Vec::with_capacity(join.len());
    for (t, path) in join {
        let f = File::open(path).map_err(|e| Error::io("open namespace", path, e))?;
        files.push((*t, path, f));
    }
    for (t, path, f) in &files {
        setns(f, flag(*t))
            .ctx(|| format!("join {} namespace {}", proc_name(*t), path.display()))?;
    }
    Ok(())
}

fn map_text(maps: &[LinuxIdMapping]) -> String {
    let mut s = String::new();
    for m in maps {
        s.push_str(&format!(
            "{} {} {}\n",
            m.container_id(),
            m.host_id(),
            m.size()
        ));
    }
    s
}

/// Written by the parent (which holds privilege in the parent user namespace) for a child
/// that has just unshared its user namespace.
pub fn write_id_maps(pid: i32, uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> Result<()> {
    let w = |file: &str, data: &str| -> Result<()> {
        let p = PathBuf::from(format!("/proc/{pid}/{file}"));
        std::fs::write(&p, data).map_err(|e| Error::io("write", p, e))
    };
    w("uid_map", &map_text(uid))?;
    w("gid_map", &map_text(gid))
}

/// True when `pid` lives in a different namespace of this type than we do.
pub fn differs(pid: i32, t: LinuxNamespaceType) -> bool {
    let name = proc_name(t);
    let a = std::fs::read_link(format!("/proc/{pid}/ns/{name}"));
    let b = std::fs::read_link(format!("/proc/self/ns/{name}"));
    matches!((a, b), (Ok(a), Ok(b)) if a != b)
}

/// Bring up `lo` in the network namespace we just made, as runc does: a process in a
/// namespace without networking (`--network none`) still expects 127.0.0.1 to work. An
/// ioctl on any socket of the namespace, cheaper than a netlink exchange.
pub fn loopback_up() -> Result<()> {
    // SAFETY: a plain socket(2) call; the fd is owned by `sock` right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::sys("socket for loopback", nix::Error::last()));
    }
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    let sock = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data; all zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo") {
        *d = *s as libc::c_char;
    }
    let ioctl = |op: libc::c_ulong, req: &mut libc::ifreq| {
        // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write an ifreq we own.
        if unsafe { libc::ioctl(sock.as_raw_fd(), op as _, req as *mut libc::ifreq) } < 0 {
            return Err(Error::sys("bring up lo", nix::Error::last()));
        }
        Ok(())
    };
    ioctl(libc::SIOCGIFFLAGS, &mut req)?;
    // SAFETY: the union's flags member is what SIOCGIFFLAGS filled in.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    ioctl(libc::SIOCSIFFLAGS, &mut req)
}
