//! Garbage collection: blobs and snapshots that no image refers to any more are removed.
//! Called with the metadata as it is now; a pull that is in flight has not tagged its image
//! yet, so [`collect`] skips anything younger than `grace` to leave such pulls alone.
//! [`remove_content`] removes at once what images just deleted needed and no other image
//! needs (`berth rmi`), and [`prune`] deletes dangling (or all unused) images first
//! (`berth image prune`).

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::metadata::{Metadata, Removal, StoredImage};
use crate::snapshot::Snapshotter;
use crate::store::ContentStore;
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub blobs: usize,
    pub snapshots: usize,
    pub bytes: u64,
}

fn old_enough(p: &Path, grace: Duration) -> bool {
    let m = std::fs::symlink_metadata(p).and_then(|m| m.modified());
    m.map(|t| SystemTime::now().duration_since(t).unwrap_or_default() >= grace)
        .unwrap_or(false)
}

/// Blobs referenced by a named image: its manifest, its config, and the layers its manifest
/// lists (read from the store).
fn referenced_blobs(md: &Metadata, store: &ContentStore) -> Result<HashSet<String>> {
    let (_, roots) = md.referenced()?;
    let mut keep = HashSet::new();
    for d in roots {
        keep.insert(d.hex().to_string());
        if let Ok(bytes) = store.read(&d) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                for l in v["layers"].as_array().into_iter().flatten() {
                    if let Some(h) = l["digest"]
                        .as_str()
                        .and_then(|s| s.split_once(':'))
                        .map(|(_, h)| h)
                    {
                        keep.insert(h.to_string());
                    }
                }
            }
        }
    }
    Ok(keep)
}

pub fn collect(
    md: &Metadata,
    store: &ContentStore,
    snaps: &Snapshotter,
    grace: Duration,
) -> Result<Collected> {
    let _gc = store.gc_guard()?;
    let mut out = Collected::default();
    let keep_blobs = referenced_blobs(md, store)?;
    let (chains, _) = md.referenced()?;
    let keep_snaps: HashSet<String> = chains.iter().map(|c| c.hex().to_string()).collect();
    let blob_dir = store.root().join("blobs").join("sha256");
    if let Ok(rd) = std::fs::read_dir(&blob_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if keep_blobs.contains(&name) || !old_enough(&e.path(), grace) {
                continue;
            }
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            std::fs::remove_file(e.path()).map_err(|err| Error::io("remove", e.path(), err))?;
            out.blobs += 1;
            out.bytes += len;
        }
    }
    let snap_dir = snaps.root().join("snapshots");
    if let Ok(rd) = std::fs::read_dir(&snap_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if keep_snaps.contains(&name) || !old_enough(&e.path(), grace) {
                continue;
            }
            std::fs::remove_dir_all(e.path()).map_err(|err| Error::io("remove", e.path(), err))?;
            out.snapshots += 1;
        }
    }
    Ok(out)
}

/// Bytes of the regular files under `p` (symlinks not followed): a layer's size as
/// `docker images` counts it.
pub fn disk_usage(p: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => total += disk_usage(&e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

/// Layer digests a manifest in the store lists (none if it is missing or unreadable).
pub fn manifest_layers(store: &ContentStore, manifest: &Digest) -> Vec<Digest> {
    let Ok(bytes) = store.read(manifest) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    v["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["digest"].as_str()?.parse().ok())
        .collect()
}

/// What deleting images freed.
#[derive(Debug, Default)]
pub struct Freed {
    /// Snapshots removed, by chain ID, top layer first.
    pub snapshots: Vec<Digest>,
    pub bytes: u64,
}

/// Remove the blobs and snapshots of `deleted` images (already gone from the metadata)
/// that no remaining image needs.
pub fn remove_content(
    md: &Metadata,
    store: &ContentStore,
    snaps: &Snapshotter,
    deleted: &[StoredImage],
) -> Result<Freed> {
    let _gc = store.gc_guard()?;
    let keep_blobs = referenced_blobs(md, store)?;
    let (chains, _) = md.referenced()?;
    let keep_snaps: HashSet<Digest> = chains.into_iter().collect();
    let mut freed = Freed::default();
    // Apart: an uncompressed single layer's blob digest is also its chain ID.
    let (mut seen_blobs, mut seen_snaps) = (HashSet::new(), HashSet::new());
    for img in deleted {
        let mut blobs = manifest_layers(store, &img.manifest);
        blobs.push(img.manifest.clone());
        blobs.push(img.id.clone());
        for b in blobs {
            if keep_blobs.contains(b.hex()) || !seen_blobs.insert(b.to_string()) {
                continue;
            }
            let p = store.blob_path(&b);
            if let Ok(m) = std::fs::symlink_metadata(&p) {
                std::fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
                freed.bytes += m.len();
            }
        }
        for c in img.chain.iter().rev() {
            if keep_snaps.contains(c) || !seen_snaps.insert(c.to_string()) {
                continue;
            }
            let p = snaps.path(c);
            if p.is_dir() {
                freed.bytes += disk_usage(&p);
                std::fs::remove_dir_all(&p).map_err(|e| Error::io("remove", &p, e))?;
                freed.snapshots.push(c.clone());
            }
        }
    }
    Ok(freed)
}

/// What `berth image prune` did.
#[derive(Debug, Default)]
pub struct Pruned {
    pub removals: Vec<Removal>,
    pub freed: Freed,
}

/// Images left behind by garbage collection only after this long (a pull in flight has
/// stored blobs it has not named yet).
pub const PRUNE_GRACE: Duration = Duration::from_secs(3600);

/// Delete dangling images (every image with `all`) that `in_use` does not claim, then
/// their content and any older unreferenced leftovers. `in_use` is the engine's hook: it
/// says which images containers are made from (no containers exist yet: `|_| false`).
pub fn prune(
    md: &Metadata,
    store: &ContentStore,
    snaps: &Snapshotter,
    all: bool,
    in_use: &dyn Fn(&StoredImage) -> bool,
) -> Result<Pruned> {
    let mut out = Pruned::default();
    let mut deleted = Vec::new();
    for img in md.images()? {
        if (!all && !img.dangling()) || in_use(&img) {
            continue;
        }
        if let Some(r) = md.remove_image(&img.id)? {
            deleted.extend(r.deleted.clone());
            out.removals.push(r);
        }
    }
    out.freed = remove_content(md, store, snaps, &deleted)?;
    let rest = collect(md, store, snaps, PRUNE_GRACE)?;
    out.freed.bytes += rest.bytes;
    Ok(out)
}

/// What unfinished work (downloads, unpacks, loads, imports, commits) holds on disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Leftovers {
    /// Bytes of all of it, including work still in progress.
    pub bytes: u64,
    /// Bytes of the work whose process died: what [`clean_leftovers`] removes.
    pub dead_bytes: u64,
}

/// Unfinished work in data root `root` (`content/ingest`, `snapshots/staging`).
pub fn leftovers(root: &Path) -> Leftovers {
    let mut out = Leftovers::default();
    for d in crate::leftovers::dirs(root) {
        let (all, dead) = crate::leftovers::usage(&d);
        out.bytes += all;
        out.dead_bytes += dead;
    }
    out
}

/// Remove the unfinished work of processes that died, in data root `root`; returns the
/// bytes freed. Work of live processes stays.
pub fn clean_leftovers(root: &Path) -> u64 {
    crate::leftovers::dirs(root)
        .iter()
        .filter_map(|d| crate::leftovers::remove_dead_counted(d).ok())
        .map(|(_, bytes)| bytes)
        .sum()
}
