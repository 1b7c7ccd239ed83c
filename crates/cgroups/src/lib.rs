//! # berth-cgroups
//!
//! Cgroup management for Berth containers on cgroup v1 (legacy), v2 (unified) and hybrid hosts.
//!
//! One small trait, [`CgroupManager`], is what the runtime needs: put a process in, apply
//! `linux.resources`, freeze/thaw, list processes, read stats, destroy. [`Manager::new`] picks
//! the implementation once, from the host's layout ([`Layout::detect`]).
//!
//! Path resolution follows runc: an absolute `cgroupsPath` is taken from each hierarchy's
//! root; a relative one is placed under the cgroup of the calling process; with no path the
//! container goes to `/berth/<id>`.

// API CONTRACT (used by crates/runtime; keep these signatures):
//
// pub enum Layout { Legacy, Hybrid, Unified }
// impl Layout { pub fn detect() -> Result<Layout> }
//
// pub enum FreezerState { Thawed, Frozen }
//
// pub trait CgroupManager {
//     /// Create the cgroup directories (all hierarchies) if missing.
//     fn create(&self) -> Result<()>;
//     /// Move a process (by host pid) into the cgroup (every hierarchy, incl. the unified one on hybrid).
//     fn add_task(&self, pid: i32) -> Result<()>;
//     /// Apply linux.resources (limits). Must be callable before and after add_task (update).
//     fn apply(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<()>;
//     fn freeze(&self, state: FreezerState) -> Result<()>;
//     fn freezer_state(&self) -> Result<FreezerState>;
//     /// Host pids of every process in the cgroup (recursive).
//     fn pids(&self) -> Result<Vec<i32>>;
//     fn stats(&self) -> Result<Stats>;
//     /// Send a signal to every process in the cgroup (thaw after, for SIGKILL on v1).
//     fn kill_all(&self, signal: i32) -> Result<()>;
//     /// Remove every directory created; retries while processes drain; Ok if already gone.
//     fn destroy(&self) -> Result<()>;
//     /// Paths for state/diagnostics, e.g. {"memory": "/sys/fs/cgroup/memory/berth/x", "": "/sys/fs/cgroup/unified/berth/x"}.
//     fn paths(&self) -> std::collections::BTreeMap<String, std::path::PathBuf>;
// }
//
// pub enum Manager { V1(v1::Manager), V2(v2::Manager) }   // implements CgroupManager by dispatch
// impl Manager {
//     /// cgroups_path: linux.cgroupsPath from config.json (None -> /berth/<id>)
//     pub fn new(cgroups_path: Option<&std::path::Path>, id: &str) -> Result<Manager>;
//     /// A v2 manager rooted at an arbitrary cgroup2 mount point (tests use a private mount)
//     pub fn v2_at(mount_root: &std::path::Path, relative: &std::path::Path) -> Manager;
//     /// The cgroups process `pid` is in (another runtime's container, found by its init).
pub fn of_process(pid: i32) -> Result<Manager> {
    Manager::from_paths(&path::paths_of_process(pid)?)
}

/// Rebuild from the map returned by paths() (stored in the container state).
//     pub fn from_paths(paths: &std::collections::BTreeMap<String, std::path::PathBuf>) -> Result<Manager>;
// }
//
// #[derive(Serialize, Deserialize, Default)] pub struct Stats  -- shaped like runc's `events --stats` "data" object:
//   cpu {usage{total,percpu,kernel,user}, throttling{periods,throttled_periods,throttled_time}},
//   memory {usage{limit,usage,max,failcnt}, swap{...}, kernel{...}, raw{...}}, pids {current,limit},
//   blkio {io_service_bytes_recursive: [...], ...}, hugetlb {"2MB": {usage,max,failcnt}}
//
// #[derive(thiserror::Error)] pub enum Error { ... } with path + reason context; pub type Result<T>.
mod devices;
mod error;
mod files;
mod layout;
mod mountinfo;
mod path;
mod stats;
pub mod v1;
pub mod v2;
mod warm;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use devices::default_allowed_devices;
pub use error::{Error, Result};
pub use layout::{Layout, CGROUP_ROOT, HYBRID_UNIFIED_ROOT};
pub use stats::{
    hugepage_sizes, BlkioEntry, BlkioStats, CpuStats, CpuUsage, HugetlbStats, MemoryEntry,
    MemoryStats, PidsStats, Stats, Throttling,
};
pub use warm::warm_attach;

/// Freezer state of a container cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FreezerState {
    Thawed,
    Frozen,
}

/// What the runtime needs from a container cgroup.
pub trait CgroupManager {
    /// Create the cgroup directories (all hierarchies) if missing.
    fn create(&self) -> Result<()>;
    /// Move a process (by host pid) into the cgroup (every hierarchy, incl. the unified one on hybrid).
    fn add_task(&self, pid: i32) -> Result<()>;
    /// Apply linux.resources (limits). Must be callable before and after add_task (update).
    ///
    /// Only what is set is written. `devices: Some(rules)` means default deny, then the rules
    /// in order (last match wins); `devices: None` leaves device access untouched. Requesting
    /// a resource whose controller is not available is an error.
    fn apply(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<()>;
    fn freeze(&self, state: FreezerState) -> Result<()>;
    fn freezer_state(&self) -> Result<FreezerState>;
    /// Host pids of every process in the cgroup (recursive).
    fn pids(&self) -> Result<Vec<i32>>;
    fn stats(&self) -> Result<Stats>;
    /// Send a signal to every process in the cgroup (thaw after, for SIGKILL on v1).
    fn kill_all(&self, signal: i32) -> Result<()>;
    /// Remove every directory created; retries while processes drain; Ok if already gone.
    fn destroy(&self) -> Result<()>;
    /// Paths for state/diagnostics, e.g. {"memory": "/sys/fs/cgroup/memory/berth/x", "": "/sys/fs/cgroup/unified/berth/x"}.
    fn paths(&self) -> BTreeMap<String, PathBuf>;
}

/// The manager for this host: v1 (legacy or hybrid) or v2.
#[derive(Debug)]
pub enum Manager {
    V1(v1::Manager),
    V2(v2::Manager),
}

impl Manager {
    /// cgroups_path: linux.cgroupsPath from config.json (None -> /berth/<id>)
    pub fn new(cgroups_path: Option<&Path>, id: &str) -> Result<Manager> {
        let target = path::Target::new(cgroups_path, id)?;
        match Layout::detect()? {
            Layout::Unified => {
                let own = if target.is_relative() {
                    path::own_cgroups()?.unified
                } else {
                    None
                };
                Ok(Manager::V2(v2::Manager::resolve(
                    Path::new(CGROUP_ROOT),
                    &target,
                    own.as_deref(),
                    true,
                )))
            }
            Layout::Hybrid => Ok(Manager::V1(v1::Manager::resolve(
                &target,
                Some(Path::new(HYBRID_UNIFIED_ROOT)),
            )?)),
            Layout::Legacy => Ok(Manager::V1(v1::Manager::resolve(&target, None)?)),
        }
    }

    /// A v2 manager rooted at an arbitrary cgroup2 mount point (tests use a private mount)
    pub fn v2_at(mount_root: &Path, relative: &Path) -> Manager {
        Manager::V2(v2::Manager::at(mount_root, relative))
    }

    /// The cgroups process `pid` is in (another runtime's container, found by its init).
    pub fn of_process(pid: i32) -> Result<Manager> {
        Manager::from_paths(&path::paths_of_process(pid)?)
    }

    /// Rebuild from the map returned by paths() (stored in the container state).
    pub fn from_paths(paths: &BTreeMap<String, PathBuf>) -> Result<Manager> {
        if let Some((k, p)) = paths.iter().find(|(_, p)| !p.is_absolute()) {
            return Err(Error::InvalidPath {
                path: p.clone(),
                reason: format!("stored cgroup path for {k:?} is not absolute"),
            });
        }
        if paths.keys().any(|k| !k.is_empty()) {
            return Ok(Manager::V1(v1::Manager::from_paths(paths)));
        }
        match paths.get("") {
            Some(p) => Ok(Manager::V2(v2::Manager::from_path(p.clone()))),
            None => Err(Error::InvalidPath {
                path: PathBuf::new(),
                reason: "no cgroup paths stored".into(),
            }),
        }
    }

    fn inner(&self) -> &dyn CgroupManager {
        match self {
            Manager::V1(m) => m,
            Manager::V2(m) => m,
        }
    }
}

impl CgroupManager for Manager {
    fn create(&self) -> Result<()> {
        self.inner().create()
    }
    fn add_task(&self, pid: i32) -> Result<()> {
        self.inner().add_task(pid)
    }
    fn apply(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<()> {
        self.inner().apply(resources)
    }
    fn freeze(&self, state: FreezerState) -> Result<()> {
        self.inner().freeze(state)
    }
    fn freezer_state(&self) -> Result<FreezerState> {
        self.inner().freezer_state()
    }
    fn pids(&self) -> Result<Vec<i32>> {
        self.inner().pids()
    }
    fn stats(&self) -> Result<Stats> {
        self.inner().stats()
    }
    fn kill_all(&self, signal: i32) -> Result<()> {
        self.inner().kill_all(signal)
    }
    fn destroy(&self) -> Result<()> {
        self.inner().destroy()
    }
    fn paths(&self) -> BTreeMap<String, PathBuf> {
        self.inner().paths()
    }
}
