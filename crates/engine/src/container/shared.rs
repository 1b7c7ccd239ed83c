//! What a new container takes from others: `--volumes-from` (their volumes and binds) and
//! `--pid`/`--ipc container:X` (the namespaces of their running init).

use super::{options_of, Engine};
use crate::options::{IpcMode, Mount, MountKind, NamespaceMode, RunOptions};
use crate::store::State;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Namespaces of other containers (or the host's) a container joins, resolved at create.
#[derive(Debug, Clone, Default)]
pub struct Joined {
    /// `--pid container:X`: X's init's pid namespace.
    pub pid: Option<PathBuf>,
    /// `--ipc container:X`: X's init's IPC namespace and X's shareable /dev/shm.
    pub ipc: Option<(PathBuf, PathBuf)>,
    /// `--ipc shareable`: its own /dev/shm, a tmpfs on the host others can bind.
    pub own_shm: Option<PathBuf>,
}

/// Where a shareable container's /dev/shm is mounted on the host, in its dir.
pub const SHM_DIR: &str = "shm";

/// Mount the tmpfs of a shareable /dev/shm at `dir/shm` unless it is (at create, and at
/// each start after a reboot); `size` in bytes.
pub fn ensure_shm(dir: &Path, size: u64) -> Result<PathBuf> {
    use nix::mount::{mount, MsFlags};
    let p = dir.join(SHM_DIR);
    if p.is_dir() && super::create::is_mounted(&p) {
        return Ok(p);
    }
    std::fs::create_dir_all(&p).map_err(|e| Error::io("create", &p, e))?;
    mount(
        Some("shm"),
        &p,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(format!("mode=1777,size={size}").as_str()),
    )
    .map_err(|e| Error::io("mount shm", &p, e.into()))?;
    Ok(p)
}

impl Engine {
    /// The running init of container `arg`, for `--pid`/`--ipc container:` (docker's
    /// wording when it is not running).
    fn running_init(&self, arg: &str, what: &str) -> Result<i32> {
        let mut r = self.find(arg)?;
        super::exit::refresh(self, &mut r)?;
        if !matches!(r.state, State::Running | State::Paused) || r.pid <= 0 {
            return Err(Error::Conflict(format!(
                "cannot join {what} of a non running container: {arg}"
            )));
        }
        Ok(r.pid)
    }

    pub fn joined_namespaces(&self, o: &RunOptions) -> Result<Joined> {
        let mut j = Joined::default();
        if let NamespaceMode::Container(c) = &o.pid_mode {
            let pid = self.running_init(c, "PID")?;
            j.pid = Some(PathBuf::from(format!("/proc/{pid}/ns/pid")));
        }
        if let IpcMode::Container(c) = &o.ipc_mode {
            let pid = self.running_init(c, "IPC")?;
            // Its /dev/shm must be on the host to be bound here: only a shareable one is,
            // as with docker.
            let shm = self.dir(&self.find(c)?.id).join(SHM_DIR);
            if !super::create::is_mounted(&shm) {
                return Err(Error::Conflict(format!(
                    "cannot join IPC of container {c}: non-shareable IPC (hint: use --ipc \
                     shareable for the donor container)"
                )));
            }
            j.ipc = Some((PathBuf::from(format!("/proc/{pid}/ns/ipc")), shm));
        }
        Ok(j)
    }

    /// `--volumes-from X[:ro|:rw]`: X's volumes (named and anonymous) and binds, in the
    /// mode asked for (else X's), before the container's own mounts, which win at the same
    /// place, as docker does. X need not be running.
    pub fn expand_volumes_from(&self, o: &mut RunOptions) -> Result<()> {
        let volumes_dir = self.root.join("volumes");
        let mut taken: Vec<Mount> = Vec::new();
        for spec in &o.volumes_from {
            let (arg, mode) = match spec.rsplit_once(':') {
                Some((c, m)) if m == "ro" || m == "rw" => (c, Some(m == "ro")),
                Some(_) => {
                    return Err(Error::invalid(
                        "--volumes-from",
                        spec,
                        format!("invalid mode for volumes-from: {spec}"),
                    ))
                }
                None => (spec.as_str(), None),
            };
            let from = self.find(arg)?;
            let from_opts = options_of(&from);
            let config = self.dir(&from.id).join("config.json");
            let text =
                std::fs::read_to_string(&config).map_err(|e| Error::io("read", &config, e))?;
            let spec_json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::InvalidArgument(format!("{}: {e}", config.display())))?;
            for m in spec_json["mounts"].as_array().into_iter().flatten() {
                let (Some(dest), Some(src)) = (m["destination"].as_str(), m["source"].as_str())
                else {
                    continue;
                };
                if m["type"] != "bind" {
                    continue;
                }
                let ro = m["options"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|x| x == "ro"));
                let volume = PathBuf::from(src)
                    .strip_prefix(&volumes_dir)
                    .ok()
                    .and_then(|rest| {
                        let mut parts = rest.components();
                        let name = parts.next()?.as_os_str().to_str()?.to_string();
                        (parts.next()?.as_os_str() == "_data" && parts.next().is_none())
                            .then_some(name)
                    });
                let user_bind = from_opts
                    .mounts
                    .iter()
                    .find(|u| u.kind == MountKind::Bind && u.target == dest);
                let (kind, source, options) = match (volume, user_bind) {
                    (Some(name), _) => (MountKind::Volume, name, vec![]),
                    (None, Some(u)) => (MountKind::Bind, src.to_string(), u.options.clone()),
                    // /etc/hosts and the like, --init's binary: X's own, not volumes.
                    (None, None) => continue,
                };
                taken.retain(|t| t.target != dest);
                taken.push(Mount {
                    kind,
                    source: Some(source),
                    target: dest.to_string(),
                    read_only: mode.unwrap_or(ro),
                    create_source: false,
                    options,
                });
            }
        }
        taken.retain(|t| !o.mounts.iter().any(|m| m.target == t.target));
        taken.append(&mut o.mounts);
        o.mounts = taken;
        Ok(())
    }
}
