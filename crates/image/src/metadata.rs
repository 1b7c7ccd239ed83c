//! Image metadata in one embedded SQLite database (WAL), which the engine will share:
//! images by ID (the config digest, as Docker), named or not (an image with no name is
//! *dangling*), names (repository:tag -> image, with the time they were set), repository
//! digests (`repo@sha256:<manifest>`, recorded by pulls), and the manifest -> config ->
//! layer chain records. Blobs and snapshots stay on the filesystem; this file only says who
//! refers to them.
//!
//! Schema versions (`PRAGMA user_version`): 0 had only `images` (names); 1 adds
//! `stored_images` and `repo_digests`, filled from the names on first open.

use crate::digest::Digest;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

pub struct Metadata {
    db: std::rc::Rc<Connection>,
}

/// One named image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// Full reference name, e.g. `docker.io/library/busybox:latest`.
    pub name: String,
    pub manifest: Digest,
    pub config: Digest,
    /// Chain IDs, bottom first.
    pub chain: Vec<Digest>,
    pub created: i64,
}

fn db_err(what: &str, e: rusqlite::Error) -> Error {
    Error::Metadata(format!("{what}: {e}"))
}

fn parse_digest(s: String) -> rusqlite::Result<Digest> {
    s.parse().map_err(|e: Error| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::new(std::io::Error::other(e.to_string())),
        )
    })
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS images (
    name     TEXT PRIMARY KEY,
    manifest TEXT NOT NULL,
    config   TEXT NOT NULL,
    chain    TEXT NOT NULL,   -- chain IDs, bottom first, space separated
    created  INTEGER NOT NULL -- when the name was set
);
CREATE INDEX IF NOT EXISTS images_by_manifest ON images(manifest);
";

/// Version 1: every image by ID, named or not, and the repository digests of pulled images.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS stored_images (
    id       TEXT PRIMARY KEY, -- config digest
    manifest TEXT NOT NULL,
    chain    TEXT NOT NULL,
    added    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS repo_digests (
    name TEXT PRIMARY KEY,     -- repository@sha256:<manifest>
    id   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_config ON images(config);
CREATE INDEX IF NOT EXISTS repo_digests_by_id ON repo_digests(id);
INSERT OR IGNORE INTO stored_images(id, manifest, chain, added)
    SELECT config, manifest, chain, MIN(created) FROM images GROUP BY config;
INSERT OR IGNORE INTO repo_digests(name, id)
    SELECT rtrim(rtrim(name, '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.-'), ':') || '@' || manifest, config
    FROM images WHERE name NOT LIKE '%@%';
PRAGMA user_version = 1;
";

/// An image by ID, with every name that points at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// The image ID: the digest of its config.
    pub id: Digest,
    pub manifest: Digest,
    /// Chain IDs, bottom first.
    pub chain: Vec<Digest>,
    /// When it was first recorded here.
    pub added: i64,
    /// Full names (`docker.io/library/busybox:latest`), sorted.
    pub names: Vec<String>,
    /// `repository@sha256:<manifest>` for images pulled from a registry, sorted.
    pub repo_digests: Vec<String>,
    /// When a name was last set, if it has any.
    pub last_tag: Option<i64>,
}

impl StoredImage {
    pub fn dangling(&self) -> bool {
        self.names.is_empty()
    }
}

/// What removing a name or an image did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removal {
    /// Names and repository digests removed, full form.
    pub untagged: Vec<String>,
    /// The image, when it is gone too (no name was left).
    pub deleted: Option<StoredImage>,
}

/// `docker.io/library/busybox:latest` -> `docker.io/library/busybox` (a digest name keeps
/// everything before `@`).
pub fn repository_of(name: &str) -> &str {
    if let Some((repo, _)) = name.split_once('@') {
        return repo;
    }
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    }
}

impl Metadata {
    /// Open (creating) the database at `path`; several processes may have it open at once.
    pub fn open(path: &Path) -> Result<Metadata> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        let db = crate::sqlite::open_shared(path, std::time::Duration::from_secs(30))?;
        db.execute_batch(SCHEMA)
            .map_err(|e| db_err("create schema", e))?;
        let md = Metadata { db };
        md.migrate()?;
        Ok(md)
    }

    fn migrate(&self) -> Result<()> {
        let version = |db: &Connection| -> Result<i64> {
            db.pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(|e| db_err("read schema version", e))
        };
        if version(&self.db)? >= 1 {
            return Ok(());
        }
        // IMMEDIATE: two processes opening an old database at once migrate it once.
        self.db
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| db_err("migrate schema", e))?;
        let done = if version(&self.db)? >= 1 {
            Ok(())
        } else {
            self.db.execute_batch(SCHEMA_V1)
        };
        let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.db.execute_batch(end);
        done.and(ended)
            .map_err(|e| db_err("migrate schema to version 1", e))
    }

    fn tx(&self) -> Result<rusqlite::Transaction<'_>> {
        self.db
            .unchecked_transaction()
            .map_err(|e| db_err("begin transaction", e))
    }

    /// Record an image pulled from a registry under `name` (replacing what it named before;
    /// that image stays, dangling if it has no other name, as Docker keeps it), with the
    /// repository digest `repository@manifest`.
    pub fn tag(&self, rec: &ImageRecord) -> Result<()> {
        let tx = self.tx()?;
        let chain = join(&rec.chain);
        tx.execute(
            "INSERT INTO images(name, manifest, config, chain, created) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(name) DO UPDATE SET manifest=excluded.manifest, config=excluded.config, chain=excluded.chain, created=excluded.created",
            params![rec.name, rec.manifest.to_string(), rec.config.to_string(), chain, rec.created],
        )
        .map_err(|e| db_err(&format!("tag {}", rec.name), e))?;
        upsert_image(&tx, &rec.config, &rec.manifest, &chain, rec.created)?;
        if !rec.name.contains('@') {
            tx.execute(
                "INSERT OR REPLACE INTO repo_digests(name, id) VALUES (?1, ?2)",
                params![
                    format!("{}@{}", repository_of(&rec.name), rec.manifest),
                    rec.config.to_string()
                ],
            )
            .map_err(|e| db_err(&format!("record digest of {}", rec.name), e))?;
        }
        tx.commit().map_err(|e| db_err("commit", e))
    }

    /// Record an image by ID, without a name (a load or an import; `docker images` shows it
    /// as `<none>` until named).
    pub fn add_image(&self, id: &Digest, manifest: &Digest, chain: &[Digest]) -> Result<()> {
        upsert_image(
            &self.db,
            id,
            manifest,
            &join(chain),
            crate::timestamp::now(),
        )
    }

    /// Point `name` at the recorded image `id` (as `docker tag`; no repository digest).
    pub fn set_name(&self, name: &str, id: &Digest) -> Result<()> {
        let img = self
            .image(id)?
            .ok_or_else(|| Error::Metadata(format!("no image {id} to name {name}")))?;
        self.db
            .execute(
                "INSERT INTO images(name, manifest, config, chain, created) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(name) DO UPDATE SET manifest=excluded.manifest, config=excluded.config, chain=excluded.chain, created=excluded.created",
                params![name, img.manifest.to_string(), id.to_string(), join(&img.chain), crate::timestamp::now()],
            )
            .map_err(|e| db_err(&format!("tag {name}"), e))?;
        Ok(())
    }

    /// Every image by ID (named or dangling), oldest first.
    pub fn images(&self) -> Result<Vec<StoredImage>> {
        let mut st = self
            .db
            .prepare("SELECT id, manifest, chain, added FROM stored_images ORDER BY added, id")
            .map_err(|e| db_err("list images", e))?;
        let rows = st
            .query_map([], row_to_stored)
            .map_err(|e| db_err("list images", e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| db_err("list images", e))?;
        rows.into_iter().map(|i| self.with_names(i)).collect()
    }

    /// The image with ID `id`.
    pub fn image(&self, id: &Digest) -> Result<Option<StoredImage>> {
        let img = self
            .db
            .query_row(
                "SELECT id, manifest, chain, added FROM stored_images WHERE id = ?1",
                params![id.to_string()],
                row_to_stored,
            )
            .optional()
            .map_err(|e| db_err(&format!("look up {id}"), e))?;
        img.map(|i| self.with_names(i)).transpose()
    }

    /// IDs starting with `prefix` (hex, with or without `sha256:`).
    pub fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<Digest>> {
        let hex = prefix.strip_prefix("sha256:").unwrap_or(prefix);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Vec::new());
        }
        let mut st = self
            .db
            .prepare("SELECT id FROM stored_images WHERE substr(id, 1, ?1) = ?2")
            .map_err(|e| db_err("find image id", e))?;
        let pat = format!("sha256:{}", hex.to_ascii_lowercase());
        let rows = st
            .query_map(params![pat.len() as i64, pat], |r| parse_digest(r.get(0)?))
            .map_err(|e| db_err("find image id", e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| db_err("find image id", e))
    }

    /// The image a repository digest (`repo@sha256:...`) names.
    pub fn by_repo_digest(&self, name: &str) -> Result<Option<Digest>> {
        self.db
            .query_row(
                "SELECT id FROM repo_digests WHERE name = ?1",
                params![name],
                |r| parse_digest(r.get(0)?),
            )
            .optional()
            .map_err(|e| db_err(&format!("look up {name}"), e))
    }

    fn with_names(&self, mut img: StoredImage) -> Result<StoredImage> {
        let id = img.id.to_string();
        let mut st = self
            .db
            .prepare("SELECT name, created FROM images WHERE config = ?1 ORDER BY name")
            .map_err(|e| db_err("list names", e))?;
        let names = st
            .query_map(params![id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_err("list names", e))?;
        img.last_tag = names.iter().map(|(_, t)| *t).max();
        img.names = names.into_iter().map(|(n, _)| n).collect();
        let mut st = self
            .db
            .prepare("SELECT name FROM repo_digests WHERE id = ?1 ORDER BY name")
            .map_err(|e| db_err("list digests", e))?;
        img.repo_digests = st
            .query_map(params![id], |r| r.get(0))
            .and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_err("list digests", e))?;
        Ok(img)
    }

    /// Remove one name, as `docker rmi NAME`: the repository's digests go with the
    /// repository's last tag, and the image goes with its last name.
    pub fn remove_name(&self, name: &str) -> Result<Option<Removal>> {
        let Some(rec) = self.get(name)? else {
            return Ok(None);
        };
        let tx = self.tx()?;
        let mut out = Removal::default();
        tx.execute("DELETE FROM images WHERE name = ?1", params![name])
            .map_err(|e| db_err(&format!("untag {name}"), e))?;
        out.untagged.push(name.to_string());
        let id = rec.config.to_string();
        let others: Vec<String> = {
            let mut st = tx
                .prepare("SELECT name FROM images WHERE config = ?1")
                .map_err(|e| db_err("list names", e))?;
            let v = st
                .query_map(params![id], |r| r.get(0))
                .and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_err("list names", e))?;
            v
        };
        let repo = repository_of(name).to_string();
        if !others.iter().any(|o| repository_of(o) == repo) {
            let prefix = format!("{repo}@");
            let mut st = tx
                .prepare("SELECT name FROM repo_digests WHERE id = ?1 AND substr(name, 1, ?2) = ?3")
                .map_err(|e| db_err("list digests", e))?;
            let gone: Vec<String> = st
                .query_map(params![id, prefix.len() as i64, prefix], |r| r.get(0))
                .and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_err("list digests", e))?;
            drop(st);
            for g in gone {
                tx.execute("DELETE FROM repo_digests WHERE name = ?1", params![g])
                    .map_err(|e| db_err(&format!("untag {g}"), e))?;
                out.untagged.push(g);
            }
        }
        tx.commit().map_err(|e| db_err("commit", e))?;
        if others.is_empty() {
            let img = self.image(&rec.config)?;
            self.delete_record(&rec.config)?;
            out.deleted = img;
        }
        Ok(Some(out))
    }

    /// Remove one repository digest; true when it existed.
    pub fn remove_repo_digest(&self, name: &str) -> Result<bool> {
        let n = self
            .db
            .execute("DELETE FROM repo_digests WHERE name = ?1", params![name])
            .map_err(|e| db_err(&format!("untag {name}"), e))?;
        Ok(n > 0)
    }

    /// Remove an image and every name and digest pointing at it.
    pub fn remove_image(&self, id: &Digest) -> Result<Option<Removal>> {
        let Some(img) = self.image(id)? else {
            return Ok(None);
        };
        self.delete_record(id)?;
        let mut untagged = img.names.clone();
        untagged.extend(img.repo_digests.iter().cloned());
        Ok(Some(Removal {
            untagged,
            deleted: Some(img),
        }))
    }

    fn delete_record(&self, id: &Digest) -> Result<()> {
        let tx = self.tx()?;
        let id = id.to_string();
        for sql in [
            "DELETE FROM images WHERE config = ?1",
            "DELETE FROM repo_digests WHERE id = ?1",
            "DELETE FROM stored_images WHERE id = ?1",
        ] {
            tx.execute(sql, params![id])
                .map_err(|e| db_err(&format!("delete image {id}"), e))?;
        }
        tx.commit().map_err(|e| db_err("commit", e))
    }

    pub fn get(&self, name: &str) -> Result<Option<ImageRecord>> {
        self.db
            .query_row(
                "SELECT name, manifest, config, chain, created FROM images WHERE name = ?1",
                params![name],
                row_to_record,
            )
            .optional()
            .map_err(|e| db_err(&format!("look up {name}"), e))
    }

    /// Every named image, by name.
    pub fn list(&self) -> Result<Vec<ImageRecord>> {
        let mut st = self
            .db
            .prepare("SELECT name, manifest, config, chain, created FROM images ORDER BY name")
            .map_err(|e| db_err("list images", e))?;
        let rows = st
            .query_map([], row_to_record)
            .map_err(|e| db_err("list images", e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| db_err("list images", e))
    }

    /// Remove a name (see [`Metadata::remove_name`]); true when it existed.
    pub fn untag(&self, name: &str) -> Result<bool> {
        Ok(self.remove_name(name)?.is_some())
    }

    /// Every chain ID and blob some image (named or dangling) still needs (for garbage
    /// collection).
    pub fn referenced(&self) -> Result<(Vec<Digest>, Vec<Digest>)> {
        let mut chains = Vec::new();
        let mut blobs = Vec::new();
        for r in self.list()? {
            blobs.push(r.manifest);
            blobs.push(r.config);
            chains.extend(r.chain);
        }
        for i in self.images()? {
            blobs.push(i.manifest);
            blobs.push(i.id);
            chains.extend(i.chain);
        }
        chains.sort();
        chains.dedup();
        blobs.sort();
        blobs.dedup();
        Ok((chains, blobs))
    }
}

fn row_to_record(row: &rusqlite::Row) -> rusqlite::Result<ImageRecord> {
    let chain: String = row.get(3)?;
    Ok(ImageRecord {
        name: row.get(0)?,
        manifest: parse_digest(row.get(1)?)?,
        config: parse_digest(row.get(2)?)?,
        chain: chain
            .split_whitespace()
            .map(|s| parse_digest(s.to_string()))
            .collect::<rusqlite::Result<_>>()?,
        created: row.get(4)?,
    })
}

fn join(chain: &[Digest]) -> String {
    chain
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn upsert_image(
    db: &Connection,
    id: &Digest,
    manifest: &Digest,
    chain: &str,
    added: i64,
) -> Result<()> {
    db.execute(
        "INSERT INTO stored_images(id, manifest, chain, added) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET manifest=excluded.manifest, chain=excluded.chain",
        params![id.to_string(), manifest.to_string(), chain, added],
    )
    .map_err(|e| db_err(&format!("record image {id}"), e))?;
    Ok(())
}

fn row_to_stored(row: &rusqlite::Row) -> rusqlite::Result<StoredImage> {
    let chain: String = row.get(2)?;
    Ok(StoredImage {
        id: parse_digest(row.get(0)?)?,
        manifest: parse_digest(row.get(1)?)?,
        chain: chain
            .split_whitespace()
            .map(|s| parse_digest(s.to_string()))
            .collect::<rusqlite::Result<_>>()?,
        added: row.get(3)?,
        names: Vec::new(),
        repo_digests: Vec::new(),
        last_tag: None,
    })
}
