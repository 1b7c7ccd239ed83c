//! Containers over the state store: the [`Engine`] handle (data root, database, paths,
//! locks) and one file per operation.

pub mod attached;
pub mod console;
pub mod create;
pub mod exec;
pub mod exit;
pub mod health;
pub mod host_config;
pub mod inspect;
pub mod prune;
pub mod remove;
pub mod runtimes;
pub mod shared;
mod shared_child;
pub mod start;
pub mod stop;
pub mod update;
pub mod wait;

// Looking into containers and taking things out of them.
pub mod commit;
pub mod cp;
pub mod diff;
pub mod export;
pub mod fs_tar;
pub mod stats;
pub mod top;

use crate::lock::ContainerLock;
use crate::options::RunOptions;
use crate::store::{Row, Store};
use crate::{Error, Result};
use berth_runtime::Runtime;
use std::path::{Path, PathBuf};

pub use create::ImageInput;

/// Written by `stop` before it signals, so the monitor's restart policy leaves it stopped.
pub const STOPPED_BY_USER: &str = "stopped-by-user";
/// Written by the monitor when the container's init exits.
pub const EXIT_FILE: &str = "exit.json";

pub struct Engine {
    pub root: PathBuf,
    pub store: Store,
    /// The config.json this process just wrote for a container (its ID, the spec, the
    /// bytes): `run` hands it to the runtime instead of having it read the file back.
    prepared: std::cell::RefCell<Option<(String, oci_spec::runtime::Spec, Vec<u8>)>>,
}

impl Engine {
    /// Open the engine at data root `root` and repair what crashed processes left
    /// ([`crate::reconcile`]), their unfinished image work (temp files of a killed commit,
    /// pull, load or import) included.
    pub fn open(root: &Path) -> Result<Engine> {
        let e = Engine::open_only(root)?;
        crate::reconcile::reconcile(&e);
        berth_image::gc::clean_leftovers(root);
        Ok(e)
    }

    /// Open without repairing (the monitor's restart path: it is itself the repair).
    pub fn open_only(root: &Path) -> Result<Engine> {
        Ok(Engine {
            root: root.to_path_buf(),
            store: Store::open(&root.join("berth.db"))?,
            prepared: Default::default(),
        })
    }

    /// The config.json of container `id` as [`Engine::create`] wrote it in this process, if it
    /// did (taken: a later start reads the file, which may have changed).
    pub fn take_prepared(&self, id: &str) -> Option<(oci_spec::runtime::Spec, Vec<u8>)> {
        let mut prepared = self.prepared.borrow_mut();
        match prepared.take() {
            Some((for_id, spec, bytes)) if for_id == id => Some((spec, bytes)),
            other => {
                *prepared = other;
                None
            }
        }
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    /// `R/containers/<id>`: the bundle of the container.
    pub fn dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }

    pub fn rootfs(&self, id: &str) -> PathBuf {
        self.dir(id).join("rootfs")
    }

    pub fn lock(&self, id: &str) -> Result<ContainerLock> {
        ContainerLock::acquire(&self.containers_dir().join(format!("{id}.lock")))
    }

    pub fn try_lock(&self, id: &str) -> Result<Option<ContainerLock>> {
        ContainerLock::try_acquire(&self.containers_dir().join(format!("{id}.lock")))
    }

    /// The in-process runtime, its state under `R/runtime`.
    pub fn runtime(&self) -> Runtime {
        Runtime::new(self.root.join("runtime"))
    }

    /// The container a user's argument names (ID, name, or unique ID prefix).
    pub fn find(&self, arg: &str) -> Result<Row> {
        crate::resolve::resolve(&self.store, arg)
    }

    /// Re-read a row after taking its lock (another command may have changed or removed it).
    pub fn reload(&self, id: &str, arg: &str) -> Result<Row> {
        self.store.get(id)?.ok_or_else(|| Error::NotFound {
            kind: "container",
            name: arg.to_string(),
        })
    }

    /// Every container, with states brought up to date from what the monitors wrote.
    pub fn list(&self) -> Result<Vec<Row>> {
        let mut rows = self.store.list()?;
        for r in rows.iter_mut() {
            exit::refresh(self, r)?;
        }
        Ok(rows)
    }
}

/// The options a row was created with.
pub fn options_of(r: &Row) -> RunOptions {
    serde_json::from_str(&r.options).unwrap_or_default()
}

/// Is `pid` a live (not zombie) process whose command line names `what`?
pub fn process_is(pid: i32, what: &str) -> bool {
    if pid <= 0 {
        return false;
    }
    match berth_runtime::state::proc_stat(pid) {
        Some((_, st)) if st != 'Z' && st != 'X' => {}
        _ => return false,
    }
    let in_cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| {
            c.split(|b| *b == 0)
                .take(2)
                .any(|a| String::from_utf8_lossy(a).contains(what))
        })
        .unwrap_or(false);
    // Right after an exec the kernel has switched the binary (and closed the CLOEXEC report
    // pipe that tells `start` the monitor is there) before it sets up the arguments: the
    // cmdline reads empty for a moment, the exe link is already the new binary.
    in_cmdline
        || std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p.to_string_lossy().contains(what))
            .unwrap_or(false)
}

/// Is the container's monitor still there? A live `berth-monitor` at the row's pid that
/// names this container: after a monitor dies its pid may be reused, by another
/// container's monitor too, and a dead container must not pass for a live one.
pub fn monitor_alive(r: &Row) -> bool {
    process_is(r.monitor_pid, "berth-monitor") && cmdline_names(r.monitor_pid, &r.id)
}

/// Does the command line of `pid` carry `--id ID`? Right after the exec the command line
/// reads empty for a moment (see [`process_is`]): not a different process, so it passes.
fn cmdline_names(pid: i32, id: &str) -> bool {
    let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    if cmd.is_empty() {
        return true;
    }
    let needle = format!("--id\0{id}\0");
    cmd.windows(needle.len()).any(|w| w == needle.as_bytes())
}

pub fn now() -> String {
    berth_runtime::state::now_rfc3339()
}
