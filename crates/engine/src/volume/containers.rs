//! The few facts about containers that volume and system commands need (`system df`,
//! `info`, stale volume users), read from the engine core's `containers` table without
//! depending on its code: the table may not exist yet (no container was ever made), which
//! reads as no containers.

use super::db::db_err;
use crate::Result;
use rusqlite::Connection;

/// One row of the `containers` table, as far as these commands care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerBrief {
    pub id: String,
    /// The image ID (config digest) it was made from.
    pub image_id: String,
    /// `created|running|paused|restarting|exited|dead|removing`.
    pub state: String,
}

impl ContainerBrief {
    /// Running, paused or restarting: what `docker system df` counts as active.
    pub fn active(&self) -> bool {
        matches!(self.state.as_str(), "running" | "paused" | "restarting")
    }
}

pub(crate) fn table_exists(db: &Connection, table: &str) -> Result<bool> {
    db.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| db_err("read schema", e))
}

pub(crate) fn list(db: &Connection) -> Result<Vec<ContainerBrief>> {
    if !table_exists(db, "containers")? {
        return Ok(Vec::new());
    }
    let mut st = db
        .prepare("SELECT id, COALESCE(image_id, ''), COALESCE(state, '') FROM containers")
        .map_err(|e| db_err("read containers", e))?;
    let rows = st
        .query_map([], |r| {
            Ok(ContainerBrief {
                id: r.get(0)?,
                image_id: r.get(1)?,
                state: r.get(2)?,
            })
        })
        .map_err(|e| db_err("read containers", e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| db_err("read containers", e))
}
