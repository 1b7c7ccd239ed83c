//! Image metadata in one embedded SQLite database (WAL), which the engine will share:
//! image names (repository:tag -> manifest), the manifest -> config -> layer chain records,
//! and the last-used time GC needs. Blobs and snapshots stay on the filesystem; this file
//! only says who refers to them.

use crate::digest::Digest;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

pub struct Metadata {
    db: Connection,
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
    created  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_manifest ON images(manifest);
";

impl Metadata {
    /// Open (creating) the database at `path`; several processes may have it open at once.
    pub fn open(path: &Path) -> Result<Metadata> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        let db =
            Connection::open(path).map_err(|e| db_err(&format!("open {}", path.display()), e))?;
        // WAL: readers never block the writer; busy_timeout: concurrent writers queue up.
        // The timeout comes first: switching to WAL takes a lock that a second process
        // opening the database at the same moment must wait for.
        db.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| db_err("busy timeout", e))?;
        // SQLite answers BUSY at once, without waiting, when two connections both try to
        // switch a new database to WAL (each holds the lock the other needs): try again.
        let mut tries = 0;
        loop {
            match db.pragma_update(None, "journal_mode", "WAL") {
                Ok(()) => break,
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::DatabaseBusy && tries < 200 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(db_err("enable WAL", e)),
            }
        }
        db.execute_batch(SCHEMA)
            .map_err(|e| db_err("create schema", e))?;
        Ok(Metadata { db })
    }

    /// Point `name` at an image (replacing what it named before, as `docker tag` does).
    pub fn tag(&self, rec: &ImageRecord) -> Result<()> {
        let chain: Vec<String> = rec.chain.iter().map(|d| d.to_string()).collect();
        self.db
            .execute(
                "INSERT INTO images(name, manifest, config, chain, created) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(name) DO UPDATE SET manifest=excluded.manifest, config=excluded.config, chain=excluded.chain, created=excluded.created",
                params![rec.name, rec.manifest.to_string(), rec.config.to_string(), chain.join(" "), rec.created],
            )
            .map_err(|e| db_err(&format!("tag {}", rec.name), e))?;
        Ok(())
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

    /// Remove a name; true when it existed.
    pub fn untag(&self, name: &str) -> Result<bool> {
        let n = self
            .db
            .execute("DELETE FROM images WHERE name = ?1", params![name])
            .map_err(|e| db_err(&format!("untag {name}"), e))?;
        Ok(n > 0)
    }

    /// Every chain ID and blob some named image still needs (for garbage collection).
    pub fn referenced(&self) -> Result<(Vec<Digest>, Vec<Digest>)> {
        let mut chains = Vec::new();
        let mut blobs = Vec::new();
        for r in self.list()? {
            blobs.push(r.manifest);
            blobs.push(r.config);
            chains.extend(r.chain);
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
