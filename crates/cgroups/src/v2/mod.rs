//! cgroup v2 (unified) manager. Also used for the cgroup2 part of hybrid hosts.

pub mod convert;
mod cpu;
mod cpuset;
pub mod devices_bpf;
mod freezer;
pub(crate) mod hugetlb;
mod io;
mod memory;
mod pids;
pub(crate) use pids::pids_max_value;
pub(crate) mod unified;

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxHugepageLimit, LinuxResources};

use crate::error::{Error, Result};
use crate::path::Target;
use crate::stats::Stats;
use crate::{devices, files, CgroupManager, FreezerState};

/// A cgroup in a cgroup2 hierarchy.
#[derive(Debug)]
pub struct Manager {
    path: PathBuf,
    /// Mount point of the hierarchy; found lazily (st_dev walk) when built from a path.
    mount_root: OnceLock<PathBuf>,
    /// On create, enable every available controller down the path (pure v2, like runc).
    /// On hybrid hosts only what a resource needs gets enabled, so that controllers stay
    /// free to be bound to v1 hierarchies.
    enable_all: bool,
}

impl Manager {
    /// `relative` under `mount_root` (a leading '/' is ignored, `..` cannot leave the root).
    pub fn at(mount_root: &Path, relative: &Path) -> Manager {
        Manager::with_root(mount_root, crate::path::clamp(relative), false)
    }

    pub(crate) fn with_root(mount_root: &Path, relative: PathBuf, enable_all: bool) -> Manager {
        let root = OnceLock::new();
        let _ = root.set(mount_root.to_path_buf());
        Manager {
            path: mount_root.join(relative),
            mount_root: root,
            enable_all,
        }
    }

    /// Resolve a target on the hierarchy mounted at `mount_root`.
    pub(crate) fn resolve(
        mount_root: &Path,
        target: &Target,
        own: Option<&Path>,
        enable_all: bool,
    ) -> Manager {
        let path = target.resolve(mount_root, Path::new("/"), own);
        let rel = path
            .strip_prefix(mount_root)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Manager::with_root(mount_root, rel, enable_all)
    }

    /// From a stored absolute cgroup directory.
    pub(crate) fn from_path(path: PathBuf) -> Manager {
        Manager {
            path,
            mount_root: OnceLock::new(),
            enable_all: false,
        }
    }

    /// The cgroup directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The hierarchy's mount point.
    pub fn mount_root(&self) -> &Path {
        self.mount_root.get_or_init(|| find_mount_root(&self.path))
    }

    /// Enable `needed` controllers (name, what asked for it) in every ancestor's
    /// cgroup.subtree_control, if the cgroup does not have them yet.
    pub(crate) fn ensure_controllers(&self, needed: &[(String, String)]) -> Result<()> {
        if needed.is_empty() {
            return Ok(());
        }
        let have = files::read_opt(&self.path, "cgroup.controllers")?.unwrap_or_default();
        let have: Vec<&str> = have.split_whitespace().collect();
        let missing: Vec<&(String, String)> = needed
            .iter()
            .filter(|(c, _)| !have.contains(&c.as_str()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let root = self.mount_root().to_path_buf();
        let avail = files::read(&root.join("cgroup.controllers"))?;
        let avail: Vec<&str> = avail.split_whitespace().collect();
        for (c, what) in &missing {
            if !avail.contains(&c.as_str()) {
                return Err(Error::missing(c, what));
            }
        }
        let rel = self
            .path
            .strip_prefix(&root)
            .map_err(|_| Error::InvalidPath {
                path: self.path.clone(),
                reason: format!("not under the cgroup2 mount {}", root.display()),
            })?;
        let mut dir = root.clone();
        for comp in rel.components() {
            let enabled = files::read_opt(&dir, "cgroup.subtree_control")?.unwrap_or_default();
            let enabled: Vec<&str> = enabled.split_whitespace().collect();
            let todo: Vec<String> = missing
                .iter()
                .filter(|(c, _)| !enabled.contains(&c.as_str()))
                .map(|(c, _)| format!("+{c}"))
                .collect();
            if !todo.is_empty() {
                files::write_in(&dir, "cgroup.subtree_control", &todo.join(" "))?;
            }
            dir.push(comp);
        }
        Ok(())
    }

    /// Enable everything the parent offers, level by level (errors ignored, as runc does:
    /// e.g. a level with processes cannot enable domain controllers).
    fn enable_all_controllers(&self) -> Result<()> {
        let root = self.mount_root().to_path_buf();
        let Ok(rel) = self.path.strip_prefix(&root) else {
            return files::create_dir_all(&self.path);
        };
        let mut dir = root.clone();
        for comp in rel.components() {
            let avail = files::read_opt(&dir, "cgroup.controllers")?.unwrap_or_default();
            let enabled = files::read_opt(&dir, "cgroup.subtree_control")?.unwrap_or_default();
            let enabled: Vec<&str> = enabled.split_whitespace().collect();
            let todo: Vec<String> = avail
                .split_whitespace()
                .filter(|c| !enabled.contains(c))
                .map(|c| format!("+{c}"))
                .collect();
            if !todo.is_empty()
                && files::write_in(&dir, "cgroup.subtree_control", &todo.join(" ")).is_err()
            {
                for t in &todo {
                    let _ = files::write_in(&dir, "cgroup.subtree_control", t);
                }
            }
            dir.push(comp);
            files::create_dir_all(&dir)?;
        }
        Ok(())
    }

    /// hugetlb.<size>.max (used directly by the hybrid manager too).
    pub(crate) fn apply_hugetlb(&self, limits: &[LinuxHugepageLimit]) -> Result<()> {
        if limits.is_empty() {
            return Ok(());
        }
        self.ensure_controllers(&[("hugetlb".into(), "linux.resources.hugepageLimits".into())])?;
        hugetlb::apply(&self.path, limits)
    }

    /// linux.resources.unified (used directly by the hybrid manager too).
    pub(crate) fn apply_unified(&self, map: &HashMap<String, String>) -> Result<()> {
        for k in map.keys() {
            unified::check_key(k)?;
        }
        let mut needed: Vec<(String, String)> = Vec::new();
        for k in map.keys() {
            if let Some(c) = unified::controller_of(k) {
                if !needed.iter().any(|(n, _)| n == c) {
                    needed.push((c.to_string(), format!("linux.resources.unified[{k:?}]")));
                }
            }
        }
        self.ensure_controllers(&needed)?;
        unified::apply(&self.path, map)
    }

    /// Load the eBPF device filter for these OCI rules.
    pub(crate) fn apply_devices(
        &self,
        list: &[oci_spec::runtime::LinuxDeviceCgroup],
    ) -> Result<()> {
        let rules = devices::rules(list)?;
        devices_bpf::apply(&self.path, &rules)
    }

    pub(crate) fn hugetlb_stats(&self, stats: &mut Stats) -> Result<()> {
        hugetlb::stats(&self.path, &mut stats.hugetlb)
    }
}

/// Walk up from `path` while the parent is on the same file system.
fn find_mount_root(path: &Path) -> PathBuf {
    let mut cur = path;
    while !cur.exists() {
        match cur.parent() {
            Some(p) => cur = p,
            None => return path.to_path_buf(),
        }
    }
    let Ok(dev) = std::fs::metadata(cur).map(|m| m.dev()) else {
        return cur.to_path_buf();
    };
    while let Some(parent) = cur.parent() {
        match std::fs::metadata(parent) {
            Ok(m) if m.dev() == dev => cur = parent,
            _ => break,
        }
    }
    cur.to_path_buf()
}

fn some_nonempty<T>(v: &Option<Vec<T>>) -> Option<&[T]> {
    v.as_deref().filter(|v| !v.is_empty())
}

impl CgroupManager for Manager {
    fn create(&self) -> Result<()> {
        if self.path.is_dir() {
            return Ok(());
        }
        if self.enable_all {
            self.enable_all_controllers()
        } else {
            files::create_dir_all(&self.path)
        }
    }

    fn add_task(&self, pid: i32) -> Result<()> {
        files::write_in(&self.path, "cgroup.procs", &pid.to_string())
    }

    fn apply(&self, r: &LinuxResources) -> Result<()> {
        let mut needed: Vec<(String, String)> = Vec::new();
        let mut need = |c: &str, what: &str| needed.push((c.to_string(), what.to_string()));
        let pids = r.pids().as_ref();
        let mem = r.memory().as_ref().filter(|m| memory::wanted(m));
        let blkio = r.block_io().as_ref().filter(|b| io::wanted(b));
        let cpu = r.cpu().as_ref().filter(|c| cpu::wanted(c));
        let cpus = r.cpu().as_ref().filter(|c| cpuset::wanted(c));
        let huge = some_nonempty(r.hugepage_limits());
        if pids.is_some() {
            need("pids", "linux.resources.pids");
        }
        if mem.is_some() {
            need("memory", "linux.resources.memory");
        }
        if blkio.is_some() {
            need("io", "linux.resources.blockIO");
        }
        if cpu.is_some() {
            need("cpu", "linux.resources.cpu");
        }
        if cpus.is_some() {
            need("cpuset", "linux.resources.cpu.cpus/mems");
        }
        if huge.is_some() {
            need("hugetlb", "linux.resources.hugepageLimits");
        }
        self.ensure_controllers(&needed)?;

        if let Some(p) = pids {
            pids::apply(&self.path, p)?;
        }
        if let Some(m) = mem {
            memory::apply(&self.path, m)?;
        }
        if let Some(b) = blkio {
            io::apply(&self.path, b)?;
        }
        if let Some(c) = cpu {
            cpu::apply(&self.path, c)?;
        }
        if let Some(c) = cpus {
            cpuset::apply(&self.path, c)?;
        }
        if let Some(h) = huge {
            hugetlb::apply(&self.path, h)?;
        }
        if let Some(d) = r.devices() {
            self.apply_devices(d)?;
        }
        if let Some(u) = r.unified().as_ref().filter(|u| !u.is_empty()) {
            self.apply_unified(u)?;
        }
        Ok(())
    }

    fn freeze(&self, state: FreezerState) -> Result<()> {
        freezer::set(&self.path, state)
    }

    fn freezer_state(&self) -> Result<FreezerState> {
        freezer::state(&self.path)
    }

    fn pids(&self) -> Result<Vec<i32>> {
        let mut out = Vec::new();
        files::procs_recursive(&self.path, &mut out)?;
        Ok(out)
    }

    fn stats(&self) -> Result<Stats> {
        if !self.path.is_dir() {
            return Err(Error::io(
                "stat",
                &self.path,
                std::io::Error::from_raw_os_error(libc::ENOENT),
            ));
        }
        let mut s = Stats::default();
        cpu::stats(&self.path, &mut s.cpu)?;
        memory::stats(&self.path, &mut s.memory)?;
        crate::stats::pids(&self.path, &mut s.pids)?;
        io::stats(&self.path, &mut s.blkio)?;
        self.hugetlb_stats(&mut s)?;
        Ok(s)
    }

    fn kill_all(&self, signal: i32) -> Result<()> {
        if signal == libc::SIGKILL {
            match files::write_in(&self.path, "cgroup.kill", "1") {
                Ok(()) => return Ok(()),
                Err(e) if e.is_not_found() && self.path.is_dir() => {} // kernel < 5.14
                Err(e) => return Err(e),
            }
        }
        signal_all(&self.pids()?, signal)
    }

    fn destroy(&self) -> Result<()> {
        files::remove_cgroup(&self.path)
    }

    fn paths(&self) -> BTreeMap<String, PathBuf> {
        BTreeMap::from([(String::new(), self.path.clone())])
    }
}

/// kill(2) each pid; processes that are already gone are fine.
pub(crate) fn signal_all(pids: &[i32], signal: i32) -> Result<()> {
    let sig = Signal::try_from(signal)
        .map_err(|_| Error::invalid("signal", signal, "unknown signal number"))?;
    for &pid in pids {
        match kill(Pid::from_raw(pid), sig) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => {
                return Err(Error::io(
                    "kill",
                    format!("/proc/{pid}"),
                    std::io::Error::from(e),
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_v2_create_enables_available_controllers_down_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("cgroup.controllers"), "cpu memory pids").unwrap();
        std::fs::write(root.join("cgroup.subtree_control"), "memory").unwrap();
        let m = Manager::with_root(root, PathBuf::from("berth/x"), true);
        m.create().unwrap();
        assert!(root.join("berth/x").is_dir());
        let enabled = std::fs::read_to_string(root.join("cgroup.subtree_control")).unwrap();
        assert_eq!(enabled, "+cpu +pids", "only what is missing is written");
        // Idempotent: an existing cgroup is left alone.
        m.create().unwrap();
    }

    #[test]
    fn mount_root_is_found_from_a_stored_path() {
        let m = Manager::from_path(PathBuf::from("/proc/self/does/not/exist"));
        assert_eq!(m.mount_root(), Path::new("/proc"));
    }
}
