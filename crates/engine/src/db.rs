//! The engine's connection to `R/berth.db`, opened as berth-image's metadata opens it
//! ([`berth_image::sqlite`]). Each table set (containers, volumes) migrates itself and
//! records its version in `berth_schema`.

use crate::{Error, Result};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

pub(crate) fn db_err(what: &str, e: rusqlite::Error) -> Error {
    Error::Db(format!("{what}: {e}"))
}

/// Open (creating) the database and its directory.
pub(crate) fn open(path: &Path) -> Result<std::rc::Rc<Connection>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    berth_image::sqlite::open_shared(path, Duration::from_secs(30))
        .map_err(|e| Error::Image(e.into()))
}
