//! cgroup v1 (legacy) manager, one directory per mounted hierarchy. On hybrid hosts it also
//! drives the cgroup in the cgroup2 mount (/sys/fs/cgroup/unified).

mod blkio;
mod cpu;
mod cpuset;
mod devices;
mod freezer;
mod hugetlb;
mod memory;
mod pids;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};
use crate::path::{own_cgroups, Target};
use crate::stats::Stats;
use crate::{files, mountinfo, v2, CgroupManager, FreezerState};

/// One mounted hierarchy: its subsystems (e.g. ["cpu", "cpuacct"]) and our directory in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hierarchy {
    subsystems: Vec<String>,
    path: PathBuf,
}

/// A container cgroup on a legacy or hybrid host.
#[derive(Debug)]
pub struct Manager {
    hierarchies: Vec<Hierarchy>,
    /// The cgroup2 part on hybrid hosts.
    unified: Option<v2::Manager>,
}

/// Preferred hierarchies to list processes from.
const PROCS_FROM: &[&str] = &["pids", "freezer", "memory", "devices", "cpu"];

impl Manager {
    /// Resolve `target` in every mounted v1 hierarchy (one mountinfo scan), plus the cgroup2
    /// mount at `hybrid_unified` if given.
    pub(crate) fn resolve(target: &Target, hybrid_unified: Option<&Path>) -> Result<Manager> {
        let mounts = mountinfo::v1_mounts()?;
        let own = if target.is_relative() {
            Some(own_cgroups()?)
        } else {
            None
        };
        let hierarchies: Vec<Hierarchy> = mounts
            .into_iter()
            .map(|m| {
                let own_path = own
                    .as_ref()
                    .and_then(|o| o.v1.get(&m.subsystems[0]))
                    .map(PathBuf::as_path);
                Hierarchy {
                    path: target.resolve(&m.mount_point, &m.root, own_path),
                    subsystems: m.subsystems,
                }
            })
            .collect();
        let unified = hybrid_unified.map(|root| {
            let own_path = own.as_ref().and_then(|o| o.unified.as_deref());
            v2::Manager::resolve(root, target, own_path, false)
        });
        if hierarchies.is_empty() && unified.is_none() {
            return Err(Error::missing(
                "any",
                "a cgroup (no cgroup hierarchy is mounted)",
            ));
        }
        Ok(Manager {
            hierarchies,
            unified,
        })
    }

    /// Rebuild from `paths()` output: subsystem -> directory, "" -> cgroup2 directory.
    pub(crate) fn from_paths(paths: &BTreeMap<String, PathBuf>) -> Manager {
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        let mut unified = None;
        for (subsystem, path) in paths {
            if subsystem.is_empty() {
                unified = Some(v2::Manager::from_path(path.clone()));
                continue;
            }
            match hierarchies.iter_mut().find(|h| &h.path == path) {
                Some(h) => h.subsystems.push(subsystem.clone()),
                None => hierarchies.push(Hierarchy {
                    subsystems: vec![subsystem.clone()],
                    path: path.clone(),
                }),
            }
        }
        Manager {
            hierarchies,
            unified,
        }
    }

    /// Our directory in the hierarchy of `subsystem`, if that hierarchy is mounted.
    pub fn path(&self, subsystem: &str) -> Option<&Path> {
        self.hierarchies
            .iter()
            .find(|h| h.subsystems.iter().any(|s| s == subsystem))
            .map(|h| h.path.as_path())
    }

    /// The cgroup2 part (hybrid hosts).
    pub fn unified(&self) -> Option<&v2::Manager> {
        self.unified.as_ref()
    }

    fn require(&self, subsystem: &str, resource: &str) -> Result<&Path> {
        self.path(subsystem)
            .ok_or_else(|| Error::missing(subsystem, resource))
    }

    fn procs_dir(&self) -> Option<&Path> {
        PROCS_FROM
            .iter()
            .find_map(|s| self.path(s))
            .or_else(|| self.hierarchies.first().map(|h| h.path.as_path()))
    }

    /// Signal every process: freeze first so that nothing forks meanwhile, then thaw.
    fn signal_frozen(&self, signal: i32) -> Result<()> {
        let freezer = self.path("freezer").is_some();
        if freezer {
            self.freeze(FreezerState::Frozen)?;
        }
        let res = self.pids().and_then(|p| v2::signal_all(&p, signal));
        if freezer {
            self.freeze(FreezerState::Thawed)?;
        }
        res
    }
}

impl CgroupManager for Manager {
    fn create(&self) -> Result<()> {
        for h in &self.hierarchies {
            if h.subsystems.iter().any(|s| s == "cpuset") {
                cpuset::create(&h.path)?;
            } else {
                files::create_dir_all(&h.path)?;
            }
        }
        if let Some(u) = &self.unified {
            u.create()?;
        }
        Ok(())
    }

    fn add_task(&self, pid: i32) -> Result<()> {
        let pid = pid.to_string();
        for h in &self.hierarchies {
            files::write_in(&h.path, "cgroup.procs", &pid)?;
        }
        if let Some(u) = &self.unified {
            files::write_in(u.path(), "cgroup.procs", &pid)?;
        }
        Ok(())
    }

    fn apply(&self, r: &LinuxResources) -> Result<()> {
        if let Some(c) = r.cpu().as_ref().filter(|c| cpuset::wanted(c)) {
            cpuset::apply(self.require("cpuset", "linux.resources.cpu.cpus/mems")?, c)?;
        }
        if let Some(m) = r.memory().as_ref().filter(|m| memory::wanted(m)) {
            memory::apply(self.require("memory", "linux.resources.memory")?, m)?;
        }
        if let Some(c) = r.cpu().as_ref().filter(|c| cpu::wanted(c)) {
            cpu::apply(self.require("cpu", "linux.resources.cpu")?, c)?;
        }
        if let Some(p) = r.pids() {
            pids::apply(self.require("pids", "linux.resources.pids")?, p)?;
        }
        if let Some(b) = r.block_io().as_ref().filter(|b| blkio::wanted(b)) {
            blkio::apply(self.require("blkio", "linux.resources.blockIO")?, b)?;
        }
        if let Some(h) = r.hugepage_limits().as_ref().filter(|h| !h.is_empty()) {
            match (self.path("hugetlb"), &self.unified) {
                (Some(dir), _) => hugetlb::apply(dir, h)?,
                (None, Some(u)) => u.apply_hugetlb(h)?,
                (None, None) => {
                    return Err(Error::missing("hugetlb", "linux.resources.hugepageLimits"))
                }
            }
        }
        if let Some(n) = r.network() {
            if let Some(id) = n.class_id() {
                let dir = self.require("net_cls", "linux.resources.network.classID")?;
                files::write_in(dir, "net_cls.classid", &id.to_string())?;
            }
            for p in n.priorities().iter().flatten() {
                let dir = self.require("net_prio", "linux.resources.network.priorities")?;
                let line = format!("{} {}", p.name(), p.priority());
                files::write_in(dir, "net_prio.ifpriomap", &line)?;
            }
        }
        if let Some(d) = r.devices() {
            devices::apply(self.require("devices", "linux.resources.devices")?, d)?;
        }
        if let Some(u) = r.unified().as_ref().filter(|u| !u.is_empty()) {
            match &self.unified {
                Some(m) => m.apply_unified(u)?,
                None => return Err(Error::missing("cgroup2", "linux.resources.unified")),
            }
        }
        Ok(())
    }

    fn freeze(&self, state: FreezerState) -> Result<()> {
        match (self.path("freezer"), &self.unified) {
            (Some(dir), _) => freezer::set(dir, state),
            (None, Some(u)) => u.freeze(state),
            (None, None) => Err(Error::missing("freezer", "freezing")),
        }
    }

    fn freezer_state(&self) -> Result<FreezerState> {
        match (self.path("freezer"), &self.unified) {
            (Some(dir), _) => freezer::state(dir),
            (None, Some(u)) => u.freezer_state(),
            (None, None) => Ok(FreezerState::Thawed),
        }
    }

    fn pids(&self) -> Result<Vec<i32>> {
        let mut out = Vec::new();
        match (self.procs_dir(), &self.unified) {
            (Some(dir), _) => files::procs_recursive(dir, &mut out)?,
            (None, Some(u)) => out = u.pids()?,
            (None, None) => {}
        }
        Ok(out)
    }

    fn stats(&self) -> Result<Stats> {
        if let Some(dir) = self.procs_dir() {
            if !dir.is_dir() {
                return Err(Error::io(
                    "stat",
                    dir,
                    std::io::Error::from_raw_os_error(libc::ENOENT),
                ));
            }
        }
        let mut s = Stats::default();
        if let Some(dir) = self.path("cpu") {
            cpu::throttling(dir, &mut s.cpu)?;
        }
        if let Some(dir) = self.path("cpuacct") {
            cpu::usage(dir, &mut s.cpu)?;
        }
        if let Some(dir) = self.path("memory") {
            memory::stats(dir, &mut s.memory)?;
        }
        if let Some(dir) = self.path("pids") {
            crate::stats::pids(dir, &mut s.pids)?;
        }
        if let Some(dir) = self.path("blkio") {
            blkio::stats(dir, &mut s.blkio)?;
        }
        match (self.path("hugetlb"), &self.unified) {
            (Some(dir), _) => hugetlb::stats(dir, &mut s.hugetlb)?,
            (None, Some(u)) => u.hugetlb_stats(&mut s)?,
            (None, None) => {}
        }
        Ok(s)
    }

    fn kill_all(&self, signal: i32) -> Result<()> {
        if signal != libc::SIGKILL {
            return v2::signal_all(&self.pids()?, signal);
        }
        // cgroup.kill of the cgroup2 part (hybrid, kernel >= 5.14) kills race-free.
        let killed = match &self.unified {
            Some(u) => match files::write_in(u.path(), "cgroup.kill", "1") {
                Ok(()) => true,
                Err(e) if e.is_not_found() => false,
                Err(e) => return Err(e),
            },
            None => false,
        };
        if !killed {
            return self.signal_frozen(signal);
        }
        // Tasks frozen by the v1 freezer only die once thawed.
        if self.path("freezer").is_some() && self.freezer_state()? == FreezerState::Frozen {
            self.freeze(FreezerState::Thawed)?;
        }
        Ok(())
    }

    fn destroy(&self) -> Result<()> {
        let mut first_err = None;
        for h in &self.hierarchies {
            if let Err(e) = files::remove_cgroup(&h.path) {
                first_err.get_or_insert(e);
            }
        }
        if let Some(u) = &self.unified {
            if let Err(e) = u.destroy() {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn paths(&self) -> BTreeMap<String, PathBuf> {
        let mut m = BTreeMap::new();
        for h in &self.hierarchies {
            for s in &h.subsystems {
                m.insert(s.clone(), h.path.clone());
            }
        }
        if let Some(u) = &self.unified {
            m.insert(String::new(), u.path().to_path_buf());
        }
        m
    }
}
