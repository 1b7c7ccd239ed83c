//! `diff`: a container's changes to its image's files, read from its overlay upper dir:
//! a whiteout (char device 0:0) is a deletion, anything else is an addition, or a change
//! when the image has that path (an opaque directory included), sorted by path as docker
//! prints them. The runtime's mount points (/dev, /proc, /sys) are left out.

use super::Engine;
use crate::store::Row;
use crate::{Error, Result};
use berth_image::Digest;
use berth_runtime::rootfs::resolve::open_in_root;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Changed,
    Deleted,
}

/// Mount points the runtime makes in every container's root (filled by procfs, sysfs and
/// the /dev tmpfs, and the engine's bind-mounted /etc files, so the container's own writes
/// never land in the upper dir there): left out of `diff` and `commit`, as docker leaves
/// out its init layer. A directory whose only upper entries are these is left out too.
pub const RUNTIME_MOUNTPOINTS: &[&str] = &[
    "dev",
    "proc",
    "sys",
    "etc/hostname",
    "etc/hosts",
    "etc/resolv.conf",
];

impl Kind {
    /// Docker's letter, and the Engine API's number (0 changed, 1 added, 2 deleted).
    pub fn letter(self) -> char {
        match self {
            Kind::Added => 'A',
            Kind::Changed => 'C',
            Kind::Deleted => 'D',
        }
    }
}

/// One change: the path inside the container (absolute) and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: Kind,
}

/// Is `m` an overlayfs whiteout (a char device 0:0)?
pub fn is_whiteout(m: &std::fs::Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// The lower layers of a container: its image's snapshot dirs, topmost first.
pub struct Lowers {
    roots: Vec<OwnedFd>,
}

impl Lowers {
    /// Does `rel` exist in the image (not hidden by a whiteout in a higher layer)? Looked up
    /// inside each snapshot's root, so a symlink in a layer never leads out of it.
    pub fn has(&self, rel: &Path) -> bool {
        for root in &self.roots {
            let Ok(fd) = open_in_root(root.as_fd(), rel, libc::O_PATH | libc::O_NOFOLLOW) else {
                continue;
            };
            let f = std::fs::File::from(fd);
            return match f.metadata() {
                Ok(m) => !is_whiteout(&m),
                Err(_) => false,
            };
        }
        false
    }
}

impl Engine {
    /// The image's chain IDs of a container, bottom first.
    pub fn image_chain(&self, r: &Row) -> Result<Vec<Digest>> {
        let md = berth_image::metadata::Metadata::open(&self.root.join("berth.db"))?;
        let id: Digest = r.image_id.parse()?;
        md.image(&id)?
            .map(|i| i.chain)
            .ok_or_else(|| Error::NotFound {
                kind: "image",
                name: r.image_id.clone(),
            })
    }

    pub fn lowers(&self, r: &Row) -> Result<Lowers> {
        let snaps = berth_image::snapshot::Snapshotter::open(self.root.join("snapshots"))?;
        let mut roots = Vec::new();
        for c in self.image_chain(r)?.iter().rev() {
            let p = snaps.path(c);
            let f = std::fs::File::open(&p).map_err(|e| Error::io("open", &p, e))?;
            roots.push(f.into());
        }
        Ok(Lowers { roots })
    }

    /// The changes of container `r`, sorted by path.
    pub fn diff(&self, r: &Row) -> Result<Vec<Change>> {
        let upper = self.dir(&r.id).join("upper");
        let lowers = self.lowers(r)?;
        let mut out = Vec::new();
        walk(&upper, Path::new(""), &lowers, &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

/// Report the changes under `dir`; true if it had entries and all were mount points.
fn walk(dir: &Path, rel: &Path, lowers: &Lowers, out: &mut Vec<Change>) -> Result<bool> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
    names.sort();
    let mut only_mountpoints = !names.is_empty();
    for name in names {
        let r: PathBuf = rel.join(&name);
        if RUNTIME_MOUNTPOINTS.iter().any(|m| Path::new(m) == r) {
            continue;
        }
        let p = dir.join(&name);
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let path = format!("/{}", r.display());
        let kind = if is_whiteout(&m) {
            Kind::Deleted
        } else if lowers.has(&r) {
            Kind::Changed
        } else {
            Kind::Added
        };
        let at = out.len();
        out.push(Change { path, kind });
        if m.is_dir() && kind != Kind::Deleted && walk(&p, &r, lowers, out)? {
            // Only there for the mount points in it.
            out.remove(at);
            continue;
        }
        only_mountpoints = false;
    }
    Ok(only_mountpoints)
}
