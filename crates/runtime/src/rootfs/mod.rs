//! The container's filesystem view: propagation, the rootfs bind, `mounts`, /dev, then
//! pivot_root and the post-pivot hardening (masked/read-only paths, read-only root, sysctl).

pub mod devices;
pub mod idmap;
pub mod mounts;
pub mod options;
pub mod paths;
pub mod pivot;
pub mod resolve;

use crate::error::{Error, Result, SysContext};
use nix::mount::{mount, MsFlags};
use oci_spec::runtime::Spec;
use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

pub struct Rootfs<'a> {
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    pub bundle: &'a Path,
    pub in_userns: bool,
    pub new_cgroupns: bool,
    pub cgroup_paths: &'a BTreeMap<String, PathBuf>,
    /// Detached idmapped trees prepared by the parent, by mount index.
    pub idmapped: &'a [Option<std::os::fd::RawFd>],
}

impl Rootfs<'_> {
    /// Everything before pivot_root, run in the container's fresh mount namespace.
    pub fn prepare(&self) -> Result<()> {
        let linux = self.spec.linux().as_ref();
        let prop = linux
            .and_then(|l| l.rootfs_propagation().as_deref())
            .and_then(options::propagation);
        // Nothing done from here on may propagate back to the host.
        let first = match prop {
            Some(p) if p.contains(MsFlags::MS_PRIVATE) => p,
            _ => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        };
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            first | MsFlags::MS_REC,
            None::<&str>,
        )
        .ctx(|| "make / rslave".into())?;
        // pivot_root needs the new root to be a mount point.
        mount(
            Some(self.rootfs),
            self.rootfs,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .ctx(|| format!("bind rootfs {}", self.rootfs.display()))?;
        let root = nix::fcntl::open(
            self.rootfs,
            nix::fcntl::OFlag::O_PATH
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ctx(|| format!("open rootfs {}", self.rootfs.display()))?;
        let mounts = self.spec.mounts().as_deref().unwrap_or(&[]);
        let ctx = mounts::MountCtx {
            root: root.as_fd(),
            bundle: self.bundle,
            in_userns: self.in_userns,
            new_cgroupns: self.new_cgroupns,
            cgroup_paths: self.cgroup_paths,
            idmapped: self.idmapped,
        };
        mounts::mount_all(&ctx, mounts)?;
        // Like runc: the default nodes only when /dev is not a bind of some host directory.
        let dev_is_bind = mounts.iter().any(|m| {
            m.destination() == Path::new("/dev")
                && options::parse(m.options().as_deref().unwrap_or(&[])).is_bind()
        });
        if !dev_is_bind {
            for n in devices::defaults() {
                devices::create(root.as_fd(), &n, self.in_userns)?;
            }
            devices::symlinks(root.as_fd())?;
        }
        for d in linux.and_then(|l| l.devices().as_deref()).unwrap_or(&[]) {
            // Like runc: /dev/ptmx is always the pts/ptmx symlink (privileged specs list the
            // host's 5:2 node too, which would collide with it).
            if d.path() == Path::new("/dev/ptmx") {
                continue;
            }
            devices::create(root.as_fd(), &devices::from_spec(d), self.in_userns)?;
        }
        Ok(())
    }

    pub fn enter(&self, no_pivot: bool) -> Result<()> {
        if no_pivot {
            pivot::move_and_chroot(self.rootfs)
        } else {
            pivot::pivot(self.rootfs)
        }
    }

    /// Hardening that needs the container's own /proc: run after pivot_root.
    pub fn finish(&self) -> Result<()> {
        let Some(linux) = self.spec.linux() else {
            return Ok(());
        };
        if let Some(sysctl) = linux.sysctl() {
            paths::sysctl(sysctl)?;
        }
        create_cwd(self.spec)?;
        paths::mask(linux.masked_paths().as_deref().unwrap_or(&[]))?;
        paths::readonly(
            linux.readonly_paths().as_deref().unwrap_or(&[]),
            self.in_userns,
        )?;
        if self
            .spec
            .root()
            .as_ref()
            .and_then(|r| r.readonly())
            .unwrap_or(false)
        {
            paths::readonly_root(self.in_userns)?;
        }
        if let Some(p) = linux.rootfs_propagation().as_deref() {
            let f = options::propagation(p).ok_or_else(|| {
                Error::Config(format!("linux.rootfsPropagation: unknown value {p:?}"))
            })?;
            mount(None::<&str>, "/", None::<&str>, f, None::<&str>)
                .ctx(|| format!("set rootfs propagation {p}"))?;
        }
        Ok(())
    }
}

/// The process's working directory, made (root's, 0755) when the image lacks it, as runc
/// does: after pivot_root, so it is made inside the root and inside any volume mounted
/// there, and before the root may become read-only.
fn create_cwd(spec: &oci_spec::runtime::Spec) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let Some(cwd) = spec.process().as_ref().map(|p| p.cwd()) else {
        return Ok(());
    };
    if !cwd.is_absolute() || cwd.symlink_metadata().is_ok() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(cwd)
        .map_err(|e| Error::io("create working directory", cwd, e))
}
