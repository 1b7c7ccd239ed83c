//! Container lifecycle over the state directory: create, start, state, kill, delete, exec,
//! pause/resume, update, ps, list, stats. One file per operation.

pub mod create;
pub mod devices_cgroup;
pub mod exec;
pub mod lifecycle;

use crate::error::{Error, Result};
use crate::state::{self, State, Status};
use std::path::PathBuf;

pub use create::{CreateOpts, Created};
pub use exec::ExecOpts;

/// Where compiled seccomp filters are kept: outside the state root, which holds container
/// directories only, since it may be shared with runc (`runc list` shows every entry) or
/// a containerd shim. Under /run: a cache that a reboot empties, written by root only.
fn cache_dir() -> PathBuf {
    let uid = nix::unistd::geteuid();
    if uid.is_root() {
        PathBuf::from("/run/berth-runtime-cache")
    } else {
        PathBuf::from(format!("/run/user/{uid}/berth-runtime-cache"))
    }
}

/// The runtime, rooted at its state directory (runc's `--root`).
pub struct Runtime {
    pub root: PathBuf,
}

impl Runtime {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Runtime { root: root.into() }
    }

    /// The container's seccomp filter, compiled once per distinct profile and cached.
    pub(crate) fn seccomp_filter(
        &self,
        spec: &oci_spec::runtime::Spec,
    ) -> Result<Option<berth_seccomp::Filter>> {
        match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            Some(s) => Ok(Some(berth_seccomp::compile_cached(
                s,
                &cache_dir().join("seccomp"),
            )?)),
            None => Ok(None),
        }
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Load a container's state, with runc's error for an unknown id.
    pub fn load(&self, id: &str) -> Result<State> {
        create::validate_id(id).map_err(|_| Error::NotExist(id.into()))?;
        let dir = self.dir(id);
        if !dir.join(state::STATE_FILE).exists() {
            return Err(Error::NotExist(id.into()));
        }
        State::load(&dir)
    }

    pub fn lock(&self, id: &str) -> Result<state::Lock> {
        state::Lock::acquire(&self.dir(id)).map_err(|e| match e {
            Error::NotExist(_) => Error::NotExist(id.into()),
            e => e,
        })
    }

    /// The config a container was created from.
    pub fn config(&self, s: &State) -> Result<oci_spec::runtime::Spec> {
        s.config(&self.dir(&s.id))
    }

    pub fn status(&self, s: &State) -> Status {
        s.status(&self.dir(&s.id))
    }

    /// Every container under the root, in name order; unreadable entries are skipped.
    pub fn list(&self) -> Vec<(State, Status)> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return out;
        };
        for e in rd.flatten() {
            if let Ok(s) = State::load(&e.path()) {
                let st = self.status(&s);
                out.push((s, st));
            }
        }
        out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        out
    }
}
