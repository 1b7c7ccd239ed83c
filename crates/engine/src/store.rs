//! The engine's state in `R/berth.db` (shared with berth-image's metadata): the `containers`
//! table, one row per container. WAL and a busy timeout let many berth processes use it at
//! once; the engine's schema version lives in `berth_schema` (berth-image owns
//! `PRAGMA user_version`).

use crate::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// The engine's current schema version in `berth_schema`.
const VERSION: i64 = 2;

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS containers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    image         TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    created       TEXT NOT NULL,
    options       TEXT NOT NULL,
    state         TEXT NOT NULL,
    pid           INTEGER NOT NULL DEFAULT 0,
    monitor_pid   INTEGER NOT NULL DEFAULT 0,
    exit_code     INTEGER NOT NULL DEFAULT 0,
    started_at    TEXT NOT NULL DEFAULT '',
    finished_at   TEXT NOT NULL DEFAULT '',
    restart_count INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT ''
);
";

/// Version 2: the command as `ps` shows it, so a listing need not read every config.json.
const SCHEMA_V2: &str = "ALTER TABLE containers ADD COLUMN command TEXT NOT NULL DEFAULT '';";

/// One container as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    /// The image as the user typed it.
    pub image: String,
    /// The image ID (`sha256:...`, the config digest).
    pub image_id: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// [`crate::options::RunOptions`] as JSON.
    pub options: String,
    pub state: State,
    pub pid: i32,
    pub monitor_pid: i32,
    pub exit_code: i32,
    pub started_at: String,
    pub finished_at: String,
    pub restart_count: i64,
    pub error: String,
    /// Docker's `Command`: Entrypoint + Cmd joined by spaces; empty in rows made before it
    /// was recorded.
    pub command: String,
}

/// A container's life-cycle state, as Docker names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Created,
    Running,
    Paused,
    Restarting,
    Exited,
    Dead,
    Removing,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Running => "running",
            State::Paused => "paused",
            State::Restarting => "restarting",
            State::Exited => "exited",
            State::Dead => "dead",
            State::Removing => "removing",
        }
    }

    pub fn parse(s: &str) -> State {
        match s {
            "created" => State::Created,
            "running" => State::Running,
            "paused" => State::Paused,
            "restarting" => State::Restarting,
            "exited" => State::Exited,
            "removing" => State::Removing,
            _ => State::Dead,
        }
    }

    /// Has a monitor (and, but for restarts, a live init).
    pub fn is_live(self) -> bool {
        matches!(self, State::Running | State::Paused | State::Restarting)
    }
}

pub(crate) use crate::db::db_err;

pub struct Store {
    db: std::rc::Rc<Connection>,
}

const COLUMNS: &str = "id, name, image, image_id, created, options, state, pid, monitor_pid, \
                       exit_code, started_at, finished_at, restart_count, error, command";

fn row_of(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        name: r.get(1)?,
        image: r.get(2)?,
        image_id: r.get(3)?,
        created: r.get(4)?,
        options: r.get(5)?,
        state: State::parse(&r.get::<_, String>(6)?),
        pid: r.get(7)?,
        monitor_pid: r.get(8)?,
        exit_code: r.get(9)?,
        started_at: r.get(10)?,
        finished_at: r.get(11)?,
        restart_count: r.get(12)?,
        error: r.get(13)?,
        command: r.get(14)?,
    })
}

impl Store {
    /// Open (creating) the database and bring the engine's tables to the current version.
    pub fn open(path: &Path) -> Result<Store> {
        let db = crate::db::open(path)?;
        let s = Store { db };
        s.migrate()?;
        Ok(s)
    }

    fn version(&self) -> Result<i64> {
        self.db
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS berth_schema \
                 (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
            )
            .map_err(|e| db_err("create schema table", e))?;
        Ok(self
            .db
            .query_row(
                "SELECT version FROM berth_schema WHERE component = 'engine'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| db_err("read schema version", e))?
            .unwrap_or(0))
    }

    fn migrate(&self) -> Result<()> {
        if self.version()? >= VERSION {
            return Ok(());
        }
        // IMMEDIATE, and the version read again under it: processes opening an old database
        // at once migrate it once (a second ALTER TABLE would fail).
        self.db
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| db_err("migrate", e))?;
        let done = self.migrate_locked();
        let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.db.execute_batch(end).map_err(|e| db_err("migrate", e));
        done.and(ended)
    }

    fn migrate_locked(&self) -> Result<()> {
        let from = self.version()?;
        if from < 1 {
            self.db
                .execute_batch(SCHEMA_V1)
                .map_err(|e| db_err("migrate engine schema", e))?;
        }
        if from < 2 {
            self.db
                .execute_batch(SCHEMA_V2)
                .map_err(|e| db_err("migrate engine schema", e))?;
        }
        self.db
            .execute(
                "INSERT OR REPLACE INTO berth_schema(component, version) VALUES ('engine', ?1)",
                [VERSION],
            )
            .map_err(|e| db_err("migrate engine schema", e))?;
        Ok(())
    }

    /// Add a new container; a taken name is Docker's conflict error.
    pub fn insert(&self, r: &Row) -> Result<()> {
        let res = self.db.execute(
            &format!("INSERT INTO containers({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"),
            params![
                r.id, r.name, r.image, r.image_id, r.created, r.options, r.state.as_str(), r.pid,
                r.monitor_pid, r.exit_code, r.started_at, r.finished_at, r.restart_count, r.error,
                r.command
            ],
        );
        match res {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, ref msg))
                if f.code == rusqlite::ErrorCode::ConstraintViolation
                    && msg.as_deref().is_some_and(|m| m.contains("name")) =>
            {
                Err(self.name_conflict(&r.name))
            }
            Err(e) => Err(db_err("insert container", e)),
        }
    }

    pub fn name_conflict(&self, name: &str) -> Error {
        let holder = self
            .by_name(name)
            .ok()
            .flatten()
            .map(|r| r.id)
            .unwrap_or_default();
        Error::Conflict(format!(
            "Conflict. The container name \"/{name}\" is already in use by container \"{holder}\". \
             You have to remove (or rename) that container to be able to reuse that name."
        ))
    }

    /// Replace every field of the row with this id.
    pub fn update(&self, r: &Row) -> Result<()> {
        let res = self.db.execute(
            "UPDATE containers SET name=?2, image=?3, image_id=?4, created=?5, options=?6, state=?7, \
             pid=?8, monitor_pid=?9, exit_code=?10, started_at=?11, finished_at=?12, \
             restart_count=?13, error=?14 WHERE id=?1",
            params![
                r.id, r.name, r.image, r.image_id, r.created, r.options, r.state.as_str(), r.pid,
                r.monitor_pid, r.exit_code, r.started_at, r.finished_at, r.restart_count, r.error
            ],
        );
        match res {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(self.name_conflict(&r.name))
            }
            Err(e) => Err(db_err("update container", e)),
        }
    }

    pub fn delete(&self, id: &str) -> Result<()> {
        self.db
            .execute("DELETE FROM containers WHERE id = ?1", [id])
            .map_err(|e| db_err("delete container", e))?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<Option<Row>> {
        self.one("id", id)
    }

    pub fn by_name(&self, name: &str) -> Result<Option<Row>> {
        self.one("name", name)
    }

    fn one(&self, col: &str, v: &str) -> Result<Option<Row>> {
        self.db
            .query_row(
                &format!("SELECT {COLUMNS} FROM containers WHERE {col} = ?1"),
                [v],
                row_of,
            )
            .optional()
            .map_err(|e| db_err("read container", e))
    }

    /// IDs starting with `prefix` (hex only, so no LIKE escaping is needed).
    pub fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>> {
        let mut st = self
            .db
            .prepare("SELECT id FROM containers WHERE substr(id, 1, length(?1)) = ?1")
            .map_err(|e| db_err("find containers", e))?;
        let ids = st
            .query_map([prefix], |r| r.get(0))
            .and_then(|it| it.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(|e| db_err("find containers", e))?;
        Ok(ids)
    }

    /// Every container, newest first.
    pub fn list(&self) -> Result<Vec<Row>> {
        let mut st = self
            .db
            .prepare(&format!(
                "SELECT {COLUMNS} FROM containers ORDER BY created DESC, id"
            ))
            .map_err(|e| db_err("list containers", e))?;
        let rows = st
            .query_map([], row_of)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<Row>>>())
            .map_err(|e| db_err("list containers", e))?;
        Ok(rows)
    }

    /// Image IDs that containers are made from (images in use).
    pub fn image_ids(&self) -> Result<Vec<String>> {
        Ok(self.list()?.into_iter().map(|r| r.image_id).collect())
    }
}

impl Store {
    /// Record an exit unless the row changed since it was read (a restart recorded a new start
    /// meanwhile): true when written.
    pub fn record_exit(
        &self,
        r: &Row,
        expected_state: State,
        expected_started: &str,
    ) -> Result<bool> {
        let n = self
            .db
            .execute(
                "UPDATE containers SET state=?2, exit_code=?3, finished_at=?4, error=?5, pid=?6 \
                 WHERE id=?1 AND state=?7 AND started_at=?8",
                params![
                    r.id,
                    r.state.as_str(),
                    r.exit_code,
                    r.finished_at,
                    r.error,
                    r.pid,
                    expected_state.as_str(),
                    expected_started
                ],
            )
            .map_err(|e| db_err("record exit", e))?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, name: &str) -> Row {
        Row {
            id: id.into(),
            name: name.into(),
            image: "bb".into(),
            image_id: "sha256:00".into(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
            options: "{}".into(),
            state: State::Created,
            pid: 0,
            monitor_pid: 0,
            exit_code: 0,
            started_at: String::new(),
            finished_at: String::new(),
            restart_count: 0,
            error: String::new(),
            command: "sh".into(),
        }
    }

    #[test]
    fn schema_is_versioned_in_berth_schema_and_leaves_user_version_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("berth.db");
        // berth-image's metadata owns user_version: whatever it is must survive us.
        let md = berth_image::metadata::Metadata::open(&db).unwrap();
        let uv = |p: &Path| -> i64 {
            Connection::open(p)
                .unwrap()
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap()
        };
        let before = uv(&db);
        let s = Store::open(&db).unwrap();
        drop(md);
        assert_eq!(uv(&db), before);
        assert_eq!(s.version().unwrap(), VERSION);
        s.insert(&row(&"a".repeat(64), "one")).unwrap();
        // A second open (another process) keeps the rows and migrates nothing.
        let s2 = Store::open(&db).unwrap();
        assert_eq!(s2.list().unwrap().len(), 1);
        let e = s2.insert(&row(&"b".repeat(64), "one")).unwrap_err();
        assert!(e.to_string().contains(&"a".repeat(64)), "{e}");
        assert_eq!(s2.ids_with_prefix("aa").unwrap(), vec!["a".repeat(64)]);
    }

    #[test]
    fn a_version_1_database_gains_the_command_column_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("berth.db");
        {
            let c = Connection::open(&db).unwrap();
            c.execute_batch(SCHEMA_V1).unwrap();
            c.execute_batch(
                "CREATE TABLE berth_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
                 INSERT INTO berth_schema VALUES ('engine', 1);",
            )
            .unwrap();
            c.execute(
                "INSERT INTO containers(id, name, image, image_id, created, options, state)
                 VALUES (?1, 'old', 'bb', 'sha256:00', '2026-01-01T00:00:00Z', '{}', 'created')",
                [&"c".repeat(64)],
            )
            .unwrap();
        }
        // Two openers at once: one migrates, the other finds it done.
        let a = std::thread::spawn({
            let db = db.clone();
            move || Store::open(&db).map(drop)
        });
        let s = Store::open(&db).unwrap();
        a.join().unwrap().unwrap();
        assert_eq!(s.version().unwrap(), VERSION);
        let rows = s.list().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].command, "",
            "the old row keeps its place with no command"
        );
        s.insert(&row(&"d".repeat(64), "new")).unwrap();
        assert_eq!(s.get(&"d".repeat(64)).unwrap().unwrap().command, "sh");
    }
}
