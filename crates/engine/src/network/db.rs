//! The network tables in `R/berth.db` (component `network` in `berth_schema`):
//! `networks` (one row per network, the default `bridge` made on first use) and
//! `attachments` (a container on a network: asked for at create or `network connect`, with
//! its aliases and wished-for address; `ip`/`mac` are its lease, held while it runs).

use crate::db::db_err;
use crate::Result;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::path::Path;

const VERSION: i64 = 1;

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS networks (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    driver   TEXT NOT NULL,
    bridge   TEXT NOT NULL UNIQUE,
    subnet   TEXT NOT NULL,
    gateway  TEXT NOT NULL,
    internal INTEGER NOT NULL,
    labels   TEXT NOT NULL,
    created  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    container TEXT NOT NULL,
    network   TEXT NOT NULL,
    aliases   TEXT NOT NULL,
    want_ip   TEXT NULL,
    ip        TEXT NULL,
    mac       TEXT NULL,
    PRIMARY KEY (container, network)
);
CREATE UNIQUE INDEX IF NOT EXISTS attachments_ip ON attachments(network, ip) WHERE ip IS NOT NULL;
CREATE INDEX IF NOT EXISTS attachments_by_network ON attachments(network);
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRow {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub bridge: String,
    pub subnet: String,
    pub gateway: String,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub container: String,
    pub network: String,
    pub aliases: Vec<String>,
    pub want_ip: Option<String>,
    pub ip: Option<String>,
    pub mac: Option<String>,
}

pub struct NetDb {
    pub(crate) db: std::rc::Rc<Connection>,
}

fn network_row(r: &rusqlite::Row) -> rusqlite::Result<NetworkRow> {
    let labels: String = r.get(7)?;
    Ok(NetworkRow {
        id: r.get(0)?,
        name: r.get(1)?,
        driver: r.get(2)?,
        bridge: r.get(3)?,
        subnet: r.get(4)?,
        gateway: r.get(5)?,
        internal: r.get::<_, i64>(6)? != 0,
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        created: r.get(8)?,
    })
}

fn attachment_row(r: &rusqlite::Row) -> rusqlite::Result<Attachment> {
    let aliases: String = r.get(2)?;
    Ok(Attachment {
        container: r.get(0)?,
        network: r.get(1)?,
        aliases: serde_json::from_str(&aliases).unwrap_or_default(),
        want_ip: r.get(3)?,
        ip: r.get(4)?,
        mac: r.get(5)?,
    })
}

const NET_COLS: &str = "id, name, driver, bridge, subnet, gateway, internal, labels, created";
const ATT_COLS: &str = "container, network, aliases, want_ip, ip, mac";

impl NetDb {
    pub fn open(root: &Path) -> Result<NetDb> {
        let db = crate::db::open(&root.join("berth.db"))?;
        migrate(&db)?;
        Ok(NetDb { db })
    }

    pub fn networks(&self) -> Result<Vec<NetworkRow>> {
        let mut st = self
            .db
            .prepare(&format!("SELECT {NET_COLS} FROM networks ORDER BY created"))
            .map_err(|e| db_err("list networks", e))?;
        let rows = st
            .query_map([], network_row)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_err("list networks", e))?;
        Ok(rows)
    }

    pub fn network_by_id(&self, id: &str) -> Result<Option<NetworkRow>> {
        self.db
            .query_row(
                &format!("SELECT {NET_COLS} FROM networks WHERE id = ?1"),
                [id],
                network_row,
            )
            .optional()
            .map_err(|e| db_err("read network", e))
    }

    /// Insert; `Conflict` when the name is taken.
    pub fn insert_network(&self, n: &NetworkRow) -> Result<()> {
        let labels = serde_json::to_string(&n.labels).unwrap_or_else(|_| "{}".into());
        match self.db.execute(
            &format!("INSERT INTO networks({NET_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
            params![
                n.id,
                n.name,
                n.driver,
                n.bridge,
                n.subnet,
                n.gateway,
                n.internal as i64,
                labels,
                n.created
            ],
        ) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(crate::Error::Conflict(format!(
                    "network with name {} already exists",
                    n.name
                )))
            }
            Err(e) => Err(db_err("insert network", e)),
        }
    }

    pub fn delete_network(&self, id: &str) -> Result<()> {
        self.db
            .execute("DELETE FROM networks WHERE id = ?1", [id])
            .map_err(|e| db_err("delete network", e))?;
        Ok(())
    }

    pub fn attachments_of(&self, container: &str) -> Result<Vec<Attachment>> {
        self.query_attachments("container = ?1", container)
    }

    pub fn attachments_on(&self, network: &str) -> Result<Vec<Attachment>> {
        self.query_attachments("network = ?1", network)
    }

    fn query_attachments(&self, cond: &str, arg: &str) -> Result<Vec<Attachment>> {
        let mut st = self
            .db
            .prepare(&format!(
                "SELECT {ATT_COLS} FROM attachments WHERE {cond} ORDER BY rowid"
            ))
            .map_err(|e| db_err("list attachments", e))?;
        let rows = st
            .query_map([arg], attachment_row)
            .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_err("list attachments", e))?;
        Ok(rows)
    }

    /// Attach (no lease yet); `Conflict` if it already is.
    pub fn attach(&self, a: &Attachment) -> Result<()> {
        let aliases = serde_json::to_string(&a.aliases).unwrap_or_else(|_| "[]".into());
        match self.db.execute(
            &format!("INSERT INTO attachments({ATT_COLS}) VALUES (?1,?2,?3,?4,NULL,NULL)"),
            params![a.container, a.network, aliases, a.want_ip],
        ) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(crate::Error::Conflict(format!(
                    "endpoint with name {} already exists in network",
                    a.container
                )))
            }
            Err(e) => Err(db_err("attach", e)),
        }
    }

    pub fn detach(&self, container: &str, network: &str) -> Result<()> {
        self.db
            .execute(
                "DELETE FROM attachments WHERE container = ?1 AND network = ?2",
                [container, network],
            )
            .map_err(|e| db_err("detach", e))?;
        Ok(())
    }

    pub fn detach_all(&self, container: &str) -> Result<()> {
        self.db
            .execute("DELETE FROM attachments WHERE container = ?1", [container])
            .map_err(|e| db_err("detach", e))?;
        Ok(())
    }

    /// Record the lease; `Conflict` when another container holds that address.
    pub fn set_lease(&self, container: &str, network: &str, ip: &str, mac: &str) -> Result<()> {
        match self.db.execute(
            "UPDATE attachments SET ip = ?3, mac = ?4 WHERE container = ?1 AND network = ?2",
            params![container, network, ip, mac],
        ) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(crate::Error::Conflict(format!(
                    "Address already in use: {ip} is taken on this network"
                )))
            }
            Err(e) => Err(db_err("lease address", e)),
        }
    }

    pub fn release_leases(&self, container: &str) -> Result<()> {
        self.db
            .execute(
                "UPDATE attachments SET ip = NULL, mac = NULL WHERE container = ?1",
                [container],
            )
            .map_err(|e| db_err("release addresses", e))?;
        Ok(())
    }

    /// `BEGIN IMMEDIATE`: leases are chosen and written under the write lock, so two
    /// containers starting at once never pick one address.
    pub fn immediate<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.db
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| db_err("begin", e))?;
        let r = f();
        let end = if r.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.db.execute_batch(end).map_err(|e| db_err(end, e));
        let v = r?;
        ended?;
        Ok(v)
    }
}

fn migrate(db: &Connection) -> Result<()> {
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS berth_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    )
    .map_err(|e| db_err("create berth_schema", e))?;
    let v: i64 = db
        .query_row(
            "SELECT version FROM berth_schema WHERE component = 'network'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| db_err("read network schema version", e))?
        .unwrap_or(0);
    if v >= VERSION {
        return Ok(());
    }
    db.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| db_err("migrate network tables", e))?;
    let done = (|| -> rusqlite::Result<()> {
        db.execute_batch(SCHEMA_V1)?;
        db.execute(
            "INSERT OR REPLACE INTO berth_schema(component, version) VALUES ('network', ?1)",
            [VERSION],
        )?;
        Ok(())
    })();
    let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = db.execute_batch(end);
    done.and(ended)
        .map_err(|e| db_err("migrate network tables", e))
}
