//! Keeps the hosts table in step with its file. The engine rewrites the file atomically
//! (a rename), so a change shows as a new inode even within one mtime tick; size and mtime
//! catch an in-place edit by hand.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::hosts::Hosts;

/// How stale the table may be: a stat per query would be wasted under load, and a container
/// that just started is looked up by its neighbours a little later anyway.
const RECHECK: Duration = Duration::from_millis(100);

pub struct HostsFile {
    path: PathBuf,
    hosts: Hosts,
    stamp: Option<Stamp>,
    checked: Instant,
}

#[derive(PartialEq, Eq, Clone, Copy)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

/// The file is gone: the network was removed, and the server has nothing left to serve.
#[derive(Debug)]
pub struct Gone;

impl HostsFile {
    pub fn open(path: PathBuf) -> io::Result<HostsFile> {
        let mut file = HostsFile {
            path,
            hosts: Hosts::default(),
            stamp: None,
            checked: Instant::now(),
        };
        file.reload()?;
        Ok(file)
    }

    /// The current table, re-read first if the file changed (checked at most every RECHECK).
    pub fn hosts(&mut self) -> Result<&Hosts, Gone> {
        if self.checked.elapsed() >= RECHECK {
            self.check()?;
        }
        Ok(&self.hosts)
    }

    /// Re-reads the file if it changed. A read error other than "not found" keeps the old
    /// table: answering the last known names beats answering none.
    pub fn check(&mut self) -> Result<(), Gone> {
        match self.reload() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Gone),
            Err(e) => {
                eprintln!("berth-dns: reading {}: {e}", self.path.display());
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    fn reload(&mut self) -> io::Result<()> {
        self.checked = Instant::now();
        let stamp = stamp(&fs::metadata(&self.path)?);
        if self.stamp == Some(stamp) {
            return Ok(());
        }
        // Stamp of the file actually read: a rename between the stat and the read is then
        // seen as a change at the next check, instead of hiding behind the old stamp.
        let file = fs::File::open(&self.path)?;
        let stamp = stamp_of(&file)?;
        let text = io::read_to_string(file)?;
        self.hosts = Hosts::parse(&text);
        self.stamp = Some(stamp);
        Ok(())
    }
}

fn stamp_of(file: &fs::File) -> io::Result<Stamp> {
    Ok(stamp(&file.metadata()?))
}

fn stamp(meta: &fs::Metadata) -> Stamp {
    Stamp {
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.size(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    }
}
