//! The engine's connection to `R/berth.db` (shared with berth-image's metadata): WAL, a busy
//! timeout, `synchronous=NORMAL`. Each table set (containers, volumes) migrates itself and
//! records its version in `berth_schema`.

use crate::{Error, Result};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

pub(crate) fn db_err(what: &str, e: rusqlite::Error) -> Error {
    Error::Db(format!("{what}: {e}"))
}

/// Open (creating) the database in WAL mode.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    let db = Connection::open(path).map_err(|e| db_err(&format!("open {}", path.display()), e))?;
    db.busy_timeout(Duration::from_secs(30))
        .map_err(|e| db_err("busy timeout", e))?;
    // Two connections switching a new database to WAL at once both get BUSY without
    // waiting: try again, as berth-image's metadata does.
    let mut tries = 0;
    loop {
        match db.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => break,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy && tries < 300 =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(db_err("enable WAL", e)),
        }
    }
    // In WAL mode NORMAL syncs at checkpoints only, not at each commit: a killed process
    // loses nothing (the WAL is in the page cache) and the database stays consistent
    // across a power loss, where only the commits of its last moments may be rolled back
    // (a container dir may then outlive its row). One fsync less per commit.
    db.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| db_err("synchronous", e))?;
    Ok(db)
}
