//! Volumes, as Docker's `local` driver keeps them: data in `R/volumes/<name>/_data`, records
//! in the `volumes` table of `R/berth.db`, and which containers use each volume in
//! `volume_users` (a volume in use cannot be removed or pruned).
//!
//! Named volumes are made by `volume create` or on first use (`-v name:/path`); anonymous
//! ones (`-v /path`, an image's `VOLUME`) get a random 64-hex name, Docker's
//! `com.docker.volume.anonymous` label and the ID of the container they were made for, and
//! go with it on `rm -v` ([`VolumeStore::release`]). A new, empty volume receives what the
//! image has at the mount target ([`copy_up`]).
//!
//! Crash safety: creating and removing hold an IMMEDIATE transaction; a removed volume's
//! directory is first renamed into `R/volumes/.trash/` (names cannot start with a dot),
//! deleted after the commit or renamed back if the transaction fails. What a crash leaves
//! there is settled on the next open, under a transaction: a directory whose volume is still
//! recorded (its removal never committed) goes back, the others are deleted.
//! Volume data is never deleted by a create: a directory without a record (a crash between
//! mkdir and commit, or a record lost with the database) is adopted, data and all, as
//! Docker's local driver adopts the directories it finds.

mod containers;
pub mod copy_up;
mod db;
mod filter;
pub mod name;

pub use containers::ContainerBrief;
pub use filter::VolumeFilter;

use crate::spec::Volumes;
use crate::{Error, Result};
use db::db_err;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The label Docker 23+ gives anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    /// RFC 3339, seconds.
    pub created: String,
    pub labels: BTreeMap<String, String>,
    pub anonymous: bool,
    /// For an anonymous volume, the container it was made for.
    pub container: Option<String>,
    /// `R/volumes/<name>/_data`.
    pub mountpoint: PathBuf,
    /// IDs of the containers that use it, sorted.
    pub users: Vec<String>,
}

impl Volume {
    /// `docker volume inspect`'s object.
    pub fn inspect_json(&self) -> Value {
        json!({
            "CreatedAt": self.created,
            "Driver": "local",
            "Labels": self.labels,
            "Mountpoint": self.mountpoint,
            "Name": self.name,
            "Options": {},
            "Scope": "local",
        })
    }

    /// Bytes of its regular files.
    pub fn size(&self) -> u64 {
        berth_image::gc::disk_usage(&self.mountpoint)
    }
}

/// What `prune` removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub names: Vec<String>,
    pub bytes: u64,
}

pub struct VolumeStore {
    dir: PathBuf,
    db: std::rc::Rc<Connection>,
    /// Directories moved to the trash by the open transaction, (from, to): deleted after
    /// its commit, moved back if it rolls back.
    moved: std::cell::RefCell<Vec<(PathBuf, PathBuf)>>,
}

fn now_rfc3339() -> String {
    berth_image::timestamp::rfc3339(berth_image::timestamp::now())
}

impl VolumeStore {
    /// Open the volumes of data root `root` (creating `R/volumes` and the tables).
    pub fn open(root: &Path) -> Result<VolumeStore> {
        let dir = root.join("volumes");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let db = db::open(&root.join("berth.db"))?;
        let store = VolumeStore {
            dir,
            db,
            moved: Default::default(),
        };
        store.empty_trash();
        Ok(store)
    }

    fn trash(&self) -> PathBuf {
        self.dir.join(".trash")
    }

    /// Settle what removals left in the trash: put back a directory whose volume is still
    /// recorded and has no directory (a removal killed before its commit), delete the rest.
    /// Under a transaction, so no removal is between its move and its commit meanwhile.
    fn empty_trash(&self) {
        let Ok(rd) = std::fs::read_dir(self.trash()) else {
            return;
        };
        let entries: Vec<_> = rd.flatten().collect();
        if entries.is_empty() {
            return;
        }
        let _ = self.immediate(|_| {
            for e in entries {
                let file = e.file_name().to_string_lossy().into_owned();
                // `<name>.<12 hex>`, as `to_trash` names them.
                let name = file.rsplit_once('.').map_or(file.as_str(), |(n, _)| n);
                let home = self.dir.join(name);
                let recorded = matches!(self.row(name), Ok(Some(_)));
                if recorded && std::fs::symlink_metadata(&home).is_err() {
                    let _ = std::fs::rename(e.path(), &home);
                } else {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
            Ok(())
        });
    }

    /// Move `R/volumes/<name>` (if it exists) into the trash, within a transaction.
    fn to_trash(&self, name: &str) -> Result<()> {
        let from = self.dir.join(name);
        if std::fs::symlink_metadata(&from).is_err() {
            return Ok(());
        }
        let trash = self.trash();
        std::fs::create_dir_all(&trash).map_err(|e| Error::io("create", &trash, e))?;
        let to = trash.join(format!("{name}.{}", &crate::names::new_id()?[..12]));
        std::fs::rename(&from, &to).map_err(|e| Error::io("move to trash", &from, e))?;
        self.moved.borrow_mut().push((from, to));
        Ok(())
    }

    /// Run `f` in an IMMEDIATE transaction (one writer at a time across processes). The
    /// directories it moved to the trash are deleted once it commits, and put back if it
    /// does not.
    fn immediate<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.db
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| db_err("begin transaction", e))?;
        self.moved.borrow_mut().clear();
        let done = f(&self.db).and_then(|v| {
            self.db
                .execute_batch("COMMIT")
                .map_err(|e| db_err("commit", e))
                .map(|()| v)
        });
        let moved = std::mem::take(&mut *self.moved.borrow_mut());
        if done.is_ok() {
            for (_, to) in moved {
                let _ = std::fs::remove_dir_all(to);
            }
        } else {
            let _ = self.db.execute_batch("ROLLBACK");
            for (from, to) in moved.into_iter().rev() {
                let _ = std::fs::rename(to, from);
            }
        }
        done
    }

    pub fn mountpoint(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("_data")
    }

    fn users(&self, name: &str) -> Result<Vec<String>> {
        let mut st = self
            .db
            .prepare_cached(
                "SELECT container FROM volume_users WHERE volume = ?1 ORDER BY container",
            )
            .map_err(|e| db_err("read volume users", e))?;
        let rows = st
            .query_map([name], |r| r.get(0))
            .map_err(|e| db_err("read volume users", e))?;
        rows.collect::<rusqlite::Result<Vec<String>>>()
            .map_err(|e| db_err("read volume users", e))
    }

    fn row(&self, name: &str) -> Result<Option<Volume>> {
        let row = self
            .db
            .query_row(
                "SELECT name, created, labels, anonymous, container FROM volumes WHERE name = ?1",
                [name],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| db_err("read volume", e))?;
        let Some((name, created, labels, anonymous, container)) = row else {
            return Ok(None);
        };
        Ok(Some(Volume {
            mountpoint: self.mountpoint(&name),
            users: self.users(&name)?,
            labels: serde_json::from_str(&labels).unwrap_or_default(),
            name,
            created,
            anonymous: anonymous != 0,
            container,
        }))
    }

    /// Make the volume unless it exists (inside a transaction). Returns it and whether it is
    /// new.
    fn ensure(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        anonymous_for: Option<&str>,
    ) -> Result<(Volume, bool)> {
        if let Some(v) = self.row(name)? {
            let data = self.mountpoint(name);
            std::fs::create_dir_all(&data).map_err(|e| Error::io("create", &data, e))?;
            return Ok((v, false));
        }
        // A directory with no record (a crash before the commit, a lost record) keeps its
        // data: it becomes this volume's.
        let existed = std::fs::symlink_metadata(self.dir.join(name)).is_ok();
        let data = self.mountpoint(name);
        std::fs::create_dir_all(&data).map_err(|e| Error::io("create", &data, e))?;
        let mut labels = labels.clone();
        if anonymous_for.is_some() {
            labels.insert(ANONYMOUS_LABEL.into(), String::new());
        }
        let created = now_rfc3339();
        let inserted = self.db.execute(
            "INSERT INTO volumes(name, created, labels, anonymous, container) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name,
                created,
                serde_json::to_string(&labels).unwrap_or_else(|_| "{}".into()),
                anonymous_for.is_some() as i64,
                anonymous_for
            ],
        );
        if let Err(e) = inserted {
            if !existed {
                let _ = std::fs::remove_dir_all(self.dir.join(name));
            }
            return Err(db_err("record volume", e));
        }
        Ok((
            Volume {
                name: name.into(),
                created,
                labels,
                anonymous: anonymous_for.is_some(),
                container: anonymous_for.map(String::from),
                mountpoint: data,
                users: Vec::new(),
            },
            true,
        ))
    }

    /// `volume create [NAME]`: idempotent, as Docker's (an existing volume is returned as it
    /// is). Without a name, a random 64-hex one.
    pub fn create(&self, name: Option<&str>, labels: &BTreeMap<String, String>) -> Result<Volume> {
        let name = match name {
            Some(n) => {
                name::validate(n)?;
                n.to_string()
            }
            None => crate::names::new_id()?,
        };
        let v = self.immediate(|_| self.ensure(&name, labels, None).map(|(v, _)| v))?;
        crate::events::volume_event(&self.dir, "create", &name);
        Ok(v)
    }

    /// The volume called `name`.
    pub fn get(&self, name: &str) -> Result<Volume> {
        self.row(name)?.ok_or_else(|| Error::NotFound {
            kind: "volume",
            name: name.into(),
        })
    }

    /// Every volume that `filter` lets through, by name.
    pub fn list(&self, filter: &VolumeFilter) -> Result<Vec<Volume>> {
        let names: Vec<String> = {
            let mut st = self
                .db
                .prepare("SELECT name FROM volumes ORDER BY name")
                .map_err(|e| db_err("list volumes", e))?;
            let rows = st
                .query_map([], |r| r.get(0))
                .map_err(|e| db_err("list volumes", e))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(|e| db_err("list volumes", e))?
        };
        let mut out = Vec::new();
        for n in names {
            if let Some(v) = self.row(&n)? {
                if filter.matches(&v) {
                    out.push(v);
                }
            }
        }
        Ok(out)
    }

    /// Forget uses by containers whose row is gone (a `rm` that crashed before
    /// [`release`](Self::release)). Only once the engine's `containers` table exists: before
    /// that, no container can be checked.
    fn forget_gone_containers(&self) -> Result<()> {
        if containers::table_exists(&self.db, "containers")? {
            self.db
                .execute(
                    "DELETE FROM volume_users WHERE container NOT IN (SELECT id FROM containers)",
                    [],
                )
                .map_err(|e| db_err("forget removed containers", e))?;
        }
        Ok(())
    }

    /// Remove inside a transaction (the data goes with its commit).
    fn remove_in_tx(&self, name: &str, force: bool) -> Result<()> {
        if self.row(name)?.is_none() {
            if force {
                return Ok(());
            }
            return Err(Error::NotFound {
                kind: "volume",
                name: name.into(),
            });
        }
        let users = self.users(name)?;
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                users.join(", ")
            )));
        }
        self.db
            .execute("DELETE FROM volumes WHERE name = ?1", [name])
            .map_err(|e| db_err("remove volume", e))?;
        self.to_trash(name)
    }

    /// `volume rm [-f]`: refused while a container uses the volume (also with `-f`, as
    /// Docker 1.13+); `-f` makes a missing volume no error.
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        self.forget_gone_containers()?;
        self.immediate(|_| self.remove_in_tx(name, force))?;
        crate::events::volume_event(&self.dir, "destroy", name);
        Ok(())
    }

    /// `volume prune`: volumes no container uses; only anonymous ones unless `all` (Docker
    /// 23+).
    pub fn prune(&self, all: bool) -> Result<Pruned> {
        self.prune_matching(all, &VolumeFilter::default())
    }

    /// [`prune`](Self::prune) of the volumes `filter` lets through (`volume prune --filter
    /// label=...`).
    pub fn prune_matching(&self, all: bool, filter: &VolumeFilter) -> Result<Pruned> {
        self.forget_gone_containers()?;
        let mut out = Pruned::default();
        for v in self.list(filter)? {
            if !v.users.is_empty() || !(all || v.anonymous) {
                continue;
            }
            let size = v.size();
            // A container may have started using it since the list: then it stays.
            match self.immediate(|_| self.remove_in_tx(&v.name, true)) {
                Ok(()) => {
                    crate::events::volume_event(&self.dir, "destroy", &v.name);
                    out.names.push(v.name);
                    out.bytes += size;
                }
                Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The volume source for container `id`'s spec: records each use, and copies the
    /// image's content into new empty volumes when given the container's root with
    /// [`ContainerVolumes::copy_up_from`].
    pub fn for_container(&self, id: &str) -> ContainerVolumes<'_> {
        ContainerVolumes {
            store: self,
            id: id.into(),
            rootfs: None,
            owner: None,
        }
    }

    /// Container `id` no longer uses its volumes (`rm`); with `remove_anonymous` (`rm -v`)
    /// its anonymous volumes that no other container uses are removed too. Returns the names
    /// removed.
    pub fn release(&self, id: &str, remove_anonymous: bool) -> Result<Vec<String>> {
        self.immediate(|db| {
            let used: Vec<String> = {
                let mut st = db
                    .prepare("SELECT volume FROM volume_users WHERE container = ?1")
                    .map_err(|e| db_err("read volume users", e))?;
                let rows = st
                    .query_map([id], |r| r.get(0))
                    .map_err(|e| db_err("read volume users", e))?;
                rows.collect::<rusqlite::Result<_>>()
                    .map_err(|e| db_err("read volume users", e))?
            };
            db.execute("DELETE FROM volume_users WHERE container = ?1", [id])
                .map_err(|e| db_err("release volumes", e))?;
            let mut removed = Vec::new();
            if remove_anonymous {
                for name in used {
                    let anonymous = self.row(&name)?.is_some_and(|v| v.anonymous);
                    if anonymous && self.users(&name)?.is_empty() {
                        self.remove_in_tx(&name, true)?;
                        removed.push(name);
                    }
                }
            }
            Ok(removed)
        })
    }

    /// The containers of the engine's `containers` table (none if it does not exist yet).
    pub fn containers(&self) -> Result<Vec<ContainerBrief>> {
        containers::list(&self.db)
    }

    fn use_volume(&self, name: Option<&str>, container: &str) -> Result<(Volume, bool)> {
        let (name, anonymous_for) = match name {
            Some(n) => {
                name::validate(n)?;
                (n.to_string(), None)
            }
            None => (crate::names::new_id()?, Some(container)),
        };
        self.immediate(|db| {
            let made = self.ensure(&name, &BTreeMap::new(), anonymous_for)?;
            db.execute(
                "INSERT OR IGNORE INTO volume_users(volume, container) VALUES (?1, ?2)",
                [name.as_str(), container],
            )
            .map_err(|e| db_err("record volume use", e))?;
            Ok(made)
        })
    }
}

/// [`Volumes`] for one container: see [`VolumeStore::for_container`].
pub struct ContainerVolumes<'a> {
    store: &'a VolumeStore,
    id: String,
    rootfs: Option<PathBuf>,
    /// The host uid (and gid) of container root, for a private user namespace.
    owner: Option<u32>,
}

impl ContainerVolumes<'_> {
    /// Copy the image's content at each mount target into empty volumes, from the
    /// container's root as mounted on the host.
    pub fn copy_up_from(mut self, rootfs: &Path) -> Self {
        self.rootfs = Some(rootfs.to_path_buf());
        self
    }

    /// For a container in a private user namespace whose root is host uid/gid `host_id`:
    /// an empty volume that gets no image content is given to that id, as Docker's
    /// userns-remap does, so container root can write it (otherwise it is host root's, which
    /// the container sees as the overflow id). Binds are never chowned: their owner is the
    /// user's business.
    pub fn owned_by(mut self, host_id: Option<u32>) -> Self {
        self.owner = host_id;
        self
    }
}

/// Give the empty directory `data` to `id`:`id` (a non-empty one keeps its owner: its files
/// were made by someone, and chowning them all is a choice for the user).
fn give_if_empty(data: &Path, id: u32) -> Result<()> {
    let empty = std::fs::read_dir(data)
        .map_err(|e| Error::io("read volume", data, e))?
        .next()
        .is_none();
    if empty {
        std::os::unix::fs::chown(data, Some(id), Some(id))
            .map_err(|e| Error::io("chown", data, e))?;
    }
    Ok(())
}

impl Volumes for ContainerVolumes<'_> {
    fn source(&mut self, name: Option<&str>, target: &str) -> Result<PathBuf> {
        let (v, _new) = self.store.use_volume(name, &self.id)?;
        let copied = match &self.rootfs {
            Some(root) => copy_up::copy_up(root, target, &v.mountpoint)?,
            None => false,
        };
        // Copied content keeps the owners it has in the (id-shifted) container root.
        if let (Some(id), false) = (self.owner, copied) {
            give_if_empty(&v.mountpoint, id)?;
        }
        Ok(v.mountpoint)
    }
}

/// Where the volume `name` of the data root `root` keeps its data (as
/// [`VolumeStore::mountpoint`], without opening the store).
pub fn mountpoint_in(root: &std::path::Path, name: &str) -> PathBuf {
    root.join("volumes").join(name).join("_data")
}
