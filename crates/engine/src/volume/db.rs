//! The engine's volume tables in `R/berth.db` (shared with berth-image, which versions its
//! own tables with `PRAGMA user_version`; the engine keeps its versions in `berth_schema`,
//! one row per component, so neither side can move the other's number).

use crate::Result;
use rusqlite::Connection;
use std::path::Path;

pub(crate) use crate::db::db_err;

/// The version of the volume tables this code writes.
const VOLUMES_VERSION: i64 = 1;

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS volumes (
    name      TEXT PRIMARY KEY,
    created   TEXT NOT NULL,     -- RFC 3339
    labels    TEXT NOT NULL,     -- JSON object
    anonymous INTEGER NOT NULL,
    container TEXT NULL          -- the container an anonymous volume was made for
);
CREATE TABLE IF NOT EXISTS volume_users (
    volume    TEXT NOT NULL,
    container TEXT NOT NULL,
    PRIMARY KEY (volume, container)
);
CREATE INDEX IF NOT EXISTS volume_users_by_container ON volume_users(container);
";

/// Open (creating) the database, in WAL mode with a busy timeout, with the volume tables at
/// the current version.
pub(crate) fn open(path: &Path) -> Result<std::rc::Rc<Connection>> {
    let db = crate::db::open(path)?;
    migrate(&db)?;
    Ok(db)
}

fn version(db: &Connection) -> Result<i64> {
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS berth_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    )
    .map_err(|e| db_err("create berth_schema", e))?;
    let v: Option<i64> = db
        .query_row(
            "SELECT version FROM berth_schema WHERE component = 'volumes'",
            [],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(|e| db_err("read volume schema version", e))?;
    Ok(v.unwrap_or(0))
}

fn migrate(db: &Connection) -> Result<()> {
    if version(db)? >= VOLUMES_VERSION {
        return Ok(());
    }
    // IMMEDIATE: two processes opening a new database at once migrate it once.
    db.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| db_err("migrate volume tables", e))?;
    let done = (|| -> rusqlite::Result<()> {
        let v: i64 = db
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM berth_schema WHERE component = 'volumes'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        if v < 1 {
            db.execute_batch(SCHEMA_V1)?;
        }
        db.execute(
            "INSERT OR REPLACE INTO berth_schema(component, version) VALUES ('volumes', ?1)",
            [VOLUMES_VERSION],
        )?;
        Ok(())
    })();
    let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = db.execute_batch(end);
    done.and(ended)
        .map_err(|e| db_err("migrate volume tables", e))
}
