//! `-u user[:group]` (or the image's User) resolved as docker and runc do, in the
//! container's own /etc/passwd and /etc/group. The files are opened with
//! openat2(RESOLVE_IN_ROOT): a symlink planted in the image (`/etc/passwd -> /etc/shadow` of
//! the host, or `../../..`) resolves inside the container's root, never on the host.

use crate::{Error, Result};
use berth_runtime::rootfs::resolve::open_in_root;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    /// The passwd entry's home, else `/`.
    pub home: String,
}

/// Files larger than this are not an /etc/passwd: refused rather than read into memory.
const MAX_FILE: u64 = 16 << 20;

/// The text of `path` inside `rootfs`, or None when it does not exist there.
pub fn read_in_root(rootfs: &Path, path: &str) -> Result<Option<String>> {
    let root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(rootfs)
        .map_err(|e| Error::io("open container root", rootfs, e))?;
    // O_NONBLOCK: a FIFO planted at /etc/passwd must not hang the create.
    let fd = match open_in_root(
        root.as_fd(),
        Path::new(path),
        libc::O_RDONLY | libc::O_NONBLOCK,
    ) {
        Ok(fd) => fd,
        Err(e)
            if e.raw_os_error() == Some(libc::ENOENT)
                || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(Error::io(
                "open in container root",
                rootfs.join(&path[1..]),
                e,
            ))
        }
    };
    let mut f = std::fs::File::from(fd);
    let meta = f.metadata().map_err(|e| Error::io("stat", path, e))?;
    if !meta.is_file() {
        return Err(Error::InvalidArgument(format!(
            "{path} in the container is not a regular file"
        )));
    }
    if meta.len() > MAX_FILE {
        return Err(Error::InvalidArgument(format!(
            "{path} in the container is too large"
        )));
    }
    let mut s = String::new();
    f.by_ref()
        .take(MAX_FILE)
        .read_to_string(&mut s)
        .map_err(|e| Error::io("read", rootfs.join(&path[1..]), e))?;
    Ok(Some(s))
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 4 || l.starts_with('#') {
            return None;
        }
        Some(PasswdEntry {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: f.get(5).copied().unwrap_or(""),
        })
    })
}

fn group_entries(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 3 || l.starts_with('#') {
            return None;
        }
        Some(GroupEntry {
            name: f[0],
            gid: f[2].parse().ok()?,
            members: f
                .get(3)
                .map(|m| {
                    m.split(',')
                        .map(str::trim)
                        .filter(|m| !m.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    })
}

fn id(s: &str) -> Result<Option<u32>> {
    match s.parse::<u64>() {
        Ok(n) if n <= i32::MAX as u64 => Ok(Some(n as u32)),
        Ok(_) => Err(Error::InvalidArgument(
            "uids and gids must be in range 0-2147483647".into(),
        )),
        Err(_) => Ok(None),
    }
}

/// Resolves `spec` (`user`, `uid`, `user:group`, `uid:gid`; None or empty = root) inside
/// `rootfs`.
pub fn resolve(rootfs: &Path, spec: Option<&str>) -> Result<User> {
    let spec = spec.unwrap_or("").trim();
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let u = if u.is_empty() { "0" } else { u };
    let passwd = read_in_root(rootfs, "/etc/passwd")?.unwrap_or_default();
    let uid_num = id(u)?;
    let entry = passwd_entries(&passwd).find(|e| e.name == u || Some(e.uid) == uid_num);
    let (uid, mut gid, home, name) = match (&entry, uid_num) {
        (Some(e), _) => (e.uid, e.gid, e.home.to_string(), Some(e.name.to_string())),
        (None, Some(n)) => (n, 0, "/".to_string(), None),
        (None, None) => {
            return Err(Error::InvalidArgument(format!(
                "unable to find user {u}: no matching entries in passwd file"
            )))
        }
    };
    let needs_group_file = g.is_some_and(|g| !g.is_empty()) || name.is_some();
    let group = if needs_group_file {
        read_in_root(rootfs, "/etc/group")?.unwrap_or_default()
    } else {
        String::new()
    };
    let mut additional_gids = Vec::new();
    match g.filter(|g| !g.is_empty()) {
        Some(g) => {
            let gnum = id(g)?;
            gid = match group_entries(&group).find(|e| e.name == g || Some(e.gid) == gnum) {
                Some(e) => e.gid,
                None => gnum.ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "unable to find group {g}: no matching entries in group file"
                    ))
                })?,
            };
        }
        None => {
            if let Some(name) = &name {
                for e in group_entries(&group) {
                    if e.members.contains(&name.as_str()) && !additional_gids.contains(&e.gid) {
                        additional_gids.push(e.gid);
                    }
                }
            }
        }
    }
    Ok(User {
        uid,
        gid,
        additional_gids,
        home: if home.is_empty() { "/".into() } else { home },
    })
}
