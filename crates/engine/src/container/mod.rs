//! Containers over the state store: the [`Engine`] handle (data root, database, paths,
//! locks) and one file per operation.

pub mod attached;
pub mod children;
pub mod console;
pub mod create;
pub mod exec;
pub mod exec_monitor;
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
pub use berth_monitor_proto::EXIT_FILE;

pub struct Engine {
    pub root: PathBuf,
    pub store: Store,
    /// The config.json this process just wrote for a container (its ID, the spec, the
    /// bytes): `run` hands it to the runtime instead of having it read the file back.
    prepared: std::cell::RefCell<Option<(String, oci_spec::runtime::Spec, Vec<u8>)>>,
    /// This handle's mark in `R/ops` ([`crate::ops`]): held while it lives, so that a
    /// command killed while it works is known to the next one.
    _mark: Option<crate::ops::Mark>,
}

impl Engine {
    /// Open the engine at data root `root`, first repairing what crashed processes left
    /// when anything can need it ([`crate::ops`]: a killed command, a reboot), and their
    /// unfinished image work (temp files of a killed commit, pull, load or import).
    pub fn open(root: &Path) -> Result<Engine> {
        let begun = crate::ops::begin(root);
        let mut e = Engine::open_only(root)?;
        if begun.needs_repair() {
            crate::reconcile::reconcile(&e);
            for s in begun.stale {
                s.remove();
            }
        }
        e._mark = begun.mark;
        berth_image::gc::clean_leftovers(root);
        Ok(e)
    }

    /// [`Engine::open`], and the full repair whatever the marks say: a server that starts
    /// checks everything once.
    pub fn open_repaired(root: &Path) -> Result<Engine> {
        let e = Engine::open(root)?;
        crate::reconcile::reconcile(&e);
        Ok(e)
    }

    /// Open without repairing (the monitor's restart path: it is itself the repair).
    pub fn open_only(root: &Path) -> Result<Engine> {
        Ok(Engine {
            root: root.to_path_buf(),
            store: Store::open(&root.join("berth.db"))?,
            prepared: Default::default(),
            _mark: None,
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

    /// The container a user's argument names (ID, name, or unique ID prefix), its state
    /// checked first: one whose monitor is gone is repaired before anyone acts on it.
    pub fn find(&self, arg: &str) -> Result<Row> {
        let r = crate::resolve::resolve(&self.store, arg)?;
        if crate::reconcile::needs_repair(&r) {
            crate::reconcile::repair_row(self, &r);
            return crate::resolve::resolve(&self.store, arg);
        }
        Ok(r)
    }

    /// Re-read a row after taking its lock (another command may have changed or removed it).
    pub fn reload(&self, id: &str, arg: &str) -> Result<Row> {
        self.store.get(id)?.ok_or_else(|| Error::NotFound {
            kind: "container",
            name: arg.to_string(),
        })
    }

    /// Every container, with states brought up to date from what the monitors wrote, and
    /// those whose monitor is gone repaired first.
    pub fn list(&self) -> Result<Vec<Row>> {
        let mut rows = self.store.list()?;
        let mut gone = std::collections::HashSet::new();
        for r in rows.iter_mut() {
            // An init that still lives as its monitor's child has not exited: no exit
            // record to apply, no repair to make (the common case, one read of /proc).
            if init_is_monitors_child(r) {
                continue;
            }
            exit::refresh(self, r)?;
            if crate::reconcile::needs_repair(r) {
                crate::reconcile::repair_row(self, r);
                match self.store.get(&r.id)? {
                    Some(fresh) => *r = fresh,
                    None => {
                        gone.insert(r.id.clone());
                    }
                }
            }
        }
        rows.retain(|r| !gone.contains(&r.id));
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

/// Is the container's monitor still there? For a running container one read of /proc
/// answers: its init lives, is the monitor's child, and began when the row says it started
/// (a dead monitor's children are reparented at once, so a yes is certain; a pid reused
/// since would have to be the child of a process that reused the monitor's pid, started at
/// that same time). Otherwise: a live `berth-monitor` at the row's pid that names this
/// container (after a monitor dies its pid may be reused, by another container's monitor
/// too, and a dead container must not pass for a live one).
pub fn monitor_alive(r: &Row) -> bool {
    init_is_monitors_child(r)
        || (process_is(r.monitor_pid, "berth-monitor") && cmdline_names(r.monitor_pid, &r.id))
}

fn init_is_monitors_child(r: &Row) -> bool {
    use crate::store::State;
    if r.monitor_pid <= 0 || r.pid <= 0 || !matches!(r.state, State::Running | State::Paused) {
        return false;
    }
    let mut buf = [0u8; 1024];
    let Some(stat) = read_small(&format!("/proc/{}/stat", r.pid), &mut buf) else {
        return false;
    };
    // comm may hold spaces and parens: the fields after the last ')' are state, ppid, ...,
    // and the start time (clock ticks since boot) is the 20th of them.
    let Some(rest) = stat.rfind(')').and_then(|i| stat.get(i + 2..)) else {
        return false;
    };
    let f: Vec<&str> = rest.split(' ').collect();
    if f.len() <= 19 || matches!(f[0], "Z" | "X") || f[1].parse() != Ok(r.monitor_pid) {
        return false;
    }
    let (Some((boot, tick)), Ok(ticks), Some(started)) = (
        boot_clock(),
        f[19].parse::<i64>(),
        berth_image::timestamp::parse_rfc3339(&r.started_at),
    ) else {
        return false;
    };
    // The row's time is taken just before the init is made; the boot time is in whole
    // seconds, and a start under load takes a while.
    let began = boot + ticks / tick;
    (started - 2..=started + 120).contains(&began)
}

/// A /proc file that fits `buf`, in one read: /proc reports no size, so `fs::read` would
/// stat and then read in growing pieces (six calls where two do, for each container listed).
fn read_small<'a>(path: &str, buf: &'a mut [u8]) -> Option<&'a str> {
    use std::io::Read;
    let n = std::fs::File::open(path).ok()?.read(buf).ok()?;
    // A file filling the buffer may go on: not read whole, so not trusted.
    (n < buf.len()).then(|| std::str::from_utf8(&buf[..n]).ok())?
}

/// The boot time (seconds since the epoch) and clock ticks per second, read once.
fn boot_clock() -> Option<(i64, i64)> {
    static CLOCK: std::sync::OnceLock<Option<(i64, i64)>> = std::sync::OnceLock::new();
    *CLOCK.get_or_init(|| {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let boot = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        let tick = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|t| *t > 0)?;
        Some((boot, tick))
    })
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
