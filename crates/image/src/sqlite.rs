//! The one way to open `R/berth.db`, the SQLite database the image metadata and the engine's
//! tables share, so that every connection of every process agrees on its journal settings.
//!
//! - WAL with a busy timeout: readers never block the writer, concurrent writers queue up.
//! - `synchronous=NORMAL`: in WAL mode commits are not fsynced, checkpoints are. A killed
//!   process loses nothing (the WAL is in the page cache); a power loss may roll back only
//!   the commits of its last moments, never corrupt the database.
//! - No checkpoint when a connection closes (which also keeps the WAL file): every berth
//!   command is a short process whose connection is usually the last one, and SQLite's
//!   default would checkpoint (two fsyncs) and delete the WAL at every command, to recreate
//!   it at the next. The automatic checkpoint (every 64 pages) still bounds the WAL.
//!   Opening rebuilds the WAL's index from the frames written since the last checkpoint
//!   (0.3-0.4 ms with 60 frames here). Emptying the WAL after each `rm` was tried and
//!   undone: the open got 0.1 ms faster, but the next write extends the emptied file, 0.36
//!   ms slower.
//! - One connection per database per thread ([`open_shared`]): the image metadata, the
//!   containers, volumes and networks each open the database, and each open costs a WAL
//!   recovery read; a `berth run` needed four.

use rusqlite::config::DbConfig;
use rusqlite::Connection;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::time::Duration;

thread_local! {
    /// The connections this thread has open, by path, while someone holds them.
    static SHARED: RefCell<Vec<(PathBuf, Weak<Connection>)>> = const { RefCell::new(Vec::new()) };
}

/// [`open`], or the connection to `path` this thread already has open. Its holders share
/// the connection's state: none may leave a transaction open across calls into another.
pub fn open_shared(
    path: &Path,
    busy: Duration,
) -> Result<Rc<Connection>, (&'static str, rusqlite::Error)> {
    let found = SHARED.with(|s| {
        let mut s = s.borrow_mut();
        s.retain(|(_, w)| w.strong_count() > 0);
        s.iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, w)| w.upgrade())
    });
    if let Some(db) = found {
        return Ok(db);
    }
    let db = Rc::new(open(path, busy)?);
    SHARED.with(|s| {
        s.borrow_mut()
            .push((path.to_path_buf(), Rc::downgrade(&db)))
    });
    Ok(db)
}

/// Open (creating) the database at `path` (its directory must exist); an error says which
/// step failed.
pub fn open(path: &Path, busy: Duration) -> Result<Connection, (&'static str, rusqlite::Error)> {
    let db = Connection::open(path).map_err(|e| ("open", e))?;
    // The timeout first: switching a new database to WAL takes a lock that a second process
    // opening it at the same moment must wait for.
    db.busy_timeout(busy).map_err(|e| ("busy timeout", e))?;
    // Two connections switching a new database to WAL at once both get BUSY without
    // waiting (each holds the lock the other needs): try again.
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
            Err(e) => return Err(("enable WAL", e)),
        }
    }
    db.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| ("synchronous", e))?;
    db.pragma_update(None, "wal_autocheckpoint", 64)
        .map_err(|e| ("wal_autocheckpoint", e))?;
    db.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(|e| ("no checkpoint on close", e))?;
    Ok(db)
}
