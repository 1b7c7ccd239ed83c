//! `create`: the row, the container dir, the overlay root and `config.json`; all or nothing.

use super::Engine;
use crate::crash_point::crash_point;
use crate::image_config::ImageConfig;
use crate::options::{RunOptions, Userns};
use crate::spec::{self, SpecInput};
use crate::store::{Row, State};
use crate::{names, Error, Result};
use berth_image::snapshot::Snapshotter;
use berth_image::Digest;
use std::os::fd::AsFd;
use std::path::Path;

/// The image a container is made from, as the CLI resolved it.
pub struct ImageInput<'a> {
    /// The image ID (config digest).
    pub id: &'a Digest,
    /// Chain IDs, bottom first.
    pub chain: &'a [Digest],
    pub config: &'a ImageConfig,
}

/// Undoes a half-made container when dropped while armed.
struct Undo<'a> {
    e: &'a Engine,
    id: String,
    row: bool,
    mounted: bool,
    dir: bool,
    /// Volume uses recorded for it (anonymous volumes made for it).
    volumes: bool,
    /// Attached to its network.
    network: bool,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        let dir = self.e.dir(&self.id);
        if self.mounted {
            let _ = unmount(&dir.join("rootfs"));
        }
        if self.dir {
            let _ = unmount(&dir.join(super::shared::SHM_DIR));
            let _ = std::fs::remove_dir_all(&dir);
        }
        if self.row {
            let _ = self.e.store.delete(&self.id);
        }
        if self.network {
            let _ = self.e.net_db().and_then(|db| db.detach_all(&self.id));
        }
        if self.volumes {
            // Anonymous volumes made for this container go; named ones stay (unused now).
            if let Ok(vs) = crate::volume::VolumeStore::open(&self.e.root) {
                let _ = vs.release(&self.id, true);
            }
        }
    }
}

/// A user namespace mapping container ids 0..size to host ids host_id.., as the container's.
fn id_mapped_userns(host_id: u32, size: u32) -> Result<std::os::fd::OwnedFd> {
    let map = oci_spec::runtime::LinuxIdMappingBuilder::default()
        .container_id(0u32)
        .host_id(host_id)
        .size(size)
        .build()
        .map_err(|e| Error::InvalidArgument(format!("userns mapping: {e}")))?;
    let map = [map];
    Ok(berth_runtime::rootfs::idmap::userns_with(&map, &map)?)
}

/// Unmount the overlay at `target`, if mounted (EINVAL: not a mount point; ENOENT: gone).
pub fn unmount(target: &Path) -> Result<()> {
    match nix::mount::umount2(target, nix::mount::MntFlags::empty()) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        // Busy (someone's cwd is in it): detach, it goes when the last user leaves.
        Err(nix::errno::Errno::EBUSY) => {
            nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH)
                .map_err(|e| Error::io("unmount", target, e.into()))
        }
        Err(e) => Err(Error::io("unmount", target, e.into())),
    }
}

/// Is `p` a mount point (a different device from its parent, or the same device with a
/// different mount: overlays always have their own device)?
pub fn is_mounted(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(p), p.parent().map(std::fs::metadata)) {
        (Ok(a), Some(Ok(b))) => a.dev() != b.dev(),
        _ => false,
    }
}

impl Engine {
    /// Mount the container's root if it is not (after a reboot, or after `rm` of a mount).
    pub fn ensure_mounted(&self, id: &str, chain: &[Digest]) -> Result<()> {
        let dir = self.dir(id);
        let rootfs = dir.join("rootfs");
        if is_mounted(&rootfs) {
            return Ok(());
        }
        let snaps = Snapshotter::open(self.root.join("snapshots"))?;
        let (upper, work) = (dir.join("upper"), dir.join("work"));
        match self.store.get(id)?.map(|r| super::options_of(&r).userns) {
            // Container root owns the image's files and its root dir (binds are not shifted;
            // empty volumes are given to it, see `ContainerVolumes::owned_by`).
            Some(Userns::Private { host_id, size }) => {
                let ns = id_mapped_userns(host_id, size)?;
                std::fs::create_dir_all(&upper).map_err(|e| Error::io("create", &upper, e))?;
                std::os::unix::fs::chown(&upper, Some(host_id), Some(host_id))
                    .map_err(|e| Error::io("chown", &upper, e))?;
                snaps.mount_idmapped(chain, &upper, &work, &rootfs, ns.as_fd())?
            }
            _ => snaps.mount(chain, &upper, &work, &rootfs)?,
        }
        Ok(())
    }

    /// Make a container from `opts` and `image`; its row is returned in state `created`.
    pub fn create(&self, opts: &RunOptions, image: ImageInput) -> Result<Row> {
        let given = opts.name.as_deref().map(names::validate).transpose()?;
        let mut opts = opts.clone();
        if let Some(given) = &opts.runtime {
            opts.runtime = Some(super::runtimes::resolve_binary(given)?);
        }
        if opts.stop_signal.is_none() {
            opts.stop_signal = image.config.stop_signal.clone();
        }
        opts.healthcheck =
            super::health::merge(opts.healthcheck.as_ref(), image.config.healthcheck.as_ref());
        self.expand_volumes_from(&mut opts)?;
        crate::options::host_config::check(&opts)?;
        let mut joined = self.joined_namespaces(&opts)?;
        if opts.publish_all {
            let mut exposed: Vec<String> = image.config.exposed_ports.keys().cloned().collect();
            exposed.extend(opts.exposed_ports.iter().cloned());
            crate::network::lifecycle::publish_all(&mut opts, &exposed);
        }
        let command = spec::command(&opts, image.config)?.join(" ");
        let id = names::new_id()?;
        let _lock = self.lock(&id)?;
        let mut row = Row {
            id: id.clone(),
            name: String::new(),
            image: opts.image.clone(),
            image_id: image.id.to_string(),
            created: super::now(),
            options: serde_json::to_string(&opts)
                .map_err(|e| Error::InvalidArgument(format!("options: {e}")))?,
            state: State::Created,
            pid: 0,
            monitor_pid: 0,
            exit_code: 0,
            started_at: String::new(),
            finished_at: String::new(),
            restart_count: 0,
            error: String::new(),
            command,
        };
        let mut undo = Undo {
            e: self,
            id: id.clone(),
            row: false,
            mounted: false,
            dir: false,
            volumes: false,
            network: false,
        };
        match given {
            Some(n) => {
                row.name = n;
                self.store.insert(&row)?;
            }
            None => {
                let mut attempt = 0;
                loop {
                    row.name = names::generate(attempt)?;
                    match self.store.insert(&row) {
                        Err(Error::Conflict(_)) if attempt < 20 => attempt += 1,
                        r => break r?,
                    }
                }
            }
        }
        undo.row = true;
        crash_point("ctr-create:row");
        let dir = self.dir(&id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        undo.dir = true;
        crash_point("ctr-create:dir");
        self.ensure_mounted(&id, image.chain)?;
        undo.mounted = true;
        crash_point("ctr-create:mounted");
        let rootfs = dir.join("rootfs");
        if opts.ipc_mode == crate::options::IpcMode::Shareable {
            let size = opts.shm_size.unwrap_or(spec::defaults::SHM_SIZE as i64) as u64;
            joined.own_shm = Some(super::shared::ensure_shm(&dir, size)?);
        }
        let init = match opts.init {
            true => Some(super::start::find_binary("berth-init")?),
            false => None,
        };
        let vstore = crate::volume::VolumeStore::open(&self.root)?;
        undo.volumes = true;
        let mapped_root = match opts.userns {
            Userns::Private { host_id, .. } => Some(host_id),
            _ => None,
        };
        let mut volumes = vstore
            .for_container(&id)
            .copy_up_from(&rootfs)
            .owned_by(mapped_root);
        undo.network = true;
        let netns = self.network_at_create(&id, &opts)?;
        crash_point("ctr-create:network");
        crate::network::files::write_initial(
            &dir,
            &spec::hostname(&opts, &id),
            matches!(opts.network, crate::options::Network::Host),
            &opts,
        )?;
        crash_point("ctr-create:etc-files");
        let mut spec = spec::build(SpecInput {
            id: &id,
            opts: &opts,
            image: image.config,
            rootfs: &rootfs,
            volumes: &mut volumes,
            init_binary: init.as_deref(),
            netns: netns.as_deref(),
            etc_files: Some(&dir),
            joined: &joined,
        })?;
        // The spec's volume sources are recorded as used by this container now.
        crash_point("ctr-create:volumes");
        if opts.runtime.is_some() {
            spec.set_version(super::runtimes::EXTERNAL_OCI_VERSION.into());
        }
        let bytes = serde_json::to_vec_pretty(&spec)
            .map_err(|e| Error::InvalidArgument(format!("spec: {e}")))?;
        write_atomic(&dir.join("config.json"), &bytes)?;
        self.write_event_volumes(&id, &spec);
        crash_point("ctr-create:config");
        *self.prepared.borrow_mut() = Some((id.clone(), spec, bytes));
        undo.row = false;
        undo.mounted = false;
        undo.dir = false;
        undo.volumes = false;
        undo.network = false;
        self.write_event_actor(&row);
        self.container_event(&row, "create", &[]);
        Ok(row)
    }
}

pub fn write_atomic(p: &Path, data: &[u8]) -> Result<()> {
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, data).map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, p).map_err(|e| Error::io("rename", p, e))
}
