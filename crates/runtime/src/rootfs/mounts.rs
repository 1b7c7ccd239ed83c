//! `mounts` of config.json, made inside the container's mount namespace before pivot_root.
//! Targets are resolved inside the root and mounted through their fd (see resolve.rs).

use super::options::{self, Options};
use super::resolve::{fd_path, mkdir_all, open_in_root, Kind};
use crate::error::{Error, Result};
use nix::mount::{mount, MsFlags};
use oci_spec::runtime::Mount;
use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

pub struct MountCtx<'a> {
    pub root: BorrowedFd<'a>,
    pub bundle: &'a Path,
    pub in_userns: bool,
    pub new_cgroupns: bool,
    pub cgroup_paths: &'a BTreeMap<String, PathBuf>,
    pub idmapped: &'a [Option<std::os::fd::RawFd>],
}

fn err(m: &Mount, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Child(format!(
        "mount {} to {}: {what}: {e}",
        m.source()
            .as_ref()
            .map(|s| s.display().to_string())
            .unwrap_or_default(),
        m.destination().display()
    ))
}

pub fn mount_all(ctx: &MountCtx, mounts: &[Mount]) -> Result<()> {
    for (i, m) in mounts.iter().enumerate() {
        match ctx.idmapped.get(i).copied().flatten() {
            Some(tree) => mount_idmapped(ctx, m, tree)?,
            None => mount_one(ctx, m)?,
        }
    }
    Ok(())
}

fn mount_idmapped(ctx: &MountCtx, m: &Mount, tree: std::os::fd::RawFd) -> Result<()> {
    let is_dir = m.source().as_ref().map(|s| !s.is_file()).unwrap_or(true);
    let target = mkdir_all(
        ctx.root,
        m.destination(),
        if is_dir { Kind::Dir } else { Kind::File },
    )?;
    super::idmap::attach(tree, target.as_fd()).map_err(|e| err(m, "attach idmapped mount", e))?;
    let o = options::parse(m.options().as_deref().unwrap_or(&[]));
    let extra = o.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    if !extra.is_empty() {
        let t = reopen(ctx, m)?;
        remount(&fd_path(t.as_fd()), extra, ctx.in_userns).map_err(|e| err(m, "remount", e))?;
    }
    let o = Options { idmap: false, ..o };
    after(ctx, m, &o)
}

fn reopen(ctx: &MountCtx, m: &Mount) -> Result<OwnedFd> {
    open_in_root(ctx.root, m.destination(), libc::O_PATH).map_err(|e| err(m, "reopen target", e))
}

fn mount_one(ctx: &MountCtx, m: &Mount) -> Result<()> {
    let o = options::parse(m.options().as_deref().unwrap_or(&[]));
    let typ = m.typ().as_deref().unwrap_or("none");
    if typ == "cgroup" || typ == "cgroup2" {
        return mount_cgroup(ctx, m, &o);
    }
    if o.is_bind() || typ == "bind" {
        return bind(ctx, m, &o);
    }
    let target = mkdir_all(ctx.root, m.destination(), Kind::Dir)?;
    let data = o.data.join(",");
    let source = m.source().clone().unwrap_or_else(|| PathBuf::from(typ));
    let flags = o.flags & !MsFlags::MS_REMOUNT;
    let res = mount(
        Some(&source),
        &fd_path(target.as_fd()),
        Some(typ),
        flags,
        (!data.is_empty()).then_some(data.as_str()),
    );
    match res {
        Ok(()) => {}
        // In a user namespace without its own netns, sysfs cannot be mounted; like runc,
        // fall back to a recursive bind of the host's, read-only.
        Err(nix::Error::EPERM) if typ == "sysfs" || typ == "mqueue" => {
            let host = if typ == "sysfs" {
                "/sys"
            } else {
                "/dev/mqueue"
            };
            mount(
                Some(host),
                &fd_path(target.as_fd()),
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(|e| err(m, "bind fallback", e))?;
            let t = reopen(ctx, m)?;
            remount(
                &fd_path(t.as_fd()),
                flags | MsFlags::MS_RDONLY,
                ctx.in_userns,
            )
            .map_err(|e| err(m, "remount", e))?;
        }
        Err(e) => return Err(err(m, "mount", e)),
    }
    after(ctx, m, &o)
}

fn bind(ctx: &MountCtx, m: &Mount, o: &Options) -> Result<()> {
    let src = m
        .source()
        .as_ref()
        .ok_or_else(|| err(m, "bind", "no source"))?;
    let src = if src.is_absolute() {
        src.clone()
    } else {
        ctx.bundle.join(src)
    };
    // The source is on the host side and trusted; open it once so the mount uses exactly
    // what we checked.
    let sfd = nix::fcntl::open(
        &src,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| err(m, "open source", e))?;
    let is_dir = nix::sys::stat::fstat(&sfd)
        .map(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR)
        .unwrap_or(true);
    let target = mkdir_all(
        ctx.root,
        m.destination(),
        if is_dir { Kind::Dir } else { Kind::File },
    )?;
    let rec = o.flags & MsFlags::MS_REC;
    mount(
        Some(&fd_path(sfd.as_fd())),
        &fd_path(target.as_fd()),
        None::<&str>,
        MsFlags::MS_BIND | rec,
        None::<&str>,
    )
    .map_err(|e| err(m, "bind", e))?;
    let extra = o.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    if !extra.is_empty() {
        let t = reopen(ctx, m)?;
        remount(&fd_path(t.as_fd()), extra, ctx.in_userns).map_err(|e| err(m, "remount", e))?;
    }
    after(ctx, m, o)
}

/// Bind remount with flags; flags the kernel locked on the mount (in a user namespace) are
/// kept, since dropping them is refused.
pub fn remount(target: &Path, flags: MsFlags, keep_locked: bool) -> nix::Result<()> {
    let base = MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
    match mount(
        None::<&str>,
        target,
        None::<&str>,
        base | flags,
        None::<&str>,
    ) {
        Err(nix::Error::EPERM) if keep_locked => {
            let st = nix::sys::statvfs::statvfs(target)?;
            let locked = MsFlags::from_bits_truncate(st.flags().bits() as _)
                & (MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC
                    | MsFlags::MS_RDONLY
                    | MsFlags::MS_NOATIME
                    | MsFlags::MS_NODIRATIME
                    | MsFlags::MS_RELATIME);
            mount(
                None::<&str>,
                target,
                None::<&str>,
                base | flags | locked,
                None::<&str>,
            )
        }
        r => r,
    }
}

/// Propagation changes and recursive attributes, applied to the new mount.
fn after(ctx: &MountCtx, m: &Mount, o: &Options) -> Result<()> {
    if o.propagation.is_empty() && o.rec_attr_set == 0 && o.rec_attr_clr == 0 {
        return Ok(());
    }
    let t = reopen(ctx, m)?;
    for p in &o.propagation {
        mount(
            None::<&str>,
            &fd_path(t.as_fd()),
            None::<&str>,
            *p,
            None::<&str>,
        )
        .map_err(|e| err(m, "set propagation", e))?;
    }
    if o.rec_attr_set != 0 || o.rec_attr_clr != 0 {
        super::idmap::set_attr(t.as_fd(), o.rec_attr_set, o.rec_attr_clr, None)
            .map_err(|e| err(m, "mount_setattr", e))?;
    }
    Ok(())
}

/// A `cgroup` mount: the container's own cgroup directories, never the host's whole tree.
fn mount_cgroup(ctx: &MountCtx, m: &Mount, o: &Options) -> Result<()> {
    let target = mkdir_all(ctx.root, m.destination(), Kind::Dir)?;
    let ro = o.flags & MsFlags::MS_RDONLY;
    let base = (o.flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC))
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    let unified_only = ctx.cgroup_paths.len() == 1 && ctx.cgroup_paths.contains_key("");
    if unified_only {
        if ctx.new_cgroupns {
            mount(
                Some("cgroup2"),
                &fd_path(target.as_fd()),
                Some("cgroup2"),
                base | ro,
                None::<&str>,
            )
            .map_err(|e| err(m, "mount cgroup2", e))?;
        } else {
            let src = &ctx.cgroup_paths[""];
            mount(
                Some(src),
                &fd_path(target.as_fd()),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| err(m, "bind cgroup", e))?;
            let t = reopen(ctx, m)?;
            remount(&fd_path(t.as_fd()), base | ro, ctx.in_userns)
                .map_err(|e| err(m, "remount cgroup", e))?;
        }
        return Ok(());
    }
    mount(
        Some("tmpfs"),
        &fd_path(target.as_fd()),
        Some("tmpfs"),
        base,
        Some("mode=755"),
    )
    .map_err(|e| err(m, "mount cgroup tmpfs", e))?;
    let dir = reopen(ctx, m)?;
    for (name, src) in ctx.cgroup_paths {
        let name = if name.is_empty() {
            "unified"
        } else {
            name.as_str()
        };
        let sub = mkdir_all(dir.as_fd(), Path::new(name), Kind::Dir)?;
        mount(
            Some(src),
            &fd_path(sub.as_fd()),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| err(m, "bind cgroup", e))?;
        let t = open_in_root(dir.as_fd(), Path::new(name), libc::O_PATH)
            .map_err(|e| err(m, "reopen cgroup", e))?;
        remount(&fd_path(t.as_fd()), base | ro, ctx.in_userns)
            .map_err(|e| err(m, "remount cgroup", e))?;
    }
    if !ro.is_empty() {
        let t = reopen(ctx, m)?;
        remount(&fd_path(t.as_fd()), base | ro, ctx.in_userns)
            .map_err(|e| err(m, "remount cgroup tmpfs", e))?;
    }
    Ok(())
}
