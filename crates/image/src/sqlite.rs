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
//!
//! Never a silent fresh start: a database that is missing, empty or unreadable while its
//! data root holds containers, volumes, image content or snapshots is an [`OpenError`] that
//! says how to recover, since a new empty database would forget all of them (and a volume
//! made again by name would have lost its record). A new database is made under a temporary
//! name and linked into place whole, so no process ever sees a half-made one.
//!
//! A full disk: SQLite needs a little room to open a WAL database (the 32 KiB `-shm` index
//! when it is missing) and to write (WAL frames). The data root keeps [`RESERVE`], a few MiB
//! of zeros, while the disk has room; when free space runs short, opening deletes it, so
//! that `ps`, `inspect`, `logs` and `rm` (which frees space) still work, and it is made
//! again once the disk has room. If opening fails for want of space all the same, the
//! database is opened in exclusive locking mode, whose WAL index lives in memory: reading
//! works, other processes wait for this one.

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::time::Duration;

/// The file in the data root that keeps room for the database on a full disk.
pub const RESERVE: &str = "space-reserve";
const RESERVE_BYTES: u64 = 2 << 20;
/// Below this much free space the reserve is given back; above it made again.
const RELEASE_BELOW: u64 = RESERVE_BYTES;
const REMAKE_ABOVE: u64 = 8 * RESERVE_BYTES;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Missing or empty while the data root holds data that only it describes.
    #[error(
        "the state database {} is {problem}, but the data root {} holds {holds}: refusing \
         to start afresh, which would forget them. Restore berth.db (with berth.db-wal \
         beside it) from a backup, or move {} aside to start with an empty data root",
        path.display(), root.display(), root.display()
    )]
    Lost {
        path: PathBuf,
        root: PathBuf,
        /// `missing` or `empty`.
        problem: &'static str,
        /// What the data root holds, e.g. `containers, volumes`.
        holds: String,
    },
    /// Not a database, corrupt, or not readable by this process.
    #[error(
        "the state database {} cannot be used ({source}). Restore it (with berth.db-wal \
         beside it) from a backup, or move the data root {} aside to start with an empty one",
        path.display(), root.display()
    )]
    Unreadable {
        path: PathBuf,
        root: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{what} {}: {source}", path.display())]
    Sqlite {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

thread_local! {
    /// The connections this thread has open, by path, while someone holds them.
    static SHARED: RefCell<Vec<(PathBuf, Weak<Connection>)>> = const { RefCell::new(Vec::new()) };
}

/// [`open`], or the connection to `path` this thread already has open. Its holders share
/// the connection's state: none may leave a transaction open across calls into another.
pub fn open_shared(path: &Path, busy: Duration) -> Result<Rc<Connection>, OpenError> {
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

/// Open the database at `path` (its directory must exist), making it if it is missing and
/// its directory (the data root) holds nothing it would describe.
pub fn open(path: &Path, busy: Duration) -> Result<Connection, OpenError> {
    let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    ensure_present(path, &root)?;
    let low_on_space = free_bytes(&root).is_some_and(|f| f < RELEASE_BELOW);
    if low_on_space {
        release_reserve(&root);
    }
    let db = match open_wal(path, busy, false) {
        Ok(db) => db,
        Err(e) if is_short_of_space(&e) => {
            release_reserve(&root);
            match open_wal(path, busy, false) {
                Ok(db) => db,
                Err(e) if is_short_of_space(&e) => open_wal(path, busy, true)?,
                Err(e) => return Err(classify(e, path, &root)),
            }
        }
        Err(e) => return Err(classify(e, path, &root)),
    };
    if !low_on_space {
        keep_reserve(&root);
    }
    Ok(db)
}

fn sqlite<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(rusqlite::Error) -> OpenError + 'a {
    move |source| OpenError::Sqlite {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Open with Berth's settings. `exclusive`: the WAL index in this process's memory instead
/// of the `-shm` file (which cannot be made on a full disk); other processes wait.
fn open_wal(path: &Path, busy: Duration, exclusive: bool) -> Result<Connection, OpenError> {
    // Never created here: [`ensure_present`] made it whole if it was to be made, and a file
    // removed since is an error rather than a new empty database.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let db = Connection::open_with_flags(path, flags).map_err(sqlite("open", path))?;
    // The timeout first: switching a new database to WAL takes a lock that a second process
    // opening it at the same moment must wait for.
    db.busy_timeout(busy)
        .map_err(sqlite("busy timeout", path))?;
    if exclusive {
        db.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(sqlite("exclusive locking", path))?;
    }
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
            Err(e) => return Err(sqlite("enable WAL", path)(e)),
        }
    }
    db.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite("synchronous", path))?;
    db.pragma_update(None, "wal_autocheckpoint", 64)
        .map_err(sqlite("wal_autocheckpoint", path))?;
    db.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(sqlite("no checkpoint on close", path))?;
    Ok(db)
}

fn code_of(e: &OpenError) -> Option<rusqlite::ErrorCode> {
    match e {
        OpenError::Sqlite {
            source: rusqlite::Error::SqliteFailure(f, _),
            ..
        } => Some(f.code),
        _ => None,
    }
}

/// A failure that more free space may cure: SQLite reports a `-shm` it cannot grow as an
/// I/O error.
fn is_short_of_space(e: &OpenError) -> bool {
    matches!(
        code_of(e),
        Some(rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure)
    )
}

/// A file that is not a (sound) database, or that cannot be opened, is named as such.
fn classify(e: OpenError, path: &Path, root: &Path) -> OpenError {
    use rusqlite::ErrorCode::*;
    match (code_of(&e), e) {
        (
            Some(NotADatabase | DatabaseCorrupt | CannotOpen | PermissionDenied),
            OpenError::Sqlite { source, .. },
        ) => OpenError::Unreadable {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            source,
        },
        (_, e) => e,
    }
}

/// Make the database if it is missing (or an empty file) and the data root holds nothing
/// it would describe; else that is [`OpenError::Lost`].
fn ensure_present(path: &Path, root: &Path) -> Result<(), OpenError> {
    let problem = match std::fs::metadata(path) {
        Ok(m) if m.len() > 0 => return Ok(()),
        Ok(_) => "empty",
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing",
        Err(source) => {
            return Err(OpenError::Io {
                what: "stat",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let holds = data_in(root);
    if !holds.is_empty() {
        return Err(OpenError::Lost {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            problem,
            holds: holds.join(", "),
        });
    }
    create_whole(path, problem == "empty")
}

/// What in data root `root` only the database describes: `containers` (their dirs),
/// `volumes`, `images` (blobs in the content store), `layers` (unpacked snapshots).
pub fn data_in(root: &Path) -> Vec<&'static str> {
    let has_entries = |dir: &Path, skip: &[&str]| {
        std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| !skip.iter().any(|s| e.file_name() == *s))
        })
    };
    let blobs = std::fs::read_dir(root.join("content/blobs"))
        .is_ok_and(|rd| rd.flatten().any(|alg| has_entries(&alg.path(), &[])));
    [
        ("containers", has_entries(&root.join("containers"), &[])),
        ("volumes", has_entries(&root.join("volumes"), &[".trash"])),
        ("images", blobs),
        (
            "layers",
            has_entries(&root.join("snapshots/snapshots"), &[]),
        ),
    ]
    .into_iter()
    .filter(|(_, has)| *has)
    .map(|(what, _)| what)
    .collect()
}

/// A new database, in WAL mode, linked into place at `path` only once whole (a process
/// opening it meanwhile finds it missing, never half-made). `replace`: `path` is an empty
/// file to be replaced.
fn create_whole(path: &Path, replace: bool) -> Result<(), OpenError> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".new.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let made = (|| {
        let db = Connection::open(&tmp).map_err(sqlite("create", &tmp))?;
        // Writes the header, WAL mode in it; closing checkpoints and removes the WAL.
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite("enable WAL", &tmp))?;
        db.close().map_err(|(_, e)| sqlite("close", &tmp)(e))?;
        if replace {
            std::fs::rename(&tmp, path)
        } else {
            match std::fs::hard_link(&tmp, path) {
                // Made by another process at the same moment: theirs is as good.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                r => r,
            }
        }
        .map_err(|source| OpenError::Io {
            what: "create",
            path: path.to_path_buf(),
            source,
        })
    })();
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(format!("{}-wal", tmp.display()));
    let _ = std::fs::remove_file(format!("{}-shm", tmp.display()));
    made
}

/// Bytes an unprivileged writer may still use on the filesystem of `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: `c` is a NUL-terminated path and `st` a buffer statvfs fills on success.
    if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    // Both are u64 here but narrower on some targets.
    #[allow(clippy::unnecessary_cast)]
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

fn release_reserve(root: &Path) {
    let _ = std::fs::remove_file(root.join(RESERVE));
}

/// Make the reserve again if it is missing and the disk has room for it.
fn keep_reserve(root: &Path) {
    let p = root.join(RESERVE);
    if p.exists() || !matches!(free_bytes(root), Some(f) if f >= REMAKE_ABOVE) {
        return;
    }
    let Ok(mut f) = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&p)
    else {
        return;
    };
    let zeros = vec![0u8; 64 << 10];
    let mut written = 0;
    while written < RESERVE_BYTES {
        if f.write_all(&zeros).is_err() {
            // Whatever was written still serves as a reserve.
            return;
        }
        written += zeros.len() as u64;
    }
}

/// Without opening it: is the database at `path` there (or rightly absent, in a data root
/// with nothing it would describe) and does it start as an SQLite database does? A command
/// checks this first, so that every command, whichever opens the database, reports a lost
/// one the same way.
pub fn check(path: &Path) -> Result<(), OpenError> {
    let root = path.parent().unwrap_or(Path::new("."));
    let lost = |problem| {
        let holds = data_in(root);
        if holds.is_empty() {
            return Ok(());
        }
        Err(OpenError::Lost {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            problem,
            holds: holds.join(", "),
        })
    };
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return lost("missing"),
        // Opening will say what is wrong.
        Err(_) => return Ok(()),
    };
    let mut head = [0u8; 16];
    let mut got = 0;
    while got < head.len() {
        match std::io::Read::read(&mut f, &mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) => return Ok(()),
        }
    }
    match got {
        0 => lost("empty"),
        16 if &head == b"SQLite format 3\0" => Ok(()),
        _ => Err(OpenError::Unreadable {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
                Some("file is not a database".into()),
            ),
        }),
    }
}
